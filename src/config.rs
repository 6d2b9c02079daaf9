//! Typed configuration: every setting is a flag and an environment variable,
//! documented once here (so `--help`, the environment and the Helm values say
//! the same thing).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use taskflow_store::Database;

/// Taskflow: an event-driven task system for people and their AI assistants.
#[derive(Debug, Parser)]
#[command(name = "taskflow", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process: the HTTP API, with an embedded SQLite
    /// database unless --database-url says otherwise.
    Serve(Box<ServeArgs>),
    /// Apply database migrations, then exit.
    Migrate(MigrateArgs),
    /// Print a development token (HS256 JWT) for a user.
    Token(TokenArgs),
    /// Serve MCP over stdio for a desktop assistant, acting as one user on
    /// the same database as `serve` (which publishes the changes).
    Mcp(McpStdioArgs),
    /// Print everything a user owns as one JSON document (a backup that
    /// `taskflow import` or `POST /api/import` reads back).
    Export(ExportArgs),
    /// Read an export (or, with --todoist, a Todoist project's CSV) into a
    /// user's account; prints what was written.
    Import(ImportArgs),
}

/// `taskflow export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The user whose lists and tasks are exported.
    #[arg(long)]
    pub user: String,
}

/// `taskflow import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The user to import into: an export goes into an account that owns
    /// nothing yet; a Todoist CSV into a new list beside the rest.
    #[arg(long)]
    pub user: String,
    /// The file to read (`-`: standard input).
    pub file: PathBuf,
    /// The file is a Todoist project's CSV export.
    #[arg(long)]
    pub todoist: bool,
    /// With --todoist: the new list's title.
    #[arg(long, default_value = "Todoist", requires = "todoist")]
    pub list: String,
    /// With --todoist: the IANA zone relative dates are read in, for rows
    /// without a TIMEZONE.
    #[arg(long, default_value = "UTC", requires = "todoist")]
    pub timezone: String,
    /// Check and rehearse the import; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `taskflow mcp`.
#[derive(Debug, Clone, Args)]
pub struct McpStdioArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The user the assistant acts for.
    #[arg(long, env = "TASKFLOW_MCP_USER")]
    pub user: String,
    /// Tool sets to list besides `tasks`: lists, extras, members, or all
    /// (comma-separated).
    #[arg(long, env = "TASKFLOW_MCP_TOOLSETS", value_parser = parse_toolsets, default_value = "tasks")]
    pub toolsets: Toolsets,
    /// Offer only the tools that read: the assistant can look, not change.
    #[arg(long, env = "TASKFLOW_MCP_READ_ONLY")]
    pub read_only: bool,
}

/// Tool sets, as `--toolsets` gives them.
#[derive(Debug, Clone)]
pub struct Toolsets(pub Vec<taskflow_mcp::Toolset>);

fn parse_toolsets(text: &str) -> Result<Toolsets, String> {
    taskflow_mcp::Toolset::parse_list(text).map(Toolsets)
}

/// Who may reach `/mcp` over HTTP.
#[derive(Debug, Clone, Args)]
pub struct McpHttpArgs {
    /// Host names accepted in the `Host` header of `/mcp` requests (a
    /// DNS-rebinding guard), comma-separated; empty: loopback names only.
    #[arg(long, env = "TASKFLOW_MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub mcp_allowed_hosts: Vec<String>,
    /// Browser origins accepted by `/mcp`, comma-separated; empty: no Origin
    /// check.
    #[arg(long, env = "TASKFLOW_MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub mcp_allowed_origins: Vec<String>,
    /// Tool sets every `/mcp` session lists besides `tasks`: lists,
    /// extras, members, or all (comma-separated); a client adds more with
    /// `?toolsets=` on the URL.
    #[arg(long, env = "TASKFLOW_MCP_TOOLSETS", value_parser = parse_toolsets, default_value = "tasks")]
    pub mcp_toolsets: Toolsets,
    /// Every `/mcp` session offers only the tools that read.
    #[arg(long, env = "TASKFLOW_MCP_READ_ONLY")]
    pub mcp_read_only: bool,
}

