//! Due dates and whole task inputs: `Due::parse` in a few zones (DST gaps
//! and folds included), and a create request built from the same text
//! parses or is refused with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskflow_core::{CreateTask, Due, Zone};

fuzz_target!(|text: &str| {
    for name in [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Pacific/Chatham",
        "Asia/Kolkata",
    ] {
        let zone = Zone::parse(name, "timezone").expect("a known zone");
        if let Ok(due) = Due::parse(text, zone) {
            let _ = (due.instant(), due.deadline(), due.local_text());
        }
    }
    let task = CreateTask {
        title: "fuzz".into(),
        due: Some(text.to_owned()),
        timezone: Some(text.to_owned()).filter(|t| t.contains('/')),
        recurrence: Some("FREQ=MONTHLY;COUNT=3".into()),
        ..CreateTask::default()
    };
    let _ = task.parse();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
        && let Ok(task) = serde_json::from_value::<CreateTask>(value)
    {
        let _ = task.parse();
    }
});
