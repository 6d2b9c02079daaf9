//! The store conformance suite: the same behaviour on SQLite and PostgreSQL,
//! one module per concern of the store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

use std::collections::HashSet;

use chrono::Duration;
use serde_json::json;
use taskflow_core::{
    CreateTask, ListQuery, Priority, Reminder, SnoozeTask, StatusFilter, UpdateTask,
};
use taskflow_events::{Source, TaskEventType};
use taskflow_store::{Actor, Error};
use taskflow_testkit::harness::{self, Harness};
use taskflow_testkit::{on_both_databases, wait_for};

fn alice() -> Actor {
    Actor::new("alice", Source::Api)
}

fn bob() -> Actor {
    Actor::new("bob", Source::Api)
}

fn titled(title: &str) -> CreateTask {
    CreateTask {
        title: title.into(),
        ..Default::default()
    }
}

fn invalid_field<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::Invalid(invalid)) => invalid.field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

mod app_passwords;
mod caldav;
mod caldav_write;
mod calendar_feeds;
mod database;
mod idempotency;
mod lists;
mod outbox;
mod retention;
mod sharing;
mod subtasks;
mod tasks;
mod users;
mod webhooks;
