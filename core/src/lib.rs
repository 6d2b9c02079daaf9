//! Taskflow's domain: the values a task is made of, parsed into types so that
//! once built they are valid, plus the parameter and result types of every
//! task operation (shared by the REST API, the MCP tools and the chat agent).
//!
//! This crate knows nothing of HTTP, SQL, MCP or Dapr.

pub mod agent;
pub mod app_password;
pub mod calendar;
pub mod comment;
pub mod due;
pub mod error;
pub mod links;
pub mod list;
pub mod member;
pub mod notification;
pub mod ops;
pub mod position;
pub mod recurrence;
pub mod reminder;
pub mod task;
pub mod transfer;
pub mod user;
pub mod webhook;

pub use agent::{AgentPrincipal, ConnectedApp, MAX_AGENT_NAME, Scope, Scopes};
pub use app_password::{
    AppPassword, AppPasswordScope, AppPasswordWithSecret, CreateAppPassword, MAX_APP_PASSWORDS,
};
pub use comment::{Comment, CommentPage, MAX_COMMENT, WriteComment};
pub use due::{Due, Zone};
pub use error::Invalid;
pub use links::{CompleteQuery, Included, LinkKind, LinkedTask, Links, TaskDetail, TaskInclude};
pub use list::{
    Cascade, Color, CreateList, DeleteList, INBOX_TITLE, Leftovers, List, ListFields, ListRef,
    ListSummary, ListsQuery, MAX_LIST_DEPTH, MoveList, UpdateList,
};
pub use member::{CreateInvitation, Grant, Invitation, Member, Role, TransferList, UpdateMember};
pub use notification::{
    Notification, NotificationKind, NotificationPage, NotificationQuery, UnreadCount,
};
pub use ops::{
    ChangesQuery, CreateTask, HistoryQuery, ListQuery, MoveTask, SnoozeTask, SortKey, StatusFilter,
    TagCount, TaskFilter, TaskPage, UpdateTask,
};
pub use position::{Edge, Place, Spot};
pub use recurrence::{End, Frequency, FromIcal, RecurrenceRule};
pub use reminder::Reminder;
pub use task::{
    Description, FieldChange, MAX_ASSIGNEES, ParentRef, Priority, Tag, Tags, Task, TaskFields,
    Title, field_changes, parse_assignees,
};
pub use transfer::{
    EXPORT_FORMAT, EXPORT_VERSION, Export, ExportComment, ExportLink, ExportList, ExportTask,
    ImportPlan, ImportQuery, ImportReport, MAX_IMPORT_ERRORS, MAX_TASK_DEPTH, PlannedHome,
    PlannedInbox, TodoistQuery,
};
pub use user::{
    DisplayName, MAX_DISPLAY_NAME, ProfileChange, Subject, UpdateProfile, User, UserLookup,
    UserSummary, Username,
};
pub use webhook::{
    CreateWebhook, Delivery, DeliveryPage, DeliveryQuery, DeliveryStatus, Replay, Replayed,
    UpdateWebhook, Webhook, WebhookUrl, WebhookWithSecret,
};
