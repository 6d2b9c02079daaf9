//! The task tools as a model sees them: each tool's name, description and
//! parameter type, and the result types. The MCP server and the chat agent's
//! tool calling both read this catalog, so a model gets the same tools with
//! the same JSON Schemas on either surface. Parameters reuse the domain's
//! request types, flattened beside the task id where a tool needs one;
//! unknown fields are refused.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::{CreateTask, HistoryQuery, ListQuery, NotificationQuery, SnoozeTask, Task, UpdateTask};

/// One tool: what a model is told about it.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    input: fn() -> Map<String, Value>,
}

impl ToolSpec {
    /// The JSON Schema (2020-12) of the tool's arguments.
    pub fn input_schema(&self) -> Map<String, Value> {
        (self.input)()
    }
}

/// Every tool, in the order a model is shown them.
pub fn catalog() -> &'static [ToolSpec] {
    const CATALOG: &[ToolSpec] = &[
        ToolSpec {
            name: "add_task",
            description: "Create a task; only `title` is required. A date-only `due` stays a whole day; with a time, always pass the user's IANA `timezone`. Pass an `idempotency_key` so a retry never creates a duplicate.",
            input: schema::<AddTask>,
        },
        ToolSpec {
            name: "list_tasks",
            description: "List the user's tasks, 20 per page by default (at most 50). Filters: `q` (words in title or description), `status` (open, completed, all; default all), `priority`, `tag`, `due_before`/`due_after` (date or RFC 3339), `overdue: true`, `sort` (due, created, priority, title; prefix `-` to reverse). Pass `next_cursor` back as `cursor` for the next page.",
            input: schema::<ListTasks>,
        },
        ToolSpec {
            name: "get_task",
            description: "Get one task by id, with its full description.",
            input: schema::<TaskRef>,
        },
        ToolSpec {
            name: "update_task",
            description: "Change some fields of a task; fields left out stay as they are, and null clears a field (description, due, recurrence, reminder). Moving `due` keeps the recurrence; a new `due` time is in `timezone` (or the task's zone).",
            input: schema::<UpdateTaskParams>,
        },
        ToolSpec {
            name: "complete_task",
            description: "Mark a task done. For a recurring task, the next occurrence is created right after (its previous_id is this task's id). Completing a done task changes nothing.",
            input: schema::<TaskRef>,
        },
        ToolSpec {
            name: "reopen_task",
            description: "Mark a completed task open again. Its next occurrence, if one was created, stays.",
            input: schema::<TaskRef>,
        },
        ToolSpec {
            name: "delete_task",
            description: "Delete a task for good (its history stays readable). Ask the user to confirm first. Returns the task as it was.",
            input: schema::<TaskRef>,
        },
        ToolSpec {
            name: "snooze_task",
            description: "Hold an open task's reminder (and overdue notice) until later: `minutes` (1–43200) or `until` (RFC 3339, at most 30 days ahead). The reminder fires again when the snooze ends. The due date does not move; use update_task to reschedule.",
            input: schema::<SnoozeTaskParams>,
        },
        ToolSpec {
            name: "list_notifications",
            description: "The user's notifications (reminders that fired, tasks that became overdue), newest first. `unread: true` for unread only; pass `next_cursor` as `cursor` for more.",
            input: schema::<NotificationQuery>,
        },
        ToolSpec {
            name: "recent_activity",
            description: "What changed recently across all the user's tasks, newest first, on every surface (app, assistant, chat, workers): who, when, which task, which fields. Pass `next_before` as `before` for older changes.",
            input: schema::<RecentActivity>,
        },
    ];
    CATALOG
}

/// The tool called `name`.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    catalog().iter().find(|spec| spec.name == name)
}

/// The input schema of `T`: JSON Schema 2020-12 without `$schema`, without
/// the type's own title and description (the tool's description says it),
/// and without `format` (schemars' `uint32` and `int64` are not JSON Schema
/// formats; clients warn on them).
fn schema<T: JsonSchema>() -> Map<String, Value> {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut value = schema.to_value();
    strip_keywords(&mut value, &["format", "$schema"]);
    match value {
        Value::Object(mut map) => {
            map.remove("title");
            map.remove("description");
            map
        }
        _ => Map::new(),
    }
}

/// Removes the keywords `keys` everywhere in a schema. A property may be
/// named like a keyword: only keyword values of the right kind go.
pub fn strip_keywords(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(map) => {
            for key in keys {
                if map
                    .get(*key)
                    .is_some_and(|v| v.is_string() || (*key == "required" && v.is_array()))
                {
                    map.remove(*key);
                }
            }
            map.values_mut().for_each(|v| strip_keywords(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_keywords(v, keys)),
        _ => {}
    }
}

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
