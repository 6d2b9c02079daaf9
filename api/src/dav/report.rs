//! `REPORT` on a calendar: `calendar-multiget` (the resources named by
//! href), `calendar-query` (to-dos by a filter; what the filter cannot
//! decide is included, never left out) and `sync-collection` (RFC 6578:
//! what changed since a token, read off the outbox; past the retention
//! horizon 403 `valid-sync-token`, and the client reads everything again).

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use percent_encoding::percent_decode_str;
use taskflow_store::{DavObject, Error, MAX_SYNC_CHANGES};

use super::props::{Resource, Wanted};
use super::xml::{self, CALDAV, DAV, Element, Multistatus, escape};
use super::{
    Request, Target, bad_xml, multistatus, not_allowed, refused, status, sync_token, token_of,
    xml_text,
};
use crate::problem::Problem;

impl Request<'_> {
    pub(super) async fn report(&self, target: &Target, body: &Bytes) -> Result<Response, Problem> {
        let Target::Calendar(list) = target else {
            return Ok(not_allowed(target));
        };
        let text = match xml_text(body) {
            Ok(text) => text,
            Err(response) => return Ok(*response),
        };
        let Some(root) = xml::parse(text) else {
            return Ok(bad_xml());
        };
        if self.calendar(*list).await?.is_none() {
            return Ok(status(StatusCode::NOT_FOUND));
        }
        let wanted = Wanted::of(root.child(DAV, "prop"));
        match (root.name.ns.as_str(), root.name.local.as_str()) {
            (CALDAV, "calendar-multiget") => self.multiget(*list, &root, &wanted).await,
            (CALDAV, "calendar-query") => self.query(*list, &root, &wanted).await,
            (DAV, "sync-collection") => self.sync(*list, &root, &wanted).await,
            _ => Ok(refused(
                StatusCode::FORBIDDEN,
                "<d:supported-report/>",
                Some("this calendar answers calendar-multiget, calendar-query and sync-collection"),
            )),
        }
    }

    /// Writes each object's answer.
    fn objects(&self, out: &mut Multistatus, list: i64, objects: &[DavObject], wanted: &Wanted) {
        for object in objects {
            let data = object.body.as_ref().map(|b| self.calendar_data(b));
            let path = self.paths.object(list, &object.href);
            self.respond(
                out,
                &path,
                &Resource::Object(object),
                wanted,
                data.as_deref(),
            );
        }
    }

    async fn multiget(
        &self,
        list: i64,
        root: &Element,
        wanted: &Wanted,
    ) -> Result<Response, Problem> {
        let collection = self.paths.calendar(list);
        // Each href by its last segment, if it is in this calendar.
        let asked: Vec<(String, Option<String>)> = root
            .children
            .iter()
            .filter(|c| c.name.is(DAV, "href"))
            .map(|href| {
                let text = href.text.trim();
                let path = text.find("/dav/").map_or(text, |at| &text[at..]);
                let name = path
                    .strip_prefix(collection.as_str())
                    .or_else(|| decoded_prefix(path, &collection))
                    .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                    .and_then(|rest| percent_decode_str(rest).decode_utf8().ok())
                    .map(|name| name.into_owned());
                (text.to_owned(), name)
            })
            .collect();
        let names: Vec<&str> = asked.iter().filter_map(|(_, n)| n.as_deref()).collect();
        let found = self
            .state
            .tasks
            .dav_named(list, &names, wanted.data())
            .await?;
        let mut out = Multistatus::new();
        for (href, name) in &asked {
            match found.iter().find(|o| Some(&o.href) == name.as_ref()) {
                Some(object) => self.objects(&mut out, list, std::slice::from_ref(object), wanted),
                None => out.status(href, "404 Not Found", None),
            }
        }
        Ok(multistatus(out.finish("")))
    }

    async fn query(&self, list: i64, root: &Element, wanted: &Wanted) -> Result<Response, Problem> {
        let filter = Filter::of(root);
        let mut out = Multistatus::new();
        if filter.component_matches {
            let mut objects = self.state.tasks.dav_objects(list, true).await?;
            objects.retain(|object| filter.keeps(object));
            if !wanted.data() {
                for object in &mut objects {
                    object.body = None;
                }
            }
            self.objects(&mut out, list, &objects, wanted);
        }
        Ok(multistatus(out.finish("")))
    }

    async fn sync(&self, list: i64, root: &Element, wanted: &Wanted) -> Result<Response, Problem> {
        let token = root
            .child(DAV, "sync-token")
            .map(|t| t.text.trim())
            .unwrap_or_default();
        let since = match token {
            "" => None,
            token => match token_of(token, list) {
                Some(since) => Some(since),
                None => return Ok(invalid_token()),
            },
        };
        let limit = root
            .child(DAV, "limit")
            .and_then(|l| l.child(DAV, "nresults"))
            .and_then(|n| n.text.trim().parse::<usize>().ok())
            .map_or(MAX_SYNC_CHANGES, |n| n.clamp(1, MAX_SYNC_CHANGES));
        let changes = match self.state.tasks.dav_changes(list, since, limit).await {
            Err(Error::CursorExpired { .. }) => return Ok(invalid_token()),
            changes => changes?,
        };
        let changed = match wanted.data() && !changes.changed.is_empty() {
            true => {
                let names: Vec<&str> = changes.changed.iter().map(|o| o.href.as_str()).collect();
                self.state.tasks.dav_named(list, &names, true).await?
            }
            false => changes.changed,
        };
        let mut out = Multistatus::new();
        self.objects(&mut out, list, &changed, wanted);
        for gone in &changes.gone {
            out.status(&self.paths.object(list, gone), "404 Not Found", None);
        }
        if changes.truncated {
            out.status(
                &self.paths.calendar(list),
                "507 Insufficient Storage",
                Some("<d:number-of-matches-within-limits/>"),
            );
        }
        let token = format!(
            "<d:sync-token>{}</d:sync-token>",
            escape(&sync_token(list, changes.token))
        );
        Ok(multistatus(out.finish(&token)))
    }
}

