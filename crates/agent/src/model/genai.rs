//! OpenAI Chat Completions and Anthropic Messages through the `genai` crate, streaming.
//!
//! We always pass genai a complete service target (endpoint, key, adapter), so the protocol is
//! ours to choose: `openai:gpt-5` speaks Chat Completions (genai would pick the Responses API
//! from the bare name), and an OpenAI-compatible server only needs a base URL. Provider
//! failures become one-line [`ModelError`]s; retrying them is the agent's job.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use genai::adapter::AdapterKind;
use genai::chat::{
    ChatMessage, ChatOptions, ChatRequest, ChatRole, ChatStreamEvent, ContentPart, MessageContent,
    ReasoningEffort, StopReason, StreamEnd, Tool, ToolResponse,
};
use genai::resolver::{AuthData, Endpoint};
use genai::{ModelIden, ServiceTarget};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use super::spec::{ModelOptions, ModelSpec, Provider};
use super::{FinishReason, Model, ModelEvent, ModelRequest};
use crate::error::{ModelError, ModelSpecError};
use crate::event::TokenUsage;
use crate::history::{Message, ToolCall};

/// Anthropic requires `max_tokens`; genai would otherwise send the model's maximum.
const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 8192;

/// A model served over HTTP by OpenAI, Anthropic or an OpenAI-compatible server.
#[derive(Clone)]
pub struct GenaiModel {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    provider: Provider,
    model: String,
    client: genai::Client,
    /// The base URL with a trailing slash, as genai joins paths onto it.
    endpoint: String,
    /// The base URL as the user wrote it, for messages.
    base_url: String,
    key: SecretString,
    /// How messages name the server: "the OpenAI API" or "the model server at `...`".
    service: String,
    idle_timeout: Duration,
}

impl std::fmt::Debug for GenaiModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenaiModel")
            .field("name", &self.inner.name)
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl GenaiModel {
    pub fn new(spec: &ModelSpec, options: ModelOptions) -> Result<Self, ModelSpecError> {
        let provider = spec.provider;
        let default_base = provider.default_base_url();
        let base_url = options
            .base_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| default_base.to_owned());
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| ModelSpecError::BaseUrl {
            spec: spec.to_string(),
            url: base_url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ModelSpecError::BaseUrl {
                spec: spec.to_string(),
                url: base_url,
                reason: "expected an `http://` or `https://` URL".to_owned(),
            });
        }
        let own_service = base_url == default_base;
        let key = match options.api_key {
            Some(key) => key,
            // Local OpenAI-compatible servers need no key, but genai insists on one.
            None if provider == Provider::OpenAi && !own_service => SecretString::from("none"),
            None => {
                return Err(ModelSpecError::MissingKey {
                    spec: spec.to_string(),
                    key_var: provider.key_var().to_owned(),
                });
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .build()
            .map_err(|source| ModelSpecError::Client {
                spec: spec.to_string(),
                source,
            })?;
        let client = genai::Client::builder()
            .with_reqwest(http)
            .build()
            .map_err(|e| ModelSpecError::BaseUrl {
                spec: spec.to_string(),
                url: base_url.clone(),
                reason: e.to_string(),
            })?;
        let service = if own_service {
            provider.service_name().to_owned()
        } else {
            format!("the model server at `{base_url}`")
        };
        Ok(Self {
            inner: Arc::new(Inner {
                name: spec.to_string(),
                provider,
                model: spec.model.clone(),
                client,
                endpoint: format!("{base_url}/"),
                base_url,
                key,
                service,
                idle_timeout: options.idle_timeout,
            }),
        })
    }
}

