//! The interpreter against `tests/phrases.yaml`: each phrase with the
//! command it must produce, read at a fixed time (Wednesday 2026-03-25
//! 09:00) in Europe/Berlin.

#![allow(clippy::expect_used)] // tests panic on purpose

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use taskflow_chat::interpret::interpret;

#[derive(Debug, Deserialize)]
struct Case {
    say: String,
    #[serde(flatten)]
    expect: serde_json::Map<String, Value>,
}

fn now() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 25)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("a valid date")
}

#[test]
fn every_phrase_gives_its_command() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/phrases.yaml"))
        .expect("the phrase file");
    let cases: Vec<Case> = serde_yaml_ng::from_str(&text).expect("the phrase file parses");
    assert!(
        cases.len() >= 80,
        "at least 80 phrases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let got = serde_json::to_value(interpret(&case.say, now(), "Europe/Berlin")).expect("json");
        let mut expected = Value::Object(case.expect.clone());
        // `arguments` defaults to {} for commands on a task.
        if expected.get("op") == Some(&json!("on_task")) && expected.get("arguments").is_none() {
            expected["arguments"] = json!({});
        }
        // What the interpreter asks of a tool, the tool accepts.
        match (got["tool"].as_str(), got.get("arguments")) {
            (Some("add_task"), Some(arguments)) => {
                let task: taskflow_core::CreateTask =
                    serde_json::from_value(arguments.clone()).expect("add_task arguments");
                if let Err(err) = task.parse() {
                    failures.push(format!("{}: add_task would refuse it: {err}", case.say));
                }
            }
            (Some("list_tasks"), Some(arguments)) => {
                let query: taskflow_core::ListQuery =
                    serde_json::from_value(arguments.clone()).expect("list_tasks arguments");
                if let Err(err) = query.parse() {
                    failures.push(format!("{}: list_tasks would refuse it: {err}", case.say));
                }
            }
            _ => {}
        }
        if got != expected {
            failures.push(format!(
                "{}\n   expected {expected}\n   got      {got}",
                case.say
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} phrases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

use proptest::prelude::Strategy;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

    /// Any text, however odd, gives a command: the interpreter never panics.
    #[test]
    fn any_text_gives_a_command(
        words in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(vec![
                    "add", "complete", "mark", "as", "done", "not", "rename", "to", "move", "snooze",
                    "for", "until", "every", "other", "week", "weeks", "monday", "and", "on", "the",
                    "15th", "at", "10", "am", "pm", "10:30", "in", "2", "hours", "remind", "me",
                    "before", "high", "priority", "#work", "tagged", "\"", "'", "of", "set", "what's",
                    "due", "this", "next", "tomorrow", "times", "task", "3", "it", "delete", "find",
                    "2026-02-30", "3/45", "31st", "february", "day", "after", "end", "month",
                    "undo", "reopen", "ok", "thanks", "#3", "number",
                ]).prop_map(str::to_owned),
                "\\PC{0,12}",
            ],
            0..14,
        )
    ) {
        let text = words.join(" ");
        let _ = interpret(&text, now(), "Europe/Berlin");
        let _ = interpret(&text, now(), "America/New_York");
    }
}
