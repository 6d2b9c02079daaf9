//! Taskflow's OAuth 2.1 authorization server, through which remote MCP
//! clients connect (the MCP authorization specification): metadata
//! (RFC 8414), dynamic registration of public clients (RFC 7591), the
//! authorization code flow with PKCE S256 only, refresh tokens rotated on
//! every use (a reused one revokes its grant), revocation (RFC 7009), and
//! tokens bound to the MCP resource (RFC 8707). The consent screen is a
//! view of the dashboard: the signed-in person sees the client's name and
//! the scopes, and approves through `POST /api/oauth/authorize`.
//!
//! An app may also skip registering: its `client_id` is then the URL of
//! its metadata document ([`client_documents`]).
//!
//! Each approval makes (or updates) an agent: the client acting for that
//! person, listed under Connected apps and revocable there at once.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;
use taskflow_auth::{AgentToken, mint_agent};
use taskflow_core::{ConnectedApp, Scope, Scopes};
use taskflow_store::{Approval, Error, MAX_REDIRECT_URIS, OAuthClient, Redeem};

use crate::AppState;
use crate::auth::AuthUser;
use crate::client_documents::{self, Fault};
use crate::extract::{AgentId, ApiJson, ApiQuery};
use crate::problem::Problem;

/// How long an access token is valid.
pub const ACCESS_TTL: Duration = Duration::from_secs(3600);

/// The authorization server of a process: who it is (its issuer, the URL
/// clients reach Taskflow at) and the key its tokens are signed with.
#[derive(Clone)]
pub struct OAuthServer {
    pub issuer: String,
    pub secret: Arc<Vec<u8>>,
    /// Also read apps' metadata documents over `http://` on loopback
    /// (tests and development; a document is otherwise https on a public
    /// address).
    pub insecure_documents: bool,
}

impl std::fmt::Debug for OAuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthServer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl OAuthServer {
    /// The one resource its tokens are for: the MCP endpoint.
    pub fn resource(&self) -> String {
        format!("{}/mcp", self.issuer)
    }
}

/// The routes of the authorization server and of Connected apps.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/oauth/register", post(register))
        .route("/oauth/authorize", get(crate::dashboard::page))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/api/oauth/authorize", get(consent).post(decide))
        .route("/api/connected-apps", get(connected_apps))
        .route("/api/connected-apps/{id}", delete(disconnect))
}

/// An OAuth error response (RFC 6749 §5.2), never cached.
fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(json!({"error": error, "error_description": description.into()})),
    )
        .into_response()
}

/// A token or revocation request that is not a form (RFC 6749 §3.2).
fn form_refused(err: &FormRejection) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        format!(
            "send the parameters as application/x-www-form-urlencoded: {}",
            err.body_text()
        ),
    )
}

/// The answer of every OAuth endpoint of a process without a server.
fn no_server() -> Response {
    oauth_error(
        StatusCode::NOT_FOUND,
        "unsupported",
        "this server signs no tokens (no HS256 secret is configured), so it authorizes no apps",
    )
}

/// RFC 8414 metadata.
async fn metadata(State(state): State<AppState>) -> Response {
    let Some(server) = &state.oauth else {
        return no_server();
    };
    let issuer = &server.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "registration_endpoint": format!("{issuer}/oauth/register"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "scopes_supported": Scope::ALL.map(Scope::as_str),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
    }))
    .into_response()
}

/// A registration request (RFC 7591): only what a public client needs.
#[derive(Debug, Deserialize)]
struct Registration {
    #[serde(default)]
    redirect_uris: Vec<String>,
    client_name: Option<String>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
}

