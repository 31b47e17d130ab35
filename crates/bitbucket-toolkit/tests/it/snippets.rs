//! Snippet tools.

use bitbucket_client::SnippetComment;
use futures::TryStreamExt as _;
use serde_json::json;

use crate::support::{Env, start};

async fn comments(env: &Env) -> Vec<SnippetComment> {
    env.client
        .paginate_url("/snippets/acme/kypj/comments", 100)
        .try_collect()
        .await
        .expect("comments list")
}

#[tokio::test]
async fn gets_a_snippet() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_GET_SNIPPET",
            json!({"workspace": "acme", "encoded_id": "kypj"}),
        )
        .await;
    let snippet = outcome.structured.unwrap();
    assert_eq!(snippet["id"], "kypj");
    assert_eq!(snippet["title"], "Deploy checklist");
    assert_eq!(snippet["files"], json!(["checklist.md"]));
    assert!(
        outcome
            .text
            .starts_with("Snippet `kypj` \"Deploy checklist\" (private)"),
        "{}",
        outcome.text
    );

    let missing = env
        .err(
            "BITBUCKET_GET_SNIPPET",
            json!({"workspace": "acme", "encoded_id": "nope"}),
        )
        .await;
    assert!(
        missing.starts_with("snippet `nope` not found in workspace `acme`"),
        "{missing}"
    );
}

#[tokio::test]
async fn comments_and_replies_on_a_snippet() {
    let env = start().await;
    let existing = comments(&env).await;
    assert_eq!(existing.len(), 1);
    let bobs = existing[0].id;

    let outcome = env
        .ok(
            "BITBUCKET_CREATE_SNIPPET_COMMENT",
            json!({"workspace": "acme", "encoded_id": "kypj", "content": "Added the migration step.", "parent_id": bobs}),
        )
        .await;
    let comment = outcome.structured.unwrap();
    assert_eq!(comment["parent_id"], bobs);
    let stored = comments(&env).await;
    assert_eq!(stored.len(), 2);
    let reply = stored
        .iter()
        .find(|c| json!(c.id) == comment["id"])
        .unwrap();
    assert_eq!(
        reply.content.as_ref().and_then(|c| c.raw.as_deref()),
        Some("Added the migration step.")
    );
    assert_eq!(reply.parent.as_ref().map(|p| p.id), Some(bobs));
}
