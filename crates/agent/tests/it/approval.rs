//! Destructive tools wait for the user; a refusal reaches the model as the tool's result.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use agent::{AgentEvent, ApprovalDecision, ApprovalRequest, History, approver_fn};
use futures::StreamExt as _;
use llm_script::{Entry, Provider, Turn};
use serde_json::json;

use crate::support::{Calls, PROVIDERS, agent, llm, local_tools, summary};

#[tokio::test]
async fn an_approved_destructive_call_runs_after_the_question_is_shown() {
    for provider in PROVIDERS {
        let llm = llm(provider).await;
        llm.push_turn(Turn::text("Deleting.").with_tool_call_id(
            "d1",
            "delete_branch",
            json!({"name": "old"}),
        ));
        llm.push_turn(Turn::text("Deleted."));
        let calls = Calls::default();
        // The approver checks that the consumer saw `ApprovalRequired` before it was asked.
        let shown = Arc::new(AtomicBool::new(false));
        let asked = Arc::new(Mutex::new(Vec::<ApprovalRequest>::new()));
        let (seen, log) = (shown.clone(), asked.clone());
        let approver = approver_fn(move |request| {
            let was_shown = seen.load(Ordering::SeqCst);
            log.lock().unwrap().push(request);
            async move {
                if was_shown {
                    ApprovalDecision::Approve
                } else {
                    ApprovalDecision::Deny {
                        reason: Some("asked before the question was shown".into()),
                    }
                }
            }
        });
        let agent = agent(&llm)
            .with_toolset(Arc::new(local_tools(&calls)))
            .with_approver(Arc::new(approver));
        let mut history = History::new();
        let stream = agent.run_stream("delete branch old", &mut history);
        futures::pin_mut!(stream);
        let mut events = Vec::new();
        while let Some(event) = stream.next().await {
            let event = event.unwrap();
            if matches!(event, AgentEvent::ApprovalRequired { .. }) {
                shown.store(true, Ordering::SeqCst);
            }
            events.push(event);
        }
        assert_eq!(
            summary(&events),
            vec![
                "text: Deleting.",
                "usage",
                r#"call delete_branch {"name":"old"}"#,
                "approve? delete_branch: `delete_branch` is marked destructive",
                "result delete_branch: deleted",
                "text: Deleted.",
                "usage",
                "done: Deleted.",
            ],
            "{provider}"
        );
        assert_eq!(
            *asked.lock().unwrap(),
            vec![ApprovalRequest {
                id: "d1".into(),
                name: "delete_branch".into(),
                arguments: json!({"name": "old"}),
                reason: "`delete_branch` is marked destructive".into(),
            }]
        );
        assert_eq!(calls.names(), vec!["delete_branch"]);
    }
}

#[tokio::test]
async fn a_denial_reaches_the_model_and_the_tool_does_not_run() {
    let cases: [(Option<Arc<dyn agent::Approver>>, &str); 3] = [
        (
            Some(Arc::new(approver_fn(|_| async {
                ApprovalDecision::Deny {
                    reason: Some("not today".into()),
                }
            }))),
            "the user denied running `delete_branch` (not today); it was not run",
        ),
        (
            Some(Arc::new(agent::DenyAll::because(
                "`ask` runs without `--yes`",
            ))),
            "`delete_branch` was not run: no one was asked to approve it (`ask` runs without `--yes`)",
        ),
        (
            None,
            "`delete_branch` was not run: no one was asked to approve it (this agent has no approver)",
        ),
    ];
    for provider in PROVIDERS {
        for (approver, expected) in &cases {
            let llm = llm(provider).await;
            llm.push_turn(
                Turn::default()
                    .with_tool_call_id("d1", "delete_branch", json!({"name": "main"}))
                    .with_tool_call_id("w1", "get_weather", json!({"city": "Rome"})),
            );
            llm.push_turn(Turn::text("Understood, I did not delete it."));
            let calls = Calls::default();
            let mut agent = agent(&llm).with_toolset(Arc::new(local_tools(&calls)));
            if let Some(approver) = approver {
                agent = agent.with_approver(approver.clone());
            }
            let result = agent.run("delete main", &mut History::new()).await.unwrap();
            assert_eq!(result.output, "Understood, I did not delete it.");
            assert_eq!(
                calls.names(),
                vec!["get_weather"],
                "the other call still ran"
            );
            assert_eq!(
                llm.requests()[1].tool_results()[0],
                Entry::ToolResult {
                    call_id: "d1".into(),
                    content: (*expected).into(),
                    is_error: provider == Provider::Anthropic,
                },
                "{provider}"
            );
        }
    }
}

#[tokio::test]
async fn approvals_are_asked_one_at_a_time() {
    let llm = llm(Provider::OpenAi).await;
    llm.push_turn(
        Turn::default()
            .with_tool_call_id("a", "delete_branch", json!({"name": "a"}))
            .with_tool_call_id("b", "delete_branch", json!({"name": "b"}))
            .with_tool_call_id("c", "delete_branch", json!({"name": "c"})),
    );
    llm.push_turn(Turn::text("All gone."));
    let open = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (o, m) = (open.clone(), most.clone());
    let approver = approver_fn(move |_| {
        let (o, m) = (o.clone(), m.clone());
        async move {
            let now = o.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            o.fetch_sub(1, Ordering::SeqCst);
            ApprovalDecision::Approve
        }
    });
    let calls = Calls::default();
    let agent = agent(&llm)
        .with_toolset(Arc::new(local_tools(&calls)))
        .with_approver(Arc::new(approver));
    agent
        .run("delete a b c", &mut History::new())
        .await
        .unwrap();
    assert_eq!(calls.names().len(), 3);
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "a terminal can only ask one question at a time"
    );
}
