//! Bearer-token authentication: HS256 JWTs with a shared secret, verified
//! locally on every request (no call to another service). `sub` is the user.
//! The development secret is generated once and kept in the data directory.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::problem::Problem;

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
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: user.to_owned(),
        iat: now,
        exp: now.saturating_add(ttl.as_secs()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// Verifies bearer tokens.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    /// Accepts HS256 tokens signed with `secret`, with `exp` required. Only
    /// HS256 is allowed, so `alg: none` and algorithm confusion are refused.
    pub fn hs256(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            key: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The user a token belongs to.
    pub fn verify(&self, token: &str) -> Result<String, Problem> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                Problem::unauthorized(match err.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired; get a new one",
                    ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                        "the token's signature is not valid for this server"
                    }
                    _ => "the bearer token is not a valid JWT",
                })
            })?;
        let user = data.claims.sub;
        if user.is_empty() || user.len() > 255 {
            return Err(Problem::unauthorized(
                "the token's `sub` must be 1 to 255 bytes",
            ));
        }
        Ok(user)
    }
}

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub String);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| Problem::unauthorized("send `Authorization: Bearer <token>`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Problem::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        state.verifier.verify(token).map(AuthUser)
    }
}
