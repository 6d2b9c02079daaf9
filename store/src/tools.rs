//! The task tools of `taskflow_core::tools`, carried out on the
//! [`TaskService`] for one actor: the MCP server calls the typed methods,
//! the chat agent calls [`Tools::call`] with a tool name and JSON arguments.
//! Either way a failure is a sentence a model can act on.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use taskflow_core::tools::{
    AddTask, Completed, MAX_LIST, RecentActivity, SnoozeTaskParams, TaskList, TaskRef,
    UpdateTaskParams, trim_for_list,
};
use taskflow_core::{ListQuery, NotificationPage, NotificationQuery, Task};
use taskflow_events::HistoryPage;

use crate::{Actor, Error, TaskService};

/// A tool's outcome: its result, or an error for the model.
pub type ToolResult<T> = std::result::Result<T, String>;

/// The tools, acting for one actor.
#[derive(Debug, Clone, Copy)]
pub struct Tools<'a> {
    tasks: &'a TaskService,
    actor: &'a Actor,
}

impl<'a> Tools<'a> {
    /// The tools of `actor` on `tasks`.
    pub fn new(tasks: &'a TaskService, actor: &'a Actor) -> Self {
        Self { tasks, actor }
    }

    fn user(&self) -> &str {
        &self.actor.user
    }

    /// Calls tool `name` with JSON `arguments` and returns its JSON result.
    pub async fn call(&self, name: &str, arguments: Value) -> ToolResult<Value> {
        match name {
            "add_task" => json(self.add_task(args(name, arguments)?).await),
            "list_tasks" => json(self.list_tasks(args(name, arguments)?).await),
            "get_task" => json(self.get_task(args(name, arguments)?).await),
            "update_task" => json(self.update_task(args(name, arguments)?).await),
            "complete_task" => json(self.complete_task(args(name, arguments)?).await),
            "reopen_task" => json(self.reopen_task(args(name, arguments)?).await),
            "delete_task" => json(self.delete_task(args(name, arguments)?).await),
            "snooze_task" => json(self.snooze_task(args(name, arguments)?).await),
            "list_notifications" => json(self.list_notifications(args(name, arguments)?).await),
            "recent_activity" => json(self.recent_activity(args(name, arguments)?).await),
            _ => Err(format!(
                "There is no tool `{name}`. The tools are: {}.",
                taskflow_core::tools::catalog()
                    .iter()
                    .map(|spec| spec.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    pub async fn add_task(&self, args: AddTask) -> ToolResult<Task> {
        let created = self
            .tasks
            .create(self.actor, &args.task, args.idempotency_key.as_deref())
            .await;
        created.map_err(|e| tool_error(e, None))
    }

    /// Lists tasks: 20 by default, at most [`MAX_LIST`], long descriptions
    /// trimmed.
    pub async fn list_tasks(&self, mut query: ListQuery) -> ToolResult<TaskList> {
        if query.limit.is_some_and(|l| l > MAX_LIST) {
            return Err(format!(
                "Invalid `limit`: at most {MAX_LIST} per call; use `cursor` for more."
            ));
        }
        query.limit = Some(query.limit.unwrap_or(20));
        let page = self
            .tasks
            .list(self.user(), &query)
            .await
            .map_err(|e| tool_error(e, None))?;
        Ok(TaskList {
            tasks: page.tasks.into_iter().map(trim_for_list).collect(),
            next_cursor: page.next_cursor,
        })
    }

    pub async fn get_task(&self, args: TaskRef) -> ToolResult<Task> {
        let task = self.tasks.get(self.user(), args.id).await;
        task.map_err(|e| tool_error(e, Some(args.id)))
    }

    pub async fn update_task(&self, args: UpdateTaskParams) -> ToolResult<Task> {
        let updated = self
            .tasks
            .update(self.actor, args.id, &args.changes, None)
            .await;
        updated.map_err(|e| tool_error(e, Some(args.id)))
    }

    pub async fn complete_task(&self, args: TaskRef) -> ToolResult<Completed> {
        let task = self
            .tasks
            .complete(self.actor, args.id, None)
            .await
            .map_err(|e| tool_error(e, Some(args.id)))?;
        Ok(Completed {
            recurring: task.recurrence.is_some(),
            task,
        })
    }

    pub async fn reopen_task(&self, args: TaskRef) -> ToolResult<Task> {
        let task = self.tasks.reopen(self.actor, args.id, None).await;
        task.map_err(|e| tool_error(e, Some(args.id)))
    }

    pub async fn delete_task(&self, args: TaskRef) -> ToolResult<Task> {
        let task = self.tasks.delete(self.actor, args.id, None).await;
        task.map_err(|e| tool_error(e, Some(args.id)))
    }

    pub async fn snooze_task(&self, args: SnoozeTaskParams) -> ToolResult<Task> {
        let task = self.tasks.snooze(self.actor, args.id, &args.snooze).await;
        task.map_err(|e| tool_error(e, Some(args.id)))
    }

    pub async fn list_notifications(
        &self,
        query: NotificationQuery,
    ) -> ToolResult<NotificationPage> {
        let page = self.tasks.notifications(self.user(), &query).await;
        page.map_err(|e| tool_error(e, None))
    }

    pub async fn recent_activity(&self, query: RecentActivity) -> ToolResult<HistoryPage> {
        let page = self
            .tasks
            .activity(self.user(), query.before, Some(query.limit.unwrap_or(20)))
            .await;
        page.map_err(|e| tool_error(e, None))
    }
}

/// Parses a tool's arguments (absent arguments are an empty object).
fn args<T: DeserializeOwned>(tool: &str, arguments: Value) -> ToolResult<T> {
    let arguments = match arguments {
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    serde_json::from_value(arguments).map_err(|e| {
        format!("Invalid arguments for {tool}: {e}. Fix them to match the tool's schema and call it again.")
    })
}

fn json<T: Serialize>(result: ToolResult<T>) -> ToolResult<Value> {
    result.and_then(|value| {
        serde_json::to_value(value)
            .map_err(|e| format!("Taskflow could not encode the result: {e}"))
    })
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
            tracing::error!(%detail, "task tool failed");
            "Taskflow had an internal error; nothing was changed. Retrying will not help until it is fixed.".into()
        }
    }
}
