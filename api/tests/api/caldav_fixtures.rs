//! Recorded client sequences replayed against the server: DAVx5 with
//! tasks.org, Thunderbird and Apple Reminders, each a directory of
//! `fixtures/caldav/{client}/NN-METHOD-what.http` requests (reconstructed
//! from the clients' public sources and the RFCs, each naming its source)
//! with a `.expect` beside each. `NN-REST-what.json` steps are the web app
//! acting between two client requests.
//!
//! A `.http` file: `#` comment lines, then `METHOD /path`, header lines, a
//! blank line and the body (line ends sent as CRLF). `{name}` is replaced by
//! a value set by the test or captured by an earlier step; an unknown name
//! fails the step. A `.json` file is `{"method", "path", "body"}`, sent to
//! the REST API as the user. A `.expect` file has one check a line:
//!
//! ```text
//! status 207
//! header dav contains calendar-access
//! header etag absent
//! body contains <c:comp name="VTODO"/>
//! body lacks RRULE
//! capture token body <d:sync-token> ... </d:sync-token>
//! capture etag body {href}</d:href> >> <d:getetag> ... </d:getetag>
//! capture etag header etag
//! ```
//!
//! `capture` takes the text after each `>>`-separated start in turn, up to
//! the end; `\r\n` in a check is CRLF.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::http::Method;
use base64::Engine;
use serde_json::json;
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::serve;

on_both_databases!(
    davx5_with_tasks_org_discovers_syncs_writes_and_deletes,
    thunderbird_queries_open_tasks_and_completes_an_occurrence,
    apple_reminders_edits_and_is_refused_under_a_moved_tasks_old_href,
);

/// A client's directory of steps, replayed by one user.
struct Replay {
    client: &'static str,
    api: TestApp,
    http: reqwest::Client,
    authorization: String,
    bearer: String,
    vars: HashMap<String, String>,
}

/// What one step answered.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// One step's request, placeholders filled.
struct Step {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
    rest: bool,
}

