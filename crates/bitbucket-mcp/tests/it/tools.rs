//! Every tool, called through MCP over HTTP in both protocol eras, with its effect checked in
//! the sandbox.

use bitbucket_mcp::{DestructivePolicy, ServerOptions};
use serde_json::json;

use crate::support::{ERAS, call, connect, failed, ok, start};

fn head(branch: &bitbucket_client::Branch) -> String {
    branch
        .target
        .as_ref()
        .map(|c| c.hash.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_tool_works_in_both_eras() {
    for era in ERAS {
        let env = start(ServerOptions {
            destructive: DestructivePolicy::Allow,
            ..ServerOptions::default()
        })
        .await;
        let (s, _) = connect(&env, era, None).await;
        let listed = s.list_all_tools().await.expect("tools/list");
        assert_eq!(listed.len(), 24, "{era:?}");
        let w = json!("acme");
        let r = json!("widgets");

        let main = env
            .bitbucket
            .get_branch("acme", "widgets", "main")
            .await
            .expect("main");
        let created = ok(
            "branch",
            &call(
                &s,
                "BITBUCKET_CREATE_BRANCH",
                json!({"workspace": w, "repo_slug": r, "name": "feature/mcp"}),
            )
            .await,
        );
        let branch = env
            .bitbucket
            .get_branch("acme", "widgets", "feature/mcp")
            .await
            .expect("branch exists");
        assert_eq!(
            head(&branch),
            head(&main),
            "{era:?}: default target is main's head: {created}"
        );
        let develop = env
            .bitbucket
            .get_branch("acme", "widgets", "develop")
            .await
            .expect("develop");
        ok(
            "branch off develop",
            &call(
                &s,
                "BITBUCKET_CREATE_BRANCH",
                json!({"workspace": w, "repo_slug": r, "name": "hotfix/mcp", "target": "develop"}),
            )
            .await,
        );
        assert_eq!(
            head(
                &env.bitbucket
                    .get_branch("acme", "widgets", "hotfix/mcp")
                    .await
                    .expect("hotfix")
            ),
            head(&develop)
        );

        let got = ok(
            "get branch",
            &call(
                &s,
                "BITBUCKET_GET_BRANCH",
                json!({"workspace": w, "repo_slug": r, "name": "feature/login"}),
            )
            .await,
        );
        assert!(got.to_string().contains("feature/login"));
        let branches = ok(
            "list branches",
            &call(
                &s,
                "BITBUCKET_LIST_BRANCHES",
                json!({"workspace": w, "repo_slug": r, "pagelen": 2}),
            )
            .await,
        );
        assert_eq!(branches["has_more"], true, "{branches}");
        ok(
            "list tags",
            &call(
                &s,
                "BITBUCKET_LIST_TAGS",
                json!({"workspace": w, "repo_slug": r}),
            )
            .await,
        );
        let commits = ok(
            "list commits",
            &call(
                &s,
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
                &s,
                "BITBUCKET_CREATE_ISSUE",
                json!({"workspace": w, "repo_slug": r, "title": "From MCP", "kind": "task"}),
            )
            .await,
        );
        let id = issue["id"].as_u64().expect("issue id");
        ok(
            "comment",
            &call(
                &s,
                "BITBUCKET_CREATE_ISSUE_COMMENT",
                json!({"workspace": w, "repo_slug": r, "issue_id": id, "content": "noted"}),
            )
            .await,
        );
        ok(
            "update",
            &call(
                &s,
                "BITBUCKET_UPDATE_ISSUE",
                json!({"workspace": w, "repo_slug": r, "issue_id": id, "state": "resolved"}),
            )
            .await,
        );
        let stored = env
            .bitbucket
            .get_issue("acme", "widgets", id)
            .await
            .expect("issue");
        assert_eq!(
            stored.state.map(|s| s.to_string()).as_deref(),
            Some("resolved")
        );
        let open = ok(
            "list issues",
            &call(
                &s,
                "BITBUCKET_LIST_ISSUES",
                json!({"workspace": w, "repo_slug": r, "q": "state = \"open\""}),
            )
            .await,
        );
        assert_eq!(open["items"].as_array().map(Vec::len), Some(1), "{open}");
        ok(
            "delete issue",
            &call(
                &s,
                "BITBUCKET_DELETE_ISSUE",
                json!({"workspace": w, "repo_slug": r, "issue_id": id}),
            )
            .await,
        );
        assert!(
            env.bitbucket
                .get_issue("acme", "widgets", id)
                .await
                .expect_err("deleted")
                .is_not_found()
        );

        let pr = ok("create PR", &call(&s, "BITBUCKET_CREATE_PULL_REQUEST", json!({"workspace": w, "repo_slug": r, "title": "Hotfix", "source_branch": "hotfix/mcp"})).await);
        let pr_id = pr["id"].as_u64().expect("pr id");
        let stored = env
            .bitbucket
            .get_pull_request("acme", "widgets", pr_id)
            .await
            .expect("pr");
        assert_eq!(stored.title, "Hotfix");
        let got = ok(
            "get PR",
            &call(
                &s,
                "BITBUCKET_GET_PULL_REQUEST",
                json!({"workspace": w, "repo_slug": r, "pull_request_id": pr_id}),
            )
            .await,
        );
        assert!(got.to_string().contains("hotfix/mcp"), "{got}");
        let prs = ok(
            "list PRs",
            &call(
                &s,
                "BITBUCKET_LIST_PULL_REQUESTS",
                json!({"workspace": w, "repo_slug": r, "state": ["OPEN", "MERGED"]}),
            )
            .await,
        );
        assert_eq!(prs["items"].as_array().map(Vec::len), Some(2), "{prs}");

        let readme = ok(
            "get file",
            &call(
                &s,
                "BITBUCKET_GET_FILE_FROM_REPOSITORY",
                json!({"workspace": w, "repo_slug": r, "path": "README.md"}),
            )
            .await,
        );
        assert!(readme.to_string().contains("# Widgets"), "{readme}");
        let listing = ok(
            "browse",
            &call(
                &s,
                "BITBUCKET_BROWSE_REPOSITORY_PATH",
                json!({"workspace": w, "repo_slug": r, "path": "src"}),
            )
            .await,
        );
        assert!(listing.to_string().contains("src/main.rs"), "{listing}");
        let repo = ok(
            "get repo",
            &call(
                &s,
                "BITBUCKET_GET_REPOSITORY",
                json!({"workspace": w, "repo_slug": r}),
            )
            .await,
        );
        assert!(repo.to_string().contains("acme/widgets"));
        let repos = ok(
            "list repos",
            &call(
                &s,
                "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
                json!({"workspace": w}),
            )
            .await,
        );
        assert_eq!(repos["items"].as_array().map(Vec::len), Some(2), "{repos}");

        ok("create repo", &call(&s, "BITBUCKET_CREATE_REPOSITORY", json!({"workspace": "demo", "repo_slug": "from-mcp", "description": "made over MCP"})).await);
        assert_eq!(
            env.bitbucket
                .get_repository("demo", "from-mcp")
                .await
                .expect("repo")
                .is_private,
            Some(true)
        );
        ok(
            "delete repo",
            &call(
                &s,
                "BITBUCKET_DELETE_REPOSITORY",
                json!({"workspace": "demo", "repo_slug": "from-mcp"}),
            )
            .await,
        );
        assert!(
            env.bitbucket
                .get_repository("demo", "from-mcp")
                .await
                .expect_err("deleted")
                .is_not_found()
        );

        let me = ok(
            "me",
            &call(&s, "BITBUCKET_GET_CURRENT_USER", json!({})).await,
        );
        assert!(me.to_string().contains("Demo User"), "{me}");
        let workspaces = ok(
            "workspaces",
            &call(&s, "BITBUCKET_LIST_WORKSPACES", json!({})).await,
        );
        assert_eq!(
            workspaces["items"].as_array().map(Vec::len),
            Some(2),
            "{workspaces}"
        );
        let members = ok(
            "members",
            &call(
                &s,
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
                &s,
                "BITBUCKET_GET_SNIPPET",
                json!({"workspace": w, "encoded_id": "kypj"}),
            )
            .await,
        );
        assert!(snippet.to_string().contains("Deploy checklist"));
        ok(
            "snippet comment",
            &call(
                &s,
                "BITBUCKET_CREATE_SNIPPET_COMMENT",
                json!({"workspace": w, "encoded_id": "kypj", "content": "Done", "parent_id": 1}),
            )
            .await,
        );
        let comments = env
            .bitbucket
            .paginate_url::<serde_json::Value>("/snippets/acme/kypj/comments", 10);
        use futures::StreamExt as _;
        let comments: Vec<_> = comments.collect().await;
        assert_eq!(comments.len(), 2, "{era:?}");

        s.cancel().await.expect("close");
        env.server.shutdown().await;
    }
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let env = start(ServerOptions::default()).await;
    for era in ERAS {
        let (s, _) = connect(&env, era, None).await;
        let unknown = s
            .call_tool(rmcp::model::CallToolRequestParams::new("BITBUCKET_NOPE"))
            .await
            .expect_err("unknown tool is a protocol error");
        assert!(unknown.to_string().contains("BITBUCKET_NOPE"), "{unknown}");

        let cases = [
            (
                "BITBUCKET_GET_PULL_REQUEST",
                json!({"workspace": "acme", "repo_slug": "widgets"}),
                "pull_request_id",
            ),
            (
                "BITBUCKET_GET_PULL_REQUEST",
                json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": "abc"}),
                "pull_request_id",
            ),
            (
                "BITBUCKET_CREATE_BRANCH",
                json!({"workspace": "acme", "repo_slug": "widgets", "name": "bad..name"}),
                "bad..name",
            ),
            (
                "BITBUCKET_CREATE_BRANCH",
                json!({"workspace": "acme", "repo_slug": "widgets", "name": "develop"}),
                "already exists",
            ),
            (
                "BITBUCKET_GET_REPOSITORY",
                json!({"workspace": "acme", "repo_slug": "nope"}),
                "acme/nope",
            ),
            (
                "BITBUCKET_LIST_ISSUES",
                json!({"workspace": "acme", "repo_slug": "website"}),
                "issue tracker",
            ),
            (
                "BITBUCKET_UPDATE_ISSUE",
                json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 1}),
                "at least one",
            ),
        ];
        for (name, args, needle) in cases {
            let message = failed(name, &call(&s, name, args.clone()).await);
            assert!(
                message.to_lowercase().contains(&needle.to_lowercase()),
                "{era:?} {name} {args}: {message}"
            );
        }
        s.cancel().await.expect("close");
    }
}
