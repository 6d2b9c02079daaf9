//! `PROPFIND`: the properties of the root, the principal, the home, a
//! calendar and a task's resource, each asked for by name or all at once;
//! a property a resource does not have is answered 404 in its namespace.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use taskflow_store::{DavCalendar, DavObject};

use super::xml::{self, CALDAV, CS, DAV, ICAL, Multistatus, Name, escape};
use super::{Request, Target, bad_xml, multistatus, refused, status, sync_token, xml_text};
use crate::problem::Problem;

/// What a `PROPFIND` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Wanted {
    /// These properties.
    Props(Vec<Name>),
    /// Every property but the costly ones (`allprop`, `propname`, or no body).
    All,
}

impl Wanted {
    /// The properties named in a `<d:prop>` (None: all).
    pub(super) fn of(prop: Option<&xml::Element>) -> Wanted {
        match prop {
            Some(prop) => Wanted::Props(prop.children.iter().map(|c| c.name.clone()).collect()),
            None => Wanted::All,
        }
    }

    /// Whether the resources' text (`calendar-data`) is asked for.
    pub(super) fn data(&self) -> bool {
        match self {
            Wanted::Props(names) => names.iter().any(|n| n.is(CALDAV, "calendar-data")),
            Wanted::All => false,
        }
    }
}

/// A resource whose properties are read.
#[derive(Debug)]
pub(super) enum Resource<'a> {
    Root,
    Principal,
    Home,
    Calendar(&'a DavCalendar, i64),
    Object(&'a DavObject),
}

impl Resource<'_> {
    /// What `allprop` answers.
    fn all(&self) -> Vec<Name> {
        let names: &[(&str, &str)] = match self {
            Resource::Root | Resource::Principal => &[
                (DAV, "resourcetype"),
                (DAV, "displayname"),
                (DAV, "current-user-principal"),
                (DAV, "principal-URL"),
                (CALDAV, "calendar-home-set"),
            ],
            Resource::Home => &[
                (DAV, "resourcetype"),
                (DAV, "displayname"),
                (DAV, "current-user-principal"),
                (DAV, "current-user-privilege-set"),
            ],
            Resource::Calendar(..) => &[
                (DAV, "resourcetype"),
                (DAV, "displayname"),
                (CALDAV, "calendar-description"),
                (CALDAV, "supported-calendar-component-set"),
                (CS, "getctag"),
                (DAV, "sync-token"),
                (DAV, "current-user-privilege-set"),
                (ICAL, "calendar-color"),
                (ICAL, "calendar-order"),
            ],
            Resource::Object(_) => &[
                (DAV, "resourcetype"),
                (DAV, "getetag"),
                (DAV, "getcontenttype"),
            ],
        };
        names
            .iter()
            .map(|(ns, local)| Name::new(ns, local))
            .collect()
    }
}

