//! Repository tools: listing, reading, creating, deleting, browsing, files and commits.

use serde_json::json;

use crate::support::{repo, start};

#[tokio::test]
async fn lists_repositories_page_by_page() {
    let env = start().await;
    let all = env
        .ok(
            "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            json!({"workspace": "acme"}),
        )
        .await;
    let all = all.structured.unwrap();
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"acme/widgets") && names.contains(&"acme/website"),
        "{names:?}"
    );
    assert_eq!(all["has_more"], false);

    let first = env
        .ok(
            "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            json!({"workspace": "acme", "pagelen": 1, "sort": "slug"}),
        )
        .await;
    let page = first.structured.as_ref().unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["full_name"], "acme/website");
    assert_eq!(
        (page["has_more"].clone(), page["next_page"].clone()),
        (json!(true), json!(2))
    );
    assert!(
        first.text.ends_with("More results: call again with page=2"),
        "{}",
        first.text
    );

    let second = env
        .ok(
            "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            json!({"workspace": "acme", "pagelen": "1", "sort": "slug", "page": 2}),
        )
        .await;
    let page = second.structured.unwrap();
    assert_eq!(page["items"][0]["full_name"], "acme/widgets");
    assert_eq!(page["has_more"], false);
    assert!(page.get("next_page").is_none());
}

#[tokio::test]
async fn gets_a_repository() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_GET_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "widgets"}),
        )
        .await;
    let repo = outcome.structured.unwrap();
    assert_eq!(repo["full_name"], "acme/widgets");
    assert_eq!(repo["main_branch"], "main");
    assert_eq!(repo["project"], "CORE");
    assert_eq!(repo["has_issues"], true);
    assert!(repo["html"].as_str().unwrap().ends_with("/acme/widgets"));
    assert!(
        outcome.text.starts_with(
            "acme/widgets (private, project CORE, main branch `main`, issues on, rust)"
        ),
        "{}",
        outcome.text
    );
}

#[tokio::test]
async fn creates_and_deletes_a_repository() {
    let env = start().await;
    let created = env
        .ok(
            "BITBUCKET_CREATE_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "billing-api", "description": "Billing", "project_key": "CORE", "has_issues": true}),
        )
        .await;
    assert_eq!(
        created.structured.as_ref().unwrap()["full_name"],
        "acme/billing-api"
    );
    let stored = env
        .client
        .get_repository(&repo("acme", "billing-api"))
        .await
        .unwrap();
    assert_eq!(stored.is_private, Some(true), "private by default");
    assert_eq!(stored.has_issues, Some(true));
    assert_eq!(stored.description.as_deref(), Some("Billing"));
    assert_eq!(stored.project.and_then(|p| p.key).as_deref(), Some("CORE"));

    let again = env
        .err(
            "BITBUCKET_CREATE_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "billing-api"}),
        )
        .await;
    assert!(
        again.starts_with("repository `acme/billing-api` already exists"),
        "{again}"
    );

    let deleted = env
        .ok(
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "billing-api"}),
        )
        .await;
    assert_eq!(deleted.text, "Deleted repository `acme/billing-api`");
    let gone = env
        .client
        .get_repository(&repo("acme", "billing-api"))
        .await
        .unwrap_err();
    assert!(gone.is_not_found());

    let twice = env
        .err(
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "billing-api"}),
        )
        .await;
    assert!(
        twice.starts_with("repository `acme/billing-api` not found (check the workspace and slug; BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE lists them)"),
        "{twice}"
    );
}

#[tokio::test]
async fn public_repositories_can_be_asked_for() {
    let env = start().await;
    env.ok(
        "BITBUCKET_CREATE_REPOSITORY",
        json!({"workspace": "demo", "repo_slug": "open", "is_private": "false"}),
    )
    .await;
    let stored = env
        .client
        .get_repository(&repo("demo", "open"))
        .await
        .unwrap();
    assert_eq!(stored.is_private, Some(false));
}

#[tokio::test]
async fn reads_a_file() {
    let env = start().await;
    let readme = env
        .client
        .get_file(&repo("acme", "widgets"), None, "README.md")
        .await
        .unwrap()
        .into_file()
        .unwrap();
    let outcome = env
        .ok(
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "README.md"}),
        )
        .await;
    let file = outcome.structured.unwrap();
    assert_eq!(file["content"], readme.text().unwrap());
    assert_eq!(file["commit"], "main");
    assert_eq!(file["size"], readme.size);
    assert_eq!(file["truncated"], false);
    assert!(
        outcome.text.ends_with(readme.text().unwrap()),
        "{}",
        outcome.text
    );

    let at_branch = env
        .ok(
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "/src/login.rs", "commit": "feature/login"}),
        )
        .await;
    let file = at_branch.structured.unwrap();
    assert_eq!(file["commit"], "feature/login");
    assert!(
        file["content"]
            .as_str()
            .unwrap()
            .contains("render_login_form")
    );
}

