//! The events crate's integration tests, one binary: the JSON Schema
//! contracts of every payload and the transports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

mod schemas;
mod transport;
