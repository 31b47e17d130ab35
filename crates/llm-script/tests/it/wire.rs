//! Replies, errors, key and history checks, recording, in both wire formats.

use std::time::Duration;

use llm_script::{Entry, Failure, Provider, ScriptedLlm, SeenCall, ServerConfig, Turn};
use serde_json::{Value, json};

use crate::support::{assemble, hello, post, request};

#[tokio::test]
async fn replies_stream_in_each_providers_format() {
    for provider in Provider::ALL {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        llm.push_turn(
            Turn::text("Hello there, friend")
                .with_tool_call_id(
                    "id_1",
                    "LOOKUP",
                    json!({"query": "branches named feature/*"}),
                )
                .with_tool_call("COUNT", json!({}))
                .with_usage(12, 5),
        );
        llm.push_turn(Turn::text("All done."));
        let response = post(&llm, llm.api_key(), &hello(provider)).await;
        assert_eq!(response.status(), 200, "{provider}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let reply = assemble(provider, &response.text().await.unwrap());
        let prefix = if provider == Provider::OpenAi {
            "call_"
        } else {
            "toolu_"
        };
        assert_eq!(reply.text, "Hello there, friend", "{provider}");
        assert_eq!(
            reply
                .calls
                .iter()
                .map(|c| (c.0.as_str(), c.1.as_str(), c.2.clone()))
                .collect::<Vec<_>>(),
            vec![
                (
                    "id_1",
                    "LOOKUP",
                    json!({"query": "branches named feature/*"})
                ),
                (format!("{prefix}1").as_str(), "COUNT", json!({})),
            ],
            "{provider}"
        );
        assert_eq!(
            reply.calls[0].3, 3,
            "{provider}: the arguments come in three deltas"
        );
        assert_eq!(reply.usage, Some((12, 5)), "{provider}");
        assert_eq!(
            reply.stop,
            if provider == Provider::OpenAi {
                "tool_calls"
            } else {
                "tool_use"
            }
        );
        assert!(reply.ended, "{provider}");

        let answer = post(&llm, llm.api_key(), &hello(provider))
            .await
            .text()
            .await
            .unwrap();
        let reply = assemble(provider, &answer);
        assert_eq!(
            (reply.text.as_str(), reply.stop.as_str()),
            (
                "All done.",
                if provider == Provider::OpenAi {
                    "stop"
                } else {
                    "end_turn"
                }
            )
        );
        assert_eq!(llm.remaining_turns(), 0);
    }
}

#[tokio::test]
async fn failures_use_each_providers_status_and_body() {
    let cases = [
        (
            Provider::OpenAi,
            Failure::Unauthorized,
            401,
            None,
            "/error/code",
            "invalid_api_key",
        ),
        (
            Provider::OpenAi,
            Failure::RateLimited {
                retry_after_secs: 7,
            },
            429,
            Some("7"),
            "/error/code",
            "rate_limit_exceeded",
        ),
        (
            Provider::OpenAi,
            Failure::ContextTooLong,
            400,
            None,
            "/error/code",
            "context_length_exceeded",
        ),
        (
            Provider::OpenAi,
            Failure::ServerError,
            500,
            None,
            "/error/type",
            "server_error",
        ),
        (
            Provider::Anthropic,
            Failure::Unauthorized,
            401,
            None,
            "/error/type",
            "authentication_error",
        ),
        (
            Provider::Anthropic,
            Failure::RateLimited {
                retry_after_secs: 3,
            },
            429,
            Some("3"),
            "/error/type",
            "rate_limit_error",
        ),
        (
            Provider::Anthropic,
            Failure::ContextTooLong,
            400,
            None,
            "/error/message",
            "prompt is too long: 210311 tokens > 200000 maximum",
        ),
        (
            Provider::Anthropic,
            Failure::ServerError,
            500,
            None,
            "/error/type",
            "api_error",
        ),
    ];
    for (provider, failure, status, retry_after, pointer, expected) in cases {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        llm.push_turn(Turn::failure(failure.clone()));
        let response = post(&llm, llm.api_key(), &hello(provider)).await;
        assert_eq!(response.status(), status, "{provider} {failure:?}");
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            retry_after,
            "{provider} {failure:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body.pointer(pointer),
            Some(&json!(expected)),
            "{provider} {failure:?}: {body}"
        );
    }
}

#[tokio::test]
async fn an_error_can_arrive_inside_the_stream() {
    let cases = [
        (Provider::OpenAi, "\"server_error\""),
        (Provider::Anthropic, "event: error"),
    ];
    for (provider, marker) in cases {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        llm.push_turn(Turn::failure(Failure::MidStream));
        let response = post(&llm, llm.api_key(), &hello(provider)).await;
        assert_eq!(response.status(), 200);
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Partial ") && body.contains(marker),
            "{provider}: {body}"
        );
    }
}

