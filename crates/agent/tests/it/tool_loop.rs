//! The tool loop over both wire formats: what the model is offered and told, in order.

use std::sync::Arc;
use std::time::Duration;

use agent::{AgentEvent, FunctionToolset, History, Message, ToolDefinition, ToolOutput};
use llm_script::{Entry, Provider, SeenCall, Turn};
use serde_json::json;
use tokio::sync::Barrier;

use crate::support::{Calls, PROVIDERS, agent, collect, llm, local_tools, summary};

#[tokio::test]
async fn two_turn_tool_loop_on_both_providers() {
    for provider in PROVIDERS {
        let llm = llm(provider).await;
        let id = if provider == Provider::OpenAi {
            "call_w1"
        } else {
            "toolu_w1"
        };
        llm.push_turn(Turn::text("Let me check.").with_tool_call_id(
            id,
            "get_weather",
            json!({"city": "Paris"}),
        ));
        llm.push_turn(Turn::text("It is sunny in Paris.").with_usage(200, 10));
        let calls = Calls::default();
        let agent = agent(&llm).with_toolset(Arc::new(local_tools(&calls)));
        let mut history = History::new();

        let (events, error) = collect(agent.run_stream("Weather in Paris?", &mut history)).await;
        assert!(error.is_none(), "{provider}: {error:?}");
        assert_eq!(
            summary(&events),
            vec![
                "text: Let me check.",
                "usage",
                r#"call get_weather {"city":"Paris"}"#,
                r#"result get_weather: {"city":"Paris","sky":"sunny"}"#,
                "text: It is sunny in Paris.",
                "usage",
                "done: It is sunny in Paris.",
            ],
            "{provider}"
        );
        let Some(AgentEvent::Done { usage, .. }) = events.last() else {
            panic!()
        };
        assert_eq!(usage.requests, 2, "{provider}");
        assert!(
            usage.input_tokens > 200 && usage.output_tokens >= 10,
            "{provider}: {usage:?}"
        );
        assert_eq!(calls.names(), vec!["get_weather"]);

        let requests = llm.requests();
        assert_eq!(requests.len(), 2, "{provider}");
        assert_eq!(
            requests[0].tool_names(),
            vec!["get_weather", "fail", "delete_branch"],
            "{provider}"
        );
        assert_eq!(
            requests[0].tools()[0].schema["required"],
            json!(["city"]),
            "{provider}"
        );
        assert_eq!(
            requests[1].transcript(),
            vec![
                Entry::System {
                    text: "You drive Bitbucket.".into()
                },
                Entry::User {
                    text: "Weather in Paris?".into()
                },
                Entry::Assistant {
                    text: "Let me check.".into(),
                    tool_calls: vec![SeenCall {
                        id: id.into(),
                        name: "get_weather".into(),
                        arguments: json!({"city": "Paris"})
                    }],
                },
                Entry::ToolResult {
                    call_id: id.into(),
                    content: r#"{"city":"Paris","sky":"sunny"}"#.into(),
                    is_error: false,
                },
            ],
            "{provider}"
        );
        assert_eq!(
            history.len(),
            4,
            "{provider}: user, assistant with call, result, answer"
        );
        assert_eq!(
            history.messages().last(),
            Some(&Message::assistant("It is sunny in Paris."))
        );
        assert!(history.check().is_ok());
    }
}

#[tokio::test]
async fn tool_calls_of_one_turn_run_concurrently() {
    // Each call waits at a barrier for the other: run one after the other, both would time out.
    let barrier = Arc::new(Barrier::new(2));
    let meet = ToolDefinition::new(
        "meet",
        "Waits for the other call",
        json!({"type": "object"}),
    );
    let tools = FunctionToolset::new("local").with_tool(meet, move |args| {
        let barrier = barrier.clone();
        async move {
            match tokio::time::timeout(Duration::from_secs(5), barrier.wait()).await {
                Ok(_) => ToolOutput::text(format!("met as {}", args["who"])),
                Err(_) => ToolOutput::error("nobody came"),
            }
        }
    });
    for provider in PROVIDERS {
        let llm = llm(provider).await;
        llm.push_turn(
            Turn::default()
                .with_tool_call_id("a", "meet", json!({"who": "first"}))
                .with_tool_call_id("b", "meet", json!({"who": "second"})),
        );
        llm.push_turn(Turn::text("Both met."));
        let agent = agent(&llm).with_toolset(Arc::new(tools.clone()));
        let result = agent.run("meet up", &mut History::new()).await.unwrap();
        assert_eq!(result.output, "Both met.");
        let results = llm.requests()[1].tool_results();
        assert_eq!(
            results,
            vec![
                Entry::ToolResult {
                    call_id: "a".into(),
                    content: "met as \"first\"".into(),
                    is_error: false
                },
                Entry::ToolResult {
                    call_id: "b".into(),
                    content: "met as \"second\"".into(),
                    is_error: false
                },
            ],
            "{provider}: results come back in call order"
        );
    }
}

#[tokio::test]
async fn tool_errors_reach_the_model_as_results() {
    for provider in PROVIDERS {
        let llm = llm(provider).await;
        llm.push_turn(
            Turn::default()
                .with_tool_call_id("f", "fail", json!({}))
                .with_tool_call_id("u", "no_such_tool", json!({"x": 1})),
        );
        llm.push_turn(Turn::text("The branch exists already."));
        let agent = agent(&llm).with_toolset(Arc::new(local_tools(&Calls::default())));
        let (events, error) = collect(agent.run_stream("make branch x", &mut History::new())).await;
        assert!(error.is_none(), "{error:?}");
        let lines = summary(&events);
        assert!(
            lines.contains(&"failed fail: branch `x` already exists in `acme/widgets`".to_owned()),
            "{lines:?}"
        );
        let flagged = provider == Provider::Anthropic;
        assert_eq!(
            llm.requests()[1].tool_results(),
            vec![
                Entry::ToolResult {
                    call_id: "f".into(),
                    content: "branch `x` already exists in `acme/widgets`".into(),
                    is_error: flagged,
                },
                Entry::ToolResult {
                    call_id: "u".into(),
                    content: "unknown tool `no_such_tool`; the available tools are: get_weather, fail, delete_branch".into(),
                    is_error: flagged,
                },
            ],
            "{provider}: Anthropic carries `is_error`, OpenAI has no such field"
        );
    }
}
