//! The built-in agent: runs the reader's [`Command`] through the task
//! tools — finding the task a title names, asking "which one?" when several
//! match and taking the answer in the next message — and says what it did.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use taskflow_agent::params::Paged;
use taskflow_agent::tools::MAX_LIST;
use taskflow_agent::tools::{
    AddComment, AddTask, CompleteTask, DeleteTask, GetTask, LinkTasks, ListTasks, ManageList,
    MoveTask, RecentActivity, ReopenTask, ShareList, SnoozeTask, UpdateTask,
};
use taskflow_agent::{Context, Tool};
use taskflow_core::{Grant, LinkKind, ListQuery, Role, StatusFilter, Task, Zone};
use taskflow_events::{HistoryPage, TaskEventType};
use taskflow_store::conversations::MessageRow;

use crate::read::command::json;
use crate::read::{Command, Pick, Target, read};
use crate::{Action, Turn, say};

/// What the agent remembers between messages.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Memory {
    /// The task last spoken of ("it").
    #[serde(default)]
    last_task: Option<i64>,
    /// A command waiting for "which one?".
    #[serde(default)]
    pending: Option<Pending>,
    /// The tasks of the numbered list last shown, in order: "complete 2".
    #[serde(default)]
    listed: Vec<i64>,
}

/// A command waiting for the user to pick one of `Memory::listed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    tool: String,
    arguments: Value,
}

const HELP: &str = "I can manage your tasks. Try: \"Add high priority weekly meeting for Monday 10 AM\", \
\"Remind me to call Sam tomorrow at 5pm\", \"Complete the meeting task\", \"Move the report to Friday\", \
\"Snooze the dentist for 2 hours\", \"What's due this week?\" or \"What's overdue?\".";

/// The agent's own step for "assign X to bob": find bob, then add him to
/// the task's `assignees` with `update_task`.
const ASSIGN: &str = "assign";

/// One turn of the built-in agent.
pub async fn run(
    on: Context<'_>,
    history: &[MessageRow],
    message: &str,
    zone: &str,
    now: NaiveDateTime,
) -> Turn {
    let memory: Memory = serde_json::from_value(crate::memory(history)).unwrap_or_default();
    let mut agent = Agent {
        on,
        today: now.date(),
        actions: Vec::new(),
        memory: Memory {
            last_task: memory.last_task,
            pending: None,
            listed: memory.listed,
        },
    };
    let reply = match read(message, now, zone) {
        Command::Help => HELP.to_owned(),
        Command::Smalltalk => "Happy to help. Tell me what to add, finish or look up.".to_owned(),
        Command::Unknown => format!("Sorry, I didn't understand that. {HELP}"),
        Command::Ask { question } => question,
        Command::Refuse { reason } => format!("I couldn't do that: {reason}."),
        Command::Choose { pick } => agent.choose(pick, memory.pending).await,
        Command::Add(task) => agent.call(AddTask::NAME, json(&task), None).await,
        Command::AddOrInList { mut task, in_list } => {
            if let Some(list) = agent.list_named(&in_list.list).await {
                task.title = in_list.title;
                task.list = Some(taskflow_core::ListRef::Id(list.id));
            }
            agent.call(AddTask::NAME, json(&task), None).await
        }
        Command::AddSubtask { mut task, parent } => match agent.resolve(parent, false).await {
            Ok(id) => {
                task.parent = Some(id);
                agent.call(AddTask::NAME, json(&task), None).await
            }
            Err(reply) => reply,
        },
        Command::NewList { title } => {
            let arguments = json!({"action": "create", "title": title});
            match agent.perform(ManageList::NAME, arguments).await {
                Ok(list) => format!(
                    "Created the list '{}'. Add to it with \"add milk to {}\".",
                    list["title"].as_str().unwrap_or(&title),
                    list["title"].as_str().unwrap_or(&title)
                ),
                Err(error) => format!("I couldn't do that: {error}"),
            }
        }
        Command::Link {
            target,
            kind,
            other,
        } => agent.link(target, kind, other).await,
        Command::List {
            mut query,
            label,
            count,
            list,
        } => {
            if let Some(title) = list {
                match agent.list_named(&title).await {
                    Some(list) => query.list_id = Some(list.id),
                    None => {
                        return Turn {
                            reply: format!("You have no list called '{title}'."),
                            actions: agent.actions,
                            memory: serde_json::to_value(&agent.memory).unwrap_or(Value::Null),
                        };
                    }
                }
            }
            if count {
                // Counted over the largest page the tool gives.
                query.limit = Some(MAX_LIST);
            }
            agent
                .call(
                    ListTasks::NAME,
                    json(&query),
                    Some(Listing { label, count }),
                )
                .await
        }
        Command::OnTask { target, change } => {
            agent
                .on_task(change.tool(), target, change.arguments())
                .await
        }
        Command::Share {
            list,
            username,
            role,
        } => agent.share(&list, &username, role).await,
        Command::Assign { target, username } => {
            let arguments = json!({ "username": username });
            agent.on_task(ASSIGN, target, arguments).await
        }
        Command::Comment { target, body } => {
            let arguments = json!({ "body": body });
            agent.on_task(AddComment::NAME, target, arguments).await
        }
        Command::ChangesBy { username, today } => {
            let zone = Zone::parse(zone, "timezone").unwrap_or(Zone::UTC);
            let midnight = zone.resolve(now.date().and_time(chrono::NaiveTime::MIN));
            agent.changes_by(&username, today.then_some(midnight)).await
        }
    };
    Turn {
        reply,
        actions: agent.actions,
        memory: serde_json::to_value(&agent.memory).unwrap_or(Value::Null),
    }
}

