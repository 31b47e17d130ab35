//! Branch and tag tools, checked against the repository's real refs.

use bitbucket_sandbox::git::{self, Signature};
use serde_json::{Value, json};

use crate::support::{Env, repo, start};

async fn head(env: &Env, branch: &str) -> String {
    env.client
        .get_branch(&repo("acme", "widgets"), branch)
        .await
        .expect("branch exists")
        .target
        .expect("branch has a commit")
        .hash
}

async fn create(env: &Env, arguments: Value) -> Value {
    env.ok("BITBUCKET_CREATE_BRANCH", arguments)
        .await
        .structured
        .expect("a result")
}

#[tokio::test]
async fn lists_branches_page_by_page() {
    let env = start().await;
    let all = env
        .ok(
            "BITBUCKET_LIST_BRANCHES",
            json!({"workspace": "acme", "repo_slug": "widgets"}),
        )
        .await;
    let names: Vec<&str> = all.structured.as_ref().unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["develop", "feature/login", "main"]);
    assert!(all.text.contains("- main → "), "{}", all.text);

    for (page, has_more) in [(1, true), (2, true), (3, false)] {
        let outcome = env
            .ok(
                "BITBUCKET_LIST_BRANCHES",
                json!({"workspace": "acme", "repo_slug": "widgets", "pagelen": 1, "page": page}),
            )
            .await;
        let listing = outcome.structured.unwrap();
        assert_eq!(listing["items"].as_array().unwrap().len(), 1);
        assert_eq!(listing["size"], 3);
        assert_eq!(listing["has_more"], has_more, "page {page}");
        let next = listing.get("next_page").cloned();
        assert_eq!(next, has_more.then(|| json!(page + 1)), "page {page}");
    }

    let filtered = env
        .ok(
            "BITBUCKET_LIST_BRANCHES",
            json!({"workspace": "acme", "repo_slug": "widgets", "q": "name ~ \"feature\""}),
        )
        .await;
    assert_eq!(
        filtered.structured.unwrap()["items"][0]["name"],
        "feature/login"
    );
}

#[tokio::test]
async fn gets_a_branch() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_GET_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/login"}),
        )
        .await;
    let branch = outcome.structured.unwrap();
    assert_eq!(branch["commit"], head(&env, "feature/login").await);
    assert_eq!(branch["message"], "Add login form");
    assert_eq!(branch["author"], "Alice Liddell");

    let missing = env
        .err(
            "BITBUCKET_GET_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "nope"}),
        )
        .await;
    assert!(
        missing.starts_with(
            "branch `nope` not found in `acme/widgets` (BITBUCKET_LIST_BRANCHES lists them)"
        ),
        "{missing}"
    );
}

#[tokio::test]
async fn creates_a_branch_at_the_main_branch_by_default() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/export"}),
        )
        .await;
    let main = env
        .ok(
            "BITBUCKET_GET_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "main"}),
        )
        .await;
    let main_commit = main.structured.unwrap()["commit"].clone();
    let created = outcome.structured.unwrap();
    assert_eq!(created["commit"], main_commit);
    assert_eq!(created["target"], "main");
    assert_eq!(json!(head(&env, "feature/export").await), main_commit);
    let short = &main_commit.as_str().unwrap()[..7];
    assert!(
        outcome.text.starts_with(&format!(
            "Created branch `feature/export` at {short} (from `main`) in acme/widgets — http"
        )),
        "{}",
        outcome.text
    );
}

#[tokio::test]
async fn creates_branches_from_a_branch_a_tag_or_a_hash() {
    let env = start().await;
    let develop = head(&env, "develop").await;
    let from_branch = create(
        &env,
        json!({"workspace": "acme", "repo_slug": "widgets", "name": "from-develop", "target": "develop"}),
    )
    .await;
    assert_eq!(from_branch["commit"], develop);
    assert_eq!(head(&env, "from-develop").await, develop);

    // Composio's argument name still works.
    let login = head(&env, "feature/login").await;
    create(
        &env,
        json!({"workspace": "acme", "repo_slug": "widgets", "name": "from-hash", "target_hash": login}),
    )
    .await;
    assert_eq!(head(&env, "from-hash").await, login);

    let first = env
        .client
        .list_commits(&repo("acme", "widgets"), Some("main"), &Default::default())
        .await
        .unwrap()
        .values
        .pop()
        .unwrap()
        .hash;
    env.git()
        .create_tag(
            &git::RepoId::new("acme", "widgets").unwrap(),
            "v0.1.0",
            &first,
            Some("First release"),
            &Signature::new("Demo User", "demo@example.com", 1_767_600_000),
        )
        .unwrap();
    create(
        &env,
        json!({"workspace": "acme", "repo_slug": "widgets", "name": "from-tag", "target": "v0.1.0"}),
    )
    .await;
    assert_eq!(head(&env, "from-tag").await, first);

    let tags = env
        .ok(
            "BITBUCKET_LIST_TAGS",
            json!({"workspace": "acme", "repo_slug": "widgets"}),
        )
        .await;
    let tag = &tags.structured.as_ref().unwrap()["items"][0];
    assert_eq!(tag["name"], "v0.1.0");
    assert_eq!(tag["commit"], first);
    assert!(tags.text.contains("v0.1.0 → "), "{}", tags.text);
}

#[tokio::test]
async fn refuses_taken_and_invalid_names_and_unknown_targets() {
    let env = start().await;
    let taken = env
        .err(
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "develop"}),
        )
        .await;
    assert!(
        taken.starts_with("branch `develop` already exists in `acme/widgets`"),
        "{taken}"
    );

    let target = env
        .err(
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "x", "target": "no-such-thing"}),
        )
        .await;
    assert_eq!(
        target,
        "target `no-such-thing` is not a branch, tag or commit hash in `acme/widgets` \
         (BITBUCKET_LIST_BRANCHES and BITBUCKET_LIST_TAGS list them)"
    );
}
