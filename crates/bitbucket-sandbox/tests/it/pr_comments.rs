//! Comments on pull requests: Markdown, inline anchors checked against the diff, replies,
//! edits, deletion and resolution.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Running, error_message, start};

const PR: &str = "/repositories/acme/widgets/pullrequests/1";

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
async fn comments_render_markdown_and_anchor_inside_the_diff() {
    let sb = start().await;
    let comments = format!("{PR}/comments");
    let (status, top) = sb
        .send_json(
            Method::POST,
            &comments,
            json!({"content": {"raw": "**Nice** work <script>x</script>"}}),
        )
        .await;
    assert_eq!(status, 201, "{top}");
    let html = top["content"]["html"].as_str().expect("html");
    assert!(html.contains("<strong>Nice</strong>"), "{html}");
    assert!(!html.contains("<script>"), "{html}");

    // PR #1 adds `src/login.rs`; its first line is in the diff.
    let (status, inline) = sb
        .send_json(
            Method::POST,
            &comments,
            json!({"content": {"raw": "nit: rename"}, "inline": {"path": "src/login.rs", "to": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{inline}");
    assert_eq!(inline["inline"], json!({"path": "src/login.rs", "to": 1}));

    for (what, body, message) in [
        (
            "a line past the end",
            json!({"content": {"raw": "x"}, "inline": {"path": "src/login.rs", "to": 999}}),
            "outside the diff",
        ),
        (
            "an old line of an added file",
            json!({"content": {"raw": "x"}, "inline": {"path": "src/login.rs", "from": 1}}),
            "outside the diff",
        ),
        (
            "a file the diff does not touch",
            json!({"content": {"raw": "x"}, "inline": {"path": "README.md", "to": 1}}),
            "not part of the diff",
        ),
        (
            "no line",
            json!({"content": {"raw": "x"}, "inline": {"path": "src/login.rs"}}),
            "from",
        ),
        (
            "no content",
            json!({"content": {"raw": " "}}),
            "content.raw",
        ),
        (
            "a missing parent",
            json!({"content": {"raw": "x"}, "parent": {"id": 999}}),
            "Parent comment",
        ),
    ] {
        let (status, body) = sb.send_json(Method::POST, &comments, body).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(error_message(&body).contains(message), "{what}: {body}");
    }
    let list = sb.get_json(&comments).await;
    assert_eq!(list["size"], 2, "refused comments are not stored");

    let (status, reply) = as_bob(
        &sb,
        Method::POST,
        &comments,
        json!({"content": {"raw": "Agreed"}, "parent": {"id": top["id"]}}),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["parent"]["id"], top["id"]);
    assert_eq!(sb.get_json(PR).await["comment_count"], 3);
}

#[tokio::test]
async fn comments_are_edited_by_their_author_resolved_and_deleted() {
    let sb = start().await;
    let comments = format!("{PR}/comments");
    let (_, c) = sb
        .send_json(
            Method::POST,
            &comments,
            json!({"content": {"raw": "first"}}),
        )
        .await;
    let one = format!("{comments}/{}", c["id"]);
    let (status, body) = as_bob(
        &sb,
        Method::PUT,
        &one,
        json!({"content": {"raw": "hijack"}}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, edited) = sb
        .send_json(Method::PUT, &one, json!({"content": {"raw": "second"}}))
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(sb.get_json(&one).await["content"]["raw"], "second");

    let (status, resolution) =
        as_bob(&sb, Method::POST, &format!("{one}/resolve"), json!({})).await;
    assert_eq!(status, 200, "{resolution}");
    assert_eq!(resolution["user"]["nickname"], "bob");
    assert_eq!(
        sb.get_json(&one).await["resolution"]["type"],
        "comment_resolution"
    );
    let (status, _) = sb
        .send_json(Method::POST, &format!("{one}/resolve"), json!({}))
        .await;
    assert_eq!(status, 409);
    let (status, _) = sb
        .send_json(Method::DELETE, &format!("{one}/resolve"), json!({}))
        .await;
    assert_eq!(status, 204);
    assert!(sb.get_json(&one).await["resolution"].is_null());

    let (status, _) = sb.send_json(Method::DELETE, &one, json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(sb.get_json(&one).await["deleted"], true);
    assert_eq!(sb.get_json(PR).await["comment_count"], 0);
    let (status, _) = sb
        .send_json(Method::PUT, &one, json!({"content": {"raw": "again"}}))
        .await;
    assert_eq!(status, 404, "a deleted comment stays deleted");
    // Ids are never reused.
    let (_, next) = sb
        .send_json(Method::POST, &comments, json!({"content": {"raw": "next"}}))
        .await;
    assert_eq!(next["id"].as_i64(), c["id"].as_i64().map(|i| i + 1));
}
