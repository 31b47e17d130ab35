//! Requests in each provider's format, and a reader for their SSE answers.

use llm_script::{Provider, ScriptedLlm};
use serde_json::{Value, json};

/// A minimal valid streaming request carrying `messages` (in the provider's format).
pub fn request(provider: Provider, messages: Value) -> Value {
    match provider {
        Provider::OpenAi => json!({
            "model": "gpt-test", "stream": true, "stream_options": {"include_usage": true},
            "messages": messages,
        }),
        Provider::Anthropic => json!({
            "model": "claude-test", "stream": true, "max_tokens": 512, "messages": messages,
        }),
    }
}

pub fn hello(provider: Provider) -> Value {
    request(provider, json!([{"role": "user", "content": "hello"}]))
}

pub async fn post(llm: &ScriptedLlm, key: Option<&str>, body: &Value) -> reqwest::Response {
    let client = reqwest::Client::new();
    let (path, builder) = match llm.provider() {
        Provider::OpenAi => (
            "chat/completions",
            client.post(format!("{}/chat/completions", llm.base_url())),
        ),
        Provider::Anthropic => (
            "messages",
            client.post(format!("{}/messages", llm.base_url())),
        ),
    };
    let mut builder = builder.json(body);
    if let Some(key) = key {
        builder = match llm.provider() {
            Provider::OpenAi => builder.bearer_auth(key),
            Provider::Anthropic => builder
                .header("x-api-key", key)
                .header("anthropic-version", "2023-06-01"),
        };
    } else if llm.provider() == Provider::Anthropic {
        builder = builder.header("anthropic-version", "2023-06-01");
    }
    builder
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// One SSE frame: its `event:` name (if any) and its `data:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub event: Option<String>,
    pub data: String,
}

pub fn frames(body: &str) -> Vec<Frame> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let mut frame = Frame {
                event: None,
                data: String::new(),
            };
            for line in f.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    frame.event = Some(e.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    frame.data.push_str(d);
                }
            }
            frame
        })
        .collect()
}

/// What a client would assemble from a reply.
#[derive(Debug, Default, PartialEq)]
pub struct Reply {
    pub text: String,
    /// (id, name, arguments, number of argument deltas)
    pub calls: Vec<(String, String, Value, usize)>,
    pub stop: String,
    pub usage: Option<(u64, u64)>,
    pub ended: bool,
}

pub fn assemble(provider: Provider, body: &str) -> Reply {
    let mut reply = Reply::default();
    let mut raw_args: Vec<String> = Vec::new();
    for frame in frames(body) {
        if frame.data == "[DONE]" {
            reply.ended = true;
            continue;
        }
        let v: Value =
            serde_json::from_str(&frame.data).unwrap_or_else(|e| panic!("{e}: {}", frame.data));
        match provider {
            Provider::OpenAi => {
                if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
                    reply.usage = Some((
                        u["prompt_tokens"]
                            .as_u64()
                            .expect("the reply has this field"),
                        u["completion_tokens"]
                            .as_u64()
                            .expect("the reply has this field"),
                    ));
                }
                let Some(choice) = v["choices"].get(0) else {
                    continue;
                };
                if let Some(t) = choice["delta"]["content"].as_str() {
                    reply.text.push_str(t);
                }
                for call in choice["delta"]["tool_calls"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let i = call["index"].as_u64().expect("the reply has this field") as usize;
                    if let Some(id) = call["id"].as_str() {
                        reply.calls.push((
                            id.into(),
                            call["function"]["name"]
                                .as_str()
                                .expect("the reply has this field")
                                .into(),
                            Value::Null,
                            0,
                        ));
                        raw_args.push(String::new());
                    }
                    let piece = call["function"]["arguments"].as_str().unwrap_or_default();
                    if !piece.is_empty() {
                        raw_args[i].push_str(piece);
                        reply.calls[i].3 += 1;
                    }
                }
                if let Some(f) = choice["finish_reason"].as_str() {
                    reply.stop = f.into();
                }
            }
            Provider::Anthropic => match frame.event.as_deref() {
                Some("message_start") => {
                    reply.usage = Some((
                        v["message"]["usage"]["input_tokens"]
                            .as_u64()
                            .expect("the reply has this field"),
                        0,
                    ));
                }
                Some("content_block_start") if v["content_block"]["type"] == "tool_use" => {
                    let b = &v["content_block"];
                    reply.calls.push((
                        b["id"].as_str().expect("the reply has this field").into(),
                        b["name"].as_str().expect("the reply has this field").into(),
                        Value::Null,
                        0,
                    ));
                    raw_args.push(String::new());
                }
                Some("content_block_delta") => match v["delta"]["type"].as_str() {
                    Some("text_delta") => reply.text.push_str(
                        v["delta"]["text"]
                            .as_str()
                            .expect("the reply has this field"),
                    ),
                    Some("input_json_delta") => {
                        let piece = v["delta"]["partial_json"]
                            .as_str()
                            .expect("the reply has this field");
                        if !piece.is_empty() {
                            raw_args
                                .last_mut()
                                .expect("the reply has this field")
                                .push_str(piece);
                            reply.calls.last_mut().expect("the reply has this field").3 += 1;
                        }
                    }
                    other => panic!("unexpected delta {other:?}"),
                },
                Some("message_delta") => {
                    reply.stop = v["delta"]["stop_reason"]
                        .as_str()
                        .expect("the reply has this field")
                        .into();
                    if let Some((input, _)) = reply.usage {
                        reply.usage = Some((
                            input,
                            v["usage"]["output_tokens"]
                                .as_u64()
                                .expect("the reply has this field"),
                        ));
                    }
                }
                Some("message_stop") => reply.ended = true,
                _ => {}
            },
        }
    }
    for (call, raw) in reply.calls.iter_mut().zip(raw_args) {
        call.2 = serde_json::from_str(&raw).unwrap_or_else(|e| panic!("arguments `{raw}`: {e}"));
    }
    reply
}
