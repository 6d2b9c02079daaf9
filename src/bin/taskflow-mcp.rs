//! The `taskflow-mcp` binary: see `taskflow::cluster`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    taskflow::cluster::main(taskflow::cluster::Role::Mcp).await
}
