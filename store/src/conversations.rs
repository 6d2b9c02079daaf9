//! Chat conversations and their messages, so any replica can continue any
//! conversation. Every operation is scoped by user: another user's
//! conversation is `NotFound`, like a missing one.

use crate::database::dispatch;
pub use crate::record::{ConversationRow, MessageRow};
use crate::{Error, Result, TaskService};

/// The longest conversation title kept, in characters.
const MAX_TITLE: usize = 80;

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
        crate::service::check_user(user)?;
        let title: String = first.trim().chars().take(MAX_TITLE).collect();
        let now = self.now();
        dispatch!(self.database(), pools => sql::create_conversation(pools, user, &title, now).await)
    }

    /// The user's conversations, newest first: at most `limit`, older than
    /// id `before`.
    pub async fn conversations(
        &self,
        user: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ConversationRow>> {
        crate::service::check_user(user)?;
        dispatch!(self.database(), pools => sql::conversations(pools, user, before, limit).await)
    }

    /// One of the user's conversations with its last `limit` messages,
    /// oldest first.
    pub async fn conversation(
        &self,
        user: &str,
        id: i64,
        limit: u32,
    ) -> Result<(ConversationRow, Vec<MessageRow>)> {
        crate::service::check_user(user)?;
        let conversation =
            dispatch!(self.database(), pools => sql::conversation(pools, user, id).await)?
                .ok_or(Error::NotFound)?;
        let messages = dispatch!(self.database(), pools => sql::messages(pools, id, limit).await)?;
        Ok((conversation, messages))
    }

    /// Appends messages to one of the user's conversations, together.
    pub async fn append_messages(
        &self,
        user: &str,
        id: i64,
        messages: &[NewMessage<'_>],
    ) -> Result<()> {
        crate::service::check_user(user)?;
        let rows: Vec<(&str, &str, Option<&serde_json::Value>)> = messages
            .iter()
            .map(|m| (m.role, m.content, m.data))
            .collect();
        let now = self.now();
        let found = dispatch!(self.database(), pools => sql::append_messages(pools, user, id, &rows, now).await)?;
        if found { Ok(()) } else { Err(Error::NotFound) }
    }

    /// Deletes one of the user's conversations and its messages.
    pub async fn delete_conversation(&self, user: &str, id: i64) -> Result<()> {
        crate::service::check_user(user)?;
        let found =
            dispatch!(self.database(), pools => sql::delete_conversation(pools, user, id).await)?;
        if found { Ok(()) } else { Err(Error::NotFound) }
    }
}
