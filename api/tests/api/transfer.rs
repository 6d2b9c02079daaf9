//! Export and import over HTTP: an export read back into a fresh account
//! reproduces every list, task, link and comment (compared field by field,
//! ids remapped), each with its event; a dry run writes nothing; an
//! account with anything in it, and a document at fault, are refused whole
//! with every bad entry named; a Todoist CSV export becomes a new list.

use std::collections::BTreeMap;

use axum::http::Method;
use serde_json::{Value, json};
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::{TestApp, serve};

on_both_databases!(
    an_export_imports_into_a_fresh_account_as_it_was,
    an_import_is_refused_whole_naming_every_bad_entry,
    a_todoist_csv_becomes_a_new_list,
);

async fn call(api: &TestApp, method: Method, path: &str, user: &str, body: Value) -> Value {
    let body = (!body.is_null()).then_some(body);
    let reply = api.call(method, path, user, body).await;
    assert!(reply.status.is_success(), "{path}: {}", reply.body);
    reply.body
}

async fn post(api: &TestApp, path: &str, user: &str, body: Value) -> i64 {
    call(api, Method::POST, path, user, body).await["id"]
        .as_i64()
        .unwrap()
}

/// Alice's account: a renamed Inbox, nested and archived lists, a shared
/// list with a task and a comment by a member, subtasks two deep, every
/// kind of field, a completed task, links both ways and comments.
async fn alices_account(api: &TestApp) {
    for who in ["alice", "bob"] {
        call(api, Method::GET, "/api/users/me", who, Value::Null).await;
    }
    let inbox = call(api, Method::GET, "/api/lists", "alice", Value::Null).await[0]["id"]
        .as_i64()
        .unwrap();
    let patch = json!({"title": "Alice's inbox", "color": "#112233"});
    call(
        api,
        Method::PATCH,
        &format!("/api/lists/{inbox}"),
        "alice",
        patch,
    )
    .await;
    let home = post(
        api,
        "/api/lists",
        "alice",
        json!({"title": "Home", "description": "the house", "color": "#aabbcc"}),
    )
    .await;
    let garden = post(
        api,
        "/api/lists",
        "alice",
        json!({"title": "Garden", "parent_id": home}),
    )
    .await;
    let old = post(api, "/api/lists", "alice", json!({"title": "Old"})).await;
    let someday = json!({"title": "Someday", "parent_id": inbox});
    post(api, "/api/lists", "alice", someday).await;
    let shared = post(api, "/api/lists", "alice", json!({"title": "Shared"})).await;

    let task = |body: Value| async move { post(api, "/api/tasks", "alice", body).await };
    let paint = task(json!({
        "title": "Paint the fence", "list_id": home, "description": "white",
        "priority": "high", "tags": ["diy", "outside"],
        "due": "2026-04-02T10:00", "timezone": "Europe/Berlin",
        "recurrence": "FREQ=WEEKLY;BYDAY=TH;COUNT=4",
        "reminder": {"minutes_before": 30},
    }))
    .await;
    // One occurrence moved: its series still began on the 2nd.
    let moved = json!({"due": "2026-04-03T10:00"});
    call(
        api,
        Method::PATCH,
        &format!("/api/tasks/{paint}"),
        "alice",
        moved,
    )
    .await;
    let sand = task(json!({"title": "Sand it", "parent": paint})).await;
    let buy = task(json!({"title": "Buy sandpaper", "parent": sand, "due": "2026-03-30"})).await;
    let prime = task(json!({"title": "Prime it", "parent": paint})).await;
    let water = task(json!({
        "title": "Water", "list_id": garden,
        "reminder": {"at": "2026-03-25T07:15:00Z"},
    }))
    .await;
    let stamps = task(json!({"title": "Buy stamps", "priority": "low"})).await;
    // Overdue, its reminder past: told where it was, not again when restored.
    let card =
        json!({"title": "Renew the card", "due": "2026-03-20", "reminder": {"minutes_before": 60}});
    task(card).await;
    let letter = task(json!({"title": "Post the letter"})).await;
    task(json!({"title": "Old task", "list_id": old})).await;
    let shared_task = task(json!({"title": "Shared task", "list_id": shared})).await;
    // Moved to the top of the Inbox: the manual order is kept.
    let place = json!({"to": "top"});
    call(
        api,
        Method::POST,
        &format!("/api/tasks/{letter}/move"),
        "alice",
        place,
    )
    .await;
    call(
        api,
        Method::POST,
        &format!("/api/tasks/{buy}/complete"),
        "alice",
        Value::Null,
    )
    .await;
    for (from, kind, to) in [
        (stamps, "blocks", letter),
        (prime, "blocked_by", sand),
        (water, "relates", paint),
    ] {
        let path = format!("/api/tasks/{from}/links/{kind}/{to}");
        call(api, Method::PUT, &path, "alice", Value::Null).await;
    }
    for (on, body) in [
        (paint, "first coat"),
        (paint, "second coat"),
        (sand, "grit 120"),
    ] {
        let path = format!("/api/tasks/{on}/comments");
        call(api, Method::POST, &path, "alice", json!({"body": body})).await;
    }
    call(
        api,
        Method::POST,
        &format!("/api/lists/{old}/archive"),
        "alice",
        Value::Null,
    )
    .await;

    let invite = json!({"username": "bob", "role": "editor"});
    let path = format!("/api/lists/{shared}/invitations");
    let invitation = post(api, &path, "alice", invite).await;
    let path = format!("/api/invitations/{invitation}/accept");
    call(api, Method::POST, &path, "bob", Value::Null).await;
    let path = format!("/api/tasks/{shared_task}/comments");
    call(api, Method::POST, &path, "bob", json!({"body": "on it"})).await;
    let bobs = json!({"title": "Bob's task in Alice's list", "list_id": shared});
    post(api, "/api/tasks", "bob", bobs).await;
    // Bob's own work is not Alice's to export.
    post(api, "/api/tasks", "bob", json!({"title": "Bob's own"})).await;
}

