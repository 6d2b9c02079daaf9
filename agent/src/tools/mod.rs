//! The tools, one file each: its parameter type (where it has its own),
//! its description and hints, and what it does.

mod add_comment;
mod add_task;
mod complete_task;
mod delete_task;
mod get_task;
mod invitations;
mod link_tasks;
mod list_lists;
mod list_members;
mod list_notifications;
mod list_tasks;
mod manage_list;
mod manage_member;
mod move_task;
mod recent_activity;
mod reopen_task;
mod share_list;
mod snooze_task;
mod transfer_list;
mod update_task;

pub use add_comment::{AddComment, AddCommentParams};
pub use add_task::{AddTask, AddTaskParams};
pub use complete_task::{CompleteTask, Completed};
pub use delete_task::DeleteTask;
pub use get_task::GetTask;
pub use invitations::{
    AnswerInvitation, AnswerInvitationParams, Answered, Invitations, ListInvitations,
};
pub use link_tasks::{LinkTasks, LinkTasksParams};
pub use list_lists::{ListLists, Lists};
pub use list_members::{ListMembers, ListMembersParams, Members};
pub use list_notifications::ListNotifications;
pub use list_tasks::{LIST_DESCRIPTION_CHARS, ListTasks, ListTasksParams, MAX_LIST, TaskList};
pub use manage_list::{ListAction, ManageList, ManageListParams};
pub use manage_member::{ManageMember, ManageMemberParams, MemberAction, Membership};
pub use move_task::{MoveTask, MoveTaskParams};
pub use recent_activity::{RecentActivity, RecentActivityParams};
pub use reopen_task::ReopenTask;
pub use share_list::{ShareList, ShareListParams};
pub use snooze_task::{SnoozeTask, SnoozeTaskParams};
pub use transfer_list::{TransferList, TransferListParams};
pub use update_task::{UpdateTask, UpdateTaskParams};
