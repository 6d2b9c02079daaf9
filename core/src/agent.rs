//! Agents: assistants acting for a user (an OAuth client the user approved,
//! or a token minted for one), what each may do (its [`Scopes`]), and how
//! the user sees them on the Connected apps page.

use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Invalid;

/// What an agent's token allows. Every tool needs one scope: reading needs
/// `tasks:read`; a write needs the scope of what it changes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Scope {
    /// Read tasks, lists, comments, notifications and history.
    #[serde(rename = "tasks:read")]
    TasksRead,
    /// Add, change, complete, move, snooze and delete tasks.
    #[serde(rename = "tasks:write")]
    TasksWrite,
    /// Create, change and share lists; link tasks; answer invitations.
    #[serde(rename = "lists:write")]
    ListsWrite,
    /// Comment on tasks.
    #[serde(rename = "comments:write")]
    CommentsWrite,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 4] = [
        Scope::TasksRead,
        Scope::TasksWrite,
        Scope::ListsWrite,
        Scope::CommentsWrite,
    ];

    /// Its name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::TasksRead => "tasks:read",
            Scope::TasksWrite => "tasks:write",
            Scope::ListsWrite => "lists:write",
            Scope::CommentsWrite => "comments:write",
        }
    }

    /// What it allows, for the consent screen.
    pub const fn description(self) -> &'static str {
        match self {
            Scope::TasksRead => "See your tasks, lists, comments and notifications",
            Scope::TasksWrite => "Add, change, complete and delete your tasks",
            Scope::ListsWrite => "Create, change and share your lists",
            Scope::CommentsWrite => "Comment on tasks as you",
        }
    }

    /// The scope named `name`.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written space-separated as OAuth does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope.
    pub const ALL: Scopes = Scopes(0b1111);

    /// Whether `scope` is in the set.
    pub const fn allows(self, scope: Scope) -> bool {
        self.0 & (1 << scope as u8) != 0
    }

    /// The set with `scope` too.
    pub const fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | (1 << scope as u8))
    }

    /// Whether every scope of `other` is in this set.
    pub const fn covers(self, other: Scopes) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether it is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Its scopes, in order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.allows(*s))
    }

    /// Reads space-separated scope names (the `scope` parameter of OAuth).
    pub fn parse(text: &str) -> Result<Scopes, Invalid> {
        let mut scopes = Scopes::default();
        for name in text.split(' ').filter(|n| !n.is_empty()) {
            let scope = Scope::parse(name).ok_or_else(|| {
                Invalid::new(
                    "scope",
                    format!(
                        "`{name}` is not a scope; use {}",
                        Scope::ALL.map(Scope::as_str).join(", ")
                    ),
                )
            })?;
            scopes = scopes.with(scope);
        }
        Ok(scopes)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Scopes::default(), Scopes::with)
    }
}

impl Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl JsonSchema for Scopes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scopes".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Vec<Scope>>::json_schema(generator)
    }
}

/// The longest name an agent may be given.
pub const MAX_AGENT_NAME: usize = 100;

/// An agent as the user it acts for sees it (the Connected apps page).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConnectedApp {
    pub id: i64,
    /// The client's name as it registered, or the name given to
    /// `taskflow token --agent`.
    pub name: String,
    /// The OAuth client it is; null for a minted token.
    pub client_id: Option<String>,
    /// What it may do.
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    /// When it last made a request (to the minute); null: never.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The agent a request's token belongs to, as a change records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPrincipal {
    pub id: i64,
    pub name: String,
    /// The user it acts for.
    pub user: String,
    pub scopes: Scopes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_and_write_as_oauth_spells_them() {
        let scopes = Scopes::parse("tasks:write  tasks:read").unwrap();
        assert!(scopes.allows(Scope::TasksRead) && scopes.allows(Scope::TasksWrite));
        assert!(!scopes.allows(Scope::ListsWrite));
        assert_eq!(scopes.to_string(), "tasks:read tasks:write");
        assert!(Scopes::ALL.covers(scopes) && !scopes.covers(Scopes::ALL));
        assert_eq!(Scopes::parse("").unwrap(), Scopes::default());
        let err = Scopes::parse("tasks:read admin").unwrap_err();
        assert_eq!(err.field, "scope");
        assert!(err.reason.contains("`admin`"), "{}", err.reason);
        assert_eq!(
            serde_json::to_value(scopes).unwrap(),
            serde_json::json!(["tasks:read", "tasks:write"])
        );
    }
}
