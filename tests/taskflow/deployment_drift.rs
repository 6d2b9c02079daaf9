//! No drift between the deployment files and the binaries: each app of
//! `dapr/dapr.yaml` is started (its binary, its `TASKFLOW_PUBSUB`, with
//! programmatic subscriptions), and what it actually serves must match
//! `dapr/`: its `GET /dapr/subscribe` equals the Subscription resources
//! scoped to its app id (pub/sub, topic, route, dead-letter topic), its
//! health path answers, its listen port is its `appPort`, and the cron
//! binding's route answers exactly 200 on the app it is scoped to; its
//! pub/sub component is the consumer group the topology gives its role.
//! (`.ci/deploy-check` holds `chart/` to `dapr/`.)

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use taskflow::cluster::Role;
use taskflow::topology;
use taskflow_testkit::process::{Listening, exit_status, sigterm, spawn_listening};
use tokio::process::Command;

type Subscription = (String, String, String, String);

fn documents(path: &str) -> Vec<serde_yaml_ng::Value> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| serde_yaml_ng::Value::deserialize(doc).unwrap())
        .filter(|doc| !doc.is_null())
        .collect()
}

fn text(value: &serde_yaml_ng::Value, path: &[&str]) -> String {
    let mut at = value;
    for key in path {
        at = &at[*key];
    }
    match at {
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        other => other.as_str().unwrap_or_default().to_owned(),
    }
}

fn binary(app_id: &str) -> &'static str {
    match app_id {
        "taskflow-api" => env!("CARGO_BIN_EXE_taskflow-api"),
        "taskflow-sse" => env!("CARGO_BIN_EXE_taskflow-sse"),
        "taskflow-recurrence" => env!("CARGO_BIN_EXE_taskflow-recurrence"),
        "taskflow-reminders" => env!("CARGO_BIN_EXE_taskflow-reminders"),
        "taskflow-mcp" => env!("CARGO_BIN_EXE_taskflow-mcp"),
        "taskflow-webhooks" => env!("CARGO_BIN_EXE_taskflow-webhooks"),
        other => panic!("dapr/dapr.yaml names an app with no binary: {other}"),
    }
}

#[tokio::test]
async fn the_deployment_files_describe_what_the_binaries_serve() {
    let run = &documents("dapr/dapr.yaml")[0];
    let subscriptions = documents("dapr/resources/subscriptions.yaml");
    let sweep = &documents("dapr/local/reminder-sweep.yaml")[0];
    let sweep_route = sweep["spec"]["metadata"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| text(m, &["name"]) == "route")
        .map(|m| text(m, &["value"]))
        .unwrap();
    let sweep_app = text(&sweep["scopes"][0], &[]);
    let health = text(run, &["common", "appHealthCheckPath"]);
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("taskflow.db").display()
    );
    let apps = run["apps"].as_sequence().unwrap();
    assert_eq!(
        apps.len(),
        Role::ALL.len(),
        "every cluster role is in the run file"
    );

    for app in apps {
        let app_id = text(app, &["appID"]);
        let command = text(&app["command"][0], &[]);
        assert!(command.ends_with(&app_id), "{app_id} runs {command}");
        let listen = text(app, &["env", "TASKFLOW_LISTEN"]);
        assert_eq!(
            listen.rsplit(':').next().unwrap(),
            text(app, &["appPort"]),
            "{app_id}: appPort"
        );

        // Each role's consumer group is its pub/sub component.
        let role = Role::ALL
            .into_iter()
            .find(|r| r.binary() == app_id)
            .unwrap();
        for subscription in topology::of(role) {
            assert_eq!(
                text(app, &["env", "TASKFLOW_PUBSUB"]),
                subscription.group.pubsub(),
                "{app_id}: the consumer group of {:?}",
                subscription.consumer
            );
        }

        let Listening { mut child, url, .. } = spawn_listening(
            Command::new(binary(&app_id))
                .args(["--listen", "127.0.0.1:0", "--migrate"])
                .env("TASKFLOW_DATABASE_URL", &database)
                .env("TASKFLOW_JWT_SECRET", "drift-secret")
                .env("APP_API_TOKEN", "drift-token")
                .env("TASKFLOW_PUBSUB", text(app, &["env", "TASKFLOW_PUBSUB"]))
                .env("TASKFLOW_SUBSCRIPTIONS", "programmatic")
                .env("RUST_LOG", "error"),
        )
        .await;
        let client = reqwest::Client::new();
        for path in [health.as_str(), "/readyz"] {
            let status = client
                .get(format!("{url}{path}"))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 200, "{app_id} {path}");
        }
        let served: Value = client
            .get(format!("{url}/dapr/subscribe"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let served: BTreeSet<Subscription> = served
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let field = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
                (
                    field("pubsubname"),
                    field("topic"),
                    field("route"),
                    field("deadLetterTopic"),
                )
            })
            .collect();
        let declared: BTreeSet<Subscription> = subscriptions
            .iter()
            .filter(|s| {
                s["scopes"].as_sequence().is_some_and(|scopes| {
                    scopes.iter().any(|a| a.as_str() == Some(app_id.as_str()))
                })
            })
            .map(|s| {
                (
                    text(s, &["spec", "pubsubname"]),
                    text(s, &["spec", "topic"]),
                    text(s, &["spec", "routes", "default"]),
                    text(s, &["spec", "deadLetterTopic"]),
                )
            })
            .collect();
        assert_eq!(
            served, declared,
            "{app_id}: /dapr/subscribe vs dapr/resources/subscriptions.yaml"
        );
        if app_id == sweep_app {
            let swept = client
                .post(format!("{url}{sweep_route}"))
                .header("dapr-api-token", "drift-token")
                .send()
                .await
                .unwrap();
            assert_eq!(swept.status().as_u16(), 200, "{app_id} {sweep_route}");
        }
        sigterm(&child);
        assert!(
            exit_status(&mut child).await.success(),
            "{app_id} stops cleanly"
        );
    }
}
