//! Agents and the OAuth state behind them: registered clients, the agent
//! each approval makes (one per user and client), grants (an approval and
//! the family of tokens issued from it) and the codes and refresh tokens
//! of each grant, kept only as SHA-256 hashes.
//!
//! A code or refresh token is spent in the transaction that issues its
//! successor; a second use of a spent one revokes the whole grant (RFC 9700
//! §4.14: a replayed refresh token means one of the two holders is not the
//! client). Access tokens are JWTs naming their grant; [`TaskService::principal`]
//! checks the grant on every request, so a revocation takes effect at once.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use taskflow_core::{AgentPrincipal, ConnectedApp, Invalid, MAX_AGENT_NAME, Scopes};

use crate::database::{Tx, query};
use crate::tasks::check_user;
use crate::{Error, Result, TaskService};

/// How long an authorization code may be redeemed.
pub const CODE_TTL: Duration = Duration::seconds(60);
/// How long a refresh token lasts (each use issues a new one).
pub const REFRESH_TTL: Duration = Duration::days(30);
/// The most redirect URIs a client may register.
pub const MAX_REDIRECT_URIS: usize = 10;
/// How stale an agent's "last used" may get before a request writes it.
pub(crate) const LAST_USED_GRAIN: Duration = Duration::seconds(60);
/// Apps registered and approved by no one yet are kept this long
/// (retention prunes them) ...
pub const PENDING_CLIENT_TTL: Duration = Duration::days(1);
/// ... and at most this many at once, so that open registration cannot
/// fill the database.
pub const MAX_PENDING_CLIENTS: i64 = 10_000;

/// A registered OAuth client (RFC 7591; every client is public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A user's approval of a client, as the authorization request gave it.
#[derive(Debug, Clone)]
pub struct Approval<'a> {
    pub client: &'a OAuthClient,
    pub scopes: Scopes,
    /// The resource (RFC 8707) the tokens will be for.
    pub resource: &'a str,
    pub redirect_uri: &'a str,
    /// The PKCE S256 challenge.
    pub code_challenge: &'a str,
}

/// What redeeming a code or refresh token gives: the principal, the
/// grant's scopes and resource, and the next refresh token.
#[derive(Debug, Clone)]
pub struct Issued {
    pub grant: String,
    pub agent: AgentPrincipal,
    pub resource: String,
    pub refresh_token: String,
}

/// What a code or refresh token must match when redeemed.
#[derive(Debug, Clone, Copy)]
pub enum Redeem<'a> {
    /// An authorization code, with the client, redirect URI and PKCE
    /// verifier of the token request.
    Code {
        client_id: &'a str,
        redirect_uri: &'a str,
        code_verifier: &'a str,
    },
    /// A refresh token, for the client it was issued to, keeping at most
    /// `scopes` (None: the grant's).
    Refresh {
        client_id: &'a str,
        scopes: Option<Scopes>,
    },
}

/// A refused grant: RFC 6749's `invalid_grant` with a reason.
fn invalid_grant(reason: &str) -> Error {
    Error::Refused {
        code: "invalid_grant",
        field: "grant",
        detail: reason.to_owned(),
    }
}

/// PKCE's S256 transform: BASE64URL(SHA256(verifier)), unpadded.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A random token: 32 bytes, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The hash a token is kept under.
pub(crate) fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    name: String,
    /// A JSON array.
    redirect_uris: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    scopes: String,
    resource: String,
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    client_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AppRow {
    id: i64,
    name: String,
    client_id: Option<String>,
    scopes: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct PrincipalRow {
    agent_id: i64,
    name: String,
    user_id: String,
    scopes: String,
    last_used_at: Option<DateTime<Utc>>,
}

impl PrincipalRow {
    fn principal(self) -> AgentPrincipal {
        AgentPrincipal {
            id: self.agent_id,
            name: self.name,
            user: self.user_id,
            // Written by this module from a parsed set: never invalid.
            scopes: Scopes::parse(&self.scopes).unwrap_or_default(),
        }
    }
}

const PRINCIPAL: &str = "SELECT a.id AS agent_id, a.name, a.user_id, g.scopes, a.last_used_at \
     FROM oauth_grants g JOIN agents a ON a.id = g.agent_id \
     WHERE g.id = $1 AND g.revoked_at IS NULL AND a.revoked_at IS NULL";

/// An agent's name as given: trimmed, 1 to [`MAX_AGENT_NAME`] characters,
/// no control characters.
pub(crate) fn agent_name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_AGENT_NAME
        || name.chars().any(char::is_control)
    {
        return Err(Invalid::new(
            field,
            format!("must be 1 to {MAX_AGENT_NAME} characters, without control characters"),
        )
        .into());
    }
    Ok(name.to_owned())
}

