//! The `taskflow` binary's tests, one test binary: black-box runs of
//! `serve`, live streams, the cluster roles beside the sidecar double, crash
//! and shutdown, deployment drift, and the architecture invariants.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on purpose

mod cluster;
mod crash;
mod deployment_drift;
mod invariants;
mod oauth;
mod outage;
mod serve;
mod stream;
mod transfer;
