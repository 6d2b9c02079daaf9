//! The `taskflow` command line: `serve` (everything in one process on an
//! embedded SQLite database), `migrate` and `token`; and the cluster roles
//! (`cluster`), one binary each. Each command is a
//! function the tests can call; `main.rs` only wires.

pub mod cluster;
pub mod config;
pub mod net;
pub mod serve;
pub mod telemetry;

use anyhow::Context;
use taskflow_store::Database;

pub use config::{Cli, Command};

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(*args, serve::shutdown_signal()).await,
        Command::Migrate(args) => {
            let db = args.database.connect().await?;
            db.migrate().await.context("applying migrations")?;
            db.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Mcp(args) => mcp_stdio(args).await,
        Command::Token(args) => {
            let secret = args.auth.secret(&args.data_dir)?;
            let token = taskflow_api::auth::mint(&secret, &args.user, args.ttl.into())
                .context("minting the token")?;
            println!("{token}");
            Ok(())
        }
    }
}

/// `taskflow mcp`: MCP over stdin/stdout (logs go to stderr) for one user,
/// until the client closes the stream. It writes through the same
/// `TaskService` as every surface; `serve` (or the cluster) publishes the
/// changes. On SQLite, resource updates follow the outbox table, so changes
/// made by any process on the same file reach this session.
async fn mcp_stdio(args: config::McpStdioArgs) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let db = args.database.connect().await?;
    db.migrate().await.context("applying migrations")?;
    let watch = taskflow_mcp::watch::Watch::default();
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(watch.clone().tail(db.clone(), stop.clone()));
    let server = taskflow_mcp::TaskflowMcp::new(
        taskflow_store::TaskService::new(db.clone()),
        watch,
        taskflow_mcp::Identity::Fixed(args.user),
    );
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("starting MCP over stdio")?;
    let ended = running.waiting().await;
    stop.cancel();
    db.close().await;
    ended.context("serving MCP over stdio")?;
    Ok(())
}

/// Connects to the configured database (used by every command that needs one).
pub async fn connect(url: &str) -> anyhow::Result<Database> {
    Database::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
