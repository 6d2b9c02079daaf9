//! `PUT`, `DELETE` and `MOVE` of a task's resource: each goes through the
//! task service (`dav_put`, `dav_delete`, `dav_move`), so a change from a
//! phone is an ordinary event that history, live views, recurrence and
//! webhooks all see. A `PUT` answers without an `ETag`: what is stored is
//! never byte for byte what was sent, so the client reads it back.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use taskflow_core::UpdateList;
use taskflow_core::calendar::Refused;
use taskflow_events::Source;
use taskflow_store::{Actor, DavRefusal, Preconditions, PutOutcome};

use super::xml::{self, CALDAV, DAV, ICAL, Multistatus, Name, escape};
use super::{
    MAX_RESOURCE, Request, Target, bad_xml, multistatus, not_allowed, refused, status, target,
    xml_text,
};
use crate::problem::Problem;

/// The preconditions a request's headers set.
fn preconditions(headers: &HeaderMap) -> Preconditions {
    let tags = |name| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect()
    };
    let if_match = tags(header::IF_MATCH);
    Preconditions {
        if_match: (!if_match.is_empty()).then_some(if_match),
        if_none_match_any: tags(header::IF_NONE_MATCH).iter().any(|t| t == "*"),
    }
}

impl Request<'_> {
    /// The answer to a refused write.
    fn refusal(&self, refusal: DavRefusal) -> Response {
        match refusal {
            DavRefusal::NotFound => status(StatusCode::NOT_FOUND),
            DavRefusal::PreconditionFailed => status(StatusCode::PRECONDITION_FAILED),
            DavRefusal::NeedPrivileges => refused(
                StatusCode::FORBIDDEN,
                "<d:need-privileges/>",
                Some("you may only read this calendar (a viewer's, or archived)"),
            ),
            DavRefusal::OtherOwner => refused(
                StatusCode::FORBIDDEN,
                "<d:need-privileges/>",
                Some("a task moves only among the lists of its list's owner"),
            ),
            DavRefusal::NameTaken => status(StatusCode::CONFLICT),
            DavRefusal::UidConflict { href } => {
                let named = href
                    .map(|(list, name)| {
                        format!(
                            "<d:href>{}</d:href>",
                            escape(&self.paths.object(list, &name))
                        )
                    })
                    .unwrap_or_default();
                refused(
                    StatusCode::FORBIDDEN,
                    &format!("<c:no-uid-conflict>{named}</c:no-uid-conflict>"),
                    Some("another task of this calendar's owner has this UID"),
                )
            }
            DavRefusal::Invalid(invalid) => {
                let condition = match &invalid {
                    Refused::SupportedComponent => "<c:supported-calendar-component/>",
                    Refused::ValidData { .. } => "<c:valid-calendar-data/>",
                    Refused::ValidObject(_) => "<c:valid-calendar-object-resource/>",
                };
                refused(StatusCode::FORBIDDEN, condition, Some(&invalid.to_string()))
            }
        }
    }

    pub(super) async fn put(&self, target: &Target, body: &Bytes) -> Result<Response, Problem> {
        let Target::Object(list, name) = target else {
            return Ok(not_allowed(target));
        };
        if body.len() > MAX_RESOURCE {
            return Ok(refused(
                StatusCode::FORBIDDEN,
                "<c:max-resource-size/>",
                Some("a to-do may be at most 256 KiB"),
            ));
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return Ok(refused(
                StatusCode::FORBIDDEN,
                "<c:valid-calendar-data/>",
                Some("the body is not UTF-8 text"),
            ));
        };
        let pre = preconditions(self.headers);
        let done = self
            .state
            .tasks
            .dav_put(&self.user.id, *list, name, text, &pre)
            .await?;
        Ok(match done {
            Ok(PutOutcome::Created { .. }) => status(StatusCode::CREATED),
            Ok(PutOutcome::Updated { .. } | PutOutcome::Unchanged { .. }) => {
                status(StatusCode::NO_CONTENT)
            }
            Err(refusal) => self.refusal(refusal),
        })
    }

    pub(super) async fn delete(&self, target: &Target) -> Result<Response, Problem> {
        let Target::Object(list, name) = target else {
            return Ok(refused(
                StatusCode::FORBIDDEN,
                "<d:need-privileges/>",
                Some("calendars are lists: delete a list in Taskflow"),
            ));
        };
        let pre = preconditions(self.headers);
        let done = self
            .state
            .tasks
            .dav_delete(&self.user.id, *list, name, &pre)
            .await?;
        Ok(match done {
            Ok(()) => status(StatusCode::NO_CONTENT),
            Err(refusal) => self.refusal(refusal),
        })
    }

    pub(super) async fn move_to(&self, from: &Target) -> Result<Response, Problem> {
        let Target::Object(list, name) = from else {
            return Ok(not_allowed(from));
        };
        // The destination: an absolute URL or a path, in the caller's home.
        let Some(destination) = self
            .headers
            .get("destination")
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(status(StatusCode::BAD_REQUEST));
        };
        let path = destination
            .find("/dav/")
            .map_or(destination, |at| &destination[at..]);
        // Anywhere but a resource of the caller's calendars (RFC 4918 §9.9.4).
        let Some(Target::Object(to_list, to_name)) = target(path, self.user) else {
            return Ok(status(StatusCode::BAD_GATEWAY));
        };
        let overwrite = !self
            .headers
            .get("overwrite")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("F"));
        let pre = preconditions(self.headers);
        let done = self
            .state
            .tasks
            .dav_move(
                &self.user.id,
                *list,
                name,
                to_list,
                &to_name,
                overwrite,
                &pre,
            )
            .await?;
        Ok(match done {
            Ok(PutOutcome::Created { .. }) => status(StatusCode::CREATED),
            Ok(_) => status(StatusCode::NO_CONTENT),
            Err(refusal) => self.refusal(refusal),
        })
    }
}

