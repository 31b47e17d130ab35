//! What a streaming run reports, as it happens, and what a finished run returns.

use std::ops::AddAssign;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// Tokens one model answer used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl TokenUsage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// What a run used so far: requests sent to the model (retries included) and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub requests: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

impl AddAssign<TokenUsage> for Usage {
    fn add_assign(&mut self, tokens: TokenUsage) {
        self.input_tokens += tokens.input_tokens;
        self.output_tokens += tokens.output_tokens;
        self.total_tokens += tokens.total();
    }
}

/// One thing that happened during a streaming run.
///
/// A stream of `Result<AgentEvent, AgentError>` ends after [`AgentEvent::Done`] or after its
/// one `Err` item: errors are not events, so a consumer cannot mistake a failure for progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A piece of the model's answer text.
    TextDelta { text: String },
    /// The model called a tool; it runs now (after approval, if it needs one).
    ToolCallStarted {
        id: String,
        name: String,
        arguments: Value,
    },
    /// The tool is destructive (or its server asks): the run waits for the [`crate::Approver`].
    ApprovalRequired {
        id: String,
        name: String,
        arguments: Value,
        reason: String,
    },
    /// A tool finished; this is what the model will read.
    ToolResult {
        id: String,
        name: String,
        is_error: bool,
        content: String,
    },
    /// A model request failed in a way worth retrying; the run waits `delay` and sends it again.
    Retrying {
        attempt: u32,
        #[serde(with = "millis")]
        delay: Duration,
        error: String,
    },
    /// The usage so far, after each model answer.
    Usage(Usage),
    /// The model answered without calling tools: the run is over.
    Done { output: String, usage: Usage },
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    pub output: String,
    pub usage: Usage,
}

mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}
