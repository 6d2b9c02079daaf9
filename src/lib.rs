//! The `taskflow` command line: `serve` (everything in one process on an
//! embedded SQLite database), `migrate` and `token`; and the cluster roles
//! (`cluster`), one binary each. Each command is a
//! function the tests can call; `main.rs` only wires.

pub mod cluster;
pub mod config;
pub mod net;
pub mod serve;
pub mod telemetry;
pub mod topology;
pub mod transfer;

use anyhow::Context;
use taskflow_store::{Database, TaskService};

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
        Command::Export(args) => transfer::export(args).await,
        Command::Import(args) => transfer::import(args).await,
        Command::Token(args) => token(args).await,
    }
}

/// `taskflow token`: a person's token, or with `--agent` an agent's (made
/// in the database, for the MCP endpoint only).
async fn token(args: config::TokenArgs) -> anyhow::Result<()> {
    let secret = args.auth.secret(&args.database.data_dir)?;
    let Some(agent) = &args.agent else {
        let token = taskflow_api::auth::mint(&secret, &args.user, args.ttl.into())
            .context("minting the token")?;
        println!("{token}");
        return Ok(());
    };
    let scopes = taskflow_core::Scopes::parse(&args.scope)
        .map_err(|invalid| anyhow::anyhow!("--scope: {}", invalid.reason))?;
    let issuer = config::public_url(args.public_url.as_deref(), args.listen)?;
    let resource = format!("{issuer}/mcp");
    let db = args.database.connect().await?;
    db.migrate().await.context("applying migrations")?;
    let tasks = TaskService::new(db.clone());
    let (principal, grant) = tasks
        .mint_agent(&args.user, agent, scopes, &resource)
        .await
        .context("recording the agent")?;
    db.close().await;
    let scope = principal.scopes.to_string();
    let token = taskflow_api::auth::mint_agent(
        &secret,
        &taskflow_api::auth::AgentToken {
            user: &args.user,
            issuer: &issuer,
            audience: &resource,
            grant: &grant,
            scope: &scope,
            client_id: None,
        },
        args.ttl.into(),
    )
    .context("minting the token")?;
    println!("{token}");
    Ok(())
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
    let tasks = taskflow_store::TaskService::new(db.clone());
    let watch = taskflow_mcp::watch::Watch::new(tasks.audience().clone());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(watch.clone().tail(db.clone(), stop.clone()));
    tasks
        .saw(&taskflow_core::Subject::new(args.user.as_str()))
        .await
        .with_context(|| format!("recording the user {}", args.user))?;
    let server =
        taskflow_mcp::TaskflowMcp::new(tasks, watch, taskflow_mcp::Identity::Fixed(args.user))
            .with_toolsets(&args.toolsets.0)
            .with_read_only(args.read_only);
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

/// A database URL without its secrets, for messages: a password in the
/// user part, and any query parameter sqlx would read a password from
/// (`?password=`, `?sslpassword=`), shows as `***`. A URL that does not
/// parse is not shown at all, since where its password is cannot be known.
fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "a database URL that does not parse".to_owned();
    };
    let secret = |name: &str| name.to_ascii_lowercase().contains("password");
    if parsed.password().is_none() && !parsed.query_pairs().any(|(name, _)| secret(&name)) {
        return url.to_owned();
    }
    if parsed.password().is_some() {
        // Only a URL that cannot have a password fails here.
        let _ = parsed.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(name, value)| {
            let value = if secret(&name) { "***".into() } else { value };
            (name.into_owned(), value.into_owned())
        })
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.into()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_urls_are_shown_without_their_passwords() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/taskflow"),
            "postgres://app:***@db:5432/taskflow"
        );
        assert_eq!(
            redact("postgres://app@db/taskflow?password=s3cret&sslmode=require"),
            "postgres://app@db/taskflow?password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgresql://db/taskflow?sslmode=verify-full&sslpassword=k3y"),
            "postgresql://db/taskflow?sslmode=verify-full&sslpassword=***"
        );
        // Nothing secret: shown exactly as given.
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(
            redact("sqlite:///var/lib/taskflow/my tasks.db?mode=rwc"),
            "sqlite:///var/lib/taskflow/my tasks.db?mode=rwc"
        );
        assert_eq!(
            redact("postgres://app:s3cret@/taskflow"),
            "a database URL that does not parse"
        );
    }
}
