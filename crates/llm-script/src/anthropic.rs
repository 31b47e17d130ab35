//! Anthropic Messages: `POST /v1/messages` with `stream: true`, answered as named SSE events
//! (`message_start`, `content_block_*`, `message_delta`, `message_stop`), errors in Anthropic's
//! `{"type": "error", "error": {...}}` body.

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::script::{Failure, TokenCounts, Turn};
use crate::wire::{ErrorReply, Frame};

pub const PATH: &str = "/v1/messages";

pub fn check_auth(headers: &HeaderMap, key: &str) -> Result<(), ErrorReply> {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(key) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
        ));
    }
    Ok(())
}

pub fn validate(headers: &HeaderMap, body: &Value) -> Result<(), ErrorReply> {
    let bad = |message: String| error(StatusCode::BAD_REQUEST, "invalid_request_error", &message);
    if headers.get("anthropic-version").is_none() {
        return Err(bad("anthropic-version: header is required".into()));
    }
    if body.get("model").and_then(Value::as_str).is_none() {
        return Err(bad("model: Field required".into()));
    }
    if body.get("max_tokens").and_then(Value::as_u64).is_none() {
        return Err(bad("max_tokens: Field required".into()));
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(bad("messages: Field required".into()));
    };
    if messages.is_empty() {
        return Err(bad("messages: at least one message is required".into()));
    }
    let mut expected: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        let blocks: &[Value] = m
            .get("content")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let results: Vec<&str> = blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
            .filter_map(|b| b.get("tool_use_id").and_then(Value::as_str))
            .collect();
        if let Some((j, unexpected)) = results
            .iter()
            .enumerate()
            .find(|(_, id)| !expected.iter().any(|e| e == *id))
        {
            return Err(bad(format!(
                "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {unexpected}. \
Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
            )));
        }
        let missing: Vec<&str> = expected
            .iter()
            .map(String::as_str)
            .filter(|e| !results.contains(e))
            .collect();
        if !missing.is_empty() {
            return Err(bad(format!(
                "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. \
Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                i - 1,
                missing.join(", ")
            )));
        }
        expected = if role == "assistant" {
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
                .filter_map(|b| b.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        } else {
            Vec::new()
        };
    }
    if !expected.is_empty() {
        return Err(bad(format!(
            "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. \
Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
            messages.len() - 1,
            expected.join(", ")
        )));
    }
    Ok(())
}

pub fn failure(failure: &Failure) -> ErrorReply {
    match failure {
        Failure::Unauthorized => error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
        ),
        Failure::RateLimited { retry_after_secs } => {
            let mut reply = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization of 30,000 input tokens per minute.",
            );
            reply.retry_after = Some(*retry_after_secs);
            reply
        }
        Failure::ContextTooLong => error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "prompt is too long: 210311 tokens > 200000 maximum",
        ),
        Failure::ServerError | Failure::MidStream => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "Internal server error",
        ),
    }
}

pub fn error(status: StatusCode, kind: &str, message: &str) -> ErrorReply {
    ErrorReply {
        status,
        body: json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CScripted"}),
        retry_after: None,
    }
}

pub fn frames(turn: &Turn, ids: &[String], request: &Value, usage: TokenCounts) -> Vec<Frame> {
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-scripted");
    let mut frames = vec![Frame::event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": "msg_01Scripted", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": usage.input, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": 1, "service_tier": "standard"},
        }}),
    )];
    let block_start = |i: usize, block: Value| {
        Frame::event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": i, "content_block": block}),
        )
    };
    let block_delta = |i: usize, delta: Value| {
        Frame::event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": i, "delta": delta}),
        )
    };
    let block_stop = |i: usize| {
        Frame::event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": i}),
        )
    };

    if turn.failure == Some(Failure::MidStream) {
        frames.push(block_start(0, json!({"type": "text", "text": ""})));
        frames.push(block_delta(0, json!({"type": "text_delta", "text": "Partial "})).content());
        frames.push(Frame::event(
            "error",
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ));
        return frames;
    }

    let mut index = 0;
    if !turn.text.is_empty() {
        frames.push(block_start(index, json!({"type": "text", "text": ""})));
        frames.push(Frame::event("ping", &json!({"type": "ping"})));
        for text in &turn.text {
            frames.push(block_delta(index, json!({"type": "text_delta", "text": text})).content());
        }
        frames.push(block_stop(index));
        index += 1;
    }
    for (call, id) in turn.tool_calls.iter().zip(ids) {
        frames.push(block_start(
            index,
            json!({"type": "tool_use", "id": id, "name": call.name, "input": {}}),
        ));
        frames.push(block_delta(
            index,
            json!({"type": "input_json_delta", "partial_json": ""}),
        ));
        for piece in crate::wire::split_in_three(&call.arguments.to_string()) {
            frames.push(
                block_delta(
                    index,
                    json!({"type": "input_json_delta", "partial_json": piece}),
                )
                .split_across_writes()
                .content(),
            );
        }
        frames.push(block_stop(index));
        index += 1;
    }
    let stop = if turn.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    frames.push(Frame::event(
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {"output_tokens": usage.output}}),
    ));
    frames.push(Frame::event(
        "message_stop",
        &json!({"type": "message_stop"}),
    ));
    frames
}