impl Model for GenaiModel {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
        let inner = self.inner.clone();
        Box::pin(async_stream::stream! {
            let (chat, options) = inner.chat_request(request);
            let response = match inner.client.exec_chat_stream(inner.target(), chat, Some(&options)).await {
                Ok(response) => response,
                Err(e) => {
                    yield Err(inner.classify(&e));
                    return;
                }
            };
            let mut events = response.stream;
            // The latest (accumulated) state of each streamed call, for servers that close
            // the stream without their end marker.
            let mut partial: Vec<(String, String, Value)> = Vec::new();
            let mut text_seen = false;
            while let Some(event) = events.next().await {
                match event {
                    Err(e) => {
                        yield Err(inner.classify(&e));
                        return;
                    }
                    Ok(ChatStreamEvent::Chunk(chunk)) if !chunk.content.is_empty() => {
                        text_seen = true;
                        yield Ok(ModelEvent::TextDelta(chunk.content));
                    }
                    Ok(ChatStreamEvent::ToolCallChunk(chunk)) => {
                        let call = chunk.tool_call;
                        match partial.iter_mut().find(|(id, _, _)| *id == call.call_id) {
                            Some(slot) => {
                                if !call.fn_name.is_empty() {
                                    slot.1 = call.fn_name;
                                }
                                slot.2 = call.fn_arguments;
                            }
                            None => partial.push((call.call_id, call.fn_name, call.fn_arguments)),
                        }
                    }
                    Ok(ChatStreamEvent::End(end)) => {
                        for item in inner.finish(end) {
                            yield item;
                        }
                        return;
                    }
                    Ok(_) => {}
                }
            }
            // The stream ended without its end marker (some OpenAI-compatible servers omit
            // `data: [DONE]`): keep what arrived, or report that nothing did.
            if partial.is_empty() && !text_seen {
                yield Err(ModelError::Interrupted {
                    service: inner.service.clone(),
                    message: "the stream ended before any answer arrived".to_owned(),
                });
                return;
            }
            let had_calls = !partial.is_empty();
            for (id, name, arguments) in partial {
                yield Ok(ModelEvent::ToolCall(ToolCall { id, name, arguments: parse_arguments(arguments) }));
            }
            yield Ok(ModelEvent::Finished(if had_calls { FinishReason::ToolCalls } else { FinishReason::Stop }));
        })
    }
}

impl Inner {
    fn adapter(&self) -> AdapterKind {
        match self.provider {
            Provider::OpenAi => AdapterKind::OpenAI,
            Provider::Anthropic => AdapterKind::Anthropic,
        }
    }

    fn target(&self) -> ServiceTarget {
        ServiceTarget {
            endpoint: Endpoint::from_owned(self.endpoint.clone()),
            auth: AuthData::from_single(self.key.expose_secret().to_owned()),
            model: ModelIden::new(self.adapter(), self.model.clone()),
        }
    }

