//! CalDAV's read side over HTTP, with app passwords as HTTP Basic:
//! discovery from `/.well-known/caldav` to the calendars; a home listing
//! exactly the lists the caller reads (a viewer's read-only); resources
//! with their version as ETag and 304; multiget and query; sync reports
//! naming each change (a move in both lists) and 403 for a token not the
//! calendar's; every bad credential the same 401; nobody else's paths.

use axum::http::{Method, StatusCode};
use base64::Engine;
use serde_json::json;
use taskflow_testkit::app::TestApp;
use taskflow_testkit::harness::Harness;
use taskflow_testkit::on_both_databases;

use crate::common::serve;

on_both_databases!(
    discovery_leads_from_the_well_known_address_to_the_calendars,
    the_home_lists_exactly_the_readable_lists_a_viewers_read_only,
    a_resource_is_tagged_by_its_version_and_answers_304,
    multiget_and_query_answer_what_they_name,
    sync_reports_name_each_change_and_a_move_in_both_lists,
    every_bad_credential_is_the_same_401_and_nobody_elses_paths_answer,
    writes_are_ordinary_task_changes_with_preconditions_and_privileges,
    proppatch_renames_and_recolours_a_calendar_all_or_nothing,
    signing_keys_out_of_reach_are_a_503_not_a_sign_in_refused,
);

/// A CalDAV client of one person, signed in with an app password.
struct Dav<'a> {
    api: &'a TestApp,
    authorization: String,
}

/// What a DAV request answered.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl<'a> Dav<'a> {
    async fn new(api: &'a TestApp, user: &str) -> Dav<'a> {
        let made = api
            .call(
                Method::POST,
                "/api/app-passwords",
                user,
                Some(json!({"name": "phone", "scopes": ["caldav"]})),
            )
            .await;
        assert_eq!(made.status, 201, "{:?}", made.body);
        Dav {
            api,
            authorization: basic(
                made.body["username"].as_str().unwrap(),
                made.body["password"].as_str().unwrap(),
            ),
        }
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        send(
            self.api,
            method,
            path,
            Some(&self.authorization),
            headers,
            body,
        )
        .await
    }

    async fn propfind(&self, path: &str, depth: &str, props: &str) -> Answer {
        let body = format!(
            "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" \
             xmlns:c=\"urn:ietf:params:xml:ns:caldav\" xmlns:cs=\"http://calendarserver.org/ns/\" \
             xmlns:ic=\"http://apple.com/ns/ical/\"><d:prop>{props}</d:prop></d:propfind>"
        );
        self.send("PROPFIND", path, &[("depth", depth)], &body)
            .await
    }

    async fn report(&self, path: &str, body: &str) -> Answer {
        self.send("REPORT", path, &[("depth", "1")], body).await
    }

    /// A sync report since `token` (empty: the first): the hrefs present
    /// and gone, and the next token.
    async fn sync(&self, path: &str, token: &str) -> (Vec<String>, Vec<String>, String) {
        let body = format!(
            "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>{token}</d:sync-token>\
             <d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
        );
        let answer = self.report(path, &body).await;
        assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.body);
        let (mut present, mut gone) = (Vec::new(), Vec::new());
        for response in responses(&answer.body) {
            let href = between(response, "<d:href>", "</d:href>")
                .unwrap()
                .to_owned();
            match response.contains("404 Not Found") && !response.contains("<d:propstat>") {
                true => gone.push(href),
                false => present.push(href),
            }
        }
        let token = between(&answer.body, "<d:sync-token>", "</d:sync-token>")
            .unwrap()
            .to_owned();
        (present, gone, token)
    }
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

async fn send(
    api: &TestApp,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = api
        .client
        .request(method, format!("{}{path}", api.base))
        .body(body.to_owned());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// The text between `start` and `end`.
fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let from = text.find(start)? + start.len();
    Some(&text[from..from + text[from..].find(end)?])
}

/// Each `<d:response>` of a multistatus.
fn responses(body: &str) -> Vec<&str> {
    body.split("<d:response>").skip(1).collect()
}

/// The hrefs of a multistatus, in order.
fn hrefs(body: &str) -> Vec<String> {
    responses(body)
        .iter()
        .filter_map(|r| between(r, "<d:href>", "</d:href>"))
        .map(str::to_owned)
        .collect()
}

