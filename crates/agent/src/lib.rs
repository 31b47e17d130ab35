//! The agent runtime: a model, toolsets, instructions and settings, run as a tool-calling loop.
//!
//! - [`Agent::run_stream`] reports [`AgentEvent`]s as they happen; [`Agent::run`] collects them.
//! - The loop itself is [`RunLoop`], a state machine without IO.
//! - Models implement [`Model`]: [`model::genai::GenaiModel`] for OpenAI, Anthropic and
//!   OpenAI-compatible servers, chosen with [`ModelSpec::parse`] (`openai:gpt-5`).
//! - Toolsets implement [`Toolset`]: [`McpToolset`] for MCP servers, [`FunctionToolset`] for
//!   Rust functions.
//! - Destructive tools wait for the application's [`Approver`].
//! - [`History`] is our own, versioned, atomically saved conversation format.

mod agent;
pub mod approval;
pub mod error;
pub mod event;
pub mod history;
pub mod r#loop;
pub mod model;
pub mod toolset;

pub use agent::{Agent, RetryPolicy};
pub use approval::{ApprovalDecision, ApprovalRequest, ApproveAll, Approver, DenyAll, approver_fn};
pub use error::{AgentError, HistoryError, ModelError, ModelSpecError, ToolsetError};
pub use event::{AgentEvent, RunResult, TokenUsage, Usage};
pub use history::{History, Message, ToolCall};
pub use r#loop::{LimitExceeded, Limits, RunLoop, Step};
pub use model::{
    Model, ModelEvent, ModelOptions, ModelRequest, ModelSettings, ModelSpec, Provider, build_model,
    model_from_env,
};
pub use tokio_util::sync::CancellationToken;
pub use toolset::mcp::{McpConfig, McpProtocol, McpToolset, McpTransport};
pub use toolset::{
    FunctionToolset, ToolAnnotations, ToolContext, ToolDefinition, ToolOutput, Toolset,
};
