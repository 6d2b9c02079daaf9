//! Todoist's CSV project export, read into an export document
//! (`core::transfer`) of one new list. Sections become lists inside it,
//! `note` rows comments on the task above, INDENT subtasks (nested deeper
//! than Taskflow allows, a task joins its deepest allowed ancestor's
//! subtasks), `@labels` in CONTENT tags, PRIORITY 1 (highest) to 4 (none).
//! DATE is Todoist's own words, read as the chat reader reads a moment
//! ("every monday at 9am", "Jan 4"); a date it cannot read, or one in
//! another language, stays in the task's description as written. Columns
//! are found by name (they drift between Todoist versions); the format's
//! quirks are in `docs/reference/todoist-csv.md`.

use chrono::{DateTime, Utc};
use taskflow_core::task::{MAX_TAGS, MAX_TITLE};
use taskflow_core::{
    Due, EXPORT_FORMAT, EXPORT_VERSION, Export, ExportComment, ExportList, ExportTask, Invalid,
    MAX_TASK_DEPTH, Priority, Tag, Zone,
};

use crate::read::{self, Command};

/// A Todoist CSV read into a document, and where each of its entries came
/// from, to name a line of the file in an error.
#[derive(Debug, Clone)]
pub struct TodoistImport {
    pub document: Export,
    /// The file's line of each task, by its index in `document.tasks`.
    task_lines: Vec<u64>,
    /// The file's line of each comment, by its index.
    comment_lines: Vec<u64>,
    /// The file's line of each section's list, by its index (the first
    /// list, the new one, has none).
    list_lines: Vec<Option<u64>>,
}

/// The columns this reader uses, by their header names.
struct Columns {
    kind: usize,
    content: usize,
    description: Option<usize>,
    priority: Option<usize>,
    indent: Option<usize>,
    date: Option<usize>,
    date_lang: Option<usize>,
    timezone: Option<usize>,
    deadline: Option<usize>,
}

impl Columns {
    fn find(headers: &csv::StringRecord) -> Result<Columns, Invalid> {
        let at = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let needed = |name: &str| {
            at(name).ok_or_else(|| {
                Invalid::new(
                    "csv",
                    format!("the first line names no {name} column; is this a Todoist CSV export?"),
                )
            })
        };
        Ok(Columns {
            kind: needed("TYPE")?,
            content: needed("CONTENT")?,
            description: at("DESCRIPTION"),
            priority: at("PRIORITY"),
            indent: at("INDENT"),
            date: at("DATE"),
            date_lang: at("DATE_LANG"),
            timezone: at("TIMEZONE"),
            deadline: at("DEADLINE"),
        })
    }
}

/// A task being read, that later ones may be under: its document index
/// and INDENT.
#[derive(Clone, Copy)]
struct Open {
    index: usize,
    indent: u32,
}

