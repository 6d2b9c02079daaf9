//! Taskflow's workers: event handlers that run in-process under
//! `taskflow serve` and behind Dapr subscriptions in a cluster. Each handler
//! is a thin typed job over the `TaskService`.

pub mod notifications;
pub mod recurrence;
pub mod reminders;
pub mod webhooks;
