//! OAuth for remote MCP clients, as a client goes through it over HTTP:
//! discovery from `/mcp`'s 401, registration, the consent screen's
//! approval, a code for tokens with PKCE, tool calls within the approved
//! scopes, a refresh that rotates, revocation — and each refusal the
//! specification asks for — on both databases.

use std::sync::Arc;

use reqwest::StatusCode;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use taskflow_api::AppState;
use taskflow_api::auth::{AgentToken, Verifier, mint, mint_agent};
use taskflow_api::oauth::OAuthServer;
use taskflow_mcp::http::HttpOptions;
use taskflow_mcp::watch::Watch;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;
use tokio_util::sync::CancellationToken;

on_both_databases!(
    an_app_connects_by_oauth_and_acts_within_its_scopes,
    what_the_specification_forbids_is_refused,
    a_reused_refresh_token_or_a_revoked_app_ends_the_grant,
    an_app_known_by_its_metadata_document_connects_without_registering,
);

const SECRET: &[u8] = b"oauth-test-secret";
const REDIRECT: &str = "http://127.0.0.1/callback";
/// A PKCE pair; the challenge was computed apart from Taskflow (Python's
/// hashlib and base64), so a wrong transform here cannot agree with it.
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92ZoDdyaBgvD1Z9Qy4FkXoOj2GGM";
const CHALLENGE: &str = "BEBkUsvnr4CuOjojqYNGE4ykYC7_Q0vo02yVOFxPBkg";

/// The REST API, the authorization server and `/mcp`, served as `serve`
/// does, at `base`.
struct Server {
    base: String,
    http: reqwest::Client,
}

async fn start(h: &Harness) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState {
        oauth: Some(OAuthServer {
            issuer: base.clone(),
            secret: Arc::new(SECRET.to_vec()),
            insecure_documents: true,
        }),
        ..AppState::new(
            h.svc.clone(),
            Verifier::hs256(SECRET).with_own_issuer(&base),
        )
    };
    let mcp = taskflow_mcp::http::router(
        h.svc.clone(),
        Watch::new(h.svc.audience().clone()),
        state.verifier.clone(),
        HttpOptions {
            toolsets: taskflow_agent::Toolset::ALL.to_vec(),
            issuer: Some(base.clone()),
            ..Default::default()
        },
        CancellationToken::new(),
    );
    let router = taskflow_api::app(state).merge(mcp);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        base,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Server {
    async fn json(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn register(&self, redirect: &str) -> String {
        let (status, client) = self
            .json(self.http.post(format!("{}/oauth/register", self.base)).json(
                &json!({"client_name": "Claude", "redirect_uris": [redirect], "token_endpoint_auth_method": "none"}),
            ))
            .await;
        assert_eq!(status, 201, "{client}");
        client["client_id"].as_str().unwrap().to_owned()
    }

    /// The authorization request's query.
    fn request(&self, client: &str, redirect: &str, scope: &str) -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect),
            ("scope", scope),
            ("state", "xyz"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("resource", &format!("{}/mcp", self.base)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The consent screen's answer for `user`: where the browser goes.
    async fn decide(
        &self,
        user: &str,
        query: &[(String, String)],
        approve: bool,
    ) -> (StatusCode, Value) {
        let mut body: serde_json::Map<String, Value> = query
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        body.insert("approve".into(), Value::Bool(approve));
        self.json(
            self.http
                .post(format!("{}/api/oauth/authorize", self.base))
                .bearer_auth(mint(SECRET, user, std::time::Duration::from_secs(60)).unwrap())
                .json(&body),
        )
        .await
    }

    /// Approves as `user` and returns the code (checking `state` and `iss`).
    async fn code(&self, user: &str, query: &[(String, String)]) -> String {
        let (status, answer) = self.decide(user, query, true).await;
        assert_eq!(status, 200, "{answer}");
        let to = url::Url::parse(answer["redirect_to"].as_str().unwrap()).unwrap();
        let param = |name: &str| {
            to.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(param("state").as_deref(), Some("xyz"));
        assert_eq!(param("iss").as_deref(), Some(self.base.as_str()));
        param("code").unwrap()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        self.json(
            self.http
                .post(format!("{}/oauth/token", self.base))
                .form(form),
        )
        .await
    }

    async fn exchange(&self, client: &str, code: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
    }

    async fn refresh(&self, client: &str, refresh: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client),
        ])
        .await
    }

    /// An MCP session with `token`.
    async fn mcp(
        &self,
        token: &str,
    ) -> Result<rmcp::service::RunningService<rmcp::RoleClient, ()>, String> {
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", self.base))
            .auth_header(token.to_owned());
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
            .map_err(|e| e.to_string())
    }

    async fn mcp_status(&self, token: &str) -> StatusCode {
        self.http
            .post(format!("{}/mcp", self.base))
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
            .send()
            .await
            .unwrap()
            .status()
    }
}

