//! The `taskflow-webhooks` binary: see `taskflow::cluster`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    taskflow::cluster::main(taskflow::cluster::Role::Webhooks).await
}
