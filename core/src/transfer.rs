//! Export and import: one JSON document holding everything a person owns
//! (lists, tasks with their subtasks, links, comments, recurrence and
//! reminders), and the checks an import makes before writing anything.
//! Ids in a document are its own: they tie its entries together and are
//! remapped on import. Sharing (members, assignees) names other people's
//! accounts, so it is not part of a document.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    CreateList, CreateTask, Due, Invalid, ListFields, MAX_LIST_DEPTH, Priority, Reminder, Task,
    TaskFields, WriteComment,
};

/// The `format` of every export document.
pub const EXPORT_FORMAT: &str = "taskflow.export";
/// The document version this server writes and reads.
pub const EXPORT_VERSION: u32 = 1;
/// How deep subtasks nest: a top-level task is at depth 1.
pub const MAX_TASK_DEPTH: usize = 3;
/// The most problems an import refusal names (the rest are counted).
pub const MAX_IMPORT_ERRORS: usize = 100;
/// The most links a document holds (each `blocks` is checked for a cycle).
pub const MAX_IMPORT_LINKS: usize = 10_000;

/// Everything a person owns, as `GET /api/export` writes it and `POST
/// /api/import` reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// Always `taskflow.export`.
    pub format: String,
    /// The document version (1).
    pub version: u32,
    /// When it was written (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<DateTime<Utc>>,
    /// Whose it is (informative: an import goes to the caller's account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Lists, parents before the lists in them, each level in its order.
    #[serde(default)]
    pub lists: Vec<ExportList>,
    /// Tasks, parents before their subtasks, each level in its order.
    #[serde(default)]
    pub tasks: Vec<ExportTask>,
    #[serde(default)]
    pub links: Vec<ExportLink>,
    /// Comments, oldest first.
    #[serde(default)]
    pub comments: Vec<ExportComment>,
}

/// A list in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportList {
    /// Its id in this document.
    pub id: i64,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The list (of this document) it is nested in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// The Inbox (at most one; it becomes the importer's Inbox).
    #[serde(default, skip_serializing_if = "is_false")]
    pub inbox: bool,
    /// When it was archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
}

/// A task in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportTask {
    /// Its id in this document.
    pub id: i64,
    /// The list (of this document) it is in; absent: the Inbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<i64>,
    /// The task (of this document, in the same list) it is a subtask of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A date or a local date-time in `timezone`, as a task shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// An RRULE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<String>,
    /// Where a repeating task's series began (in `timezone`), when not at
    /// this occurrence: a COUNT counts from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<Reminder>,
    /// When it was completed; absent: open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was made; absent: when imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// A link between two tasks of a document: `task_id` blocks `other_id`,
/// or the two relate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportLink {
    pub task_id: i64,
    /// `blocks` or `relates`.
    pub kind: String,
    pub other_id: i64,
}

/// A comment on a task of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportComment {
    pub task_id: i64,
    /// Who wrote it (informative: an imported comment is the importer's,
    /// as nobody may write in another's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl ExportTask {
    /// A task as a document holds it.
    pub fn of(task: &Task, parent_id: Option<i64>) -> ExportTask {
        ExportTask {
            id: task.id,
            list_id: Some(task.list_id),
            parent_id,
            title: task.title.clone(),
            description: task.description.clone(),
            priority: (task.priority != Priority::None).then_some(task.priority),
            tags: task.tags.clone(),
            due: task.due.clone(),
            timezone: task.timezone.clone(),
            recurrence: task.recurrence.clone(),
            series_start: None,
            reminder: task.reminder,
            completed_at: task.completed_at,
            created_at: Some(task.created_at),
        }
    }

    fn fields(&self) -> Result<TaskFields, Invalid> {
        CreateTask {
            title: self.title.clone(),
            description: self.description.clone(),
            priority: self.priority,
            tags: self.tags.clone(),
            due: self.due.clone(),
            timezone: self.timezone.clone(),
            recurrence: self.recurrence.clone(),
            reminder: self.reminder,
            ..CreateTask::default()
        }
        .parse()
    }
}

/// A document checked, in the order its entries are written: every list
/// before the lists in it, every task before its subtasks. References are
/// indexes into these vectors.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// The document's Inbox, when it has one.
    pub inbox: Option<PlannedInbox>,
    pub lists: Vec<PlannedList>,
    pub tasks: Vec<PlannedTask>,
    pub links: Vec<PlannedLink>,
    pub comments: Vec<PlannedComment>,
}

