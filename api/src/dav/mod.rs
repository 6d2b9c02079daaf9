//! CalDAV (RFC 4791) under `/dav/`: each list a person reaches is a
//! calendar of to-dos, each task a `.ics` resource. Discovery starts at
//! `/.well-known/caldav`; a principal at `/dav/principals/{username}/`
//! names the home `/dav/calendars/{username}/`, whose members are the
//! calendars `…/{list_id}/`, whose members are the tasks `…/{name}.ics`.
//! Reads here: `OPTIONS`, `PROPFIND`, `REPORT` (multiget, query, and
//! sync-collection from the outbox) and `GET`/`HEAD`. Answers are DAV XML,
//! not problem+json; another person's path, a list the caller does not
//! reach and a task outside the list are all 404.

mod auth;
mod props;
mod report;
mod write;
mod xml;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use taskflow_core::calendar::{Extra, Uids, render_object};
use taskflow_store::{DavBody, DavCalendar};

pub use auth::DavUser;

use crate::AppState;
use crate::problem::Problem;

/// The largest request body read (a PUT of one to-do is far smaller).
const MAX_BODY: usize = 1024 * 1024;
/// The largest resource a client may store (`max-resource-size`).
const MAX_RESOURCE: usize = 256 * 1024;
/// The largest XML request body read.
const MAX_XML: usize = 64 * 1024;

/// The CalDAV routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/caldav", any(well_known))
        .route("/dav", any(dav))
        .route("/dav/", any(dav))
        .route("/dav/{*path}", any(dav))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// RFC 6764: the CalDAV context path.
async fn well_known() -> Response {
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/dav/")]).into_response()
}

/// What a path under `/dav/` names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Root,
    Principal,
    Home,
    Calendar(i64),
    Object(i64, String),
}

/// Path segments are kept as they are except these.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'@');

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// The target of `path` for `user` (None: nothing there for them).
fn target(path: &str, user: &DavUser) -> Option<Target> {
    let rest = path.strip_prefix("/dav")?;
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8().map(|c| c.into_owned()))
        .collect::<Result<_, _>>()
        .ok()?;
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    match parts.as_slice() {
        [] => Some(Target::Root),
        ["principals", who] if user.is(who) => Some(Target::Principal),
        ["calendars", who] if user.is(who) => Some(Target::Home),
        ["calendars", who, list] if user.is(who) => list_id(list).map(Target::Calendar),
        ["calendars", who, list, name] if user.is(who) => {
            Some(Target::Object(list_id(list)?, (*name).to_owned()))
        }
        _ => None,
    }
}

fn list_id(segment: &str) -> Option<i64> {
    segment.parse().ok().filter(|id| *id > 0)
}

/// Where a person's resources are.
#[derive(Debug, Clone)]
struct Paths {
    principal: String,
    home: String,
}

impl Paths {
    fn of(user: &DavUser) -> Self {
        let who = encode(&user.username);
        Self {
            principal: format!("/dav/principals/{who}/"),
            home: format!("/dav/calendars/{who}/"),
        }
    }

    fn calendar(&self, list: i64) -> String {
        format!("{}{list}/", self.home)
    }

    fn object(&self, list: i64, name: &str) -> String {
        format!("{}{list}/{}", self.home, encode(name))
    }
}

/// A calendar's sync token (and `getctag`): its list and newest change.
fn sync_token(list: i64, newest: i64) -> String {
    format!("urn:taskflow:sync:{list}:{newest}")
}

/// The newest change a token names, if it names `list`.
fn token_of(text: &str, list: i64) -> Option<i64> {
    let (named, newest) = text.strip_prefix("urn:taskflow:sync:")?.split_once(':')?;
    (named.parse::<i64>().ok()? == list)
        .then(|| newest.parse().ok())
        .flatten()
}

