//! Contract: each operation's JSON response validates against its response schema in the
//! official OpenAPI spec (`reference/bitbucket/openapi-cloud.json`).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Running, start};

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../reference/bitbucket/openapi-cloud.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        serde_json::from_str(&text).expect("spec is JSON")
    })
}

/// The response schema for `method path` and `status`, from the spec.
fn response_schema(method: &str, path: &str, status: &str) -> Value {
    let op = &spec()["paths"][path][method.to_lowercase()];
    let schema = &op["responses"][status]["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "spec has no JSON schema for {method} {path} {status}"
    );
    schema.clone()
}

pub fn validate(method: &str, path: &str, status: &str, body: &Value) {
    let mut schema = response_schema(method, path, status);
    // Local `#/components/...` references resolve against the document they sit in.
    schema["components"] = spec()["components"].clone();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("spec schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} -> {status} violates the spec:\n{}\nbody: {body}",
        errors.join("\n")
    );
}

fn validate_schema(what: &str, body: &Value, schema: &Value) {
    let mut schema = schema.clone();
    schema["components"] = spec()["components"].clone();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("spec schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} violates the spec:\n{}\nbody: {body}",
        errors.join("\n")
    );
}

/// A Code Insights report. The spec types `report_data.value` as an object, yet the report
/// operation's own table of data field formats has booleans, numbers and strings (only a
/// `LINK` is an object): the values are checked against their field's `type` here, and the
/// rest of the report against the spec.
fn validate_report(method: &str, path: &str, body: &Value) {
    let mut rest = body.clone();
    for field in rest["data"].as_array_mut().into_iter().flatten() {
        let value = field
            .as_object_mut()
            .and_then(|f| f.remove("value"))
            .unwrap_or(Value::Null);
        let fits = match field["type"].as_str() {
            Some("BOOLEAN") => value.is_boolean(),
            Some("DATE" | "DURATION" | "NUMBER" | "PERCENTAGE") => value.is_number(),
            Some("LINK") => value["href"].is_string() && value["text"].is_string(),
            Some(_) => value.is_string(),
            None => value.is_boolean() || value.is_number() || value.is_string(),
        };
        assert!(
            fits,
            "{method} {path}: data value {value} does not fit {field}"
        );
    }
    validate(method, path, "200", &rest);
}

/// A pull request task. The spec's `pullrequest_comment_task` cannot be validated as a whole:
/// it is an `allOf` whose parts each forbid the others' properties (`task` allows no `links`
/// or `comment`, the part that adds `links` allows nothing else), so no task with any
/// property passes. Its parts are checked instead: the task's own fields against `task`, its
/// `links` against the links of `pullrequest_task`, its `comment` against `comment`.
fn validate_task(body: &Value) {
    let mut own = body.clone();
    let links = own.as_object_mut().and_then(|o| o.remove("links"));
    let comment = own.as_object_mut().and_then(|o| o.remove("comment"));
    validate_schema(
        "task",
        &own,
        &json!({ "$ref": "#/components/schemas/task" }),
    );
    let links = links.expect("a task has links");
    let links_schema =
        spec()["components"]["schemas"]["pullrequest_task"]["allOf"][1]["properties"]["links"]
            .clone();
    assert!(links_schema.is_object(), "the spec has the task's links");
    validate_schema("task links", &links, &links_schema);
    if let Some(comment) = comment {
        validate_schema(
            "task comment",
            &comment,
            &json!({ "$ref": "#/components/schemas/comment" }),
        );
    }
}

async fn check_get(sb: &Running, spec_path: &str, real_path: &str) -> Value {
    let body = sb.get_json(real_path).await;
    validate("GET", spec_path, "200", &body);
    body
}

