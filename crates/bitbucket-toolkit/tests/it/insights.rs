//! The CI tools as a model meets them: what the text says, and how bad calls are refused with
//! nothing changed.

use serde_json::{Value, json};

use crate::support::start;

fn at(extra: Value) -> Value {
    let mut args = json!({"workspace": "acme", "repo_slug": "widgets", "commit": "main"});
    if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
        args.extend(extra.clone());
    }
    args
}

fn scan() -> Value {
    at(json!({
        "report_id": "scan-1", "title": "Security scan", "details": "2 findings",
        "report_type": "SECURITY", "result": "FAILED",
        "data": [
            {"title": "Coverage", "type": "percentage", "value": 81.5},
            {"title": "Report", "type": "LINK", "value": {"text": "open", "href": "https://scan.example/1"}}
        ]
    }))
}

#[tokio::test]
async fn a_report_reads_as_a_verdict_with_its_findings() {
    let env = start().await;
    env.ok(
        "BITBUCKET_UPDATE_INSIGHTS_PROJECTS_REPOS_COMMITS_REPORTS",
        scan(),
    )
    .await;
    env.ok(
        "BITBUCKET_CREATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
        at(json!({"report_id": "scan-1", "annotations": [
            {"annotation_id": "a1", "annotation_type": "vulnerability", "summary": "SQL injection", "severity": "high", "path": "src/db.rs", "line": 42},
            {"annotation_id": "a2", "annotation_type": "BUG", "summary": "Off by one"}
        ]})),
    )
    .await;
    let report = env
        .ok(
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT",
            at(json!({"report_id": "scan-1"})),
        )
        .await;
    let text = report.text;
    for expected in [
        "Report `scan-1` Security scan [FAILED] SECURITY: 2 findings",
        "Coverage: 81.5%",
        "Report: https://scan.example/1",
        "`a1` HIGH VULNERABILITY src/db.rs:42: SQL injection",
        "`a2` BUG: Off by one",
        "No more results",
    ] {
        assert!(text.contains(expected), "`{expected}` in:\n{text}");
    }
    let listed = env
        .ok("BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS", at(json!({})))
        .await;
    assert!(listed.text.contains("[FAILED]"), "{}", listed.text);
}

#[tokio::test]
async fn bad_reports_and_annotations_are_refused_and_nothing_changes() {
    let env = start().await;
    let mut eleven = scan();
    eleven["data"] = json!(
        (0..11)
            .map(|n| json!({"title": format!("f{n}"), "value": n}))
            .collect::<Vec<_>>()
    );
    let mut bad_type = scan();
    bad_type["report_type"] = json!("LINT");
    let mut bad_value = scan();
    bad_value["data"] = json!([{"title": "Coverage", "type": "PERCENTAGE", "value": "most"}]);
    let before = env.requests();
    let refused_here = [
        (
            "BITBUCKET_UPDATE_INSIGHTS_PROJECTS_REPOS_COMMITS_REPORTS",
            eleven,
            "at most 10 figures",
        ),
        (
            "BITBUCKET_UPDATE_INSIGHTS_PROJECTS_REPOS_COMMITS_REPORTS",
            bad_type,
            "`report_type`",
        ),
        (
            "BITBUCKET_CREATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            at(json!({"report_id": "scan-1", "annotations": []})),
            "1 to 100 findings",
        ),
        (
            "BITBUCKET_CREATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            at(
                json!({"report_id": "scan-1", "annotations": [{"annotation_id": "a1", "annotation_type": "BUG", "summary": "s", "severity": "URGENT"}]}),
            ),
            "URGENT",
        ),
        (
            "BITBUCKET_CREATE_COMMIT_BUILD_STATUS",
            at(json!({"key": "ci", "state": "GREEN", "url": "https://ci.example/1"})),
            "`state`",
        ),
    ];
    for (tool, arguments, says) in refused_here {
        let message = env.err(tool, arguments).await;
        assert!(message.contains(says), "{tool}: `{says}` in: {message}");
    }
    assert_eq!(env.requests(), before, "refused before asking Bitbucket");

    // Bitbucket's refusals and absences, explained.
    let message = env
        .err(
            "BITBUCKET_UPDATE_INSIGHTS_PROJECTS_REPOS_COMMITS_REPORTS",
            bad_value,
        )
        .await;
    assert!(
        message.contains("does not fit type PERCENTAGE"),
        "{message}"
    );
    let message = env
        .err(
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT",
            at(json!({"report_id": "nope"})),
        )
        .await;
    assert!(
        message.contains("BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS"),
        "names the tool that lists what exists: {message}"
    );
    let message = env
        .err(
            "BITBUCKET_CREATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            at(json!({"report_id": "nope", "annotations": [{"annotation_id": "a1", "annotation_type": "BUG", "summary": "s"}]})),
        )
        .await;
    assert!(
        message.contains("not found") || message.contains("No report"),
        "{message}"
    );
    let reports = env
        .ok("BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS", at(json!({})))
        .await;
    assert_eq!(
        reports.structured.as_ref().map(|s| s["items"].clone()),
        Some(json!([])),
        "nothing was stored"
    );
}