#[tokio::test]
async fn a_directory_given_as_a_file_is_listed_with_a_note() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "docs"}),
        )
        .await;
    let file = outcome.structured.unwrap();
    assert_eq!(file["type"], "directory");
    assert_eq!(file["entries"][0]["path"], "docs/guide.md");
    assert!(file.get("content").is_none());
    assert!(
        file["notice"]
            .as_str()
            .unwrap()
            .contains("BITBUCKET_BROWSE_REPOSITORY_PATH"),
        "{file}"
    );
}

#[tokio::test]
async fn binary_and_large_files_come_back_as_notices() {
    let env = start().await;
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff, 0xfe,
    ];
    let big: String = (0..5000)
        .map(|n| format!("line {n:05} of a large log file\n"))
        .collect();
    env.commit_on_new_branch(
        "fixtures",
        &[("logo.png", png), ("big.log", big.as_bytes())],
    );

    let binary = env
        .ok(
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "logo.png", "commit": "fixtures"}),
        )
        .await;
    let file = binary.structured.unwrap();
    assert!(file.get("content").is_none());
    assert_eq!(file["size"], png.len());
    let notice = file["notice"].as_str().unwrap();
    assert!(
        notice.starts_with("binary file (") && notice.contains("14 bytes"),
        "{notice}"
    );

    let large = env
        .ok(
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "big.log", "commit": "fixtures"}),
        )
        .await;
    let file = large.structured.unwrap();
    assert_eq!(file["truncated"], true);
    assert_eq!(file["size"], big.len());
    let content = file["content"].as_str().unwrap();
    assert!(content.len() <= 64 * 1024 && content.ends_with('\n'));
    assert!(big.starts_with(content));
    assert!(
        file["notice"]
            .as_str()
            .unwrap()
            .starts_with("truncated: showing the first")
    );
}

#[tokio::test]
async fn browses_directories() {
    let env = start().await;
    let root = env
        .ok(
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            json!({"workspace": "acme", "repo_slug": "widgets"}),
        )
        .await;
    let listing = root.structured.unwrap();
    assert_eq!(listing["commit"], "main");
    let entries: Vec<(String, String)> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("README.md", "file"),
        ("docs", "directory"),
        ("src", "directory"),
    ] {
        assert!(
            entries.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{entries:?}"
        );
    }
    assert!(root.text.contains("- README.md ("), "{}", root.text);

    let paged = env
        .ok(
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "/", "pagelen": 1}),
        )
        .await;
    let page = paged.structured.unwrap();
    assert_eq!(
        (page["has_more"].clone(), page["next_page"].clone()),
        (json!(true), json!(2))
    );

    let src = env
        .ok(
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "src", "commit": "develop"}),
        )
        .await;
    let paths: Vec<&str> = src.structured.as_ref().unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["src/lib.rs", "src/main.rs"]);

    let file = env
        .err(
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "README.md"}),
        )
        .await;
    assert!(
        file.contains("is a file") && file.contains("BITBUCKET_GET_FILE_FROM_REPOSITORY"),
        "{file}"
    );
}

#[tokio::test]
async fn lists_commits_of_the_main_branch_by_default() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_LIST_COMMITS",
            json!({"workspace": "acme", "repo_slug": "widgets"}),
        )
        .await;
    let commits = outcome.structured.unwrap();
    assert_eq!(commits["branch"], "main");
    let messages: Vec<&str> = commits["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["Add the widgets guide", "Initial commit"]);
    assert_eq!(commits["items"][0]["author"], "Bob Builder");
    let main = env
        .client
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .unwrap();
    assert_eq!(commits["items"][0]["hash"], main.target.unwrap().hash);

    let develop = env
        .ok(
            "BITBUCKET_LIST_COMMITS",
            json!({"workspace": "acme", "repo_slug": "widgets", "branch": "develop", "pagelen": 1}),
        )
        .await;
    let page = develop.structured.unwrap();
    assert_eq!(page["items"][0]["message"], "Add shared widget types");
    assert_eq!(
        (page["has_more"].clone(), page["next_page"].clone()),
        (json!(true), json!(2))
    );
    assert!(
        develop
            .text
            .ends_with("More results: call again with page=2")
    );

    let last = env
        .ok(
            "BITBUCKET_LIST_COMMITS",
            json!({"workspace": "acme", "repo_slug": "widgets", "branch": "develop", "pagelen": 1, "page": 3}),
        )
        .await;
    let page = last.structured.unwrap();
    assert_eq!(page["items"][0]["message"], "Initial commit");
    assert_eq!(page["has_more"], false);
}