/// How to say a list: what it shows, and whether the question was "how
/// many".
#[derive(Debug, Default)]
struct Listing {
    label: Option<String>,
    count: bool,
}

struct Agent<'a> {
    on: Context<'a>,
    today: chrono::NaiveDate,
    actions: Vec<Action>,
    memory: Memory,
}

impl Agent<'_> {
    /// Calls a tool and records it as an action.
    async fn perform(&mut self, tool: &str, arguments: Value) -> Result<Value, String> {
        let outcome = taskflow_agent::call(self.on, tool, arguments.clone()).await;
        self.actions.push(Action::new(tool, arguments, &outcome));
        outcome
    }

    async fn call(&mut self, tool: &str, arguments: Value, listing: Option<Listing>) -> String {
        let outcome = self.perform(tool, arguments).await;
        match (tool, outcome) {
            (_, Err(error)) => format!("I couldn't do that: {error}"),
            (AddTask::NAME, Ok(result)) => match serde_json::from_value::<Task>(result) {
                Ok(task) => {
                    self.memory.last_task = Some(task.id);
                    format!("Added {}", say::task(&task, self.today))
                }
                Err(_) => "Added it.".into(),
            },
            (_, Ok(result)) => self.listing(result, listing.unwrap_or_default()),
        }
    }

    fn listing(&mut self, result: Value, listing: Listing) -> String {
        let tasks: Vec<Task> = result
            .get("tasks")
            .cloned()
            .and_then(|t| serde_json::from_value(t).ok())
            .unwrap_or_default();
        let what = listing
            .label
            .as_deref()
            .map(|l| format!(" {l}"))
            .unwrap_or_default();
        let more = result.get("next_cursor").is_some_and(|c| !c.is_null());
        if listing.count {
            let number = match (tasks.len(), more) {
                (n, true) => format!("More than {n} tasks"),
                (0, false) => "No tasks".to_owned(),
                (1, false) => "One task".to_owned(),
                (n, false) => format!("{n} tasks"),
            };
            if tasks.is_empty() {
                return format!("{number}{what}.");
            }
            let lines = self.numbered(&tasks, 10);
            return format!("{number}{what}:\n{lines}");
        }
        match tasks.as_slice() {
            [] => format!("You have no tasks{what}."),
            [one] => {
                self.memory.last_task = Some(one.id);
                format!("One task{what}: {}.", say::item(one, self.today))
            }
            many => {
                let more = if more {
                    " There are more; ask me to narrow it down."
                } else {
                    ""
                };
                let lines = self.numbered(many, 10);
                let shown = if many.len() > 10 {
                    format!("{} tasks{what} (first 10)", many.len())
                } else {
                    format!("{} tasks{what}", many.len())
                };
                format!("{shown}:\n{lines}{more}")
            }
        }
    }

    /// The first `at_most` tasks as a numbered list, remembered so that a
    /// number in the next message names one of them.
    fn numbered(&mut self, tasks: &[Task], at_most: usize) -> String {
        let shown = &tasks[..tasks.len().min(at_most)];
        self.memory.listed = shown.iter().map(|t| t.id).collect();
        let lines: Vec<String> = shown
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{}. {}", i + 1, say::item(t, self.today)))
            .collect();
        lines.join("\n")
    }

    /// The user's list of this title (in any case), if there is one.
    async fn list_named(&self, title: &str) -> Option<taskflow_core::List> {
        let all = taskflow_core::ListsQuery {
            archived: Some(true),
        };
        let lists = self.on.tasks.lists(self.on.actor, &all).await.ok()?;
        lists
            .into_iter()
            .map(|summary| summary.list)
            .find(|list| list.title.eq_ignore_ascii_case(title.trim()))
    }

    /// The task `target` names, or the reply to give when it names none or
    /// several (name it by its number or id then).
    async fn resolve(&mut self, target: Target, completed: bool) -> Result<i64, String> {
        match target {
            Target::Id(id) => Ok(id),
            Target::Number(n) => Ok(usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| self.memory.listed.get(i).copied())
                .unwrap_or(n)),
            Target::Last => self
                .memory
                .last_task
                .ok_or_else(|| "Which task do you mean? Name it by its title or number.".into()),
            Target::Title(words) => {
                let candidates = self.find(&words, completed).await;
                match candidates.as_slice() {
                    [] => Err(format!("I couldn't find an open task matching '{words}'.")),
                    [task] => Ok(task.id),
                    several => {
                        let lines = self.numbered(several, 9);
                        Err(format!(
                            "Several tasks match '{words}'. Say it again with the task's number or id:\n{lines}"
                        ))
                    }
                }
            }
        }
    }

    /// Links the tasks two targets name.
    async fn link(&mut self, target: Target, kind: LinkKind, other: Target) -> String {
        let first = match self.resolve(target, false).await {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        let second = match self.resolve(other, false).await {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        let arguments = json!({"id": first, "kind": kind, "other_id": second});
        match self.perform(LinkTasks::NAME, arguments).await {
            Ok(task) => {
                self.memory.last_task = Some(first);
                let title = task["title"].as_str().unwrap_or_default().to_owned();
                let other_title = match self.perform(GetTask::NAME, json!({"id": second})).await {
                    Ok(other) => other["title"].as_str().unwrap_or_default().to_owned(),
                    Err(_) => format!("task {second}"),
                };
                match kind {
                    LinkKind::Blocks => format!("'{title}' now blocks '{other_title}'."),
                    LinkKind::BlockedBy => {
                        format!("'{title}' now waits for '{other_title}'.")
                    }
                    LinkKind::Relates => format!("'{title}' and '{other_title}' are now linked."),
                }
            }
            Err(error) => format!("I couldn't do that: {error}"),
        }
    }

    async fn on_task(&mut self, tool: &str, target: Target, arguments: Value) -> String {
        let id = match target {
            Target::Id(id) => id,
            Target::Number(n) => usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| self.memory.listed.get(i).copied())
                .unwrap_or(n),
            Target::Last => match self.memory.last_task {
                Some(id) => id,
                None => return "Which task do you mean? Name it by its title or number.".into(),
            },
            Target::Title(words) => {
                let candidates = self.find(&words, tool == ReopenTask::NAME).await;
                match candidates.as_slice() {
                    [] => {
                        let state = if tool == ReopenTask::NAME {
                            "completed"
                        } else {
                            "open"
                        };
                        return format!("I couldn't find an {state} task matching '{words}'.");
                    }
                    [task] => task.id,
                    several => {
                        let lines = self.numbered(several, 9);
                        self.memory.pending = Some(Pending {
                            tool: tool.to_owned(),
                            arguments,
                        });
                        return format!("Several tasks match '{words}'. Which one?\n{lines}");
                    }
                }
            }
        };
        self.act(tool, id, arguments).await
    }

    async fn choose(&mut self, pick: Pick, pending: Option<Pending>) -> String {
        let Some(pending) = pending else {
            return match pick {
                Pick::Id(id) => {
                    let outcome = self.perform(GetTask::NAME, json!({ "id": id })).await;
                    match outcome.map(serde_json::from_value::<Task>) {
                        Ok(Ok(task)) => {
                            self.memory.last_task = Some(task.id);
                            format!("Task {}: {}", task.id, say::task(&task, self.today))
                        }
                        _ => format!("There is no task {id}."),
                    }
                }
                Pick::Nth(_) => format!("I'm not sure what you are choosing. {HELP}"),
            };
        };
        let id = match pick {
            Pick::Nth(n) => self.memory.listed.get(n - 1).copied(),
            Pick::Id(id) => Some(id),
        };
        match id {
            Some(id) => self.act(&pending.tool, id, pending.arguments).await,
            None => {
                let count = self.memory.listed.len();
                self.memory.pending = Some(pending);
                format!("Pick a number from 1 to {count}.")
            }
        }
    }

    /// Runs `tool` on task `id` and says what happened.
    async fn act(&mut self, tool: &str, id: i64, mut arguments: Value) -> String {
        if tool == ASSIGN {
            let username = arguments["username"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            return self.assign(id, &username).await;
        }
        if let Value::Object(map) = &mut arguments {
            map.insert("id".into(), json!(id));
        }
        let outcome = self.perform(tool, arguments.clone()).await;
        let result = match outcome {
            Ok(result) => result,
            Err(error) => return format!("I couldn't do that: {error}"),
        };
        self.memory.last_task = Some(id);
        if tool == AddComment::NAME {
            return format!("Commented on '{}'.", self.title_of(id).await);
        }
        let task: Option<Task> =
            serde_json::from_value(result.get("task").cloned().unwrap_or(result)).ok();
        let Some(task) = task else {
            return "Done.".into();
        };
        let title = &task.title;
        match tool {
            CompleteTask::NAME => match next_due(&task) {
                Some(next) => format!(
                    "Completed '{title}'. It repeats, so the next one is due {}.",
                    say::when(&next, self.today)
                ),
                None if task.recurrence.is_some() => {
                    format!("Completed '{title}'. That was the last one of the series.")
                }
                None => format!("Completed '{title}'. Nice work!"),
            },
            ReopenTask::NAME => format!("Reopened '{title}'."),
            MoveTask::NAME => match arguments.get("list").and_then(Value::as_str) {
                Some(list) => format!("Moved '{title}' to {list}."),
                None => format!("Moved '{title}'."),
            },
            DeleteTask::NAME => format!("Deleted '{title}'."),
            SnoozeTask::NAME => {
                let minutes = arguments
                    .get("minutes")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                format!(
                    "Snoozed '{title}' for {}; its reminder will come again then.",
                    say::minutes(u32::try_from(minutes).unwrap_or(u32::MAX))
                )
            }
            _ => {
                if arguments.get("title").is_some() {
                    format!("Renamed it to '{title}'.")
                } else if arguments.get("priority").is_some() {
                    format!("'{title}' is now {} priority.", task.priority.as_str())
                } else if let Some(due) = say::due(&task, self.today) {
                    format!("Moved '{title}' to {due}.")
                } else {
                    format!("Updated {}", say::task(&task, self.today))
                }
            }
        }
    }

    /// The title of task `id`, or "task N" when the user cannot see it (any
    /// more).
    async fn title_of(&self, id: i64) -> String {
        match self.on.tasks.get(self.on.user(), id).await {
            Ok(task) => task.title,
            Err(_) => format!("task {id}"),
        }
    }

    /// Invites `username` to the user's list called `title` as `role`.
    async fn share(&mut self, title: &str, username: &str, role: Grant) -> String {
        let Some(list) = self.list_named(title).await else {
            return format!(
                "You have no list called '{title}'. To add a task instead, start with \"add\"."
            );
        };
        let arguments = json!({"list_id": list.id, "username": username, "role": role});
        match self.perform(ShareList::NAME, arguments).await {
            Ok(_) => format!(
                "Invited {username} to {} as {}; they will see the invitation and can accept it.",
                list.title,
                Role::from(role).with_article()
            ),
            Err(error) => format!("I couldn't do that: {error}"),
        }
    }

    /// Adds the person called `username` ("me": the user) to task `id`'s
    /// assignees.
    async fn assign(&mut self, id: i64, username: &str) -> String {
        let found = if matches!(username.to_lowercase().as_str(), "me" | "myself") {
            self.on
                .tasks
                .me(self.on.user())
                .await
                .map(|me| taskflow_core::UserSummary {
                    id: me.id,
                    username: me.username,
                    display_name: me.display_name,
                })
        } else {
            self.on.tasks.user_named(username).await
        };
        let Ok(person) = found else {
            return format!(
                "I don't know anyone with the username '{username}' (usernames match exactly)."
            );
        };
        let task = match self.on.tasks.get(self.on.user(), id).await {
            Ok(task) => task,
            Err(_) => return format!("There is no task {id}."),
        };
        self.memory.last_task = Some(id);
        if task.assignees.contains(&person.id) {
            return format!("'{}' is already assigned to {username}.", task.title);
        }
        let mut assignees = task.assignees.clone();
        assignees.push(person.id);
        let arguments = json!({"id": id, "assignees": assignees});
        match self.perform(UpdateTask::NAME, arguments).await {
            Ok(_) => format!("Assigned '{}' to {}.", task.title, person.display_name),
            Err(error) => format!("I couldn't do that: {error}"),
        }
    }

    /// What the person called `username` changed of what the user can see:
    /// since `since` (today), or lately; the newest ten.
    async fn changes_by(&mut self, username: &str, since: Option<DateTime<Utc>>) -> String {
        const SHOWN: usize = 10;
        let Ok(person) = self.on.tasks.user_named(username).await else {
            return format!(
                "I don't know anyone with the username '{username}' (usernames match exactly)."
            );
        };
        let mut theirs = Vec::new();
        let mut before: Option<i64> = None;
        // At most five pages of the user's activity, newest first.
        for _ in 0..5 {
            let mut arguments = json!({ "limit": 200 });
            if let Some(before) = before {
                arguments["before"] = json!(before);
            }
            let page = match self.perform(RecentActivity::NAME, arguments).await {
                Ok(page) => page,
                Err(error) => return format!("I couldn't do that: {error}"),
            };
            let Ok(page) = serde_json::from_value::<HistoryPage>(page) else {
                break;
            };
            let older = |at: DateTime<Utc>| since.is_some_and(|since| at < since);
            let past = page.entries.last().is_none_or(|e| older(e.occurred_at));
            theirs.extend(
                page.entries
                    .into_iter()
                    .filter(|e| e.actor.user() == person.id && !older(e.occurred_at)),
            );
            before = page.next_before;
            if past || before.is_none() || theirs.len() >= SHOWN {
                break;
            }
        }
        let name = &person.display_name;
        let when = if since.is_some() { "today" } else { "lately" };
        if theirs.is_empty() {
            return format!("{name} changed nothing you can see {when}.");
        }
        let mut lines = Vec::new();
        for (i, entry) in theirs.iter().take(SHOWN).enumerate() {
            let title = self.title_of(entry.task_id).await;
            lines.push(format!("{}. {} '{title}'", i + 1, did(entry.event_type)));
        }
        let count = match theirs.len() {
            1 => "one change".to_owned(),
            n if n > SHOWN => format!("more than {SHOWN} changes (the newest {SHOWN})"),
            n => format!("{n} changes"),
        };
        format!("{name} made {count} {when}:\n{}", lines.join("\n"))
    }

    /// The open (or, for reopening, completed) tasks `words` best names:
    /// an exact title beats a title containing the words, which beats one
    /// with all the words, which beats most of them; ties are all returned.
    async fn find(&self, words: &str, completed: bool) -> Vec<Task> {
        let status = Some(if completed {
            StatusFilter::Completed
        } else {
            StatusFilter::Open
        });
        let mut seen = std::collections::HashSet::new();
        let mut pool = Vec::new();
        let searched = ListQuery {
            q: Some(words.to_owned()),
            status,
            limit: Some(50),
            ..ListQuery::default()
        };
        let recent = ListQuery {
            status,
            sort: Some("-created".into()),
            limit: Some(50),
            ..ListQuery::default()
        };
        for query in [searched, recent] {
            if let Ok(page) = ListTasks.run(self.on, Paged(query)).await {
                for task in page.tasks {
                    if seen.insert(task.id) {
                        pool.push(task);
                    }
                }
            }
        }
        let wanted = words.to_lowercase();
        let wanted_words: Vec<&str> = wanted
            .split_whitespace()
            .filter(|w| !matches!(*w, "the" | "a" | "an" | "my" | "task" | "to"))
            .collect();
        let score = |task: &Task| -> u32 {
            let title = task.title.to_lowercase();
            if title == wanted {
                return 100;
            }
            if title.contains(&wanted) {
                return 80;
            }
            let title_words: Vec<&str> = title
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            let found = wanted_words
                .iter()
                .filter(|w| title_words.iter().any(|t| similar(t, w)))
                .count();
            if wanted_words.is_empty() || found == 0 {
                return 0;
            }
            if found == wanted_words.len() {
                return 60;
            }
            if found * 2 >= wanted_words.len() {
                return u32::try_from(found * 40 / wanted_words.len()).unwrap_or(0);
            }
            0
        };
        let best = pool.iter().map(score).max().unwrap_or(0);
        if best == 0 {
            return Vec::new();
        }
        pool.into_iter().filter(|t| score(t) == best).collect()
    }
}

/// When a recurring task's next occurrence falls (the recurrence worker
/// creates it).
fn next_due(task: &Task) -> Option<taskflow_core::Due> {
    let fields = task.fields().ok()?;
    let (due, rule) = (fields.due?, fields.recurrence?);
    rule.next_after(&due, &due)
}

/// Whether two words are the same but for a plural or one typo: one
/// character added, dropped or replaced (two swapped characters are two
/// typos), in words of four bytes or more.
fn similar(a: &str, b: &str) -> bool {
    if a == b || a.trim_end_matches('s') == b.trim_end_matches('s') {
        return true;
    }
    a.len() >= 4 && b.len() >= 4 && strsim::levenshtein(a, b) <= 1
}

/// What a change did, as a sentence says it: "completed".
fn did(event: TaskEventType) -> &'static str {
    match event {
        TaskEventType::Created => "added",
        TaskEventType::Updated => "changed",
        TaskEventType::Completed => "completed",
        TaskEventType::Reopened => "reopened",
        TaskEventType::Deleted => "deleted",
        TaskEventType::Moved => "moved",
        TaskEventType::Linked => "linked",
        TaskEventType::Unlinked => "unlinked",
        TaskEventType::CommentCreated => "commented on",
        TaskEventType::CommentUpdated => "edited a comment on",
        TaskEventType::CommentDeleted => "deleted a comment on",
    }
}

#[cfg(test)]
mod tests {
    use super::similar;

    #[test]
    fn similar_words_differ_by_a_plural_or_one_typo() {
        assert!(similar("bill", "bills"));
        assert!(similar("cat", "cats"));
        assert!(similar("meeting", "meting"));
        assert!(similar("meeting", "meetting"));
        assert!(similar("meeting", "meetinf"));
        assert!(similar("café", "cafe"));
        assert!(!similar("meeting", "meetnig"), "a swap is two typos");
        assert!(!similar("cat", "bat"), "short words must match exactly");
        assert!(!similar("meeting", "greeting"));
    }
}
