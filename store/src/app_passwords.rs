//! App passwords: each person's named secrets for apps that sign in with a
//! username and password (CalDAV clients). Only a password's SHA-256 is
//! kept; a sign-in is one indexed read by that hash, then the expiry, the
//! scope and the username are checked. Deleting one refuses it at once.

use chrono::{DateTime, Utc};
use taskflow_core::{
    AppPassword, AppPasswordScope, AppPasswordWithSecret, CreateAppPassword, Invalid,
    MAX_APP_PASSWORDS,
};

use crate::agents::{LAST_USED_GRAIN, agent_name, hash, random_token};
use crate::database::query;
use crate::tasks::check_user;
use crate::{Error, Result, TaskService};

/// What every app password starts with.
pub const APP_PASSWORD_PREFIX: &str = "tfap_";

const COLUMNS: &str = "id, user_id, name, hint, scopes, expires_at, created_at, last_used_at";

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: String,
    name: String,
    hint: String,
    /// Space-separated.
    scopes: String,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

/// A password's row with its owner's username.
#[derive(Debug, sqlx::FromRow)]
struct SignIn {
    #[sqlx(flatten)]
    row: Row,
    username: Option<String>,
}

impl Row {
    fn scopes(&self) -> impl Iterator<Item = AppPasswordScope> + '_ {
        self.scopes.split(' ').filter_map(|s| s.parse().ok())
    }

    fn view(&self) -> AppPassword {
        AppPassword {
            id: self.id,
            name: self.name.clone(),
            scopes: self.scopes().collect(),
            hint: self.hint.clone(),
            expires_at: self.expires_at,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        }
    }
}

impl TaskService {
    /// Makes an app password for `user`; the password is in the answer and
    /// nowhere else. `dav_url` is where CalDAV apps are pointed.
    pub async fn create_app_password(
        &self,
        user: &str,
        input: &CreateAppPassword,
        dav_url: &str,
    ) -> Result<AppPasswordWithSecret> {
        check_user(user)?;
        let name = agent_name("name", &input.name)?;
        if input.scopes.is_empty() {
            return Err(Invalid::new("scopes", "name what it opens: [\"caldav\"]").into());
        }
        let now = self.now();
        if input.expires_at.is_some_and(|at| at <= now) {
            return Err(Invalid::new("expires_at", "must be in the future, or left out").into());
        }
        let mut scopes: Vec<&'static str> = input.scopes.iter().map(|s| s.into()).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let username = self.me(user).await?.username;
        let password = format!("{APP_PASSWORD_PREFIX}{}", random_token());
        let hint = password[password.len() - 4..].to_owned();
        let mut tx = self.db.begin().await?;
        let count: i64 = query("SELECT COUNT(*) FROM app_passwords WHERE user_id = $1")
            .bind(user)
            .scalar(&mut tx)
            .await?;
        if count >= MAX_APP_PASSWORDS as i64 {
            return Err(Error::refused(
                "too_many_app_passwords",
                "name",
                format!("you have {count} app passwords, the most there may be; revoke one first"),
            ));
        }
        let row: Row = query(&format!(
            "INSERT INTO app_passwords (user_id, name, hash, hint, scopes, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        ))
        .bind(user)
        .bind(&name)
        .bind(hash(&password))
        .bind(&hint)
        .bind(scopes.join(" "))
        .bind(input.expires_at)
        .bind(now)
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(AppPasswordWithSecret {
            app_password: row.view(),
            password,
            username,
            dav_url: dav_url.to_owned(),
        })
    }

    /// The user's app passwords, oldest first.
    pub async fn app_passwords(&self, user: &str) -> Result<Vec<AppPassword>> {
        check_user(user)?;
        let rows: Vec<Row> = query(&format!(
            "SELECT {COLUMNS} FROM app_passwords WHERE user_id = $1 ORDER BY id"
        ))
        .bind(user)
        .fetch_all(&mut self.db.read().await?)
        .await?;
        Ok(rows.iter().map(Row::view).collect())
    }

    /// Revokes one of the user's app passwords at once ([`Error::NotFound`]
    /// for anyone else's).
    pub async fn delete_app_password(&self, user: &str, id: i64) -> Result<()> {
        check_user(user)?;
        let deleted = query("DELETE FROM app_passwords WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&mut self.db.write().await?)
            .await?;
        if deleted == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// The user an app signs in as with `username` and `password`, if the
    /// password is theirs, unexpired and opens `scope` (None: refuse), with
    /// their username as read. The username sent is the person's username
    /// or user id, in any ASCII case. Notes the use, to the minute.
    pub async fn app_password_user(
        &self,
        username: &str,
        password: &str,
        scope: AppPasswordScope,
    ) -> Result<Option<(String, Option<String>)>> {
        if !password.starts_with(APP_PASSWORD_PREFIX) {
            return Ok(None);
        }
        let found: Option<SignIn> = query(&format!(
            "SELECT {COLUMNS}, (SELECT username FROM users WHERE id = p.user_id) AS username \
             FROM app_passwords p WHERE hash = $1"
        ))
        .bind(hash(password))
        .fetch_optional(&mut self.db.read().await?)
        .await?;
        let Some(SignIn {
            row,
            username: known_as,
        }) = found
        else {
            return Ok(None);
        };
        let now = self.now();
        let fits = row.expires_at.is_none_or(|at| at > now)
            && row.scopes().any(|s| s == scope)
            && (known_as
                .as_ref()
                .is_some_and(|known| username.eq_ignore_ascii_case(known))
                || username.eq_ignore_ascii_case(&row.user_id));
        if !fits {
            return Ok(None);
        }
        if row
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_GRAIN)
        {
            query("UPDATE app_passwords SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(row.id)
                .execute(&mut self.db.write().await?)
                .await?;
        }
        Ok(Some((row.user_id, known_as)))
    }
}
