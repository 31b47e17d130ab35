//! Build statuses on commits and on a pull request's source.

use reqwest::Method;
use serde_json::json;

use crate::support::{error_message, start};

const REPO: &str = "/repositories/acme/widgets";

#[tokio::test]
async fn a_status_is_created_updated_and_shown_on_the_pull_request() {
    let sb = start().await;
    let head = sb
        .get_json(&format!("{REPO}/refs/branches/feature%2Flogin"))
        .await["target"]["hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    let build = format!("{REPO}/commit/{head}/statuses/build");
    let (status, created) = sb
        .send_json(
            Method::POST,
            &build,
            json!({"key": "CI", "state": "INPROGRESS", "name": "tests", "url": "http://ci.example/1"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "INPROGRESS");
    // The same key again updates it, keeping the fields not given; the spec's POST answers
    // only 201.
    let (status, updated) = sb
        .send_json(
            Method::POST,
            &build,
            json!({"key": "CI", "state": "SUCCESSFUL"}),
        )
        .await;
    assert_eq!(status, 201, "{updated}");
    assert_eq!(updated["state"], "SUCCESSFUL");
    assert_eq!(updated["name"], "tests");
    assert_eq!(updated["created_on"], created["created_on"]);
    let (status, put) = sb
        .send_json(
            Method::PUT,
            &format!("{build}/CI"),
            json!({"state": "FAILED"}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    let one = sb.get_json(&format!("{build}/CI")).await;
    assert_eq!(one["state"], "FAILED");
    // A PUT updates; a key with no status is 404 (schemathesis found it answered 201).
    let (status, missing) = sb
        .send_json(
            Method::PUT,
            &format!("{build}/lint"),
            json!({"state": "FAILED"}),
        )
        .await;
    assert_eq!(status, 404, "{missing}");
    assert!(
        error_message(&missing).contains("No build status 'lint'"),
        "{missing}"
    );

    let on_commit = sb.get_json(&format!("{REPO}/commit/{head}/statuses")).await;
    assert_eq!(on_commit["size"], 1, "{on_commit}");
    let on_pr = sb
        .get_json(&format!("{REPO}/pullrequests/1/statuses"))
        .await;
    assert_eq!(on_pr["values"][0]["key"], "CI");
    assert_eq!(on_pr["values"][0]["state"], "FAILED");
    // Other commits have none.
    let on_main = sb.get_json(&format!("{REPO}/commit/main/statuses")).await;
    assert_eq!(on_main["size"], 0);
}

#[tokio::test]
async fn bad_statuses_are_refused() {
    let sb = start().await;
    for (path, body, want, message) in [
        ("main", json!({"state": "SUCCESSFUL"}), 400, "key"),
        ("main", json!({"key": "CI"}), 400, "state"),
        (
            "main",
            json!({"key": "CI", "state": "GREEN"}),
            400,
            "Invalid state",
        ),
        (
            "nope",
            json!({"key": "CI", "state": "FAILED"}),
            404,
            "Commit not found",
        ),
    ] {
        let (status, got) = sb
            .send_json(
                Method::POST,
                &format!("{REPO}/commit/{path}/statuses/build"),
                body,
            )
            .await;
        assert_eq!(status, want, "{got}");
        assert!(error_message(&got).contains(message), "{got}");
    }
    let on_main = sb.get_json(&format!("{REPO}/commit/main/statuses")).await;
    assert_eq!(on_main["size"], 0, "nothing was stored");
    let (status, _) = sb
        .send_json(
            Method::GET,
            &format!("{REPO}/commit/main/statuses/build/none"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
}
