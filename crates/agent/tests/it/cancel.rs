//! Cancelling a run (dropping its stream or firing its token) mid-answer or mid-tool keeps the
//! history consistent: no half answer, and every tool call has a result.

use std::sync::Arc;
use std::time::Duration;

use agent::{
    AgentError, AgentEvent, CancellationToken, FunctionToolset, History, Message, ToolDefinition,
    ToolOutput,
};
use futures::StreamExt as _;
use llm_script::{Entry, Turn};
use serde_json::json;

use crate::support::{PROVIDERS, agent, llm};

fn earlier() -> History {
    History::from_messages(vec![
        Message::user("earlier question"),
        Message::assistant("earlier answer"),
    ])
}

#[derive(Debug, Clone, Copy)]
enum How {
    Drop,
    Token,
}

#[tokio::test]
async fn cancelling_mid_answer_keeps_no_half_message() {
    for provider in PROVIDERS {
        for how in [How::Drop, How::Token] {
            let llm = llm(provider).await;
            llm.push_turn(Turn::text("one two three four five six").with_stall_after(2));
            let agent = agent(&llm);
            let mut history = earlier();
            let token = CancellationToken::new();
            {
                let stream = agent.run_stream_with_cancel("tell me", &mut history, token.clone());
                futures::pin_mut!(stream);
                let first = stream.next().await;
                assert!(
                    matches!(first, Some(Ok(AgentEvent::TextDelta { .. }))),
                    "{first:?}"
                );
                if let How::Token = how {
                    token.cancel();
                    let last = stream.next().await;
                    assert!(matches!(last, Some(Err(AgentError::Cancelled))), "{last:?}");
                    assert!(stream.next().await.is_none());
                }
            }
            assert_eq!(
                history,
                earlier(),
                "{provider} {how:?}: the partial answer is not kept"
            );
            wait_until(|| llm.abandoned_streams() == 1).await;
        }
    }
}

#[tokio::test]
async fn cancelling_mid_tool_answers_unfinished_calls() {
    let hang = ToolDefinition::new("hang", "Never finishes", json!({"type": "object"}));
    let quick = ToolDefinition::new("quick", "Finishes at once", json!({"type": "object"}));
    let tools = FunctionToolset::new("local")
        .with_tool(hang, |_| std::future::pending::<ToolOutput>())
        .with_tool(quick, |_| async { ToolOutput::text("quick result") });
    for provider in PROVIDERS {
        for how in [How::Drop, How::Token] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("chat.json");
            let llm = llm(provider).await;
            llm.push_turn(
                Turn::text("Working.")
                    .with_tool_call_id("h1", "hang", json!({}))
                    .with_tool_call_id("q1", "quick", json!({})),
            );
            let agent = agent(&llm).with_toolset(Arc::new(tools.clone()));
            let mut history = History::open(&path).unwrap();
            let token = CancellationToken::new();
            {
                let stream = agent.run_stream_with_cancel("do both", &mut history, token.clone());
                futures::pin_mut!(stream);
                while let Some(event) = stream.next().await {
                    if let Ok(AgentEvent::ToolResult { name, .. }) = event
                        && name == "quick"
                    {
                        break;
                    }
                }
                if let How::Token = how {
                    token.cancel();
                    assert!(matches!(
                        stream.next().await,
                        Some(Err(AgentError::Cancelled))
                    ));
                }
            }
            let expected = vec![
                Message::user("do both"),
                Message::Assistant {
                    content: "Working.".into(),
                    tool_calls: vec![
                        agent::ToolCall {
                            id: "h1".into(),
                            name: "hang".into(),
                            arguments: json!({}),
                        },
                        agent::ToolCall {
                            id: "q1".into(),
                            name: "quick".into(),
                            arguments: json!({}),
                        },
                    ],
                },
                Message::Tool {
                    call_id: "h1".into(),
                    name: "hang".into(),
                    content: "cancelled by the user before it finished".into(),
                    is_error: true,
                    structured: None,
                },
                Message::Tool {
                    call_id: "q1".into(),
                    name: "quick".into(),
                    content: "quick result".into(),
                    is_error: false,
                    structured: None,
                },
            ];
            assert_eq!(history.messages(), expected, "{provider} {how:?}");
            assert_eq!(
                History::load(&path).unwrap().messages(),
                expected,
                "{provider} {how:?}: saved too"
            );

            // The conversation goes on: the server (which enforces the providers' rules) accepts it.
            llm.push_turn(Turn::text("Sorry about that."));
            let result = agent.run("never mind", &mut history).await.unwrap();
            assert_eq!(result.output, "Sorry about that.");
            let results = llm.requests().last().unwrap().tool_results();
            assert!(
                matches!(&results[0], Entry::ToolResult { call_id, content, .. } if call_id == "h1" && content.starts_with("cancelled by the user")),
                "{results:?}"
            );
        }
    }
}

pub async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
