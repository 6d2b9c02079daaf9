//! What a message asks for: the same typed requests the task tools take
//! (`CreateTask`, `ListQuery`, `UpdateTask`, `SnoozeTask`), so what the
//! reader produces is what the tool will accept or refuse — there is no
//! second spelling of a tool's arguments.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use taskflow_agent::Tool;
use taskflow_agent::tools::{
    AddComment, AddTask, CompleteTask, DeleteTask, LinkTasks, ListTasks, ManageList, MoveTask,
    RecentActivity, ReopenTask, ShareList, SnoozeTask, UpdateTask,
};
use taskflow_core::{CreateTask, Grant, LinkKind, ListQuery, WriteComment};

/// What a message asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Add a task (`add_task`).
    Add(CreateTask),
    /// Add a task whose title ends "to <words>": if the user has a list of
    /// that title, the task goes there under `in_list`'s title; otherwise
    /// it is added as read ("add milk to Groceries", "add reply to Karen").
    AddOrInList { task: CreateTask, in_list: InList },
    /// Add a subtask of the task `parent` names (`add_task` with `parent`).
    AddSubtask { task: CreateTask, parent: Target },
    /// Create a list (`manage_list`).
    NewList { title: String },
    /// A list, or a question about tasks (`list_tasks`).
    List {
        query: ListQuery,
        /// What the list shows, for the reply ("due this week").
        label: Option<String>,
        /// "How many …": the reply is the number.
        count: bool,
        /// The title of the list asked about ("what's in Groceries?"),
        /// resolved to its id before the call.
        list: Option<String>,
    },
    /// Link two tasks (`link_tasks`): `target` `kind` `other`.
    Link {
        target: Target,
        kind: LinkKind,
        other: Target,
    },
    /// A change to one task, once the task is known.
    OnTask { target: Target, change: Change },
    /// Invite someone, by their exact username, to the list of this title
    /// (`share_list`).
    Share {
        list: String,
        username: String,
        role: Grant,
    },
    /// Assign a task to someone too (`update_task`, with them added to its
    /// `assignees` once the agent knows who they are).
    Assign { target: Target, username: String },
    /// Comment on a task (`add_comment`).
    Comment { target: Target, body: String },
    /// What someone changed, today or lately (`recent_activity`, their
    /// changes only).
    ChangesBy { username: String, today: bool },
    /// An answer to "which one?".
    Choose { pick: Pick },
    /// "help", "what can you do".
    Help,
    /// A greeting or thanks.
    Smalltalk,
    /// Something date-, time-, repeat- or priority-like could not be placed,
    /// or the message is ambiguous: ask, and write nothing.
    Ask { question: String },
    /// Understood, but it cannot be done as said ("repeat 20000 times").
    Refuse { reason: String },
    /// Nothing understood.
    Unknown,
}

/// The reading of an add whose title ends "to <words>" if those words name
/// a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InList {
    /// The list's title, as typed.
    pub list: String,
    /// The task's title without "to <list>".
    pub title: String,
}

/// A change to one task.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Complete,
    Reopen,
    Delete,
    /// `update_task`'s fields besides the id.
    Update(taskflow_core::UpdateTask),
    /// `snooze_task`'s fields besides the id.
    Snooze(taskflow_core::SnoozeTask),
    /// `move_task`'s fields besides the id.
    Move(taskflow_core::MoveTask),
}

impl Change {
    /// The tool that makes the change.
    pub fn tool(&self) -> &'static str {
        match self {
            Change::Complete => CompleteTask::NAME,
            Change::Reopen => ReopenTask::NAME,
            Change::Delete => DeleteTask::NAME,
            Change::Update(_) => UpdateTask::NAME,
            Change::Snooze(_) => SnoozeTask::NAME,
            Change::Move(_) => MoveTask::NAME,
        }
    }

    /// The tool's arguments besides the task id.
    pub fn arguments(&self) -> Value {
        match self {
            Change::Complete | Change::Reopen | Change::Delete => json!({}),
            Change::Update(update) => json(update),
            Change::Snooze(snooze) => json(snooze),
            Change::Move(to) => json(to),
        }
    }
}

impl Command {
    /// The command, or a refusal with the tool's own reason when the tool
    /// would refuse it: the reader never hands a tool what it rejects.
    pub fn checked(self) -> Command {
        let refused = match &self {
            Command::Add(task)
            | Command::AddOrInList { task, .. }
            | Command::AddSubtask { task, .. } => task.parse().err(),
            Command::NewList { title } => taskflow_core::Title::parse(title).err(),
            Command::List { query, .. } => query.parse().err(),
            Command::OnTask { change, .. } => change.check().err(),
            Command::Comment { body, .. } => WriteComment { body: body.clone() }.parse().err(),
            _ => None,
        };
        match refused {
            Some(invalid) => Command::Refuse {
                reason: invalid.reason,
            },
            None => self,
        }
    }
}

