//! `diff`, `patch`, `diffstat`, `merge-base` and `filehistory` against the `git` CLI on the
//! same repository.

use reqwest::Method;
use serde_json::Value;

use crate::support::{Running, error_message, start};

const REPO: &str = "/repositories/acme/widgets";

fn git(sb: &Running, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(sb.dir.path().join("repos/acme/widgets.git"))
        .args(["-c", "core.abbrev=7", "-c", "diff.renames=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", sb.dir.path())
        .env("XDG_CONFIG_HOME", sb.dir.path())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

async fn commit(sb: &Running, form: &[(&str, &str)]) -> String {
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
    assert_eq!(response.status(), 201);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location");
    location.rsplit('/').next().expect("hash").to_owned()
}

async fn get_text(sb: &Running, path: &str) -> (u16, String, String) {
    let response = sb.demo(Method::GET, path).send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, content_type, response.text().await.expect("body"))
}

/// A history with two hunks far apart, an added, a removed and a binary file, a file
/// without a final newline and a whitespace-only change, on a branch off main, and one
/// more commit on main afterwards.
struct History {
    base: String,
    tip: String,
}

async fn history(sb: &Running) -> History {
    let long: String = (1..=40)
        .map(|n| {
            if n == 15 {
                "fn section_two() {\n".to_owned()
            } else {
                format!("    line {n}\n")
            }
        })
        .collect();
    let base = commit(
        sb,
        &[
            ("notes/long.txt", &long),
            ("tail.txt", "one\ntwo"),
            ("ws.txt", "a b\nkeep\nc d\n"),
            ("message", "Base"),
        ],
    )
    .await;
    let changed = long
        .replace("    line 3\n", "    line three\n")
        .replace("    line 30\n", "    line thirty\n    line thirty-one\n");
    let tip = commit(
        sb,
        &[
            ("notes/long.txt", &changed),
            ("tail.txt", "one\ntwo!"),
            ("ws.txt", "a  b\nkeep\nc e\n"),
            ("new.md", "# New\n"),
            ("blob.bin", "a\u{0}b"),
            ("files", "Cargo.toml"),
            ("branch", "review"),
            ("message", "Review me\n\nWith a body."),
        ],
    )
    .await;
    commit(
        sb,
        &[("README.md", "Moved on\n"), ("message", "Main moves")],
    )
    .await;
    History { base, tip }
}

#[tokio::test]
async fn diffs_match_git_diff() {
    let sb = start().await;
    let h = history(&sb).await;
    let (b, t) = (h.base.as_str(), h.tip.as_str());
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("{t}..{b}?topic=false"), vec!["diff", b, t]),
        (t.to_owned(), vec!["diff", b, t]),
        // With `topic` (the default) `review..main` compares with the merge base, `b`;
        // without, with main's tip, as `git diff main review` does.
        ("review..main".to_owned(), vec!["diff", b, "review"]),
        (
            "review..main?topic=false".to_owned(),
            vec!["diff", "main", "review"],
        ),
        (format!("{t}..{b}?context=1"), vec!["diff", "-U1", b, t]),
        (format!("{t}..{b}?context=0"), vec!["diff", "-U0", b, t]),
        (format!("{t}..{b}?context=20"), vec!["diff", "-U20", b, t]),
        (
            format!("{t}..{b}?path=notes/long.txt"),
            vec!["diff", b, t, "--", "notes/long.txt"],
        ),
        (
            format!("{t}..{b}?path=notes"),
            vec!["diff", b, t, "--", "notes"],
        ),
        (
            format!("{t}..{b}?ignore_whitespace=true&path=ws.txt"),
            vec!["diff", "-w", b, t, "--", "ws.txt"],
        ),
    ];
    for (spec, args) in &cases {
        let (status, content_type, body) = get_text(&sb, &format!("{REPO}/diff/{spec}")).await;
        assert_eq!(status, 200, "{spec}: {body}");
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert_eq!(
            body,
            git(&sb, args),
            "diff/{spec} differs from git {args:?}"
        );
    }
    // The patch is the commit's header and the same diff.
    let (status, _, patch) = get_text(&sb, &format!("{REPO}/patch/{t}")).await;
    assert_eq!(status, 200);
    assert!(patch.starts_with(&format!("From {t} ")), "{patch}");
    assert!(patch.contains("Subject: [PATCH] Review me\n"), "{patch}");
    assert!(patch.ends_with(&git(&sb, &["diff", b, t])), "{patch}");
}

