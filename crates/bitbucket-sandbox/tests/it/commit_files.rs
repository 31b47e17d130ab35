//! `POST /src`: writing files makes one real git commit, checked with the `git` CLI; bad
//! input changes nothing.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::Value;

use crate::support::{Running, error_message, start};

const SRC: &str = "/repositories/acme/widgets/src";

fn repo_dir(sb: &Running) -> PathBuf {
    sb.dir.path().join("repos/acme/widgets.git")
}

fn git(sb: &Running, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo_dir(sb))
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", sb.dir.path())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

async fn post_form(sb: &Running, form: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = sb
        .demo(Method::POST, SRC)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    answer(response).await
}

async fn answer(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, location, body)
}

/// A multipart body built by hand, so the test controls every header.
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> (String, String) {
    let boundary = "XyZ0123boundary";
    let mut body = String::new();
    for (name, filename, content) in parts {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""
        ));
        if let Some(f) = filename {
            body.push_str(&format!("; filename=\"{f}\""));
        }
        body.push_str(&format!("\r\n\r\n{content}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_urlencoded_write_on_a_new_branch_is_one_commit_off_main() {
    let sb = start().await;
    let main_before = git(&sb, &["rev-parse", "main"]);
    let (status, location, _) = post_form(
        &sb,
        &[
            ("/docs/new.md", "# New\n"),
            ("message", "Add the new page"),
            ("author", "Ada Lovelace <ada@example.com>"),
            ("branch", "feature/docs"),
        ],
    )
    .await;
    assert_eq!(status, 201);
    let head = git(&sb, &["rev-parse", "feature/docs"]);
    assert_eq!(
        location.as_deref(),
        Some(
            sb.url(&format!("/repositories/acme/widgets/commit/{head}"))
                .as_str()
        )
    );
    assert_eq!(git(&sb, &["rev-parse", "feature/docs^"]), main_before);
    assert_eq!(git(&sb, &["rev-parse", "main"]), main_before, "main stays");
    assert_eq!(git(&sb, &["show", "feature/docs:docs/new.md"]), "# New");
    assert_eq!(
        git(&sb, &["log", "-1", "--format=%an <%ae>|%s", "feature/docs"]),
        "Ada Lovelace <ada@example.com>|Add the new page"
    );
    assert_eq!(
        git(&sb, &["diff", "--name-status", "main", "feature/docs"]),
        "A\tdocs/new.md"
    );
    git(&sb, &["fsck", "--strict"]);
    // The API reads the same commit back.
    let commit = sb
        .get_json(&format!("/repositories/acme/widgets/commit/{head}"))
        .await;
    assert_eq!(commit["hash"], head.as_str());
}

#[tokio::test]
async fn a_multipart_write_edits_and_deletes_on_main_as_the_caller() {
    let sb = start().await;
    let before = git(&sb, &["rev-parse", "main"]);
    let (content_type, body) = multipart(&[
        ("README.md", Some("README.md"), "Rewritten\n"),
        ("files", None, "/Cargo.toml"),
        ("message", None, "Tidy up"),
        ("parents", None, &before),
    ]);
    let response = sb
        .demo(Method::POST, SRC)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let (status, _, _) = answer(response).await;
    assert_eq!(status, 201);
    assert_eq!(git(&sb, &["rev-parse", "main^"]), before);
    assert_eq!(
        git(&sb, &["diff", "--name-status", "main^", "main"]),
        "D\tCargo.toml\nM\tREADME.md"
    );
    assert_eq!(git(&sb, &["show", "main:README.md"]), "Rewritten");
    // Without `author`, the caller is the author.
    assert_eq!(
        git(&sb, &["log", "-1", "--format=%ae|%s", "main"]),
        "demo@example.com|Tidy up"
    );
}

/// What is wrong, the form, the status and a part of the message expected.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);

#[tokio::test]
async fn bad_writes_are_refused_and_change_nothing() {
    let sb = start().await;
    let main = git(&sb, &["rev-parse", "main"]);
    let old = git(&sb, &["rev-parse", "main^"]);
    let readme = git(&sb, &["show", "main:README.md"]) + "\n";
    let cases: Vec<Case<'_>> = vec![
        (
            "stale parent on an existing branch",
            vec![("README.md", "x\n"), ("parents", &old)],
            409,
            "moved",
        ),
        (
            "path traversal",
            vec![("../escape.txt", "x\n")],
            400,
            "invalid path",
        ),
        (
            "a .git path",
            vec![(".git/config", "x\n")],
            400,
            "invalid path",
        ),
        (
            "an empty commit (same content)",
            vec![("README.md", &readme)],
            400,
            "nothing to commit",
        ),
        (
            "no files at all",
            vec![("message", "hi")],
            400,
            "Nothing to commit",
        ),
        (
            "deleting a missing file",
            vec![("files", "nope.txt")],
            404,
            "not found",
        ),
        (
            "a malformed author",
            vec![("README.md", "x\n"), ("author", "no email here")],
            400,
            "Invalid author",
        ),
        (
            "a repeated branch",
            vec![("README.md", "x\n"), ("branch", "a"), ("branch", "b")],
            400,
            "cannot be repeated",
        ),
        (
            "an invalid branch name",
            vec![("README.md", "x\n"), ("branch", "bad..name")],
            400,
            "not a valid branch name",
        ),
    ];
    for (what, form, want_status, want_message) in cases {
        let (status, _, body) = post_form(&sb, &form).await;
        assert_eq!(status, want_status, "{what}: {body}");
        let message = error_message(&body);
        assert!(
            message.contains(want_message),
            "{what}: `{message}` lacks `{want_message}`"
        );
        assert_eq!(git(&sb, &["rev-parse", "main"]), main, "{what} moved main");
    }
    assert_eq!(
        git(
            &sb,
            &[
                "for-each-ref",
                "--format=%(refname)",
                "refs/heads/a",
                "refs/heads/bad..name"
            ]
        ),
        ""
    );
}

#[tokio::test]
async fn writing_needs_write_access() {
    let sb = start().await;
    let response = sb
        .http
        .post(sb.url("/repositories/acme/website/src"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("README.md=x")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_new_branch_without_files_copies_its_parent() {
    let sb = start().await;
    let develop = git(&sb, &["rev-parse", "develop"]);
    let (status, _, body) =
        post_form(&sb, &[("branch", "from-develop"), ("parents", &develop)]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(git(&sb, &["rev-parse", "from-develop^"]), develop);
    assert_eq!(git(&sb, &["diff", "develop", "from-develop"]), "");
}
