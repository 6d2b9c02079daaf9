//! The resources: the user's tasks due today and overdue, one task by id
//! (a template, with completion of the id), and recent activity. Each reads
//! as JSON.

use chrono::{Days, Utc};
use rmcp::ErrorData as McpError;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use serde_json::json;
use taskflow_agent::Frame;
use taskflow_core::{ListQuery, StatusFilter};
use taskflow_store::TaskService;

pub const TODAY: &str = "taskflow://tasks/today";
pub const OVERDUE: &str = "taskflow://tasks/overdue";
pub const ACTIVITY: &str = "taskflow://activity";
pub const TASK_TEMPLATE: &str = "taskflow://tasks/{id}";
const TASK_PREFIX: &str = "taskflow://tasks/";
pub const LIST_TEMPLATE: &str = "taskflow://lists/{id}";
const LIST_PREFIX: &str = "taskflow://lists/";
/// How many tasks or changes a resource shows.
const LIMIT: u32 = 50;

pub fn task_uri(id: i64) -> String {
    format!("{TASK_PREFIX}{id}")
}

pub fn list_uri(id: i64) -> String {
    format!("{LIST_PREFIX}{id}")
}

/// The fixed resources, and one per list of the user's (`lists`), each
/// named by its title (framed: people wrote it).
pub fn list(lists: &[taskflow_core::ListSummary]) -> ListResourcesResult {
    let titles = serde_json::Value::from_iter(lists.iter().map(|s| s.list.title.as_str()));
    let frame = Frame::around(&titles);
    let json_resource = |uri: &str, name: &str, description: &str| {
        Resource::new(uri, name)
            .with_description(description)
            .with_mime_type("application/json")
    };
    ListResourcesResult {
        resources: vec![
            json_resource(
                TODAY,
                "tasks-today",
                "Open tasks due by the end of today (UTC), overdue ones included, soonest first.",
            ),
            json_resource(
                OVERDUE,
                "tasks-overdue",
                "Open tasks past their due date or time, oldest first.",
            ),
            json_resource(
                ACTIVITY,
                "activity",
                "The user's most recent task changes on every surface (REST, MCP, chat, workers), newest first.",
            ),
        ]
        .into_iter()
        .chain(lists.iter().map(|summary| {
            json_resource(
                &list_uri(summary.list.id),
                &format!("list-{}", summary.list.id),
                &format!(
                    "The list {}: its open tasks in the user's order ({} open).",
                    frame.wrap(&summary.list.title),
                    summary.open_count
                ),
            )
        }))
        .collect(),
        ..Default::default()
    }
}

pub fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult {
        resource_templates: vec![
            ResourceTemplate::new(TASK_TEMPLATE, "task")
                .with_description("One task by id, as get_task returns it.")
                .with_mime_type("application/json"),
            ResourceTemplate::new(LIST_TEMPLATE, "list")
                .with_description("One list by id with its open tasks in the user's order.")
                .with_mime_type("application/json"),
        ],
        ..Default::default()
    }
}

/// Reads `uri` for `user`; an unknown URI, or another user's task, is
/// "resource not found".
pub async fn read(
    tasks: &TaskService,
    user: &str,
    uri: &str,
) -> Result<ReadResourceResult, McpError> {
    let not_found =
        || McpError::resource_not_found("resource not found", Some(json!({"uri": uri})));
    let internal = |err: taskflow_store::Error| McpError::internal_error(err.to_string(), None);
    let body = match uri {
        TODAY | OVERDUE => {
            let mut query = ListQuery {
                status: Some(StatusFilter::Open),
                sort: Some("due".into()),
                limit: Some(LIMIT),
                ..Default::default()
            };
            if uri == TODAY {
                let tomorrow = Utc::now()
                    .date_naive()
                    .checked_add_days(Days::new(1))
                    .unwrap_or(chrono::NaiveDate::MAX);
                query.due_before = Some(tomorrow.to_string());
            } else {
                query.overdue = Some(true);
            }
            serde_json::to_value(tasks.list(user, &query).await.map_err(internal)?)
        }
        ACTIVITY => serde_json::to_value(
            tasks
                .activity(user, None, Some(LIMIT))
                .await
                .map_err(internal)?,
        ),
        _ if uri.starts_with(LIST_PREFIX) => {
            let id: i64 = uri
                .strip_prefix(LIST_PREFIX)
                .and_then(|id| id.parse().ok())
                .ok_or_else(not_found)?;
            let actor = taskflow_store::Actor::new(user, taskflow_events::Source::Mcp);
            let list = match tasks.get_list(&actor, id).await {
                Ok(list) => list,
                Err(taskflow_store::Error::NoSuchList { .. }) => return Err(not_found()),
                Err(err) => return Err(internal(err)),
            };
            let query = ListQuery {
                list_id: Some(id),
                status: Some(StatusFilter::Open),
                sort: Some("position".into()),
                limit: Some(LIMIT),
                ..Default::default()
            };
            let page = tasks.list(user, &query).await.map_err(internal)?;
            Ok(json!({"list": list, "tasks": page.tasks, "next_cursor": page.next_cursor}))
        }
        _ => {
            let id: i64 = uri
                .strip_prefix(TASK_PREFIX)
                .and_then(|id| id.parse().ok())
                .ok_or_else(not_found)?;
            match tasks.get(user, id).await {
                Ok(task) => serde_json::to_value(task),
                Err(taskflow_store::Error::NotFound) => return Err(not_found()),
                Err(err) => return Err(internal(err)),
            }
        }
    }
    .map_err(|err| McpError::internal_error(err.to_string(), None))?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(Frame::around(&body).json(&body), uri)
            .with_mime_type("application/json"),
    ]))
}
