//! Calendar feeds: `/api/calendar-feeds` makes, lists and deletes a
//! person's subscription URLs (the URL is shown at creation only), and
//! `GET /feeds/{token}.ics` serves one to any calendar app, with a strong
//! `ETag`: a conditional fetch of an unchanged feed is answered 304 from
//! three small reads, without rendering. The token in the URL is the only
//! credential; an unknown, revoked or malformed one is the same 404.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use taskflow_core::calendar::{CreateCalendarFeed, FeedHead, render};
use taskflow_store::{FEED_TOKEN_PREFIX, OpenedFeed};

use crate::AppState;
use crate::auth::AuthUser;
use crate::extract::{ApiJson, CalendarFeedId};
use crate::problem::Problem;

/// The calendar feed routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/calendar-feeds", get(list).post(create))
        .route("/api/calendar-feeds/{id}", delete(remove))
        .route("/feeds/{file}", get(feed))
}

/// A calendar feed store error: "not found" names the feed.
fn problem(err: taskflow_store::Error) -> Problem {
    match err {
        taskflow_store::Error::NotFound => CalendarFeedId::not_found(),
        err => err.into(),
    }
}

async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Response, Problem> {
    Ok(Json(state.tasks.calendar_feeds(&user.0).await.map_err(problem)?).into_response())
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<CreateCalendarFeed>,
) -> Result<Response, Problem> {
    let created = state
        .tasks
        .create_calendar_feed(&user.0, &input, &state.public_url)
        .await
        .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    CalendarFeedId(id): CalendarFeedId,
) -> Result<Response, Problem> {
    state
        .tasks
        .delete_calendar_feed(&user.0, id)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `cal_` and 43 base64url characters (32 random bytes).
fn token_of(file: &str) -> Option<&str> {
    let token = file.strip_suffix(".ics")?;
    let random = token.strip_prefix(FEED_TOKEN_PREFIX)?;
    let well_formed = random.len() == 43
        && random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(token)
}

fn no_such_feed() -> Problem {
    Problem::not_found("no such calendar feed")
}

/// Whether `If-None-Match` names `etag` (or is `*`), by the weak
/// comparison RFC 9110 §13.1.2 prescribes for it.
pub(crate) fn unchanged(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let token = token_of(&file).ok_or_else(no_such_feed)?;
    let feed = state
        .tasks
        .open_calendar_feed(token, &state.public_url)
        .await?
        .ok_or_else(no_such_feed)?;
    if feed.record_fetch {
        let (tasks, id) = (state.tasks.clone(), feed.id);
        tokio::spawn(async move {
            if let Err(err) = tasks.calendar_feed_fetched(id).await {
                tracing::warn!(error = %err, "cannot record a calendar feed's fetch");
            }
        });
    }
    if unchanged(&headers, &feed.etag) {
        return Ok(cached(StatusCode::NOT_MODIFIED, &feed, ()));
    }
    // Read after the ETag's probe: newer content under an older ETag costs
    // one more download, never a stale 304.
    let items = state.tasks.calendar_feed_items(&feed).await?;
    let public_url = state.public_url.clone();
    let (body, feed) = tokio::task::spawn_blocking(move || {
        let head = FeedHead {
            name: &feed.name,
            component: feed.component,
            public_url: &public_url,
            color: feed.color.as_deref(),
        };
        (render(&head, &items), feed)
    })
    .await
    .map_err(|_| Problem::unavailable("cannot render the calendar; try again"))?;
    let mut response = cached(StatusCode::OK, &feed, body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(response)
}

/// An answer with the feed's `ETag`, revalidated at every fetch.
fn cached(status: StatusCode, feed: &OpenedFeed, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&feed.etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_token_file_is_looked_up() {
        let token = format!("cal_{}", "A".repeat(43));
        assert_eq!(token_of(&format!("{token}.ics")), Some(token.as_str()));
        for bad in [
            token.clone(),
            format!("{token}.ICS"),
            format!("cal_{}.ics", "A".repeat(42)),
            format!("cal_{}+.ics", "A".repeat(42)),
            format!("xyz_{}.ics", "A".repeat(43)),
            "nope.ics".into(),
        ] {
            assert_eq!(token_of(&bad), None, "{bad}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_stars() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            headers
        };
        let etag = "\"abc\"";
        assert!(unchanged(&with("\"abc\""), etag));
        assert!(unchanged(&with("W/\"abc\""), etag));
        assert!(unchanged(&with("\"x\", \"abc\""), etag));
        assert!(unchanged(&with("*"), etag));
        assert!(!unchanged(&with("\"abcd\""), etag));
        assert!(!unchanged(&with("abc"), etag));
        assert!(!unchanged(&HeaderMap::new(), etag));
    }
}