/// Whether `uri` may be registered: `https`, `http` on a loopback host
/// (RFC 8252 §7.3), or a private-use scheme (`com.example.app:/cb`, §7.1);
/// never with a fragment.
pub(crate) fn redirect_allowed(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|_| format!("`{uri}` is not an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(format!("`{uri}` has a fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(format!(
            "`{uri}`: plain http is allowed only to a loopback address (127.0.0.1, [::1], localhost)"
        )),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(format!(
            "`{uri}`: use https, http to a loopback address, or a private-use scheme such as com.example.app:"
        )),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// Whether `given` is one of the client's redirect URIs: the same string,
/// or for a loopback `http` URI the same but for the port (a native app
/// listens on whichever port is free, RFC 8252 §7.3).
fn redirect_matches(client: &OAuthClient, given: &str) -> bool {
    client.redirect_uris.iter().any(|registered| {
        if registered == given {
            return true;
        }
        let (Ok(mut a), Ok(mut b)) = (url::Url::parse(registered), url::Url::parse(given)) else {
            return false;
        };
        if a.scheme() != "http" || !is_loopback(&a) {
            return false;
        }
        let _ = a.set_port(None);
        let _ = b.set_port(None);
        a == b
    })
}

/// `POST /oauth/register`.
async fn register(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    if state.oauth.is_none() {
        return no_server();
    }
    let metadata_error =
        |d: String| oauth_error(StatusCode::BAD_REQUEST, "invalid_client_metadata", d);
    let registration: Registration = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(err) => return metadata_error(format!("the body is not client metadata: {err}")),
    };
    if registration.redirect_uris.is_empty() || registration.redirect_uris.len() > MAX_REDIRECT_URIS
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            format!("give 1 to {MAX_REDIRECT_URIS} redirect_uris"),
        );
    }
    for uri in &registration.redirect_uris {
        if let Err(why) = redirect_allowed(uri) {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_redirect_uri", why);
        }
    }
    if registration
        .token_endpoint_auth_method
        .as_deref()
        .is_some_and(|m| m != "none")
    {
        return metadata_error(
            "only public clients are registered: token_endpoint_auth_method must be `none` (PKCE protects the code)".into(),
        );
    }
    if let Some(types) = &registration.grant_types
        && types
            .iter()
            .any(|t| t != "authorization_code" && t != "refresh_token")
    {
        return metadata_error(
            "grant_types may be authorization_code and refresh_token only".into(),
        );
    }
    if let Some(types) = &registration.response_types
        && types.iter().any(|t| t != "code")
    {
        return metadata_error("response_types may be `code` only".into());
    }
    let name = registration
        .client_name
        .unwrap_or_else(|| "Unnamed app".to_owned());
    match state
        .tasks
        .register_client(&name, &registration.redirect_uris)
        .await
    {
        Ok(client) => (
            StatusCode::CREATED,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Json(json!({
                "client_id": client.id,
                "client_id_issued_at": client.created_at.timestamp(),
                "client_name": client.name,
                "redirect_uris": client.redirect_uris,
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            })),
        )
            .into_response(),
        Err(Error::Invalid(invalid)) => {
            metadata_error(format!("`{}` {}", invalid.field, invalid.reason))
        }
        Err(Error::Refused { detail, .. }) => {
            let mut busy = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                detail,
            );
            busy.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
            busy
        }
        Err(err) => Problem::from(err).into_response(),
    }
}

/// The parameters of an authorization request.
#[derive(Debug, Clone, Deserialize)]
struct AuthorizeParams {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    resource: Option<String>,
}

/// An authorization request that checks out.
struct Checked {
    client: OAuthClient,
    redirect_uri: String,
    scopes: Scopes,
    challenge: String,
    resource: String,
}

/// Where a refusal of an authorization request goes: to the client's
/// redirect URI with `error` (once the client and URI are known good), or
/// shown to the person (a problem) when they are not.
enum Refusal {
    Shown(Problem),
    Redirect(String),
}