impl McpHttpArgs {
    /// The options of `/mcp`; `issuer` is the authorization server whose
    /// tokens it accepts (None: this process has no secret to check them).
    pub fn options(&self, issuer: Option<String>) -> taskflow_mcp::http::HttpOptions {
        taskflow_mcp::http::HttpOptions {
            allowed_hosts: self.mcp_allowed_hosts.clone(),
            allowed_origins: self.mcp_allowed_origins.clone(),
            toolsets: self.mcp_toolsets.0.clone(),
            read_only: self.mcp_read_only,
            issuer,
        }
    }
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for the embedded SQLite database and the generated JWT secret.
    #[arg(long, env = "TASKFLOW_DATA_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,
    /// Database URL, `postgres://user@host/db` or `sqlite://path`; without it,
    /// SQLite at DATA_DIR/taskflow.db.
    #[arg(long, env = "TASKFLOW_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    /// Connects to the configured database, creating the data directory for
    /// the embedded one.
    pub async fn connect(&self) -> anyhow::Result<Database> {
        match &self.database_url {
            Some(url) => crate::connect(url).await,
            None => {
                std::fs::create_dir_all(&self.data_dir).with_context(|| {
                    format!("creating the data directory {}", self.data_dir.display())
                })?;
                let path = self.data_dir.join("taskflow.db");
                Database::open_sqlite(&path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))
            }
        }
    }
}

/// How tokens are signed and verified.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// Shared HS256 secret for bearer tokens; without it, a secret generated
    /// once and kept in DATA_DIR/jwt-secret (mode 0600).
    #[arg(long, env = "TASKFLOW_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

impl AuthArgs {
    /// The configured secret, or the one kept in `data_dir`.
    pub fn secret(&self, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
        taskflow_api::auth::load_or_create_secret(self.jwt_secret.as_deref(), data_dir)
            .with_context(|| {
                format!(
                    "reading or creating the JWT secret in {}",
                    data_dir.display()
                )
            })
    }
}

/// Which signed tokens are accepted besides the HS256 secret's.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// JWKS URL of an identity provider whose RS256, ES256 or EdDSA tokens
    /// are accepted (keys cached, fetched again for an unknown `kid`).
    #[arg(long, env = "TASKFLOW_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Required `iss` claim, if set.
    #[arg(long, env = "TASKFLOW_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim, if set.
    #[arg(long, env = "TASKFLOW_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
}

impl VerifyArgs {
    /// The verifier for an optional HS256 secret plus these settings.
    pub fn verifier(&self, secret: Option<&[u8]>) -> anyhow::Result<taskflow_api::auth::Verifier> {
        use taskflow_api::auth::Verifier;
        anyhow::ensure!(
            self.jwks_url.is_none() || self.jwt_audience.is_some(),
            "set TASKFLOW_JWT_AUDIENCE with TASKFLOW_JWKS_URL: otherwise tokens the provider issued for other applications would be accepted"
        );
        let verifier = match (secret, &self.jwks_url) {
            (Some(secret), Some(url)) => Verifier::hs256(secret).with_jwks(url),
            (Some(secret), None) => Verifier::hs256(secret),
            (None, Some(url)) => Verifier::jwks_only(url),
            (None, None) => anyhow::bail!(
                "set TASKFLOW_JWT_SECRET or TASKFLOW_JWKS_URL: no token could be verified"
            ),
        };
        Ok(verifier
            .with_issuer(self.jwt_issuer.clone())
            .with_audience(self.jwt_audience.clone()))
    }
}

/// Where a process serves HTTP and how it stops.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "TASKFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// How long shutdown waits for requests in flight before it stops anyway.
    #[arg(long, env = "TASKFLOW_SHUTDOWN_TIMEOUT", default_value = "10s")]
    pub shutdown_timeout: humantime::Duration,
    /// How long a response may wait on a client that stopped reading (a
    /// stalled SSE stream, say) before its connection is closed.
    #[arg(long, env = "TASKFLOW_WRITE_TIMEOUT", default_value = "30s")]
    pub write_timeout: humantime::Duration,
    /// Bytes the kernel may queue per connection for a client (Linux
    /// doubles it); with the write timeout, bounds what a stalled client
    /// costs.
    #[arg(long, env = "TASKFLOW_SEND_BUFFER", default_value_t = 256 * 1024)]
    pub send_buffer: usize,
    /// The most SSE streams open at once; more are refused with 503 and
    /// `Retry-After`.
    #[arg(long, env = "TASKFLOW_MAX_STREAMS", default_value_t = taskflow_api::stream::DEFAULT_MAX_STREAMS)]
    pub max_streams: usize,
    /// The URL clients reach Taskflow at: the OAuth issuer, with the MCP
    /// resource at `<it>/mcp`. Unset: `http://<listen address>`.
    #[arg(long, env = "TASKFLOW_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl HttpArgs {
    /// Listens, and says at which URL clients reach this server.
    pub async fn bind(&self) -> anyhow::Result<(tokio::net::TcpListener, String)> {
        use anyhow::Context as _;
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("listening on {}", self.listen))?;
        let public = public_url(self.public_url.as_deref(), listener.local_addr()?)?;
        Ok((listener, public))
    }
}

