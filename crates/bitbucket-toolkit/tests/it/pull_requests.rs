//! Pull request tools.

use serde_json::json;

use crate::support::{repo, start};

#[tokio::test]
async fn lists_pull_requests_by_state() {
    let env = start().await;
    let open = env
        .ok(
            "BITBUCKET_LIST_PULL_REQUESTS",
            json!({"workspace": "acme", "repo_slug": "widgets"}),
        )
        .await;
    let listing = open.structured.unwrap();
    assert_eq!(listing["items"][0]["id"], 1);
    assert_eq!(listing["items"][0]["state"], "OPEN");
    assert_eq!(listing["items"][0]["author"]["nickname"], "alice");
    assert!(
        open.text.contains(
            "#1 \"Add login form\" [OPEN] feature/login → main by Alice Liddell (@alice)"
        ),
        "{}",
        open.text
    );

    let merged = env
        .ok(
            "BITBUCKET_LIST_PULL_REQUESTS",
            json!({"workspace": "acme", "repo_slug": "widgets", "state": "merged"}),
        )
        .await;
    assert_eq!(merged.structured.unwrap()["items"], json!([]));
    assert!(merged.text.contains("none"), "{}", merged.text);

    let several = env
        .ok(
            "BITBUCKET_LIST_PULL_REQUESTS",
            json!({"workspace": "acme", "repo_slug": "widgets", "state": ["Merged", "OPEN"], "pagelen": 50}),
        )
        .await;
    assert_eq!(several.structured.unwrap()["items"][0]["id"], 1);
}

#[tokio::test]
async fn gets_a_pull_request() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_GET_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": "1"}),
        )
        .await;
    let pr = outcome.structured.unwrap();
    assert_eq!(pr["title"], "Add login form");
    assert_eq!(pr["source_branch"], "feature/login");
    assert_eq!(pr["destination_branch"], "main");
    assert_eq!(pr["author"]["display_name"], "Alice Liddell");
    assert!(
        pr["description"]
            .as_str()
            .unwrap()
            .starts_with("Adds the login form")
    );
    assert!(
        outcome
            .text
            .starts_with("Pull request #1 \"Add login form\" [OPEN]"),
        "{}",
        outcome.text
    );

    let missing = env
        .err(
            "BITBUCKET_GET_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 99}),
        )
        .await;
    assert!(
        missing.starts_with(
            "pull request #99 not found in `acme/widgets` (BITBUCKET_LIST_PULL_REQUESTS lists them)"
        ),
        "{missing}"
    );
}

#[tokio::test]
async fn creates_a_pull_request_into_the_main_branch_with_reviewers_by_nickname() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_CREATE_PULL_REQUEST",
            json!({
                "workspace": "acme",
                "repo_slug": "widgets",
                "title": "Shared widget types",
                "source_branch": "develop",
                "description": "Adds `Kind`.",
                "reviewers": ["alice", "Bob Builder"],
                "close_source_branch": true,
            }),
        )
        .await;
    let created = outcome.structured.unwrap();
    let id = created["id"].as_u64().unwrap();
    assert_eq!(id, 2);
    assert!(
        outcome
            .text
            .starts_with("Opened pull request #2 \"Shared widget types\" [OPEN]"),
        "{}",
        outcome.text
    );

    let stored = env
        .client
        .get_pull_request(&repo("acme", "widgets"), id)
        .await
        .unwrap();
    assert_eq!(stored.destination.unwrap().branch_name(), Some("main"));
    assert_eq!(stored.source.unwrap().branch_name(), Some("develop"));
    assert_eq!(stored.close_source_branch, Some(true));
    let mut reviewers: Vec<String> = stored
        .reviewers
        .iter()
        .filter_map(|r| r.nickname.clone())
        .collect();
    reviewers.sort();
    assert_eq!(reviewers, ["alice", "bob"]);
}

#[tokio::test]
async fn refuses_unknown_reviewers_and_missing_branches() {
    let env = start().await;
    let reviewer = env
        .err(
            "BITBUCKET_CREATE_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": "T", "source_branch": "develop", "reviewers": "carol"}),
        )
        .await;
    assert_eq!(
        reviewer,
        "reviewer `carol` is not a member of workspace `acme`; pass a member's nickname, \
         `{uuid}` or account id (BITBUCKET_LIST_WORKSPACE_MEMBERS lists them)"
    );

    let branch = env
        .err(
            "BITBUCKET_CREATE_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": "T", "source_branch": "nope"}),
        )
        .await;
    assert!(
        branch.starts_with("bitbucket refused to create a pull request from `nope` in `acme/widgets`: 400 Source branch \"nope\" not found"),
        "{branch}"
    );
}
