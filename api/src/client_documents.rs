//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document;
//! the MCP authorization specification's first choice since 2025-11-25): an
//! app whose `client_id` is an https URL is described by the JSON document
//! at that URL, so it connects without registering. The document is read
//! when a person is asked to approve the app (again once a minute has
//! passed), as carefully as a webhook is sent: to public addresses only
//! (every address the name resolves to is checked, and the connection goes
//! to those), no redirects, 5 s, at most 5 KB. What it says is kept as the
//! client's row, so the token endpoint knows the app as any other.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::header;
use futures::StreamExt;
use serde::Deserialize;
use taskflow_core::webhook::reachable;
use taskflow_store::{MAX_REDIRECT_URIS, OAuthClient, TaskService};

/// The largest document read.
const MAX_DOCUMENT: usize = 5 * 1024;
/// How long reading one may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long what a document said is trusted before it is read again.
const FRESH: chrono::Duration = chrono::Duration::minutes(1);

/// Whether `client_id` is a URL, so names a metadata document (a
/// registered client's id never is).
pub fn names_document(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// Why an app named by its document cannot be trusted.
#[derive(Debug)]
pub enum Fault {
    /// The document, or its URL, is not what the draft asks for: why.
    Document(String),
    /// The store failed.
    Store(taskflow_store::Error),
}

/// What Taskflow reads of a document.
#[derive(Debug, Deserialize)]
struct Document {
    client_id: String,
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    token_endpoint_auth_method: Option<String>,
    client_secret: Option<serde_json::Value>,
}

/// The app `url` describes, read again unless it was read within a minute.
/// `insecure` (tests and development) also lets `http://` to loopback in.
pub async fn client(tasks: &TaskService, url: &str, insecure: bool) -> Result<OAuthClient, Fault> {
    if let Some(known) = tasks.client(url).await.map_err(Fault::Store)?
        && tasks.now() - known.created_at < FRESH
    {
        return Ok(known);
    }
    let document = read(url, insecure).await.map_err(Fault::Document)?;
    let name = match document.client_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => host(url).unwrap_or_default(),
    };
    tasks
        .remember_client(url, &name, &document.redirect_uris)
        .await
        .map_err(|err| match err {
            taskflow_store::Error::Invalid(invalid) => {
                Fault::Document(format!("`{}` {}", invalid.field, invalid.reason))
            }
            err => Fault::Store(err),
        })
}

/// The host a documented app is known by (None for a registered one).
pub fn host(client_id: &str) -> Option<String> {
    if !names_document(client_id) {
        return None;
    }
    url::Url::parse(client_id)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

/// Checks `url` as a client id, reads the document there and checks it.
async fn read(url: &str, insecure: bool) -> Result<Document, String> {
    let parsed = url::Url::parse(url).map_err(|err| format!("the client_id is no URL ({err})"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if insecure => {}
        _ => return Err("a client_id URL must be https".into()),
    }
    if parsed.path() == "/" || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err("a client_id URL needs a path, and no fragment or credentials".into());
    }
    if parsed.as_str() != url {
        // Dot segments, or anything else a parser would rewrite: the id
        // must be the document's URL exactly as written.
        return Err("the client_id URL is not in its normal form".into());
    }
    let host = parsed.host_str().ok_or("the client_id URL has no host")?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        _ => tokio::net::lookup_host((host, port))
            .await
            .map_err(|err| format!("`{host}` cannot be resolved ({err})"))?
            .collect(),
    };
    if addresses.is_empty() || !addresses.iter().all(|a| reachable(a.ip(), insecure)) {
        return Err(format!(
            "`{host}` resolves to a private, loopback or link-local address; app documents are read from public addresses only"
        ));
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .no_proxy()
        .https_only(!insecure)
        .resolve_to_addrs(host, &addresses)
        .user_agent(concat!("Taskflow/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| err.to_string())?;
    let answer = http
        .get(url)
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| format!("the app's document could not be read ({err})"))?;
    if answer.status() != reqwest::StatusCode::OK {
        return Err(format!(
            "the app's document answered {} (200 is needed, and redirects are not followed)",
            answer.status()
        ));
    }
    let mut body = Vec::new();
    let mut chunks = answer.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|err| format!("the app's document broke off ({err})"))?;
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(format!(
                "the app's document is larger than {MAX_DOCUMENT} bytes"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let document: Document = serde_json::from_slice(&body)
        .map_err(|err| format!("the app's document is not client metadata JSON ({err})"))?;
    if document.client_id != url {
        return Err("the app's document names another client_id than its own URL".into());
    }
    if document.client_secret.is_some()
        || document
            .token_endpoint_auth_method
            .as_deref()
            .is_some_and(|m| m != "none")
    {
        return Err(
            "the app's document declares a client secret; only public clients (token_endpoint_auth_method none) are accepted".into(),
        );
    }
    if document.redirect_uris.is_empty() || document.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(format!(
            "the app's document must list 1 to {MAX_REDIRECT_URIS} redirect_uris"
        ));
    }
    for uri in &document.redirect_uris {
        crate::oauth::redirect_allowed(uri)?;
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_https_documents_on_public_addresses_are_read() {
        for (url, why) in [
            ("http://127.0.0.1:9/app.json", "must be https"),
            ("https://127.0.0.1:9/app.json", "public addresses only"),
            ("https://10.1.2.3/app.json", "public addresses only"),
            (
                "https://169.254.169.254/latest/app.json",
                "public addresses only",
            ),
            ("https://[::1]/app.json", "public addresses only"),
            ("https://app.example/", "needs a path"),
            ("https://user@app.example/app.json", "credentials"),
            ("https://app.example/app.json#x", "fragment"),
        ] {
            let err = read(url, false).await.unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
        // http to loopback only when insecure: then it is tried (and here
        // nothing listens).
        let err = read("http://127.0.0.1:9/app.json", true).await.unwrap_err();
        assert!(err.contains("could not be read"), "{err}");
    }

    #[test]
    fn a_documented_app_is_known_by_its_host() {
        assert_eq!(
            host("https://claude.ai/oauth/mcp.json").as_deref(),
            Some("claude.ai")
        );
        assert_eq!(host("tfc_abc"), None);
    }
}
