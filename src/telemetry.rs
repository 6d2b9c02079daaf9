//! The one telemetry set-up of every binary: `tracing` to stderr (stdout is
//! for command output and the MCP stdio protocol), filtered by `RUST_LOG`
//! (default `info`), compact text or JSON by `TASKFLOW_LOG_FORMAT=json`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call does nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("TASKFLOW_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}
