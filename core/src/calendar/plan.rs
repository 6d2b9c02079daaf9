//! What a CalDAV `PUT` changes (plan 26 §5–§6): the client's to-do compared
//! with what [`render_object`](super::render_object) gave it for the task,
//! so that an echo changes nothing, and the ways clients complete a
//! recurring task, each completing the occurrence once (the Recurrence
//! worker then makes the next one).

use chrono::{DateTime, Utc};

use super::read::{ClientResource, Extra};
use super::{CalendarItem, Uids, has_alarm, shown_extra};
use crate::{Description, Due, Tags, TaskFields, Title};

/// The task a `PUT` replaces, as it is rendered.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub item: &'a CalendarItem,
    /// The UIDs it is written with.
    pub uids: &'a Uids,
    /// What its client sent that Taskflow keeps.
    pub extra: &'a Extra,
}

/// Whether a `PUT` completes or reopens the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    None,
    Complete,
    Reopen,
}

/// What to do with a `PUT`.
// One per request, moved once: not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The body says what the task already says: no write, no new version.
    Unchanged,
    /// Write these fields (all of them: an absent property clears its
    /// field), complete or reopen, and keep `extra`.
    Write {
        fields: TaskFields,
        completion: Completion,
        /// The parent's UID the body names (`None`: no parent).
        parent: Option<String>,
        extra: Extra,
    },
}

/// Plans the `PUT` of `client` over `current` (`None`: a new task). For an
/// open recurring task X (rule R, due D, anchor A, next occurrence N):
/// - (a) the to-do is done → complete X (with the body's other changes);
/// - (b) a done `RECURRENCE-ID` override of an occurrence before N (or not
///   after `now`, python-caldav's completion time) → complete X; later and
///   `RANGE=THISANDFUTURE` overrides are dropped;
/// - (c) the to-do stays open with DUE exactly N and the RRULE we wrote or
///   its COUNT one lower (the app completed and rescheduled) → complete X,
///   which keeps D;
/// - (d) any other change of DUE is an edit.
pub fn plan_put(
    current: Option<&Current<'_>>,
    client: &ClientResource,
    now: DateTime<Utc>,
) -> Plan {
    let Some(current) = current else {
        return Plan::Write {
            fields: client.fields.clone(),
            completion: if client.completed.is_some() {
                Completion::Complete
            } else {
                Completion::None
            },
            parent: client.parent_uid.clone(),
            extra: client.extra.clone(),
        };
    };
    let item = current.item;
    let mut fields = merged(item, client);
    let completion = match item.completed_at {
        Some(_) if client.completed.is_none() => Completion::Reopen,
        Some(_) => Completion::None,
        None if client.completed.is_some() => Completion::Complete,
        None => match recurring(item, client, now) {
            Recurring::OverrideDone => Completion::Complete,
            Recurring::Rescheduled => {
                fields.due = item.due;
                fields.recurrence = item.recurrence.clone();
                fields.reminder = item.reminder;
                Completion::Complete
            }
            Recurring::Edit => Completion::None,
        },
    };
    let mut extra = client.extra.clone();
    if !has_alarm(item) && extra.alarm.is_empty() {
        extra.alarm = current.extra.alarm.clone();
    }
    let unchanged = completion == Completion::None
        && fields_of(item).as_ref() == Some(&fields)
        && client.parent_uid == current.uids.parent
        && client.extra == shown_extra(item, current.extra);
    if unchanged {
        return Plan::Unchanged;
    }
    Plan::Write {
        fields,
        completion,
        parent: client.parent_uid.clone(),
        extra,
    }
}

/// How an open recurring task's body reads.
enum Recurring {
    /// Rule (b).
    OverrideDone,
    /// Rule (c).
    Rescheduled,
    /// Rule (d), or not recurring.
    Edit,
}

fn recurring(item: &CalendarItem, client: &ClientResource, now: DateTime<Utc>) -> Recurring {
    let (Some(rule), Some(due)) = (&item.recurrence, &item.due) else {
        return Recurring::Edit;
    };
    let anchor = item.anchor.as_ref().unwrap_or(due);
    let next = rule.next_after(anchor, due);
    let completes =
        |id: &Due| next.is_none_or(|n| id.instant() < n.instant()) || id.instant() <= now;
    if client
        .overrides
        .iter()
        .any(|o| o.completed && !o.this_and_future && completes(&o.recurrence_id))
    {
        return Recurring::OverrideDone;
    }
    let Some(next) = next else {
        return Recurring::Edit;
    };
    let sent = match (
        &client.fields.recurrence,
        &client.anchor,
        &client.fields.due,
    ) {
        (Some(sent), Some(sent_anchor), Some(sent_due)) if *sent_due == next => {
            sent.to_ical(sent_anchor, sent_due)
        }
        _ => return Recurring::Edit,
    };
    if sent == rule.to_ical(anchor, due) || sent == rule.to_ical(anchor, &next) {
        Recurring::Rescheduled
    } else {
        Recurring::Edit
    }
}

/// The body's fields, with the task's own value wherever the body says
/// what it was shown: the rule (written relative to this occurrence, its
/// COUNT what is left) and, for a completed task, the rule and reminder a
/// completed to-do is written without.
fn merged(item: &CalendarItem, client: &ClientResource) -> TaskFields {
    let mut fields = client.fields.clone();
    let shown_rule = match (&item.recurrence, &item.due) {
        (Some(rule), Some(due)) if item.completed_at.is_none() => {
            Some(rule.to_ical(item.anchor.as_ref().unwrap_or(due), due))
        }
        _ => None,
    };
    let sent_rule = match (
        &client.fields.recurrence,
        &client.anchor,
        &client.fields.due,
    ) {
        (Some(rule), Some(anchor), Some(due)) => Some(rule.to_ical(anchor, due)),
        _ => None,
    };
    if sent_rule == shown_rule {
        fields.recurrence = item.recurrence.clone();
    }
    if !has_alarm(item) && client.fields.reminder.is_none() {
        fields.reminder = item.reminder;
    }
    // What was kept must still fit the body's due (a rule needs one).
    fields.check().unwrap_or_else(|_| client.fields.clone())
}

/// The item's fields as domain values.
fn fields_of(item: &CalendarItem) -> Option<TaskFields> {
    Some(TaskFields {
        title: Title::parse(&item.title).ok()?,
        description: Description::parse(item.description.as_deref().unwrap_or_default()).ok()?,
        priority: item.priority,
        tags: Tags::parse(&item.tags).ok()?,
        due: item.due,
        recurrence: item.recurrence.clone(),
        reminder: item.reminder,
    })
}
