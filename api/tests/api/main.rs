//! The api crate's integration tests, one binary: the REST routes, chat,
//! the dashboard and overload, each against the router served on a socket.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

mod app_passwords;
mod caldav;
mod caldav_fixtures;
mod calendar_feeds;
mod changes;
mod chat;
mod common;
mod dashboard;
mod lists;
mod overload;
mod rest;
mod sharing;
mod transfer;
mod users;
mod webhooks;
