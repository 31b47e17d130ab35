//! Code Insights: reports on commits and their annotations.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Running, error_message, start};

const REPO: &str = "/repositories/acme/widgets";

async fn main_hash(sb: &Running) -> String {
    sb.get_json(&format!("{REPO}/refs/branches/main")).await["target"]["hash"]
        .as_str()
        .expect("hash")
        .to_owned()
}

fn scan() -> Value {
    json!({
        "title": "Security scan",
        "details": "2 new findings",
        "report_type": "SECURITY",
        "reporter": "scanner",
        "link": "https://scanner.example/r/1",
        "result": "FAILED",
        "data": [
            {"title": "Duration", "type": "DURATION", "value": 14000},
            {"title": "Safe to merge?", "type": "BOOLEAN", "value": false},
            {"title": "Report", "type": "LINK", "value": {"text": "open", "href": "https://scanner.example/r/1"}},
            {"title": "Findings", "value": 2}
        ]
    })
}

#[tokio::test]
async fn a_report_is_created_replaced_listed_and_deleted_with_its_annotations() {
    let sb = start().await;
    let hash = main_hash(&sb).await;
    // Named by a branch in the path, kept on the commit.
    let (status, created) = sb
        .send_json(
            Method::PUT,
            &format!("{REPO}/commit/main/reports/scan-1"),
            scan(),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["external_id"], "scan-1");
    assert_eq!(created["commit_hash"], hash.as_str());
    assert_eq!(
        created["data"][2]["value"]["href"],
        "https://scanner.example/r/1"
    );
    let uuid = created["uuid"].as_str().expect("uuid").to_owned();
    assert!(uuid.starts_with('{'), "{uuid}");

    // PUT again replaces it, by external id or uuid, keeping its uuid and creation time.
    let mut passed = scan();
    passed["result"] = json!("PASSED");
    passed["data"] = json!([]);
    let (status, replaced) = sb
        .send_json(
            Method::PUT,
            &format!("{REPO}/commit/{hash}/reports/{}", urlencode(&uuid)),
            passed,
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["uuid"], uuid.as_str());
    assert_eq!(replaced["result"], "PASSED");
    assert_eq!(replaced["created_on"], created["created_on"]);
    assert_eq!(replaced["data"], json!([]));

    let listed = sb.get_json(&format!("{REPO}/commit/{hash}/reports")).await;
    assert_eq!(listed["size"], 1, "{listed}");
    let one = sb
        .get_json(&format!("{REPO}/commit/{hash}/reports/scan-1"))
        .await;
    assert_eq!(one["title"], "Security scan");

    // Annotations: uploaded in bulk, replaced by external id, one read, changed and deleted.
    let annotations = format!("{REPO}/commit/{hash}/reports/scan-1/annotations");
    let (status, uploaded) = sb
        .send_json(
            Method::POST,
            &annotations,
            json!([
                {"external_id": "a1", "annotation_type": "VULNERABILITY", "summary": "SQL injection", "severity": "HIGH", "path": "src/db.rs", "line": 42},
                {"external_id": "a2", "annotation_type": "BUG", "summary": "Off by one", "result": "FAILED", "title": "ignored by Bitbucket"}
            ]),
        )
        .await;
    assert_eq!(status, 200, "{uploaded}");
    assert_eq!(uploaded.as_array().map(Vec::len), Some(2), "{uploaded}");
    assert_eq!(uploaded[0]["line"], 42);
    let (status, again) = sb
        .send_json(
            Method::POST,
            &annotations,
            json!([{"external_id": "a1", "annotation_type": "VULNERABILITY", "summary": "SQL injection in query()", "severity": "CRITICAL"}]),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again[0]["uuid"], uploaded[0]["uuid"], "same annotation");
    let listed = sb.get_json(&annotations).await;
    assert_eq!(listed["size"], 2, "{listed}");
    assert_eq!(listed["values"][0]["severity"], "CRITICAL");
    let (status, put) = sb
        .send_json(
            Method::PUT,
            &format!("{annotations}/a3"),
            json!({"annotation_type": "CODE_SMELL", "summary": "Long function", "path": "/src/main.rs"}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["path"], "src/main.rs");
    assert_eq!(
        sb.get_json(&format!("{annotations}/a2")).await["summary"],
        "Off by one"
    );
    let (status, _) = sb
        .send_json(Method::DELETE, &format!("{annotations}/a2"), json!(null))
        .await;
    assert_eq!(status, 204);
    let (status, gone) = sb.raw_get(&format!("{annotations}/a2")).await;
    assert_eq!(status, 404, "{gone}");

    // Deleting the report deletes its annotations.
    let (status, _) = sb
        .send_json(
            Method::DELETE,
            &format!("{REPO}/commit/{hash}/reports/scan-1"),
            json!(null),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = sb
        .raw_get(&format!("{REPO}/commit/{hash}/reports/scan-1"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = sb.raw_get(&annotations).await;
    assert_eq!(status, 404);
    assert_eq!(
        sb.get_json(&format!("{REPO}/commit/{hash}/reports")).await["size"],
        0
    );
}

fn urlencode(s: &str) -> String {
    s.replace('{', "%7B").replace('}', "%7D")
}

#[tokio::test]
async fn bad_reports_and_annotations_are_refused_and_nothing_is_stored() {
    let sb = start().await;
    let reports = format!("{REPO}/commit/main/reports");
    let mut cases: Vec<(Value, &str)> = Vec::new();
    for (field, value, says) in [
        ("report_type", json!("LINT"), "report_type"),
        ("result", json!("MAYBE"), "result"),
        ("link", json!("ftp://x/y"), "link"),
        ("title", json!(" "), "title"),
        (
            "data",
            json!([{"title": "Coverage", "type": "PERCENTAGE", "value": 140}]),
            "data[0].value",
        ),
        (
            "data",
            json!([{"title": "When", "type": "DATE", "value": "yesterday"}]),
            "data[0].value",
        ),
        (
            "data",
            json!([{"title": "x", "type": "COLOR", "value": 1}]),
            "data[0].type",
        ),
        (
            "data",
            json!(
                (0..11)
                    .map(|n| json!({"title": format!("f{n}"), "value": n}))
                    .collect::<Vec<_>>()
            ),
            "at most 10",
        ),
    ] {
        let mut body = scan();
        body[field] = value;
        cases.push((body, says));
    }
    for (body, says) in cases {
        let (status, answer) = sb
            .send_json(Method::PUT, &format!("{reports}/bad"), body.clone())
            .await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(error_message(&answer).contains(says), "{says}: {answer}");
    }
    let (status, answer) = sb
        .send_json(
            Method::PUT,
            &format!("{REPO}/commit/0000000/reports/r"),
            scan(),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    // Eve reads the public repository but cannot write to it.
    let eve = sb
        .as_user(Method::PUT, &format!("{reports}/eve"), "eve-token")
        .json(&scan())
        .send()
        .await
        .expect("put");
    assert_eq!(eve.status(), 403);
    assert_eq!(sb.get_json(&reports).await["size"], 0, "nothing stored");

    let (status, _) = sb
        .send_json(Method::PUT, &format!("{reports}/scan"), scan())
        .await;
    assert_eq!(status, 200);
    let annotations = format!("{reports}/scan/annotations");
    let good = json!({"external_id": "ok", "annotation_type": "BUG", "summary": "fine"});
    for (body, says) in [
        (json!([]), "between 1 and 100"),
        (json!((0..101).map(|n| json!({"external_id": format!("a{n}"), "annotation_type": "BUG", "summary": "s"})).collect::<Vec<_>>()), "between 1 and 100"),
        (json!([good, {"annotation_type": "BUG", "summary": "no id"}]), "[1].external_id"),
        (json!([good, {"external_id": "ok", "annotation_type": "BUG", "summary": "again"}]), "appears twice"),
        (json!([good, {"external_id": "x", "annotation_type": "BUG", "summary": "s", "severity": "URGENT"}]), "[1].severity"),
        (json!([good, {"external_id": "x", "annotation_type": "BUG", "summary": "s", "line": 0}]), "[1].line"),
        (json!([good, {"external_id": "x", "annotation_type": "TYPO", "summary": "s"}]), "[1].annotation_type"),
        (json!({"external_id": "x"}), "Invalid request body"),
    ] {
        let (status, answer) = sb.send_json(Method::POST, &annotations, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(error_message(&answer).contains(says), "{says}: {answer}");
    }
    assert_eq!(
        sb.get_json(&annotations).await["size"],
        0,
        "a refused upload stores none of its annotations"
    );
    let (status, answer) = sb
        .send_json(
            Method::POST,
            &format!("{reports}/nope/annotations"),
            json!([good]),
        )
        .await;
    assert_eq!(status, 404, "{answer}");

    // At most 1000 per report: the upload that would pass it is refused whole.
    for batch in 0..10 {
        let body: Vec<Value> = (0..100)
            .map(|n| json!({"external_id": format!("b{batch}-{n}"), "annotation_type": "BUG", "summary": "s"}))
            .collect();
        let (status, answer) = sb.send_json(Method::POST, &annotations, json!(body)).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = sb
        .send_json(Method::POST, &annotations, json!([good]))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(error_message(&answer).contains("at most 1000"), "{answer}");
    assert_eq!(sb.get_json(&annotations).await["size"], 1000);
}