/// The document's Inbox: its id there and the fields the importer's
/// Inbox takes.
#[derive(Debug, Clone)]
pub struct PlannedInbox {
    pub id: i64,
    pub fields: ListFields,
}

/// The lists of a document, checked (by `Export::plan_lists`).
struct ListsPlanned {
    inbox: Option<PlannedInbox>,
    /// The Inbox's id, even when its fields are at fault.
    inbox_id: Option<i64>,
    lists: Vec<PlannedList>,
    /// Where each document id went (`None`: the Inbox).
    index: HashMap<i64, Option<usize>>,
}

#[derive(Debug, Clone)]
pub struct PlannedList {
    /// Its id in the document.
    pub id: i64,
    pub fields: ListFields,
    /// The list it is nested in: the Inbox or one before it in `lists`.
    pub parent: Option<PlannedHome>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// Where a planned task goes: the Inbox or one of the planned lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedHome {
    Inbox,
    List(usize),
}

#[derive(Debug, Clone)]
pub struct PlannedTask {
    pub id: i64,
    pub home: PlannedHome,
    /// The index of its parent in `tasks`.
    pub parent: Option<usize>,
    pub fields: TaskFields,
    /// Where its series began, when not at this occurrence.
    pub series_start: Option<Due>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
}

/// `from` blocks `to` (indexes into `tasks`), or they relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedLink {
    pub from: usize,
    pub blocks: bool,
    pub to: usize,
}

#[derive(Debug, Clone)]
pub struct PlannedComment {
    pub task: usize,
    pub body: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// What an import refusal names: each entry at fault, with why.
#[derive(Debug, Default)]
struct Problems(Vec<Invalid>);

impl Problems {
    fn add(&mut self, at: String, invalid: Invalid) {
        let field = match invalid.field.as_str() {
            "" => at,
            field => format!("{at}.{field}"),
        };
        self.0.push(Invalid::new(field, invalid.reason));
    }

    fn say(&mut self, field: String, reason: impl Into<String>) {
        self.0.push(Invalid::new(field, reason));
    }
}

impl Export {
    /// Checks every entry; the plan to write, or every problem found (each
    /// naming its entry: `tasks[3].due`).
    pub fn plan(&self) -> Result<ImportPlan, Vec<Invalid>> {
        let mut problems = Problems::default();
        if self.format != EXPORT_FORMAT {
            problems.say(
                "format".into(),
                format!("a Taskflow export has format `{EXPORT_FORMAT}`"),
            );
        }
        if self.version != EXPORT_VERSION {
            problems.say(
                "version".into(),
                format!("this server reads version {EXPORT_VERSION} of the export format"),
            );
        }
        let lists = self.plan_lists(&mut problems);
        let (tasks, task_index) = self.plan_tasks(&lists.index, lists.inbox_id, &mut problems);
        let links = self.plan_links(&task_index, &mut problems);
        let comments = self.plan_comments(&task_index, &mut problems);
        if !problems.0.is_empty() {
            return Err(problems.0);
        }
        Ok(ImportPlan {
            inbox: lists.inbox,
            lists: lists.lists,
            tasks,
            links,
            comments,
        })
    }

