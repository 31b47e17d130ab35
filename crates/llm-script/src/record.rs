//! What the server received: every request, with helpers that read the provider's JSON into one
//! provider-neutral transcript, so a test can assert the same history on both providers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Provider;

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub provider: Provider,
    pub path: String,
    /// Header names in lowercase.
    pub headers: BTreeMap<String, String>,
    /// The parsed JSON body (`null` when the body was not JSON).
    pub body: Value,
}

/// A tool as offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferedTool {
    pub name: String,
    pub description: Option<String>,
    pub schema: Value,
}

/// A tool call the client sent back as part of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenCall {
    pub id: String,
    pub name: String,
    pub arguments: Value,
}

/// One entry of the conversation a request carried, the same for both providers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Entry {
    System {
        text: String,
    },
    User {
        text: String,
    },
    Assistant {
        text: String,
        tool_calls: Vec<SeenCall>,
    },
    ToolResult {
        call_id: String,
        content: String,
        /// Anthropic's `is_error`; always false for OpenAI, which has no such field.
        is_error: bool,
    },
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// The tools offered to the model, in request order.
    pub fn tools(&self) -> Vec<OfferedTool> {
        let tools = self.body.get("tools").and_then(Value::as_array);
        tools
            .into_iter()
            .flatten()
            .map(|tool| {
                let (def, schema_key) = match self.provider {
                    Provider::OpenAi => {
                        (tool.get("function").unwrap_or(&Value::Null), "parameters")
                    }
                    Provider::Anthropic => (tool, "input_schema"),
                };
                OfferedTool {
                    name: text_of(def.get("name")),
                    description: def
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    schema: def.get(schema_key).cloned().unwrap_or(Value::Null),
                }
            })
            .collect()
    }

    pub fn tool_names(&self) -> Vec<String> {
        self.tools().into_iter().map(|t| t.name).collect()
    }

    /// The conversation the request carried, system text first.
    pub fn transcript(&self) -> Vec<Entry> {
        match self.provider {
            Provider::OpenAi => openai_transcript(&self.body),
            Provider::Anthropic => anthropic_transcript(&self.body),
        }
    }

    /// The tool results in the request, in order.
    pub fn tool_results(&self) -> Vec<Entry> {
        self.transcript()
            .into_iter()
            .filter(|e| matches!(e, Entry::ToolResult { .. }))
            .collect()
    }

    /// The text of the last user message.
    pub fn last_user_text(&self) -> Option<String> {
        self.transcript().into_iter().rev().find_map(|e| match e {
            Entry::User { text } => Some(text),
            _ => None,
        })
    }
}

fn text_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// A string, or an array of `{"type":"text","text":..}` parts joined.
fn flatten_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

fn parse_arguments(raw: Option<&Value>) -> Value {
    match raw {
        Some(Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

fn openai_transcript(body: &Value) -> Vec<Entry> {
    let messages = body.get("messages").and_then(Value::as_array);
    messages
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let content = flatten_text(m.get("content"));
            match m.get("role").and_then(Value::as_str)? {
                "system" | "developer" => Some(Entry::System { text: content }),
                "user" => Some(Entry::User { text: content }),
                "assistant" => {
                    let calls = m.get("tool_calls").and_then(Value::as_array);
                    let tool_calls = calls
                        .into_iter()
                        .flatten()
                        .map(|c| SeenCall {
                            id: text_of(c.get("id")),
                            name: text_of(c.pointer("/function/name")),
                            arguments: parse_arguments(c.pointer("/function/arguments")),
                        })
                        .collect();
                    Some(Entry::Assistant {
                        text: content,
                        tool_calls,
                    })
                }
                "tool" => Some(Entry::ToolResult {
                    call_id: text_of(m.get("tool_call_id")),
                    content,
                    is_error: false,
                }),
                _ => None,
            }
        })
        .collect()
}

fn anthropic_transcript(body: &Value) -> Vec<Entry> {
    let mut entries = Vec::new();
    if let Some(system) = body.get("system") {
        entries.push(Entry::System {
            text: flatten_text(Some(system)),
        });
    }
    let messages = body.get("messages").and_then(Value::as_array);
    for m in messages.into_iter().flatten() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        let blocks = match m.get("content") {
            Some(Value::String(s)) => vec![serde_json::json!({"type": "text", "text": s})],
            Some(Value::Array(blocks)) => blocks.clone(),
            _ => Vec::new(),
        };
        match role {
            "assistant" => {
                let mut text = String::new();
                let mut tool_calls = Vec::new();
                for b in &blocks {
                    match b.get("type").and_then(Value::as_str) {
                        Some("text") => text.push_str(&text_of(b.get("text"))),
                        Some("tool_use") => tool_calls.push(SeenCall {
                            id: text_of(b.get("id")),
                            name: text_of(b.get("name")),
                            arguments: b.get("input").cloned().unwrap_or(Value::Null),
                        }),
                        _ => {}
                    }
                }
                entries.push(Entry::Assistant { text, tool_calls });
            }
            _ => {
                let mut text = String::new();
                for b in &blocks {
                    match b.get("type").and_then(Value::as_str) {
                        Some("text") => text.push_str(&text_of(b.get("text"))),
                        Some("tool_result") => entries.push(Entry::ToolResult {
                            call_id: text_of(b.get("tool_use_id")),
                            content: flatten_text(b.get("content")),
                            is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                        }),
                        _ => {}
                    }
                }
                if !text.is_empty() {
                    entries.push(Entry::User { text });
                }
            }
        }
    }
    entries
}