impl TodoistImport {
    /// Reads `csv` (a Todoist project export) into a document of one list
    /// titled `title`; relative dates are read at `now` in `zone` (a row's
    /// TIMEZONE, when set, wins). Every line at fault is named.
    pub fn read(
        csv: &str,
        title: &str,
        zone: Zone,
        now: DateTime<Utc>,
    ) -> Result<TodoistImport, Vec<Invalid>> {
        let csv = csv.strip_prefix('\u{feff}').unwrap_or(csv);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(csv.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| vec![Invalid::new("csv", format!("not a CSV file: {e}"))])?
            .clone();
        let columns = Columns::find(&headers).map_err(|e| vec![e])?;
        let mut import = TodoistImport {
            document: Export {
                format: EXPORT_FORMAT.into(),
                version: EXPORT_VERSION,
                exported_at: None,
                user: None,
                lists: vec![ExportList {
                    id: 1,
                    title: title.to_owned(),
                    description: None,
                    color: None,
                    parent_id: None,
                    inbox: false,
                    archived_at: None,
                }],
                tasks: Vec::new(),
                links: Vec::new(),
                comments: Vec::new(),
            },
            task_lines: Vec::new(),
            comment_lines: Vec::new(),
            list_lines: vec![None],
        };
        let mut problems = Vec::new();
        let mut list = 1;
        let mut open: Vec<Open> = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    problems.push(Invalid::new(format!("line {line}"), e.to_string()));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
            // A quoted cell may span lines, ended as the file's are.
            let text = |i: Option<usize>| cell(i).replace("\r\n", "\n");
            let content = text(Some(columns.content));
            let content = content.as_str();
            match cell(Some(columns.kind)).to_ascii_lowercase().as_str() {
                // A separator row, or the view's settings.
                "" | "meta" => {}
                "section" => {
                    let id = import.document.lists.len() as i64 + 1;
                    import.document.lists.push(ExportList {
                        id,
                        title: content.to_owned(),
                        description: None,
                        color: None,
                        parent_id: Some(1),
                        inbox: false,
                        archived_at: None,
                    });
                    import.list_lines.push(Some(line));
                    list = id;
                    open.clear();
                }
                "note" => match open.last() {
                    Some(task) => {
                        let task_id = import.document.tasks[task.index].id;
                        import.document.comments.push(ExportComment {
                            task_id,
                            author: None,
                            body: content.to_owned(),
                            created_at: None,
                        });
                        import.comment_lines.push(line);
                    }
                    None => problems.push(Invalid::new(
                        format!("line {line}"),
                        "a note comes after the task it is on; this one follows none",
                    )),
                },
                "task" => {
                    let indent = match cell(columns.indent) {
                        "" => 1,
                        text => match text.parse::<u32>() {
                            Ok(n) => n.max(1),
                            Err(_) => {
                                problems.push(Invalid::new(
                                    format!("line {line}.INDENT"),
                                    format!("`{text}` is not a level (1 is the top)"),
                                ));
                                continue;
                            }
                        },
                    };
                    let priority = match cell(columns.priority) {
                        "1" => Some(Priority::High),
                        "2" => Some(Priority::Medium),
                        "3" => Some(Priority::Low),
                        "4" | "" => None,
                        other => {
                            problems.push(Invalid::new(
                                format!("line {line}.PRIORITY"),
                                format!(
                                    "`{other}` is not a priority; Todoist's are 1 (highest) to 4"
                                ),
                            ));
                            continue;
                        }
                    };
                    while open.last().is_some_and(|o| o.indent >= indent) {
                        open.pop();
                    }
                    // Deeper than allowed: beside the deepest allowed level.
                    while open.len() >= MAX_TASK_DEPTH {
                        open.pop();
                    }
                    let parent = open.last().copied();
                    let row_zone = match cell(columns.timezone) {
                        "" => zone,
                        name => Zone::parse(name, "TIMEZONE").unwrap_or(zone),
                    };
                    let mut task = task_of(content, &text(columns.description), priority);
                    task.id = import.document.tasks.len() as i64 + 1;
                    task.list_id = Some(list);
                    task.parent_id = parent.map(|p| import.document.tasks[p.index].id);
                    let english = matches!(cell(columns.date_lang), "" | "en");
                    let said = cell(columns.date);
                    if !said.is_empty() {
                        match english.then(|| when(said, row_zone, now)).flatten() {
                            Some((due, timezone, recurrence)) => {
                                task.due = Some(due);
                                task.timezone = timezone;
                                task.recurrence = recurrence;
                            }
                            None => append(&mut task.description, &format!("Due: {said}")),
                        }
                    }
                    let deadline = cell(columns.deadline);
                    if !deadline.is_empty() {
                        append(&mut task.description, &format!("Deadline: {deadline}"));
                    }
                    open.push(Open {
                        index: import.document.tasks.len(),
                        indent,
                    });
                    import.document.tasks.push(task);
                    import.task_lines.push(line);
                }
                other => problems.push(Invalid::new(
                    format!("line {line}.TYPE"),
                    format!("`{other}` is not a row type; Todoist's are task, section and note"),
                )),
            }
        }
        match problems.is_empty() {
            true => Ok(import),
            false => Err(problems),
        }
    }

    /// An import problem's field (`tasks[3].due`) as the line of the file
    /// it came from (`line 7.due`).
    pub fn locate(&self, invalid: Invalid) -> Invalid {
        let found = [
            (
                "tasks[",
                &self.task_lines.iter().map(|l| Some(*l)).collect::<Vec<_>>(),
            ),
            (
                "comments[",
                &self.comment_lines.iter().map(|l| Some(*l)).collect(),
            ),
            ("lists[", &self.list_lines),
        ]
        .into_iter()
        .find_map(|(prefix, lines)| {
            let rest = invalid.field.strip_prefix(prefix)?;
            let (index, rest) = rest.split_once(']')?;
            let line = (*lines.get(index.parse::<usize>().ok()?)?)?;
            Some(format!("line {line}{rest}"))
        });
        match found {
            Some(field) => Invalid::new(field, invalid.reason),
            None => invalid,
        }
    }
}

