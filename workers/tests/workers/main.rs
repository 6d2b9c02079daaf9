//! The workers' integration tests, one binary: the event backbone (relay,
//! sidecar double, redelivery), the recurrence table through the worker, and
//! the reminder scheduler.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

mod backbone;
mod list_events;
mod notifications;
mod recurrence_table;
mod reminders;
mod webhooks;