impl Replay {
    async fn new(client: &'static str, api: TestApp, user: &str) -> Replay {
        let made = api
            .call(
                Method::POST,
                "/api/app-passwords",
                user,
                Some(json!({"name": client, "scopes": ["caldav"]})),
            )
            .await;
        assert_eq!(made.status, 201, "{:?}", made.body);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            made.body["username"].as_str().unwrap(),
            made.body["password"].as_str().unwrap()
        ));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let bearer = format!("Bearer {}", api.token(user));
        let mut vars = HashMap::new();
        vars.insert("user".to_owned(), user.to_owned());
        Replay {
            client,
            api,
            http,
            authorization: format!("Basic {basic}"),
            bearer,
            vars,
        }
    }

    fn set(&mut self, name: &str, value: impl ToString) {
        self.vars.insert(name.to_owned(), value.to_string());
    }

    fn dir(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/api/fixtures/caldav")
            .join(self.client)
    }

    /// The step files (requests and REST calls) whose names start with a
    /// number in `range`, in order.
    fn steps(&self, range: std::ops::RangeInclusive<u32>) -> Vec<PathBuf> {
        let mut steps: Vec<PathBuf> = std::fs::read_dir(self.dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("http" | "json")
                )
            })
            .filter(|p| {
                let name = p.file_name().unwrap().to_str().unwrap();
                name.get(..2)
                    .and_then(|n| n.parse().ok())
                    .is_some_and(|n| range.contains(&n))
            })
            .collect();
        steps.sort();
        steps
    }

    /// Replays every step numbered in `range`.
    async fn run(&mut self, range: std::ops::RangeInclusive<u32>) {
        let steps = self.steps(range);
        assert!(!steps.is_empty(), "{}: no steps", self.client);
        for path in steps {
            if let Err(failure) = self.step(&path).await {
                panic!("{}/{}: {failure}", self.client, name(&path));
            }
        }
    }

    async fn step(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let step = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => self.rest_step(&text)?,
            _ => self.http_step(&text)?,
        };
        let expect_path = path.with_extension("expect");
        let expect = std::fs::read_to_string(&expect_path)
            .map_err(|e| format!("{}: {e}", expect_path.display()))?;
        let checks: Vec<&str> = expect
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let answer = self.send(&step).await;
        let captured = self.check(&checks, &answer).map_err(|failure| {
            format!(
                "{failure}\n--- answered {}\n{:?}\n{}",
                answer.status, answer.headers, answer.body
            )
        })?;
        self.vars.extend(captured);
        Ok(())
    }

    /// `{name}` replaced by its value; an unknown name is an error.
    fn fill(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(after.len());
            let is_placeholder = name_len > 0
                && after[..1].chars().all(|c| c.is_ascii_lowercase())
                && after[name_len..].starts_with('}');
            if is_placeholder {
                let name = &after[..name_len];
                let value = self
                    .vars
                    .get(name)
                    .ok_or_else(|| format!("placeholder {{{name}}} has no value yet"))?;
                out.push_str(value);
                rest = &after[name_len + 1..];
            } else {
                out.push('{');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn http_step(&self, text: &str) -> Result<Step, String> {
        let text = self.fill(text)?;
        let mut lines = text.lines().skip_while(|l| l.starts_with('#'));
        let request_line = lines.next().ok_or("no request line")?;
        let mut words = request_line.split_whitespace();
        let (method, path) = (
            words.next().ok_or("no method")?.to_owned(),
            words.next().ok_or("no path")?.to_owned(),
        );
        let mut headers = Vec::new();
        for line in lines.by_ref() {
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or(format!("bad header {line}"))?;
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let body: Vec<&str> = lines.collect();
        let body = match body.is_empty() {
            true => String::new(),
            false => body.join("\r\n") + "\r\n",
        };
        Ok(Step {
            method,
            path,
            headers,
            body,
            rest: false,
        })
    }

    fn rest_step(&self, text: &str) -> Result<Step, String> {
        let call: serde_json::Value =
            serde_json::from_str(&self.fill(text)?).map_err(|e| e.to_string())?;
        Ok(Step {
            method: call["method"].as_str().ok_or("no method")?.to_owned(),
            path: call["path"].as_str().ok_or("no path")?.to_owned(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: call["body"].to_string(),
            rest: true,
        })
    }

    async fn send(&self, step: &Step) -> Answer {
        let method = reqwest::Method::from_bytes(step.method.as_bytes()).unwrap();
        let authorization = match step.rest {
            true => &self.bearer,
            false => &self.authorization,
        };
        let mut request = self
            .http
            .request(method, format!("{}{}", self.api.base, step.path))
            .header("authorization", authorization)
            .body(step.body.clone());
        for (name, value) in &step.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    /// Checks `answer` against each line; the values captured.
    fn check(&self, checks: &[&str], answer: &Answer) -> Result<HashMap<String, String>, String> {
        let mut captured = HashMap::new();
        for line in checks {
            let line = self.fill(line)?.replace("\\r\\n", "\r\n");
            let header = |name: &str| {
                answer
                    .headers
                    .get(name)
                    .map(|v| v.to_str().unwrap_or_default().to_owned())
            };
            let (word, rest) = line.split_once(' ').unwrap_or((&line, ""));
            match word {
                "status" if rest == answer.status.to_string() => {}
                "status" => {
                    return Err(format!(
                        "status {} where {rest} was expected",
                        answer.status
                    ));
                }
                "header" => {
                    let (name, test) = rest.split_once(' ').ok_or(format!("bad check {line}"))?;
                    let value = header(name);
                    match (test.split_once(' '), value) {
                        (None, None) if test == "absent" => {}
                        (None, Some(_)) if test == "present" => {}
                        (Some(("contains", text)), Some(value)) if value.contains(text) => {}
                        (_, value) => {
                            return Err(format!("header {name} is {value:?}: not {test}"));
                        }
                    }
                }
                "body" => match rest.split_once(' ') {
                    Some(("contains", text)) if answer.body.contains(text) => {}
                    Some(("lacks", text)) if !answer.body.contains(text) => {}
                    _ => return Err(format!("body fails `{line}`")),
                },
                "capture" => {
                    let mut words = rest.splitn(3, ' ');
                    let (var, source, spec) = (
                        words.next().unwrap_or_default(),
                        words.next().unwrap_or_default(),
                        words.next().unwrap_or_default(),
                    );
                    let value = match source {
                        "header" => match spec.split_once(' ') {
                            None => header(spec),
                            Some((name, spec)) => {
                                header(name).and_then(|v| between(&v, spec).map(str::to_owned))
                            }
                        },
                        "body" => between(&answer.body, spec).map(str::to_owned),
                        _ => return Err(format!("bad capture {line}")),
                    };
                    let value = value.ok_or(format!("nothing to capture for `{line}`"))?;
                    captured.insert(var.to_owned(), value);
                }
                _ => return Err(format!("unknown check `{line}`")),
            }
        }
        Ok(captured)
    }
}

/// The text after each `>>`-separated start of `spec` in turn, up to its
/// end (`start >> start ... end`).
fn between<'t>(text: &'t str, spec: &str) -> Option<&'t str> {
    let (starts, end) = spec.split_once(" ... ")?;
    let mut from = 0;
    for start in starts.split(" >> ") {
        from += text[from..].find(start)? + start.len();
    }
    Some(&text[from..from + text[from..].find(end)?])
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

async fn new_list(api: &TestApp, title: &str) -> i64 {
    let made = api
        .call(
            Method::POST,
            "/api/lists",
            "alice",
            Some(json!({"title": title})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    made.body["id"].as_i64().unwrap()
}

async fn new_task(api: &TestApp, task: serde_json::Value) -> i64 {
    api.create_task("alice", task).await.ok()["id"]
        .as_i64()
        .unwrap()
}

async fn davx5_with_tasks_org_discovers_syncs_writes_and_deletes(h: &Harness) {
    let api = serve(h).await;
    let list = new_list(&api, "Groceries").await;
    let seeded = new_task(&api, json!({"title": "made on the web", "list_id": list})).await;
    let mut replay = Replay::new("davx5", api, "alice").await;
    replay.set("list", list);
    replay.set("seeded", seeded);
    replay.run(1..=99).await;
    // tasks.org's rescheduled recurring task is the completed occurrence.
    let recurring = replay
        .api
        .list_tasks("alice", &format!("list_id={list}&status=all"))
        .await
        .ok();
    let done: Vec<_> = recurring["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"] == "water the plants")
        .collect();
    assert_eq!(done.len(), 1, "{recurring}");
    assert_eq!(done[0]["completed"], true, "{recurring}");
    // Subtasks uploaded in either order are subtasks, not extras.
    let titled = |title: &str| {
        recurring["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["title"] == title)
            .unwrap_or_else(|| panic!("no {title}: {recurring}"))
            .clone()
    };
    let (trip, passport) = (titled("pack for the trip"), titled("passport"));
    assert_eq!(passport["parent"]["id"], trip["id"], "{recurring}");
}

async fn thunderbird_queries_open_tasks_and_completes_an_occurrence(h: &Harness) {
    let api = serve(h).await;
    let list = new_list(&api, "Chores").await;
    let due = |title: &str, due: &str| json!({"title": title, "list_id": list, "due": due});
    let in_range = new_task(&api, due("take out the bins", "2027-01-05")).await;
    let later = new_task(&api, due("renew passport", "2027-06-01")).await;
    let undated = new_task(&api, json!({"title": "someday", "list_id": list})).await;
    let done = new_task(&api, due("already done", "2027-01-06")).await;
    api.complete_task("alice", done).await.ok();
    let weekly = new_task(
        &api,
        json!({"title": "mop the floor", "list_id": list, "due": "2027-01-04", "recurrence": "FREQ=WEEKLY"}),
    )
    .await;
    let mut replay = Replay::new("thunderbird", api, "alice").await;
    replay.set("list", list);
    for (name, id) in [
        ("in_range", in_range),
        ("later", later),
        ("undated", undated),
        ("done", done),
        ("weekly", weekly),
    ] {
        replay.set(name, id);
    }
    replay.run(1..=99).await;
    let task = replay.api.get_task("alice", weekly).await.ok();
    assert_eq!(task["completed"], true, "{task}");
}

async fn apple_reminders_edits_and_is_refused_under_a_moved_tasks_old_href(h: &Harness) {
    let api = serve(h).await;
    let list = new_list(&api, "Reminders").await;
    let other = new_list(&api, "Work").await;
    let task = new_task(&api, json!({"title": "call the dentist", "list_id": list})).await;
    let mut replay = Replay::new("apple-reminders", api, "alice").await;
    replay.set("list", list);
    replay.set("list2", other);
    replay.set("task", task);
    replay.run(1..=99).await;
    let moved = replay.api.get_task("alice", task).await.ok();
    assert_eq!(moved["list_id"], other, "{moved}");
    assert_eq!(moved["title"], "call the dentist at 9", "{moved}");
}