/// The entry of JSON array `array` whose `key` is `value`.
fn entry(array: &Value, key: &str, value: impl Into<Value>) -> Value {
    let value = value.into();
    array
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e[key] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no {key} {value} in {array}"))
}

/// A document with its ids replaced by `lists` and `tasks`, and without
/// what an import sets anew (when, by whom).
fn mapped(doc: &Value, lists: &BTreeMap<i64, i64>, tasks: &BTreeMap<i64, i64>) -> Value {
    let map = |value: &mut Value, ids: &BTreeMap<i64, i64>| {
        if let Some(id) = value.as_i64() {
            *value = json!(ids[&id]);
        }
    };
    let mut doc = doc.clone();
    for list in doc["lists"].as_array_mut().unwrap() {
        map(&mut list["id"], lists);
        map(&mut list["parent_id"], lists);
    }
    for task in doc["tasks"].as_array_mut().unwrap() {
        map(&mut task["id"], tasks);
        map(&mut task["list_id"], lists);
        map(&mut task["parent_id"], tasks);
    }
    for link in doc["links"].as_array_mut().unwrap() {
        map(&mut link["task_id"], tasks);
        map(&mut link["other_id"], tasks);
    }
    for comment in doc["comments"].as_array_mut().unwrap() {
        map(&mut comment["task_id"], tasks);
        comment.as_object_mut().unwrap().remove("author");
    }
    let object = doc.as_object_mut().unwrap();
    object.remove("exported_at");
    object.remove("user");
    doc
}

/// Each entry of `doc[part]` by its id (or whole, for links and comments).
fn by_id(doc: &Value, part: &str) -> BTreeMap<String, Value> {
    doc[part]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v.get("id") {
            Some(id) => (id.to_string(), v.clone()),
            None => (v.to_string(), v.clone()),
        })
        .collect()
}

/// Each list's tasks, by (list, parent), in the manual order.
fn orders(api_tasks: &Value) -> BTreeMap<(i64, i64), Vec<i64>> {
    let mut orders: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
    for task in api_tasks["tasks"].as_array().unwrap() {
        let parent = task["parent"]["id"].as_i64().unwrap_or(0);
        let key = (task["list_id"].as_i64().unwrap(), parent);
        orders
            .entry(key)
            .or_default()
            .push(task["id"].as_i64().unwrap());
    }
    orders
}

async fn all_tasks(api: &TestApp, user: &str) -> Value {
    let path = "/api/tasks?status=all&limit=200&sort=position";
    call(api, Method::GET, path, user, Value::Null).await
}

