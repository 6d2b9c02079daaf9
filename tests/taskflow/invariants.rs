//! Architecture invariants as tests (rust-analyzer's "tidy" habit): what
//! ARCHITECTURE.md promises about the code's shape is checked here, so a
//! change that breaks a promise fails the suite instead of the prose going
//! stale.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use taskflow_testkit::process::{sigterm, spawn_listening};

/// The workspace root (this package's directory).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// The workspace's packages with their normal (not dev) dependencies on
/// other packages of ours, from `cargo metadata`.
fn crate_graph() -> BTreeMap<String, BTreeSet<String>> {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let ours: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null()) // normal, not dev or build
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|name| ours.contains(name) || !name.starts_with("taskflow"))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

/// Architecture invariant: dependencies point one way (DESIGN §2, §7).
/// Each crate of ours has a layer; a crate depends only on crates of lower
/// layers, so no edge imports another edge (code two edges share lives in a
/// crate below both, like `taskflow-auth`). Only the store (and test
/// support) uses sqlx; `core` uses no HTTP, SQL, MCP or Dapr library.
#[test]
fn the_crate_graph_points_one_way() {
    let layer = |name: &str| match name {
        "taskflow-core" => 0,
        "taskflow-auth" | "taskflow-events" => 1,
        "taskflow-store" => 2,
        "taskflow-agent" => 3,
        "taskflow-chat" => 4,
        "taskflow-api" | "taskflow-mcp" | "taskflow-workers" => 5,
        "taskflow-testkit" => 6,
        "taskflow-bench" | "taskflow" => 7,
        other => panic!("crate {other} has no layer here: give it one"),
    };
    let graph = crate_graph();
    let mut wrong = Vec::new();
    for (name, deps) in &graph {
        for dep in deps.iter().filter(|d| d.starts_with("taskflow")) {
            if layer(dep) >= layer(name) {
                wrong.push(format!("{name} → {dep}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies that point up or across: {wrong:?}"
    );
    // The edges are imported by the CLI alone.
    for edge in ["taskflow-api", "taskflow-mcp", "taskflow-workers"] {
        let importers: Vec<_> = graph
            .iter()
            .filter(|(_, deps)| deps.contains(edge))
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(
            importers.iter().all(|&n| n == "taskflow"),
            "{edge} is imported by {importers:?}"
        );
    }
    // All SQL lives in the store (test support and the bench's raw-SQL
    // limits aside).
    let sql: Vec<_> = graph
        .iter()
        .filter(|(_, deps)| deps.contains("sqlx"))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        sql,
        ["taskflow-bench", "taskflow-store", "taskflow-testkit"],
        "crates that depend on sqlx"
    );
    let forbidden = ["axum", "hyper", "sqlx", "rmcp", "reqwest", "tower"];
    let core = &graph["taskflow-core"];
    assert!(
        core.iter().all(|d| !forbidden.contains(&d.as_str())),
        "core depends on {core:?}"
    );
}

/// The statements that write a table: `INSERT INTO`, `UPDATE` or
/// `DELETE FROM` it, as SQL text in Rust source.
fn writes_table(source: &str, table: &str) -> bool {
    let upper = source.to_uppercase();
    let table = table.to_uppercase();
    ["INSERT INTO ", "UPDATE ", "DELETE FROM "]
        .iter()
        .any(|verb| {
            upper.match_indices(verb).any(|(at, _)| {
                let rest = &upper[at + verb.len()..];
                rest.starts_with(&table)
                    && !rest[table.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            })
        })
}

/// Architecture invariant: only `store/src/tasks/` writes the `tasks`
/// table, so every change of a task goes through the code that appends its
/// event. (The bench's raw-SQLite limit and test fault injection are not
/// product code and are not scanned.)
#[test]
fn only_the_tasks_module_writes_tasks() {
    let allowed = root().join("store/src/tasks");
    let mut writers = Vec::new();
    for src in product_sources() {
        for file in rust_files(&src) {
            if file.starts_with(&allowed) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            if writes_table(&text, "tasks") {
                writers.push(file.strip_prefix(root()).unwrap().display().to_string());
            }
        }
    }
    assert!(
        writers.is_empty(),
        "files outside store/src/tasks write `tasks`: {writers:?}"
    );
    assert!(
        rust_files(&allowed)
            .iter()
            .any(|f| writes_table(&std::fs::read_to_string(f).unwrap(), "tasks")),
        "the scan finds the tasks module's own writes (else it finds nothing)"
    );
}

/// The product crates' source directories.
fn product_sources() -> Vec<PathBuf> {
    [
        "core", "events", "store", "auth", "agent", "api", "chat", "mcp", "workers",
    ]
    .iter()
    .map(|d| root().join(d).join("src"))
    .chain([root().join("src")])
    .collect()
}

/// Architecture invariant: events are never rewritten, and deleted only by
/// retention: no product code but `store/src/retention.rs` deletes from
/// `task_events`, and the only update of it is the relay's mark
/// (`SET published_at`), in `store/src/outbox/`.
#[test]
fn events_are_never_rewritten_and_only_retention_deletes_them() {
    let mut wrong = Vec::new();
    for file in product_sources().iter().flat_map(|dir| rust_files(dir)) {
        let text = std::fs::read_to_string(&file).unwrap().to_uppercase();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        if text.contains("DELETE FROM TASK_EVENTS") && name != "store/src/retention.rs" {
            wrong.push(format!("{name} deletes events"));
        }
        for (at, _) in text.match_indices("UPDATE TASK_EVENTS") {
            let rest = text[at + "UPDATE TASK_EVENTS".len()..].trim_start();
            if !name.starts_with("store/src/outbox/") || !rest.starts_with("SET PUBLISHED_AT") {
                wrong.push(format!("{name} rewrites events"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

/// Architecture invariant: one publication path. Only the relay hands
/// messages to a `Publisher`; the transports implement it and the process
/// wiring gives the relay one. No handler, worker or surface can publish.
#[test]
fn only_the_relay_publishes() {
    let allowed = [
        "store/src/outbox/relay.rs",
        "src/serve.rs",
        "src/cluster.rs",
        "events/src/lib.rs",
        "events/src/transport.rs",
        "events/src/bus.rs",
        "events/src/dapr.rs",
    ];
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in product_sources().iter().flat_map(|dir| rust_files(dir)) {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        if std::fs::read_to_string(&file)
            .unwrap()
            .contains("Publisher")
        {
            seen += 1;
            if !allowed.contains(&name.as_str()) {
                wrong.push(name);
            }
        }
    }
    assert!(wrong.is_empty(), "modules that can publish: {wrong:?}");
    assert!(seen >= 3, "the scan finds the relay and the transports");
}

/// Architecture invariant: every Rust module opens with a `//!` header that
/// says what it is for.
#[test]
fn every_module_has_a_header() {
    let mut missing = Vec::new();
    for dir in [
        "core", "events", "store", "auth", "agent", "api", "chat", "mcp", "workers", "testkit",
    ]
    .iter()
    .map(|d| root().join(d))
    .chain([
        root().join("src"),
        root().join("tests"),
        root().join("bench"),
    ]) {
        for file in rust_files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if !first.starts_with("//!") {
                missing.push(file.strip_prefix(root()).unwrap().display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules without a //! header: {missing:?}"
    );
}

/// Answers that are deliberately not problem details, each with its reason.
fn excepted(method: &str, path: &str, status: u16) -> bool {
    // The MCP endpoint's 401 follows RFC 6750 and the MCP authorization
    // specification (`{"error": "invalid_token", …}` with a
    // `WWW-Authenticate` pointing at the protected-resource metadata): MCP
    // clients read those fields. (Dapr's delivery routes and the cron sweep
    // route, mounted only in cluster roles, answer Dapr, which reads only
    // the status.)
    path.starts_with("/mcp") && status == 401 && method == "POST"
}

/// Architecture invariant: every error answer of `taskflow serve` is
/// `application/problem+json`, whatever route and whatever went wrong:
/// every operation of the OpenAPI document is called without a token, with
/// a body that is not JSON, with an id that does not exist and with a bad
/// query, plus unknown paths, a wrong method and the MCP endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_problem_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_taskflow"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TASKFLOW_DATA_DIR", dir.path())
        .env_remove("TASKFLOW_DATABASE_URL")
        .env_remove("TASKFLOW_JWT_SECRET")
        .env("RUST_LOG", "error");
    let server = spawn_listening(&mut command).await;
    let token = server
        .printed
        .iter()
        .find(|l| l.starts_with("ey"))
        .cloned()
        .expect("serve prints a token");
    let base = server.url.clone();
    let client = reqwest::Client::new();
    let document: Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut calls: Vec<(String, String, bool, Option<&str>)> = vec![
        ("GET".into(), "/api/does-not-exist".into(), true, None),
        ("GET".into(), "/does-not-exist".into(), true, None),
        ("DELETE".into(), "/api/tasks".into(), true, None),
        ("POST".into(), "/mcp".into(), false, Some("{}")),
    ];
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let missing = path.replace("{id}", "999999999");
            let bad_id = path.replace("{id}", "not-a-number");
            calls.push((method.clone(), missing.clone(), false, None));
            calls.push((method.clone(), missing.clone(), true, Some("{not json")));
            calls.push((method.clone(), bad_id, true, None));
            calls.push((
                method.clone(),
                format!("{missing}?limit=-1&sort=sideways"),
                true,
                None,
            ));
        }
    }
    let operations = calls.len() / 4;
    let mut errors = 0;
    let mut wrong = Vec::new();
    for (method, path, authorized, body) in &calls {
        let mut request = client.request(method.parse().unwrap(), format!("{base}{path}"));
        if *authorized {
            request = request.bearer_auth(&token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status < 400 || excepted(method, path, status) {
            continue;
        }
        errors += 1;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !content_type.starts_with("application/problem+json") || !body["code"].is_string() {
            wrong.push(format!("{method} {path} → {status} {content_type}"));
        }
    }
    sigterm(&server.child);
    // At the least, every operation but the few public ones refuses a call
    // without a token.
    assert!(
        errors >= operations,
        "the probe met only {errors} errors over {operations} operations: is it still probing?"
    );
    assert!(
        wrong.is_empty(),
        "error answers that are not problems with a code: {wrong:#?}"
    );
}
