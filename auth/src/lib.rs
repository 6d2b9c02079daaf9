//! Bearer tokens, shared by the REST and MCP edges: JWTs verified locally on
//! every request —
//! HS256 with a shared secret, or RS256/ES256/EdDSA with keys from a cached
//! JWKS (no call to another service per request). `sub` is the user.
//! The development secret is generated once and kept in the data directory.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use http::header::AUTHORIZATION;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
pub use taskflow_core::Subject;

/// Why a request's token was not accepted, with a sentence for the client
/// (the REST edge answers it as a problem, the MCP edge as an RFC 6750
/// error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// No token, or not a valid one: 401.
    Unauthorized(String),
    /// The keys to check it cannot be had right now: 503, try again.
    Unavailable(String),
}

impl Rejected {
    fn new(reason: impl Into<String>) -> Self {
        Self::Unauthorized(reason.into())
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Unauthorized(reason) | Rejected::Unavailable(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for Rejected {}

/// The file in the data directory that keeps the generated secret.
pub const SECRET_FILE: &str = "jwt-secret";
/// Leeway for clock skew when checking `exp`.
const LEEWAY_SECONDS: u64 = 30;

/// The claims Taskflow reads and writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// Expiry, seconds since the epoch (required).
    pub exp: u64,
    /// Issued at.
    #[serde(default)]
    pub iat: u64,
    /// The user's full name, shown until they choose another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The username others invite them by, if it is free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// The issuer (Taskflow's own authorization server for an agent's
    /// token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audience: a string or an array (an agent's token: the MCP
    /// resource it was issued for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    /// An agent's token: the grant it was issued under (checked on every
    /// request, so revoking the grant ends the token at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// An agent's token: its scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// An agent's token: the OAuth client it was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// What an agent's access token says beyond its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentGrant {
    /// The grant it was issued under.
    pub grant: String,
    /// The resource it is for.
    pub audience: String,
    /// Its scopes, space-separated.
    pub scope: String,
}

/// A verified token: its user, and its grant if an agent holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub subject: Subject,
    pub agent: Option<AgentGrant>,
}

/// An agent's access token, as Taskflow's authorization server issues it.
#[derive(Debug, Clone)]
pub struct AgentToken<'a> {
    pub user: &'a str,
    /// The authorization server's issuer identifier.
    pub issuer: &'a str,
    /// The resource it is for (RFC 8707).
    pub audience: &'a str,
    pub grant: &'a str,
    pub scope: &'a str,
    pub client_id: Option<&'a str>,
}

