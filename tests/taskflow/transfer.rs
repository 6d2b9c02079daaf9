//! `taskflow export` and `taskflow import` as a person runs them: a Todoist
//! CSV into a new list, its export restored into another account (the same
//! tasks, field by field), a second restore refused, a bad file named line
//! by line with nothing written — on both databases.

use std::path::Path;

use serde_json::Value;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;
use tokio::process::Command;

on_both_databases!(export_and_import_from_the_command_line);

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/api/tests/api/fixtures/todoist.csv"
);

/// Runs `taskflow <args>` on the harness's database; (success, stdout,
/// stderr).
async fn taskflow(h: &Harness, dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_taskflow"))
        .args(args)
        .env("TASKFLOW_DATA_DIR", dir)
        .env("TASKFLOW_DATABASE_URL", &h.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

async fn export_of(h: &Harness, dir: &Path, user: &str) -> Value {
    let (ok, out, err) = taskflow(h, dir, &["export", "--user", user]).await;
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// The tasks of an export as (title, list title, parent title, fields),
/// without ids.
fn tasks(doc: &Value) -> Vec<Value> {
    let title_of = |part: &str, id: &Value| {
        doc[part]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| &e["id"] == id)
            .map(|e| e["title"].clone())
            .unwrap_or(Value::Null)
    };
    let mut tasks: Vec<Value> = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t["list"] = title_of("lists", &t["list_id"]);
            t["parent"] = title_of("tasks", &t["parent_id"]);
            for id in ["id", "list_id", "parent_id"] {
                t.as_object_mut().unwrap().remove(id);
            }
            t
        })
        .collect();
    tasks.sort_by_key(|t| t.to_string());
    tasks
}

async fn export_and_import_from_the_command_line(h: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let import = ["import", "--user", "ann", "--todoist", "--list", "Party"];
    let args: Vec<&str> = import
        .into_iter()
        .chain([FIXTURE, "--timezone", "Europe/Berlin"])
        .collect();
    let (ok, out, err) = taskflow(h, dir, &args).await;
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["lists"].as_i64(), report["tasks"].as_i64()),
        (Some(2), Some(6))
    );

    let backup = export_of(h, dir, "ann").await;
    assert_eq!(backup["tasks"].as_array().unwrap().len(), 6);
    assert_eq!(backup["comments"].as_array().unwrap().len(), 2);
    let plan = backup["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Plan the party");
    let plan = plan.unwrap();
    assert_eq!(
        (&plan["description"], &plan["priority"]),
        (&Value::from("Guests, food, music"), &Value::from("high"))
    );
    let file = dir.join("backup.json");
    std::fs::write(&file, backup.to_string()).unwrap();
    let file = file.to_str().unwrap();

    let (ok, out, err) = taskflow(h, dir, &["import", "--user", "ben", "--dry-run", file]).await;
    assert!(ok, "{err}");
    assert!(out.contains("\"dry_run\": true"), "{out}");
    assert_eq!(
        export_of(h, dir, "ben").await["tasks"],
        Value::Array(vec![])
    );
    let (ok, _, err) = taskflow(h, dir, &["import", "--user", "ben", file]).await;
    assert!(ok, "{err}");
    let restored = export_of(h, dir, "ben").await;
    assert_eq!(tasks(&restored), tasks(&backup));

    let (ok, _, err) = taskflow(h, dir, &["import", "--user", "ben", file]).await;
    assert!(!ok);
    assert!(err.contains("no lists or tasks yet"), "{err}");

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "TYPE,CONTENT,PRIORITY\ntask,Fine,1\ntask,Odd,7\n").unwrap();
    let bad = bad.to_str().unwrap();
    let (ok, _, err) = taskflow(h, dir, &["import", "--user", "cy", "--todoist", bad]).await;
    assert!(!ok);
    assert!(err.contains("line 3.PRIORITY"), "{err}");
    assert_eq!(
        export_of(h, dir, "cy").await["lists"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
