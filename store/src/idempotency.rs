//! Idempotency keys: a retried create with the same key (REST
//! `Idempotency-Key`, MCP `idempotency_key`) returns the first result
//! instead of creating twice; the same key with another request is refused.
//! Checked and recorded inside the create's transaction, under the user's
//! lock.

use sqlx::types::Json;
use taskflow_core::{CreateTask, Invalid, Task};

use crate::database::{Tx, query};
use crate::tasks::MAX_ID_LEN;
use crate::{Error, Result};

/// An idempotency key with the request it was first used for.
#[derive(Debug)]
pub(crate) struct IdempotentCreate {
    key: String,
    request: serde_json::Value,
}

impl IdempotentCreate {
    /// The key of a create of `input`, checked.
    pub fn new(key: &str, input: &CreateTask) -> Result<Self> {
        if key.is_empty() || key.len() > MAX_ID_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Invalid::new(
                "idempotency_key",
                format!("an idempotency key must be 1 to {MAX_ID_LEN} visible ASCII characters"),
            )
            .into());
        }
        Ok(Self {
            key: key.to_owned(),
            request: serde_json::to_value(input)?,
        })
    }
}

/// The answer of an earlier create with this key, if there was one: its
/// task, or a mismatch if the key was used for another request.
pub(crate) async fn earlier(
    tx: &mut Tx,
    user: &str,
    key: &IdempotentCreate,
) -> Result<Option<Result<Task>>> {
    let earlier: Option<(Json<serde_json::Value>, Json<Task>)> =
        query("SELECT request, response FROM idempotency_keys WHERE user_id = $1 AND key = $2")
            .bind(user)
            .bind(key.key.as_str())
            .fetch_optional(tx)
            .await?;
    Ok(earlier.map(|(Json(request), Json(response))| {
        if request == key.request {
            Ok(response)
        } else {
            Err(Error::IdempotencyMismatch)
        }
    }))
}

/// Records in `tx` that the key created `task`.
pub(crate) async fn record(
    tx: &mut Tx,
    user: &str,
    key: &IdempotentCreate,
    task: &Task,
) -> Result<()> {
    query(
        "INSERT INTO idempotency_keys (user_id, key, request, task_id, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user)
    .bind(key.key.as_str())
    .bind(crate::database::Param::json(&key.request)?)
    .bind(task.id)
    .bind(crate::database::Param::json(task)?)
    .bind(task.created_at)
    .execute(tx)
    .await?;
    Ok(())
}
