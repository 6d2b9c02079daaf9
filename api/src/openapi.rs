//! The OpenAPI 3.1 document of the REST API, generated from the code: every
//! operation is listed once below with the Rust types of its query, body and
//! response, whose JSON Schemas come from the same `schemars` derives the MCP
//! tools use. A test checks that every listed operation is routed.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::{Map, Value, json};
use taskflow_chat::{
    Action, ChatReply, ChatRequest, ConversationDetail, ConversationPage, ConversationQuery,
};
use taskflow_core::calendar::{CalendarFeed, CalendarFeedWithUrl, CreateCalendarFeed};
use taskflow_core::{
    AppPassword, AppPasswordWithSecret, ChangesQuery, Comment, CommentPage, CompleteQuery,
    ConnectedApp, CreateAppPassword, CreateInvitation, CreateList, CreateTask, CreateWebhook,
    DeleteList, Delivery, DeliveryPage, DeliveryQuery, Export, HistoryQuery, ImportQuery,
    ImportReport, Invitation, List, ListQuery, ListSummary, ListsQuery, Member, MoveList, MoveTask,
    NotificationPage, NotificationQuery, Replay, Replayed, SnoozeTask, TagCount, Task, TaskDetail,
    TaskInclude, TaskPage, TodoistQuery, TransferList, UnreadCount, UpdateList, UpdateMember,
    UpdateProfile, UpdateTask, UpdateWebhook, User, UserLookup, UserSummary, Webhook,
    WebhookWithSecret, WriteComment,
};
use taskflow_events::{ChangePage, HistoryPage};

use crate::notifications::Marked;
use crate::webhooks::EventTypes;

/// The document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

/// The body of every error response (RFC 9457 problem details).
#[derive(Debug, Serialize, JsonSchema)]
#[allow(dead_code)] // documents the shape `Problem` renders
struct ProblemDetails {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    /// Stable snake_case code to branch on, such as `validation_failed`.
    code: String,
    detail: String,
    /// The input field at fault (validation errors).
    field: Option<String>,
    /// The task's or list's current version (version conflicts).
    current_version: Option<i64>,
    /// The conversation a failed chat turn belongs to (chat model errors).
    conversation_id: Option<i64>,
    /// What a failed chat turn did before it failed (chat model errors).
    actions: Option<Vec<Action>>,
    /// The oldest change still held (`cursor_expired`).
    oldest_sequence: Option<i64>,
    /// The newest change: follow from it after reading everything again
    /// (`cursor_expired`).
    latest_sequence: Option<i64>,
}

/// One operation: method, path, what it takes and returns.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    query: Option<Schema>,
    body: Option<Schema>,
    status: u16,
    response: Option<Schema>,
    /// Sends ETag; accepts If-Match.
    conditional: bool,
    errors: &'static [u16],
}