/// `redirect_uri` with the response parameters (and `iss`, RFC 9207).
fn redirect_to(uri: &str, params: &[(&str, &str)], issuer: &str, state: Option<&str>) -> String {
    let mut url = match url::Url::parse(uri) {
        Ok(url) => url,
        Err(_) => return uri.to_owned(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in params {
            query.append_pair(key, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.into()
}

async fn check(
    state: &AppState,
    server: &OAuthServer,
    params: &AuthorizeParams,
) -> Result<Checked, Refusal> {
    let shown = |code, detail: &str| Refusal::Shown(Problem::bad_request(code, detail));
    let client_id = params
        .client_id
        .as_deref()
        .ok_or_else(|| shown("invalid_client", "the request names no client_id"))?;
    let client = if client_documents::names_document(client_id) {
        client_documents::client(&state.tasks, client_id, server.insecure_documents)
            .await
            .map_err(|fault| match fault {
                Fault::Document(why) => shown("invalid_client", &why),
                Fault::Store(err) => Refusal::Shown(err.into()),
            })?
    } else {
        state
            .tasks
            .client(client_id)
            .await
            .map_err(|err| Refusal::Shown(err.into()))?
            .ok_or_else(|| {
                shown(
                    "invalid_client",
                    "no app is registered with this client_id; the app must register again",
                )
            })?
    };
    let redirect_uri = match &params.redirect_uri {
        Some(uri) if redirect_matches(&client, uri) => uri.clone(),
        Some(_) => {
            return Err(shown(
                "invalid_redirect_uri",
                "the redirect_uri is not one the app registered",
            ));
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return Err(shown(
                "invalid_redirect_uri",
                "the app registered several redirect URIs; the request must name one",
            ));
        }
    };
    let refuse = |error: &str, description: &str| {
        Refusal::Redirect(redirect_to(
            &redirect_uri,
            &[("error", error), ("error_description", description)],
            &server.issuer,
            params.state.as_deref(),
        ))
    };
    if params.response_type.as_deref() != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "response_type must be `code`",
        ));
    }
    let Some(challenge) = params.code_challenge.clone() else {
        return Err(refuse(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        ));
    };
    if params.code_challenge_method.as_deref() != Some("S256") {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted)",
        ));
    }
    if challenge.len() != 43
        || !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
        ));
    }
    let resource = server.resource();
    if params.resource.as_deref().is_some_and(|r| r != resource) {
        return Err(refuse(
            "invalid_target",
            "the only resource here is the MCP endpoint",
        ));
    }
    let scopes = match params.scope.as_deref() {
        None | Some("") => Scopes::ALL,
        Some(text) => match Scopes::parse(text) {
            Ok(scopes) => scopes,
            Err(invalid) => return Err(refuse("invalid_scope", &invalid.reason)),
        },
    };
    Ok(Checked {
        client,
        redirect_uri,
        scopes,
        challenge,
        resource,
    })
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Shown(problem) => problem.into_response(),
        Refusal::Redirect(to) => Problem::bad_request(
            "authorization_refused",
            "the request cannot be approved; the app is told why",
        )
        .with("redirect_to", to)
        .into_response(),
    }
}