/// The URL clients reach a server listening on `addr` at: the one
/// configured, else `http://<addr>` (`localhost` for every address).
pub fn public_url(configured: Option<&str>, addr: SocketAddr) -> anyhow::Result<String> {
    use anyhow::Context as _;
    Ok(match configured {
        Some(url) => {
            let parsed = url::Url::parse(url)
                .with_context(|| format!("TASKFLOW_PUBLIC_URL `{url}` is not a URL"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https")
                    && parsed.query().is_none()
                    && parsed.fragment().is_none(),
                "TASKFLOW_PUBLIC_URL must be an http(s) URL without query or fragment"
            );
            url.trim_end_matches('/').to_owned()
        }
        None if addr.ip().is_unspecified() => format!("http://localhost:{}", addr.port()),
        None => format!("http://{addr}"),
    })
}

/// How webhooks are sent.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// Let webhooks go to `http://` and loopback addresses (development
    /// only: a receiver on this machine). Private, link-local and metadata
    /// addresses stay refused.
    #[arg(long, env = "TASKFLOW_WEBHOOKS_ALLOW_INSECURE")]
    pub webhooks_allow_insecure: bool,
    /// How long a sender holds an endpoint it sends to; the deliveries of
    /// one that dies (killed) are sent again after this.
    #[arg(long, env = "TASKFLOW_WEBHOOKS_LEASE", default_value = "60s")]
    pub webhooks_lease: humantime::Duration,
}

impl WebhookArgs {
    /// The sender's configuration.
    pub fn sender(&self) -> taskflow_workers::webhooks::SenderConfig {
        taskflow_workers::webhooks::SenderConfig {
            insecure: self.webhooks_allow_insecure,
            lease: self.webhooks_lease.into(),
            ..Default::default()
        }
    }
}

/// How long the outbox and the ledgers beside it are kept.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Published events (the changes feed, SSE replay and task history
    /// reach this far back), processed-event marks, reminder dispatches and
    /// finished webhook deliveries are deleted after this; `0s` keeps them
    /// for ever.
    #[arg(long, env = "TASKFLOW_EVENT_RETENTION", default_value = "30days")]
    pub event_retention: humantime::Duration,
    /// Idempotency keys are forgotten after this.
    #[arg(long, env = "TASKFLOW_IDEMPOTENCY_RETENTION", default_value = "24h")]
    pub idempotency_retention: humantime::Duration,
}

impl RetentionArgs {
    /// The pruner's configuration.
    pub fn retention(&self) -> taskflow_store::retention::Retention {
        let events: std::time::Duration = self.event_retention.into();
        let idempotency: std::time::Duration = self.idempotency_retention.into();
        taskflow_store::retention::Retention {
            events: (!events.is_zero())
                .then(|| chrono::Duration::from_std(events).unwrap_or(chrono::Duration::MAX)),
            idempotency: chrono::Duration::from_std(idempotency).unwrap_or(chrono::Duration::MAX),
            ..Default::default()
        }
    }
}

/// The chat agent's model: an OpenAI-compatible chat-completions endpoint.
/// Without a URL, chat uses the built-in English interpreter.
#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// API base of an OpenAI-compatible endpoint, such as
    /// `https://api.openai.com/v1` (requests go to `<base>/chat/completions`).
    #[arg(long, env = "TASKFLOW_CHAT_BASE_URL")]
    pub chat_base_url: Option<String>,
    /// The endpoint's API key.
    #[arg(long, env = "TASKFLOW_CHAT_API_KEY", hide_env_values = true)]
    pub chat_api_key: Option<String>,
    /// The model name.
    #[arg(long, env = "TASKFLOW_CHAT_MODEL", default_value = "gpt-4.1-mini")]
    pub chat_model: String,
    /// The longest one model request may take.
    #[arg(long, env = "TASKFLOW_CHAT_TIMEOUT", default_value = "30s")]
    pub chat_timeout: humantime::Duration,
    /// The most model requests (tool rounds) in one chat turn.
    #[arg(long, env = "TASKFLOW_CHAT_MAX_ROUNDS", default_value_t = 8)]
    pub chat_max_rounds: u32,
}

