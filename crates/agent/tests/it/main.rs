//! The agent against the scripted LLM server (the only fake) and real MCP servers.

mod approval;
mod cancel;
mod history;
mod limits;
mod mcp;
mod provider_errors;
mod spec;
mod support;
mod tool_loop;