impl TaskService {
    /// Registers a public client (RFC 7591) under a new id; the caller has
    /// checked its redirect URIs.
    pub async fn register_client(
        &self,
        name: &str,
        redirect_uris: &[String],
    ) -> Result<OAuthClient> {
        let id = format!("tfc_{}", random_token());
        self.remember_client(&id, name, redirect_uris).await
    }

    /// Records client `id` with this name and these redirect URIs: a new
    /// registration, or what the metadata document of a client whose id is
    /// its URL says now (its `created_at` is then when it was read). A new
    /// id is refused (`too_many_pending_apps`) while
    /// [`MAX_PENDING_CLIENTS`] others wait for a first approval.
    pub async fn remember_client(
        &self,
        id: &str,
        name: &str,
        redirect_uris: &[String],
    ) -> Result<OAuthClient> {
        let pending: i64 = query(
            "SELECT COUNT(*) FROM oauth_clients c WHERE c.id <> $1 \
             AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.client_id = c.id)",
        )
        .bind(id)
        .scalar(&mut self.db.read().await?)
        .await?;
        if pending >= MAX_PENDING_CLIENTS && self.client(id).await?.is_none() {
            return Err(Error::Refused {
                code: "too_many_pending_apps",
                field: "client_name",
                detail: format!(
                    "{MAX_PENDING_CLIENTS} apps are registered and not yet approved; \
                     try again once some expire (a day after registering)"
                ),
            });
        }
        let client = OAuthClient {
            id: id.to_owned(),
            name: agent_name("client_name", name)?,
            redirect_uris: redirect_uris.to_vec(),
            created_at: self.now(),
        };
        query(
            "INSERT INTO oauth_clients (id, name, redirect_uris, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, redirect_uris = excluded.redirect_uris, \
             created_at = excluded.created_at",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(serde_json::to_string(&client.redirect_uris)?)
        .bind(client.created_at)
        .execute(&mut self.db.write().await?)
        .await?;
        Ok(client)
    }

    /// The client with this id, if registered.
    pub async fn client(&self, id: &str) -> Result<Option<OAuthClient>> {
        let row: Option<ClientRow> =
            query("SELECT id, name, redirect_uris, created_at FROM oauth_clients WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut self.db.read().await?)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(OAuthClient {
            id: row.id,
            name: row.name,
            redirect_uris: serde_json::from_str(&row.redirect_uris)?,
            created_at: row.created_at,
        }))
    }

    /// Records `user`'s approval: the client's agent (made on the first
    /// approval; its scopes become those approved now), a grant, and the
    /// authorization code returned (valid for [`CODE_TTL`], once).
    pub async fn approve(&self, user: &str, approval: &Approval<'_>) -> Result<String> {
        check_user(user)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let scopes = approval.scopes.to_string();
        // One agent per person and client: a new approval updates it (an
        // upsert, so approvals at the same moment cannot race).
        let agent: i64 = query(
            "INSERT INTO agents (user_id, client_id, name, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, client_id) WHERE revoked_at IS NULL \
             DO UPDATE SET scopes = excluded.scopes, name = excluded.name RETURNING id",
        )
        .bind(user)
        .bind(&approval.client.id)
        .bind(&approval.client.name)
        .bind(&scopes)
        .bind(now)
        .scalar(&mut tx)
        .await?;
        let grant = insert_grant(
            &mut tx,
            agent,
            &scopes,
            approval.resource,
            Some((approval.redirect_uri, approval.code_challenge)),
            now,
        )
        .await?;
        let code = random_token();
        insert_token(&mut tx, &code, &grant, "code", now + CODE_TTL).await?;
        tx.commit().await?;
        Ok(code)
    }

    /// Redeems a code or refresh token for a new refresh token (the old one
    /// is spent); a spent one revokes its grant. Every refusal is
    /// `invalid_grant`, saying why.
    pub async fn redeem(&self, token: &str, redeem: Redeem<'_>) -> Result<Issued> {
        let now = self.now();
        let kind = match redeem {
            Redeem::Code { .. } => "code",
            Redeem::Refresh { .. } => "refresh",
        };
        let hashed = hash(token);
        let mut tx = self.db.begin().await?;
        let found: Option<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = query(
            "SELECT grant_id, expires_at, spent_at FROM oauth_tokens WHERE hash = $1 AND kind = $2",
        )
        .bind(&hashed)
        .bind(kind)
        .fetch_optional(&mut tx)
        .await?;
        let Some((grant, expires_at, spent_at)) = found else {
            return Err(invalid_grant(match redeem {
                Redeem::Code { .. } => "the authorization code is not known",
                Redeem::Refresh { .. } => "the refresh token is not known",
            }));
        };
        if spent_at.is_some() {
            // Replayed: whoever holds the newer token may not be the
            // client. End the whole family.
            revoke_grant(&mut tx, &grant, now).await?;
            tx.commit().await?;
            tracing::warn!(%grant, kind, "a spent token was used again; the grant is revoked");
            return Err(invalid_grant(match redeem {
                Redeem::Code { .. } => {
                    "the authorization code was already used; every token issued from it is revoked"
                }
                Redeem::Refresh { .. } => {
                    "the refresh token was already used; every token of its grant is revoked — authorize again"
                }
            }));
        }
        if expires_at <= now {
            return Err(invalid_grant(match redeem {
                Redeem::Code { .. } => "the authorization code has expired; authorize again",
                Redeem::Refresh { .. } => "the refresh token has expired; authorize again",
            }));
        }
        let row: Option<GrantRow> = query(
            "SELECT g.scopes, g.resource, g.redirect_uri, g.code_challenge, a.client_id \
             FROM oauth_grants g JOIN agents a ON a.id = g.agent_id \
             WHERE g.id = $1 AND g.revoked_at IS NULL AND a.revoked_at IS NULL",
        )
        .bind(&grant)
        .fetch_optional(&mut tx)
        .await?;
        let Some(GrantRow {
            scopes,
            resource,
            redirect_uri,
            code_challenge: challenge,
            client_id: client,
        }) = row
        else {
            return Err(invalid_grant("access was revoked; authorize again"));
        };
        let mut scopes = Scopes::parse(&scopes).unwrap_or_default();
        match redeem {
            Redeem::Code {
                client_id,
                redirect_uri: given,
                code_verifier,
            } => {
                if client.as_deref() != Some(client_id) {
                    return Err(invalid_grant("the code was issued to another client"));
                }
                if redirect_uri.as_deref() != Some(given) {
                    return Err(invalid_grant(
                        "`redirect_uri` differs from the authorization request's",
                    ));
                }
                if challenge.as_deref() != Some(s256(code_verifier).as_str()) {
                    return Err(invalid_grant(
                        "`code_verifier` does not match the code challenge",
                    ));
                }
            }
            Redeem::Refresh {
                client_id,
                scopes: wanted,
            } => {
                if client.as_deref() != Some(client_id) {
                    return Err(invalid_grant(
                        "the refresh token was issued to another client",
                    ));
                }
                if let Some(wanted) = wanted {
                    if !scopes.covers(wanted) {
                        return Err(Error::Refused {
                            code: "invalid_scope",
                            field: "scope",
                            detail: "a refresh may only keep scopes the user approved".into(),
                        });
                    }
                    scopes = wanted;
                }
            }
        }
        let spent =
            query("UPDATE oauth_tokens SET spent_at = $1 WHERE hash = $2 AND spent_at IS NULL")
                .bind(now)
                .bind(&hashed)
                .execute(&mut tx)
                .await?;
        if spent == 0 {
            // Spent by a concurrent request: this one is the replay.
            return Err(invalid_grant("the token was already used"));
        }
        let refresh_token = random_token();
        insert_token(
            &mut tx,
            &refresh_token,
            &grant,
            "refresh",
            now + REFRESH_TTL,
        )
        .await?;
        let principal: PrincipalRow = query(PRINCIPAL).bind(&grant).fetch_one(&mut tx).await?;
        tx.commit().await?;
        let mut agent = principal.principal();
        agent.scopes = scopes;
        Ok(Issued {
            grant,
            agent,
            resource,
            refresh_token,
        })
    }

    /// Revokes the grant a refresh token (or, by `grant`, an access token)
    /// belongs to, if `client_id` is its client; anything else is ignored,
    /// as RFC 7009 asks.
    pub async fn revoke(
        &self,
        client_id: &str,
        token: Option<&str>,
        grant: Option<&str>,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let grant = match (token, grant) {
            (_, Some(grant)) => Some(grant.to_owned()),
            (Some(token), None) => {
                query("SELECT grant_id FROM oauth_tokens WHERE hash = $1")
                    .bind(hash(token))
                    .scalar_optional(&mut tx)
                    .await?
            }
            (None, None) => None,
        };
        let Some(grant) = grant else {
            return Ok(());
        };
        let client: Option<Option<String>> = query(
            "SELECT a.client_id FROM oauth_grants g JOIN agents a ON a.id = g.agent_id \
             WHERE g.id = $1",
        )
        .bind(&grant)
        .scalar_optional(&mut tx)
        .await?;
        if client.flatten().as_deref() == Some(client_id) {
            revoke_grant(&mut tx, &grant, now).await?;
        }
        tx.commit().await
    }

    /// A new agent acting for `user` with `scopes`, and the grant its token
    /// names (`taskflow token --agent`).
    pub async fn mint_agent(
        &self,
        user: &str,
        name: &str,
        scopes: Scopes,
        resource: &str,
    ) -> Result<(AgentPrincipal, String)> {
        check_user(user)?;
        let name = agent_name("agent", name)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let text = scopes.to_string();
        let agent: i64 = query(
            "INSERT INTO agents (user_id, name, scopes, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(user)
        .bind(&name)
        .bind(&text)
        .bind(now)
        .scalar(&mut tx)
        .await?;
        let grant = insert_grant(&mut tx, agent, &text, resource, None, now).await?;
        tx.commit().await?;
        Ok((
            AgentPrincipal {
                id: agent,
                name,
                user: user.to_owned(),
                scopes,
            },
            grant,
        ))
    }

    /// The agent an access token of `grant` acts as, while neither the
    /// grant nor the agent is revoked (None: refuse the token). Notes the
    /// use, to the minute.
    pub async fn principal(&self, grant: &str) -> Result<Option<AgentPrincipal>> {
        let row: Option<PrincipalRow> = query(PRINCIPAL)
            .bind(grant)
            .fetch_optional(&mut self.db.read().await?)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let now = self.now();
        if row
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_GRAIN)
        {
            query("UPDATE agents SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(row.agent_id)
                .execute(&mut self.db.write().await?)
                .await?;
        }
        Ok(Some(row.principal()))
    }

    /// The agents acting for `user` now, newest first.
    pub async fn connected_apps(&self, user: &str) -> Result<Vec<ConnectedApp>> {
        let rows: Vec<AppRow> = query(
            "SELECT id, name, client_id, scopes, created_at, last_used_at FROM agents \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC",
        )
        .bind(user)
        .fetch_all(&mut self.db.read().await?)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ConnectedApp {
                id: row.id,
                name: row.name,
                client_id: row.client_id,
                scopes: Scopes::parse(&row.scopes).unwrap_or_default(),
                created_at: row.created_at,
                last_used_at: row.last_used_at,
            })
            .collect())
    }

    /// Revokes `user`'s agent `id`: its grants and every token of them
    /// stop working at once.
    pub async fn revoke_agent(&self, user: &str, id: i64) -> Result<()> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let revoked = query(
            "UPDATE agents SET revoked_at = $1 WHERE id = $2 AND user_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user)
        .execute(&mut tx)
        .await?;
        if revoked == 0 {
            return Err(Error::NotFound);
        }
        query("UPDATE oauth_grants SET revoked_at = $1 WHERE agent_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut tx)
            .await?;
        query(
            "DELETE FROM oauth_tokens WHERE grant_id IN \
             (SELECT id FROM oauth_grants WHERE agent_id = $1)",
        )
        .bind(id)
        .execute(&mut tx)
        .await?;
        tx.commit().await
    }
}

