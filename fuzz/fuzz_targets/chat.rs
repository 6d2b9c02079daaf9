//! The chat interpreter: any message, read at a few moments (a DST change
//! among them) and in a few zones, gives a command without panicking, and
//! what it would ask of `add_task` is well-formed JSON for the tool.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use taskflow_chat::interpret::{Command, interpret};

fuzz_target!(|text: &str| {
    let moments = [
        NaiveDate::from_ymd_opt(2026, 3, 29).and_then(|d| d.and_hms_opt(1, 30, 0)),
        NaiveDate::from_ymd_opt(2026, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 0)),
        NaiveDate::from_ymd_opt(2028, 2, 29).and_then(|d| d.and_hms_opt(9, 0, 0)),
    ];
    for now in moments.into_iter().flatten() {
        for zone in ["Europe/Berlin", "UTC", "Australia/Lord_Howe"] {
            if let Command::Call {
                tool: "add_task",
                arguments,
                ..
            } = interpret(text, now, zone)
            {
                let parsed = serde_json::from_value::<taskflow_core::CreateTask>(arguments);
                assert!(
                    parsed.is_ok(),
                    "{text}: add_task arguments do not fit the tool"
                );
            }
        }
    }
});
