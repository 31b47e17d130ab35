//! Data survives a restart; `--reset` wipes it; two sandboxes cannot share a folder.

use bitbucket_sandbox::{Sandbox, SandboxConfig, SandboxError};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let http = reqwest::Client::new();
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("start");
    assert!(sandbox.was_seeded());
    let base = sandbox.base_url().to_owned();
    let post = |path: &str, body: Value| {
        http.request(Method::POST, format!("{base}{path}"))
            .basic_auth("demo@example.com", Some("sandbox-token"))
            .json(&body)
            .send()
    };
    let branch: Value = post(
        "/repositories/acme/widgets/refs/branches",
        json!({"name": "kept", "target": {"hash": "develop"}}),
    )
    .await
    .expect("branch")
    .json()
    .await
    .expect("json");
    let issue = post(
        "/repositories/acme/widgets/issues",
        json!({"title": "kept issue"}),
    )
    .await
    .expect("issue");
    assert_eq!(issue.status(), 201);
    let repo = post("/repositories/demo/kept-repo", json!({"is_private": true}))
        .await
        .expect("repo");
    assert_eq!(repo.status(), 200);
    sandbox.shutdown().await;

    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("restart");
    assert!(!sandbox.was_seeded());
    let base = sandbox.base_url().to_owned();
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .basic_auth("demo@example.com", Some("sandbox-token"))
            .send()
    };
    let again: Value = get("/repositories/acme/widgets/refs/branches/kept".into())
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(again["target"]["hash"], branch["target"]["hash"]);
    let issue: Value = get("/repositories/acme/widgets/issues/4".into())
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(issue["title"], "kept issue");
    assert_eq!(
        get("/repositories/demo/kept-repo".into())
            .await
            .expect("get")
            .status(),
        200
    );
    // Numbering continues after a restart.
    let next: Value = post_with(
        &http,
        &base,
        "/repositories/acme/widgets/issues",
        json!({"title": "after restart"}),
    )
    .await;
    assert_eq!(next["id"], 5);
    sandbox.shutdown().await;

    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()).with_reset(true))
        .await
        .expect("reset");
    assert!(sandbox.was_seeded());
    let base = sandbox.base_url().to_owned();
    let status = http
        .get(format!("{base}/repositories/acme/widgets/issues/4"))
        .basic_auth("demo@example.com", Some("sandbox-token"))
        .send()
        .await
        .expect("get")
        .status();
    assert_eq!(status, 404);
}

async fn post_with(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    http.post(format!("{base}{path}"))
        .basic_auth("demo@example.com", Some("sandbox-token"))
        .json(&body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_data_folder_serves_one_sandbox_at_a_time() {
    let dir = tempfile::tempdir().expect("dir");
    let first = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("start");
    let second = Sandbox::start(SandboxConfig::new(dir.path())).await;
    assert!(
        matches!(second, Err(SandboxError::Locked { .. })),
        "{second:?}"
    );
    first.shutdown().await;
}

#[tokio::test]
async fn the_token_option_replaces_demos_token() {
    let dir = tempfile::tempdir().expect("dir");
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()).with_demo_token("s3cret"))
        .await
        .expect("start");
    let http = reqwest::Client::new();
    let url = format!("{}/user", sandbox.base_url());
    let old = http
        .get(&url)
        .bearer_auth("sandbox-token")
        .send()
        .await
        .expect("get");
    assert_eq!(old.status(), 401);
    let new: Value = http
        .get(&url)
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(new["nickname"], "demo");
    let alice: Value = http
        .get(&url)
        .basic_auth("alice@example.com", Some("alice-token"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(alice["display_name"], "Alice Liddell");
}

/// Users added while the sandbox runs sign in at once (Basic and Bearer), belong to the
/// workspace named, and stay after a restart; a taken name, email or token, or an unknown
/// workspace, is refused and adds nothing.
#[tokio::test]
async fn users_can_be_added_and_sign_in() {
    use bitbucket_sandbox::NewUser;
    let dir = tempfile::tempdir().expect("dir");
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("start");
    let new = |name: &str, token: &str| NewUser {
        username: name.to_owned(),
        display_name: format!("Load {name}"),
        email: format!("{name}@example.com"),
        token: token.to_owned(),
    };
    sandbox
        .create_user(&new("carol", "carol-token"), Some("acme"))
        .await
        .expect("carol");
    for (user, workspace, says) in [
        (new("carol", "other-token"), Some("acme"), "exists already"),
        (new("alice", "x-token"), None, "exists already"),
        (
            new("dave", "carol-token"),
            None,
            "another user has this token",
        ),
        (
            new("dave", "dave-token"),
            Some("nowhere"),
            "no workspace `nowhere`",
        ),
        (new(" ", "t"), None, "needs a username"),
    ] {
        let refused = sandbox
            .create_user(&user, workspace)
            .await
            .expect_err("refused");
        assert!(refused.to_string().contains(says), "{refused}");
    }
    let http = reqwest::Client::new();
    let base = sandbox.base_url().to_owned();
    let me: Value = http
        .get(format!("{base}/user"))
        .basic_auth("carol@example.com", Some("carol-token"))
        .send()
        .await
        .expect("user")
        .json()
        .await
        .expect("json");
    assert_eq!(me["display_name"], "Load carol", "{me}");
    let members: Value = http
        .get(format!("{base}/workspaces/acme/members"))
        .bearer_auth("carol-token")
        .send()
        .await
        .expect("members")
        .json()
        .await
        .expect("json");
    assert!(
        members.to_string().contains("Load carol"),
        "carol is a member of acme: {members}"
    );
    let dave = http
        .get(format!("{base}/user"))
        .bearer_auth("dave-token")
        .send()
        .await
        .expect("user");
    assert_eq!(dave.status(), 401, "a refused user was not added");
    sandbox.shutdown().await;

    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("restart");
    let again = http
        .get(format!("{}/user", sandbox.base_url()))
        .bearer_auth("carol-token")
        .send()
        .await
        .expect("user");
    assert_eq!(again.status(), 200);
}
