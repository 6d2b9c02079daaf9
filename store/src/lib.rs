//! Taskflow's storage: SQLite and PostgreSQL behind one [`Database`], their
//! migrations, and the [`TaskService`] through which every surface changes
//! tasks. Each change writes its `task_events` row (the outbox and the audit
//! trail) in the same transaction, so a change and its event commit together
//! or not at all.
//!
//! All SQL of the project lives in this crate.

mod clock;
pub mod conversations;
mod cursor;
mod database;
mod error;
mod notifications;
mod outbox;
mod postgres;
mod record;
pub mod relay;
mod reminders;
mod service;
mod sqlite;
pub mod tools;

pub use clock::{Clock, ManualClock, SystemClock};
pub use database::{Database, DatabaseKind, PostgresConnectOptions};
pub use error::{Error, Result};
pub use outbox::{EVENT_SOURCE, OutboxEvent, RelayLag};
pub use postgres::CREATE_BATCH as POSTGRES_CREATE_BATCH;
pub use relay::RelayConfig;
pub use reminders::Dispatch;
pub use service::{Actor, TaskService};