    fn chat_request(&self, request: ModelRequest) -> (ChatRequest, ChatOptions) {
        let mut chat = ChatRequest::new(self.messages(&request.messages));
        if let Some(instructions) = request.instructions.filter(|s| !s.is_empty()) {
            chat = chat.with_system(instructions);
        }
        if !request.tools.is_empty() {
            chat = chat.with_tools(request.tools.into_iter().map(|t| {
                let tool = Tool::new(t.name).with_schema(t.input_schema);
                match t.description {
                    Some(d) => tool.with_description(d),
                    None => tool,
                }
            }));
        }
        let settings = request.settings;
        let mut options = ChatOptions::default()
            .with_capture_usage(true)
            .with_capture_content(true)
            .with_capture_tool_calls(true)
            .with_stream_read_timeout(self.idle_timeout);
        if let Some(t) = settings.temperature {
            options = options.with_temperature(t);
        }
        if let Some(p) = settings.top_p {
            options = options.with_top_p(p);
        }
        if !settings.stop_sequences.is_empty() {
            options = options.with_stop_sequences(settings.stop_sequences);
        }
        if let Some(seed) = settings.seed {
            options = options.with_seed(seed);
        }
        match self.provider {
            Provider::OpenAi => {
                // An explicit effort stops genai from reading a suffix such as `-max` off the
                // model name as a reasoning effort; `Budget` sends nothing for OpenAI.
                options = options.with_reasoning_effort(ReasoningEffort::Budget(0));
                if let Some(n) = settings.max_tokens {
                    options = options.with_max_tokens(n);
                }
            }
            Provider::Anthropic => {
                options = options
                    .with_max_tokens(settings.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS));
            }
        }
        (chat, options)
    }

    /// Our history as genai messages. Consecutive tool results travel in one message, which
    /// Anthropic requires after parallel tool calls.
    fn messages(&self, messages: &[Message]) -> Vec<ChatMessage> {
        let mut out: Vec<ChatMessage> = Vec::new();
        let mut results: Vec<ContentPart> = Vec::new();
        for message in messages {
            if let Message::Tool {
                call_id,
                content,
                is_error,
                ..
            } = message
            {
                results.push(self.tool_result(call_id, content, *is_error));
                continue;
            }
            if !results.is_empty() {
                out.push(ChatMessage::new(
                    ChatRole::Tool,
                    MessageContent::from_parts(std::mem::take(&mut results)),
                ));
            }
            match message {
                Message::System { content } => out.push(ChatMessage::system(content.clone())),
                Message::User { content } => out.push(ChatMessage::user(content.clone())),
                Message::Assistant {
                    content,
                    tool_calls,
                } => {
                    let mut parts = Vec::new();
                    if !content.is_empty() {
                        parts.push(ContentPart::Text(content.clone()));
                    }
                    for call in tool_calls {
                        parts.push(ContentPart::ToolCall(genai::chat::ToolCall {
                            call_id: call.id.clone(),
                            fn_name: call.name.clone(),
                            fn_arguments: call.arguments.clone(),
                            thought_signatures: None,
                        }));
                    }
                    if !parts.is_empty() {
                        out.push(ChatMessage::new(
                            ChatRole::Assistant,
                            MessageContent::from_parts(parts),
                        ));
                    }
                }
                Message::Tool { .. } => {}
            }
        }
        if !results.is_empty() {
            out.push(ChatMessage::new(
                ChatRole::Tool,
                MessageContent::from_parts(results),
            ));
        }
        out
    }

    fn tool_result(&self, call_id: &str, content: &str, is_error: bool) -> ContentPart {
        if is_error && self.provider == Provider::Anthropic {
            // genai's ToolResponse has no error flag; Anthropic reads `is_error` from the block.
            return ContentPart::from_custom(
                json!({"type": "tool_result", "tool_use_id": call_id, "content": content, "is_error": true}),
                None,
            );
        }
        ContentPart::ToolResponse(ToolResponse::new(call_id, content))
    }

    fn finish(&self, end: StreamEnd) -> Vec<Result<ModelEvent, ModelError>> {
        let mut items = Vec::new();
        let calls: Vec<ToolCall> = end
            .captured_tool_calls()
            .unwrap_or_default()
            .into_iter()
            .map(|c| ToolCall {
                id: c.call_id.clone(),
                name: c.fn_name.clone(),
                arguments: parse_arguments(c.fn_arguments.clone()),
            })
            .collect();
        let reason = match &end.captured_stop_reason {
            Some(StopReason::ToolCall(_)) => FinishReason::ToolCalls,
            Some(StopReason::MaxTokens(_)) => FinishReason::Length,
            Some(StopReason::ContentFilter(_)) => FinishReason::ContentFilter,
            Some(StopReason::Completed(_) | StopReason::StopSequence(_)) => FinishReason::Stop,
            Some(StopReason::Other(raw)) => FinishReason::Other(raw.clone()),
            None if calls.is_empty() => FinishReason::Stop,
            None => FinishReason::ToolCalls,
        };
        if reason == FinishReason::ToolCalls && calls.is_empty() {
            items.push(Err(ModelError::Protocol {
                service: self.service.clone(),
                message: "the model stopped to call tools but no tool call could be read (a tool-call delta without `index`?)"
                    .to_owned(),
            }));
            return items;
        }
        if let Some(usage) = &end.captured_usage {
            let count = |n: Option<i32>| n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
            items.push(Ok(ModelEvent::Usage(TokenUsage {
                input_tokens: count(usage.prompt_tokens),
                output_tokens: count(usage.completion_tokens),
            })));
        }
        items.extend(calls.into_iter().map(|c| Ok(ModelEvent::ToolCall(c))));
        items.push(Ok(ModelEvent::Finished(reason)));
        items
    }

    /// Sorts a genai failure into a one-line error.
    fn classify(&self, error: &genai::Error) -> ModelError {
        use genai::Error as E;
        if let Some((status, body, headers)) = http_parts(error) {
            return self.http_error(status.as_u16(), body, headers);
        }
        match error {
            E::ChatResponse { body, .. } => ModelError::Interrupted {
                service: self.service.clone(),
                message: provider_message(body).unwrap_or_else(|| body.to_string()),
            },
            E::WebStream { error, cause, .. } => {
                if let Some(e) = error.downcast_ref::<reqwest::Error>() {
                    return self.transport_error(e);
                }
                if let Some(timeout) = error.downcast_ref::<genai::webc::StreamTimeout>() {
                    return ModelError::Interrupted {
                        service: self.service.clone(),
                        message: match timeout {
                            genai::webc::StreamTimeout::Headers => {
                                "no response arrived in time".to_owned()
                            }
                            genai::webc::StreamTimeout::Read => {
                                format!("nothing arrived for {}s", self.idle_timeout.as_secs_f32())
                            }
                        },
                    };
                }
                ModelError::Interrupted {
                    service: self.service.clone(),
                    message: first_line(cause),
                }
            }
            E::WebModelCall {
                webc_error: genai::webc::Error::Reqwest(e),
                ..
            } => self.transport_error(e),
            E::StreamParse { .. } => ModelError::Protocol {
                service: self.service.clone(),
                message: first_line(&error.to_string()),
            },
            other => ModelError::Other {
                model: self.name.clone(),
                message: first_line(&other.to_string()),
            },
        }
    }

    fn transport_error(&self, error: &reqwest::Error) -> ModelError {
        let reason = io_reason(error);
        if error.is_connect() {
            ModelError::Unreachable {
                url: self.base_url.clone(),
                reason,
            }
        } else {
            ModelError::Interrupted {
                service: self.service.clone(),
                message: reason,
            }
        }
    }

    fn http_error(&self, status: u16, body: &str, headers: &HeaderMap) -> ModelError {
        let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let message = provider_message(&parsed).unwrap_or_else(|| first_line(body));
        let service = self.service.clone();
        match status {
            401 | 403 => ModelError::Auth {
                service,
                status,
                key_var: self.provider.key_var().to_owned(),
            },
            429 => ModelError::RateLimited {
                service,
                retry_after: retry_after(headers),
                message,
            },
            400 | 413 if is_context_error(&parsed, &message) => ModelError::ContextTooLong {
                model: self.name.clone(),
                message,
            },
            500..=599 => ModelError::Server {
                service,
                status,
                message,
            },
            _ => ModelError::Rejected {
                service,
                status,
                message,
            },
        }
    }
}

