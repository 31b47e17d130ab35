//! OpenAI Chat Completions: `POST /v1/chat/completions` with `stream: true`, answered as
//! `data: {chunk}` frames and `data: [DONE]`, errors in OpenAI's `{"error": {...}}` body.

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::script::{Failure, TokenCounts, Turn};
use crate::wire::{ErrorReply, Frame};

pub const PATH: &str = "/v1/chat/completions";

pub fn check_auth(headers: &HeaderMap, key: &str) -> Result<(), ErrorReply> {
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(k) if k == key => Ok(()),
        Some(k) => Err(error(
            StatusCode::UNAUTHORIZED,
            &format!(
                "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
                mask(k)
            ),
            "invalid_request_error",
            Value::Null,
            json!("invalid_api_key"),
        )),
        None => Err(error(
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            Value::Null,
            Value::Null,
        )),
    }
}

/// Shows only the ends of a key, as OpenAI does.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// The request checks the real API makes that matter for a tool loop.
pub fn validate(body: &Value) -> Result<(), ErrorReply> {
    let bad = |message: String, param: &str| {
        error(
            StatusCode::BAD_REQUEST,
            &message,
            "invalid_request_error",
            json!(param),
            Value::Null,
        )
    };
    if body.get("model").and_then(Value::as_str).is_none() {
        return Err(bad("you must provide a model parameter".into(), "model"));
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(bad(
            "Missing required parameter: 'messages'.".into(),
            "messages",
        ));
    };
    if messages.is_empty() {
        return Err(bad(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."
                .into(),
            "messages",
        ));
    }
    let mut open: Vec<String> = Vec::new();
    let mut open_at = 0;
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        if role == "tool" {
            let id = m
                .get("tool_call_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match open.iter().position(|o| o == id) {
                Some(p) => {
                    open.remove(p);
                }
                None => {
                    return Err(bad(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
                            .into(),
                        &format!("messages.[{i}].role"),
                    ));
                }
            }
            continue;
        }
        if !open.is_empty() {
            return Err(bad(
                format!(
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                    open.join(", ")
                ),
                &format!("messages.[{open_at}].role"),
            ));
        }
        if role == "assistant"
            && let Some(calls) = m.get("tool_calls").and_then(Value::as_array)
        {
            open = calls
                .iter()
                .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            open_at = i;
        }
    }
    if !open.is_empty() {
        return Err(bad(
            format!(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                open.join(", ")
            ),
            &format!("messages.[{open_at}].role"),
        ));
    }
    Ok(())
}

pub fn failure(failure: &Failure) -> ErrorReply {
    match failure {
        Failure::Unauthorized => error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided: sk-te*******cript. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Value::Null,
            json!("invalid_api_key"),
        ),
        Failure::RateLimited { retry_after_secs } => {
            let mut reply = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for gpt-5 in organization org-scripted on tokens per min (TPM): Limit 30000, Used 30000, Requested 500. Please try again in 1s.",
                "tokens",
                Value::Null,
                json!("rate_limit_exceeded"),
            );
            reply.retry_after = Some(*retry_after_secs);
            reply
        }
        Failure::ContextTooLong => error(
            StatusCode::BAD_REQUEST,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            json!("messages"),
            json!("context_length_exceeded"),
        ),
        Failure::ServerError | Failure::MidStream => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            Value::Null,
            Value::Null,
        ),
    }
}

pub fn error(
    status: StatusCode,
    message: &str,
    kind: &str,
    param: Value,
    code: Value,
) -> ErrorReply {
    ErrorReply {
        status,
        body: json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
        retry_after: None,
    }
}

/// The frames of a streamed reply.
pub fn frames(turn: &Turn, ids: &[String], request: &Value, usage: TokenCounts) -> Vec<Frame> {
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-scripted");
    let include_usage = request
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let chunk = |choices: Value| {
        let mut v = json!({
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": model,
            "system_fingerprint": "fp_scripted",
            "choices": choices,
        });
        if include_usage {
            // The real API sends `usage: null` on every chunk but the last.
            v["usage"] = Value::Null;
        }
        v
    };
    let delta = |d: Value, finish: Value| {
        Frame::data(&chunk(
            json!([{"index": 0, "delta": d, "logprobs": null, "finish_reason": finish}]),
        ))
    };

    let mut frames = vec![delta(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    if turn.failure == Some(Failure::MidStream) {
        frames.push(delta(json!({"content": "Partial "}), Value::Null).content());
        frames.push(Frame::data(&json!({"error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error", "param": null, "code": null,
        }})));
        frames.push(Frame::raw("data: [DONE]\n\n"));
        return frames;
    }
    for text in &turn.text {
        frames.push(delta(json!({"content": text}), Value::Null).content());
    }
    for (index, (call, id)) in turn.tool_calls.iter().zip(ids).enumerate() {
        frames.push(delta(
            json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                "function": {"name": call.name, "arguments": ""}}]}),
            Value::Null,
        ));
        for piece in crate::wire::split_in_three(&call.arguments.to_string()) {
            frames.push(
                delta(
                    json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                    Value::Null,
                )
                .split_across_writes()
                .content(),
            );
        }
    }
    let finish = if turn.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    frames.push(delta(json!({}), json!(finish)));
    if include_usage {
        let mut last = chunk(json!([]));
        last["usage"] = json!({
            "prompt_tokens": usage.input,
            "completion_tokens": usage.output,
            "total_tokens": usage.input + usage.output,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        });
        frames.push(Frame::data(&last));
    }
    frames.push(Frame::raw("data: [DONE]\n\n"));
    frames
}
