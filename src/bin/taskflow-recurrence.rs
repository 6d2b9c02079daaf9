//! The `taskflow-recurrence` binary: see `taskflow::cluster`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    taskflow::cluster::main(taskflow::cluster::Role::Recurrence).await
}
