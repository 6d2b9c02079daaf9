//! `/api/export` and `/api/import`: everything the caller owns as one JSON
//! document, read back into an empty account; and a Todoist CSV export
//! read into a new list (`/api/import/todoist`). A refused import names
//! every bad entry (or line of the CSV); nothing is half-written.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use taskflow_chat::todoist::TodoistImport;
use taskflow_core::{Export, ImportQuery, Title, TodoistQuery, Zone};
use taskflow_store::{Error, ImportInto};

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, ApiQuery};
use crate::problem::Problem;
use crate::tasks::actor;

/// The largest import body: some 50,000 tasks. An import is one
/// transaction, and on SQLite every other write waits for it.
pub const IMPORT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The export and import routes.
pub fn routes() -> Router<AppState> {
    let big = || DefaultBodyLimit::max(IMPORT_BODY_LIMIT);
    Router::new()
        .route("/api/export", get(export))
        .route("/api/import", post(import).layer(big()))
        .route("/api/import/todoist", post(todoist).layer(big()))
}

async fn export(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    let doc = state.tasks.export(&user.0).await?;
    let name = format!(
        "attachment; filename=\"taskflow-export-{}.json\"",
        state.tasks.now().format("%Y-%m-%d")
    );
    let mut response = Json(doc).into_response();
    if let Ok(value) = HeaderValue::from_str(&name) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn import(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ImportQuery>,
    ApiJson(doc): ApiJson<Export>,
) -> Result<Response, Problem> {
    let dry_run = query.dry_run.unwrap_or(false);
    let into = ImportInto::EmptyAccount;
    let report = state
        .tasks
        .import(&actor(user), &doc, into, dry_run)
        .await?;
    Ok(Json(report).into_response())
}

async fn todoist(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<TodoistQuery>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let csv = std::str::from_utf8(&body)
        .map_err(|_| Problem::invalid("body", "a Todoist CSV export is UTF-8 text"))?;
    let zone = match query.timezone.as_deref() {
        Some(name) => Zone::parse(name, "timezone").map_err(Error::from)?,
        None => match state.tasks.me(&user.0).await?.time_zone {
            Some(name) => Zone::parse(&name, "timezone").unwrap_or(Zone::UTC),
            None => Zone::UTC,
        },
    };
    let title = query.list.as_deref().unwrap_or("Todoist");
    Title::parse(title).map_err(|invalid| Problem::invalid("list", invalid.reason))?;
    let read = TodoistImport::read(csv, title, zone, state.tasks.now())
        .map_err(|problems| Problem::from(Error::ImportInvalid(problems)))?;
    let dry_run = query.dry_run.unwrap_or(false);
    let done = state
        .tasks
        .import(&actor(user), &read.document, ImportInto::NewLists, dry_run)
        .await;
    match done {
        Ok(report) => Ok(Json(report).into_response()),
        Err(Error::ImportInvalid(problems)) => {
            let located = problems.into_iter().map(|p| read.locate(p)).collect();
            Err(Error::ImportInvalid(located).into())
        }
        Err(err) => Err(err.into()),
    }
}
