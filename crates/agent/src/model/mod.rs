//! Models: anything that turns instructions, a conversation and a tool catalogue into a
//! stream of text and tool calls. [`genai::GenaiModel`] speaks to OpenAI-style and Anthropic
//! servers; a model that is not an HTTP service (an offline one) implements [`Model`] too.

pub mod genai;
pub mod spec;

use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, ModelSpecError};
use crate::event::TokenUsage;
use crate::history::{Message, ToolCall};
use crate::toolset::ToolDefinition;

pub use spec::{ModelOptions, ModelSpec, Provider};

/// Sampling and length settings; `None` leaves the provider's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSettings {
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub top_p: Option<f64>,
    pub stop_sequences: Vec<String>,
    pub seed: Option<u64>,
}

impl ModelSettings {
    pub fn with_temperature(mut self, value: f64) -> Self {
        self.temperature = Some(value);
        self
    }

    pub fn with_max_tokens(mut self, value: u32) -> Self {
        self.max_tokens = Some(value);
        self
    }

    pub fn with_top_p(mut self, value: f64) -> Self {
        self.top_p = Some(value);
        self
    }
}

/// Everything a model needs for one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    /// The system prompt.
    pub instructions: Option<String>,
    /// The conversation so far, ending with the user's prompt or tool results.
    pub messages: Vec<Message>,
    /// The tools it may call.
    pub tools: Vec<ToolDefinition>,
    pub settings: ModelSettings,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    ToolCalls,
    Length,
    ContentFilter,
    Other(String),
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent {
    TextDelta(String),
    /// A complete tool call (models assemble streamed argument fragments themselves).
    ToolCall(ToolCall),
    Usage(TokenUsage),
    Finished(FinishReason),
}

/// A language model. Object-safe: the agent holds an `Arc<dyn Model>`.
///
/// `stream` returns the answer as it is produced; the stream ends after the answer (with or
/// without [`ModelEvent::Finished`]) or after one `Err`. Retries are the agent's business:
/// it retries a [`ModelError::is_retryable`] failure that came before any text or tool call.
///
/// A model that is not an HTTP service plugs in the same way; it gets the instructions, the
/// whole conversation and the tool catalogue, and streams text and complete tool calls:
///
/// ```
/// use std::sync::Arc;
/// use agent::{Agent, Message, Model, ModelError, ModelEvent, ModelRequest, ToolCall};
/// use futures::stream::{self, BoxStream, StreamExt as _};
///
/// /// Calls the first tool on offer once, then repeats what the tool said.
/// struct Offline;
///
/// impl Model for Offline {
///     fn name(&self) -> &str {
///         "local:offline"
///     }
///
///     fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
///         let event = match request.messages.last() {
///             Some(Message::Tool { content, .. }) => ModelEvent::TextDelta(content.clone()),
///             _ => match request.tools.first() {
///                 Some(tool) => ModelEvent::ToolCall(ToolCall {
///                     id: "local-1".into(),
///                     name: tool.name.clone(),
///                     arguments: serde_json::json!({}),
///                 }),
///                 None => ModelEvent::TextDelta("no tools".into()),
///             },
///         };
///         stream::iter([Ok(event)]).boxed()
///     }
/// }
///
/// # use agent::{FunctionToolset, History, ToolDefinition, ToolOutput};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let tools = FunctionToolset::new("local").with_tool(
///     ToolDefinition::new("whoami", "Names the user", serde_json::json!({"type": "object"})),
///     |_| async { ToolOutput::text("you are demo") },
/// );
/// let agent = Agent::new(Arc::new(Offline)).with_toolset(Arc::new(tools));
/// let result = agent.run("who am I?", &mut History::new()).await.unwrap();
/// assert_eq!(result.output, "you are demo");
/// # });
/// ```
pub trait Model: Send + Sync {
    /// The name users chose it by, e.g. `openai:gpt-5`.
    fn name(&self) -> &str;

    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>>;
}

/// Builds the model a spec names.
pub fn build_model(
    spec: &ModelSpec,
    options: ModelOptions,
) -> Result<Arc<dyn Model>, ModelSpecError> {
    match spec.provider {
        Provider::OpenAi | Provider::Anthropic => {
            Ok(Arc::new(genai::GenaiModel::new(spec, options)?))
        }
    }
}

/// Parses `provider:model` and builds it with keys and base URLs from the environment
/// (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`).
pub fn model_from_env(spec: &str) -> Result<Arc<dyn Model>, ModelSpecError> {
    let spec = ModelSpec::parse(spec)?;
    let options = ModelOptions::default().with_env(spec.provider);
    build_model(&spec, options)
}