/// The secret from `TASKFLOW_JWT_SECRET`, or else the one kept in `data_dir`,
/// generated on first use (32 random bytes, hex, file mode 0600).
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> io::Result<Vec<u8>> {
    if let Some(secret) = configured.filter(|s| !s.is_empty()) {
        return Ok(secret.as_bytes().to_vec());
    }
    fs::create_dir_all(data_dir)?;
    let path = data_dir.join(SECRET_FILE);
    if let Some(kept) = read_secret(&path)? {
        return Ok(kept);
    }
    // Write the new secret to a private temporary file, then link it into
    // place: the secret file appears complete or not at all, and if another
    // process won the race, its secret is the one everybody uses.
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let temp = data_dir.join(format!(".{SECRET_FILE}.{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(hex.as_bytes())?;
    file.sync_all()?;
    let linked = fs::hard_link(&temp, &path);
    fs::remove_file(&temp)?;
    match linked {
        Ok(()) => Ok(hex.into_bytes()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => read_secret(&path)?
            .ok_or_else(|| io::Error::other(format!("{} is empty", path.display()))),
        Err(err) => Err(err),
    }
}

fn read_secret(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read_to_string(path) {
        Ok(kept) if kept.trim().is_empty() => Err(io::Error::other(format!(
            "{} is empty; delete it to generate a new secret",
            path.display()
        ))),
        Ok(kept) => Ok(Some(kept.trim().as_bytes().to_vec())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// Mints a token for `user` valid for `ttl`.
pub fn mint(
    secret: &[u8],
    user: &str,
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    mint_subject(secret, &Subject::new(user), ttl)
}

/// Mints a token for `subject` (with its username and name claims) valid
/// for `ttl`.
pub fn mint_subject(
    secret: &[u8],
    subject: &Subject,
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: subject.id.clone(),
        iat: now,
        exp: now.saturating_add(ttl.as_secs()),
        name: subject.name.clone(),
        preferred_username: subject.username.clone(),
        iss: None,
        aud: None,
        grant: None,
        scope: None,
        client_id: None,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// Mints an agent's access token valid for `ttl`.
pub fn mint_agent(
    secret: &[u8],
    token: &AgentToken<'_>,
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: token.user.to_owned(),
        iat: now,
        exp: now.saturating_add(ttl.as_secs()),
        name: None,
        preferred_username: None,
        iss: Some(token.issuer.to_owned()),
        aud: Some(serde_json::Value::String(token.audience.to_owned())),
        grant: Some(token.grant.to_owned()),
        scope: Some(token.scope.to_owned()),
        client_id: token.client_id.map(str::to_owned),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// How often the key set may be fetched again for an unknown `kid`: a
/// stream of tokens with made-up key ids cannot turn into a stream of fetches.
const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Verifies bearer tokens: HS256 with a shared secret, and/or RS256, ES256
/// and EdDSA with keys from a JWKS URL. The algorithm must match the key
/// (no `alg: none`, no HMAC with a public key), `exp` and `sub` are
/// required, and `iss`/`aud` are checked when configured.
pub struct Verifier {
    secret: Option<DecodingKey>,
    jwks: Option<Jwks>,
    issuer: Option<String>,
    audience: Option<String>,
    /// The issuer of agents' tokens: Taskflow's own authorization server.
    own_issuer: Option<String>,
}

/// A JWKS endpoint and the keys last fetched from it, by `kid`.
struct Jwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, (DecodingKey, Algorithm)>>,
    fetched: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("hs256", &self.secret.is_some())
            .field("jwks", &self.jwks.as_ref().map(|j| &j.url))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("own_issuer", &self.own_issuer)
            .finish()
    }
}

impl Verifier {
    /// Accepts HS256 tokens signed with `secret`.
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            secret: Some(DecodingKey::from_secret(secret)),
            jwks: None,
            issuer: None,
            audience: None,
            own_issuer: None,
        }
    }

    /// Also (or only, with `hs256` absent) accepts tokens signed by the keys
    /// published at `url`, fetched on first use and again when a token names
    /// an unknown `kid`.
    pub fn with_jwks(mut self, url: impl Into<String>) -> Self {
        self.jwks = Some(Jwks {
            url: url.into(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            keys: RwLock::new(HashMap::new()),
            fetched: tokio::sync::Mutex::new(None),
        });
        self
    }

    /// A verifier that accepts only JWKS-signed tokens.
    pub fn jwks_only(url: impl Into<String>) -> Self {
        Self {
            secret: None,
            jwks: None,
            issuer: None,
            audience: None,
            own_issuer: None,
        }
        .with_jwks(url)
    }

    /// Requires this `iss` claim.
    pub fn with_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = issuer.filter(|i| !i.is_empty());
        self
    }

    /// Requires this `aud` claim.
    pub fn with_audience(mut self, audience: Option<String>) -> Self {
        self.audience = audience.filter(|a| !a.is_empty());
        self
    }

    /// Accepts agents' tokens issued by `issuer` (this server's
    /// authorization server), signed with the HS256 secret.
    pub fn with_own_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.own_issuer = Some(issuer.into());
        self
    }

    /// The subject a token belongs to; an agent's token is refused (it is
    /// for the MCP resource only).
    pub async fn verify(&self, token: &str) -> Result<Subject, Rejected> {
        let verified = self.verify_any(token).await?;
        if verified.agent.is_some() {
            return Err(Rejected::new(
                "this token was issued to an app for Taskflow's MCP server and is not accepted here",
            ));
        }
        Ok(verified.subject)
    }

    /// The subject a token belongs to, and its grant if it is an agent's.
    pub async fn verify_any(&self, token: &str) -> Result<Verified, Rejected> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Rejected::new("the bearer token is not a valid JWT"))?;
        let key = match (header.alg, &self.secret, &self.jwks) {
            (Algorithm::HS256, Some(secret), _) => secret.clone(),
            (Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA, _, Some(jwks)) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| Rejected::new("the token names no key (`kid`)"))?;
                let (key, alg) = jwks.key(kid).await?;
                if alg != header.alg {
                    return Err(Rejected::new(
                        "the token's algorithm does not match its key",
                    ));
                }
                key
            }
            _ => {
                return Err(Rejected::new(
                    "the token's signing algorithm is not accepted here",
                ));
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_aud = false;
        let claims = decode(token, &key, &validation)?;
        let agent = match (&claims.grant, header.alg) {
            (Some(grant), Algorithm::HS256) => {
                // Taskflow's own: its issuer, one audience, its scopes.
                if self.own_issuer.is_none() || claims.iss != self.own_issuer {
                    return Err(Rejected::new(
                        "the token's issuer (`iss`) is not accepted here",
                    ));
                }
                let Some(serde_json::Value::String(audience)) = &claims.aud else {
                    return Err(Rejected::new("the app's token names no audience (`aud`)"));
                };
                Some(AgentGrant {
                    grant: grant.clone(),
                    audience: audience.clone(),
                    scope: claims.scope.clone().unwrap_or_default(),
                })
            }
            (Some(_), _) => {
                return Err(Rejected::new(
                    "the token's signing algorithm is not accepted here",
                ));
            }
            (None, _) => {
                if self.issuer.is_some() || self.audience.is_some() {
                    if let Some(issuer) = &self.issuer {
                        validation.set_issuer(&[issuer]);
                    }
                    if let Some(audience) = &self.audience {
                        validation.set_audience(&[audience]);
                        validation.validate_aud = true;
                    }
                    decode(token, &key, &validation)?;
                }
                None
            }
        };
        if claims.sub.is_empty()
            || claims.sub.len() > 255
            || claims.sub.chars().any(char::is_control)
        {
            return Err(Rejected::new(
                "the token's `sub` must be 1 to 255 bytes without control characters",
            ));
        }
        Ok(Verified {
            subject: Subject {
                id: claims.sub,
                username: claims.preferred_username,
                name: claims.name,
            },
            agent,
        })
    }
}

/// The claims of a token that passes `validation`.
fn decode(token: &str, key: &DecodingKey, validation: &Validation) -> Result<Claims, Rejected> {
    jsonwebtoken::decode::<Claims>(token, key, validation)
        .map(|data| data.claims)
        .map_err(|err| {
            use jsonwebtoken::errors::ErrorKind;
            Rejected::new(match err.kind() {
                ErrorKind::ExpiredSignature => "the token has expired; get a new one",
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                    "the token's signature is not valid for this server"
                }
                ErrorKind::InvalidIssuer => "the token's issuer (`iss`) is not accepted here",
                ErrorKind::InvalidAudience => "the token's audience (`aud`) is not this service",
                _ => "the bearer token is not a valid JWT",
            })
        })
}