fn call(name: &str, arguments: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(name.to_owned())
        .with_arguments(arguments.as_object().unwrap().clone())
}

async fn an_app_connects_by_oauth_and_acts_within_its_scopes(h: &Harness) {
    let s = start(h).await;
    // Discovery: /mcp's challenge names the resource metadata, which names
    // this authorization server, whose metadata names the endpoints.
    let challenge = s.http.post(format!("{}/mcp", s.base)).send().await.unwrap();
    assert_eq!(challenge.status(), 401);
    let www = challenge.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let metadata_url = format!("{}/.well-known/oauth-protected-resource", s.base);
    assert!(
        www.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{www}"
    );
    let (_, resource) = s.json(s.http.get(&metadata_url)).await;
    assert_eq!(resource["resource"], format!("{}/mcp", s.base));
    assert_eq!(resource["authorization_servers"], json!([s.base]));
    let (_, server) = s
        .json(
            s.http
                .get(format!("{}/.well-known/oauth-authorization-server", s.base)),
        )
        .await;
    assert_eq!(server["issuer"], s.base);
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(server["token_endpoint"], format!("{}/oauth/token", s.base));
    assert_eq!(
        server["authorization_response_iss_parameter_supported"],
        true
    );

    // Registration, then the consent screen: the page, and what it shows.
    let client = s.register(REDIRECT).await;
    let query = s.request(&client, "http://127.0.0.1:50123/callback", "tasks:read");
    let page = s
        .http
        .get(format!("{}/oauth/authorize", s.base))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"));
    let (status, shown) = s
        .json(
            s.http
                .get(format!("{}/api/oauth/authorize", s.base))
                .query(&query)
                .bearer_auth(mint(SECRET, "alice", std::time::Duration::from_secs(60)).unwrap()),
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["client_name"], "Claude");
    assert_eq!(shown["scopes"][0]["scope"], "tasks:read");

    // A read-only grant: alice approves; the code (redirected to the port
    // the app listens on) buys tokens.
    let code = s.code("alice", &query).await;
    let (status, tokens) = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client),
            ("redirect_uri", "http://127.0.0.1:50123/callback"),
            ("code_verifier", VERIFIER),
            ("resource", &format!("{}/mcp", s.base)),
        ])
        .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "tasks:read");
    let access = tokens["access_token"].as_str().unwrap();

    // The token works at /mcp, as alice, for reading only: the write tools
    // are not listed, and calling one is a tool error naming the scope.
    let alice = mint(SECRET, "alice", std::time::Duration::from_secs(60)).unwrap();
    let (status, _) = s
        .json(
            s.http
                .post(format!("{}/api/tasks", s.base))
                .bearer_auth(&alice)
                .json(&json!({"title": "Pay rent"})),
        )
        .await;
    assert_eq!(status, 201);
    let mcp = s.mcp(access).await.unwrap();
    let tools = mcp.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"list_tasks") && names.contains(&"get_task"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"add_task") && !names.contains(&"add_comment"),
        "{names:?}"
    );
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
    );
    let listed = mcp.call_tool(call("list_tasks", json!({}))).await.unwrap();
    assert_ne!(listed.is_error, Some(true));
    assert!(format!("{listed:?}").contains("Pay rent"));
    let refused = mcp
        .call_tool(call("add_task", json!({"title": "from the app"})))
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true));
    assert!(
        format!("{refused:?}").contains("`tasks:write` scope"),
        "{refused:?}"
    );
    mcp.cancel().await.unwrap();
    // The token is for /mcp only: the REST API refuses it.
    let (status, problem) = s
        .json(
            s.http
                .get(format!("{}/api/tasks", s.base))
                .bearer_auth(access),
        )
        .await;
    assert_eq!(status, 401, "{problem}");

    // A second approval with write scope: the same agent, now writing; the
    // task it adds is alice's.
    let query = s.request(&client, REDIRECT, "tasks:read tasks:write");
    let code = s.code("alice", &query).await;
    let (_, tokens) = s.exchange(&client, &code).await;
    let mcp = s
        .mcp(tokens["access_token"].as_str().unwrap())
        .await
        .unwrap();
    let added = mcp
        .call_tool(call("add_task", json!({"title": "from the app"})))
        .await
        .unwrap();
    assert_ne!(added.is_error, Some(true), "{added:?}");
    mcp.cancel().await.unwrap();
    // The change is the agent's, made for alice: so says its history.
    let id = added.structured_content.as_ref().unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, history) = s
        .json(
            s.http
                .get(format!("{}/api/tasks/{id}/history", s.base))
                .bearer_auth(&alice),
        )
        .await;
    let actor = &history["entries"][0]["actor"];
    assert_eq!(actor["kind"], "agent", "{history}");
    assert_eq!(actor["name"], "Claude");
    assert_eq!(actor["on_behalf_of"]["id"], "alice");
    assert_eq!(history["entries"][0]["source"], "mcp");
    let (_, page) = s
        .json(
            s.http
                .get(format!("{}/api/tasks", s.base))
                .bearer_auth(&alice),
        )
        .await;
    let titles: Vec<&str> = page["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert!(titles.contains(&"from the app"), "{titles:?}");

    // A refresh rotates: new tokens, and the new refresh token works once.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, rotated) = s.refresh(&client, refresh).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    assert_eq!(rotated["scope"], "tasks:read tasks:write");
    let (status, narrowed) = s
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rotated["refresh_token"].as_str().unwrap()),
            ("client_id", &client),
            ("scope", "tasks:read"),
        ])
        .await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["scope"], "tasks:read");

    // Connected apps: one agent for Claude, with its scopes; bob sees none.
    let apps = |user: &str| {
        s.json(
            s.http
                .get(format!("{}/api/connected-apps", s.base))
                .bearer_auth(mint(SECRET, user, std::time::Duration::from_secs(60)).unwrap()),
        )
    };
    let (_, listed) = apps("alice").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["name"], "Claude");
    assert_eq!(listed[0]["scopes"], json!(["tasks:read", "tasks:write"]));
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    assert_eq!(apps("bob").await.1, json!([]));

    // First approvals of another app at the same moment (two tabs, a
    // double click): each gets its code, and they make one agent.
    let twin = s.register(REDIRECT).await;
    let query = s.request(&twin, REDIRECT, "tasks:read");
    let approvals = (0..8).map(|_| s.code("alice", &query));
    assert_eq!(futures::future::join_all(approvals).await.len(), 8);
    assert_eq!(apps("alice").await.1.as_array().unwrap().len(), 2);
}

