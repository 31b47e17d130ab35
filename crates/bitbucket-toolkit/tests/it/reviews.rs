//! Code review and commits: the diff a model reads, and each bad request refused with a clear
//! message and nothing changed.

use serde_json::{Value, json};

use crate::support::{Env, repo, start};

fn widgets(extra: Value) -> Value {
    let mut arguments = json!({"workspace": "acme", "repo_slug": "widgets"});
    if let (Some(target), Some(extra)) = (arguments.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    arguments
}

async fn head(env: &Env, branch: &str) -> String {
    env.client
        .get_branch(&repo("acme", "widgets"), branch)
        .await
        .expect("branch")
        .target
        .map(|c| c.hash)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_diff_is_git_text_in_windows_that_say_how_to_go_on() {
    let env = start().await;
    // Two files on a new branch, so the pull request's diff has two sections.
    env.ok(
        "BITBUCKET_COMMIT_FILES",
        widgets(json!({"branch": "feature/two", "message": "Two files",
            "files": [{"path": "a.txt", "content": "one\ntwo\n"}, {"path": "b.txt", "content": "three\n"}]})),
    )
    .await;
    let pr = env
        .ok(
            "BITBUCKET_CREATE_PULL_REQUEST",
            widgets(json!({"title": "Two", "source_branch": "feature/two"})),
        )
        .await;
    let id = pr.structured.as_ref().expect("pr")["id"].clone();
    let whole = env
        .ok(
            "BITBUCKET_GET_PULL_REQUEST_DIFF",
            widgets(json!({"pull_request_id": id})),
        )
        .await;
    let text = whole.text;
    assert!(
        text.contains("diff --git a/a.txt b/a.txt\n")
            && text.contains("\n+one\n+two\n")
            && text.ends_with("[end of diff]"),
        "{text}"
    );
    assert!(!text.contains("\\n"), "never JSON-escaped: {text}");

    // A window that would cut b.txt stops after a.txt and says where to go on.
    let first = env
        .ok(
            "BITBUCKET_GET_PULL_REQUEST_DIFF",
            widgets(json!({"pull_request_id": id, "max_lines": 9})),
        )
        .await;
    let structured = first.structured.expect("structured");
    let next = structured["next_start_line"]
        .as_u64()
        .expect("more to read");
    assert_eq!(structured["files"], json!(["a.txt"]), "{structured}");
    assert!(
        first
            .text
            .ends_with(&format!("call again with start_line={next}]")),
        "{}",
        first.text
    );
    let rest = env
        .ok(
            "BITBUCKET_GET_PULL_REQUEST_DIFF",
            widgets(json!({"pull_request_id": id, "start_line": next})),
        )
        .await;
    assert!(
        rest.text.contains("diff --git a/b.txt b/b.txt\n"),
        "{}",
        rest.text
    );

    let only_b = env
        .ok(
            "BITBUCKET_GET_PULL_REQUEST_DIFF",
            widgets(json!({"pull_request_id": id, "path": "b.txt"})),
        )
        .await;
    assert!(
        !only_b.text.contains("a.txt") && only_b.text.contains("+three"),
        "{}",
        only_b.text
    );
}

#[tokio::test]
async fn bad_review_requests_are_refused_and_change_nothing() {
    let env = start().await;
    let main = head(&env, "main").await;

    let spec = env
        .err(
            "BITBUCKET_GET_COMMIT_DIFF",
            widgets(json!({"commit": "no-such-branch"})),
        )
        .await;
    assert!(spec.contains("no-such-branch"), "{spec}");

    let anchor = env
        .err(
            "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            widgets(
                json!({"pull_request_id": 1, "content": "x", "path": "src/login.rs", "line": 999}),
            ),
        )
        .await;
    assert!(
        anchor.contains("BITBUCKET_GET_PULL_REQUEST_DIFF"),
        "says how to find a line the diff shows: {anchor}"
    );
    let no_path = env
        .err(
            "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            widgets(json!({"pull_request_id": 1, "content": "x", "line": 3})),
        )
        .await;
    assert!(no_path.contains("need `path`"), "{no_path}");
    let comments = env
        .client
        .list_pull_request_comments(&repo("acme", "widgets"), 1, &Default::default())
        .await
        .expect("comments");
    assert!(comments.values.is_empty(), "no comment was made");

    let traversal = env
        .err(
            "BITBUCKET_COMMIT_FILES",
            widgets(json!({"branch": "main", "message": "x",
                "files": [{"path": "../outside.txt", "content": "x"}]})),
        )
        .await;
    assert!(traversal.contains(".."), "{traversal}");
    let empty = env
        .err(
            "BITBUCKET_COMMIT_FILES",
            widgets(json!({"branch": "main", "message": "x"})),
        )
        .await;
    assert!(empty.starts_with("nothing to commit"), "{empty}");
    assert_eq!(head(&env, "main").await, main, "main did not move");

    // Demo opens a pull request and cannot approve it.
    env.ok(
        "BITBUCKET_COMMIT_FILES",
        widgets(json!({"branch": "feature/own", "message": "Own",
            "files": [{"path": "own.txt", "content": "own\n"}]})),
    )
    .await;
    let pr = env
        .ok(
            "BITBUCKET_CREATE_PULL_REQUEST",
            widgets(json!({"title": "Own", "source_branch": "feature/own"})),
        )
        .await;
    let id = pr.structured.as_ref().expect("pr")["id"].clone();
    let own = env
        .err(
            "BITBUCKET_APPROVE_PULL_REQUEST",
            widgets(json!({"pull_request_id": id})),
        )
        .await;
    assert!(
        own.contains("your own pull request") && own.contains("ask a reviewer"),
        "{own}"
    );

    env.ok(
        "BITBUCKET_DECLINE_PULL_REQUEST",
        widgets(json!({"pull_request_id": id})),
    )
    .await;
    let declined = env
        .err(
            "BITBUCKET_MERGE_PULL_REQUEST",
            widgets(json!({"pull_request_id": id})),
        )
        .await;
    assert!(
        declined.starts_with("bitbucket refused to merge"),
        "{declined}"
    );
    assert_eq!(head(&env, "main").await, main, "main did not move");

    let nothing = env
        .err(
            "BITBUCKET_UPDATE_PULL_REQUEST",
            widgets(json!({"pull_request_id": 1})),
        )
        .await;
    assert!(nothing.starts_with("nothing to change"), "{nothing}");
}
