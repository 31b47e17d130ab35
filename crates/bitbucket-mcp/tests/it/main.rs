//! The MCP server through a real rmcp client: tools, safety, scope and confirmation.

mod destructive;
mod limits;
mod safety;
mod scope;
mod support;
mod tools;