/// `GET /api/oauth/authorize`: what the consent screen shows.
async fn consent(
    State(state): State<AppState>,
    AuthUser(_user): AuthUser,
    ApiQuery(params): ApiQuery<AuthorizeParams>,
) -> Response {
    let Some(server) = &state.oauth else {
        return no_server();
    };
    match check(&state, server, &params).await {
        Ok(checked) => Json(json!({
            "client_id": checked.client.id,
            "client_name": checked.client.name,
            "client_host": client_documents::host(&checked.client.id),
            "redirect_uri": checked.redirect_uri,
            "scopes": checked.scopes.iter().map(|s| json!({"scope": s, "description": s.description()})).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(refusal) => refused(refusal),
    }
}

/// The person's answer on the consent screen.
#[derive(Debug, Deserialize)]
struct Decision {
    #[serde(flatten)]
    params: AuthorizeParams,
    approve: bool,
    /// The scopes granted, space-separated, when the person allows fewer
    /// than the app asked for (never more).
    granted: Option<String>,
}

/// `POST /api/oauth/authorize`: approves (a code for the app) or denies;
/// answers where the browser goes next.
async fn decide(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(decision): ApiJson<Decision>,
) -> Response {
    let Some(server) = &state.oauth else {
        return no_server();
    };
    let checked = match check(&state, server, &decision.params).await {
        Ok(checked) => checked,
        Err(refusal) => return refused(refusal),
    };
    let the_state = decision.params.state.as_deref();
    if !decision.approve {
        let to = redirect_to(
            &checked.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied access"),
            ],
            &server.issuer,
            the_state,
        );
        return Json(json!({"redirect_to": to})).into_response();
    }
    let scopes = match decision.granted.as_deref() {
        None => checked.scopes,
        Some(text) => match Scopes::parse(text) {
            Ok(granted) if !granted.is_empty() && checked.scopes.covers(granted) => granted,
            Ok(_) => {
                return Problem::invalid(
                    "granted",
                    "grant at least one of the scopes the app asked for, and none it did not",
                )
                .into_response();
            }
            Err(invalid) => return Problem::invalid("granted", invalid.reason).into_response(),
        },
    };
    let approval = Approval {
        client: &checked.client,
        scopes,
        resource: &checked.resource,
        redirect_uri: &checked.redirect_uri,
        code_challenge: &checked.challenge,
    };
    match state.tasks.approve(&user, &approval).await {
        Ok(code) => {
            let to = redirect_to(
                &checked.redirect_uri,
                &[("code", &code)],
                &server.issuer,
                the_state,
            );
            Json(json!({"redirect_to": to})).into_response()
        }
        Err(err) => Problem::from(err).into_response(),
    }
}

/// A token request (form-encoded).
#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    resource: Option<String>,
}

/// `POST /oauth/token`.
async fn token(
    State(state): State<AppState>,
    request: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let Form(request) = match request {
        Ok(form) => form,
        Err(err) => return form_refused(&err),
    };
    let Some(server) = &state.oauth else {
        return no_server();
    };
    let bad =
        |error: &str, description: &str| oauth_error(StatusCode::BAD_REQUEST, error, description);
    let Some(client_id) = request.client_id.as_deref() else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "send client_id (public clients authenticate by it and PKCE)",
        );
    };
    if request
        .resource
        .as_deref()
        .is_some_and(|r| r != server.resource())
    {
        return bad(
            "invalid_target",
            "the only resource here is the MCP endpoint",
        );
    }
    let redeemed = match request.grant_type.as_deref() {
        Some("authorization_code") => {
            let (Some(code), Some(verifier)) = (&request.code, &request.code_verifier) else {
                return bad(
                    "invalid_request",
                    "send code and code_verifier (PKCE is required)",
                );
            };
            if !(43..=128).contains(&verifier.len())
                || !verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            {
                return bad(
                    "invalid_request",
                    "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
                );
            }
            let Some(redirect_uri) = &request.redirect_uri else {
                return bad(
                    "invalid_request",
                    "send the redirect_uri of the authorization request",
                );
            };
            state
                .tasks
                .redeem(
                    code,
                    Redeem::Code {
                        client_id,
                        redirect_uri,
                        code_verifier: verifier,
                    },
                )
                .await
        }
        Some("refresh_token") => {
            let Some(refresh) = &request.refresh_token else {
                return bad("invalid_request", "send refresh_token");
            };
            let scopes = match request.scope.as_deref().filter(|s| !s.is_empty()) {
                None => None,
                Some(text) => match Scopes::parse(text) {
                    Ok(scopes) => Some(scopes),
                    Err(invalid) => return bad("invalid_scope", &invalid.reason),
                },
            };
            state
                .tasks
                .redeem(refresh, Redeem::Refresh { client_id, scopes })
                .await
        }
        _ => {
            return bad(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            );
        }
    };
    let issued = match redeemed {
        Ok(issued) => issued,
        Err(Error::Refused { code, detail, .. }) => return bad(code, &detail),
        Err(err) => return Problem::from(err).into_response(),
    };
    let scope = issued.agent.scopes.to_string();
    let access = mint_agent(
        &server.secret,
        &AgentToken {
            user: &issued.agent.user,
            issuer: &server.issuer,
            audience: &issued.resource,
            grant: &issued.grant,
            scope: &scope,
            client_id: Some(client_id),
        },
        ACCESS_TTL,
    );
    match access {
        Ok(access) => (
            [
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (header::PRAGMA, HeaderValue::from_static("no-cache")),
            ],
            Json(json!({
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": ACCESS_TTL.as_secs(),
                "refresh_token": issued.refresh_token,
                "scope": scope,
            })),
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot sign an access token");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the token could not be signed",
            )
        }
    }
}

