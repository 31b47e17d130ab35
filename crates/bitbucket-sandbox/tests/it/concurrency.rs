//! Concurrent writes lose nothing, and ids stay unique and sequential.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use crate::support::start;

#[tokio::test]
async fn concurrent_issue_creations_get_distinct_sequential_ids() {
    let sb = start().await;
    let mut tasks = Vec::new();
    for n in 0..100 {
        let request = sb
            .demo(Method::POST, "/repositories/acme/widgets/issues")
            .json(&json!({ "title": format!("concurrent issue {n}") }));
        tasks.push(tokio::spawn(async move {
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), 201);
            let body: serde_json::Value = response.json().await.expect("json");
            body["id"].as_i64().expect("id")
        }));
    }
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.expect("task"));
    }
    // The seed holds issues 1 to 3, so the new ones are exactly 4 to 103.
    let expected: BTreeSet<i64> = (4..=103).collect();
    assert_eq!(ids, expected);
    let listed = sb
        .get_json("/repositories/acme/widgets/issues?q=title%20~%20%22concurrent%22&pagelen=100")
        .await;
    assert_eq!(listed["size"], 100);
}

#[tokio::test]
async fn concurrent_creations_of_one_branch_have_one_winner() {
    let sb = start().await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let request = sb
            .demo(Method::POST, "/repositories/acme/widgets/refs/branches")
            .json(&json!({ "name": "race", "target": { "hash": "main" } }));
        tasks.push(tokio::spawn(async move {
            request.send().await.expect("request").status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        19,
        "{statuses:?}"
    );
}