impl ChatArgs {
    /// The model configuration, if a URL is set.
    pub fn model(&self) -> Option<taskflow_chat::ModelConfig> {
        let base_url = self.chat_base_url.clone().filter(|u| !u.is_empty())?;
        Some(taskflow_chat::ModelConfig {
            base_url,
            api_key: self.chat_api_key.clone().filter(|k| !k.is_empty()),
            model: self.chat_model.clone(),
            timeout: self.chat_timeout.into(),
            max_rounds: self.chat_max_rounds.max(1),
        })
    }
}

/// `taskflow serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub mcp: McpHttpArgs,
    #[command(flatten)]
    pub chat: ChatArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// The user whose development token `serve` prints at start-up (embedded
    /// mode only).
    #[arg(long, env = "TASKFLOW_LOCAL_USER", default_value = "local")]
    pub local_user: String,
}

/// How to reach the Dapr sidecar.
#[derive(Debug, Clone, Args)]
pub struct DaprArgs {
    /// The sidecar's HTTP port (Dapr injects it).
    #[arg(long, env = "DAPR_HTTP_PORT", default_value_t = 3500)]
    pub dapr_http_port: u16,
    /// The pub/sub component events are published to and consumed from.
    #[arg(long, env = "TASKFLOW_PUBSUB", default_value = "pubsub")]
    pub pubsub: String,
    /// Token sent to the sidecar as `dapr-api-token`, when it requires one.
    #[arg(long, env = "DAPR_API_TOKEN", hide_env_values = true)]
    pub dapr_api_token: Option<String>,
    /// Token the sidecar must send with deliveries (`dapr-api-token`); set it
    /// in production so only the sidecar can deliver events.
    #[arg(long, env = "APP_API_TOKEN", hide_env_values = true)]
    pub app_api_token: Option<String>,
    /// Where Dapr learns this role's subscriptions.
    #[arg(
        long,
        env = "TASKFLOW_SUBSCRIPTIONS",
        value_enum,
        default_value = "programmatic"
    )]
    pub subscriptions: SubscriptionSource,
}

/// Where a cluster role's subscriptions come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubscriptionSource {
    /// `GET /dapr/subscribe` lists the role's subscriptions.
    Programmatic,
    /// Declarative Subscription resources (with dead-letter topics) do;
    /// `GET /dapr/subscribe` answers `[]`.
    Declarative,
}

/// The settings of every cluster role (`taskflow-api`, `taskflow-sse`,
/// `taskflow-recurrence`, `taskflow-reminders`, `taskflow-mcp`,
/// `taskflow-webhooks`), each beside a
/// Dapr sidecar.
#[derive(Debug, Clone, Parser)]
pub struct ClusterArgs {
    /// Database URL (`postgres://…`).
    #[arg(long, env = "TASKFLOW_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Shared HS256 secret for bearer tokens (or use --jwks-url).
    #[arg(long, env = "TASKFLOW_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    #[command(flatten)]
    pub verify: VerifyArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub mcp: McpHttpArgs,
    #[command(flatten)]
    pub chat: ChatArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// Apply migrations at start-up (a cluster runs `taskflow migrate` as a
    /// job instead).
    #[arg(long, env = "TASKFLOW_MIGRATE")]
    pub migrate: bool,
    #[command(flatten)]
    pub dapr: DaprArgs,
}

/// `taskflow migrate`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `taskflow token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The user the token is for (its `sub`).
    #[arg(long, env = "TASKFLOW_TOKEN_USER")]
    pub user: String,
    /// How long the token is valid, such as `1h`, `30m` or `7d`.
    #[arg(long, env = "TASKFLOW_TOKEN_TTL", default_value = "1h")]
    pub ttl: humantime::Duration,
    /// A token for an agent of this name acting for the user, for the MCP
    /// endpoint only: listed under Connected apps, its changes recorded as
    /// its own, revocable there at once.
    #[arg(long)]
    pub agent: Option<String>,
    /// The agent's scopes, space-separated (default: all).
    #[arg(
        long,
        requires = "agent",
        default_value = "tasks:read tasks:write lists:write comments:write"
    )]
    pub scope: String,
    /// The URL the server is reached at (its `--public-url`): the agent's
    /// token is for `<it>/mcp`.
    #[arg(long, env = "TASKFLOW_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The address the server listens on, when no public URL is set.
    #[arg(long, env = "TASKFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// `$XDG_DATA_HOME/taskflow`, else `~/.local/share/taskflow`, else `./taskflow-data`.
fn default_data_dir() -> PathBuf {
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(xdg) = env_dir("XDG_DATA_HOME") {
        return xdg.join("taskflow");
    }
    if let Some(home) = env_dir("HOME") {
        return home.join(".local/share/taskflow");
    }
    PathBuf::from("taskflow-data")
}
