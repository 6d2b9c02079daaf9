//! What a tool is: the [`Tool`] trait, its [`Hints`], the [`Context`] it
//! acts in, and the sentences a failure becomes so a model can act on it.

use std::future::Future;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use taskflow_core::Scope;
use taskflow_store::{Actor, Error, TaskService};

/// A tool's outcome: its result, or a sentence for the model saying what to
/// do next.
pub type ToolResult<T> = std::result::Result<T, String>;

/// What calling a tool may do, as MCP's tool annotations say it. Taskflow's
/// tools touch only the user's own tasks: none is open-world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// It changes nothing.
    pub read_only: bool,
    /// It may overwrite or remove what is there (meaningful for writes).
    pub destructive: bool,
    /// Calling it again with the same arguments changes nothing more.
    pub idempotent: bool,
}

impl Hints {
    /// A read.
    pub const READ: Hints = Hints {
        read_only: true,
        destructive: false,
        idempotent: true,
    };
}

/// A group of tools an MCP client turns on (`--toolsets`, or `?toolsets=`
/// on the HTTP endpoint). `tasks` is always on; the others keep the
/// default listing small in a model's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Toolset {
    /// Tasks and lists day to day: add, find, read, change, complete,
    /// delete and move tasks, see the lists.
    Tasks,
    /// Manage lists, link tasks.
    Lists,
    /// Reopen and snooze tasks, notifications and recent activity.
    Extras,
    /// Share lists: invite people, answer invitations, change or remove
    /// members, give a list away.
    Members,
}

impl Toolset {
    /// Every set, in order.
    pub const ALL: [Toolset; 4] = [
        Toolset::Tasks,
        Toolset::Lists,
        Toolset::Extras,
        Toolset::Members,
    ];

    /// The name a client gives.
    pub fn as_str(self) -> &'static str {
        match self {
            Toolset::Tasks => "tasks",
            Toolset::Lists => "lists",
            Toolset::Extras => "extras",
            Toolset::Members => "members",
        }
    }

    /// Reads comma-separated names (`all` for every set); `tasks` is always
    /// in the result.
    pub fn parse_list(text: &str) -> Result<Vec<Toolset>, String> {
        let mut sets = vec![Toolset::Tasks];
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("all") {
                return Ok(Toolset::ALL.to_vec());
            }
            let set = Toolset::ALL
                .into_iter()
                .find(|s| s.as_str().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!("`{name}` is not a tool set; use tasks, lists, extras, members or all")
                })?;
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
        sets.sort();
        Ok(sets)
    }
}

/// The scope a tool needs unless it says otherwise: `tasks:read` to read;
/// to write, `lists:write` in the lists and members sets, else
/// `tasks:write`.
pub const fn scope_of(set: Toolset, hints: Hints) -> Scope {
    if hints.read_only {
        return Scope::TasksRead;
    }
    match set {
        Toolset::Lists | Toolset::Members => Scope::ListsWrite,
        Toolset::Tasks | Toolset::Extras => Scope::TasksWrite,
    }
}

/// Who a tool acts for, and on what.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub tasks: &'a TaskService,
    pub actor: &'a Actor,
}

impl Context<'_> {
    /// The user the tool acts for.
    pub fn user(&self) -> &str {
        &self.actor.user
    }
}

/// One tool a model can call: everything about it in one place.
pub trait Tool: Send + Sync + std::fmt::Debug + 'static {
    /// The name a model calls it by, such as `add_task`.
    const NAME: &'static str;
    /// A short human title, such as "Add task".
    const TITLE: &'static str;
    /// What a model is told about it. Every limit it states must match the
    /// parameter schema (a test holds them together).
    const DESCRIPTION: &'static str;
    const HINTS: Hints;
    /// The set it belongs to (MCP lists only the sets a client turned on).
    const TOOLSET: Toolset = Toolset::Tasks;
    /// The scope an agent's token needs to call it.
    const SCOPE: Scope = scope_of(Self::TOOLSET, Self::HINTS);
    /// Its arguments; unknown fields are refused.
    type Params: DeserializeOwned + JsonSchema + Send + Sync;
    /// Its result.
    type Output: Serialize + JsonSchema + Send;

    /// Whether it may ask the user first (see [`Tool::confirm`]).
    const CONFIRMS: bool = false;

    /// The question to put to the user before running, for a change they
    /// may not want made unasked (None: just run); only asked of a tool
    /// that `CONFIRMS`. MCP asks it by elicitation where the client can
    /// answer one.
    fn confirm(
        &self,
        on: Context<'_>,
        params: &Self::Params,
    ) -> impl Future<Output = Option<String>> + Send {
        let _ = (on, params);
        async { None }
    }

    /// Runs the tool.
    fn run(
        &self,
        on: Context<'_>,
        params: Self::Params,
    ) -> impl Future<Output = ToolResult<Self::Output>> + Send;
}

/// The title of list `id` as the user sees it, for a question to them
/// (None: they do not reach it, and running the tool will say so; "list
/// N" when it cannot be read just now).
pub async fn list_title(on: Context<'_>, id: i64) -> Option<String> {
    match on.tasks.get_list(on.actor, id).await {
        Ok(list) => Some(list.list.title),
        Err(Error::NotFound | Error::NoSuchList { .. }) => None,
        Err(_) => Some(format!("list {id}")),
    }
}

/// A store failure as a sentence the model can act on; `id` is the task
/// the tool was given, if any.
pub fn failure(err: Error, id: Option<i64>) -> String {
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
        Error::NoSuchList { field } => format!(
            "There is no such list for this user (`{field}`). Call list_lists to see the user's lists."
        ),
        Error::Forbidden { needed } => format!(
            "The user's role in this shared list does not allow that (it needs {}). Do not retry; tell the user who can change their role: the list's owner or an admin.",
            needed.as_str()
        ),
        Error::NoSuchUser { field } => format!(
            "No user has that username (`{field}`). Usernames match exactly, case included; ask the user for the exact one."
        ),
        Error::AssigneeNotMember { user } => format!(
            "`{user}` is not a member of the task's list, so the task cannot be assigned to them. Call list_members for the list to see whom it can be assigned to (their user ids)."
        ),
        Error::Refused { code, detail, .. } => format!("Refused ({code}): {detail}."),
        Error::CursorExpired { latest, .. } => format!(
            "That cursor is older than the changes still held. Read the tasks again, then follow from {latest}."
        ),
        Error::ImportInvalid(problems) => {
            let named: Vec<String> = problems
                .iter()
                .take(5)
                .map(|p| format!("`{}`: {}", p.field, p.reason))
                .collect();
            format!(
                "Nothing was imported: {} entries are at fault, such as {}. Fix them and try again.",
                problems.len(),
                named.join("; ")
            )
        }
        Error::IdempotencyMismatch => "This idempotency_key was already used for a different task. Use a new key for a new task, or the same arguments to retry.".into(),
        Error::Unavailable(_) => "The task database is briefly unavailable; nothing was changed. Retry in a few seconds.".into(),
        Error::Internal(detail) => {
            tracing::error!(%detail, "task tool failed");
            "Taskflow had an internal error; nothing was changed. Retrying will not help until it is fixed.".into()
        }
    }
}
