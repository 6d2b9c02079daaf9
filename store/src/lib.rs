//! Taskflow's storage: SQLite and PostgreSQL behind one [`Database`], their
//! migrations, and the [`TaskService`] through which every surface changes
//! tasks. Each change writes its `task_events` row (the outbox and the audit
//! trail) in the same transaction, so a change and its event commit together
//! or not at all. All SQL of the project lives in this crate.
//!
//! Read the modules in this order:

/// Agents acting for users, and the OAuth clients, grants and tokens
/// behind them.
mod agents;
/// App passwords: named secrets for apps that sign in with a password.
mod app_passwords;
/// Who hears of a change: a list's owner and its members now, as each
/// process remembers them for its live views.
mod audience;
/// CalDAV's reads: lists as calendars, tasks as resources, sync reports.
mod caldav;
/// Calendar feeds: subscription URLs, and what a fetch reads.
mod calendar_feeds;
/// The clock every operation reads (a manual one in tests).
mod clock;
/// Comments on tasks, each an event on the task's timeline.
mod comments;
/// Chat conversations and their messages.
pub mod conversations;
/// The database: connecting, connections and transactions, and the one seam
/// where SQLite and PostgreSQL differ (`database/{sqlite,postgres}.rs`).
mod database;
/// The store's typed errors.
mod error;
/// Idempotency keys of creates.
mod idempotency;
/// Lists: the Inbox, nesting, archiving, and the rules task writes check.
mod lists;
/// Sharing: members of lists, their roles, invitations, and the derived
/// access every read of a shared list probes.
mod members;
/// A bounded memory of per-user facts that never change once true.
mod memo;
/// Notifications recorded from reminders.
mod notifications;
/// The outbox (`task_events`): every message Taskflow publishes, appended
/// with its cause (a task change, a fired reminder, a notification's
/// notice); reading them, the processed-events ledger, and the relay.
mod outbox;
/// The reminder scheduler's claims, each appending its message to the outbox.
mod reminders;
pub mod retention;
/// Tasks: the `TaskService`, the task's columns defined once, its statements
/// and the group commit of plain creates.
mod tasks;
/// People: a `users` row per token subject, made on first sight.
mod users;
mod webhooks;

pub use agents::{
    Approval, CODE_TTL, Issued, MAX_PENDING_CLIENTS, MAX_REDIRECT_URIS, OAuthClient, REFRESH_TTL,
    Redeem, random_token, s256,
};
pub use app_passwords::APP_PASSWORD_PREFIX;
pub use audience::Audience;
pub use caldav::{
    DavBody, DavCalendar, DavChanges, DavObject, DavRefusal, MAX_SYNC_CHANGES, Preconditions,
    PutOutcome, dav_etag, default_href,
};
pub use calendar_feeds::{FEED_TOKEN_PREFIX, OpenedFeed};
pub use clock::{Clock, ManualClock, SystemClock};
pub use database::{Database, DatabaseKind, PostgresConnectOptions};
pub use error::{Error, Result};
pub use notifications::NewNotification;
pub use outbox::relay::{self, RelayConfig};
pub use outbox::{Body, EVENT_SOURCE, OutboxEvent, RelayLag};
pub use reminders::Fired;
pub use tasks::batch::{POSTGRES_BENCH_SETUP, postgres_batch_of_one_literal};
pub use tasks::{Actor, ImportInto, TaskService};
pub use webhooks::{
    After, Attempt, Endpoint, MAX_ERROR, Outgoing, WebhookEvent, delivery_id, webhook_body,
};
