//! The MCP tool router, built from the agent catalog (`taskflow_agent`):
//! each tool's name, description, annotations and compact schemas, and a
//! call that runs it for the session's user in the call's trace.

use std::sync::Arc;

use futures::FutureExt;
use rmcp::ErrorData as McpError;
use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, Tool, ToolAnnotations};
use serde_json::{Map, Value};
use taskflow_agent::catalog::strip_keywords;
use taskflow_agent::tools::ListTasks;
use taskflow_agent::{Context, Entry, Frame, Spec, Tool as _, catalog};
use tracing::Instrument;

use crate::TaskflowMcp;
use crate::confirm::Answer;

/// A route per tool of the catalog.
pub fn router() -> ToolRouter<TaskflowMcp> {
    let mut router = ToolRouter::new();
    for &tool in catalog() {
        router.add_route(ToolRoute::new_dyn(
            listing(tool.spec()),
            move |cx: ToolCallContext<'_, TaskflowMcp>| call(tool, cx).boxed(),
        ));
    }
    router
}

/// A task's properties its output schemas leave out: who it is assigned
/// to, made and changed by (user ids). Each tool that returns a task
/// repeats its schema, and these would take the listing past 16 KB; a
/// model learns them from the output itself and from `list_members`.
const UNLISTED: &[&str] = &["assignees", "created_by", "updated_by"];

/// What `tools/list` shows of a tool. Schemas are compact, so the list
/// stays small in a model's context (under 16 KB; a test holds it there):
/// output schemas keep the top-level shape (property names and types)
/// without prose, defaults or nested definitions, and leave out a task's
/// people ([`UNLISTED`]), which the output carries all the same.
fn listing(spec: Spec) -> Tool {
    let mut input = Value::Object(spec.input);
    if spec.name == ListTasks::NAME {
        // SEP-2243: HTTP clients mirror the search into `Mcp-Param-Query`
        // (so gateways can route or log it without parsing bodies); the
        // server checks that header against the body.
        if let Some(q) = input
            .pointer_mut("/properties/q")
            .and_then(Value::as_object_mut)
        {
            q.insert("x-mcp-header".into(), Value::String("Query".into()));
            // A header carries a string: leave `q` out rather than null.
            q.insert("type".into(), Value::String("string".into()));
        }
    }
    let mut output = Value::Object(spec.output);
    strip_keywords(
        &mut output,
        &["description", "required", "title", "default"],
    );
    flatten_refs(&mut output);
    if let Some(properties) = output.get_mut("properties").and_then(Value::as_object_mut) {
        for unlisted in UNLISTED {
            properties.remove(*unlisted);
        }
    }
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(spec.hints.read_only)
        .destructive(spec.hints.destructive)
        .idempotent(spec.hints.idempotent)
        .open_world(false);
    Tool::new(spec.name, spec.description, object(input))
        .with_raw_output_schema(object(output))
        .with_annotations(annotations)
}

fn object(value: Value) -> Arc<Map<String, Value>> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::default(),
    }
}

/// Drops `$defs`; a reference becomes "any value".
fn flatten_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("$defs");
            if map.contains_key("$ref") {
                map.clear();
            }
            map.values_mut().for_each(flatten_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(flatten_refs),
        _ => {}
    }
}

/// Runs `tool` for the session's user, in the call's trace; its result is
/// structured content, its failure a tool error the model reads.
async fn call(
    tool: &'static dyn Entry,
    mut cx: ToolCallContext<'_, TaskflowMcp>,
) -> Result<CallToolResponse, McpError> {
    let server = cx.service;
    let actor = match server.actor(&cx.request_context) {
        Ok(actor) => actor,
        Err(err) => return Ok(CallToolResult::error(vec![ContentBlock::text(err)]).into()),
    };
    let trace = TaskflowMcp::trace(&cx.request_context);
    let span = tracing::error_span!(
        "tool",
        tool = %cx.name,
        trace_id = %trace.trace_id_hex(),
        span_id = %trace.span_id_hex(),
    );
    let on = Context {
        tasks: server.tasks(),
        actor: &actor,
    };
    let arguments = cx.arguments.take().map_or(Value::Null, Value::Object);
    // Most tools never ask: they pay nothing for it.
    let question = match tool.confirms() {
        true => tool.confirmation(on, &arguments).await,
        false => None,
    };
    if let Some(question) = question {
        match crate::confirm::ask(&question, &cx, (tool.name(), &arguments)).await? {
            Answer::Go => {}
            Answer::Stop => {
                let text = "The user did not confirm, so nothing was changed. Do not call it again unless the user asks for it again.";
                return Ok(CallToolResult::error(vec![ContentBlock::text(text)]).into());
            }
            Answer::Ask(input) => return Ok(input.into()),
        }
    }
    let outcome =
        taskflow_events::trace::scope(trace, tool.call(on, arguments).instrument(span)).await;
    Ok(match outcome {
        // The text copy frames what people wrote; the structured one is raw.
        Ok(value) => {
            let text = Frame::around(&value).json(&value);
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = Some(value);
            result
        }
        Err(error) => CallToolResult::error(vec![ContentBlock::text(error)]),
    }
    .into())
}