    /// The lists, parents first, and the Inbox.
    fn plan_lists(&self, problems: &mut Problems) -> ListsPlanned {
        let mut by_id: HashMap<i64, usize> = HashMap::new();
        let mut inbox: (Option<PlannedInbox>, Option<i64>) = (None, None);
        for (i, list) in self.lists.iter().enumerate() {
            let at = format!("lists[{i}]");
            if by_id.insert(list.id, i).is_some() {
                problems.say(
                    format!("{at}.id"),
                    format!("list id {} is repeated", list.id),
                );
            }
            if list.inbox {
                if inbox.1.is_some() {
                    problems.say(format!("{at}.inbox"), "a document has at most one Inbox");
                } else {
                    inbox.1 = Some(list.id);
                }
                if list.parent_id.is_some() {
                    problems.say(format!("{at}.parent_id"), "the Inbox is not nested");
                }
                if list.archived_at.is_some() {
                    problems.say(format!("{at}.archived_at"), "the Inbox is never archived");
                }
            }
        }
        // Depth first from the top, keeping each level's order; a list
        // never reached is in a cycle or under a missing parent.
        let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
        for (i, list) in self.lists.iter().enumerate() {
            match list.parent_id {
                Some(parent) if !by_id.contains_key(&parent) => problems.say(
                    format!("lists[{i}].parent_id"),
                    format!("no list {parent} in this document"),
                ),
                parent => children.entry(parent).or_default().push(i),
            }
        }
        let mut order: Vec<(usize, usize)> = Vec::new();
        let mut stack: Vec<(usize, usize)> = children
            .get(&None)
            .into_iter()
            .flatten()
            .rev()
            .map(|&i| (i, 1))
            .collect();
        let mut seen = HashSet::new();
        while let Some((i, depth)) = stack.pop() {
            if !seen.insert(i) {
                continue;
            }
            order.push((i, depth));
            for &child in children
                .get(&Some(self.lists[i].id))
                .into_iter()
                .flatten()
                .rev()
            {
                stack.push((child, depth + 1));
            }
        }
        for (i, list) in self.lists.iter().enumerate() {
            if !seen.contains(&i) && list.parent_id.is_some_and(|p| by_id.contains_key(&p)) {
                problems.say(
                    format!("lists[{i}].parent_id"),
                    "the lists' nesting makes a cycle",
                );
            }
        }
        let mut planned = Vec::new();
        let mut index = HashMap::new();
        for (i, depth) in order {
            let list = &self.lists[i];
            let at = format!("lists[{i}]");
            if depth > MAX_LIST_DEPTH {
                problems.say(
                    format!("{at}.parent_id"),
                    format!("lists nest at most {MAX_LIST_DEPTH} levels deep"),
                );
            }
            let fields = CreateList {
                title: list.title.clone(),
                description: list.description.clone(),
                color: list.color.clone(),
                parent_id: None,
            }
            .parse();
            let fields = match fields {
                Ok(fields) => fields,
                Err(invalid) => {
                    problems.add(at, invalid);
                    continue;
                }
            };
            if list.inbox {
                inbox.0 = Some(PlannedInbox {
                    id: list.id,
                    fields,
                });
                index.insert(list.id, None);
                continue;
            }
            let parent = list
                .parent_id
                .and_then(|p| index.get(&p).copied())
                .map(|p| p.map_or(PlannedHome::Inbox, PlannedHome::List));
            index.insert(list.id, Some(planned.len()));
            planned.push(PlannedList {
                id: list.id,
                fields,
                parent,
                archived_at: list.archived_at,
            });
        }
        ListsPlanned {
            inbox: inbox.0,
            inbox_id: inbox.1,
            lists: planned,
            index,
        }
    }

