//! People: a `users` row for every token subject, made the first time a
//! surface sees it ([`TaskService::saw`]; remembered, so later requests
//! cost nothing). The username is the token's `preferred_username` when
//! free, else the subject; the display name is the token's `name` until the
//! person changes it.

use chrono::{DateTime, Utc};
use taskflow_core::{Subject, UpdateProfile, User, UserSummary, Username};

use crate::database::query;
use crate::tasks::check_user;
use crate::{Error, Result, TaskService};

/// The columns of a [`UserRow`].
const COLUMNS: &str = "id, username, display_name, time_zone, created_at, updated_at";

/// A `users` row.
#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    time_zone: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            time_zone: row.time_zone,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// How many numbered usernames (`id-2` … `id-9`) are tried when both the
/// preferred username and the id are taken by others.
const NUMBERED: u32 = 8;

impl TaskService {
    /// Makes the subject's `users` row if it has none: the first request of
    /// a new user writes it, every later one finds it remembered.
    pub async fn saw(&self, subject: &Subject) -> Result<()> {
        check_user(&subject.id)?;
        if self.seen.get(&subject.id).is_some() {
            return Ok(());
        }
        let id = subject.id.as_str();
        let numbered = (2..2 + NUMBERED).map(|n| format!("{id}-{n}"));
        let candidates = subject
            .usernames()
            .map(str::to_owned)
            .chain(numbered)
            .collect::<Vec<_>>();
        let now = self.clock.now();
        let mut conn = self.db.write().await?;
        for username in &candidates {
            // Any conflict (this id, or a username someone else holds)
            // writes nothing; which one it was is read next.
            let made = query(
                "INSERT INTO users (id, username, display_name, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(username)
            .bind(subject.display_name(username))
            .bind(now)
            .execute(&mut conn)
            .await?;
            if made == 1 || self.exists(&mut conn, id).await? {
                self.seen.remember(id, ());
                return Ok(());
            }
        }
        Err(Error::Internal(format!(
            "no free username for {id}: {} were taken",
            candidates.len()
        )))
    }

    async fn exists(&self, conn: &mut crate::database::Pooled, id: &str) -> Result<bool> {
        Ok(query("SELECT 1 FROM users WHERE id = $1")
            .bind(id)
            .scalar_optional::<i32>(conn)
            .await?
            .is_some())
    }

    /// The user's own profile.
    pub async fn me(&self, user: &str) -> Result<User> {
        self.saw(&Subject::new(user)).await?;
        let row: UserRow = query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(user)
            .fetch_one(&mut self.db.read().await?)
            .await?;
        Ok(row.into())
    }

    /// Changes the user's display name or default time zone.
    pub async fn update_profile(&self, user: &str, patch: &UpdateProfile) -> Result<User> {
        let change = patch.parse()?;
        self.saw(&Subject::new(user)).await?;
        let zone = change.time_zone.map(|zone| zone.map(|z| z.name()));
        let row: UserRow = query(&format!(
            "UPDATE users SET display_name = COALESCE($2, display_name), \
             time_zone = CASE WHEN $3 THEN $4 ELSE time_zone END, updated_at = $5 \
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(user)
        .bind(change.display_name.as_ref().map(|n| n.as_str()))
        .bind(zone.is_some())
        .bind(zone.flatten())
        .bind(self.clock.now())
        .fetch_one(&mut self.db.write().await?)
        .await?;
        Ok(row.into())
    }

    /// The user with exactly this username (case matters), as others see
    /// them; `NoSuchUser` when there is none.
    pub async fn user_named(&self, username: &str) -> Result<UserSummary> {
        let username = Username::parse(username)?;
        let found: Option<(String, String, String)> =
            query("SELECT id, username, display_name FROM users WHERE username = $1")
                .bind(username.as_str())
                .fetch_optional(&mut self.db.read().await?)
                .await?;
        let (id, username, display_name) = found.ok_or(Error::NoSuchUser { field: "username" })?;
        Ok(UserSummary {
            id,
            username,
            display_name,
        })
    }
}