/// Every `/dav/` request.
async fn dav(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::OPTIONS {
        return options(&state, &uri, &headers).await;
    }
    let user = match auth::DavUser::from_headers(&state, &headers).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let Some(target) = target(uri.path(), &user) else {
        return status(StatusCode::NOT_FOUND);
    };
    let request = Request {
        state: &state,
        paths: Paths::of(&user),
        user: &user,
        headers: &headers,
    };
    let answer = match method.as_str() {
        "PROPFIND" => request.propfind(&target, &body).await,
        "REPORT" => request.report(&target, &body).await,
        "GET" | "HEAD" => request.get(&target, method == Method::HEAD).await,
        "PUT" => request.put(&target, &body).await,
        "DELETE" => request.delete(&target).await,
        "MOVE" => request.move_to(&target).await,
        "PROPPATCH" => request.proppatch(&target, &body).await,
        _ => Ok(not_allowed(&target)),
    };
    answer.unwrap_or_else(|err| err.into_response())
}

/// One authenticated request.
#[derive(Debug)]
struct Request<'a> {
    state: &'a AppState,
    user: &'a DavUser,
    paths: Paths,
    headers: &'a HeaderMap,
}

impl Request<'_> {
    /// The calendar of a list the caller reaches now.
    async fn calendar(&self, list: i64) -> Result<Option<DavCalendar>, Problem> {
        Ok(self.state.tasks.dav_calendar(&self.user.id, list).await?)
    }

    /// A task's resource as text.
    fn calendar_data(&self, body: &DavBody) -> String {
        let public_url = &self.state.public_url;
        let defaults = Uids::default_for(&body.item, public_url);
        let uids = Uids {
            task: body.uid.clone().unwrap_or(defaults.task),
            parent: body.parent_uid.clone().or(defaults.parent),
        };
        let extra: Extra = serde_json::from_value(body.extra.clone()).unwrap_or_else(|err| {
            tracing::warn!(task = body.item.id, error = %err, "a task's CalDAV extras are unreadable");
            Extra::default()
        });
        render_object(public_url, &body.item, &uids, &extra)
    }

    async fn get(&self, target: &Target, head: bool) -> Result<Response, Problem> {
        let Target::Object(list, name) = target else {
            return Ok(not_allowed(target));
        };
        if self.calendar(*list).await?.is_none() {
            return Ok(status(StatusCode::NOT_FOUND));
        }
        let found = self
            .state
            .tasks
            .dav_named(*list, &[name.as_str()], true)
            .await?;
        let Some(object) = found.into_iter().next() else {
            return Ok(status(StatusCode::NOT_FOUND));
        };
        let etag = HeaderValue::from_str(&object.etag).ok();
        if crate::calendar::unchanged(self.headers, &object.etag) {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            if let Some(etag) = etag {
                response.headers_mut().insert(header::ETAG, etag);
            }
            return Ok(response);
        }
        let Some(body) = &object.body else {
            return Ok(status(StatusCode::NOT_FOUND));
        };
        let text = self.calendar_data(body);
        let mut response = match head {
            true => {
                let mut r = StatusCode::OK.into_response();
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
                r
            }
            false => (StatusCode::OK, text).into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/calendar; charset=utf-8"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        if let Some(etag) = etag {
            headers.insert(header::ETAG, etag);
        }
        Ok(response)
    }
}

/// The body of an XML request as text, or the answer refusing it.
fn xml_text(body: &Bytes) -> Result<&str, Box<Response>> {
    if body.len() > MAX_XML {
        return Err(Box::new(status(StatusCode::PAYLOAD_TOO_LARGE)));
    }
    std::str::from_utf8(body).map_err(|_| Box::new(bad_xml()))
}

fn bad_xml() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "the request body is not well-formed XML (at most 32 levels deep, no DTD)\n",
    )
        .into_response()
}

/// A status with no body.
fn status(code: StatusCode) -> Response {
    code.into_response()
}

