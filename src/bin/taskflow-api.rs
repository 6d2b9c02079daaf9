//! The `taskflow-api` binary: the cluster's API service, the same as
//! `taskflow api` (configured by the same flags and environment variables).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = taskflow::config::ApiArgs::parse();
    taskflow::telemetry::init();
    match taskflow::api::run(args, taskflow::serve::shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