/// The path with its percent-escapes decoded, if it starts with `prefix`
/// (some clients send hrefs decoded, some encoded).
fn decoded_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let decoded_prefix = percent_decode_str(prefix).decode_utf8().ok()?;
    path.strip_prefix(decoded_prefix.as_ref())
}

fn invalid_token() -> Response {
    refused(
        StatusCode::FORBIDDEN,
        "<d:valid-sync-token/>",
        Some("the sync token is too old or not this calendar's; sync again without one"),
    )
}

/// A time range's start and end, each open if absent.
type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What a `calendar-query` filter keeps: to-dos (not events), open ones
/// only when it asks for no `COMPLETED` or a status other than completed,
/// those whose title, description or tags hold a text asked for, and those
/// due in a time range (RFC 4791 §9.9, by the due date alone:
/// anything it cannot decide is kept).
#[derive(Debug, Default)]
struct Filter {
    component_matches: bool,
    open_only: bool,
    range: Option<Range>,
    /// Text a property must (or, negated, must not) contain.
    texts: Vec<TextMatch>,
}

/// A `text-match` on `SUMMARY`, `DESCRIPTION` or `CATEGORIES` (RFC 4791
/// §9.7.5): a substring, in any ASCII case unless the collation is
/// `i;octet`.
#[derive(Debug)]
struct TextMatch {
    property: &'static str,
    text: String,
    exact_case: bool,
    negated: bool,
}

impl TextMatch {
    fn holds(&self, item: &taskflow_core::calendar::CalendarItem) -> bool {
        let values: Vec<&str> = match self.property {
            "SUMMARY" => vec![item.title.as_str()],
            "DESCRIPTION" => item.description.as_deref().into_iter().collect(),
            _ => item.tags.iter().map(String::as_str).collect(),
        };
        let found = values.iter().any(|value| match self.exact_case {
            true => value.contains(&self.text),
            false => value
                .to_ascii_lowercase()
                .contains(&self.text.to_ascii_lowercase()),
        });
        found != self.negated
    }
}

impl Filter {
    fn of(root: &Element) -> Self {
        let mut filter = Filter::default();
        let calendar = root
            .child(CALDAV, "filter")
            .and_then(|f| f.child(CALDAV, "comp-filter"));
        let Some(calendar) = calendar else {
            filter.component_matches = true;
            return filter;
        };
        let todo = calendar
            .children
            .iter()
            .find(|c| c.name.is(CALDAV, "comp-filter"));
        let Some(todo) = todo else {
            filter.component_matches = calendar.attribute("name") == Some("VCALENDAR");
            return filter;
        };
        filter.component_matches = calendar.attribute("name") == Some("VCALENDAR")
            && todo.attribute("name") == Some("VTODO");
        for prop in todo
            .children
            .iter()
            .filter(|c| c.name.is(CALDAV, "prop-filter"))
        {
            let name = prop.attribute("name").unwrap_or_default();
            let undefined = prop.child(CALDAV, "is-not-defined").is_some();
            let matching = prop.child(CALDAV, "text-match");
            let negated = matching
                .and_then(|m| m.attribute("negate-condition"))
                .is_some_and(|v| v == "yes");
            let text = matching.map(|m| m.text.trim().to_ascii_uppercase());
            if let (Some(matching), Some(property)) = (
                matching,
                ["SUMMARY", "DESCRIPTION", "CATEGORIES"]
                    .into_iter()
                    .find(|p| p.eq_ignore_ascii_case(name)),
            ) {
                filter.texts.push(TextMatch {
                    property,
                    text: matching.text.trim().to_owned(),
                    exact_case: matching.attribute("collation") == Some("i;octet"),
                    negated,
                });
            }
            match (name, undefined, text.as_deref(), negated) {
                ("COMPLETED", true, _, _) => filter.open_only = true,
                ("STATUS", _, Some("COMPLETED"), true) => filter.open_only = true,
                ("STATUS", _, Some("NEEDS-ACTION" | "IN-PROCESS"), false) => {
                    filter.open_only = true;
                }
                _ => {}
            }
        }
        if let Some(range) = todo.child(CALDAV, "time-range") {
            filter.range = Some((
                range.attribute("start").and_then(utc),
                range.attribute("end").and_then(utc),
            ));
        }
        filter
    }

    fn keeps(&self, object: &DavObject) -> bool {
        let Some(body) = &object.body else {
            return true;
        };
        if self.open_only && body.item.completed_at.is_some() {
            return false;
        }
        if !self.texts.iter().all(|t| t.holds(&body.item)) {
            return false;
        }
        match (&self.range, &body.item.due) {
            (Some((start, end)), Some(due)) => {
                // A date's day, or a time, overlaps the range.
                let (from, to) = (due.instant(), due.deadline());
                start.is_none_or(|s| to >= s) && end.is_none_or(|e| from < e)
            }
            _ => true,
        }
    }
}

/// A UTC date-time in iCalendar's basic form (`20260323T120000Z`).
fn utc(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}
