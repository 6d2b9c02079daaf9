//! The MCP side of the tool catalog (`taskflow_core::tools`): descriptions
//! from the catalog, compact output schemas, and the `Mcp-Param-Query`
//! header hint.

use serde_json::Value;
use taskflow_core::tools::strip_keywords;

/// Gives each tool its description from the catalog and makes the
/// schemas compact, so `tools/list` stays small in a
/// model's context (under 16 KB; a test holds it there): output schemas
/// keep the top-level shape (property names and types) without prose or
/// nested definitions, and no schema carries `format` (schemars' `uint32`
/// and `int64` are not JSON Schema formats; clients warn on them).
pub fn compact<S>(
    mut router: rmcp::handler::server::router::tool::ToolRouter<S>,
) -> rmcp::handler::server::router::tool::ToolRouter<S> {
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
    for route in router.map.values_mut() {
        let tool = &mut route.attr;
        let mut input = Value::Object((*tool.input_schema).clone());
        strip_keywords(&mut input, &["format", "$schema"]);
        if let Some(spec) = taskflow_core::tools::find(&tool.name) {
            // The catalog is the one definition the chat agent reads too.
            debug_assert_eq!(
                input,
                Value::Object(spec.input_schema()),
                "the catalog's schema of {} differs from the tool's parameter type",
                spec.name
            );
            tool.description = Some(spec.description.into());
        }
        if tool.name == "list_tasks" {
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
        if let Value::Object(input) = input {
            tool.input_schema = std::sync::Arc::new(input);
        }
        if let Some(output) = &tool.output_schema {
            let mut output = Value::Object((**output).clone());
            strip_keywords(
                &mut output,
                &["format", "$schema", "description", "required", "title"],
            );
            flatten_refs(&mut output);
            if let Value::Object(output) = output {
                tool.output_schema = Some(std::sync::Arc::new(output));
            }
        }
    }
    router
}