impl Jwks {
    /// The key with this id, fetching the set again (at most every 10 s)
    /// when it is not known.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Algorithm), Rejected> {
        if let Some(found) = self.cached(kid) {
            return Ok(found);
        }
        let mut fetched = self.fetched.lock().await;
        if let Some(found) = self.cached(kid) {
            return Ok(found);
        }
        if fetched.is_some_and(|at| at.elapsed() < JWKS_REFRESH_INTERVAL) {
            return Err(Rejected::new("the token is signed by an unknown key"));
        }
        *fetched = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                if let Ok(mut cache) = self.keys.write() {
                    *cache = keys;
                }
            }
            Err(err) => {
                // A failed fetch does not count: the next token may try again.
                *fetched = None;
                tracing::warn!(url = %self.url, error = %err, "cannot fetch the JWKS");
                return Err(Rejected::Unavailable(
                    "the token's signing keys cannot be fetched right now".into(),
                ));
            }
        }
        self.cached(kid)
            .ok_or_else(|| Rejected::new("the token is signed by an unknown key"))
    }

    fn cached(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    async fn fetch(&self) -> Result<HashMap<String, (DecodingKey, Algorithm)>, String> {
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Some(alg)) = (jwk.common.key_id.clone(), algorithm_of(jwk)) else {
                continue;
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid, (key, alg));
                }
                Err(err) => tracing::warn!(%kid, error = %err, "skipping an unusable JWK"),
            }
        }
        Ok(keys)
    }
}

/// The one algorithm a JWK may verify: its `alg`, or what its type implies.
/// Only RS256, ES256 and EdDSA keys are used.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Some(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Some(implied),
        Some(KeyAlgorithm::EdDSA) if implied == Algorithm::EdDSA => Some(implied),
        Some(_) => None,
    }
}

impl Verifier {
    /// The subject of the bearer token in `headers` (never an agent's).
    pub async fn subject_from_headers(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Subject, Rejected> {
        self.verify(bearer(headers)?).await
    }

    /// The subject of the bearer token in `headers`, and its grant if it is
    /// an agent's.
    pub async fn verified_from_headers(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Verified, Rejected> {
        self.verify_any(bearer(headers)?).await
    }
}

/// The bearer token in `headers`.
fn bearer(headers: &http::HeaderMap) -> Result<&str, Rejected> {
    let header = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| Rejected::new("send `Authorization: Bearer <token>`"))?;
    header
        .to_str()
        .ok()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Rejected::new("the Authorization header must be `Bearer <token>`"))
}