/// One property a `PROPPATCH` sets or removes: what it does to the list,
/// or None for a property a calendar keeps no value of.
fn list_change(name: &Name, value: Option<&str>, patch: &mut UpdateList) -> Option<Result<(), ()>> {
    let text = value.map(str::trim).unwrap_or_default();
    match (name.ns.as_str(), name.local.as_str()) {
        (DAV, "displayname") => {
            // A calendar keeps a name: removing it changes nothing.
            if !text.is_empty() {
                patch.title = Some(text.to_owned());
            }
            Some(Ok(()))
        }
        (CALDAV, "calendar-description") => {
            patch.description = Some((!text.is_empty()).then(|| text.to_owned()));
            Some(Ok(()))
        }
        (ICAL, "calendar-color") => {
            // Apple writes `#rrggbbaa`; Taskflow keeps `#rrggbb`.
            let rgb = match text.strip_prefix('#') {
                Some(hex) if hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    &text[..7]
                }
                _ => text,
            };
            match taskflow_core::Color::parse(rgb) {
                Ok(color) => {
                    patch.color = Some(color.map(|c| c.as_str().to_owned()));
                    Some(Ok(()))
                }
                Err(_) => Some(Err(())),
            }
        }
        _ => None,
    }
}

impl Request<'_> {
    /// `PROPPATCH` of a calendar: its name, description and colour are the
    /// list's (changed as on REST, by its owner or an admin); every other
    /// property is refused, and then nothing is changed (RFC 4918 §9.2).
    pub(super) async fn proppatch(
        &self,
        target: &Target,
        body: &Bytes,
    ) -> Result<Response, Problem> {
        let Target::Calendar(list) = target else {
            return Ok(refused(
                StatusCode::FORBIDDEN,
                "<d:cannot-modify-protected-property/>",
                Some("only a calendar's name, description and colour can be changed"),
            ));
        };
        let text = match xml_text(body) {
            Ok(text) => text,
            Err(response) => return Ok(*response),
        };
        let Some(root) = xml::parse(text).filter(|r| r.name.is(DAV, "propertyupdate")) else {
            return Ok(bad_xml());
        };
        let Some(calendar) = self.calendar(*list).await? else {
            return Ok(status(StatusCode::NOT_FOUND));
        };
        let mut patch = UpdateList::default();
        let (mut done, mut forbidden, mut conflicting) = (Vec::new(), Vec::new(), Vec::new());
        for action in &root.children {
            let set = action.name.is(DAV, "set");
            if !set && !action.name.is(DAV, "remove") {
                continue;
            }
            let Some(prop) = action.child(DAV, "prop") else {
                continue;
            };
            for property in &prop.children {
                let value = set.then_some(property.text.as_str());
                match list_change(&property.name, value, &mut patch) {
                    Some(Ok(())) if calendar.administrable => done.push(property.name.clone()),
                    Some(Ok(())) | None => forbidden.push(property.name.clone()),
                    Some(Err(())) => conflicting.push(property.name.clone()),
                }
            }
        }
        let path = self.paths.calendar(*list);
        let mut out = Multistatus::new();
        if forbidden.is_empty() && conflicting.is_empty() && !done.is_empty() {
            let actor = Actor::new(&self.user.id, Source::Caldav);
            match self
                .state
                .tasks
                .update_list(&actor, *list, &patch, None)
                .await
            {
                Ok(_) => {}
                Err(taskflow_store::Error::Invalid(_)) => {
                    conflicting = std::mem::take(&mut done);
                }
                Err(err) => return Err(err.into()),
            }
        }
        let failed = match forbidden.is_empty() && conflicting.is_empty() {
            true => ("200 OK", done),
            false => ("424 Failed Dependency", done),
        };
        out.propstats(
            &path,
            &[
                failed,
                ("403 Forbidden", forbidden),
                ("409 Conflict", conflicting),
            ],
        );
        Ok(multistatus(out.finish("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn preconditions_read_tag_lists_and_a_star() {
        let mut headers = HeaderMap::new();
        assert_eq!(preconditions(&headers), Preconditions::default());
        headers.insert(
            header::IF_MATCH,
            HeaderValue::from_static("\"1-2\", \"1-3\""),
        );
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        let pre = preconditions(&headers);
        assert_eq!(pre.if_match, Some(vec!["\"1-2\"".into(), "\"1-3\"".into()]));
        assert!(pre.if_none_match_any);
    }
}
