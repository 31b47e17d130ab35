//! Writes change real state: git refs at the right commits, files at any revision, issues
//! and pull requests as stored.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::start;

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn a_branch_is_a_real_ref_at_the_target_commit() {
    let sb = start().await;
    let repo_dir = sb.dir.path().join("repos/acme/widgets.git");
    let develop = git(&repo_dir, &["rev-parse", "refs/heads/develop"]);
    for (name, target) in [
        ("from-full", develop.clone()),
        ("from-short", develop[..7].to_owned()),
        ("from-name", "develop".to_owned()),
    ] {
        let (status, body) = sb
            .send_json(
                Method::POST,
                "/repositories/acme/widgets/refs/branches",
                json!({"name": name, "target": {"hash": target}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["target"]["hash"], develop.as_str());
        assert_eq!(
            git(&repo_dir, &["rev-parse", &format!("refs/heads/{name}")]),
            develop
        );
    }
    git(&repo_dir, &["fsck", "--strict"]);
}

#[tokio::test]
async fn src_serves_bytes_at_branches_tags_and_commits() {
    let sb = start().await;
    let repo_dir = sb.dir.path().join("repos/acme/widgets.git");
    let first = git(&repo_dir, &["rev-list", "--max-parents=0", "main"]);
    let readme = git(&repo_dir, &["show", "main:README.md"]);
    let body = sb
        .demo(Method::GET, "/repositories/acme/widgets/src/main/README.md")
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert_eq!(body.trim(), readme);
    // The guide came in the second commit, so it is absent at the first.
    let missing = sb
        .demo(
            Method::GET,
            &format!("/repositories/acme/widgets/src/{first}/docs/guide.md"),
        )
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);
    let (status, _) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/refs/tags",
            json!({"name": "v1", "target": {"hash": first}}),
        )
        .await;
    assert_eq!(status, 201);
    let listing = sb.get_json("/repositories/acme/widgets/src/v1/").await;
    let paths: Vec<&str> = listing["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|v| v["path"].as_str())
        .collect();
    assert_eq!(paths, ["Cargo.toml", "README.md", "src"]);
    // A slash in the branch name, unencoded, still resolves.
    let login = sb
        .demo(
            Method::GET,
            "/repositories/acme/widgets/src/feature/login/src/login.rs",
        )
        .send()
        .await
        .expect("get");
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn listings_page_with_working_next_links() {
    let sb = start().await;
    for n in 0..12 {
        let (status, _) = sb
            .send_json(
                Method::POST,
                "/repositories/acme/widgets/refs/branches",
                json!({"name": format!("page-{n:02}"), "target": {"hash": "main"}}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let mut names = Vec::new();
    let mut url = sb.url(
        "/repositories/acme/widgets/refs/branches?pagelen=4&q=name%20~%20%22page-%22&sort=-name",
    );
    let mut pages = 0;
    loop {
        let page: serde_json::Value = sb
            .http
            .get(&url)
            .basic_auth("demo@example.com", Some("sandbox-token"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        pages += 1;
        assert_eq!(page["size"], 12);
        for v in page["values"].as_array().expect("values") {
            names.push(v["name"].as_str().expect("name").to_owned());
        }
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..12).rev().map(|n| format!("page-{n:02}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn pull_requests_filter_by_repeated_state() {
    let sb = start().await;
    let (status, pr) = sb.send_json(Method::POST, "/repositories/acme/widgets/pullrequests", json!({"title": "Develop", "source": {"branch": {"name": "develop"}}, "destination": {"branch": {"name": "main"}}})).await;
    assert_eq!(status, 201, "{pr}");
    assert_eq!(pr["id"], 2);
    assert_eq!(pr["destination"]["branch"]["name"], "main");
    let open = sb.get_json("/repositories/acme/widgets/pullrequests").await;
    assert_eq!(open["size"], 2);
    let merged = sb
        .get_json("/repositories/acme/widgets/pullrequests?state=MERGED")
        .await;
    assert_eq!(merged["size"], 0);
    let both = sb
        .get_json("/repositories/acme/widgets/pullrequests?state=MERGED&state=OPEN&pagelen=1")
        .await;
    assert_eq!(both["size"], 2);
    let next = both["next"].as_str().expect("next link");
    assert!(
        next.contains("state=MERGED") && next.contains("state=OPEN"),
        "{next}"
    );
}

#[tokio::test]
async fn deleting_a_repository_removes_its_git_folder() {
    let sb = start().await;
    let (status, _) = sb
        .send_json(Method::POST, "/repositories/acme/doomed", json!({}))
        .await;
    assert_eq!(status, 200);
    let folder = sb.dir.path().join("repos/acme/doomed.git");
    assert!(folder.exists());
    let response = sb
        .demo(Method::DELETE, "/repositories/acme/doomed")
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    assert!(!folder.exists());
    let response = sb
        .demo(Method::GET, "/repositories/acme/doomed")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn issues_filter_and_sort_by_severity_and_date() {
    let sb = start().await;
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["values"]
            .as_array()
            .expect("values")
            .iter()
            .filter_map(|i| i["id"].as_i64())
            .collect()
    };
    let by_priority = sb
        .get_json("/repositories/acme/widgets/issues?sort=-priority")
        .await;
    assert_eq!(ids(&by_priority), [1, 2, 3], "critical, major, trivial");
    let severe = sb
        .get_json("/repositories/acme/widgets/issues?q=priority%20%3E%3D%20%22major%22")
        .await;
    assert_eq!(ids(&severe), [1, 2]);
    let newest = sb
        .get_json("/repositories/acme/widgets/issues?sort=-created_on&pagelen=1")
        .await;
    assert_eq!(ids(&newest), [3]);
    let feb = sb
        .get_json("/repositories/acme/widgets/issues?q=created_on%20%3E%202026-02-01%20AND%20(state%20%3D%20%22open%22%20OR%20state%20%3D%20%22new%22)")
        .await;
    assert_eq!(ids(&feb), [2]);
}

#[tokio::test]
async fn an_issue_is_unassigned_with_null() {
    let sb = start().await;
    let (status, issue) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/issues",
            json!({"title": "assigned", "assignee": {"username": "alice"}}),
        )
        .await;
    assert_eq!(status, 201, "{issue}");
    assert_eq!(issue["assignee"]["nickname"], "alice");
    let path = format!("/repositories/acme/widgets/issues/{}", issue["id"]);
    let (status, kept) = sb
        .send_json(Method::PUT, &path, json!({"title": "still assigned"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        kept["assignee"]["nickname"], "alice",
        "a missing field changes nothing"
    );
    let (status, cleared) = sb
        .send_json(Method::PUT, &path, json!({"assignee": null}))
        .await;
    assert_eq!(status, 200);
    assert!(cleared.get("assignee").is_none(), "{cleared}");
    assert!(sb.get_json(&path).await.get("assignee").is_none());
}

/// Deleting a branch or tag removes the git ref and nothing else; deleting one that is not
/// there, or the main branch, is refused.
#[tokio::test]
async fn branches_and_tags_are_deleted_from_git() {
    let sb = start().await;
    let refs = |sb: &crate::support::Running| {
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(sb.dir.path().join("repos/acme/widgets.git"))
            .args(["for-each-ref", "--format=%(refname)"])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", sb.dir.path())
            .output()
            .expect("git");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let (status, _) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/refs/tags",
            json!({"name": "v9", "target": {"hash": "main"}}),
        )
        .await;
    assert_eq!(status, 201);
    let before = refs(&sb);
    assert!(before.contains("refs/tags/v9\n") && before.contains("refs/heads/develop\n"));
    for path in ["refs/tags/v9", "refs/branches/develop"] {
        let response = sb
            .demo(
                Method::DELETE,
                &format!("/repositories/acme/widgets/{path}"),
            )
            .send()
            .await
            .expect("delete");
        assert_eq!(response.status(), 204, "{path}");
    }
    let after = refs(&sb);
    let expected: String = before
        .lines()
        .filter(|r| *r != "refs/tags/v9" && *r != "refs/heads/develop")
        .map(|r| format!("{r}\n"))
        .collect();
    assert_eq!(after, expected);
    for (path, status) in [
        ("refs/tags/v9", 404),
        ("refs/branches/develop", 404),
        ("refs/branches/main", 400),
    ] {
        let (got, body) = sb
            .send_json(
                Method::DELETE,
                &format!("/repositories/acme/widgets/{path}"),
                json!({}),
            )
            .await;
        assert_eq!(got, status, "{path}: {body}");
        crate::support::error_message(&body);
    }
    assert_eq!(refs(&sb), expected, "refused deletes change nothing");
}

/// On a public repository anyone signed in may report issues and comment (Eve belongs to no
/// workspace); on a private one only members may; writing to the code needs membership.
#[tokio::test]
async fn outsiders_report_and_comment_on_public_repositories_only() {
    let sb = start().await;
    let (status, _) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/open",
            json!({"is_private": false, "has_issues": true}),
        )
        .await;
    assert_eq!(status, 200);
    let issue = json!({"title": "From outside", "content": {"raw": "hello"}});
    let eve = |method, path: &str| sb.as_user(method, path, bitbucket_sandbox::EVE_TOKEN);
    let response = eve(Method::POST, "/repositories/acme/open/issues")
        .json(&issue)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["reporter"]["nickname"], "eve");
    let comment = eve(Method::POST, "/repositories/acme/open/issues/1/comments")
        .json(&json!({"content": {"raw": "me too"}}))
        .send()
        .await
        .expect("request");
    assert_eq!(comment.status(), 201);
    for path in [
        "/repositories/acme/widgets/issues",
        "/repositories/acme/widgets/issues/1/comments",
    ] {
        let refused = eve(Method::POST, path)
            .json(&json!({"title": "x", "content": {"raw": "x"}}))
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status(), 403, "{path}: a private tracker");
    }
    let anonymous = sb
        .http
        .post(sb.url("/repositories/acme/open/issues"))
        .json(&issue)
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401, "reporting needs a signed-in user");
    let branch = eve(Method::POST, "/repositories/acme/open/refs/branches")
        .json(&json!({"name": "eve", "target": {"hash": "main"}}))
        .send()
        .await
        .expect("request");
    assert_eq!(branch.status(), 403, "writing code needs membership");
}

/// Each member's effective permission on a repository, for its administrators only.
#[tokio::test]
async fn repository_permissions_are_for_administrators() {
    let sb = start().await;
    let body = sb
        .get_json("/workspaces/acme/permissions/repositories/widgets")
        .await;
    let mut permissions: Vec<(String, String)> = body["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|p| {
            (
                p["user"]["nickname"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                p["permission"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    permissions.sort();
    let expected = [("alice", "write"), ("bob", "write"), ("demo", "admin")];
    assert_eq!(
        permissions,
        expected.map(|(u, p)| (u.to_owned(), p.to_owned()))
    );
    let filtered = sb
        .get_json("/workspaces/acme/permissions/repositories/widgets?q=permission%3D%22admin%22")
        .await;
    assert_eq!(filtered["size"], 1);
    let alice = sb
        .as_user(
            Method::GET,
            "/workspaces/acme/permissions/repositories/widgets",
            bitbucket_sandbox::ALICE_TOKEN,
        )
        .send()
        .await
        .expect("request");
    assert_eq!(alice.status(), 403, "members who do not administer");
}