#[tokio::test]
async fn diffstat_matches_git_numstat() {
    let sb = start().await;
    let h = history(&sb).await;
    let stat = sb
        .get_json(&format!("{REPO}/diffstat/{}..{}", h.tip, h.base))
        .await;
    let ours: Vec<String> = stat["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| {
            let path = v["new"]["path"]
                .as_str()
                .or(v["old"]["path"].as_str())
                .expect("a path");
            let binary = path.ends_with(".bin");
            let (a, r) = if binary {
                ("-".to_owned(), "-".to_owned())
            } else {
                (v["lines_added"].to_string(), v["lines_removed"].to_string())
            };
            format!(
                "{a}\t{r}\t{path}\t{}",
                v["status"].as_str().expect("status")
            )
        })
        .collect();
    let name_status: Vec<String> = git(&sb, &["diff", "--name-status", &h.base, &h.tip])
        .lines()
        .map(|l| {
            let (s, _) = l.split_once('\t').expect("tab");
            match s {
                "A" => "added",
                "D" => "removed",
                _ => "modified",
            }
            .to_owned()
        })
        .collect();
    let theirs: Vec<String> = git(&sb, &["diff", "--numstat", &h.base, &h.tip])
        .lines()
        .zip(&name_status)
        .map(|(l, s)| format!("{l}\t{s}"))
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(stat["values"][0]["type"], "diffstat");
}

#[tokio::test]
async fn merge_base_and_file_history_match_git() {
    let sb = start().await;
    let h = history(&sb).await;
    let base = sb
        .get_json(&format!("{REPO}/merge-base/review..main"))
        .await;
    assert_eq!(
        base["hash"].as_str().expect("hash"),
        git(&sb, &["merge-base", "review", "main"]).trim()
    );
    assert_eq!(base["hash"], h.base.as_str());
    for (rev, path) in [
        ("main", "README.md"),
        ("review", "notes/long.txt"),
        ("review", "src/main.rs"),
    ] {
        let page = sb
            .get_json(&format!("{REPO}/filehistory/{rev}/{path}"))
            .await;
        let ours: Vec<&str> = page["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| v["commit"]["hash"].as_str().expect("hash"))
            .collect();
        let theirs = git(&sb, &["log", "--format=%H", rev, "--", path]);
        let theirs: Vec<&str> = theirs.lines().collect();
        assert_eq!(ours, theirs, "filehistory/{rev}/{path}");
        assert_eq!(page["values"][0]["path"], path);
    }
}

#[tokio::test]
async fn bad_specs_are_refused() {
    let sb = start().await;
    for (path, status, message) in [
        (format!("{REPO}/diff/..main"), 400, "Invalid spec"),
        (format!("{REPO}/diff/main..."), 400, "Invalid spec"),
        (
            format!("{REPO}/diffstat/main..nope"),
            404,
            "Commit not found",
        ),
        (format!("{REPO}/diff/deadbeef"), 404, "Commit not found"),
        (
            format!("{REPO}/diff/main?context=-1"),
            400,
            "Invalid context",
        ),
        (
            format!("{REPO}/diff/main?topic=maybe"),
            400,
            "Invalid topic",
        ),
        (format!("{REPO}/merge-base/main"), 400, "Invalid revspec"),
        (
            format!("{REPO}/filehistory/main/nope.txt"),
            404,
            "No such file",
        ),
    ] {
        let (got, _, body) = get_text(&sb, &path).await;
        assert_eq!(got, status, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).expect("error envelope");
        let text = error_message(&body);
        assert!(text.contains(message), "{path}: `{text}` lacks `{message}`");
    }
}

/// The form Bitbucket redirects a pull request's diff to, `{ws}/{repo}:{a}%0D{b}`, which
/// `bitbucket-mcp` builds itself from the pull request's short hashes: the same diff as
/// `a..b`. Another repository in it is refused.
#[tokio::test]
async fn pull_request_diff_links_name_the_repository_and_split_on_a_carriage_return() {
    let sb = start().await;
    let pr = sb.get_json(&format!("{REPO}/pullrequests/1")).await;
    let src = pr["source"]["commit"]["hash"].as_str().expect("source");
    let dst = pr["destination"]["commit"]["hash"]
        .as_str()
        .expect("destination");
    assert_eq!(src.len(), 12, "the pull request shows short hashes");
    let (status, _, plain) = get_text(&sb, &format!("{REPO}/diff/{src}..{dst}?topic=true")).await;
    assert_eq!(status, 200, "{plain}");
    assert!(plain.contains("+++ b/src/login.rs"), "{plain}");
    let link = format!("{REPO}/diff/acme/widgets:{src}%0D{dst}?from_pullrequest_id=1&topic=true");
    let (status, _, linked) = get_text(&sb, &link).await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked, plain);
    let (status, _, stat) =
        get_text(&sb, &format!("{REPO}/diffstat/acme/widgets:{src}%0D{dst}")).await;
    assert_eq!(status, 200, "{stat}");

    let (status, _, body) = get_text(&sb, &format!("{REPO}/diff/acme/website:{src}%0D{dst}")).await;
    assert_eq!(status, 404, "{body}");
    let body: Value = serde_json::from_str(&body).expect("error envelope");
    assert!(
        error_message(&body).contains("across repositories"),
        "{body}"
    );
}
