//! Reviewing and merging pull requests; merges checked against what `git` itself makes of the
//! same history.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Running, error_message, start};

const REPO: &str = "/repositories/acme/widgets";
const ALICE: &str = "alice-token";
const BOB: &str = "bob-token";

fn bare(sb: &Running) -> PathBuf {
    sb.dir.path().join("repos/acme/widgets.git")
}

fn git_in(sb: &Running, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Git", "-c", "user.email=git@example.com"])
        .args(["-c", "core.abbrev=7", "-c", "diff.renames=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", sb.dir.path())
        .env("XDG_CONFIG_HOME", sb.dir.path())
        .output()
        .expect("git runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    )
}

fn git(sb: &Running, args: &[&str]) -> String {
    let (ok, out) = git_in(sb, &bare(sb), args);
    assert!(ok, "git {args:?} failed");
    out
}

async fn commit(sb: &Running, form: &[(&str, &str)]) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = sb
        .demo(Method::POST, &format!("{REPO}/src"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201, "{form:?}");
}

async fn open_pr(sb: &Running, source: &str) -> i64 {
    let (status, body) = sb
        .send_json(
            Method::POST,
            &format!("{REPO}/pullrequests"),
            json!({"title": format!("Merge {source}"), "source": {"branch": {"name": source}}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

async fn call(
    sb: &Running,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let request = match token {
        Some(t) => sb.as_user(method, path, t),
        None => sb.demo(method, path),
    };
    let response = request.json(&body).send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn reviews_are_recorded_and_your_own_is_refused() {
    let sb = start().await;
    let pr = format!("{REPO}/pullrequests/1");
    // The seeded PR #1 is alice's.
    let (status, body) = call(
        &sb,
        Method::POST,
        &format!("{pr}/approve"),
        Some(ALICE),
        json!({}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("your own pull request"));

    let (status, approval) =
        call(&sb, Method::POST, &format!("{pr}/approve"), None, json!({})).await;
    assert_eq!(status, 200, "{approval}");
    assert_eq!(approval["type"], "participant");
    assert_eq!(approval["approved"], true);
    assert_eq!(approval["state"], "approved");
    assert_eq!(approval["user"]["nickname"], "demo");

    let (status, change) = call(
        &sb,
        Method::POST,
        &format!("{pr}/request-changes"),
        Some(BOB),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{change}");
    assert_eq!(change["state"], "changes_requested");
    assert_eq!(change["approved"], false);

    let got = sb.get_json(&pr).await;
    let states: Vec<(String, Value, Value)> = got["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| {
            (
                p["user"]["nickname"].as_str().unwrap_or("").to_owned(),
                p["approved"].clone(),
                p["state"].clone(),
            )
        })
        .collect();
    assert!(
        states.contains(&("demo".into(), json!(true), json!("approved"))),
        "{states:?}"
    );
    assert!(
        states.contains(&("bob".into(), json!(false), json!("changes_requested"))),
        "{states:?}"
    );

    let response = sb
        .demo(Method::DELETE, &format!("{pr}/approve"))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    let got = sb.get_json(&pr).await;
    let demo = got["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["user"]["nickname"] == "demo")
        .expect("demo stays a participant");
    assert_eq!(demo["approved"], false);
}

#[tokio::test]
async fn a_pull_requests_diff_commits_and_diffstat_match_git() {
    let sb = start().await;
    let pr = format!("{REPO}/pullrequests/1");
    let base = git(&sb, &["merge-base", "main", "feature/login"]);
    let response = sb
        .demo(Method::GET, &format!("{pr}/diff"))
        .send()
        .await
        .expect("diff");
    assert_eq!(response.status(), 200);
    let diff = response.text().await.expect("text");
    assert_eq!(diff.trim(), git(&sb, &["diff", &base, "feature/login"]));
    assert!(!diff.is_empty());

    let commits = sb.get_json(&format!("{pr}/commits")).await;
    let ours: Vec<&str> = commits["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|c| c["hash"].as_str().expect("hash"))
        .collect();
    let theirs = git(&sb, &["log", "--format=%H", "main..feature/login"]);
    assert_eq!(ours, theirs.lines().collect::<Vec<_>>());

    let stat = sb.get_json(&format!("{pr}/diffstat")).await;
    let paths: Vec<&str> = stat["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| {
            v["new"]["path"]
                .as_str()
                .or(v["old"]["path"].as_str())
                .expect("path")
        })
        .collect();
    let theirs = git(&sb, &["diff", "--name-only", &base, "feature/login"]);
    assert_eq!(paths, theirs.lines().collect::<Vec<_>>());
}

/// How the history of a merge case is made: what `topic` and (afterwards) `main` change.
struct Case {
    name: &'static str,
    topic: &'static [(&'static str, &'static str)],
    main: &'static [(&'static str, &'static str)],
    strategy: &'static str,
    /// The `git merge` arguments that do the same.
    git_merge: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "clean merge commit",
        topic: &[("topic.txt", "from topic\n")],
        main: &[("main.txt", "from main\n")],
        strategy: "merge_commit",
        git_merge: &["merge", "--no-ff", "-m", "m", "topic"],
    },
    Case {
        name: "clean squash",
        topic: &[("topic.txt", "from topic\n")],
        main: &[("main.txt", "from main\n")],
        strategy: "squash",
        git_merge: &["merge", "--squash", "topic"],
    },
    Case {
        name: "fast-forward possible",
        topic: &[("topic.txt", "from topic\n")],
        main: &[],
        strategy: "fast_forward",
        git_merge: &["merge", "--ff-only", "topic"],
    },
    Case {
        name: "fast-forward impossible",
        topic: &[("topic.txt", "from topic\n")],
        main: &[("main.txt", "from main\n")],
        strategy: "fast_forward",
        git_merge: &["merge", "--ff-only", "topic"],
    },
    Case {
        name: "conflict",
        topic: &[("README.md", "topic's README\n")],
        main: &[("README.md", "main's README\n")],
        strategy: "merge_commit",
        git_merge: &["merge", "--no-ff", "-m", "m", "topic"],
    },
    Case {
        name: "conflict squashed",
        topic: &[("README.md", "topic's README\n")],
        main: &[("README.md", "main's README\n")],
        strategy: "squash",
        git_merge: &["merge", "--squash", "topic"],
    },
];

#[tokio::test]
async fn merge_strategies_agree_with_git() {
    let mut merged = Vec::new();
    for case in CASES {
        let sb = start().await;
        let mut form = case.topic.to_vec();
        form.push(("branch", "topic"));
        commit(&sb, &form).await;
        if !case.main.is_empty() {
            commit(&sb, case.main).await;
        }
        let id = open_pr(&sb, "topic").await;
        let main_before = git(&sb, &["rev-parse", "main"]);
        let topic = git(&sb, &["rev-parse", "topic"]);

        // What git makes of it, in a clone.
        let work = tempfile::tempdir().expect("work dir");
        let (ok, _) = git_in(
            &sb,
            work.path(),
            &["clone", "-q", bare(&sb).to_str().expect("utf-8"), "."],
        );
        assert!(ok, "clone");
        git_in(&sb, work.path(), &["fetch", "-q", "origin", "topic:topic"]);
        let (git_ok, _) = git_in(&sb, work.path(), case.git_merge);
        if git_ok && case.strategy == "squash" {
            let (ok, _) = git_in(&sb, work.path(), &["commit", "-q", "-m", "squash"]);
            assert!(ok, "{}: squash commit", case.name);
        }
        let (_, git_head) = git_in(&sb, work.path(), &["rev-parse", "HEAD"]);
        let (_, git_tree) = git_in(&sb, work.path(), &["rev-parse", "HEAD^{tree}"]);

        let (status, body) = call(
            &sb,
            Method::POST,
            &format!("{REPO}/pullrequests/{id}/merge"),
            None,
            json!({"merge_strategy": case.strategy, "message": "Merge it"}),
        )
        .await;
        let main_after = git(&sb, &["rev-parse", "main"]);
        if !git_ok {
            assert_eq!(
                status, 400,
                "{}: git refused, so must we: {body}",
                case.name
            );
            error_message(&body);
            assert_eq!(main_after, main_before, "{}: main moved", case.name);
            let pr = sb.get_json(&format!("{REPO}/pullrequests/{id}")).await;
            assert_eq!(pr["state"], "OPEN", "{}", case.name);
            continue;
        }
        assert_eq!(status, 200, "{}: {body}", case.name);
        assert_eq!(body["state"], "MERGED", "{}", case.name);
        // The commit the merge made (main's new head) and who merged it, as Bitbucket shows them.
        assert_eq!(
            body["merge_commit"]["hash"],
            main_after.as_str(),
            "{}",
            case.name
        );
        assert_eq!(body["closed_by"]["nickname"], "demo", "{}", case.name);
        merged.push(case.name);
        assert_eq!(
            git(&sb, &["rev-parse", "main^{tree}"]),
            git_tree,
            "{}: merged tree differs from git's",
            case.name
        );
        let parents = git(&sb, &["log", "-1", "--format=%P", "main"]);
        match case.strategy {
            "fast_forward" => assert_eq!(main_after, git_head, "{}", case.name),
            "squash" => assert_eq!(parents, main_before, "{}", case.name),
            _ => assert_eq!(parents, format!("{main_before} {topic}"), "{}", case.name),
        }
        if case.strategy != "fast_forward" {
            assert_eq!(
                git(&sb, &["log", "-1", "--format=%s|%ae", "main"]),
                "Merge it|demo@example.com"
            );
        }
        git(&sb, &["fsck", "--strict"]);
        // A merged pull request is closed for good.
        for action in ["merge", "decline", "approve"] {
            let (status, body) = call(
                &sb,
                Method::POST,
                &format!("{REPO}/pullrequests/{id}/{action}"),
                Some(BOB),
                json!({}),
            )
            .await;
            assert_eq!(status, 400, "{}: {action} after merge: {body}", case.name);
        }
    }
    // git merged exactly the clean cases; the others were refused by both.
    assert_eq!(
        merged,
        [
            "clean merge commit",
            "clean squash",
            "fast-forward possible"
        ]
    );
}

#[tokio::test]
async fn a_declined_pull_request_cannot_be_merged_and_keeps_its_branches() {
    let sb = start().await;
    let main = git(&sb, &["rev-parse", "main"]);
    let (status, body) = call(
        &sb,
        Method::POST,
        &format!("{REPO}/pullrequests/1/decline"),
        None,
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "DECLINED");
    assert_eq!(body["closed_by"]["nickname"], "demo");
    assert!(body.get("merge_commit").is_none(), "{body}");
    let (status, body) = call(
        &sb,
        Method::POST,
        &format!("{REPO}/pullrequests/1/merge"),
        None,
        json!({}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("declined"), "{body}");
    assert_eq!(git(&sb, &["rev-parse", "main"]), main);
    git(&sb, &["rev-parse", "feature/login"]);
    let (status, body) = call(
        &sb,
        Method::POST,
        &format!("{REPO}/pullrequests/1/merge"),
        None,
        json!({"merge_strategy": "rebase"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn close_source_branch_deletes_it_on_merge() {
    let sb = start().await;
    commit(&sb, &[("x.txt", "x\n"), ("branch", "short-lived")]).await;
    let id = open_pr(&sb, "short-lived").await;
    let (status, body) = call(
        &sb,
        Method::POST,
        &format!("{REPO}/pullrequests/{id}/merge"),
        None,
        json!({"merge_strategy": "squash", "close_source_branch": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (ok, _) = git_in(
        &sb,
        &bare(&sb),
        &["rev-parse", "--verify", "-q", "refs/heads/short-lived"],
    );
    assert!(!ok, "the source branch is gone");
    assert_eq!(git(&sb, &["show", "main:x.txt"]), "x");
}
