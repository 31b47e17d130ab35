//! Code Insights and one build status through the client, against the sandbox: a scanner
//! posts a report with figures and findings on a commit, replaces one, and cleans up.

use bitbucket_client::{Error, ListParams, NewAnnotation, NewCommitStatus, NewReport, ReportData};
use serde_json::json;

use crate::support::{api, repo, start};

fn finding(id: &str, summary: &str) -> NewAnnotation {
    NewAnnotation {
        external_id: Some(id.to_owned()),
        annotation_type: "VULNERABILITY".into(),
        summary: summary.into(),
        path: Some("src/main.rs".into()),
        line: Some(3),
        severity: Some("HIGH".into()),
        ..NewAnnotation::default()
    }
}

#[tokio::test]
async fn a_scanner_reports_on_a_commit_and_cleans_up() {
    let env = start().await;
    let demo = env.demo();
    let widgets = repo("acme", "widgets");
    let report = NewReport {
        title: "Security scan".into(),
        details: "1 new finding".into(),
        report_type: "SECURITY".into(),
        result: Some("FAILED".into()),
        reporter: Some("scanner".into()),
        link: Some("https://scanner.example/1".into()),
        data: vec![ReportData {
            title: "Safe to merge?".into(),
            kind: Some("BOOLEAN".into()),
            value: json!(false),
        }],
    };
    let created = demo
        .put_report(&widgets, "main", "scan-1", &report)
        .await
        .expect("report");
    assert_eq!(created.external_id.as_deref(), Some("scan-1"));
    assert_eq!(created.data, report.data);
    let listed = demo
        .list_reports(&widgets, "main", &ListParams::new())
        .await
        .expect("reports");
    assert_eq!(listed.values.len(), 1);
    // By its uuid too.
    let same = demo
        .get_report(&widgets, "main", &created.uuid)
        .await
        .expect("by uuid");
    assert_eq!(same.title, "Security scan");

    let uploaded = demo
        .put_annotations(
            &widgets,
            "main",
            "scan-1",
            &[finding("f1", "SQL injection"), finding("f2", "Weak hash")],
        )
        .await
        .expect("annotations");
    assert_eq!(uploaded.len(), 2);
    let changed = demo
        .put_annotation(
            &widgets,
            "main",
            "scan-1",
            "f2",
            &NewAnnotation {
                external_id: None,
                severity: Some("LOW".into()),
                ..finding("f2", "Weak hash (tests only)")
            },
        )
        .await
        .expect("one annotation");
    assert_eq!(changed.uuid, uploaded[1].uuid);
    assert_eq!(changed.severity.as_deref(), Some("LOW"));
    let one = demo
        .get_annotation(&widgets, "main", "scan-1", "f1")
        .await
        .expect("f1");
    assert_eq!(one.line, Some(3));
    demo.delete_annotation(&widgets, "main", "scan-1", "f1")
        .await
        .expect("delete f1");
    let left = demo
        .list_annotations(&widgets, "main", "scan-1", &ListParams::new())
        .await
        .expect("annotations");
    assert_eq!(left.values.len(), 1);

    // Bad uploads never leave the client.
    for bad in [vec![], vec![NewAnnotation::default()]] {
        let err = demo
            .put_annotations(&widgets, "main", "scan-1", &bad)
            .await
            .expect_err("refused");
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }

    demo.delete_report(&widgets, "main", "scan-1")
        .await
        .expect("delete");
    let gone = demo
        .get_report(&widgets, "main", "scan-1")
        .await
        .expect_err("deleted");
    assert_eq!(api(&gone).status, 404);

    // One build status by its key.
    demo.create_commit_status(
        &widgets,
        "main",
        &NewCommitStatus {
            key: "ci/build".into(),
            state: "SUCCESSFUL".into(),
            url: "https://ci.example/1".into(),
            name: Some("Build".into()),
            description: None,
        },
    )
    .await
    .expect("status");
    let status = demo
        .get_commit_status(&widgets, "main", "ci/build")
        .await
        .expect("by key");
    assert_eq!(status.state.as_deref(), Some("SUCCESSFUL"));
}
