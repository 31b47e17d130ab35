//! Comments on commits: the same rules as pull request comments, with inline anchors checked
//! against the commit's diff with its first parent.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Running, error_message, start};

/// Writes `docs/notes.md` (three lines) on a new branch; returns the commit's hash.
async fn commit_notes(sb: &Running) -> String {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("message", "Add notes"),
            ("branch", "feature/notes"),
            ("docs/notes.md", "one\ntwo\nthree\n"),
        ])
        .finish();
    let response = sb
        .demo(Method::POST, "/repositories/acme/widgets/src")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let branch = sb
        .get_json("/repositories/acme/widgets/refs/branches/feature%2Fnotes")
        .await;
    branch["target"]["hash"]
        .as_str()
        .expect("head hash")
        .to_owned()
}

async fn as_bob(sb: &Running, method: Method, path: &str, body: Value) -> (u16, Value) {
    let response = sb
        .as_user(method, path, "bob-token")
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn commit_comments_anchor_in_the_commits_own_diff() {
    let sb = start().await;
    let hash = commit_notes(&sb).await;
    let comments = format!("/repositories/acme/widgets/commit/{hash}/comments");

    let (status, top) = sb
        .send_json(
            Method::POST,
            &comments,
            json!({"content": {"raw": "Why *notes*?"}}),
        )
        .await;
    assert_eq!(status, 201, "{top}");
    assert_eq!(top["type"], "commit_comment");
    assert_eq!(top["commit"]["hash"], hash.as_str());
    assert!(
        top["content"]["html"]
            .as_str()
            .is_some_and(|h| h.contains("<em>notes</em>")),
        "{top}"
    );
    let (status, inline) = sb
        .send_json(
            Method::POST,
            &comments,
            json!({"content": {"raw": "typo"}, "inline": {"path": "docs/notes.md", "to": 2}}),
        )
        .await;
    assert_eq!(status, 201, "{inline}");
    assert_eq!(inline["inline"], json!({"path": "docs/notes.md", "to": 2}));

    for (what, body, message) in [
        (
            "a line past the end",
            json!({"content": {"raw": "x"}, "inline": {"path": "docs/notes.md", "to": 4}}),
            "outside the diff",
        ),
        (
            "an old line of an added file",
            json!({"content": {"raw": "x"}, "inline": {"path": "docs/notes.md", "from": 1}}),
            "outside the diff",
        ),
        (
            "a file the commit does not touch",
            json!({"content": {"raw": "x"}, "inline": {"path": "README.md", "to": 1}}),
            "not part of the diff of commit",
        ),
        ("no content", json!({"content": {"raw": ""}}), "content.raw"),
        (
            "a parent on another thread",
            json!({"content": {"raw": "x"}, "parent": {"id": 999}}),
            "Parent comment",
        ),
    ] {
        let (status, body) = sb.send_json(Method::POST, &comments, body).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(error_message(&body).contains(message), "{what}: {body}");
    }

    let (status, reply) = as_bob(
        &sb,
        Method::POST,
        &comments,
        json!({"content": {"raw": "For the docs"}, "parent": {"id": top["id"]}}),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["parent"]["id"], top["id"]);
    let listed = sb.get_json(&comments).await;
    assert_eq!(
        listed["size"], 3,
        "refused comments are not stored: {listed}"
    );

    // Another commit's thread is separate, and the pull request's too.
    let main = sb.get_json("/repositories/acme/widgets/commit/main").await;
    let other = sb
        .get_json(&format!(
            "/repositories/acme/widgets/commit/{}/comments",
            main["hash"].as_str().expect("hash")
        ))
        .await;
    assert_eq!(other["size"], 0);
    let on_pr = sb
        .get_json("/repositories/acme/widgets/pullrequests/1/comments")
        .await;
    assert_eq!(on_pr["size"], 0);
}

#[tokio::test]
async fn commit_comments_are_edited_and_deleted_by_their_author() {
    let sb = start().await;
    let hash = commit_notes(&sb).await;
    let comments = format!("/repositories/acme/widgets/commit/{hash}/comments");
    let (_, c) = sb
        .send_json(
            Method::POST,
            &comments,
            json!({"content": {"raw": "first"}}),
        )
        .await;
    let one = format!("{comments}/{}", c["id"]);
    let (status, body) = as_bob(&sb, Method::PUT, &one, json!({"content": {"raw": "mine"}})).await;
    assert_eq!(status, 403, "{body}");
    let (status, edited) = sb
        .send_json(Method::PUT, &one, json!({"content": {"raw": "second"}}))
        .await;
    assert_eq!(status, 201, "the spec's status for an edit: {edited}");
    assert_eq!(sb.get_json(&one).await["content"]["raw"], "second");

    let (status, body) = as_bob(&sb, Method::DELETE, &one, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = sb.send_json(Method::DELETE, &one, json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(sb.get_json(&one).await["deleted"], true);

    for (path, status) in [
        (format!("{comments}/999"), 404),
        (
            "/repositories/acme/widgets/commit/0123456789abcdef0123456789abcdef01234567/comments"
                .to_owned(),
            404,
        ),
        (format!("{comments}/x"), 400),
    ] {
        let (got, body) = sb.send_json(Method::GET, &path, json!({})).await;
        assert_eq!(got, status, "{path}: {body}");
        error_message(&body);
    }
    // Commit comments cannot be resolved: there is no such route.
    let (status, _) = sb
        .send_json(Method::POST, &format!("{one}/resolve"), json!({}))
        .await;
    assert_eq!(status, 404);
}
