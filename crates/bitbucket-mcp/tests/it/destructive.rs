//! Destructive tools under each policy, and confirmation through elicitation in both eras.

use bitbucket_mcp::{DestructivePolicy, ServerOptions};
use serde_json::json;
use std::sync::atomic::Ordering;

use crate::support::{Answer, ERAS, Env, call, connect, failed, ok, repo, start};

async fn make_repo(env: &Env, slug: &str) {
    env.bitbucket
        .create_repository(&repo("demo", slug), &Default::default())
        .await
        .expect("create repo");
}

async fn exists(env: &Env, slug: &str) -> bool {
    match env.bitbucket.get_repository(&repo("demo", slug)).await {
        Ok(_) => true,
        Err(e) if e.is_not_found() => false,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn confirmation_is_asked_and_respected_in_both_eras() {
    let env = start(ServerOptions::default()).await;
    for era in ERAS {
        let slug = format!("doomed-{}", era as u8);
        make_repo(&env, &slug).await;
        let args = json!({"workspace": "demo", "repo_slug": slug});

        let (s, asked) = connect(&env, era, Some(Answer::Decline)).await;
        let message = failed(
            "declined",
            &call(&s, "BITBUCKET_DELETE_REPOSITORY", args.clone()).await,
        );
        assert!(message.contains("declined"), "{era:?}: {message}");
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "{era:?}: the user was asked once"
        );
        assert!(
            exists(&env, &slug).await,
            "{era:?}: a declined delete changes nothing"
        );
        s.cancel().await.expect("close");

        let (s, asked) = connect(&env, era, None).await;
        let message = failed(
            "cannot ask",
            &call(&s, "BITBUCKET_DELETE_REPOSITORY", args.clone()).await,
        );
        assert!(
            message.contains("--destructive allow"),
            "{era:?}: {message}"
        );
        assert_eq!(asked.load(Ordering::SeqCst), 0);
        assert!(
            exists(&env, &slug).await,
            "{era:?}: never performed silently"
        );
        s.cancel().await.expect("close");

        let (s, asked) = connect(&env, era, Some(Answer::Accept)).await;
        ok(
            "accepted",
            &call(&s, "BITBUCKET_DELETE_REPOSITORY", args.clone()).await,
        );
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        assert!(
            !exists(&env, &slug).await,
            "{era:?}: confirmed delete happened"
        );
        s.cancel().await.expect("close");
    }
}

#[tokio::test]
async fn deny_hides_and_refuses_destructive_tools() {
    let env = start(ServerOptions {
        destructive: DestructivePolicy::Deny,
        ..ServerOptions::default()
    })
    .await;
    make_repo(&env, "kept").await;
    let (s, asked) = connect(&env, crate::support::Era::Sessions, Some(Answer::Accept)).await;
    let names: Vec<String> = s
        .list_all_tools()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("BITBUCKET_DELETE_")),
        "{names:?}"
    );
    let kept = bitbucket_toolkit::Toolkit::catalogue()
        .iter()
        .filter(|spec| !spec.annotations.destructive)
        .count();
    assert_eq!(names.len(), kept);
    let message = failed(
        "denied",
        &call(
            &s,
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "demo", "repo_slug": "kept"}),
        )
        .await,
    );
    assert!(message.contains("--destructive deny"), "{message}");
    assert_eq!(asked.load(Ordering::SeqCst), 0);
    assert!(exists(&env, "kept").await);
}

#[tokio::test]
async fn allow_runs_without_asking() {
    let env = start(ServerOptions {
        destructive: DestructivePolicy::Allow,
        ..ServerOptions::default()
    })
    .await;
    make_repo(&env, "gone").await;
    let (s, asked) = connect(&env, crate::support::Era::Sessions, Some(Answer::Decline)).await;
    ok(
        "allowed",
        &call(
            &s,
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "demo", "repo_slug": "gone"}),
        )
        .await,
    );
    assert_eq!(asked.load(Ordering::SeqCst), 0);
    assert!(!exists(&env, "gone").await);
}