/// Every documented operation, `(method, path)`, for the routing test.
pub fn operations() -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = document()["paths"].as_object() {
        for (path, item) in paths {
            for method in item
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn build() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .for_deserialize()
        .into_generator();
    let g = &mut generator;
    let id_errors: &[u16] = &[401, 404];
    let write_errors: &[u16] = &[400, 401, 403, 404, 409, 412, 413, 415, 422];
    let state_errors: &[u16] = &[400, 401, 403, 404, 409, 412];
    let ops = vec![
        op(
            "post",
            "/api/tasks",
            "createTask",
            "Create a task (Idempotency-Key honoured)",
            None,
            Some(g.subschema_for::<CreateTask>()),
            201,
            Some(g.subschema_for::<Task>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "get",
            "/api/tasks",
            "listTasks",
            "Search, filter, sort and page through tasks",
            Some(query::<ListQuery>()),
            None,
            200,
            Some(g.subschema_for::<TaskPage>()),
            false,
            &[400, 401, 404, 422],
        ),
        op(
            "get",
            "/api/tasks/{id}",
            "getTask",
            "One task; `include=children,links` adds its subtasks and links",
            Some(query::<TaskInclude>()),
            None,
            200,
            Some(g.subschema_for::<TaskDetail>()),
            false,
            &[400, 401, 404, 422],
        ),
        op(
            "patch",
            "/api/tasks/{id}",
            "updateTask",
            "Change some fields (null clears)",
            None,
            Some(g.subschema_for::<UpdateTask>()),
            200,
            Some(g.subschema_for::<Task>()),
            true,
            write_errors,
        ),
        op(
            "delete",
            "/api/tasks/{id}",
            "deleteTask",
            "Delete a task",
            None,
            None,
            204,
            None,
            true,
            state_errors,
        ),
        op(
            "post",
            "/api/tasks/{id}/complete",
            "completeTask",
            "Mark a task done; one with open subtasks needs cascade=true; one still blocked answers with its links",
            Some(query::<CompleteQuery>()),
            None,
            200,
            Some(g.subschema_for::<TaskDetail>()),
            true,
            state_errors,
        ),
        op(
            "post",
            "/api/tasks/{id}/reopen",
            "reopenTask",
            "Mark a task open again",
            None,
            None,
            200,
            Some(g.subschema_for::<Task>()),
            true,
            state_errors,
        ),
        op(
            "post",
            "/api/tasks/{id}/snooze",
            "snoozeTask",
            "Hold a task's reminders",
            None,
            Some(g.subschema_for::<SnoozeTask>()),
            200,
            Some(g.subschema_for::<Task>()),
            false,
            write_errors,
        ),
        op(
            "get",
            "/api/tasks/{id}/history",
            "taskHistory",
            "A task's changes, newest first",
            Some(query::<HistoryQuery>()),
            None,
            200,
            Some(g.subschema_for::<HistoryPage>()),
            false,
            &[400, 401, 404, 422],
        ),
        op(
            "get",
            "/api/changes",
            "listChanges",
            "Every change the caller may see after `since`, oldest first (deletions as tombstones): follow `next`; 410 `cursor_expired` past the retention horizon",
            Some(query::<ChangesQuery>()),
            None,
            200,
            Some(g.subschema_for::<ChangePage>()),
            false,
            &[400, 401, 410, 422],
        ),
        op(
            "get",
            "/api/tasks/{id}/comments",
            "listComments",
            "A task's comments, newest first",
            Some(query::<HistoryQuery>()),
            None,
            200,
            Some(g.subschema_for::<CommentPage>()),
            false,
            &[400, 401, 404, 422],
        ),
        op(
            "post",
            "/api/tasks/{id}/comments",
            "addComment",
            "Comment on a task (editors and the owner)",
            None,
            Some(g.subschema_for::<WriteComment>()),
            201,
            Some(g.subschema_for::<Comment>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "patch",
            "/api/tasks/{id}/comments/{comment}",
            "updateComment",
            "Edit your comment",
            None,
            Some(g.subschema_for::<WriteComment>()),
            200,
            Some(g.subschema_for::<Comment>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "delete",
            "/api/tasks/{id}/comments/{comment}",
            "deleteComment",
            "Delete a comment (its author, or an admin of the list)",
            None,
            None,
            204,
            None,
            false,
            &[401, 403, 404, 409],
        ),
        op(
            "get",
            "/api/tags",
            "listTags",
            "Tags with task counts",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<TagCount>>()),
            false,
            &[401],
        ),
        op(
            "post",
            "/api/tasks/{id}/move",
            "moveTask",
            "Move a task to another list and/or before or after a task, or to the top or bottom",
            None,
            Some(g.subschema_for::<MoveTask>()),
            200,
            Some(g.subschema_for::<Task>()),
            true,
            write_errors,
        ),
        op(
            "put",
            "/api/tasks/{id}/links/{kind}/{other_id}",
            "linkTasks",
            "Link two tasks: blocks, blocked_by or relates (a blocks cycle is refused)",
            None,
            None,
            200,
            Some(g.subschema_for::<Task>()),
            false,
            &[401, 404, 409, 422],
        ),
        op(
            "delete",
            "/api/tasks/{id}/links/{kind}/{other_id}",
            "unlinkTasks",
            "Remove a link between two tasks",
            None,
            None,
            200,
            Some(g.subschema_for::<Task>()),
            false,
            &[401, 404, 409, 422],
        ),
        op(
            "get",
            "/api/lists",
            "listLists",
            "The lists with task counts: the Inbox first, then in the manual order",
            Some(query::<ListsQuery>()),
            None,
            200,
            Some(g.subschema_for::<Vec<ListSummary>>()),
            false,
            &[400, 401, 422],
        ),
        op(
            "post",
            "/api/lists",
            "createList",
            "Create a list (nested in `parent_id`, at most 5 deep)",
            None,
            Some(g.subschema_for::<CreateList>()),
            201,
            Some(g.subschema_for::<List>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "get",
            "/api/lists/{id}",
            "getList",
            "One list with its task counts",
            None,
            None,
            200,
            Some(g.subschema_for::<ListSummary>()),
            false,
            id_errors,
        ),
        op(
            "patch",
            "/api/lists/{id}",
            "updateList",
            "Rename a list or change its notes or colour (null clears)",
            None,
            Some(g.subschema_for::<UpdateList>()),
            200,
            Some(g.subschema_for::<List>()),
            true,
            write_errors,
        ),
        op(
            "delete",
            "/api/lists/{id}",
            "deleteList",
            "Delete a list and its nested lists; one holding tasks needs cascade=delete or move_to",
            Some(query::<DeleteList>()),
            None,
            204,
            None,
            true,
            &[400, 401, 404, 409, 412, 422],
        ),
        op(
            "post",
            "/api/lists/{id}/archive",
            "archiveList",
            "Archive a list: read-only and hidden from default listings",
            None,
            None,
            200,
            Some(g.subschema_for::<List>()),
            true,
            state_errors,
        ),
        op(
            "post",
            "/api/lists/{id}/unarchive",
            "unarchiveList",
            "Make an archived list active again",
            None,
            None,
            200,
            Some(g.subschema_for::<List>()),
            true,
            state_errors,
        ),
        op(
            "post",
            "/api/lists/{id}/move",
            "moveList",
            "Nest a list in another (or at the top) and place it among its siblings",
            None,
            Some(g.subschema_for::<MoveList>()),
            200,
            Some(g.subschema_for::<List>()),
            false,
            &[400, 401, 404, 409, 413, 415, 422],
        ),
        op(
            "get",
            "/api/notifications",
            "listNotifications",
            "Notifications, newest first",
            Some(query::<NotificationQuery>()),
            None,
            200,
            Some(g.subschema_for::<NotificationPage>()),
            false,
            &[400, 401, 422],
        ),
        op(
            "get",
            "/api/notifications/unread-count",
            "unreadCount",
            "How many notifications are unread",
            None,
            None,
            200,
            Some(g.subschema_for::<UnreadCount>()),
            false,
            &[401],
        ),
        op(
            "post",
            "/api/notifications/read-all",
            "readAllNotifications",
            "Mark every notification read",
            None,
            None,
            200,
            Some(g.subschema_for::<Marked>()),
            false,
            &[401],
        ),
        op(
            "post",
            "/api/notifications/{id}/read",
            "readNotification",
            "Mark one notification read",
            None,
            None,
            204,
            None,
            false,
            id_errors,
        ),
        op(
            "post",
            "/api/lists/{id}/invitations",
            "inviteToList",
            "Invite someone by exact username to a list you administer; they accept or decline",
            None,
            Some(g.subschema_for::<CreateInvitation>()),
            201,
            Some(g.subschema_for::<Invitation>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "get",
            "/api/lists/{id}/invitations",
            "listInvitationsOfList",
            "The list's invitations not yet answered (admins)",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<Invitation>>()),
            false,
            &[401, 403, 404],
        ),
        op(
            "get",
            "/api/lists/{id}/members",
            "listMembers",
            "Everyone who can open the list: the owner, then each member with their role and the list whose grant gives it",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<Member>>()),
            false,
            id_errors,
        ),
        op(
            "get",
            "/api/lists/{id}/members/{user}",
            "getMember",
            "One member of the list",
            None,
            None,
            200,
            Some(g.subschema_for::<Member>()),
            false,
            id_errors,
        ),
        op(
            "patch",
            "/api/lists/{id}/members/{user}",
            "updateMember",
            "Change a member's role (admins; the grant must be on this list)",
            None,
            Some(g.subschema_for::<UpdateMember>()),
            200,
            Some(g.subschema_for::<Member>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "delete",
            "/api/lists/{id}/members/{user}",
            "removeMember",
            "Remove a member (admins, or the member themselves); their access ends at once",
            None,
            None,
            204,
            None,
            false,
            &[401, 403, 404, 409],
        ),
        op(
            "post",
            "/api/lists/{id}/leave",
            "leaveList",
            "Leave a list shared with you",
            None,
            None,
            204,
            None,
            false,
            &[401, 404, 409],
        ),
        op(
            "post",
            "/api/lists/{id}/transfer",
            "transferList",
            "Give a list at the top level, with the lists in it and their tasks, to one of its members (the owner only); you stay as an admin. Returned as you see it afterwards",
            None,
            Some(g.subschema_for::<TransferList>()),
            200,
            Some(g.subschema_for::<ListSummary>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "get",
            "/api/invitations",
            "listMyInvitations",
            "The invitations waiting for you, newest first",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<Invitation>>()),
            false,
            &[401],
        ),
        op(
            "post",
            "/api/invitations/{id}/accept",
            "acceptInvitation",
            "Accept an invitation: you become a member of its list, which is returned as you see it",
            None,
            None,
            200,
            Some(g.subschema_for::<ListSummary>()),
            false,
            id_errors,
        ),
        op(
            "post",
            "/api/invitations/{id}/decline",
            "declineInvitation",
            "Decline an invitation",
            None,
            None,
            204,
            None,
            false,
            id_errors,
        ),
        op(
            "get",
            "/api/users/me",
            "getMe",
            "The caller's profile: id, username, display name, default time zone (the first request of a new user makes it)",
            None,
            None,
            200,
            Some(g.subschema_for::<User>()),
            false,
            &[401],
        ),
        op(
            "patch",
            "/api/users/me",
            "updateMe",
            "Change the caller's display name or default time zone (null clears it)",
            None,
            Some(g.subschema_for::<UpdateProfile>()),
            200,
            Some(g.subschema_for::<User>()),
            false,
            &[400, 401, 413, 415, 422],
        ),
        op(
            "get",
            "/api/users",
            "findUser",
            "The user with exactly this username (case matters), to invite them",
            Some(query::<UserLookup>()),
            None,
            200,
            Some(g.subschema_for::<UserSummary>()),
            false,
            &[400, 401, 404, 422],
        ),
        op(
            "get",
            "/api/connected-apps",
            "listConnectedApps",
            "The agents acting for you: apps you approved and minted agent tokens",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<ConnectedApp>>()),
            false,
            &[401],
        ),
        op(
            "delete",
            "/api/connected-apps/{id}",
            "disconnectApp",
            "Revoke an agent: its tokens and MCP sessions end at once",
            None,
            None,
            204,
            None,
            false,
            id_errors,
        ),
        op(
            "get",
            "/api/webhooks",
            "listWebhooks",
            "Your webhook endpoints (never their secrets)",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<Webhook>>()),
            false,
            &[401],
        ),
        op(
            "post",
            "/api/webhooks",
            "createWebhook",
            "Add an endpoint: https only, public addresses only; its signing `secret` is in this answer and never again",
            None,
            Some(g.subschema_for::<CreateWebhook>()),
            201,
            Some(g.subschema_for::<WebhookWithSecret>()),
            false,
            &[400, 401, 403, 404, 409, 413, 415, 422],
        ),
        op(
            "get",
            "/api/webhooks/event-types",
            "webhookEventTypes",
            "The event types an endpoint may ask for",
            None,
            None,
            200,
            Some(g.subschema_for::<EventTypes>()),
            false,
            &[401],
        ),
        op(
            "get",
            "/api/webhooks/{id}",
            "getWebhook",
            "One endpoint",
            None,
            None,
            200,
            Some(g.subschema_for::<Webhook>()),
            false,
            id_errors,
        ),
        op(
            "patch",
            "/api/webhooks/{id}",
            "updateWebhook",
            "Change an endpoint; enabling one Taskflow disabled sends what waited",
            None,
            Some(g.subschema_for::<UpdateWebhook>()),
            200,
            Some(g.subschema_for::<Webhook>()),
            false,
            &[400, 401, 403, 404, 413, 415, 422],
        ),
        op(
            "delete",
            "/api/webhooks/{id}",
            "deleteWebhook",
            "Delete an endpoint and its deliveries",
            None,
            None,
            204,
            None,
            false,
            id_errors,
        ),
        op(
            "post",
            "/api/webhooks/{id}/rotate-secret",
            "rotateWebhookSecret",
            "A new signing secret (in this answer only); the old one signs too for 24 hours",
            None,
            None,
            200,
            Some(g.subschema_for::<WebhookWithSecret>()),
            false,
            id_errors,
        ),
        op(
            "post",
            "/api/webhooks/{id}/test",
            "testWebhook",
            "Queue a `taskflow.ping.v1` delivery, sent before anything waiting",
            None,
            None,
            202,
            Some(g.subschema_for::<Delivery>()),
            false,
            &[401, 404, 409],
        ),
        op(
            "get",
            "/api/webhooks/{id}/deliveries",
            "listWebhookDeliveries",
            "An endpoint's deliveries, newest first, with their last attempt",
            Some(query::<DeliveryQuery>()),
            None,
            200,
            Some(g.subschema_for::<DeliveryPage>()),
            false,
            &[400, 401, 404, 422],
        ),
        op(
            "post",
            "/api/webhooks/{id}/deliveries/{delivery}/redeliver",
            "redeliverWebhook",
            "Send a delivery again, with its `webhook-id`",
            None,
            None,
            202,
            Some(g.subschema_for::<Delivery>()),
            false,
            id_errors,
        ),
        op(
            "post",
            "/api/webhooks/{id}/replay",
            "replayWebhook",
            "Send again every event after `since_sequence` the endpoint takes (10,000 at a time)",
            None,
            Some(g.subschema_for::<Replay>()),
            202,
            Some(g.subschema_for::<Replayed>()),
            false,
            &[400, 401, 404, 413, 415, 422],
        ),
        op(
            "get",
            "/api/export",
            "exportAccount",
            "Everything you own as one JSON document (lists, tasks with subtasks, links, comments), to keep or import elsewhere",
            None,
            None,
            200,
            Some(g.subschema_for::<Export>()),
            false,
            &[401],
        ),
        op(
            "get",
            "/api/calendar-feeds",
            "listCalendarFeeds",
            "Your calendar feeds (never their URLs)",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<CalendarFeed>>()),
            false,
            &[401],
        ),
        op(
            "post",
            "/api/calendar-feeds",
            "createCalendarFeed",
            "Make a read-only iCalendar feed of some lists or all: its `url` is in this answer and never again",
            None,
            Some(g.subschema_for::<CreateCalendarFeed>()),
            201,
            Some(g.subschema_for::<CalendarFeedWithUrl>()),
            false,
            &[400, 401, 404, 409, 413, 415, 422],
        ),
        op(
            "delete",
            "/api/calendar-feeds/{id}",
            "deleteCalendarFeed",
            "Delete a feed: its URL stops working at once",
            None,
            None,
            204,
            None,
            false,
            id_errors,
        ),
        op(
            "get",
            "/api/app-passwords",
            "listAppPasswords",
            "Your app passwords (never the passwords)",
            None,
            None,
            200,
            Some(g.subschema_for::<Vec<AppPassword>>()),
            false,
            &[401],
        ),
        op(
            "post",
            "/api/app-passwords",
            "createAppPassword",
            "Make a password for an app that signs in with one (CalDAV on a phone or a desktop): the `password` is in this answer and never again",
            None,
            Some(g.subschema_for::<CreateAppPassword>()),
            201,
            Some(g.subschema_for::<AppPasswordWithSecret>()),
            false,
            &[400, 401, 409, 413, 415, 422],
        ),
        op(
            "delete",
            "/api/app-passwords/{id}",
            "deleteAppPassword",
            "Revoke an app password: the app is refused from its next request",
            None,
            None,
            204,
            None,
            false,
            id_errors,
        ),
        op(
            "get",
            "/feeds/{file}",
            "getCalendarFeed",
            "A calendar feed (RFC 5545), by the URL its creation answered; no bearer token. `If-None-Match` with its `ETag` answers 304 while nothing it shows changed",
            None,
            None,
            200,
            None,
            false,
            &[404],
        ),
        op(
            "post",
            "/api/import",
            "importAccount",
            "Read an export into your account, which must own nothing yet: all of it in one transaction, or nothing with every bad entry named in `errors`; `dry_run=true` only checks",
            Some(query::<ImportQuery>()),
            Some(g.subschema_for::<Export>()),
            200,
            Some(g.subschema_for::<ImportReport>()),
            false,
            &[400, 401, 409, 413, 415, 422],
        ),
        op(
            "post",
            "/api/import/todoist",
            "importTodoist",
            "Read a Todoist project's CSV export (the request body, text/csv) into a new list: sections become lists in it, notes comments; a bad line is named in `errors`",
            Some(query::<TodoistQuery>()),
            None,
            200,
            Some(g.subschema_for::<ImportReport>()),
            false,
            &[400, 401, 413, 422],
        ),
        op(
            "post",
            "/api/chat",
            "chat",
            "Say something to the task agent; it performs task operations and answers",
            None,
            Some(g.subschema_for::<ChatRequest>()),
            200,
            Some(g.subschema_for::<ChatReply>()),
            false,
            &[400, 401, 404, 413, 415, 422, 502, 504],
        ),
        op(
            "get",
            "/api/conversations",
            "listConversations",
            "Chat conversations, newest first",
            Some(query::<ConversationQuery>()),
            None,
            200,
            Some(g.subschema_for::<ConversationPage>()),
            false,
            &[400, 401, 422],
        ),
        op(
            "get",
            "/api/conversations/{id}",
            "getConversation",
            "A conversation with its messages",
            None,
            None,
            200,
            Some(g.subschema_for::<ConversationDetail>()),
            false,
            id_errors,
        ),
        op(
            "delete",
            "/api/conversations/{id}",
            "deleteConversation",
            "Delete a conversation and its messages",
            None,
            None,
            204,
            None,
            false,
            id_errors,
        ),
    ];
    let problem = g.subschema_for::<ProblemDetails>();
    let mut paths = Map::new();
    for op in ops {
        let operation = operation(&op, &problem);
        if let Value::Object(item) = paths.entry(op.path).or_insert_with(|| json!({})) {
            item.insert(op.method.to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Taskflow API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Tasks, notifications, history and chat for one user per bearer token. Errors are RFC 9457 problem details with a stable `code`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": generator.take_definitions(true),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    })
}

#[allow(clippy::too_many_arguments)] // a table row
fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    query: Option<Schema>,
    body: Option<Schema>,
    status: u16,
    response: Option<Schema>,
    conditional: bool,
    errors: &'static [u16],
) -> Op {
    Op {
        method,
        path,
        id,
        summary,
        query,
        body,
        status,
        response,
        conditional,
        errors,
    }
}

/// The inline schema of a query-parameter struct (its properties become
/// parameters).
fn query<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

fn operation(op: &Op, problem: &Schema) -> Value {
    let mut parameters = Vec::new();
    if op.path.contains("{id}") {
        parameters.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}}));
    }
    if op.path.contains("{kind}") {
        parameters.push(json!({"name": "kind", "in": "path", "required": true, "schema": {"type": "string", "enum": ["blocks", "blocked_by", "relates"]}}));
    }
    if op.path.contains("{user}") {
        parameters.push(json!({"name": "user", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1}, "description": "The member's user id."}));
    }
    if op.path.contains("{comment}") {
        parameters.push(json!({"name": "comment", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}, "description": "The comment's id."}));
    }
    if op.path.contains("{delivery}") {
        parameters.push(json!({"name": "delivery", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}, "description": "The delivery's id (its `webhook-id`)."}));
    }
    if op.path.contains("{file}") {
        parameters.push(json!({"name": "file", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^cal_[A-Za-z0-9_-]{43}\\.ics$"}, "description": "The feed's token and `.ics`, as in its URL."}));
        parameters.push(json!({"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "The ETag you last saw; 304 if nothing changed since."}));
    }
    if op.path.contains("{other_id}") {
        parameters.push(json!({"name": "other_id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}, "description": "The other task."}));
    }
    if let Some(query) = &op.query {
        let defs = query.get("$defs").cloned();
        if let Some(Value::Object(props)) = query.get("properties") {
            for (name, schema) in props {
                let mut schema = schema.clone();
                inline_refs(&mut schema, defs.as_ref());
                let description = schema.get("description").cloned().unwrap_or(Value::Null);
                parameters.push(json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description}));
            }
        }
    }
    if op.conditional {
        parameters.push(json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "The ETag you last saw; 412 if the task changed since."}));
    }
    if op.id == "createTask" {
        parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}, "description": "Replays the first response for a repeated request."}));
    }
    let mut responses = Map::new();
    let ok = match &op.response {
        Some(schema) => {
            json!({"description": "Success", "content": {"application/json": {"schema": schema}}})
        }
        None if op.path.starts_with("/feeds/") => {
            responses.insert(
                "304".into(),
                json!({"description": "Not modified since the ETag given"}),
            );
            json!({"description": "The calendar", "content": {"text/calendar": {"schema": {"type": "string"}}}})
        }
        None => json!({"description": "Success, no content"}),
    };
    responses.insert(op.status.to_string(), ok);
    for status in op.errors.iter().chain([503].iter()) {
        responses.insert(
            status.to_string(),
            json!({"description": "Problem details", "content": {"application/problem+json": {"schema": problem}}}),
        );
    }
    let mut operation = json!({
        "operationId": op.id,
        "summary": op.summary,
        "parameters": parameters,
        "responses": responses,
    });
    if op.path.starts_with("/feeds/") {
        // The token in the URL is the credential.
        operation["security"] = json!([]);
    }
    if let Some(body) = &op.body {
        operation["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": body}}});
    }
    operation
}

/// Replaces `$ref`s to a query struct's own `$defs` with the definitions.
fn inline_refs(schema: &mut Value, defs: Option<&Value>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref")
                && let Some(name) = target.strip_prefix("#/$defs/")
                && let Some(def) = defs.and_then(|d| d.get(name))
            {
                let mut def = def.clone();
                inline_refs(&mut def, defs);
                map.remove("$ref");
                if let Value::Object(def) = def {
                    for (k, v) in def {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            for value in map.values_mut() {
                inline_refs(value, defs);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| inline_refs(v, defs)),
        _ => {}
    }
}
