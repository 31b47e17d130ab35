//! The current user, workspaces and members.

use serde_json::json;

use crate::support::start;

#[tokio::test]
async fn shows_the_current_user() {
    let env = start().await;
    let outcome = env.ok("BITBUCKET_GET_CURRENT_USER", json!({})).await;
    let user = outcome.structured.unwrap();
    assert_eq!(user["nickname"], "demo");
    assert_eq!(user["display_name"], "Demo User");
    let me = env.client.current_user().await.unwrap();
    assert_eq!(user["uuid"], json!(me.uuid));
    assert!(
        outcome.text.starts_with("Signed in as Demo User (@demo) {"),
        "{}",
        outcome.text
    );
    // Tools without arguments are also called with `null`.
    env.ok("BITBUCKET_GET_CURRENT_USER", serde_json::Value::Null)
        .await;
}

#[tokio::test]
async fn lists_workspaces_page_by_page() {
    let env = start().await;
    let all = env.ok("BITBUCKET_LIST_WORKSPACES", json!({})).await;
    let listing = all.structured.unwrap();
    let slugs: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["acme", "demo"]);
    assert_eq!(listing["items"][0]["administrator"], true);

    let first = env
        .ok("BITBUCKET_LIST_WORKSPACES", json!({"pagelen": 1}))
        .await;
    let page = first.structured.unwrap();
    assert_eq!(
        (page["has_more"].clone(), page["next_page"].clone()),
        (json!(true), json!(2))
    );
    let second = env
        .ok(
            "BITBUCKET_LIST_WORKSPACES",
            json!({"pagelen": 1, "page": 2}),
        )
        .await;
    let page = second.structured.unwrap();
    assert_eq!(page["items"][0]["slug"], "demo");
    assert_eq!(page["has_more"], false);
    assert!(second.text.ends_with("No more results"), "{}", second.text);
}

#[tokio::test]
async fn lists_members() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_LIST_WORKSPACE_MEMBERS",
            json!({"workspace": "acme"}),
        )
        .await;
    let listing = outcome.structured.unwrap();
    let nicknames: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["nickname"].as_str().unwrap())
        .collect();
    assert_eq!(nicknames, ["alice", "bob", "demo"]);
    assert!(
        listing["items"][0]["uuid"]
            .as_str()
            .unwrap()
            .starts_with('{')
    );

    let missing = env
        .err(
            "BITBUCKET_LIST_WORKSPACE_MEMBERS",
            json!({"workspace": "nope"}),
        )
        .await;
    assert!(
        missing.starts_with("workspace `nope` not found, or you are not a member of it (BITBUCKET_LIST_WORKSPACES lists yours)"),
        "{missing}"
    );
}