#[tokio::test]
async fn read_operations_match_the_spec() {
    let sb = start().await;
    let repo = "/repositories/{workspace}/{repo_slug}";
    let cases = [
        ("/user", "/user".to_owned()),
        ("/user/workspaces", "/user/workspaces".to_owned()),
        (
            "/workspaces/{workspace}/members",
            "/workspaces/acme/members".to_owned(),
        ),
        (
            "/workspaces/{workspace}/permissions/repositories/{repo_slug}",
            "/workspaces/acme/permissions/repositories/widgets".to_owned(),
        ),
        ("/repositories/{workspace}", "/repositories/acme".to_owned()),
        (repo, "/repositories/acme/widgets".to_owned()),
        (
            "/repositories/{workspace}/{repo_slug}/refs/branches",
            "/repositories/acme/widgets/refs/branches".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/refs/branches/{name}",
            "/repositories/acme/widgets/refs/branches/feature%2Flogin".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/refs/tags",
            "/repositories/acme/widgets/refs/tags".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/issues",
            "/repositories/acme/widgets/issues".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/issues/{issue_id}",
            "/repositories/acme/widgets/issues/2".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/issues/{issue_id}/comments",
            "/repositories/acme/widgets/issues/2/comments".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/pullrequests",
            "/repositories/acme/widgets/pullrequests".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}",
            "/repositories/acme/widgets/pullrequests/1".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/commits/{revision}",
            "/repositories/acme/widgets/commits/main".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/commits",
            "/repositories/acme/widgets/commits".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/src/{commit}/{path}",
            "/repositories/acme/widgets/src/main/".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/src/{commit}/{path}",
            "/repositories/acme/widgets/src/main/docs/".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/commit/{commit}",
            "/repositories/acme/widgets/commit/main".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/diffstat/{spec}",
            "/repositories/acme/widgets/diffstat/feature/login..main".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/diffstat/{spec}",
            "/repositories/acme/widgets/diffstat/main".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/merge-base/{revspec}",
            "/repositories/acme/widgets/merge-base/feature/login..main".to_owned(),
        ),
        (
            "/repositories/{workspace}/{repo_slug}/filehistory/{commit}/{path}",
            "/repositories/acme/widgets/filehistory/main/README.md".to_owned(),
        ),
        (
            "/snippets/{workspace}/{encoded_id}",
            "/snippets/acme/kypj".to_owned(),
        ),
        (
            "/snippets/{workspace}/{encoded_id}/comments",
            "/snippets/acme/kypj/comments".to_owned(),
        ),
    ];
    for (spec_path, real_path) in &cases {
        check_get(&sb, spec_path, real_path).await;
    }
    // A file's metadata is a `commit_file`, the schema of the listing's entries.
    let meta = sb
        .get_json("/repositories/acme/widgets/src/main/README.md?format=meta")
        .await;
    let mut schema = json!({ "$ref": "#/components/schemas/commit_file" });
    schema["components"] = spec()["components"].clone();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("compiles");
    assert!(validator.is_valid(&meta), "{meta}");
    assert_eq!(meta["type"], "commit_file");
    assert_eq!(meta["size"], 441);
}