/// Status, body and headers of an HTTP failure, wherever genai put them.
fn http_parts(error: &genai::Error) -> Option<(reqwest::StatusCode, &str, &HeaderMap)> {
    use genai::Error as E;
    match error {
        E::HttpError {
            status,
            body,
            headers,
            ..
        } => Some((*status, body.as_str(), headers.as_ref())),
        E::WebStream { error, .. } => match error.downcast_ref::<genai::Error>()? {
            E::HttpError {
                status,
                body,
                headers,
                ..
            } => Some((*status, body.as_str(), headers.as_ref())),
            _ => None,
        },
        E::WebModelCall {
            webc_error:
                genai::webc::Error::ResponseFailedStatus {
                    status,
                    body,
                    headers,
                },
            ..
        } => Some((*status, body.as_str(), headers.as_ref())),
        _ => None,
    }
}

/// The human message of an OpenAI (`{"error":{"message"}}`) or Anthropic
/// (`{"type":"error","error":{"message"}}`) error body, or of an in-stream error object.
fn provider_message(body: &Value) -> Option<String> {
    body.pointer("/error/message")
        .or_else(|| body.get("message"))
        .and_then(Value::as_str)
        .map(first_line)
}

fn is_context_error(body: &Value, message: &str) -> bool {
    let code = body.pointer("/error/code").and_then(Value::as_str);
    let lower = message.to_ascii_lowercase();
    code == Some("context_length_exceeded")
        || lower.contains("prompt is too long")
        || lower.contains("maximum context length")
        || lower.contains("context window")
        || lower.contains("context length")
}

