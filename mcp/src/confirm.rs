//! Asking the user before a tool makes a change they may not want made
//! unasked (a tool's `confirm` question: removing a member, giving a list
//! away). The question goes to the user through their client by
//! elicitation: a request to the client before protocol 2026-07-28, and
//! from then on an `InputRequiredResult` the client answers by calling the
//! tool again. A client that declared no elicitation cannot ask its user,
//! so the tool runs as called, as any other tool does.

use rmcp::ErrorData as McpError;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult, ProtocolVersion,
};

use crate::TaskflowMcp;

/// The key of the one input asked for.
const KEY: &str = "confirm";

/// What the user said.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Yes, or they cannot be asked.
    Go,
    /// No, or they dismissed the question.
    Stop,
    /// Not asked yet (2026-07-28 and later): return this; the client asks
    /// and calls again with the answer.
    Ask(InputRequiredResult),
}

/// Asks `question` of the user behind the call `cx`, a call of `tool` with
/// `arguments`: an answer counts only for the call it was asked for.
pub(crate) async fn ask(
    question: &str,
    cx: &ToolCallContext<'_, TaskflowMcp>,
    (tool, arguments): (&str, &serde_json::Value),
) -> Result<Answer, McpError> {
    let context = &cx.request_context;
    let can_ask = context
        .client_capabilities()
        .is_some_and(|c| c.elicitation.is_some());
    if !can_ask {
        return Ok(Answer::Go);
    }
    let form = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: question.to_owned(),
        requested_schema: ElicitationSchema::builder()
            .required_bool(KEY)
            .build()
            .map_err(|e| McpError::internal_error(e.to_owned(), None))?,
    };
    let modern = context
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
    if !modern {
        let answer =
            context.peer.create_elicitation(form).await.map_err(|e| {
                McpError::internal_error(format!("asking the user failed: {e}"), None)
            })?;
        return Ok(said_yes(&answer));
    }
    // The state echoed back names the call asked about; an answer brought
    // to another call (other arguments, another tool) is asked again.
    let state = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        (tool, arguments.to_string(), question).hash(&mut hasher);
        format!("{KEY}-{:016x}", hasher.finish())
    };
    if cx.request_state.as_deref() == Some(state.as_str()) {
        let answer = cx
            .input_responses
            .as_ref()
            .and_then(|responses| responses.get(KEY))
            .and_then(|value| serde_json::from_value::<ElicitResult>(value.clone()).ok());
        return Ok(answer.as_ref().map_or(Answer::Stop, said_yes));
    }
    let mut asks = InputRequests::new();
    asks.insert(
        KEY.to_owned(),
        InputRequest::Elicitation(ElicitRequest::new(form)),
    );
    Ok(Answer::Ask(InputRequiredResult::new(
        Some(asks),
        Some(state),
    )))
}

/// Accepted, with `confirm: true`.
fn said_yes(answer: &ElicitResult) -> Answer {
    let confirmed = answer.action == ElicitationAction::Accept
        && answer
            .content
            .as_ref()
            .and_then(|content| content.get(KEY))
            .and_then(serde_json::Value::as_bool)
            == Some(true);
    if confirmed { Answer::Go } else { Answer::Stop }
}
