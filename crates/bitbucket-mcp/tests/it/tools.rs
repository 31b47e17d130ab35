//! Every tool, called through MCP over HTTP in both protocol eras, with its effect checked in
//! the sandbox.

use bitbucket_mcp::{DestructivePolicy, ServerOptions};
use serde_json::json;

use crate::support::{ERAS, call, connect, failed, start};

#[tokio::test]
async fn every_tool_works_in_both_eras() {
    for era in ERAS {
        let env = start(ServerOptions {
            destructive: DestructivePolicy::Allow,
            ..ServerOptions::default()
        })
        .await;
        let (s, _) = connect(&env, era, None).await;
        mcp_testkit::exercise_every_tool(&s, &env.bitbucket).await;
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
