//! Taskflow's chat agent behind `POST /api/chat`: a message in plain
//! English becomes task operations — the same tools, with the same JSON
//! Schemas, that the MCP server offers (`taskflow_agent`'s catalog). With an
//! OpenAI-compatible endpoint configured, a model chooses the calls
//! ([`model`]); without one, the built-in reader does ([`read`],
//! [`local`]). Conversations are stored, so any replica can continue any
//! of them.

pub mod local;
pub mod model;
pub mod read;
pub mod say;
pub mod todoist;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use taskflow_core::ops::{id_page, id_page_of};
use taskflow_core::{Invalid, Zone};
use taskflow_events::Source;
use taskflow_store::conversations::{ConversationRow, MessageRow, NewMessage};
use taskflow_store::{Actor, TaskService};

pub use model::ModelConfig;

/// The longest message, in characters.
pub const MAX_MESSAGE: usize = 4000;
/// How many earlier messages a turn sees.
const HISTORY: u32 = 40;

/// One message to the agent.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// Continue this conversation; leave out to start one.
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// What the user says, 1–4000 characters.
    #[schemars(length(min = 1, max = 4000))]
    pub message: String,
    /// The user's IANA time zone, such as `Europe/Berlin` (default UTC):
    /// "tomorrow at 9" is read in it.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// The agent's answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChatReply {
    pub conversation_id: i64,
    /// What the agent says back.
    pub reply: String,
    /// Each task operation performed, in order, with its result.
    pub actions: Vec<Action>,
}

/// One task operation the agent performed: a tool call and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    /// The tool, such as `add_task` (the MCP tools' names).
    pub tool: String,
    pub arguments: Value,
    pub ok: bool,
    /// The tool's result when it succeeded.
    pub result: Option<Value>,
    /// What went wrong when it failed.
    pub error: Option<String>,
}

impl Action {
    fn new(tool: &str, arguments: Value, outcome: &Result<Value, String>) -> Self {
        Self {
            tool: tool.to_owned(),
            arguments,
            ok: outcome.is_ok(),
            result: outcome.as_ref().ok().cloned(),
            error: outcome.as_ref().err().cloned(),
        }
    }
}

/// A conversation, without its messages.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Conversation {
    pub id: i64,
    /// The start of its first message.
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ConversationRow> for Conversation {
    fn from(row: ConversationRow) -> Self {
        Self {
            id: row.id,
            title: row.title,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A page of conversations, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConversationPage {
    pub conversations: Vec<Conversation>,
    /// Pass as `cursor` for older conversations; null on the last page.
    pub next_cursor: Option<String>,
}

/// Which conversations to list.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationQuery {
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

/// A conversation with its messages (the last 200), oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

/// One message of a conversation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Message {
    pub id: i64,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// The operations an assistant message performed.
    pub actions: Vec<Action>,
    pub created_at: DateTime<Utc>,
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        let actions = row
            .data
            .and_then(|data| serde_json::from_value(data.0.get("actions")?.clone()).ok())
            .unwrap_or_default();
        Self {
            id: row.id,
            role: row.role,
            content: row.content,
            actions,
            created_at: row.created_at,
        }
    }
}

/// Why a turn failed.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Store(#[from] taskflow_store::Error),
    /// The model or its endpoint failed; `actions` were performed before.
    #[error("{detail}")]
    Model {
        code: &'static str,
        timeout: bool,
        detail: String,
        conversation_id: i64,
        actions: Vec<Action>,
    },
}

impl From<Invalid> for ChatError {
    fn from(invalid: Invalid) -> Self {
        ChatError::Store(invalid.into())
    }
}

/// The result of one turn, from either agent.
#[derive(Debug, Default)]
pub struct Turn {
    pub reply: String,
    pub actions: Vec<Action>,
    /// What to remember for the next turn (the reader's "which one?"
    /// and the task last spoken of).
    pub memory: Value,
}

/// The chat agent.
#[derive(Debug, Clone)]
pub struct Chat {
    tasks: TaskService,
    model: Option<model::Model>,
}