#[tokio::test]
async fn the_key_is_checked() {
    for provider in Provider::ALL {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        for key in [Some("wrong-key"), None] {
            let response = post(&llm, key, &hello(provider)).await;
            assert_eq!(response.status(), 401, "{provider} {key:?}");
        }
        let open = ScriptedLlm::start_with(ServerConfig::new(provider).with_api_key(None))
            .await
            .unwrap();
        open.push_turn(Turn::text("hi"));
        assert_eq!(
            post(&open, None, &hello(provider)).await.status(),
            200,
            "{provider}"
        );
        assert_eq!(llm.requests().len(), 2, "refused requests are recorded too");
    }
}

#[tokio::test]
async fn history_rules_are_enforced_as_the_real_apis_do() {
    let unanswered = [
        (
            Provider::OpenAi,
            json!([
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": "", "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "T", "arguments": "{}"}}]},
                {"role": "user", "content": "again"},
            ]),
            "The following tool_call_ids did not have response messages: call_a",
        ),
        (
            Provider::OpenAi,
            json!([{"role": "user", "content": "go"}, {"role": "tool", "tool_call_id": "call_x", "content": "r"}]),
            "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'",
        ),
        (
            Provider::Anthropic,
            json!([
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_a", "name": "T", "input": {}}]},
                {"role": "user", "content": "again"},
            ]),
            "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_a",
        ),
        (
            Provider::Anthropic,
            json!([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "r"}]}]),
            "unexpected `tool_use_id` found in `tool_result` blocks: toolu_x",
        ),
    ];
    for (provider, messages, expected) in unanswered {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        llm.push_turn(Turn::text("unused"));
        let response = post(&llm, llm.api_key(), &request(provider, messages)).await;
        assert_eq!(response.status(), 400, "{provider}");
        let body: Value = response.json().await.unwrap();
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap();
        assert!(message.contains(expected), "{provider}: {message}");
        assert_eq!(llm.remaining_turns(), 1, "a refused request plays no turn");
    }
}

#[tokio::test]
async fn requests_read_as_one_transcript_for_both_providers() {
    let openai = json!({
        "model": "gpt-test", "stream": true,
        "tools": [{"type": "function", "function": {"name": "T", "description": "a tool", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "calling", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "T", "arguments": "{\"a\":1}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "result"},
        ],
    });
    let anthropic = json!({
        "model": "claude-test", "stream": true, "max_tokens": 100, "system": "be brief",
        "tools": [{"name": "T", "description": "a tool", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "text", "text": "calling"}, {"type": "tool_use", "id": "c1", "name": "T", "input": {"a": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "result"}]},
        ],
    });
    let expected = vec![
        Entry::System {
            text: "be brief".into(),
        },
        Entry::User { text: "go".into() },
        Entry::Assistant {
            text: "calling".into(),
            tool_calls: vec![SeenCall {
                id: "c1".into(),
                name: "T".into(),
                arguments: json!({"a": 1}),
            }],
        },
        Entry::ToolResult {
            call_id: "c1".into(),
            content: "result".into(),
            is_error: false,
        },
    ];
    for (provider, body) in [(Provider::OpenAi, openai), (Provider::Anthropic, anthropic)] {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        llm.push_turn(Turn::text("ok"));
        assert_eq!(
            post(&llm, llm.api_key(), &body).await.status(),
            200,
            "{provider}"
        );
        let seen = llm.wait_for_requests(1).await;
        assert_eq!(seen[0].transcript(), expected, "{provider}");
        assert_eq!(seen[0].tool_names(), vec!["T"], "{provider}");
        assert_eq!(
            seen[0].tools()[0].schema,
            json!({"type": "object"}),
            "{provider}"
        );
        assert_eq!(
            seen[0].last_user_text().as_deref(),
            Some("go"),
            "{provider}"
        );
    }
}

#[tokio::test]
async fn an_exhausted_script_says_so() {
    for provider in Provider::ALL {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        let response = post(&llm, llm.api_key(), &hello(provider)).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body.pointer("/error/message").and_then(Value::as_str),
            Some("llm-script: the script has no turn left for request #1"),
            "{provider}"
        );
    }
}

#[tokio::test]
async fn a_stalled_stream_is_counted_when_the_client_leaves() {
    for provider in Provider::ALL {
        let llm = ScriptedLlm::start(provider).await.unwrap();
        llm.push_turn(Turn::text("one two three four").with_stall_after(2));
        let mut response = post(&llm, llm.api_key(), &hello(provider)).await;
        let first = response.chunk().await.unwrap().unwrap();
        assert!(!first.is_empty());
        assert_eq!(llm.abandoned_streams(), 0);
        drop(response);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while llm.abandoned_streams() == 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(llm.abandoned_streams(), 1, "{provider}");
    }
}