    /// The tasks, parents first, and where each document id went.
    fn plan_tasks(
        &self,
        lists: &HashMap<i64, Option<usize>>,
        inbox: Option<i64>,
        problems: &mut Problems,
    ) -> (Vec<PlannedTask>, HashMap<i64, usize>) {
        let mut by_id: HashMap<i64, usize> = HashMap::new();
        for (i, task) in self.tasks.iter().enumerate() {
            if by_id.insert(task.id, i).is_some() {
                problems.say(
                    format!("tasks[{i}].id"),
                    format!("task id {} is repeated", task.id),
                );
            }
        }
        let list_ids: HashSet<i64> = self.lists.iter().map(|l| l.id).collect();
        let home_of = |task: &ExportTask| task.list_id.filter(|id| Some(*id) != inbox);
        let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
        for (i, task) in self.tasks.iter().enumerate() {
            let at = format!("tasks[{i}]");
            if let Some(list) = task.list_id
                && !lists.contains_key(&list)
                && !list_ids.contains(&list)
            {
                problems.say(
                    format!("{at}.list_id"),
                    format!("no list {list} in this document"),
                );
            }
            match task.parent_id.map(|p| (p, by_id.get(&p))) {
                Some((parent, None)) => problems.say(
                    format!("{at}.parent_id"),
                    format!("no task {parent} in this document"),
                ),
                Some((_, Some(&p))) if home_of(&self.tasks[p]) != home_of(task) => problems.say(
                    format!("{at}.parent_id"),
                    "a subtask is in its parent's list",
                ),
                _ => children.entry(task.parent_id).or_default().push(i),
            }
        }
        let mut order: Vec<(usize, usize)> = Vec::new();
        let mut level: Vec<(usize, usize)> = children
            .get(&None)
            .into_iter()
            .flatten()
            .map(|&i| (i, 1))
            .collect();
        // Level by level, so every parent precedes its subtasks.
        let mut seen = HashSet::new();
        while !level.is_empty() {
            let mut next = Vec::new();
            for (i, depth) in level {
                if !seen.insert(i) {
                    continue;
                }
                order.push((i, depth));
                let kids = children.get(&Some(self.tasks[i].id)).into_iter().flatten();
                next.extend(kids.map(|&c| (c, depth + 1)));
            }
            level = next;
        }
        for (i, task) in self.tasks.iter().enumerate() {
            let placed = task
                .parent_id
                .and_then(|p| by_id.get(&p))
                .is_some_and(|&p| home_of(&self.tasks[p]) == home_of(task));
            if !seen.contains(&i) && placed {
                // Unreached: in a cycle, or below an entry named already.
                let mut up = i;
                let mut steps = 0;
                let cycle = loop {
                    let parent = self.tasks[up]
                        .parent_id
                        .and_then(|p| by_id.get(&p).copied());
                    match parent {
                        Some(p) if p == i => break true,
                        Some(p) if steps <= self.tasks.len() => (up, steps) = (p, steps + 1),
                        _ => break false,
                    }
                };
                let reason = match cycle {
                    true => "the tasks' nesting makes a cycle",
                    false => "a task above it is at fault (named on its own entry)",
                };
                problems.say(format!("tasks[{i}].parent_id"), reason);
            }
        }
        let mut planned = Vec::new();
        let mut index = HashMap::new();
        for (i, depth) in order {
            let task = &self.tasks[i];
            let at = format!("tasks[{i}]");
            if depth > MAX_TASK_DEPTH {
                problems.say(
                    format!("{at}.parent_id"),
                    format!("subtasks nest at most {MAX_TASK_DEPTH} levels deep"),
                );
            }
            let home = match home_of(task).map(|id| lists.get(&id)) {
                None => PlannedHome::Inbox,
                Some(Some(Some(list))) => PlannedHome::List(*list),
                // A list at fault is named already.
                Some(_) => continue,
            };
            let fields = match task.fields() {
                Ok(fields) => fields,
                Err(invalid) => {
                    problems.add(at, invalid);
                    continue;
                }
            };
            let series_start = match (&task.series_start, fields.recurrence.is_some()) {
                (None, _) => None,
                (Some(_), false) => {
                    problems.say(
                        format!("{at}.series_start"),
                        "only a repeating task has a series",
                    );
                    continue;
                }
                (Some(text), true) => {
                    let zone = fields.due.map_or(crate::Zone::UTC, |d| d.zone());
                    match Due::parse(text, zone) {
                        Ok(start) => Some(start),
                        Err(invalid) => {
                            problems.add(at, Invalid::new("series_start", invalid.reason));
                            continue;
                        }
                    }
                }
            };
            let parent = task.parent_id.and_then(|p| index.get(&p).copied());
            index.insert(task.id, planned.len());
            planned.push(PlannedTask {
                id: task.id,
                home,
                parent,
                fields,
                series_start,
                completed_at: task.completed_at,
                created_at: task.created_at,
            });
        }
        (planned, index)
    }

