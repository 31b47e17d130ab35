//! The audit log: every execution a session asks for is recorded with its user, session,
//! tool, outcome and latency, and the SHA-256 of its arguments (never the arguments), and a
//! key lists its own project's entries only.

use bitbucket_sandbox::ALICE_TOKEN;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::start;

#[tokio::test]
async fn executions_are_audited_per_project_without_their_arguments() {
    let env = start().await;
    let alice = env.session("alice").await;
    env.connect_with(&alice, ALICE_TOKEN).await;
    let bob = env.session("bob").await;
    let marker = "audit-Secret-title-3Kq";
    let made = env
        .execute(
            &alice,
            "BITBUCKET_CREATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": marker}),
        )
        .await;
    assert_eq!(made["successful"], true, "{made}");
    let failed = env
        .execute(
            &alice,
            "BITBUCKET_GET_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 9999}),
        )
        .await;
    assert_eq!(failed["successful"], false);
    let refused = env
        .execute(
            &bob,
            "BITBUCKET_GET_ISSUE",
            json!({"issue_id": "not a number"}),
        )
        .await;
    assert_eq!(refused["successful"], false);
    let batch = env
        .post(
            &format!("/{alice}/execute_meta"),
            json!({"slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": [
                {"tool_slug": "BITBUCKET_LIST_BRANCHES", "arguments": {"workspace": "acme", "repo_slug": "widgets"}},
                {"tool_slug": "BITBUCKET_NO_SUCH_TOOL", "arguments": {}}
            ]}}),
        )
        .await;
    assert_eq!(batch.0, StatusCode::OK, "{}", batch.1);

    let (status, log) = env.get("/../audit").await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let items = log["items"].as_array().expect("items");
    let seen: Vec<(String, String, String)> = items
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("user_id"), s("tool_slug"), s("outcome"))
        })
        .collect();
    let expect = |user: &str, tool: &str, outcome: &str| {
        assert!(
            seen.contains(&(user.into(), tool.into(), outcome.into())),
            "{user} {tool} {outcome} in {seen:?}"
        );
    };
    expect("alice", "BITBUCKET_CREATE_ISSUE", "ok");
    expect("alice", "BITBUCKET_GET_ISSUE", "error");
    expect("bob", "BITBUCKET_GET_ISSUE", "refused");
    expect("alice", "BITBUCKET_LIST_BRANCHES", "ok");
    expect("alice", "BITBUCKET_NO_SUCH_TOOL", "refused");
    assert_eq!(items.len(), 5, "{seen:?}");
    let first_at = items
        .iter()
        .filter_map(|e| e["at_ms"].as_i64())
        .min()
        .expect("times");
    for entry in items {
        assert!(entry["latency_ms"].as_f64().is_some_and(|l| l >= 0.0));
        assert_eq!(entry["arguments_sha256"].as_str().map(str::len), Some(64));
    }
    assert!(
        !log.to_string().contains(marker),
        "arguments are never listed"
    );

    let (_, alice_only) = env.get("/../audit?user_id=alice&limit=2").await;
    assert_eq!(alice_only["count"], 2);
    assert!(
        alice_only["items"]
            .as_array()
            .is_some_and(|i| i.iter().all(|e| e["user_id"] == "alice"))
    );
    let (_, later) = env
        .get(&format!("/../audit?since={}", first_at / 1000 + 3600))
        .await;
    assert_eq!(later["count"], 0, "{later}");
    let (_, recent) = env.get("/../audit?since=1h").await;
    assert_eq!(recent["count"], 5);
    for bad in ["?limit=0", "?limit=x", "?since=yesterday"] {
        let (status, body) = env.get(&format!("/../audit{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, other) = env
        .call(
            reqwest::Method::GET,
            "/../audit",
            Some(&env.other_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        other["items"],
        Value::Array(vec![]),
        "another project sees nothing"
    );

    assert!(
        !env.storage.stored_text().await.contains(marker),
        "the arguments are not stored"
    );
}
