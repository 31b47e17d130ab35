//! Toolsets give the model its tools and run its calls. [`mcp::McpToolset`] reaches an MCP
//! server; [`FunctionToolset`] runs Rust functions in process.

pub mod mcp;

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::approval::{ApprovalDecision, ApprovalRequest, Approver, Gate};
use crate::error::ToolsetError;
use crate::history::ToolCall;

/// The MCP tool annotations: hints about what a tool does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolAnnotations {
    pub title: Option<String>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

impl ToolAnnotations {
    pub fn read_only(mut self, value: bool) -> Self {
        self.read_only = Some(value);
        self
    }

    pub fn destructive(mut self, value: bool) -> Self {
        self.destructive = Some(value);
        self
    }

    pub fn idempotent(mut self, value: bool) -> Self {
        self.idempotent = Some(value);
        self
    }
}

/// A tool as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: Option<String>,
    /// The JSON schema of the arguments object.
    pub input_schema: Value,
    pub annotations: ToolAnnotations,
}

impl ToolDefinition {
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: Some(description.into()),
            input_schema,
            annotations: ToolAnnotations::default(),
        }
    }

    pub fn with_annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = annotations;
        self
    }

    /// Destructive tools (`destructiveHint: true`) run only after the user approves.
    pub fn needs_approval(&self) -> bool {
        self.annotations.destructive == Some(true)
    }

    /// Whether running it twice does no more harm than once (read-only or idempotent).
    pub fn is_repeatable(&self) -> bool {
        self.annotations.read_only == Some(true) || self.annotations.idempotent == Some(true)
    }
}

/// What a tool call produced, as the model will read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolOutput {
    pub content: String,
    /// The tool ran and failed (or did not run); the model should react, not trust `content`.
    pub is_error: bool,
    /// The result as data (MCP `structuredContent`), when the tool gives one. Kept in the
    /// history next to `content`, so a model that reads data rather than prose (the offline
    /// one) finds ids and links there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<Value>,
}

impl ToolOutput {
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: false,
            structured: None,
        }
    }

    pub fn error(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: true,
            structured: None,
        }
    }

    pub fn with_structured(mut self, value: Value) -> Self {
        self.structured = Some(value);
        self
    }
}

/// What a running tool call may use: its call, whether the user already approved it, and a
/// way to ask the user (MCP elicitation goes through here).
#[derive(Clone)]
pub struct ToolContext {
    call: ToolCall,
    approved: bool,
    gate: Arc<Gate>,
}

impl ToolContext {
    /// A context outside any run: questions go straight to `approver`.
    pub fn new(call: ToolCall, approver: Arc<dyn Approver>) -> Self {
        Self {
            call,
            approved: false,
            gate: Arc::new(Gate::new(approver, None)),
        }
    }

    pub(crate) fn in_run(call: ToolCall, approved: bool, gate: Arc<Gate>) -> Self {
        Self {
            call,
            approved,
            gate,
        }
    }

    pub fn call(&self) -> &ToolCall {
        &self.call
    }

    /// The user approved this very call before it started.
    pub fn is_approved(&self) -> bool {
        self.approved
    }

    /// Asks the user about this call (announced as [`crate::AgentEvent::ApprovalRequired`]).
    pub async fn ask(&self, reason: impl Into<String>) -> ApprovalDecision {
        self.gate
            .ask(ApprovalRequest {
                id: self.call.id.clone(),
                name: self.call.name.clone(),
                arguments: self.call.arguments.clone(),
                reason: reason.into(),
            })
            .await
    }
}

/// A source of tools.
pub trait Toolset: Send + Sync {
    /// A short name for messages, e.g. the MCP server's name.
    fn name(&self) -> &str;

    /// The tools on offer now (may be cached by the toolset).
    fn tools(&self) -> BoxFuture<'_, Result<Vec<ToolDefinition>, ToolsetError>>;

    /// Runs one call. Failures are outputs with `is_error`, so the model can react.
    fn call<'a>(&'a self, call: &'a ToolCall, context: ToolContext) -> BoxFuture<'a, ToolOutput>;
}

type ToolFn = Arc<dyn Fn(Value) -> BoxFuture<'static, ToolOutput> + Send + Sync>;

/// Tools implemented by Rust functions.
#[derive(Clone)]
pub struct FunctionToolset {
    name: String,
    tools: Vec<(ToolDefinition, ToolFn)>,
}

impl FunctionToolset {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            tools: Vec::new(),
        }
    }

    /// Adds a tool: `run(arguments)` produces its output.
    pub fn with_tool<F, Fut>(mut self, definition: ToolDefinition, run: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ToolOutput> + Send + 'static,
    {
        let run: ToolFn = Arc::new(move |args| Box::pin(run(args)));
        self.tools.push((definition, run));
        self
    }
}

impl Toolset for FunctionToolset {
    fn name(&self) -> &str {
        &self.name
    }

    fn tools(&self) -> BoxFuture<'_, Result<Vec<ToolDefinition>, ToolsetError>> {
        let tools = self.tools.iter().map(|(d, _)| d.clone()).collect();
        Box::pin(std::future::ready(Ok(tools)))
    }

    fn call<'a>(&'a self, call: &'a ToolCall, _context: ToolContext) -> BoxFuture<'a, ToolOutput> {
        match self.tools.iter().find(|(d, _)| d.name == call.name) {
            Some((_, run)) => run(call.arguments.clone()),
            None => Box::pin(std::future::ready(ToolOutput::error(format!(
                "unknown tool `{}` in `{}`",
                call.name, self.name
            )))),
        }
    }
}