#[tokio::test]
async fn write_operations_match_the_spec() {
    let sb = start().await;
    let repo = "/repositories/{workspace}/{repo_slug}";
    let (status, branch) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/refs/branches",
            json!({"name": "feature/contract", "target": {"hash": "main"}}),
        )
        .await;
    assert_eq!(status, 201, "{branch}");
    validate("POST", &format!("{repo}/refs/branches"), "201", &branch);

    let (status, tag) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/refs/tags",
            json!({"name": "v0.1.0", "target": {"hash": "main"}}),
        )
        .await;
    assert_eq!(status, 201, "{tag}");
    validate("POST", &format!("{repo}/refs/tags"), "201", &tag);

    let (status, issue) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/issues",
            json!({"title": "Contract issue", "content": {"raw": "body"}, "kind": "task", "priority": "minor"}),
        )
        .await;
    assert_eq!(status, 201, "{issue}");
    validate("POST", &format!("{repo}/issues"), "201", &issue);

    let (status, updated) = sb
        .send_json(
            Method::PUT,
            "/repositories/acme/widgets/issues/4",
            json!({"state": "resolved"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    validate(
        "PUT",
        &format!("{repo}/issues/{{issue_id}}"),
        "200",
        &updated,
    );

    // The spec gives no schema for the comment's 201; the GET of one comment has it.
    let (status, comment) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/issues/4/comments",
            json!({"content": {"raw": "a comment"}}),
        )
        .await;
    assert_eq!(status, 201, "{comment}");
    let listed = sb
        .get_json("/repositories/acme/widgets/issues/4/comments")
        .await;
    validate(
        "GET",
        &format!("{repo}/issues/{{issue_id}}/comments"),
        "200",
        &listed,
    );
    assert_eq!(listed["values"][0]["id"], comment["id"]);

    let (status, pr) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/pullrequests",
            json!({"title": "Develop into main", "source": {"branch": {"name": "develop"}}, "reviewers": [{"username": "bob"}]}),
        )
        .await;
    assert_eq!(status, 201, "{pr}");
    validate("POST", &format!("{repo}/pullrequests"), "201", &pr);

    let (status, pr) = sb
        .send_json(
            Method::PUT,
            "/repositories/acme/widgets/pullrequests/2",
            json!({"title": "Develop into main (v2)"}),
        )
        .await;
    assert_eq!(status, 200, "{pr}");
    validate(
        "PUT",
        &format!("{repo}/pullrequests/{{pull_request_id}}"),
        "200",
        &pr,
    );

    let (status, created) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/contract-repo",
            json!({"scm": "git", "is_private": true, "description": "made by a test", "project": {"key": "CORE"}, "has_issues": true}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    validate("POST", repo, "200", &created);

    let (status, comment) = sb
        .send_json(
            Method::POST,
            "/snippets/acme/kypj/comments",
            json!({"content": {"raw": "Done."}, "parent": {"id": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{comment}");
    validate(
        "POST",
        "/snippets/{workspace}/{encoded_id}/comments",
        "201",
        &comment,
    );

    let commit = "/repositories/{workspace}/{repo_slug}/commit/{commit}";
    let (status, build) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/commit/main/statuses/build",
            json!({"key": "CI", "state": "SUCCESSFUL", "url": "http://ci.example/1", "refname": "main"}),
        )
        .await;
    assert_eq!(status, 201, "{build}");
    validate("POST", &format!("{commit}/statuses/build"), "201", &build);
    let one = sb
        .get_json("/repositories/acme/widgets/commit/main/statuses/build/CI")
        .await;
    validate(
        "GET",
        &format!("{commit}/statuses/build/{{key}}"),
        "200",
        &one,
    );
    let (status, updated) = sb
        .send_json(
            Method::PUT,
            "/repositories/acme/widgets/commit/main/statuses/build/CI",
            json!({"state": "FAILED"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    validate(
        "PUT",
        &format!("{commit}/statuses/build/{{key}}"),
        "200",
        &updated,
    );
    let all = sb
        .get_json("/repositories/acme/widgets/commit/main/statuses")
        .await;
    validate("GET", &format!("{commit}/statuses"), "200", &all);

    let report = format!("{commit}/reports/{{reportId}}");
    let (status, put) = sb
        .send_json(
            Method::PUT,
            "/repositories/acme/widgets/commit/main/reports/scan-1",
            json!({
                "title": "Scan", "details": "1 finding", "report_type": "SECURITY",
                "result": "FAILED", "link": "https://scan.example/1", "reporter": "scan",
                "data": [{"title": "Safe?", "type": "BOOLEAN", "value": false}]
            }),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    validate_report("PUT", &report, &put);
    let one = sb
        .get_json("/repositories/acme/widgets/commit/main/reports/scan-1")
        .await;
    validate_report("GET", &report, &one);
    let mut all = sb
        .get_json("/repositories/acme/widgets/commit/main/reports")
        .await;
    let report_path = report.clone();
    for report in all["values"].as_array_mut().into_iter().flatten() {
        validate_report("GET", &report_path, report);
        report["data"] = json!([]);
    }
    validate("GET", &format!("{commit}/reports"), "200", &all);
    let annotations = format!("{report}/annotations");
    let (status, bulk) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/commit/main/reports/scan-1/annotations",
            json!([{
                "external_id": "a1", "annotation_type": "VULNERABILITY", "summary": "Injection",
                "severity": "HIGH", "path": "src/db.rs", "line": 3, "result": "FAILED",
                "link": "https://scan.example/1/a1"
            }]),
        )
        .await;
    assert_eq!(status, 200, "{bulk}");
    validate("POST", &annotations, "200", &bulk);
    let (status, put) = sb
        .send_json(
            Method::PUT,
            "/repositories/acme/widgets/commit/main/reports/scan-1/annotations/a2",
            json!({"annotation_type": "BUG", "summary": "Off by one"}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    let annotation = format!("{annotations}/{{annotationId}}");
    validate("PUT", &annotation, "200", &put);
    let one = sb
        .get_json("/repositories/acme/widgets/commit/main/reports/scan-1/annotations/a1")
        .await;
    validate("GET", &annotation, "200", &one);
    let all = sb
        .get_json("/repositories/acme/widgets/commit/main/reports/scan-1/annotations")
        .await;
    validate("GET", &annotations, "200", &all);
    let on_pr = sb
        .get_json("/repositories/acme/widgets/pullrequests/1/statuses")
        .await;
    validate(
        "GET",
        "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/statuses",
        "200",
        &on_pr,
    );

    let (status, comment) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/pullrequests/1/comments",
            json!({"content": {"raw": "Looks *good*"}, "inline": {"path": "src/login.rs", "to": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{comment}");
    let pr_comments =
        "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}/comments";
    validate("POST", pr_comments, "201", &comment);
    let listed = sb
        .get_json("/repositories/acme/widgets/pullrequests/1/comments")
        .await;
    validate("GET", pr_comments, "200", &listed);
    let one = sb
        .get_json(&format!(
            "/repositories/acme/widgets/pullrequests/1/comments/{}",
            comment["id"]
        ))
        .await;
    validate("GET", &format!("{pr_comments}/{{comment_id}}"), "200", &one);
    let (status, resolution) = sb
        .send_json(
            Method::POST,
            &format!(
                "/repositories/acme/widgets/pullrequests/1/comments/{}/resolve",
                comment["id"]
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{resolution}");
    validate(
        "POST",
        &format!("{pr_comments}/{{comment_id}}/resolve"),
        "200",
        &resolution,
    );

    // A reply, whose `parent` is a comment too.
    let (status, reply) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/pullrequests/1/comments",
            json!({"content": {"raw": "Thanks"}, "parent": {"id": comment["id"]}}),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    validate("POST", pr_comments, "201", &reply);

    // Commit comments: the spec gives no schema for the 201s of POST and PUT; the GETs of
    // one comment and of the list have them.
    let head = sb.get_json("/repositories/acme/widgets/commit/main").await;
    let head = head["hash"].as_str().expect("hash");
    let commit_comments = "/repositories/{workspace}/{repo_slug}/commit/{commit}/comments";
    let on_commit = format!("/repositories/acme/widgets/commit/{head}/comments");
    let (status, top) = sb
        .send_json(
            Method::POST,
            &on_commit,
            json!({"content": {"raw": "Nice"}}),
        )
        .await;
    assert_eq!(status, 201, "{top}");
    let (status, answer) = sb
        .send_json(
            Method::POST,
            &on_commit,
            json!({"content": {"raw": "Indeed"}, "parent": {"id": top["id"]}}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, edited) = sb
        .send_json(
            Method::PUT,
            &format!("{on_commit}/{}", top["id"]),
            json!({"content": {"raw": "Nice!"}}),
        )
        .await;
    assert_eq!(status, 201, "{edited}");
    for body in [&top, &answer, &edited] {
        validate(
            "GET",
            &format!("{commit_comments}/{{comment_id}}"),
            "200",
            body,
        );
    }
    let one = sb.get_json(&format!("{on_commit}/{}", answer["id"])).await;
    validate(
        "GET",
        &format!("{commit_comments}/{{comment_id}}"),
        "200",
        &one,
    );
    let listed = sb.get_json(&on_commit).await;
    assert_eq!(listed["size"], 2, "{listed}");
    validate("GET", commit_comments, "200", &listed);

    // Tasks, alone and under the comment above.
    let tasks = "/repositories/acme/widgets/pullrequests/1/tasks";
    let (status, task) = sb
        .send_json(
            Method::POST,
            tasks,
            json!({"content": {"raw": "Add a test"}, "comment": {"id": comment["id"]}}),
        )
        .await;
    assert_eq!(status, 201, "{task}");
    validate_task(&task);
    let (status, resolved) = sb
        .send_json(
            Method::PUT,
            &format!("{tasks}/{}", task["id"]),
            json!({"state": "RESOLVED"}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    validate_task(&resolved);
    let listed = sb.get_json(tasks).await;
    let values = listed["values"].as_array().expect("values");
    assert_eq!(values.len(), 1, "{listed}");
    values.iter().for_each(validate_task);
    let mut envelope = listed.clone();
    envelope["values"] = json!([]);
    validate_schema(
        "paginated_tasks (envelope)",
        &envelope,
        &json!({ "$ref": "#/components/schemas/paginated_tasks" }),
    );

    // Reviewing and closing pull requests: the participant, then the pull request itself.
    let pr = "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}";
    for action in ["approve", "request-changes"] {
        let (status, participant) = sb
            .send_json(
                Method::POST,
                &format!("/repositories/acme/widgets/pullrequests/1/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{participant}");
        validate("POST", &format!("{pr}/{action}"), "200", &participant);
    }
    let with_review = sb
        .get_json("/repositories/acme/widgets/pullrequests/1")
        .await;
    validate("GET", pr, "200", &with_review);
    let (status, merged) = sb
        .send_json(
            Method::POST,
            "/repositories/acme/widgets/pullrequests/1/merge",
            json!({"merge_strategy": "squash"}),
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    validate("POST", &format!("{pr}/merge"), "200", &merged);
    // The pull request this test opened above, from `develop`.
    let opened = json!({"id": 2});
    let (status, declined) = sb
        .send_json(
            Method::POST,
            &format!(
                "/repositories/acme/widgets/pullrequests/{}/decline",
                opened["id"]
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{declined}");
    validate("POST", &format!("{pr}/decline"), "200", &declined);
}

#[tokio::test]
async fn errors_match_the_spec() {
    let sb = start().await;
    for path in [
        "/repositories/acme/nope",
        "/repositories/acme/website/issues",
        "/repositories/acme/widgets/pullrequests/99",
    ] {
        let response = sb.demo(Method::GET, path).send().await.expect("request");
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.expect("json");
        let mut schema = json!({ "$ref": "#/components/schemas/error" });
        schema["components"] = spec()["components"].clone();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&schema)
            .expect("compiles");
        assert!(validator.is_valid(&body), "{path}: {body}");
    }
}

/// `src/api/oauth_scopes.json` as the spec says it: for each operation with OAuth 2 security,
/// `METHOD /path` (parameters written `{}`) and its scopes. Rewritten by
/// `UPDATE_OAUTH_SCOPES=1 cargo test` when the spec changes.
fn oauth_scopes_from_spec() -> String {
    let mut table = std::collections::BTreeMap::new();
    let paths = spec()["paths"].as_object().expect("paths");
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let scopes = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|s| s.get("oauth2"))
                .and_then(Value::as_array);
            let Some(scopes) = scopes else { continue };
            let mut scopes: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
            scopes.sort_unstable();
            let mut key = format!("{} ", method.to_uppercase());
            let mut in_param = false;
            for c in path.chars() {
                match c {
                    '{' => {
                        in_param = true;
                        key.push_str("{}");
                    }
                    '}' => in_param = false,
                    c if !in_param => key.push(c),
                    _ => {}
                }
            }
            table.insert(key, serde_json::to_string(&scopes).expect("json"));
        }
    }
    let lines: Vec<String> = table
        .iter()
        .map(|(key, scopes)| format!("{}: {scopes}", serde_json::to_string(key).expect("json")))
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

#[test]
fn oauth_scopes_are_the_specs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/oauth_scopes.json");
    let expected = oauth_scopes_from_spec();
    if std::env::var_os("UPDATE_OAUTH_SCOPES").is_some() {
        std::fs::write(path, &expected).expect("write the table");
    }
    let committed = std::fs::read_to_string(path).expect("read the table");
    assert!(
        committed == expected,
        "src/api/oauth_scopes.json is not the spec's; run `UPDATE_OAUTH_SCOPES=1 cargo test -p bitbucket-sandbox oauth_scopes`"
    );
}

/// A pull request's diff, diffstat and patch, and a snippet's file, answer with the redirect
/// (302) the spec gives them, to the page asked for (schemathesis found them answering 200).
#[tokio::test]
async fn redirects_match_the_spec() {
    let sb = start().await;
    let unfollowed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let location = |response: &reqwest::Response| {
        assert_eq!(response.status(), 302, "{}", response.url());
        response.headers()["location"]
            .to_str()
            .expect("an ASCII location")
            .to_owned()
    };
    let get = |url: String| {
        unfollowed
            .get(url)
            .basic_auth("demo@example.com", Some("sandbox-token"))
            .send()
    };
    for (output, expected) in [
        ("diff", "+++ b/src/login.rs"),
        ("patch", "Subject: [PATCH] Add login form"),
        ("diffstat", "\"src/login.rs\""),
    ] {
        let pr = sb.url(&format!(
            "/repositories/acme/widgets/pullrequests/1/{output}?context=1"
        ));
        let target = location(&get(pr).await.expect("request"));
        let prefix = sb.url(&format!(
            "/repositories/acme/widgets/{output}/acme/widgets:"
        ));
        assert!(target.starts_with(&prefix), "{target}");
        assert!(
            target.ends_with("?context=1&from_pullrequest_id=1&topic=true"),
            "{target}"
        );
        let page = get(target).await.expect("request");
        assert_eq!(page.status(), 200);
        let text = page.text().await.expect("body");
        assert!(text.contains(expected), "{output}: {text}");
    }

    let file = sb.url("/snippets/acme/kypj/files/checklist.md");
    let target = location(&get(file).await.expect("request"));
    let revision = target
        .strip_prefix(&sb.url("/snippets/acme/kypj/"))
        .and_then(|rest| rest.strip_suffix("/files/checklist.md"))
        .unwrap_or_else(|| panic!("not a snippet revision: {target}"));
    assert!(
        revision.len() == 12 && revision.bytes().all(|b| b.is_ascii_hexdigit()),
        "{target}"
    );
    let page = get(target.clone()).await.expect("request");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("body")
            .starts_with("# Deploy checklist")
    );
    let stale = target.replace(revision, "000000000000");
    let response = get(stale).await.expect("request");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("json");
    validate_schema(
        "unknown snippet revision",
        &body,
        &json!({ "$ref": "#/components/schemas/error" }),
    );
}

/// The operations `tests/schemathesis/run.sh` fuzzes are exactly the spec's operations that the
/// router answers, so `tests/schemathesis/operations.txt` cannot go stale: every operation of
/// the spec is sent with made-up path parameters, and the router answered it unless the reply
/// is its own fallback (404 `Resource not found: ...`, or 405). The file's `!` lines are
/// operations the router answers that are not fuzzed, each with its reason there.
#[tokio::test]
async fn operations_list_matches_the_router() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/schemathesis/operations.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let listed: BTreeSet<String> = text
        .lines()
        .map(|line| line.trim_start_matches('!'))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();

    let sb = start().await;
    let mut answered = BTreeSet::new();
    let paths = spec()["paths"].as_object().expect("the spec has paths");
    for (path, item) in paths {
        let concrete = fill_parameters(path, "nowhere");
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if item.get(method.to_lowercase()).is_none() {
                continue;
            }
            let method = Method::from_bytes(method.as_bytes()).expect("a method");
            let mut request = sb.demo(method.clone(), &concrete);
            if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
                request = request.json(&json!({}));
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let message = body["error"]["message"].as_str().unwrap_or_default();
            let fallback = (status == 404 && message.starts_with("Resource not found: "))
                || (status == 405 && message.starts_with("Method "));
            if !fallback {
                answered.insert(format!("{method} {path}"));
            }
        }
    }
    let unlisted: Vec<_> = answered.difference(&listed).collect();
    let unanswered: Vec<_> = listed.difference(&answered).collect();
    assert!(
        unlisted.is_empty() && unanswered.is_empty(),
        "tests/schemathesis/operations.txt is out of date\n\
         answered by the router but not listed: {unlisted:#?}\n\
         listed but not answered (or not in the spec): {unanswered:#?}"
    );
}

/// `path` with every `{parameter}` replaced by `value`.
fn fill_parameters(path: &str, value: &str) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("a parameter is closed") + open;
        filled.push_str(&rest[..open]);
        filled.push_str(value);
        rest = &rest[close + 1..];
    }
    filled.push_str(rest);
    filled
}
