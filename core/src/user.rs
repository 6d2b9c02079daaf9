//! People. A user is a token's subject, known from the first request that
//! carries it: a username others type to invite them (exact, as given), a
//! display name every surface shows, and a default time zone.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ops::present;
use crate::{Invalid, Zone};

/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 100;
/// The longest username, in bytes (a subject is at most 255 bytes too).
pub const MAX_USERNAME: usize = 255;

/// A user as they see themselves (`/api/users/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    /// The user id: the token's `sub`.
    pub id: String,
    /// What others type to invite this user.
    pub username: String,
    /// The name every surface shows.
    pub display_name: String,
    /// The IANA time zone the user works in, if they chose one.
    pub time_zone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user as others see them: in a look-up, a list's members, an assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// Who a token says its subject is: the claims a first sight reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    /// The `sub` claim.
    pub id: String,
    /// The `preferred_username` claim.
    pub username: Option<String>,
    /// The `name` claim.
    pub name: Option<String>,
}

impl Subject {
    /// A subject known by its id alone.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// The usernames to try, best first: the preferred one (when it is a
    /// valid username), then the id.
    pub fn usernames(&self) -> impl Iterator<Item = &str> {
        let preferred = self
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| Username::parse(u).is_ok());
        preferred.into_iter().chain([self.id.as_str()])
    }

    /// The display name a new user starts with: the `name` claim when it
    /// is a valid one, else `username`.
    pub fn display_name(&self, username: &str) -> String {
        self.name
            .as_deref()
            .and_then(|n| DisplayName::parse(n).ok())
            .map_or_else(
                || username.chars().take(MAX_DISPLAY_NAME).collect(),
                |n| n.0,
            )
    }
}

/// A display name: 1–100 characters on one line, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and checks a display name.
    pub fn parse(text: &str) -> Result<DisplayName, Invalid> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Invalid::new(
                "display_name",
                "the display name must not be blank",
            ));
        }
        if text.chars().count() > MAX_DISPLAY_NAME {
            return Err(Invalid::new(
                "display_name",
                format!("the display name must be at most {MAX_DISPLAY_NAME} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(Invalid::new(
                "display_name",
                "the display name must be one line without control characters",
            ));
        }
        Ok(DisplayName(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username: 1–255 bytes, no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Checks a username (not trimmed: it is matched exactly).
    pub fn parse(text: &str) -> Result<Username, Invalid> {
        if text.is_empty() || text.len() > MAX_USERNAME {
            return Err(Invalid::new(
                "username",
                format!("a username is 1 to {MAX_USERNAME} bytes"),
            ));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid::new(
                "username",
                "a username has no spaces or control characters",
            ));
        }
        Ok(Username(text.to_owned()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Change the caller's profile; `null` clears the time zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    /// A new display name, 1–100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_DISPLAY_NAME))]
    pub display_name: Option<String>,
    /// A new default IANA time zone, such as `Europe/Berlin`; null clears it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub time_zone: Option<Option<String>>,
}

/// An [`UpdateProfile`], checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    pub display_name: Option<DisplayName>,
    pub time_zone: Option<Option<Zone>>,
}

impl UpdateProfile {
    /// Checks the patch; naming no field is refused.
    pub fn parse(&self) -> Result<ProfileChange, Invalid> {
        if self.display_name.is_none() && self.time_zone.is_none() {
            return Err(Invalid::new(
                "body",
                "name a field to change: display_name or time_zone",
            ));
        }
        Ok(ProfileChange {
            display_name: self
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?,
            time_zone: self
                .time_zone
                .as_ref()
                .map(|zone| {
                    zone.as_deref()
                        .map(|z| Zone::parse(z, "time_zone"))
                        .transpose()
                })
                .transpose()?,
        })
    }
}

/// Look a user up by username.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserLookup {
    /// The exact username (case matters).
    pub username: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_offers_its_preferred_username_then_its_id() {
        let subject = Subject {
            id: "auth0|123".into(),
            username: Some(" alice ".into()),
            name: Some("Alice Liddell".into()),
        };
        assert_eq!(
            subject.usernames().collect::<Vec<_>>(),
            ["alice", "auth0|123"]
        );
        assert_eq!(subject.display_name("alice"), "Alice Liddell");

        let spaced = Subject {
            id: "u1".into(),
            username: Some("al ice".into()),
            name: Some("\u{7}".into()),
        };
        assert_eq!(spaced.usernames().collect::<Vec<_>>(), ["u1"]);
        assert_eq!(spaced.display_name("u1"), "u1");
    }

    #[test]
    fn a_profile_patch_is_checked() {
        let empty = UpdateProfile::default().parse().unwrap_err();
        assert_eq!(empty.field, "body");
        let blank = UpdateProfile {
            display_name: Some("  ".into()),
            ..UpdateProfile::default()
        };
        assert_eq!(blank.parse().unwrap_err().field, "display_name");
        let zone = UpdateProfile {
            time_zone: Some(Some("Mars/Olympus".into())),
            ..UpdateProfile::default()
        };
        assert_eq!(zone.parse().unwrap_err().field, "time_zone");
        let cleared: UpdateProfile = serde_json::from_str(r#"{"time_zone": null}"#).unwrap();
        assert_eq!(cleared.parse().unwrap().time_zone, Some(None));
        let named = UpdateProfile {
            display_name: Some(" Bob ".into()),
            time_zone: Some(Some("Europe/Berlin".into())),
        }
        .parse()
        .unwrap();
        assert_eq!(named.display_name.unwrap().as_str(), "Bob");
        assert_eq!(named.time_zone.unwrap().unwrap().name(), "Europe/Berlin");
    }
}
