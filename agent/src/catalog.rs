//! Every tool, in the order a model is shown them, and the two ways a
//! surface uses them: [`Spec`] (what a model is told: name, title,
//! description, hints, JSON Schemas) and [`call`] (run one by name with
//! JSON arguments). Adding a tool is one file in `tools/` and one line in
//! [`catalog`].

use futures::FutureExt;
use futures::future::BoxFuture;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use crate::tool::{Context, Hints, Tool, ToolResult, Toolset};
use crate::tools::{
    AddComment, AddTask, AnswerInvitation, CompleteTask, DeleteTask, GetTask, LinkTasks,
    ListInvitations, ListLists, ListMembers, ListNotifications, ListTasks, ManageList,
    ManageMember, MoveTask, RecentActivity, ReopenTask, ShareList, SnoozeTask, TransferList,
    UpdateTask,
};

/// Every tool, in the order a model is shown them.
pub fn catalog() -> &'static [&'static dyn Entry] {
    static CATALOG: &[&dyn Entry] = &[
        &AddTask,
        &ListTasks,
        &GetTask,
        &UpdateTask,
        &CompleteTask,
        &DeleteTask,
        &MoveTask,
        &ListLists,
        &ManageList,
        &ListMembers,
        &AddComment,
        &LinkTasks,
        &ReopenTask,
        &SnoozeTask,
        &ListNotifications,
        &RecentActivity,
        &ShareList,
        &ListInvitations,
        &AnswerInvitation,
        &ManageMember,
        &TransferList,
    ];
    CATALOG
}

/// The tool called `name`.
pub fn find(name: &str) -> Option<&'static dyn Entry> {
    catalog().iter().copied().find(|tool| tool.name() == name)
}

/// Calls tool `name` with JSON `arguments` (absent arguments are an empty
/// object) and returns its JSON result, or a sentence for the model.
pub async fn call(on: Context<'_>, name: &str, arguments: Value) -> ToolResult<Value> {
    match find(name) {
        Some(tool) => tool.call(on, arguments).await,
        None => Err(format!(
            "There is no tool `{name}`. The tools are: {}.",
            catalog()
                .iter()
                .map(|tool| tool.name())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// What a model is told about a tool.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub hints: Hints,
    /// The JSON Schema (2020-12) of its arguments.
    pub input: Map<String, Value>,
    /// The JSON Schema (2020-12) of its result.
    pub output: Map<String, Value>,
}

/// A tool of the catalog, whatever its types.
pub trait Entry: Send + Sync + std::fmt::Debug {
    /// The name a model calls it by.
    fn name(&self) -> &'static str;
    /// The set it belongs to.
    fn toolset(&self) -> Toolset;
    /// Whether it only reads ([`crate::Hints::read_only`]).
    fn read_only(&self) -> bool;
    /// The scope an agent's token needs to call it ([`Tool::SCOPE`]).
    fn scope(&self) -> taskflow_core::Scope;
    /// What a model is told about it (its schemas are generated here).
    fn spec(&self) -> Spec;
    /// Parses the arguments, runs the tool, and encodes its result.
    fn call<'a>(&'a self, on: Context<'a>, arguments: Value) -> BoxFuture<'a, ToolResult<Value>>;
    /// Whether it may ask the user first ([`Tool::CONFIRMS`]): only then is
    /// [`Entry::confirmation`] worth calling.
    fn confirms(&self) -> bool;
    /// The question to ask the user before calling it with `arguments`
    /// (see [`Tool::confirm`]); None when there is none, or the arguments
    /// do not parse (the call will say what is wrong).
    fn confirmation<'a>(
        &'a self,
        on: Context<'a>,
        arguments: &'a Value,
    ) -> BoxFuture<'a, Option<String>>;
}

impl<T: Tool> Entry for T {
    fn name(&self) -> &'static str {
        T::NAME
    }

    fn toolset(&self) -> Toolset {
        T::TOOLSET
    }

    fn read_only(&self) -> bool {
        T::HINTS.read_only
    }

    fn scope(&self) -> taskflow_core::Scope {
        T::SCOPE
    }

    fn spec(&self) -> Spec {
        Spec {
            name: T::NAME,
            title: T::TITLE,
            description: T::DESCRIPTION,
            hints: T::HINTS,
            input: schema::<T::Params>(),
            output: schema::<T::Output>(),
        }
    }

    fn call<'a>(&'a self, on: Context<'a>, arguments: Value) -> BoxFuture<'a, ToolResult<Value>> {
        async move {
            let arguments = match arguments {
                Value::Null => Value::Object(Map::new()),
                other => other,
            };
            let params: T::Params = serde_json::from_value(arguments).map_err(|e| {
                format!(
                    "Invalid arguments for {}: {e}. Fix them to match the tool's schema and call it again.",
                    T::NAME
                )
            })?;
            let output = self.run(on, params).await?;
            serde_json::to_value(output)
                .map_err(|e| format!("Taskflow could not encode the result: {e}"))
        }
        .boxed()
    }

    fn confirms(&self) -> bool {
        T::CONFIRMS
    }

    fn confirmation<'a>(
        &'a self,
        on: Context<'a>,
        arguments: &'a Value,
    ) -> BoxFuture<'a, Option<String>> {
        async move {
            let params: T::Params = serde_json::from_value(arguments.clone()).ok()?;
            self.confirm(on, &params).await
        }
        .boxed()
    }
}

/// The schema of `T`: JSON Schema 2020-12 without `$schema`, without the
/// type's own title and description (the tool's description says it), and
/// without `format` (schemars' `uint32` and `int64` are not JSON Schema
/// formats; clients warn on them).
fn schema<T: JsonSchema>() -> Map<String, Value> {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut value = schema.to_value();
    strip_keywords(&mut value, &["format", "$schema"]);
    match value {
        Value::Object(mut map) => {
            map.remove("title");
            map.remove("description");
            map
        }
        _ => Map::new(),
    }
}

/// Removes the keywords `keys` everywhere in a schema. A property may be
/// named like a keyword: only keyword values of the right kind go.
pub fn strip_keywords(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(map) => {
            for key in keys {
                let keyword = map.get(*key).is_some_and(|v| match *key {
                    "required" => v.is_array(),
                    "default" => !v.is_object(),
                    _ => v.is_string(),
                });
                if keyword {
                    map.remove(*key);
                }
            }
            map.values_mut().for_each(|v| strip_keywords(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_keywords(v, keys)),
        _ => {}
    }
}
