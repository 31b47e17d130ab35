//! The tool router: given what an agent wants to do, it finds the tools for it, says how to
//! use them, and serves them to the agent.
//!
//! [`search`] is pure: it ranks a tool catalogue against a use case with rules over the tools'
//! names, descriptions, arguments and annotations, with no IO, no network and no model.
//!
//! The server half: [`start`] serves the REST API ([`api`]), each session's MCP endpoint
//! ([`mcp`]) and the auth link page ([`link`]) over storage ([`store`], SQLite) and sealed
//! credentials ([`vault`], [`connections`]). [`config`] is a session's configuration and
//! [`meta`] the meta-tools, shared by REST and MCP.

pub mod api;
pub mod config;
pub mod connections;
pub mod limits;
pub mod link;
pub mod mcp;
pub mod meta;
pub mod oauth;
pub mod search;
mod search_adapter;
pub mod server;
pub mod state;
pub mod store;
pub mod vault;

pub use server::{RouterConfig, RouterError, RunningRouter, open, start};
