//! Sharing: the members of a list and their roles, and invitations. A
//! list's owner can do everything; a grant on a list reaches the lists
//! nested in it (the nearest grant wins). Viewers read; editors also
//! create, change, complete and move tasks and comment; admins also manage
//! members and archive, move and delete lists.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::UserSummary;

/// What someone may do in a list: in rising order, each one allowing what
/// the ones before it allow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the list and its tasks.
    Viewer,
    /// Also creates, changes, completes and moves tasks, and comments.
    Editor,
    /// Also manages members, and archives, moves and deletes the list.
    Admin,
    /// The list's owner: everything an admin does, and cannot be removed.
    Owner,
}

impl Role {
    /// The lower-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// The name with its article, as a sentence says it: "an editor".
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Viewer => "a viewer",
            Role::Editor => "an editor",
            Role::Admin => "an admin",
            Role::Owner => "the owner",
        }
    }

    /// A stored name; None for an unknown one.
    pub fn parse(name: &str) -> Option<Role> {
        [Role::Viewer, Role::Editor, Role::Admin, Role::Owner]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// A role that can be granted: viewer, editor or admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Grant {
    Viewer,
    Editor,
    Admin,
}

impl From<Grant> for Role {
    fn from(grant: Grant) -> Role {
        match grant {
            Grant::Viewer => Role::Viewer,
            Grant::Editor => Role::Editor,
            Grant::Admin => Role::Admin,
        }
    }
}

/// Someone who can open a list, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Member {
    pub user: UserSummary,
    pub role: Role,
    /// The list whose grant gives this role: this list, or one it is
    /// nested in; null for the owner.
    pub granted_on: Option<i64>,
}

/// Invite someone to a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    /// Their exact username (see `GET /api/users?username=`).
    pub username: String,
    /// What they may do once they accept (default viewer).
    #[serde(default = "viewer")]
    pub role: Grant,
}

fn viewer() -> Grant {
    Grant::Viewer
}

/// Change a member's role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    pub role: Grant,
}

/// Give a list to one of its members: they become its owner, and the one
/// who gave it stays as an admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferList {
    /// The new owner's user id: a member who can open the list now.
    pub user: String,
}

/// An invitation to a list, waiting for its invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Invitation {
    pub id: i64,
    pub list_id: i64,
    /// The list's title.
    pub list_title: String,
    pub role: Role,
    pub invitee: UserSummary,
    pub invited_by: UserSummary,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_rise_and_round_trip_by_name() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Admin);
        assert!(Role::Admin < Role::Owner);
        for role in [Role::Viewer, Role::Editor, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!(Role::parse("root"), None);
        let invite: CreateInvitation = serde_json::from_str(r#"{"username": "bob"}"#).unwrap();
        assert_eq!(invite.role, Grant::Viewer);
        assert!(
            serde_json::from_str::<CreateInvitation>(r#"{"username": "bob", "role": "owner"}"#)
                .is_err()
        );
    }
}