async fn insert_grant(
    tx: &mut Tx,
    agent: i64,
    scopes: &str,
    resource: &str,
    code: Option<(&str, &str)>,
    now: DateTime<Utc>,
) -> Result<String> {
    let id = random_token();
    query(
        "INSERT INTO oauth_grants (id, agent_id, scopes, resource, redirect_uri, \
         code_challenge, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(agent)
    .bind(scopes)
    .bind(resource)
    .bind(code.map(|c| c.0))
    .bind(code.map(|c| c.1))
    .bind(now)
    .execute(tx)
    .await?;
    Ok(id)
}

async fn insert_token(
    tx: &mut Tx,
    token: &str,
    grant: &str,
    kind: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    query("INSERT INTO oauth_tokens (hash, grant_id, kind, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash(token))
        .bind(grant)
        .bind(kind)
        .bind(expires_at)
        .execute(tx)
        .await?;
    Ok(())
}

/// Ends a grant and its codes and refresh tokens (its access tokens are
/// refused from now on, since each request checks the grant).
async fn revoke_grant(tx: &mut Tx, grant: &str, now: DateTime<Utc>) -> Result<()> {
    query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(grant)
        .execute(&mut *tx)
        .await?;
    query("DELETE FROM oauth_tokens WHERE grant_id = $1 AND spent_at IS NULL")
        .bind(grant)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
