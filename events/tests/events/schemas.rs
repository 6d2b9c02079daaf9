//! The JSON Schema of every payload is a public contract: each is generated
//! with schemars and compared with the file committed under `events/schemas/`,
//! so any change is a visible diff. Regenerate with `UPDATE_SCHEMAS=1`.

use std::path::PathBuf;

use schemars::{JsonSchema, schema_for};
use taskflow_events::{
    CloudEvent, ListEventMessage, ReminderMessage, TaskEventMessage, TaskUpdate,
};

fn check<T: JsonSchema>(name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("{name}.json"));
    let generated = serde_json::to_string_pretty(&schema_for!(T)).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_SCHEMAS=1", path.display()));
    assert_eq!(
        committed, generated,
        "the {name} schema changed; review and run with UPDATE_SCHEMAS=1"
    );
}

#[test]
fn payload_schemas_match_the_committed_contracts() {
    check::<CloudEvent<TaskEventMessage>>("task-events");
    check::<CloudEvent<ListEventMessage>>("task-events.list");
    check::<CloudEvent<TaskUpdate>>("task-updates");
    check::<CloudEvent<ReminderMessage>>("reminders");
}

#[test]
fn event_types_are_versioned() {
    let names: Vec<String> = taskflow_events::TaskEventType::ALL
        .iter()
        .map(|t| t.cloud_event_type())
        .collect();
    assert_eq!(names[0], "taskflow.task.created.v1");
    assert!(names.iter().all(|n| {
        (n.starts_with("taskflow.task.") || n.starts_with("taskflow.comment."))
            && n.ends_with(".v1")
    }));
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("taskflow.comment."))
            .count(),
        3
    );
}
