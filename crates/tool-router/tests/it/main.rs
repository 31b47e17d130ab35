//! The tool router end to end: its REST API with real HTTP requests, each session's MCP
//! endpoint with real rmcp clients of both eras, the auth link page, over a real sandbox and
//! real SQLite. Isolation, secrets, restart and bad input each have a test.

mod audit;
mod instances;
mod limits;
mod mcp;
mod oauth;
mod rest;
mod support;