/// A 207 of `xml`.
fn multistatus(xml: String) -> Response {
    (
        StatusCode::MULTI_STATUS,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// A refusal naming a DAV precondition (RFC 4918 §16).
fn refused(code: StatusCode, condition: &str, description: Option<&str>) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml::error(condition, description),
    )
        .into_response()
}

/// The methods a target answers.
fn allowed(target: &Target) -> &'static str {
    match target {
        Target::Object(..) => "OPTIONS, GET, HEAD, PUT, DELETE, MOVE, PROPFIND",
        Target::Calendar(_) => "OPTIONS, PROPFIND, PROPPATCH, REPORT",
        _ => "OPTIONS, PROPFIND",
    }
}

/// The methods a resource of a calendar the caller may only read answers.
const READ_ONLY_OBJECT: &str = "OPTIONS, GET, HEAD, PROPFIND";

fn not_allowed(target: &Target) -> Response {
    let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed(target)));
    response
}

/// `OPTIONS`: the DAV classes, and the methods the target answers (for a
/// signed-in caller; without credentials, what any path might).
async fn options(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Response {
    let allow = match auth::DavUser::from_headers(state, headers).await {
        Ok(user) => match target(uri.path(), &user) {
            Some(Target::Object(list, _)) => match state.tasks.dav_calendar(&user.id, list).await {
                Ok(Some(calendar)) if calendar.writable => {
                    allowed(&Target::Object(list, String::new()))
                }
                Ok(Some(_)) => READ_ONLY_OBJECT,
                Ok(None) => return status(StatusCode::NOT_FOUND),
                Err(err) => return Problem::from(err).into_response(),
            },
            Some(target) => allowed(&target),
            None => return status(StatusCode::NOT_FOUND),
        },
        Err(_) => "OPTIONS, PROPFIND",
    };
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    out.insert(
        "dav",
        HeaderValue::from_static("1, 3, access-control, calendar-access"),
    );
    out.insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> DavUser {
        DavUser {
            id: "u-1".into(),
            username: "alice smith".into(),
        }
    }

    #[test]
    fn a_path_names_the_callers_own_resources_only() {
        let alice = alice();
        for (path, expected) in [
            ("/dav", Some(Target::Root)),
            ("/dav/", Some(Target::Root)),
            ("/dav/principals/alice%20smith/", Some(Target::Principal)),
            ("/dav/principals/u-1", Some(Target::Principal)),
            ("/dav/calendars/alice%20smith/", Some(Target::Home)),
            ("/dav/calendars/alice%20smith/7/", Some(Target::Calendar(7))),
            (
                "/dav/calendars/u-1/7/a%2Fb%20c.ics",
                Some(Target::Object(7, "a/b c.ics".into())),
            ),
            ("/dav/principals/bob/", None),
            ("/dav/calendars/bob/7/", None),
            ("/dav/calendars/alice%20smith/0/", None),
            ("/dav/calendars/alice%20smith/x/", None),
            ("/dav/calendars/alice%20smith/7/a/b", None),
            ("/dav/calendars/%FF/", None),
            ("/dav/elsewhere/", None),
        ] {
            assert_eq!(target(path, &alice), expected, "{path}");
        }
        let paths = Paths::of(&alice);
        assert_eq!(paths.principal, "/dav/principals/alice%20smith/");
        assert_eq!(
            paths.object(7, "a/b c.ics"),
            "/dav/calendars/alice%20smith/7/a%2Fb%20c.ics"
        );
        let written = paths.object(7, "ü@x.ics");
        assert_eq!(
            target(&written, &alice),
            Some(Target::Object(7, "ü@x.ics".into()))
        );
    }

    #[test]
    fn a_sync_token_names_its_list() {
        let token = sync_token(7, 42);
        assert_eq!(token_of(&token, 7), Some(42));
        assert_eq!(token_of(&token, 8), None);
        assert_eq!(token_of("urn:taskflow:sync:7:x", 7), None);
        assert_eq!(token_of("http://other/sync/7:42", 7), None);
    }
}