    fn plan_links(&self, tasks: &HashMap<i64, usize>, problems: &mut Problems) -> Vec<PlannedLink> {
        if self.links.len() > MAX_IMPORT_LINKS {
            problems.say(
                "links".into(),
                format!("a document holds at most {MAX_IMPORT_LINKS} links"),
            );
            return Vec::new();
        }
        let task_ids: HashSet<i64> = self.tasks.iter().map(|t| t.id).collect();
        // Each link to make, with its place in the document.
        let mut planned: Vec<(usize, PlannedLink)> = Vec::new();
        let mut seen = HashSet::new();
        for (i, link) in self.links.iter().enumerate() {
            let at = format!("links[{i}]");
            let blocking = match link.kind.as_str() {
                "blocks" => true,
                "relates" => false,
                other => {
                    problems.say(
                        format!("{at}.kind"),
                        format!("`{other}` is not a link; use blocks or relates"),
                    );
                    continue;
                }
            };
            let ends = [("task_id", link.task_id), ("other_id", link.other_id)]
                .map(|(field, id)| (field, tasks.get(&id).copied().ok_or(id)));
            let [(_, Ok(from)), (_, Ok(to))] = ends else {
                for (field, end) in ends {
                    if let Err(id) = end
                        && !task_ids.contains(&id)
                    {
                        problems.say(
                            format!("{at}.{field}"),
                            format!("no task {id} in this document"),
                        );
                    }
                }
                continue;
            };
            if from == to {
                problems.say(
                    format!("{at}.other_id"),
                    "a task cannot be linked to itself",
                );
                continue;
            }
            // `relates` either way is one link; a repeat is one link too.
            let key = match blocking {
                true => (from, true, to),
                false => (from.min(to), false, from.max(to)),
            };
            if seen.insert(key) {
                let link = PlannedLink {
                    from,
                    blocks: blocking,
                    to,
                };
                planned.push((i, link));
            }
        }
        // A cycle is rare: look for one in linear time, and only then find
        // (link by link) which links close it.
        let edges: Vec<(usize, usize)> = planned
            .iter()
            .filter(|(_, l)| l.blocks)
            .map(|(_, l)| (l.from, l.to))
            .collect();
        if !has_cycle(&edges) {
            return planned.into_iter().map(|(_, link)| link).collect();
        }
        let mut blocks: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut kept = Vec::with_capacity(planned.len());
        for (i, link) in planned {
            if link.blocks {
                if reaches(&blocks, link.to, link.from) {
                    problems.say(
                        format!("links[{i}].other_id"),
                        "these blocks make a cycle: a task would wait on itself",
                    );
                    continue;
                }
                blocks.entry(link.from).or_default().push(link.to);
            }
            kept.push(link);
        }
        kept
    }

    fn plan_comments(
        &self,
        tasks: &HashMap<i64, usize>,
        problems: &mut Problems,
    ) -> Vec<PlannedComment> {
        let task_ids: HashSet<i64> = self.tasks.iter().map(|t| t.id).collect();
        let mut planned = Vec::new();
        for (i, comment) in self.comments.iter().enumerate() {
            let at = format!("comments[{i}]");
            let body = WriteComment {
                body: comment.body.clone(),
            }
            .parse();
            let task = tasks.get(&comment.task_id).copied();
            match (task, body) {
                (Some(task), Ok(body)) => planned.push(PlannedComment {
                    task,
                    body,
                    created_at: comment.created_at,
                }),
                (task, body) => {
                    if task.is_none() && !task_ids.contains(&comment.task_id) {
                        problems.say(
                            format!("{at}.task_id"),
                            format!("no task {} in this document", comment.task_id),
                        );
                    }
                    if let Err(invalid) = body {
                        problems.add(at, invalid);
                    }
                }
            }
        }
        planned
    }
}

/// Whether the edges `(from, to)` make a cycle (Kahn's algorithm).
fn has_cycle(edges: &[(usize, usize)]) -> bool {
    let mut into: HashMap<usize, usize> = HashMap::new();
    let mut out: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(from, to) in edges {
        into.entry(from).or_insert(0);
        *into.entry(to).or_insert(0) += 1;
        out.entry(from).or_default().push(to);
    }
    let mut free: Vec<usize> = into
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(v, _)| *v)
        .collect();
    let mut done = 0;
    while let Some(v) = free.pop() {
        done += 1;
        for next in out.get(&v).into_iter().flatten() {
            if let Some(n) = into.get_mut(next) {
                *n -= 1;
                if *n == 0 {
                    free.push(*next);
                }
            }
        }
    }
    done < into.len()
}

/// Whether `from` reaches `to` along `blocks`.
fn reaches(blocks: &HashMap<usize, Vec<usize>>, from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = HashSet::new();
    while let Some(at) = stack.pop() {
        if at == to {
            return true;
        }
        if seen.insert(at) {
            stack.extend(blocks.get(&at).into_iter().flatten());
        }
    }
    false
}