impl Request<'_> {
    /// The value of `name` on `resource` (inner XML), if it has it.
    pub(super) fn property(
        &self,
        resource: &Resource<'_>,
        name: &Name,
        data: Option<&str>,
    ) -> Option<String> {
        let href = |path: &str| format!("<d:href>{}</d:href>", escape(path));
        let ns = name.ns.as_str();
        let local = name.local.as_str();
        // Every resource says who is asking and where their calendars are.
        match (ns, local) {
            (DAV, "current-user-principal") => return Some(href(&self.paths.principal)),
            (DAV, "principal-URL") if matches!(resource, Resource::Root | Resource::Principal) => {
                return Some(href(&self.paths.principal));
            }
            (CALDAV, "calendar-home-set")
                if matches!(resource, Resource::Root | Resource::Principal) =>
            {
                return Some(href(&self.paths.home));
            }
            (CALDAV, "calendar-user-address-set")
                if matches!(resource, Resource::Root | Resource::Principal) =>
            {
                return Some(String::new());
            }
            _ => {}
        }
        match resource {
            Resource::Root | Resource::Principal => match (ns, local) {
                (DAV, "resourcetype") => Some(match resource {
                    Resource::Principal => "<d:principal/>".into(),
                    _ => "<d:collection/>".into(),
                }),
                (DAV, "displayname") => Some(escape(&self.user.username).into_owned()),
                _ => None,
            },
            Resource::Home => match (ns, local) {
                (DAV, "resourcetype") => Some("<d:collection/>".into()),
                (DAV, "displayname") => Some(escape(&self.user.username).into_owned()),
                (DAV, "current-user-privilege-set") => Some(privileges(false, false)),
                _ => None,
            },
            Resource::Calendar(calendar, newest) => match (ns, local) {
                (DAV, "resourcetype") => Some("<d:collection/><c:calendar/>".into()),
                (DAV, "displayname") => Some(escape(&calendar.title).into_owned()),
                (CALDAV, "calendar-description") => {
                    Some(escape(calendar.description.as_deref().unwrap_or_default()).into_owned())
                }
                (CALDAV, "supported-calendar-component-set") => {
                    Some("<c:comp name=\"VTODO\"/>".into())
                }
                (CALDAV, "supported-calendar-data") => {
                    Some("<c:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>".into())
                }
                (CALDAV, "max-resource-size") => Some(super::MAX_RESOURCE.to_string()),
                (CS, "getctag") | (DAV, "sync-token") => {
                    Some(escape(&sync_token(calendar.id, *newest)).into_owned())
                }
                (DAV, "current-user-privilege-set") => {
                    Some(privileges(calendar.writable, calendar.administrable))
                }
                (DAV, "supported-report-set") => Some(
                    [
                        "<c:calendar-multiget/>",
                        "<c:calendar-query/>",
                        "<d:sync-collection/>",
                    ]
                    .iter()
                    .map(|r| {
                        format!("<d:supported-report><d:report>{r}</d:report></d:supported-report>")
                    })
                    .collect(),
                ),
                (ICAL, "calendar-color") => {
                    calendar.color.as_deref().map(|c| escape(c).into_owned())
                }
                (ICAL, "calendar-order") => Some((calendar.order + 1).to_string()),
                // Another person's principal is not the reader's to browse.
                (DAV, "owner") if calendar.own => Some(href(&self.paths.principal)),
                _ => None,
            },
            Resource::Object(object) => match (ns, local) {
                (DAV, "resourcetype") => Some(String::new()),
                (DAV, "getetag") => Some(escape(&object.etag).into_owned()),
                (DAV, "getcontenttype") => {
                    Some("text/calendar; charset=utf-8; component=vtodo".into())
                }
                (CALDAV, "calendar-data") => data.map(|d| escape(d).into_owned()),
                _ => None,
            },
        }
    }

    /// Writes `resource`'s answer to `wanted` at `path`.
    pub(super) fn respond(
        &self,
        out: &mut Multistatus,
        path: &str,
        resource: &Resource<'_>,
        wanted: &Wanted,
        data: Option<&str>,
    ) {
        let names = match wanted {
            Wanted::Props(names) => names.clone(),
            Wanted::All => resource.all(),
        };
        let mut found = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for name in names {
            match self.property(resource, &name, data) {
                Some(value) => found.push((name, value)),
                None if matches!(wanted, Wanted::Props(_)) => missing.push(name),
                None => {}
            }
        }
        out.response(path, &found, &missing);
    }

    pub(super) async fn propfind(
        &self,
        target: &Target,
        body: &Bytes,
    ) -> Result<Response, Problem> {
        let wanted = match xml_text(body) {
            Err(response) => return Ok(*response),
            Ok(text) if text.trim().is_empty() => Wanted::All,
            Ok(text) => {
                let Some(root) = xml::parse(text).filter(|r| r.name.is(DAV, "propfind")) else {
                    return Ok(bad_xml());
                };
                Wanted::of(root.child(DAV, "prop"))
            }
        };
        let depth = match self.headers.get("depth").and_then(|v| v.to_str().ok()) {
            None | Some("0") => 0,
            Some("1") => 1,
            Some(_) => {
                return Ok(refused(
                    StatusCode::FORBIDDEN,
                    "<d:propfind-finite-depth/>",
                    Some("ask with Depth: 0 or 1"),
                ));
            }
        };
        let mut out = Multistatus::new();
        let paths = &self.paths;
        match target {
            Target::Root => self.respond(&mut out, "/dav/", &Resource::Root, &wanted, None),
            Target::Principal => {
                self.respond(
                    &mut out,
                    &paths.principal,
                    &Resource::Principal,
                    &wanted,
                    None,
                );
            }
            Target::Home => {
                self.respond(&mut out, &paths.home, &Resource::Home, &wanted, None);
                if depth == 1 {
                    let calendars = self.state.tasks.dav_calendars(&self.user.id).await?;
                    let ids: Vec<i64> = calendars.iter().map(|c| c.id).collect();
                    let tokens = self.state.tasks.dav_tokens(&ids).await?;
                    for calendar in &calendars {
                        let newest = tokens.get(&calendar.id).copied().unwrap_or(0);
                        let resource = Resource::Calendar(calendar, newest);
                        self.respond(
                            &mut out,
                            &paths.calendar(calendar.id),
                            &resource,
                            &wanted,
                            None,
                        );
                    }
                }
            }
            Target::Calendar(list) => {
                let Some(calendar) = self.calendar(*list).await? else {
                    return Ok(status(StatusCode::NOT_FOUND));
                };
                let tokens = self.state.tasks.dav_tokens(&[*list]).await?;
                let newest = tokens.get(list).copied().unwrap_or(0);
                let resource = Resource::Calendar(&calendar, newest);
                self.respond(&mut out, &paths.calendar(*list), &resource, &wanted, None);
                if depth == 1 {
                    let objects = self.state.tasks.dav_objects(*list, wanted.data()).await?;
                    for object in &objects {
                        let data = object.body.as_ref().map(|b| self.calendar_data(b));
                        let path = paths.object(*list, &object.href);
                        self.respond(
                            &mut out,
                            &path,
                            &Resource::Object(object),
                            &wanted,
                            data.as_deref(),
                        );
                    }
                }
            }
            Target::Object(list, name) => {
                if self.calendar(*list).await?.is_none() {
                    return Ok(status(StatusCode::NOT_FOUND));
                }
                let found = self
                    .state
                    .tasks
                    .dav_named(*list, &[name.as_str()], wanted.data())
                    .await?;
                let Some(object) = found.first() else {
                    return Ok(status(StatusCode::NOT_FOUND));
                };
                let data = object.body.as_ref().map(|b| self.calendar_data(b));
                let path = paths.object(*list, &object.href);
                self.respond(
                    &mut out,
                    &path,
                    &Resource::Object(object),
                    &wanted,
                    data.as_deref(),
                );
            }
        }
        Ok(multistatus(out.finish("")))
    }
}

/// A `current-user-privilege-set`: reading, and writing tasks if
/// `writable`, and the calendar's own properties if `administrable`.
fn privileges(writable: bool, administrable: bool) -> String {
    let mut names = vec!["read", "read-current-user-privilege-set"];
    if writable {
        names.extend(["write-content", "bind", "unbind"]);
    }
    if administrable {
        names.push("write-properties");
    }
    if writable && administrable {
        names.push("write");
    }
    names
        .iter()
        .map(|n| format!("<d:privilege><d:{n}/></d:privilege>"))
        .collect()
}
