//! Tasks on pull requests: created (alone or under a comment), resolved and reopened by any
//! reader, edited and deleted by their creator, counted in the pull request's `task_count`;
//! bad input is refused and leaves nothing behind.

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

async fn task_count(sb: &Running) -> i64 {
    sb.get_json(PR).await["task_count"]
        .as_i64()
        .expect("task_count")
}

#[tokio::test]
async fn tasks_are_created_resolved_and_counted() {
    let sb = start().await;
    let tasks = format!("{PR}/tasks");
    assert_eq!(task_count(&sb).await, 0);

    let (status, plain) = sb
        .send_json(
            Method::POST,
            &tasks,
            json!({"content": {"raw": "Add **tests**"}}),
        )
        .await;
    assert_eq!(status, 201, "{plain}");
    assert_eq!(plain["state"], "UNRESOLVED");
    assert_eq!(plain["content"]["raw"], "Add **tests**");
    assert!(
        plain["content"]["html"]
            .as_str()
            .is_some_and(|h| h.contains("<strong>tests</strong>")),
        "{plain}"
    );
    assert_eq!(plain["creator"]["nickname"], "demo");
    assert_eq!(plain["pending"], false);
    assert!(plain.get("comment").is_none(), "{plain}");
    assert!(plain.get("resolved_on").is_none(), "{plain}");

    let (_, comment) = sb
        .send_json(
            Method::POST,
            &format!("{PR}/comments"),
            json!({"content": {"raw": "Please split this"}}),
        )
        .await;
    let (status, under) = as_bob(
        &sb,
        Method::POST,
        &tasks,
        json!({"content": {"raw": "Split it"}, "comment": {"id": comment["id"]}}),
    )
    .await;
    assert_eq!(status, 201, "{under}");
    assert_eq!(under["comment"]["id"], comment["id"]);
    assert_eq!(under["creator"]["nickname"], "bob");
    assert_eq!(task_count(&sb).await, 2);

    // Anyone who can read the pull request resolves it; it then counts no more.
    let one = format!("{tasks}/{}", plain["id"]);
    let (status, resolved) = as_bob(&sb, Method::PUT, &one, json!({"state": "RESOLVED"})).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["state"], "RESOLVED");
    assert_eq!(resolved["resolved_by"]["nickname"], "bob");
    assert!(resolved["resolved_on"].is_string(), "{resolved}");
    assert_eq!(sb.get_json(&one).await["state"], "RESOLVED");
    assert_eq!(task_count(&sb).await, 1);

    let listed = sb.get_json(&tasks).await;
    assert_eq!(listed["size"], 2);
    let open = sb
        .get_json(&format!("{tasks}?q=state%3D%22UNRESOLVED%22"))
        .await;
    assert_eq!(open["size"], 1, "{open}");
    assert_eq!(open["values"][0]["id"], under["id"]);

    // Reopened, it counts again and loses its resolution.
    let (status, reopened) = sb
        .send_json(Method::PUT, &one, json!({"state": "UNRESOLVED"}))
        .await;
    assert_eq!(status, 200, "{reopened}");
    assert!(reopened.get("resolved_by").is_none(), "{reopened}");
    assert_eq!(task_count(&sb).await, 2);
}

#[tokio::test]
async fn only_the_creator_edits_or_deletes_a_task() {
    let sb = start().await;
    let tasks = format!("{PR}/tasks");
    let (_, t) = sb
        .send_json(Method::POST, &tasks, json!({"content": {"raw": "first"}}))
        .await;
    let one = format!("{tasks}/{}", t["id"]);

    let (status, body) = as_bob(&sb, Method::PUT, &one, json!({"content": {"raw": "mine"}})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = as_bob(&sb, Method::DELETE, &one, json!({})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(sb.get_json(&one).await["content"]["raw"], "first");

    let (status, edited) = sb
        .send_json(Method::PUT, &one, json!({"content": {"raw": "second"}}))
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["content"]["raw"], "second");

    let (status, _) = sb.send_json(Method::DELETE, &one, json!({})).await;
    assert_eq!(status, 204);
    let (status, body) = sb.send_json(Method::GET, &one, json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert!(error_message(&body).contains("Task"), "{body}");
    assert_eq!(task_count(&sb).await, 0);
    let (status, _) = sb.send_json(Method::DELETE, &one, json!({})).await;
    assert_eq!(status, 404, "deleting twice");
}

#[tokio::test]
async fn bad_task_input_is_refused_and_changes_nothing() {
    let sb = start().await;
    let tasks = format!("{PR}/tasks");
    let (_, deleted) = sb
        .send_json(
            Method::POST,
            &format!("{PR}/comments"),
            json!({"content": {"raw": "gone soon"}}),
        )
        .await;
    let (status, _) = sb
        .send_json(
            Method::DELETE,
            &format!("{PR}/comments/{}", deleted["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);

    for (what, body, message) in [
        ("no content", json!({}), "content.raw"),
        (
            "blank content",
            json!({"content": {"raw": "  "}}),
            "content.raw",
        ),
        (
            "a missing comment",
            json!({"content": {"raw": "x"}, "comment": {"id": 999}}),
            "Comment 999",
        ),
        (
            "a deleted comment",
            json!({"content": {"raw": "x"}, "comment": {"id": deleted["id"]}}),
            "not found",
        ),
        (
            "a comment without id",
            json!({"content": {"raw": "x"}, "comment": {}}),
            "comment.id",
        ),
        (
            "content of the wrong type",
            json!({"content": "just text"}),
            "Invalid request body",
        ),
    ] {
        let (status, body) = sb.send_json(Method::POST, &tasks, body).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(error_message(&body).contains(message), "{what}: {body}");
    }
    assert_eq!(sb.get_json(&tasks).await["size"], 0, "nothing was stored");

    let (_, t) = sb
        .send_json(Method::POST, &tasks, json!({"content": {"raw": "keep me"}}))
        .await;
    let one = format!("{tasks}/{}", t["id"]);
    for (what, body, message) in [
        (
            "an unknown state",
            json!({"state": "DONE"}),
            "Invalid state",
        ),
        (
            "a blank text with a valid state",
            json!({"state": "RESOLVED", "content": {"raw": ""}}),
            "content.raw",
        ),
    ] {
        let (status, body) = sb.send_json(Method::PUT, &one, body).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(error_message(&body).contains(message), "{what}: {body}");
    }
    let kept = sb.get_json(&one).await;
    assert_eq!(kept["state"], "UNRESOLVED");
    assert_eq!(kept["content"]["raw"], "keep me");

    for (path, status) in [
        (format!("{tasks}/999"), 404),
        (format!("{tasks}/abc"), 400),
        (
            "/repositories/acme/widgets/pullrequests/99/tasks".to_owned(),
            404,
        ),
    ] {
        let (got, body) = sb.send_json(Method::GET, &path, json!({})).await;
        assert_eq!(got, status, "{path}: {body}");
        error_message(&body);
    }
    let response = sb
        .http
        .post(sb.url(&tasks))
        .json(&json!({"content": {"raw": "anonymous"}}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
    assert_eq!(sb.get_json(&tasks).await["size"], 1);
}