async fn what_the_specification_forbids_is_refused(h: &Harness) {
    let s = start(h).await;
    // Registration: plain http off loopback, and confidential clients.
    let (status, err) = s
        .json(
            s.http
                .post(format!("{}/oauth/register", s.base))
                .json(&json!({"client_name": "x", "redirect_uris": ["http://evil.example/cb"]})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
    let (status, err) = s
        .json(s.http.post(format!("{}/oauth/register", s.base)).json(
            &json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic"}),
        ))
        .await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );
    let client = s.register(REDIRECT).await;

    // The consent screen never sends the browser to an unregistered URI.
    let query = s.request(&client, "https://evil.example/cb", "tasks:read");
    let (status, err) = s.decide("alice", &query, true).await;
    assert_eq!(
        (status.as_u16(), err["code"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
    assert!(err.get("redirect_to").is_none(), "{err}");
    // No PKCE, and plain PKCE: back to the app with invalid_request.
    for (key, value) in [
        ("code_challenge", None),
        ("code_challenge_method", Some("plain")),
    ] {
        let mut query = s.request(&client, REDIRECT, "tasks:read");
        query.retain(|(k, _)| k != key);
        if let Some(value) = value {
            query.push((key.to_owned(), value.to_owned()));
        }
        let (status, err) = s.decide("alice", &query, true).await;
        assert_eq!(status, 400, "{err}");
        let to = err["redirect_to"].as_str().unwrap();
        assert!(
            to.starts_with(REDIRECT) && to.contains("error=invalid_request"),
            "{to}"
        );
    }
    // A token for another resource is not asked for, nor given.
    let mut other = s.request(&client, REDIRECT, "tasks:read");
    other.retain(|(k, _)| k != "resource");
    other.push(("resource".into(), "https://other.example/mcp".into()));
    let (_, err) = s.decide("alice", &other, true).await;
    assert!(
        err["redirect_to"]
            .as_str()
            .unwrap()
            .contains("error=invalid_target"),
        "{err}"
    );
    // Denied: access_denied, no code.
    let query = s.request(&client, REDIRECT, "tasks:read");
    let (_, denied) = s.decide("alice", &query, false).await;
    let to = denied["redirect_to"].as_str().unwrap();
    assert!(
        to.contains("error=access_denied") && !to.contains("code="),
        "{to}"
    );

    // The token endpoint: a wrong verifier spends nothing; the right one
    // works once; the code again is refused.
    let code = s.code("alice", &query).await;
    let (status, err) = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &"x".repeat(43)),
        ])
        .await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("invalid_grant")),
        "{err}"
    );
    let (status, err) = s
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client),
            ("redirect_uri", "http://127.0.0.1/other"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("invalid_grant")),
        "{err}"
    );
    let (status, first) = s.exchange(&client, &code).await;
    assert_eq!(status, 200, "{first}");
    let (status, err) = s.exchange(&client, &code).await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("invalid_grant")),
        "{err}"
    );
    // ... and reusing the code revoked what it had bought.
    assert_eq!(
        s.mcp_status(first["access_token"].as_str().unwrap()).await,
        401
    );

    // A code past its minute is refused.
    let code = s.code("alice", &query).await;
    h.clock.set(h.svc.now() + chrono::Duration::seconds(61));
    let (_, err) = s.exchange(&client, &code).await;
    assert_eq!(err["error"], "invalid_grant", "{err}");
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{err}"
    );

    // Access tokens: for another resource, or expired, are refused at /mcp.
    let code = s.code("alice", &query).await;
    let (_, tokens) = s.exchange(&client, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(s.mcp_status(access).await, 200);
    let claims: Value = {
        use base64::Engine as _;
        let payload = access.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let grant = claims["grant"].as_str().unwrap();
    let forged = |audience: &str, ttl: u64| {
        mint_agent(
            SECRET,
            &AgentToken {
                user: "alice",
                issuer: &s.base,
                audience,
                grant,
                scope: "tasks:read",
                client_id: Some(&client),
            },
            std::time::Duration::from_secs(ttl),
        )
        .unwrap()
    };
    assert_eq!(
        s.mcp_status(&forged(&format!("{}/mcp", s.base), 60)).await,
        200
    );
    assert_eq!(
        s.mcp_status(&forged("https://other.example/mcp", 60)).await,
        401
    );
    let expired = {
        let mut claims = claims.clone();
        claims["exp"] = json!(jsonwebtoken::get_current_timestamp() - 120);
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    };
    assert_eq!(s.mcp_status(&expired).await, 401);
    // Not a form: an OAuth error, not a framework's text.
    let (status, err) = s
        .json(
            s.http
                .post(format!("{}/oauth/token", s.base))
                .json(&json!({"grant_type": "authorization_code"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("invalid_request")),
        "{err}"
    );
    // Unknown grant types, and no client_id.
    let (status, err) = s
        .token(&[("grant_type", "password"), ("client_id", &client)])
        .await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, err) = s.token(&[("grant_type", "authorization_code")]).await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // Open registration cannot fill the database: with as many apps
    // waiting for a first approval as are kept, the next must wait.
    h.raw
        .exec(&format!(
            "INSERT INTO oauth_clients (id, name, redirect_uris, created_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
             SELECT 'flood' || i, 'flood', '[]', CURRENT_TIMESTAMP FROM n",
            taskflow_store::MAX_PENDING_CLIENTS
        ))
        .await;
    let refused = s
        .http
        .post(format!("{}/oauth/register", s.base))
        .json(&json!({"client_name": "late", "redirect_uris": [REDIRECT]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "3600");
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["error"], "temporarily_unavailable", "{err}");
}

async fn a_reused_refresh_token_or_a_revoked_app_ends_the_grant(h: &Harness) {
    let s = start(h).await;
    let client = s.register(REDIRECT).await;
    let query = s.request(&client, REDIRECT, "tasks:read");
    let code = s.code("alice", &query).await;
    let (_, first) = s.exchange(&client, &code).await;
    let old = first["refresh_token"].as_str().unwrap();
    let (status, second) = s.refresh(&client, old).await;
    assert_eq!(status, 200, "{second}");
    // The spent one again: refused, and the whole family with it.
    let (status, err) = s.refresh(&client, old).await;
    assert_eq!(
        (status.as_u16(), err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (_, err) = s
        .refresh(&client, second["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(err["error"], "invalid_grant", "{err}");
    assert_eq!(
        s.mcp_status(second["access_token"].as_str().unwrap()).await,
        401
    );
    // Another client cannot use alice's refresh token.
    let code = s.code("alice", &query).await;
    let (_, tokens) = s.exchange(&client, &code).await;
    let other = s.register(REDIRECT).await;
    let (_, err) = s
        .refresh(&other, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(err["error"], "invalid_grant", "{err}");

    // Revocation by the app (RFC 7009): the refresh token's grant ends.
    let code = s.code("alice", &query).await;
    let (_, tokens) = s.exchange(&client, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(s.mcp_status(access).await, 200);
    let revoked = s
        .http
        .post(format!("{}/oauth/revoke", s.base))
        .form(&[
            ("token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &client),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(s.mcp_status(access).await, 401);

    // Revocation by the person (Connected apps): every token of the agent
    // ends at once, an open session included; bob cannot revoke it.
    let code = s.code("alice", &query).await;
    let (_, tokens) = s.exchange(&client, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    let mcp = s.mcp(access).await.unwrap();
    let token = |user: &str| mint(SECRET, user, std::time::Duration::from_secs(60)).unwrap();
    let (_, apps) = s
        .json(
            s.http
                .get(format!("{}/api/connected-apps", s.base))
                .bearer_auth(token("alice")),
        )
        .await;
    let id = apps[0]["id"].as_i64().unwrap();
    let path = format!("{}/api/connected-apps/{id}", s.base);
    let bobs = s
        .http
        .delete(&path)
        .bearer_auth(token("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(bobs.status(), 404);
    assert!(mcp.list_all_tools().await.is_ok());
    let alices = s
        .http
        .delete(&path)
        .bearer_auth(token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(alices.status(), 204);
    assert!(mcp.list_all_tools().await.is_err());
    assert_eq!(s.mcp_status(access).await, 401);
    let (_, err) = s
        .refresh(&client, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(err["error"], "invalid_grant", "{err}");
    let (_, apps) = s
        .json(
            s.http
                .get(format!("{}/api/connected-apps", s.base))
                .bearer_auth(token("alice")),
        )
        .await;
    assert_eq!(apps, json!([]));
}

/// Serves app metadata documents on loopback: `/app.json` describes an app
/// as the draft asks; the others each break one rule. Their base URL.
async fn documents() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut router = axum::Router::new().route(
        "/moved.json",
        axum::routing::get(|| async { axum::response::Redirect::temporary("/app.json") }),
    );
    for (path, overrides) in [
        ("/app.json", json!({})),
        (
            "/other.json",
            json!({"client_id": "https://elsewhere.example/app.json"}),
        ),
        (
            "/secret.json",
            json!({"token_endpoint_auth_method": "client_secret_basic"}),
        ),
        ("/big.json", json!({"logo": "x".repeat(6000)})),
    ] {
        let mut body = json!({
            "client_id": format!("{base}{path}"),
            "client_name": "Doc App",
            "redirect_uris": [REDIRECT],
        });
        body.as_object_mut()
            .unwrap()
            .extend(overrides.as_object().unwrap().clone());
        router = router.route(
            path,
            axum::routing::get(move || {
                let body = body.clone();
                async move { axum::Json(body) }
            }),
        );
    }
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn an_app_known_by_its_metadata_document_connects_without_registering(h: &Harness) {
    let s = start(h).await;
    let (_, metadata) = s
        .json(
            s.http
                .get(format!("{}/.well-known/oauth-authorization-server", s.base)),
        )
        .await;
    assert_eq!(metadata["client_id_metadata_document_supported"], true);
    let docs = documents().await;
    let alice = mint(SECRET, "alice", std::time::Duration::from_secs(60)).unwrap();
    let consent = |client: &str, redirect: &str| {
        let query = s.request(client, redirect, "tasks:read");
        s.json(
            s.http
                .get(format!("{}/api/oauth/authorize", s.base))
                .query(&query)
                .bearer_auth(&alice),
        )
    };

    // Its id is its document's URL: the consent screen names it and the
    // host it was read from; no registration came first.
    let app = format!("{docs}/app.json");
    let (status, shown) = consent(&app, REDIRECT).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["client_name"], "Doc App");
    assert_eq!(shown["client_host"], "127.0.0.1");
    let code = s
        .code("alice", &s.request(&app, REDIRECT, "tasks:read"))
        .await;
    let (status, tokens) = s.exchange(&app, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let mcp = s
        .mcp(tokens["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert!(!mcp.list_all_tools().await.unwrap().is_empty());
    mcp.cancel().await.unwrap();
    let (_, apps) = s
        .json(
            s.http
                .get(format!("{}/api/connected-apps", s.base))
                .bearer_auth(&alice),
        )
        .await;
    assert_eq!(apps[0]["name"], "Doc App", "{apps}");
    assert_eq!(apps[0]["client_id"], app.as_str());

    // A redirect URI the document does not list is shown, never followed.
    let (status, err) = consent(&app, "http://127.0.0.1/elsewhere").await;
    assert_eq!(
        (status.as_u16(), err["code"].as_str()),
        (400, Some("invalid_redirect_uri"))
    );
    // Documents that break a rule: the person is told why, the app is
    // not sent anything.
    for (path, why) in [
        ("/other.json", "another client_id"),
        ("/secret.json", "client secret"),
        ("/big.json", "larger than"),
        ("/moved.json", "redirects are not followed"),
        ("/missing.json", "answered 404"),
    ] {
        let (status, err) = consent(&format!("{docs}{path}"), REDIRECT).await;
        assert_eq!(
            (status.as_u16(), err["code"].as_str()),
            (400, Some("invalid_client")),
            "{path}: {err}"
        );
        assert!(
            err["detail"].as_str().unwrap().contains(why),
            "{path}: {err}"
        );
    }
    // Not a normal URL (a dot segment), and no path at all.
    for id in [format!("{docs}/x/../app.json"), format!("{docs}/")] {
        let (status, err) = consent(&id, REDIRECT).await;
        assert_eq!(
            (status.as_u16(), err["code"].as_str()),
            (400, Some("invalid_client")),
            "{id}: {err}"
        );
    }
}
