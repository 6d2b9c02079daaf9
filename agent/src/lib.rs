//! Taskflow's agent surface: the tools a model can call. Each tool is one
//! definition in one file of [`tools`] — its name, description, hints
//! (read-only, destructive, idempotent), parameter and result types, and
//! what it does on the `TaskService` — and [`catalog`] lists them. The MCP
//! server builds its tool router from the catalog and the chat agent its
//! tool list and dispatch, so a model gets the same tools, schemas and
//! error sentences on either surface.
//!
//! Reading order: [`tool`] (what a tool is), [`catalog`] (every tool, the
//! schemas a model sees, calling one by name), [`tools`] (the tools).

pub mod catalog;
pub mod framing;
pub mod params;
pub mod tool;
pub mod tools;

pub use catalog::{Entry, Spec, call, catalog, find};
pub use framing::Frame;
pub use tool::{Context, Hints, Tool, ToolResult, Toolset};