/// `retry-after` in seconds (the HTTP-date form is rare for model APIs and is ignored),
/// or OpenAI's `retry-after-ms`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let secs = get("retry-after")?.parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// "connection refused" rather than reqwest's nested "error sending request for url (...)".
fn io_reason(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut innermost = error.to_string();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            return match io.kind() {
                K::ConnectionRefused => "connection refused".to_owned(),
                K::ConnectionReset => "the connection was reset".to_owned(),
                K::ConnectionAborted => "the connection was aborted".to_owned(),
                K::TimedOut => "the connection timed out".to_owned(),
                K::UnexpectedEof => "the connection closed mid-answer".to_owned(),
                _ => first_line(&io.to_string()),
            };
        }
        innermost = e.to_string();
        source = e.source();
    }
    if error.is_timeout() {
        return "the connection timed out".to_owned();
    }
    first_line(&innermost)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

/// Arguments arrive as a JSON string while streaming; an empty string means no arguments.
fn parse_arguments(arguments: Value) -> Value {
    match arguments {
        Value::String(s) if s.trim().is_empty() => Value::Object(Default::default()),
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Value::Null => Value::Object(Default::default()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        type Case = (&'static [(&'static str, &'static str)], Option<Duration>);
        let cases: [Case; 5] = [
            (&[("retry-after", "7")], Some(Duration::from_secs(7))),
            (&[("retry-after", "0.5")], Some(Duration::from_millis(500))),
            (
                &[("retry-after-ms", "250"), ("retry-after", "9")],
                Some(Duration::from_millis(250)),
            ),
            (&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None),
            (&[], None),
        ];
        for (headers, expected) in cases {
            let mut map = HeaderMap::new();
            for (k, v) in headers {
                map.insert(*k, v.parse().unwrap());
            }
            assert_eq!(retry_after(&map), expected, "{headers:?}");
        }
    }

    #[test]
    fn arguments_become_objects() {
        let cases = [
            (json!(""), json!({})),
            (json!("{\"a\":1}"), json!({"a": 1})),
            (json!("not json"), json!("not json")),
            (Value::Null, json!({})),
            (json!({"b": 2}), json!({"b": 2})),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_arguments(raw.clone()), expected, "{raw}");
        }
    }

    #[test]
    fn context_errors_are_recognised_in_both_formats() {
        let openai = json!({"error": {"message": "This model's maximum context length is 128000 tokens.", "code": "context_length_exceeded"}});
        let anthropic = json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 210311 tokens > 200000 maximum"}});
        let other = json!({"error": {"message": "Invalid 'temperature'"}});
        for (body, expected) in [(openai, true), (anthropic, true), (other, false)] {
            let message = provider_message(&body).unwrap();
            assert_eq!(is_context_error(&body, &message), expected, "{body}");
        }
    }
}