async fn an_export_imports_into_a_fresh_account_as_it_was(h: &Harness) {
    let api = serve(h).await;
    alices_account(&api).await;
    let reply = api.call(Method::GET, "/api/export", "alice", None).await;
    assert!(
        reply
            .header("content-disposition")
            .starts_with("attachment; filename=\"taskflow-export-"),
        "{:?}",
        reply.headers
    );
    let doc = reply.ok();
    assert_eq!(
        (doc["format"].as_str(), doc["version"].as_i64()),
        (Some("taskflow.export"), Some(1))
    );
    let count = |part: &str| doc[part].as_array().unwrap().len();
    // Inbox, Someday in it, Home, Garden, Old, Shared; 11 tasks (Bob's in the shared list
    // is Alice's: she owns the list); 3 links; 4 comments (Bob's too).
    assert_eq!(
        (
            count("lists"),
            count("tasks"),
            count("links"),
            count("comments")
        ),
        (6, 11, 3, 4),
        "{doc:#}"
    );
    let paint = entry(&doc["tasks"], "title", "Paint the fence");
    assert_eq!(paint["series_start"], "2026-04-02T10:00:00");
    assert_eq!(entry(&doc["comments"], "body", "on it")["author"], "bob");

    // A day later: what an import keeps (when made, completed, commented)
    // is told apart from what it sets.
    h.clock
        .set(taskflow_testkit::harness::start() + chrono::Duration::days(1));

    // A rehearsal writes nothing.
    let path = "/api/import?dry_run=true";
    let reply = api
        .call(Method::POST, path, "carol", Some(doc.clone()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["dry_run"], true);
    assert_eq!(reply.body["tasks"], 11);
    let nothing = call(&api, Method::GET, "/api/export", "carol", Value::Null).await;
    assert_eq!(nothing["tasks"], json!([]));
    assert_eq!(
        nothing["lists"].as_array().unwrap().len(),
        1,
        "the Inbox only"
    );

    let before = call(&api, Method::GET, "/api/changes", "carol", Value::Null).await["next"]
        .as_i64()
        .unwrap();
    let reply = api
        .call(Method::POST, "/api/import", "carol", Some(doc.clone()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let report = reply.body;
    assert_eq!(report["dry_run"], false);
    let ids = |part: &str| -> BTreeMap<i64, i64> {
        report[part]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.as_i64().unwrap()))
            .collect()
    };
    let (lists, tasks) = (ids("list_ids"), ids("task_ids"));
    assert_eq!((lists.len(), tasks.len()), (6, 11));
    assert_eq!(report["lists"], 5, "the Inbox is not a new list");
    let alices_inbox = entry(&doc["lists"], "inbox", true);
    let carols = call(&api, Method::GET, "/api/lists", "carol", Value::Null).await;
    let inbox = alices_inbox["id"].as_i64().unwrap();
    assert_eq!(
        lists[&inbox],
        carols[0]["id"].as_i64().unwrap(),
        "Carol's Inbox"
    );
    // Past reminders and overdue notices count as told; a coming one not.
    let marked = |column: &str| {
        format!("SELECT COUNT(*) FROM tasks WHERE user_id = 'carol' AND {column} IS NOT NULL")
    };
    let told = (
        h.raw.scalar(&marked("reminded_for")).await,
        h.raw.scalar(&marked("overdue_for")).await,
    );
    assert_eq!(told, (1, 1));
    // Each recurring task starts its own series; each parent knows it has
    // subtasks (where a subtask is looked for).
    let astray = (
        h.raw
            .scalar(
                "SELECT COUNT(*) FROM tasks WHERE user_id = 'carol' \
                 AND recurrence IS NOT NULL AND (series_id IS NULL OR series_id <> id)",
            )
            .await,
        h.raw
            .scalar(
                "SELECT COUNT(*) FROM tasks p WHERE p.user_id = 'carol' AND NOT p.had_subtasks \
                 AND EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = p.id)",
            )
            .await,
    );
    assert_eq!(astray, (0, 0));

    // Field by field: the same lists, tasks, links and comments.
    let again = call(&api, Method::GET, "/api/export", "carol", Value::Null).await;
    let expected = mapped(&doc, &lists, &tasks);
    let identity: BTreeMap<i64, i64> = lists.values().map(|v| (*v, *v)).collect();
    let task_identity: BTreeMap<i64, i64> = tasks.values().map(|v| (*v, *v)).collect();
    let got = mapped(&again, &identity, &task_identity);
    for part in ["lists", "tasks", "links", "comments"] {
        assert_eq!(by_id(&got, part), by_id(&expected, part), "{part}");
    }
    let comment = entry(&again["comments"], "body", "on it");
    assert_eq!(
        comment["author"], "carol",
        "nobody writes in another's name"
    );

    // The manual order of every list, and what a task shows.
    let (theirs, ours) = (
        all_tasks(&api, "alice").await,
        all_tasks(&api, "carol").await,
    );
    let mapped_orders: BTreeMap<(i64, i64), Vec<i64>> = orders(&theirs)
        .into_iter()
        .map(|((list, parent), ids)| {
            let parent = if parent == 0 { 0 } else { tasks[&parent] };
            (
                (lists[&list], parent),
                ids.iter().map(|id| tasks[id]).collect(),
            )
        })
        .collect();
    assert_eq!(orders(&ours), mapped_orders);
    let shown = |page: &Value, title: &str| entry(&page["tasks"], "title", title);
    for title in [
        "Paint the fence",
        "Post the letter",
        "Prime it",
        "Buy sandpaper",
    ] {
        let (a, c) = (shown(&theirs, title), shown(&ours, title));
        for field in [
            "title",
            "description",
            "priority",
            "tags",
            "due",
            "timezone",
            "recurrence",
            "recurrence_text",
            "reminder",
            "completed",
            "completed_at",
            "created_at",
            "blocked",
            "child_count",
            "open_child_count",
        ] {
            assert_eq!(a[field], c[field], "{title}: {field}");
        }
    }

    // Each item landed with its event: 5 lists made and the Inbox renamed,
    // 11 tasks, 3 links, 4 comments.
    let types = || async {
        let path = format!("/api/changes?since={before}&limit=1000");
        let page = call(&api, Method::GET, &path, "carol", Value::Null).await;
        let mut types: BTreeMap<String, i32> = BTreeMap::new();
        for change in page["changes"].as_array().unwrap() {
            *types
                .entry(change["type"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
        types
    };
    let types = types().await;
    let expected: BTreeMap<String, i32> = [
        ("taskflow.list.created.v1", 5),
        ("taskflow.list.updated.v1", 1),
        ("taskflow.task.created.v1", 11),
        ("taskflow.task.linked.v1", 3),
        ("taskflow.comment.created.v1", 4),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(types, expected);

    // A second import meets an account that is no longer empty.
    let reply = api
        .call(Method::POST, "/api/import", "carol", Some(doc))
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(reply.body["code"], "account_not_empty");
}

async fn an_import_is_refused_whole_naming_every_bad_entry(h: &Harness) {
    let api = serve(h).await;
    let doc = json!({
        "format": "taskflow.export", "version": 1,
        "lists": [{"id": 1, "title": "Fine"}, {"id": 2, "title": "Bad", "color": "red"}],
        "tasks": [
            {"id": 10, "list_id": 1, "title": "Fine"},
            {"id": 11, "list_id": 1, "title": "Bad due", "due": "soon"},
            {"id": 12, "list_id": 3, "title": "Nowhere"},
        ],
        "links": [{"task_id": 10, "kind": "blocks", "other_id": 10}],
        "comments": [{"task_id": 10, "body": "   "}],
    });
    for dry_run in ["?dry_run=true", ""] {
        let path = format!("/api/import{dry_run}");
        let reply = api
            .call(Method::POST, &path, "dave", Some(doc.clone()))
            .await;
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert_eq!(reply.body["code"], "import_invalid");
        let fields: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "lists[1].color",
                "tasks[2].list_id",
                "tasks[1].due",
                "links[0].other_id",
                "comments[0].body"
            ]
        );
        assert_eq!(reply.body["error_count"], 5);
        assert_eq!(reply.body["field"], "lists[1].color");
    }
    let nothing = call(&api, Method::GET, "/api/export", "dave", Value::Null).await;
    assert_eq!(
        (
            nothing["tasks"].clone(),
            nothing["lists"].as_array().unwrap().len()
        ),
        (json!([]), 1)
    );

    let wrong = json!({"format": "todoist", "version": 7});
    let reply = api
        .call(Method::POST, "/api/import", "dave", Some(wrong))
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["format", "version"]);
    let unknown = json!({"format": "taskflow.export", "version": 1, "extra": true});
    let reply = api
        .call(Method::POST, "/api/import", "dave", Some(unknown))
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
}

async fn a_todoist_csv_becomes_a_new_list(h: &Harness) {
    let api = serve(h).await;
    // Not an empty account: a Todoist import adds a list beside the rest.
    let kept = post(&api, "/api/tasks", "erin", json!({"title": "Already here"})).await;
    let csv = include_str!("fixtures/todoist.csv");
    let path = "/api/import/todoist?list=Party&timezone=UTC";
    let headers = [("content-type", "text/csv")];
    let reply = api
        .send(Method::POST, path, Some("erin"), Some(csv), &headers)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        (
            &reply.body["lists"],
            &reply.body["tasks"],
            &reply.body["comments"]
        ),
        (&json!(2), &json!(6), &json!(2))
    );
    let lists = call(&api, Method::GET, "/api/lists", "erin", Value::Null).await;
    let titled = |title: &str| entry(&lists, "title", title);
    let (party, errands) = (titled("Party"), titled("Errands"));
    assert_eq!(errands["parent_id"], party["id"]);
    let page = all_tasks(&api, "erin").await;
    let task = |title: &str| entry(&page["tasks"], "title", title);
    assert_eq!(task("Already here")["id"], kept);
    let plan = task("Plan the party");
    assert_eq!(plan["list_id"], party["id"]);
    assert_eq!(plan["priority"], "high");
    assert_eq!(plan["tags"], json!(["home", "weekend"]));
    assert_eq!(plan["description"], "Guests, food, music");
    assert_eq!(
        (plan["due"].as_str(), plan["timezone"].as_str()),
        (Some("2026-12-19"), Some("UTC"))
    );
    let send = task("Send invitations");
    assert_eq!(send["parent"]["id"], plan["id"]);
    assert_eq!(send["priority"], "medium");
    // The clock says Monday 2026-03-23, 13:00 in Berlin.
    assert_eq!(
        (send["due"].as_str(), send["timezone"].as_str()),
        (Some("2026-03-24T18:00:00"), Some("Europe/Berlin"))
    );
    let cake = task("Order the cake, chocolate");
    assert_eq!(cake["priority"], "none");
    assert_eq!(cake["description"], "Deadline: 2026-12-18");
    let milk = task("Buy milk");
    assert_eq!(milk["list_id"], errands["id"]);
    assert_eq!(milk["priority"], "low");
    assert_eq!(milk["tags"], json!(["errands"]));
    assert_eq!(milk["due"], "2026-03-30T09:00:00");
    assert_eq!(milk["recurrence"], "FREQ=WEEKLY;BYDAY=MO");
    let books = task("Return the library books");
    assert_eq!(books["due"], Value::Null);
    assert_eq!(books["description"], "Due: jeden Montag");
    assert_eq!(task("Renew passport")["due"], "2027-01-15T10:30:00");
    let path = format!("/api/tasks/{}/comments", plan["id"]);
    let comments = call(&api, Method::GET, &path, "erin", Value::Null).await;
    let bodies: Vec<&str> = comments["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["Budget: 200", "Ask Sam about the speakers\nand the lights"]
    );

    // A line at fault is named by its line; nothing is written.
    let bad = "TYPE,CONTENT,PRIORITY\ntask,Fine,1\ntask,Odd,7\n";
    let reply = api
        .send(
            Method::POST,
            "/api/import/todoist?list=Bad",
            Some("erin"),
            Some(bad),
            &headers,
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "line 3.PRIORITY");
    let long = format!(
        "TYPE,CONTENT,DESCRIPTION\ntask,Fine,\ntask,Long,{}\n",
        "x".repeat(4001)
    );
    let reply = api
        .send(
            Method::POST,
            "/api/import/todoist?list=Bad",
            Some("erin"),
            Some(&long),
            &headers,
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "line 3.description");
    let lists = call(&api, Method::GET, "/api/lists", "erin", Value::Null).await;
    assert!(
        lists
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["title"] != "Bad"),
        "{lists}"
    );
    let reply = api
        .send(
            Method::POST,
            "/api/import/todoist?list=%20",
            Some("erin"),
            Some(bad),
            &headers,
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), &reply.body["field"]),
        (422, &json!("list"))
    );
}