/// A task of CONTENT (its `@labels` taken as tags), DESCRIPTION and
/// PRIORITY. A title longer than Taskflow's is cut, and kept whole at the
/// top of the description.
fn task_of(content: &str, description: &str, priority: Option<Priority>) -> ExportTask {
    let mut tags = Vec::new();
    let mut words = Vec::new();
    for word in content.split_whitespace() {
        match word.strip_prefix('@').map(Tag::parse) {
            Some(Ok(tag)) if tags.iter().any(|t| t == tag.as_str()) => {}
            Some(Ok(tag)) if tags.len() < MAX_TAGS => tags.push(tag.as_str().to_owned()),
            _ => words.push(word),
        }
    }
    let mut title = words.join(" ");
    if title.is_empty() {
        title = content.to_owned();
    }
    let mut description = (!description.is_empty()).then(|| description.to_owned());
    if title.chars().count() > MAX_TITLE {
        let whole = std::mem::take(&mut title);
        title = whole.chars().take(MAX_TITLE - 1).collect::<String>() + "…";
        description = Some(match description {
            Some(text) => format!("{whole}\n\n{text}"),
            None => whole,
        });
    }
    ExportTask {
        id: 0,
        list_id: None,
        parent_id: None,
        title,
        description,
        priority,
        tags,
        due: None,
        timezone: None,
        recurrence: None,
        series_start: None,
        reminder: None,
        completed_at: None,
        created_at: None,
    }
}

/// Adds a line to a description.
fn append(description: &mut Option<String>, line: &str) {
    *description = Some(match description.take() {
        Some(text) => format!("{text}\n\n{line}"),
        None => line.to_owned(),
    });
}

