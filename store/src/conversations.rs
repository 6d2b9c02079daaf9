//! Chat conversations and their messages, so any replica can continue any
//! conversation. Every operation is scoped by user: another user's
//! conversation is `NotFound`, like a missing one.

use chrono::{DateTime, Utc};

use crate::database::{Param, query};
use crate::tasks::check_user;
use crate::{Error, Result, TaskService};

/// The longest conversation title kept, in characters.
const MAX_TITLE: usize = 80;

/// A chat conversation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: i64,
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One message of a conversation; `data` is the surface's own JSON
/// (for chat: the actions taken and what the reply asked).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub role: String,
    pub content: String,
    pub data: Option<sqlx::types::Json<serde_json::Value>>,
    pub created_at: DateTime<Utc>,
}

/// One message to append: role (`user` or `assistant`), text, and the
/// surface's JSON.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub role: &'a str,
    pub content: &'a str,
    pub data: Option<&'a serde_json::Value>,
}

impl TaskService {
    /// Starts a conversation titled after its first message.
    pub async fn start_conversation(&self, user: &str, first: &str) -> Result<ConversationRow> {
        check_user(user)?;
        let title: String = first.trim().chars().take(MAX_TITLE).collect();
        query(
            "INSERT INTO conversations (user_id, title, created_at, updated_at) \
             VALUES ($1, $2, $3, $3) RETURNING id, title, created_at, updated_at",
        )
        .bind(user)
        .bind(title)
        .bind(self.now())
        .fetch_one(&mut self.database().write().await?)
        .await
    }

    /// The user's conversations, newest first: at most `limit`, older than
    /// id `before`.
    pub async fn conversations(
        &self,
        user: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ConversationRow>> {
        check_user(user)?;
        query(
            "SELECT id, title, created_at, updated_at FROM conversations \
             WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(user)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut self.database().read().await?)
        .await
    }

    /// One of the user's conversations with its last `limit` messages,
    /// oldest first.
    pub async fn conversation(
        &self,
        user: &str,
        id: i64,
        limit: u32,
    ) -> Result<(ConversationRow, Vec<MessageRow>)> {
        check_user(user)?;
        let mut conn = self.database().read().await?;
        let conversation: ConversationRow = query(
            "SELECT id, title, created_at, updated_at FROM conversations \
             WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user)
        .fetch_optional(&mut conn)
        .await?
        .ok_or(Error::NotFound)?;
        let mut messages: Vec<MessageRow> = query(
            "SELECT id, role, content, data, created_at FROM messages \
             WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&mut conn)
        .await?;
        messages.reverse();
        Ok((conversation, messages))
    }

    /// Appends messages to one of the user's conversations, together.
    pub async fn append_messages(
        &self,
        user: &str,
        id: i64,
        messages: &[NewMessage<'_>],
    ) -> Result<()> {
        check_user(user)?;
        let now = self.now();
        let mut tx = self.database().begin().await?;
        let found =
            query("UPDATE conversations SET updated_at = $1 WHERE id = $2 AND user_id = $3")
                .bind(now)
                .bind(id)
                .bind(user)
                .execute(&mut tx)
                .await?;
        if found != 1 {
            return Err(Error::NotFound);
        }
        for message in messages {
            let data = message.data.map(Param::json).transpose()?;
            query(
                "INSERT INTO messages (conversation_id, role, content, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(message.role)
            .bind(message.content)
            .bind(data.unwrap_or(Param::Json(None)))
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await
    }

    /// Deletes one of the user's conversations and its messages.
    pub async fn delete_conversation(&self, user: &str, id: i64) -> Result<()> {
        check_user(user)?;
        let mut tx = self.database().begin().await?;
        let owned: Option<i64> =
            query("SELECT id FROM conversations WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user)
                .scalar_optional(&mut tx)
                .await?;
        if owned.is_none() {
            return Err(Error::NotFound);
        }
        query("DELETE FROM messages WHERE conversation_id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        query("DELETE FROM conversations WHERE id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }
}
