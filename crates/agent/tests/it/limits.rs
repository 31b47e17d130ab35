//! Step and usage limits stop a model that keeps calling tools, leaving a consistent history.

use std::sync::Arc;

use agent::{AgentError, History, Limits};
use llm_script::Turn;
use serde_json::json;

use crate::support::{Calls, PROVIDERS, agent, llm, local_tools};

#[tokio::test]
async fn limits_stop_runaway_loops_with_a_clear_message() {
    let cases = [
        (
            Limits::default().with_max_steps(2),
            2,
            "stopped after 2 model steps (`max_steps`) while the model was still calling tools; its last tool calls were not run",
        ),
        (
            Limits::default().with_max_total_tokens(1000),
            2,
            "stopped after using 1200 tokens, over the limit (`max_total_tokens` = 1000); the last tool calls were not run",
        ),
        (
            Limits::default().with_max_requests(1),
            1,
            "stopped after 1 model requests, the limit (`max_requests` = 1); the last tool calls were not run",
        ),
    ];
    for provider in PROVIDERS {
        for (limits, requests, message) in &cases {
            let llm = llm(provider).await;
            for i in 0..5 {
                llm.push_turn(
                    Turn::text("again")
                        .with_tool_call("get_weather", json!({"city": format!("c{i}")}))
                        .with_usage(500, 100),
                );
            }
            let calls = Calls::default();
            let agent = agent(&llm)
                .with_toolset(Arc::new(local_tools(&calls)))
                .with_limits(*limits);
            let mut history = History::new();
            let error = agent.run("loop forever", &mut history).await.unwrap_err();
            assert!(matches!(error, AgentError::Limit(_)), "{error:?}");
            assert_eq!(error.to_string(), *message, "{provider} {limits:?}");
            assert_eq!(llm.requests().len(), *requests, "{provider} {limits:?}");
            assert_eq!(
                calls.names().len(),
                requests - 1,
                "the last turn's tools did not run"
            );
            assert!(
                history.check().is_ok(),
                "{provider} {limits:?}: {:?}",
                history.check()
            );
        }
    }
}