/// Todoist's due words as a due, its zone (for a time of day) and a
/// recurrence: a plain date or date-time as it is, anything else as the
/// chat reader reads a moment said in `zone` at `now`.
fn when(
    said: &str,
    zone: Zone,
    now: DateTime<Utc>,
) -> Option<(String, Option<String>, Option<String>)> {
    if let Ok(due) = Due::parse(said, zone) {
        let timed = due.time().is_some();
        return Some((
            due.local_text(),
            timed.then(|| zone.name().to_owned()),
            None,
        ));
    }
    // "every!" repeats from the completion date in Todoist; Taskflow's
    // repeats keep the schedule.
    let words = said.replace("every!", "every").replace('"', "");
    let message = format!("add \"todoist\" {words}");
    match read::read(&message, zone.local(now), zone.name()) {
        Command::Add(task) | Command::AddOrInList { task, .. } if task.due.is_some() => {
            Some((task.due?, task.timezone, task.recurrence))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn titles(import: &TodoistImport) -> HashMap<i64, &str> {
        import
            .document
            .tasks
            .iter()
            .map(|t| (t.id, t.title.as_str()))
            .collect()
    }

    const NOW: &str = "2026-12-06T12:00:00Z";

    fn read(csv: &str) -> Result<TodoistImport, Vec<Invalid>> {
        TodoistImport::read(csv, "Imported", Zone::UTC, NOW.parse().unwrap())
    }

    #[test]
    fn sections_subtasks_notes_labels_and_priorities() {
        let csv = "\u{feff}TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\r\n\
            meta,view_style=list,,,,,,,,\r\n\
            task,Buy milk @errands @home,2 litres,1,1,Ann (1),,2026-12-24,en,UTC\r\n\
            note,Semi-skimmed,,,,Ann (1),,,,\r\n\
            task,Find the receipt,,4,2,Ann (1),,,,UTC\r\n\
            ,,,,,,,,,\r\n\
            section,Garden,,,,,,,,\r\n\
            task,Water the plants,,2,1,Ann (1),,every monday at 9am,en,Europe/Berlin\r\n\
            task,Level two,,3,2,,,,,\r\n\
            task,Level three,,4,3,,,,,\r\n\
            task,Level four,,4,4,,,,,\r\n\
            task,Rake leaves,,4,1,,,nächsten Montag,de,Europe/Berlin\r\n";
        let import = read(csv).unwrap();
        let doc = &import.document;
        let lists: Vec<_> = doc
            .lists
            .iter()
            .map(|l| (l.id, l.title.as_str(), l.parent_id))
            .collect();
        assert_eq!(lists, [(1, "Imported", None), (2, "Garden", Some(1))]);
        let milk = &doc.tasks[0];
        assert_eq!(milk.title, "Buy milk");
        assert_eq!(milk.tags, ["errands", "home"]);
        assert_eq!(milk.priority, Some(Priority::High));
        assert_eq!(milk.description.as_deref(), Some("2 litres"));
        assert_eq!(milk.due.as_deref(), Some("2026-12-24"));
        assert_eq!(milk.list_id, Some(1));
        assert_eq!(doc.comments[0].task_id, milk.id);
        assert_eq!(doc.comments[0].body, "Semi-skimmed");
        assert_eq!(doc.tasks[1].parent_id, Some(milk.id));
        assert_eq!(doc.tasks[1].priority, None);
        let water = &doc.tasks[2];
        assert_eq!(water.list_id, Some(2));
        assert_eq!(water.priority, Some(Priority::Medium));
        assert_eq!(water.due.as_deref(), Some("2026-12-07T09:00"));
        assert_eq!(water.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(water.recurrence.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO"));
        let titles = titles(&import);
        let parent = |i: usize| doc.tasks[i].parent_id.map(|p| titles[&p]);
        assert_eq!(parent(3), Some("Water the plants"));
        assert_eq!(parent(4), Some("Level two"));
        // Deeper than three levels: beside the third.
        assert_eq!(parent(5), Some("Level two"));
        let rake = &doc.tasks[6];
        assert_eq!(rake.due, None);
        assert_eq!(rake.description.as_deref(), Some("Due: nächsten Montag"));
        doc.plan().expect("a Todoist document is a valid import");
    }

    #[test]
    fn bad_lines_are_named_by_their_line() {
        let csv = "TYPE,CONTENT,PRIORITY,INDENT\n\
            note,Orphan,,\n\
            task,Fine,1,1\n\
            task,Odd,9,1\n\
            folder,X,,\n\
            task,Deep,4,x\n";
        let fields: Vec<String> = read(csv)
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            ["line 2", "line 4.PRIORITY", "line 5.TYPE", "line 6.INDENT"]
        );
        let missing = read("NAME,CONTENT\nx,y\n").unwrap_err();
        assert_eq!(missing[0].field, "csv");
    }

    #[test]
    fn a_document_problem_names_the_line() {
        let long = "x".repeat(5000);
        let csv = format!("TYPE,CONTENT,DESCRIPTION\ntask,Fine,\ntask,Long notes,{long}\n");
        let import = read(&csv).unwrap();
        let problems = import.document.plan().unwrap_err();
        let located = import.locate(problems[0].clone());
        assert_eq!(located.field, "line 3.description");
    }

    #[test]
    fn a_long_title_is_cut_and_kept_whole_in_the_description() {
        let title = "word ".repeat(60);
        let csv = format!("TYPE,CONTENT\ntask,{title}\n");
        let import = read(&csv).unwrap();
        let task = &import.document.tasks[0];
        assert_eq!(task.title.chars().count(), MAX_TITLE);
        assert_eq!(task.description.as_deref(), Some(title.trim()));
    }
}
