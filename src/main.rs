//! The `taskflow` command: parses arguments and runs the chosen command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = taskflow::Cli::parse();
    taskflow::telemetry::init();
    match taskflow::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