impl Chat {
    /// An agent over `tasks`, with a model when `model` is configured.
    pub fn new(tasks: TaskService, model: Option<ModelConfig>) -> Self {
        Self {
            tasks,
            model: model.map(model::Model::new),
        }
    }

    /// Runs one turn for `user`: reads the message, performs the task
    /// operations, stores both messages, and answers.
    pub async fn send(&self, user: &str, request: ChatRequest) -> Result<ChatReply, ChatError> {
        let message = request.message.trim();
        if message.is_empty() {
            return Err(Invalid::new("message", "say something: the message is empty").into());
        }
        if message.chars().count() > MAX_MESSAGE {
            return Err(Invalid::new(
                "message",
                format!("a message must be at most {MAX_MESSAGE} characters"),
            )
            .into());
        }
        let zone = match request.timezone.as_deref() {
            Some(name) => Zone::parse(name, "timezone")?,
            None => Zone::UTC,
        };
        let (id, history) = match request.conversation_id {
            Some(id) => (id, self.tasks.conversation(user, id, HISTORY).await?.1),
            None => (
                self.tasks.start_conversation(user, message).await?.id,
                Vec::new(),
            ),
        };
        let actor = Actor::new(user, Source::Chat);
        let on = taskflow_agent::Context {
            tasks: &self.tasks,
            actor: &actor,
        };
        let now = zone.local(self.tasks.now());
        let turn = match &self.model {
            Some(model) => model.run(on, &history, message, zone.name(), now).await,
            None => Ok(local::run(on, &history, message, zone.name(), now).await),
        };
        let (turn, failure) = match turn {
            Ok(turn) => (turn, None),
            Err(failure) => (
                Turn {
                    reply: format!("Sorry — {}", failure.detail),
                    actions: failure.actions.clone(),
                    memory: Value::Null,
                },
                Some(failure),
            ),
        };
        let data = json!({ "actions": turn.actions, "memory": turn.memory });
        self.tasks
            .append_messages(
                user,
                id,
                &[
                    NewMessage {
                        role: "user",
                        content: message,
                        data: None,
                    },
                    NewMessage {
                        role: "assistant",
                        content: &turn.reply,
                        data: Some(&data),
                    },
                ],
            )
            .await?;
        if let Some(failure) = failure {
            return Err(ChatError::Model {
                code: failure.code,
                timeout: failure.timeout,
                detail: failure.detail,
                conversation_id: id,
                actions: failure.actions,
            });
        }
        Ok(ChatReply {
            conversation_id: id,
            reply: turn.reply,
            actions: turn.actions,
        })
    }

    /// A page of the user's conversations.
    pub async fn conversations(
        &self,
        user: &str,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, ChatError> {
        let (limit, before) = id_page(query.limit, query.cursor.as_deref(), (20, 100))?;
        let rows = self.tasks.conversations(user, before, limit + 1).await?;
        let (rows, next_cursor) = id_page_of(rows, limit, |c| c.id);
        Ok(ConversationPage {
            conversations: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        })
    }

    /// One of the user's conversations with its messages.
    pub async fn conversation(&self, user: &str, id: i64) -> Result<ConversationDetail, ChatError> {
        let (conversation, messages) = self.tasks.conversation(user, id, 200).await?;
        Ok(ConversationDetail {
            conversation: conversation.into(),
            messages: messages.into_iter().map(Into::into).collect(),
        })
    }

    /// Deletes one of the user's conversations.
    pub async fn delete_conversation(&self, user: &str, id: i64) -> Result<(), ChatError> {
        Ok(self.tasks.delete_conversation(user, id).await?)
    }
}

/// The memory the last assistant message left.
fn memory(history: &[MessageRow]) -> Value {
    history
        .iter()
        .rev()
        .find(|m| m.role == "assistant")
        .and_then(|m| m.data.as_ref())
        .and_then(|data| data.0.get("memory").cloned())
        .unwrap_or(Value::Null)
}