/// What an import wrote (or, in a dry run, would write).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImportReport {
    /// Nothing was written: the document was checked and the import
    /// rehearsed in a transaction that was rolled back.
    pub dry_run: bool,
    pub lists: usize,
    pub tasks: usize,
    pub links: usize,
    pub comments: usize,
    /// Each list's new id by its id in the document.
    pub list_ids: std::collections::BTreeMap<i64, i64>,
    /// Each task's new id by its id in the document.
    pub task_ids: std::collections::BTreeMap<i64, i64>,
}

/// `?dry_run=true` on an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check and rehearse the import without writing anything.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// The query of a Todoist CSV import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TodoistQuery {
    /// The new list's title (default `Todoist`).
    #[serde(default)]
    pub list: Option<String>,
    /// The IANA zone relative dates ("tomorrow") are read in, for rows
    /// without a TIMEZONE (default: the profile's, else UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Check and rehearse the import without writing anything.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Export {
        serde_json::from_value(serde_json::json!({
            "format": "taskflow.export", "version": 1,
            "lists": [
                {"id": 1, "title": "Inbox", "inbox": true},
                {"id": 3, "title": "Garden", "parent_id": 2},
                {"id": 2, "title": "Home"},
            ],
            "tasks": [
                {"id": 12, "list_id": 2, "parent_id": 11, "title": "Child"},
                {"id": 11, "list_id": 2, "title": "Parent"},
                {"id": 13, "title": "In the Inbox"},
                {"id": 14, "list_id": 1, "title": "Inbox by id"},
            ],
            "links": [{"task_id": 11, "kind": "blocks", "other_id": 13}],
            "comments": [{"task_id": 12, "body": "note"}],
        }))
        .unwrap()
    }

    #[test]
    fn a_plan_puts_parents_first_and_the_inbox_apart() {
        let plan = doc().plan().unwrap();
        let inbox = plan.inbox.unwrap();
        assert_eq!((inbox.id, inbox.fields.title.as_str()), (1, "Inbox"));
        let lists: Vec<_> = plan.lists.iter().map(|l| (l.id, l.parent)).collect();
        assert_eq!(lists, [(2, None), (3, Some(PlannedHome::List(0)))]);
        let tasks: Vec<_> = plan
            .tasks
            .iter()
            .map(|t| (t.id, t.home, t.parent))
            .collect();
        assert_eq!(
            tasks,
            [
                (11, PlannedHome::List(0), None),
                (13, PlannedHome::Inbox, None),
                (14, PlannedHome::Inbox, None),
                (12, PlannedHome::List(0), Some(0)),
            ]
        );
        assert_eq!(
            plan.links,
            [PlannedLink {
                from: 0,
                blocks: true,
                to: 1
            }]
        );
        assert_eq!(plan.comments[0].task, 3);
    }

    #[test]
    fn every_bad_entry_is_named() {
        let mut doc = doc();
        doc.version = 2;
        doc.lists[1].title = " ".into();
        doc.lists.push(ExportList {
            id: 9,
            title: "Loop".into(),
            description: None,
            color: None,
            parent_id: Some(9),
            inbox: false,
            archived_at: None,
        });
        doc.tasks[0].due = Some("tomorrow".into());
        doc.tasks[3].parent_id = Some(99);
        doc.links.push(ExportLink {
            task_id: 13,
            kind: "blocks".into(),
            other_id: 11,
        });
        doc.links.push(ExportLink {
            task_id: 13,
            kind: "follows".into(),
            other_id: 11,
        });
        doc.comments.push(ExportComment {
            task_id: 77,
            author: None,
            body: String::new(),
            created_at: None,
        });
        let fields: Vec<String> = doc
            .plan()
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            [
                "version",
                "lists[3].parent_id",
                "lists[1].title",
                "tasks[3].parent_id",
                "tasks[0].due",
                "links[2].kind",
                "links[1].other_id",
                "comments[1].task_id",
                "comments[1].body",
            ]
        );
    }

    #[test]
    fn nesting_deeper_than_allowed_is_refused() {
        let mut doc = doc();
        for id in 20..24 {
            let parent = (id > 20).then_some(id - 1);
            doc.tasks.push(
                serde_json::from_value(serde_json::json!({
                    "id": id, "list_id": 2, "parent_id": parent, "title": "t",
                }))
                .unwrap(),
            );
        }
        let problems = doc.plan().unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "tasks[7].parent_id");
    }
}