async fn new_list(api: &TestApp, user: &str, title: &str) -> i64 {
    let made = api
        .call(
            Method::POST,
            "/api/lists",
            user,
            Some(json!({"title": title})),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    made.body["id"].as_i64().unwrap()
}

async fn new_task(api: &TestApp, user: &str, list: i64, title: &str) -> i64 {
    api.create_task(user, json!({"title": title, "list_id": list}))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap()
}

/// Shares `list` of alice with bob as `role`.
async fn share(api: &TestApp, list: i64, role: &str) {
    for who in ["alice", "bob"] {
        api.call(Method::GET, "/api/users/me", who, None).await;
    }
    let invitation = api
        .call(
            Method::POST,
            &format!("/api/lists/{list}/invitations"),
            "alice",
            Some(json!({"username": "bob", "role": role})),
        )
        .await
        .ok();
    let accept = format!("/api/invitations/{}/accept", invitation["id"]);
    assert_eq!(
        api.call(Method::POST, &accept, "bob", None).await.status,
        200
    );
}

async fn discovery_leads_from_the_well_known_address_to_the_calendars(h: &Harness) {
    let api = serve(h).await;
    let home_list = new_list(&api, "alice", "Home").await;
    let dav = Dav::new(&api, "alice").await;
    // RFC 6764: the well-known address redirects, without credentials.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let found = client
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{}/.well-known/caldav", api.base),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(found.headers()["location"], "/dav/");

    let root = dav
        .propfind("/dav/", "0", "<d:current-user-principal/><d:resourcetype/>")
        .await;
    assert_eq!(root.status, StatusCode::MULTI_STATUS, "{}", root.body);
    assert_eq!(
        root.headers["content-type"],
        "application/xml; charset=utf-8"
    );
    let principal = between(
        &root.body,
        "<d:current-user-principal><d:href>",
        "</d:href>",
    )
    .unwrap()
    .to_owned();
    assert_eq!(principal, "/dav/principals/alice/");
    let found = dav
        .propfind(
            &principal,
            "0",
            "<c:calendar-home-set/><d:displayname/><d:unknown-thing/>",
        )
        .await;
    let home = between(&found.body, "<c:calendar-home-set><d:href>", "</d:href>")
        .unwrap()
        .to_owned();
    assert_eq!(home, "/dav/calendars/alice/");
    assert!(found.body.contains("<d:displayname>alice</d:displayname>"));
    // An unknown property is 404 in its own propstat.
    let missing = found.body.split("<d:propstat>").nth(2).unwrap();
    assert!(
        missing.contains("<d:unknown-thing/>") && missing.contains("404"),
        "{}",
        found.body
    );

    let listed = dav
        .propfind(
            &home,
            "1",
            "<d:resourcetype/><d:displayname/><c:supported-calendar-component-set/><cs:getctag/><d:owner/>",
        )
        .await;
    let calendar = format!("/dav/calendars/alice/{home_list}/");
    assert!(hrefs(&listed.body).contains(&calendar), "{}", listed.body);
    let response = responses(&listed.body)
        .into_iter()
        .find(|r| r.contains(&calendar))
        .unwrap();
    assert!(
        response.contains("<d:collection/><c:calendar/>"),
        "{response}"
    );
    assert!(response.contains("<d:displayname>Home</d:displayname>"));
    assert!(response.contains("<c:comp name=\"VTODO\"/>"));
    assert!(response.contains("<cs:getctag>urn:taskflow:sync:"));
    assert!(
        response.contains("<d:owner><d:href>/dav/principals/alice/</d:href></d:owner>"),
        "{response}"
    );
    // OPTIONS says CalDAV, and what the calendar answers.
    let options = dav.send("OPTIONS", &calendar, &[], "").await;
    assert_eq!(options.status, StatusCode::OK);
    assert!(
        options.headers["dav"]
            .to_str()
            .unwrap()
            .contains("calendar-access")
    );
    assert!(
        options.headers["allow"]
            .to_str()
            .unwrap()
            .contains("REPORT")
    );
    // Depth: infinity is refused with the precondition.
    let deep = dav.propfind(&home, "infinity", "<d:resourcetype/>").await;
    assert_eq!(deep.status, StatusCode::FORBIDDEN);
    assert!(
        deep.body.contains("<d:propfind-finite-depth/>"),
        "{}",
        deep.body
    );
    let malformed = dav
        .send("PROPFIND", &home, &[("depth", "0")], "<d:propfind")
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
}

async fn the_home_lists_exactly_the_readable_lists_a_viewers_read_only(h: &Harness) {
    let api = serve(h).await;
    let shared = new_list(&api, "alice", "Shared").await;
    let private = new_list(&api, "alice", "Private").await;
    let bobs = new_list(&api, "bob", "Bob's").await;
    share(&api, shared, "viewer").await;
    let dav = Dav::new(&api, "bob").await;
    let listed = dav
        .propfind(
            "/dav/calendars/bob/",
            "1",
            "<d:current-user-privilege-set/>",
        )
        .await;
    let inbox = api.call(Method::GET, "/api/lists", "bob", None).await.ok();
    let inbox = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["inbox"] == true)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut expected = vec!["/dav/calendars/bob/".to_owned()];
    for list in [inbox, bobs, shared] {
        expected.push(format!("/dav/calendars/bob/{list}/"));
    }
    assert_eq!(hrefs(&listed.body), expected);
    assert!(!listed.body.contains(&format!("/{private}/")));
    let privileges = |list: i64| {
        responses(&listed.body)
            .into_iter()
            .find(|r| r.contains(&format!("/{list}/<")))
            .unwrap()
            .to_owned()
    };
    assert!(privileges(bobs).contains("<d:write-content/>"));
    let viewer = privileges(shared);
    assert!(
        viewer.contains("<d:read/>") && !viewer.contains("write"),
        "{viewer}"
    );
    // Archived: read-only for its owner too.
    let archive = format!("/api/lists/{bobs}/archive");
    assert_eq!(
        api.call(Method::POST, &archive, "bob", None).await.status,
        200
    );
    let again = dav
        .propfind(
            &format!("/dav/calendars/bob/{bobs}/"),
            "0",
            "<d:current-user-privilege-set/>",
        )
        .await;
    assert!(!again.body.contains("write"), "{}", again.body);
    // Alice's private list is not bob's to read, by any path.
    let theirs = dav
        .propfind(
            &format!("/dav/calendars/bob/{private}/"),
            "0",
            "<d:displayname/>",
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

async fn a_resource_is_tagged_by_its_version_and_answers_304(h: &Harness) {
    let api = serve(h).await;
    let list = new_list(&api, "alice", "Home").await;
    let id = api
        .create_task(
            "alice",
            json!({"title": "milk, eggs", "list_id": list, "due": "2026-12-24T10:00", "timezone": "Europe/Berlin"}),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let dav = Dav::new(&api, "alice").await;
    let path = format!("/dav/calendars/alice/{list}/taskflow-task-{id}.ics");
    let got = dav.send("GET", &path, &[], "").await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.headers["content-type"], "text/calendar; charset=utf-8");
    assert_eq!(got.headers["etag"], format!("\"{id}-1\"").as_str());
    assert!(got.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(
        got.body.contains("SUMMARY:milk\\, eggs\r\n"),
        "{}",
        got.body
    );
    assert!(
        got.body
            .contains("DUE;TZID=Europe/Berlin:20261224T100000\r\n")
    );
    assert!(
        got.body
            .contains(&format!("UID:taskflow-task-{id}@127.0.0.1"))
    );
    let same = dav
        .send(
            "GET",
            &path,
            &[("if-none-match", &format!("\"{id}-1\""))],
            "",
        )
        .await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    let head = dav.send("HEAD", &path, &[], "").await;
    assert_eq!((head.status, head.body.as_str()), (StatusCode::OK, ""));
    api.update_task("alice", id, json!({"title": "oat milk"}))
        .await
        .ok();
    let changed = dav
        .send(
            "GET",
            &path,
            &[("if-none-match", &format!("\"{id}-1\""))],
            "",
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.headers["etag"], format!("\"{id}-2\"").as_str());
    assert!(changed.body.contains("SUMMARY:oat milk\r\n"));
    // Another list's path, another name: 404.
    let other = new_list(&api, "alice", "Other").await;
    for path in [
        format!("/dav/calendars/alice/{other}/taskflow-task-{id}.ics"),
        format!(
            "/dav/calendars/alice/{list}/taskflow-task-{}.ics",
            id + 1000
        ),
        format!("/dav/calendars/alice/{list}/nope.ics"),
    ] {
        assert_eq!(
            dav.send("GET", &path, &[], "").await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

async fn multiget_and_query_answer_what_they_name(h: &Harness) {
    let api = serve(h).await;
    let list = new_list(&api, "alice", "Home").await;
    let open = new_task(&api, "alice", list, "open one").await;
    let done = new_task(&api, "alice", list, "done one").await;
    api.complete_task("alice", done).await.ok();
    let dav = Dav::new(&api, "alice").await;
    let calendar = format!("/dav/calendars/alice/{list}/");
    let multiget = format!(
        "<c:calendar-multiget xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">\
         <d:prop><d:getetag/><c:calendar-data/></d:prop>\
         <d:href>{calendar}taskflow-task-{open}.ics</d:href>\
         <d:href>{calendar}missing.ics</d:href>\
         <d:href>/dav/calendars/alice/999/taskflow-task-{done}.ics</d:href></c:calendar-multiget>"
    );
    let answer = dav.report(&calendar, &multiget).await;
    assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.body);
    let parts = responses(&answer.body);
    assert_eq!(parts.len(), 3);
    assert!(parts[0].contains("SUMMARY:open one"), "{}", parts[0]);
    assert!(parts[0].contains(&format!("<d:getetag>\"{open}-1\"</d:getetag>")));
    assert!(parts[1].contains("404 Not Found") && parts[2].contains("404 Not Found"));
    assert!(
        !answer.body.contains("done one"),
        "another calendar's href is not read"
    );

    let query = |filter: &str| {
        format!(
            "<c:calendar-query xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">\
             <d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name=\"VCALENDAR\">{filter}\
             </c:comp-filter></c:filter></c:calendar-query>"
        )
    };
    let every = dav
        .report(&calendar, &query("<c:comp-filter name=\"VTODO\"/>"))
        .await;
    assert_eq!(responses(&every.body).len(), 2, "{}", every.body);
    let open_only = dav
        .report(
            &calendar,
            &query(
                "<c:comp-filter name=\"VTODO\"><c:prop-filter name=\"COMPLETED\">\
                 <c:is-not-defined/></c:prop-filter></c:comp-filter>",
            ),
        )
        .await;
    assert_eq!(
        hrefs(&open_only.body),
        [format!("{calendar}taskflow-task-{open}.ics")]
    );
    let titled = |text: &str, collation: &str| {
        query(&format!(
            "<c:comp-filter name=\"VTODO\"><c:prop-filter name=\"SUMMARY\">\
             <c:text-match collation=\"{collation}\">{text}</c:text-match></c:prop-filter>\
             </c:comp-filter>"
        ))
    };
    let by_title = dav
        .report(&calendar, &titled("OPEN", "i;ascii-casemap"))
        .await;
    assert_eq!(
        hrefs(&by_title.body),
        [format!("{calendar}taskflow-task-{open}.ics")]
    );
    let exact_case = dav.report(&calendar, &titled("OPEN", "i;octet")).await;
    assert!(
        responses(&exact_case.body).is_empty(),
        "{}",
        exact_case.body
    );
    let events = dav
        .report(&calendar, &query("<c:comp-filter name=\"VEVENT\"/>"))
        .await;
    assert!(responses(&events.body).is_empty(), "{}", events.body);
}

/// Checks that `list`'s sync token counts every change of it.
async fn token_counts_every_change(h: &Harness, dav: &Dav<'_>, list: i64) {
    let newest = h
        .raw
        .scalar(&format!(
            "SELECT COALESCE(MAX(sequence), 0) FROM task_events \
             WHERE list_id = {list} OR from_list_id = {list}"
        ))
        .await;
    let path = format!("/dav/calendars/alice/{list}/");
    let expected = format!("<d:sync-token>urn:taskflow:sync:{list}:{newest}</d:sync-token>");
    let found = dav.propfind(&path, "0", "<d:sync-token/>").await.body;
    assert!(found.contains(&expected), "{found}");
}

async fn sync_reports_name_each_change_and_a_move_in_both_lists(h: &Harness) {
    let api = serve(h).await;
    let home = new_list(&api, "alice", "Home").await;
    let work = new_list(&api, "alice", "Work").await;
    let a = new_task(&api, "alice", home, "a").await;
    let b = new_task(&api, "alice", home, "b").await;
    let dav = Dav::new(&api, "alice").await;
    let (home_path, work_path) = (
        format!("/dav/calendars/alice/{home}/"),
        format!("/dav/calendars/alice/{work}/"),
    );
    let href = |list: &str, id: i64| format!("{list}taskflow-task-{id}.ics");
    token_counts_every_change(h, &dav, home).await;
    let (all, gone, token) = dav.sync(&home_path, "").await;
    assert_eq!(all, [href(&home_path, a), href(&home_path, b)]);
    assert!(gone.is_empty());
    let (_, _, work_token) = dav.sync(&work_path, "").await;

    api.update_task("alice", a, json!({"title": "a2"}))
        .await
        .ok();
    let moved = api
        .call(
            Method::POST,
            &format!("/api/tasks/{b}/move"),
            "alice",
            Some(json!({"list_id": work})),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let c = new_task(&api, "alice", home, "c").await;
    token_counts_every_change(h, &dav, home).await;
    let (changed, gone, next) = dav.sync(&home_path, &token).await;
    assert_eq!(changed, [href(&home_path, a), href(&home_path, c)]);
    assert_eq!(gone, [href(&home_path, b)]);
    assert_ne!(next, token);
    let (changed, gone, _) = dav.sync(&home_path, &next).await;
    assert!(changed.is_empty() && gone.is_empty(), "nothing since");
    token_counts_every_change(h, &dav, work).await;
    let (arrived, _, _) = dav.sync(&work_path, &work_token).await;
    assert_eq!(arrived, [href(&work_path, b)]);
    api.delete_task("alice", c).await;
    token_counts_every_change(h, &dav, home).await;
    let (_, gone, _) = dav.sync(&home_path, &next).await;
    assert_eq!(gone, [href(&home_path, c)]);

    // Another calendar's token, or a made-up one: 403 valid-sync-token.
    for bad in [
        work_token.as_str(),
        "urn:taskflow:sync:x",
        "http://elsewhere/1",
    ] {
        let body = format!(
            "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>{bad}</d:sync-token>\
             <d:prop><d:getetag/></d:prop></d:sync-collection>"
        );
        let answer = dav.report(&home_path, &body).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{bad}");
        assert!(
            answer.body.contains("<d:valid-sync-token/>"),
            "{}",
            answer.body
        );
    }
}

async fn every_bad_credential_is_the_same_401_and_nobody_elses_paths_answer(h: &Harness) {
    let api = serve(h).await;
    let alices = new_list(&api, "alice", "Alice's").await;
    let dav = Dav::new(&api, "alice").await;
    let made = api
        .call(
            Method::POST,
            "/api/app-passwords",
            "bob",
            Some(json!({"name": "laptop", "scopes": ["caldav"]})),
        )
        .await
        .ok();
    let bobs = made["password"].as_str().unwrap();
    let path = "/dav/calendars/alice/";
    let bearer = format!("Bearer {}", crate::common::token("alice"));
    let ok = send(&api, "PROPFIND", path, Some(&bearer), &[("depth", "0")], "").await;
    assert_eq!(
        ok.status,
        StatusCode::MULTI_STATUS,
        "a bearer token works too"
    );
    let mut refusals = Vec::new();
    for authorization in [
        None,
        Some(basic("alice", "tfap_wrong")),
        Some(basic("alice", bobs)),
        Some(basic("bob", "")),
        Some("Basic !!!".to_owned()),
        Some("Bearer not-a-token".to_owned()),
        Some("Digest username=alice".to_owned()),
    ] {
        let answer = send(
            &api,
            "PROPFIND",
            path,
            authorization.as_deref(),
            &[("depth", "0")],
            "",
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        let challenges: Vec<_> = answer.headers.get_all("www-authenticate").iter().collect();
        assert_eq!(challenges.len(), 2);
        refusals.push((answer.body, challenges.len()));
    }
    assert!(refusals.windows(2).all(|w| w[0] == w[1]), "one 401 for all");
    // Bob signs in, but alice's paths are not there for him.
    let bob = basic("bob", bobs);
    for path in [
        "/dav/principals/alice/".to_owned(),
        "/dav/calendars/alice/".to_owned(),
        format!("/dav/calendars/alice/{alices}/"),
        format!("/dav/calendars/bob/{alices}/"),
    ] {
        let answer = send(&api, "PROPFIND", &path, Some(&bob), &[("depth", "1")], "").await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    // A revoked password is refused at its next request.
    let listed = api
        .call(Method::GET, "/api/app-passwords", "alice", None)
        .await
        .ok();
    let id = listed[0]["id"].as_i64().unwrap();
    assert_eq!(
        dav.propfind(path, "0", "<d:displayname/>").await.status,
        StatusCode::MULTI_STATUS
    );
    let revoke = format!("/api/app-passwords/{id}");
    assert_eq!(
        api.call(Method::DELETE, &revoke, "alice", None)
            .await
            .status,
        204
    );
    assert_eq!(
        dav.propfind(path, "0", "<d:displayname/>").await.status,
        StatusCode::UNAUTHORIZED
    );
}

fn vtodo(uid: &str, lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:{uid}\r\n\
         DTSTAMP:20261201T000000Z\r\n{lines}END:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

async fn writes_are_ordinary_task_changes_with_preconditions_and_privileges(h: &Harness) {
    let api = serve(h).await;
    let home = new_list(&api, "alice", "Home").await;
    let work = new_list(&api, "alice", "Work").await;
    let shared = new_list(&api, "alice", "Shared").await;
    share(&api, shared, "viewer").await;
    let dav = Dav::new(&api, "alice").await;
    let path = format!("/dav/calendars/alice/{home}/phone-1.ics");
    let body = vtodo(
        "phone-1",
        "SUMMARY:buy stamps\r\nDUE;VALUE=DATE:20261224\r\nX-PHONE-COLOR:teal\r\n",
    );
    let created = dav
        .send("PUT", &path, &[("if-none-match", "*")], &body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(
        created.headers.get("etag").is_none(),
        "never an ETag for a changed body"
    );
    // REST sees an ordinary task, made by CalDAV.
    let tasks = api
        .list_tasks("alice", &format!("list_id={home}"))
        .await
        .ok();
    let task = &tasks["tasks"][0];
    assert_eq!(
        (task["title"].as_str(), task["due"].as_str()),
        (Some("buy stamps"), Some("2026-12-24"))
    );
    let id = task["id"].as_i64().unwrap();
    let history = api.task_history("alice", id).await.ok();
    assert_eq!(history["entries"][0]["source"], "caldav", "{history}");
    // Read back under the client's name and UID, with what Taskflow keeps.
    let got = dav.send("GET", &path, &[], "").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(
        got.body.contains("UID:phone-1\r\n") && got.body.contains("X-PHONE-COLOR:teal\r\n"),
        "{}",
        got.body
    );
    let etag = got.headers["etag"].to_str().unwrap().to_owned();
    // The same body again changes nothing; a second create is refused.
    assert_eq!(
        dav.send("PUT", &path, &[], &body).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        dav.send("GET", &path, &[], "").await.headers["etag"],
        etag.as_str()
    );
    assert_eq!(
        dav.send("PUT", &path, &[("if-none-match", "*")], &body)
            .await
            .status,
        StatusCode::PRECONDITION_FAILED
    );
    // An edit with the tag it read; a stale tag is 412.
    let edited = vtodo(
        "phone-1",
        "SUMMARY:buy stamps and envelopes\r\nSTATUS:COMPLETED\r\n",
    );
    let done = dav
        .send("PUT", &path, &[("if-match", &etag)], &edited)
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    let task = api.get_task("alice", id).await.ok();
    assert_eq!(
        (task["title"].as_str(), task["completed"].as_bool()),
        (Some("buy stamps and envelopes"), Some(true))
    );
    assert_eq!(
        dav.send("PUT", &path, &[("if-match", &etag)], &body)
            .await
            .status,
        StatusCode::PRECONDITION_FAILED
    );
    // What cannot be stored is named by its precondition.
    let event = body.replace("VTODO", "VEVENT");
    let refused = dav
        .send(
            "PUT",
            &format!("/dav/calendars/alice/{home}/e.ics"),
            &[],
            &event,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("<c:supported-calendar-component/>"),
        "{}",
        refused.body
    );
    let long = vtodo("long", &format!("SUMMARY:{}\r\n", "x".repeat(300)));
    let refused = dav
        .send(
            "PUT",
            &format!("/dav/calendars/alice/{home}/l.ics"),
            &[],
            &long,
        )
        .await;
    assert!(
        refused.body.contains("<c:valid-calendar-data/>") && refused.body.contains("SUMMARY"),
        "{}",
        refused.body
    );
    let clash = dav
        .send(
            "PUT",
            &format!("/dav/calendars/alice/{home}/other.ics"),
            &[],
            &body,
        )
        .await;
    assert_eq!(clash.status, StatusCode::FORBIDDEN);
    assert!(
        clash
            .body
            .contains(&format!("<c:no-uid-conflict><d:href>{path}</d:href>")),
        "{}",
        clash.body
    );
    // A viewer writes nothing: bob reads alice's shared list only.
    let bob = Dav::new(&api, "bob").await;
    let theirs = format!("/dav/calendars/bob/{shared}/mine.ics");
    let denied = bob
        .send("PUT", &theirs, &[], &vtodo("bob-1", "SUMMARY:x\r\n"))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(
        denied.body.contains("<d:need-privileges/>"),
        "{}",
        denied.body
    );
    let allow = bob.send("OPTIONS", &theirs, &[], "").await;
    assert!(!allow.headers["allow"].to_str().unwrap().contains("PUT"));
    assert!(
        dav.send("OPTIONS", &path, &[], "").await.headers["allow"]
            .to_str()
            .unwrap()
            .contains("PUT")
    );

    // MOVE to another list keeps the task; DELETE removes it.
    let moved_path = format!("/dav/calendars/alice/{work}/moved.ics");
    let destination = format!("{}{moved_path}", api.base);
    let moved = dav
        .send("MOVE", &path, &[("destination", &destination)], "")
        .await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    assert_eq!(api.get_task("alice", id).await.ok()["list_id"], work);
    assert_eq!(
        dav.send("GET", &path, &[], "").await.status,
        StatusCode::NOT_FOUND
    );
    let elsewhere = dav
        .send(
            "MOVE",
            &moved_path,
            &[("destination", "https://other.example/x.ics")],
            "",
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        dav.send("DELETE", &moved_path, &[("if-match", "\"1-1\"")], "")
            .await
            .status,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        dav.send("DELETE", &moved_path, &[], "").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.get_task("alice", id).await.status, 404);
    assert_eq!(
        dav.send("DELETE", &moved_path, &[], "").await.status,
        StatusCode::NOT_FOUND
    );
    let calendar = format!("/dav/calendars/alice/{work}/");
    assert_eq!(
        dav.send("DELETE", &calendar, &[], "").await.status,
        StatusCode::FORBIDDEN
    );

    // Control characters cannot go back out in XML: refused.
    let control = vtodo("ctl", "SUMMARY:ok\r\nX-NOTE:a\u{1}b\r\n");
    let refused = dav
        .send(
            "PUT",
            &format!("/dav/calendars/alice/{home}/ctl.ics"),
            &[],
            &control,
        )
        .await;
    assert!(
        refused.body.contains("<c:valid-calendar-data/>"),
        "{}",
        refused.body
    );
    // Taskflow's names are its tasks': a client's new to-do cannot take one.
    let other = new_task(&api, "alice", work, "elsewhere").await;
    let squat = dav
        .send(
            "PUT",
            &format!("/dav/calendars/alice/{home}/taskflow-task-{other}.ics"),
            &[],
            &vtodo("squat", "SUMMARY:x\r\n"),
        )
        .await;
    assert_eq!(squat.status, StatusCode::CONFLICT);
    // A name deleted and given to a new to-do is reported once, present.
    let token_path = format!("/dav/calendars/alice/{home}/");
    let (_, _, token) = dav.sync(&token_path, "").await;
    let reused = format!("/dav/calendars/alice/{home}/reused.ics");
    dav.send("PUT", &reused, &[], &vtodo("first", "SUMMARY:first\r\n"))
        .await;
    assert_eq!(
        dav.send("DELETE", &reused, &[], "").await.status,
        StatusCode::NO_CONTENT
    );
    dav.send("PUT", &reused, &[], &vtodo("second", "SUMMARY:second\r\n"))
        .await;
    token_counts_every_change(h, &dav, home).await;
    let (present, gone, _) = dav.sync(&token_path, &token).await;
    assert_eq!(
        (present, gone),
        (vec![reused.clone()], Vec::<String>::new())
    );
    // Moving a subtask onto its parent's name would delete it with its parent.
    let parent = new_task(&api, "alice", home, "parent").await;
    let child = api
        .create_task("alice", json!({"title": "child", "parent_id": parent}))
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let onto = format!(
        "{}/dav/calendars/alice/{home}/taskflow-task-{parent}.ics",
        api.base
    );
    let from = format!("/dav/calendars/alice/{home}/taskflow-task-{child}.ics");
    let refused = dav
        .send(
            "MOVE",
            &from,
            &[("destination", &onto), ("overwrite", "T")],
            "",
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(api.get_task("alice", child).await.status, 200);
    assert_eq!(api.get_task("alice", parent).await.status, 200);
}

fn propertyupdate(set: &str, remove: &str) -> String {
    format!(
        "<d:propertyupdate xmlns:d=\"DAV:\" xmlns:ic=\"http://apple.com/ns/ical/\" \
         xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:set><d:prop>{set}</d:prop></d:set>\
         <d:remove><d:prop>{remove}</d:prop></d:remove></d:propertyupdate>"
    )
}

async fn proppatch_renames_and_recolours_a_calendar_all_or_nothing(h: &Harness) {
    let api = serve(h).await;
    let list = new_list(&api, "alice", "Home").await;
    let shared = new_list(&api, "alice", "Shared").await;
    share(&api, shared, "editor").await;
    let dav = Dav::new(&api, "alice").await;
    let path = format!("/dav/calendars/alice/{list}/");
    let list_now = || async {
        api.call(Method::GET, &format!("/api/lists/{list}"), "alice", None)
            .await
            .ok()
    };
    // Apple's colour form, a new name: both applied, as on REST.
    let body = propertyupdate(
        "<d:displayname>Chores</d:displayname><ic:calendar-color>#FF0000FF</ic:calendar-color>",
        "",
    );
    let answer = dav.send("PROPPATCH", &path, &[], &body).await;
    assert_eq!(answer.status, StatusCode::MULTI_STATUS, "{}", answer.body);
    assert!(
        answer.body.contains("HTTP/1.1 200 OK") && !answer.body.contains("424"),
        "{}",
        answer.body
    );
    let now = list_now().await;
    assert_eq!(
        (now["title"].as_str(), now["color"].as_str()),
        (Some("Chores"), Some("#ff0000"))
    );
    // One property it cannot set: that one 403, the others 424, nothing changed.
    let body = propertyupdate(
        "<d:displayname>Other</d:displayname><x:secret xmlns:x=\"urn:x\">1</x:secret>",
        "",
    );
    let answer = dav.send("PROPPATCH", &path, &[], &body).await;
    assert!(
        answer.body.contains("403 Forbidden") && answer.body.contains("424 Failed Dependency"),
        "{}",
        answer.body
    );
    assert_eq!(list_now().await["title"], "Chores");
    // A colour that is not one: 409, nothing changed.
    for colour in ["blue", "#ééééé", "#ff00ffzz"] {
        let body = propertyupdate(
            &format!("<ic:calendar-color>{colour}</ic:calendar-color>"),
            "",
        );
        let answer = dav.send("PROPPATCH", &path, &[], &body).await;
        assert!(
            answer.body.contains("409 Conflict"),
            "{colour}: {}",
            answer.body
        );
    }
    assert_eq!(list_now().await["color"], "#ff0000");
    // Removing the colour clears it.
    let body = propertyupdate("", "<ic:calendar-color/>");
    dav.send("PROPPATCH", &path, &[], &body).await;
    assert!(list_now().await["color"].is_null());
    // An editor may write tasks but not rename the list.
    let bob = Dav::new(&api, "bob").await;
    let body = propertyupdate("<d:displayname>Bob's now</d:displayname>", "");
    let answer = bob
        .send(
            "PROPPATCH",
            &format!("/dav/calendars/bob/{shared}/"),
            &[],
            &body,
        )
        .await;
    assert!(answer.body.contains("403 Forbidden"), "{}", answer.body);
    let shared_now = api
        .call(Method::GET, &format!("/api/lists/{shared}"), "alice", None)
        .await
        .ok();
    assert_eq!(shared_now["title"], "Shared");
}

/// A bearer token whose signing keys cannot be fetched (the JWKS endpoint
/// is down) is a 503 to try again, as on REST: a 401 would make a phone
/// ask its owner for a new password.
async fn signing_keys_out_of_reach_are_a_503_not_a_sign_in_refused(h: &Harness) {
    use taskflow_auth::Verifier;
    let verifier = Verifier::jwks_only("http://127.0.0.1:9/jwks.json");
    let api =
        crate::common::serve_state(taskflow_api::AppState::new(h.svc.clone(), verifier)).await;
    let part = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    let token = format!(
        "{}.{}.{}",
        part(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
        part(r#"{"sub":"alice","exp":4102444800}"#),
        part("signature")
    );
    for path in ["/dav/", "/api/tasks"] {
        let method = if path == "/dav/" { "PROPFIND" } else { "GET" };
        let answer = reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", api.base),
            )
            .header("authorization", format!("Bearer {token}"))
            .header("depth", "0")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
}
