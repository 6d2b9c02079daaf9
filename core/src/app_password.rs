//! App passwords: secrets a person makes for an app that signs in with a
//! username and password (CalDAV clients on phones and desktops cannot do
//! OAuth), each named, scoped, revocable on its own and shown once.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

/// The most app passwords a person has at once.
pub const MAX_APP_PASSWORDS: usize = 25;

/// What an app password opens.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum AppPasswordScope {
    /// Calendar sync under `/dav/`.
    Caldav,
}

/// A new app password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppPassword {
    /// What it is for, to tell it apart ("Alice's iPhone"); 1 to 100 characters.
    pub name: String,
    /// What it opens: `["caldav"]`.
    pub scopes: Vec<AppPasswordScope>,
    /// When it stops working; never, if absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// An app password as its owner sees it (never the password).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppPassword {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<AppPasswordScope>,
    /// The password's last four characters, to tell passwords apart.
    pub hint: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When an app last signed in with it (kept to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// An app password with its secret: the answer to its creation, the only
/// time the password is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppPasswordWithSecret {
    #[serde(flatten)]
    pub app_password: AppPassword,
    /// `tfap_…`: the password to type into the app, with `username`.
    pub password: String,
    /// The username to type into the app.
    pub username: String,
    /// The CalDAV server address to give the app.
    pub dav_url: String,
}