impl Change {
    /// What the tool checks of the request itself, before it looks at the
    /// task: an update's fields, a snooze's length.
    fn check(&self) -> Result<(), taskflow_core::Invalid> {
        match self {
            Change::Update(update) => {
                let any = CreateTask {
                    title: "a task".into(),
                    ..CreateTask::default()
                }
                .parse()?;
                update.apply(&any).map(|_| ())
            }
            Change::Snooze(snooze) => snooze.until(chrono::DateTime::UNIX_EPOCH).map(|_| ()),
            Change::Move(to) => to.place().spot(taskflow_core::Spot::Bottom).map(|_| ()),
            Change::Complete | Change::Reopen | Change::Delete => Ok(()),
        }
    }
}

/// A request as its tool's JSON arguments.
pub fn json<T: Serialize>(request: &T) -> Value {
    serde_json::to_value(request).unwrap_or(Value::Null)
}

/// Which task a command is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// "task 3", "#3".
    Id(i64),
    /// A bare "3": the third task of the list last shown, or else task 3.
    Number(i64),
    /// "it", "that": the task of the last reply.
    Last,
    /// Words of the title: "the meeting task" → "meeting".
    Title(String),
}

/// An answer to "which one?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    Nth(usize),
    Id(i64),
}

/// The phrase files' form: `{op, tool, arguments, target, …}` (see
/// `chat/READING.md`).
impl Serialize for Command {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Command::Add(task) => {
                map.serialize_entry("op", "call")?;
                map.serialize_entry("tool", AddTask::NAME)?;
                map.serialize_entry("arguments", task)?;
            }
            Command::AddOrInList { task, in_list } => {
                map.serialize_entry("op", "call")?;
                map.serialize_entry("tool", AddTask::NAME)?;
                map.serialize_entry("arguments", task)?;
                map.serialize_entry("in_list", in_list)?;
            }
            Command::AddSubtask { task, parent } => {
                map.serialize_entry("op", "call")?;
                map.serialize_entry("tool", AddTask::NAME)?;
                map.serialize_entry("arguments", task)?;
                map.serialize_entry("parent", parent)?;
            }
            Command::NewList { title } => {
                map.serialize_entry("op", "call")?;
                map.serialize_entry("tool", ManageList::NAME)?;
                map.serialize_entry("arguments", &json!({"action": "create", "title": title}))?;
            }
            Command::List {
                query,
                label,
                count,
                list,
            } => {
                map.serialize_entry("op", "call")?;
                map.serialize_entry("tool", ListTasks::NAME)?;
                map.serialize_entry("arguments", query)?;
                if let Some(label) = label {
                    map.serialize_entry("label", label)?;
                }
                if *count {
                    map.serialize_entry("count", &true)?;
                }
                if let Some(list) = list {
                    map.serialize_entry("list", list)?;
                }
            }
            Command::Link {
                target,
                kind,
                other,
            } => {
                map.serialize_entry("op", "link")?;
                map.serialize_entry("tool", LinkTasks::NAME)?;
                map.serialize_entry("target", target)?;
                map.serialize_entry("other", other)?;
                map.serialize_entry("arguments", &json!({"kind": kind}))?;
            }
            Command::OnTask { target, change } => {
                map.serialize_entry("op", "on_task")?;
                map.serialize_entry("tool", change.tool())?;
                map.serialize_entry("target", target)?;
                map.serialize_entry("arguments", &change.arguments())?;
            }
            Command::Share {
                list,
                username,
                role,
            } => {
                map.serialize_entry("op", "call")?;
                map.serialize_entry("tool", ShareList::NAME)?;
                map.serialize_entry("arguments", &json!({"username": username, "role": role}))?;
                map.serialize_entry("list", list)?;
            }
            Command::Assign { target, username } => {
                map.serialize_entry("op", "assign")?;
                map.serialize_entry("tool", UpdateTask::NAME)?;
                map.serialize_entry("target", target)?;
                map.serialize_entry("arguments", &json!({"username": username}))?;
            }
            Command::Comment { target, body } => {
                map.serialize_entry("op", "on_task")?;
                map.serialize_entry("tool", AddComment::NAME)?;
                map.serialize_entry("target", target)?;
                map.serialize_entry("arguments", &json!({"body": body}))?;
            }
            Command::ChangesBy { username, today } => {
                map.serialize_entry("op", "activity")?;
                map.serialize_entry("tool", RecentActivity::NAME)?;
                map.serialize_entry("arguments", &json!({"username": username, "today": today}))?;
            }
            Command::Choose { pick } => {
                map.serialize_entry("op", "choose")?;
                map.serialize_entry("pick", pick)?;
            }
            Command::Help => map.serialize_entry("op", "help")?,
            Command::Smalltalk => map.serialize_entry("op", "smalltalk")?,
            Command::Ask { question } => {
                map.serialize_entry("op", "ask")?;
                map.serialize_entry("question", question)?;
            }
            Command::Refuse { reason } => {
                map.serialize_entry("op", "refuse")?;
                map.serialize_entry("reason", reason)?;
            }
            Command::Unknown => map.serialize_entry("op", "unknown")?,
        }
        map.end()
    }
}
