//! The tools' parameters and results. Parameters reuse the domain's own
//! request types (one definition for REST, MCP and chat), flattened beside
//! the task id where a tool needs one; unknown fields are refused.

use schemars::JsonSchema;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use taskflow_core::{CreateTask, HistoryQuery, ListQuery, SnoozeTask, Task, UpdateTask};
use taskflow_store::Error;

/// Parses a flattened parameter object: takes `key` out for the outer
/// field and gives the rest to the domain type, which refuses unknown
/// fields itself (serde's `flatten` would let them through silently).
fn split<'de, D, K, T>(
    deserializer: D,
    key: &'static str,
    required: bool,
) -> Result<(Option<K>, T), D::Error>
where
    D: Deserializer<'de>,
    K: DeserializeOwned,
    T: DeserializeOwned,
{
    let mut map = Map::<String, Value>::deserialize(deserializer)?;
    let outer = match map.remove(key) {
        Some(value) => Some(
            serde_json::from_value(value).map_err(|e| D::Error::custom(format!("`{key}`: {e}")))?,
        ),
        None if required => return Err(D::Error::missing_field(key)),
        None => None,
    };
    let inner = serde_json::from_value(Value::Object(map)).map_err(D::Error::custom)?;
    Ok((outer, inner))
}

/// `add_task`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AddTask {
    #[serde(flatten)]
    pub task: CreateTask,
    /// Any string unique to this task (such as a UUID). Retrying with the
    /// same key returns the task created the first time instead of a
    /// duplicate; reusing it for a different task is an error.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

impl<'de> Deserialize<'de> for AddTask {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (idempotency_key, task) = split(deserializer, "idempotency_key", false)?;
        Ok(Self {
            task,
            idempotency_key,
        })
    }
}

/// A task id.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRef {
    /// The task's id, from `list_tasks` or `add_task`.
    pub id: i64,
}

/// `update_task`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct UpdateTaskParams {
    /// The task's id, from `list_tasks` or `add_task`.
    pub id: i64,
    #[serde(flatten)]
    pub changes: UpdateTask,
}

impl<'de> Deserialize<'de> for UpdateTaskParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (id, changes) = split(deserializer, "id", true)?;
        Ok(Self {
            id: id.unwrap_or_default(),
            changes,
        })
    }
}

/// `snooze_task`.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SnoozeTaskParams {
    /// The task's id, from `list_tasks` or `add_task`.
    pub id: i64,
    #[serde(flatten)]
    pub snooze: SnoozeTask,
}

impl<'de> Deserialize<'de> for SnoozeTaskParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (id, snooze) = split(deserializer, "id", true)?;
        Ok(Self {
            id: id.unwrap_or_default(),
            snooze,
        })
    }
}

/// `list_tasks`: the REST list's filters; at most 50 tasks per call.
pub type ListTasks = ListQuery;

/// `recent_activity`.
pub type RecentActivity = HistoryQuery;

/// The most tasks one `list_tasks` call returns, so a result stays well
/// inside a model's tool-output budget.
pub const MAX_LIST: u32 = 50;
/// Descriptions in lists are cut to this many characters (`get_task` has
/// the whole text).
pub const LIST_DESCRIPTION_CHARS: usize = 280;

/// A page of tasks.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TaskList {
    /// The tasks, in the requested order. Long descriptions end in `…`;
    /// `get_task` returns the full text.
    pub tasks: Vec<Task>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The result of `complete_task`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Completed {
    pub task: Task,
    /// For a recurring task: the next occurrence is created right after
    /// (its `previous_id` is this task's id); `list_tasks` shows it.
    pub recurring: bool,
}

/// Makes the tools' schemas compact, so `tools/list` stays small in a
/// model's context (under 16 KB; a test holds it there): output schemas
/// keep the top-level shape (property names and types) without prose or
/// nested definitions, and no schema carries `format` (schemars' `uint32`
/// and `int64` are not JSON Schema formats; clients warn on them).
pub fn compact<S>(
    mut router: rmcp::handler::server::router::tool::ToolRouter<S>,
) -> rmcp::handler::server::router::tool::ToolRouter<S> {
    fn strip(value: &mut Value, keys: &[&str]) {
        match value {
            Value::Object(map) => {
                for key in keys {
                    // A property may be named like a keyword: only drop
                    // keyword values of the right kind.
                    if map
                        .get(*key)
                        .is_some_and(|v| v.is_string() || (*key == "required" && v.is_array()))
                    {
                        map.remove(*key);
                    }
                }
                map.values_mut().for_each(|v| strip(v, keys));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| strip(v, keys)),
            _ => {}
        }
    }
    /// Drops `$defs`; a reference becomes "any value".
    fn flatten_refs(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("$defs");
                if map.contains_key("$ref") {
                    map.clear();
                }
                map.values_mut().for_each(flatten_refs);
            }
            Value::Array(items) => items.iter_mut().for_each(flatten_refs),
            _ => {}
        }
    }
    for route in router.map.values_mut() {
        let tool = &mut route.attr;
        let mut input = Value::Object((*tool.input_schema).clone());
        strip(&mut input, &["format", "$schema"]);
        if tool.name == "list_tasks" {
            // SEP-2243: HTTP clients mirror the search into `Mcp-Param-Query`
            // (so gateways can route or log it without parsing bodies); the
            // server checks that header against the body.
            if let Some(q) = input
                .pointer_mut("/properties/q")
                .and_then(Value::as_object_mut)
            {
                q.insert("x-mcp-header".into(), Value::String("Query".into()));
                // A header carries a string: leave `q` out rather than null.
                q.insert("type".into(), Value::String("string".into()));
            }
        }
        if let Value::Object(input) = input {
            tool.input_schema = std::sync::Arc::new(input);
        }
        if let Some(output) = &tool.output_schema {
            let mut output = Value::Object((**output).clone());
            strip(
                &mut output,
                &["format", "$schema", "description", "required", "title"],
            );
            flatten_refs(&mut output);
            if let Value::Object(output) = output {
                tool.output_schema = Some(std::sync::Arc::new(output));
            }
        }
    }
    router
}

/// Shortens long descriptions for a list.
pub fn trim_for_list(mut task: Task) -> Task {
    if let Some(description) = &mut task.description
        && description.chars().count() > LIST_DESCRIPTION_CHARS
    {
        *description = description
            .chars()
            .take(LIST_DESCRIPTION_CHARS)
            .chain(['…'])
            .collect();
    }
    task
}

/// A store failure as a tool error the model can act on.
pub fn tool_error(err: Error, id: Option<i64>) -> String {
    match err {
        Error::Invalid(invalid) => format!(
            "Invalid `{}`: {}. Fix that argument and call the tool again.",
            invalid.field, invalid.reason
        ),
        Error::NotFound => match id {
            Some(id) => format!(
                "There is no task {id} for this user. Call list_tasks (with `q` to search by title) to find the right id."
            ),
            None => "Not found. Call list_tasks to see the user's tasks.".into(),
        },
        Error::Conflict { current } => format!(
            "The task changed meanwhile (it is now at version {current}). Call get_task to see it, then retry."
        ),
        Error::IdempotencyMismatch => "This idempotency_key was already used for a different task. Use a new key for a new task, or the same arguments to retry.".into(),
        Error::Unavailable(_) => "The task database is briefly unavailable; nothing was changed. Retry in a few seconds.".into(),
        Error::Internal(detail) => {
            tracing::error!(%detail, "MCP tool failed");
            "Taskflow had an internal error; nothing was changed. Retrying will not help until it is fixed.".into()
        }
    }
}