/// A revocation request (form-encoded).
#[derive(Debug, Deserialize)]
struct RevokeRequest {
    token: Option<String>,
    client_id: Option<String>,
}

/// `POST /oauth/revoke`: ends the grant of a refresh or access token (of
/// the client that sends it); 200 whatever the token was.
async fn revoke(
    State(state): State<AppState>,
    request: Result<Form<RevokeRequest>, FormRejection>,
) -> Response {
    let Form(request) = match request {
        Ok(form) => form,
        Err(err) => return form_refused(&err),
    };
    if state.oauth.is_none() {
        return no_server();
    }
    let (Some(token), Some(client_id)) = (request.token, request.client_id) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send token and client_id",
        );
    };
    let grant = match state.verifier.verify_any(&token).await {
        Ok(verified) => verified.agent.map(|a| a.grant),
        Err(_) => None,
    };
    match state
        .tasks
        .revoke(client_id.as_str(), Some(&token), grant.as_deref())
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => Problem::from(err).into_response(),
    }
}

/// `GET /api/connected-apps`: the agents acting for the caller.
async fn connected_apps(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<ConnectedApp>>, Problem> {
    Ok(Json(state.tasks.connected_apps(&user).await?))
}

/// `DELETE /api/connected-apps/{id}`: revokes an agent at once.
async fn disconnect(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    AgentId(id): AgentId,
) -> Result<StatusCode, Problem> {
    state.tasks.revoke_agent(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> OAuthClient {
        OAuthClient {
            id: "c".into(),
            name: "App".into(),
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn redirect_uris_match_exactly_but_a_loopback_port_may_differ() {
        let c = client(&["https://app.example/cb", "http://127.0.0.1/callback"]);
        assert!(redirect_matches(&c, "https://app.example/cb"));
        assert!(!redirect_matches(&c, "https://app.example/cb/"));
        assert!(!redirect_matches(&c, "https://app.example:8443/cb"));
        assert!(redirect_matches(&c, "http://127.0.0.1:53124/callback"));
        assert!(!redirect_matches(&c, "http://127.0.0.1:53124/other"));
        assert!(!redirect_matches(&c, "http://127.0.0.2:53124/callback"));
        assert!(!redirect_matches(&c, "https://127.0.0.1:53124/callback"));
    }

    #[test]
    fn only_https_loopback_http_and_private_schemes_register() {
        assert!(redirect_allowed("https://app.example/cb").is_ok());
        assert!(redirect_allowed("http://localhost:3000/cb").is_ok());
        assert!(redirect_allowed("http://[::1]/cb").is_ok());
        assert!(redirect_allowed("com.example.app:/cb").is_ok());
        assert!(redirect_allowed("http://app.example/cb").is_err());
        assert!(redirect_allowed("https://app.example/cb#x").is_err());
        assert!(redirect_allowed("javascript:alert(1)").is_err());
        assert!(redirect_allowed("/relative").is_err());
    }
}
