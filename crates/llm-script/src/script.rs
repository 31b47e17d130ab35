//! What the server plays: a queue of turns, each a reply (text chunks and tool calls) or a failure.
//!
//! The same types are the JSON script format of the `llm-script` binary:
//! `{"turns": [{"text": ["Hello ", "there"]}, {"failure": {"kind": "rate_limited", "retry_after_secs": 1}}]}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A whole script, as read from a JSON file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    pub turns: Vec<Turn>,
}

/// One answer of the model: streamed text, tool calls, or a failure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Turn {
    /// Text deltas, sent in this order.
    pub text: Vec<String>,
    /// Tool calls, sent after the text, with their arguments split over several chunks.
    pub tool_calls: Vec<ScriptedCall>,
    /// Answer with this error instead of a reply.
    pub failure: Option<Failure>,
    /// Token counts to report; `None` reports counts derived from the request and reply sizes.
    pub usage: Option<TokenCounts>,
    /// Pause between streamed frames, in milliseconds.
    pub chunk_delay_ms: u64,
    /// Send only this many content frames (text deltas and tool-call argument pieces), then
    /// keep the connection open without sending anything more, until the client goes away.
    pub stall_after: Option<usize>,
}

/// A tool call the model makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCall {
    /// The call id; generated (`call_1`, `toolu_1`, ...) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub arguments: Value,
}

/// Token counts a turn reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
}

/// An error answer, in the provider's own status code and body format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Failure {
    /// 401: the key was refused.
    Unauthorized,
    /// 429 with a `retry-after` header.
    RateLimited { retry_after_secs: u64 },
    /// 400: the prompt does not fit the context window.
    ContextTooLong,
    /// 500: the provider failed.
    ServerError,
    /// 200, one text delta, then an error event inside the stream.
    MidStream,
}

impl Turn {
    /// A reply streaming `text`, one word per delta.
    pub fn text(text: &str) -> Self {
        Self::default().with_text(text)
    }

    /// A reply with only this tool call.
    pub fn tool_call(name: &str, arguments: Value) -> Self {
        Self::default().with_tool_call(name, arguments)
    }

    /// An error answer.
    pub fn failure(failure: Failure) -> Self {
        Self {
            failure: Some(failure),
            ..Self::default()
        }
    }

    /// Appends `text`, split after each space so it streams as several deltas.
    pub fn with_text(mut self, text: &str) -> Self {
        self.text
            .extend(text.split_inclusive(' ').map(str::to_owned));
        self
    }

    pub fn with_tool_call(mut self, name: &str, arguments: Value) -> Self {
        self.tool_calls.push(ScriptedCall {
            id: None,
            name: name.to_owned(),
            arguments,
        });
        self
    }

    pub fn with_tool_call_id(mut self, id: &str, name: &str, arguments: Value) -> Self {
        self.tool_calls.push(ScriptedCall {
            id: Some(id.to_owned()),
            name: name.to_owned(),
            arguments,
        });
        self
    }

    pub fn with_usage(mut self, input: u64, output: u64) -> Self {
        self.usage = Some(TokenCounts { input, output });
        self
    }

    pub fn with_chunk_delay_ms(mut self, ms: u64) -> Self {
        self.chunk_delay_ms = ms;
        self
    }

    /// Sends `frames` content frames (text deltas, argument pieces), then stalls until the
    /// client disconnects.
    pub fn with_stall_after(mut self, frames: usize) -> Self {
        self.stall_after = Some(frames);
        self
    }
}
