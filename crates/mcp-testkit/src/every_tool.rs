//! One call of every tool, each checked against the sandbox through the Bitbucket client.

use bitbucket_client::Client;
use futures::StreamExt as _;
use serde_json::json;

use crate::{Session, call, ok};

fn head(branch: &bitbucket_client::Branch) -> String {
    branch
        .target
        .as_ref()
        .map(|c| c.hash.clone())
        .unwrap_or_default()
}

/// Calls all 25 tools through `s` (a server whose destructive policy lets deletes through)
/// and checks each effect in the seeded sandbox that `bitbucket` talks to.
pub async fn exercise_every_tool(s: &Session, bitbucket: &Client) {
    let listed = s.list_all_tools().await.expect("tools/list");
    assert_eq!(listed.len(), 25, "every tool");
    let w = json!("acme");
    let r = json!("widgets");

    let main = bitbucket
        .get_branch("acme", "widgets", "main")
        .await
        .expect("main");
    let created = ok(
        "branch",
        &call(
            s,
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": w, "repo_slug": r, "name": "feature/mcp"}),
        )
        .await,
    );
    let branch = bitbucket
        .get_branch("acme", "widgets", "feature/mcp")
        .await
        .expect("branch exists");
    assert_eq!(
        head(&branch),
        head(&main),
        "default target is main's head: {created}"
    );
    let develop = bitbucket
        .get_branch("acme", "widgets", "develop")
        .await
        .expect("develop");
    ok(
        "branch off develop",
        &call(
            s,
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": w, "repo_slug": r, "name": "hotfix/mcp", "target": "develop"}),
        )
        .await,
    );
    assert_eq!(
        head(
            &bitbucket
                .get_branch("acme", "widgets", "hotfix/mcp")
                .await
                .expect("hotfix")
        ),
        head(&develop)
    );

    let got = ok(
        "get branch",
        &call(
            s,
            "BITBUCKET_GET_BRANCH",
            json!({"workspace": w, "repo_slug": r, "name": "feature/login"}),
        )
        .await,
    );
    assert!(got.to_string().contains("feature/login"));
    let branches = ok(
        "list branches",
        &call(
            s,
            "BITBUCKET_LIST_BRANCHES",
            json!({"workspace": w, "repo_slug": r, "pagelen": 2}),
        )
        .await,
    );
    assert_eq!(branches["has_more"], true, "{branches}");
    ok(
        "list tags",
        &call(
            s,
            "BITBUCKET_LIST_TAGS",
            json!({"workspace": w, "repo_slug": r}),
        )
        .await,
    );
    let commits = ok(
        "list commits",
        &call(
            s,
            "BITBUCKET_LIST_COMMITS",
            json!({"workspace": w, "repo_slug": r, "branch": "main"}),
        )
        .await,
    );
    assert_eq!(
        commits["items"].as_array().map(Vec::len),
        Some(2),
        "{commits}"
    );

    let issue = ok(
        "create issue",
        &call(
            s,
            "BITBUCKET_CREATE_ISSUE",
            json!({"workspace": w, "repo_slug": r, "title": "From MCP", "kind": "task"}),
        )
        .await,
    );
    let id = issue["id"].as_u64().expect("issue id");
    ok(
        "comment",
        &call(
            s,
            "BITBUCKET_CREATE_ISSUE_COMMENT",
            json!({"workspace": w, "repo_slug": r, "issue_id": id, "content": "noted"}),
        )
        .await,
    );
    ok(
        "update",
        &call(
            s,
            "BITBUCKET_UPDATE_ISSUE",
            json!({"workspace": w, "repo_slug": r, "issue_id": id, "state": "resolved"}),
        )
        .await,
    );
    let stored = bitbucket
        .get_issue("acme", "widgets", id)
        .await
        .expect("issue");
    assert_eq!(
        stored.state.map(|s| s.to_string()).as_deref(),
        Some("resolved")
    );
    let read = ok(
        "get issue",
        &call(
            s,
            "BITBUCKET_GET_ISSUE",
            json!({"workspace": w, "repo_slug": r, "issue_id": id}),
        )
        .await,
    );
    assert_eq!(read["id"].as_u64(), Some(id), "{read}");
    assert_eq!(read["title"], "From MCP", "{read}");
    assert_eq!(read["state"], "resolved", "{read}");
    let comments = read["comments"]["items"].as_array().expect("comments");
    assert_eq!(comments.len(), 1, "{read}");
    assert_eq!(comments[0]["content"], "noted", "{read}");
    assert_eq!(read["comments"]["has_more"], false, "{read}");
    let open = ok(
        "list issues",
        &call(
            s,
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": w, "repo_slug": r, "q": "state = \"open\""}),
        )
        .await,
    );
    assert_eq!(open["items"].as_array().map(Vec::len), Some(1), "{open}");
    ok(
        "delete issue",
        &call(
            s,
            "BITBUCKET_DELETE_ISSUE",
            json!({"workspace": w, "repo_slug": r, "issue_id": id}),
        )
        .await,
    );
    assert!(
        bitbucket
            .get_issue("acme", "widgets", id)
            .await
            .expect_err("deleted")
            .is_not_found()
    );

    let pr = ok("create PR", &call(s, "BITBUCKET_CREATE_PULL_REQUEST", json!({"workspace": w, "repo_slug": r, "title": "Hotfix", "source_branch": "hotfix/mcp"})).await);
    let pr_id = pr["id"].as_u64().expect("pr id");
    let stored = bitbucket
        .get_pull_request("acme", "widgets", pr_id)
        .await
        .expect("pr");
    assert_eq!(stored.title, "Hotfix");
    let got = ok(
        "get PR",
        &call(
            s,
            "BITBUCKET_GET_PULL_REQUEST",
            json!({"workspace": w, "repo_slug": r, "pull_request_id": pr_id}),
        )
        .await,
    );
    assert!(got.to_string().contains("hotfix/mcp"), "{got}");
    let prs = ok(
        "list PRs",
        &call(
            s,
            "BITBUCKET_LIST_PULL_REQUESTS",
            json!({"workspace": w, "repo_slug": r, "state": ["OPEN", "MERGED"]}),
        )
        .await,
    );
    assert_eq!(prs["items"].as_array().map(Vec::len), Some(2), "{prs}");

    let readme = ok(
        "get file",
        &call(
            s,
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": w, "repo_slug": r, "path": "README.md"}),
        )
        .await,
    );
    assert!(readme.to_string().contains("# Widgets"), "{readme}");
    let listing = ok(
        "browse",
        &call(
            s,
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            json!({"workspace": w, "repo_slug": r, "path": "src"}),
        )
        .await,
    );
    assert!(listing.to_string().contains("src/main.rs"), "{listing}");
    let repo = ok(
        "get repo",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORY",
            json!({"workspace": w, "repo_slug": r}),
        )
        .await,
    );
    assert!(repo.to_string().contains("acme/widgets"));
    let repos = ok(
        "list repos",
        &call(
            s,
            "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            json!({"workspace": w}),
        )
        .await,
    );
    assert_eq!(repos["items"].as_array().map(Vec::len), Some(2), "{repos}");

    ok(
        "create repo",
        &call(
            s,
            "BITBUCKET_CREATE_REPOSITORY",
            json!({"workspace": "demo", "repo_slug": "from-mcp", "description": "made over MCP"}),
        )
        .await,
    );
    assert_eq!(
        bitbucket
            .get_repository("demo", "from-mcp")
            .await
            .expect("repo")
            .is_private,
        Some(true)
    );
    ok(
        "delete repo",
        &call(
            s,
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "demo", "repo_slug": "from-mcp"}),
        )
        .await,
    );
    assert!(
        bitbucket
            .get_repository("demo", "from-mcp")
            .await
            .expect_err("deleted")
            .is_not_found()
    );

    let me = ok(
        "me",
        &call(s, "BITBUCKET_GET_CURRENT_USER", json!({})).await,
    );
    assert!(me.to_string().contains("Demo User"), "{me}");
    let workspaces = ok(
        "workspaces",
        &call(s, "BITBUCKET_LIST_WORKSPACES", json!({})).await,
    );
    assert_eq!(
        workspaces["items"].as_array().map(Vec::len),
        Some(2),
        "{workspaces}"
    );
    let members = ok(
        "members",
        &call(
            s,
            "BITBUCKET_LIST_WORKSPACE_MEMBERS",
            json!({"workspace": w}),
        )
        .await,
    );
    assert_eq!(
        members["items"].as_array().map(Vec::len),
        Some(3),
        "{members}"
    );

    let snippet = ok(
        "snippet",
        &call(
            s,
            "BITBUCKET_GET_SNIPPET",
            json!({"workspace": w, "encoded_id": "kypj"}),
        )
        .await,
    );
    assert!(snippet.to_string().contains("Deploy checklist"));
    ok(
        "snippet comment",
        &call(
            s,
            "BITBUCKET_CREATE_SNIPPET_COMMENT",
            json!({"workspace": w, "encoded_id": "kypj", "content": "Done", "parent_id": 1}),
        )
        .await,
    );
    let comments = bitbucket.paginate_url::<serde_json::Value>("/snippets/acme/kypj/comments", 10);
    let comments: Vec<_> = comments.collect().await;
    assert_eq!(comments.len(), 2, "every tool");
}
