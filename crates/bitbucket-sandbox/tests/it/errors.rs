//! Bad input gets the right status and Bitbucket's error envelope, never a 500.

use reqwest::Method;
use serde_json::Value;

use crate::support::{error_message, start};

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    auth: Auth,
    status: u16,
    message_contains: &'static str,
}

#[derive(Clone, Copy)]
enum Auth {
    Demo,
    Alice,
    None,
    Wrong,
}

fn case(
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    status: u16,
    message_contains: &'static str,
) -> Case {
    Case {
        name,
        method,
        path,
        body,
        auth: Auth::Demo,
        status,
        message_contains,
    }
}

#[tokio::test]
async fn bad_input_gets_the_error_envelope() {
    let sb = start().await;
    let branches = "/repositories/acme/widgets/refs/branches";
    let mut cases = vec![
        case(
            "invalid branch name",
            Method::POST,
            branches,
            Some(r#"{"name":"bad..name","target":{"hash":"main"}}"#),
            400,
            "not a valid branch name",
        ),
        case(
            "branch name with space",
            Method::POST,
            branches,
            Some(r#"{"name":"bad name","target":{"hash":"main"}}"#),
            400,
            "not a valid branch name",
        ),
        case(
            "branch name ending .lock",
            Method::POST,
            branches,
            Some(r#"{"name":"x.lock","target":{"hash":"main"}}"#),
            400,
            "not a valid branch name",
        ),
        case(
            "duplicate branch",
            Method::POST,
            branches,
            Some(r#"{"name":"develop","target":{"hash":"main"}}"#),
            400,
            "already exists",
        ),
        case(
            "unknown target",
            Method::POST,
            branches,
            Some(r#"{"name":"x","target":{"hash":"nope"}}"#),
            400,
            "does not exist",
        ),
        case(
            "missing branch name",
            Method::POST,
            branches,
            Some(r#"{"target":{"hash":"main"}}"#),
            400,
            "name is required",
        ),
        case(
            "unknown repository",
            Method::GET,
            "/repositories/acme/nope",
            None,
            404,
            "acme/nope not found",
        ),
        case(
            "unknown workspace",
            Method::GET,
            "/repositories/nobody/widgets",
            None,
            404,
            "not found",
        ),
        case(
            "disabled issue tracker",
            Method::GET,
            "/repositories/acme/website/issues",
            None,
            404,
            "no issue tracker",
        ),
        case(
            "disabled issue tracker on create",
            Method::POST,
            "/repositories/acme/website/issues",
            Some(r#"{"title":"x"}"#),
            404,
            "no issue tracker",
        ),
        case(
            "malformed JSON",
            Method::POST,
            branches,
            Some(r#"{"name": "x", "#),
            400,
            "Malformed JSON",
        ),
        case(
            "wrong JSON type",
            Method::POST,
            branches,
            Some(r#"{"name": 5}"#),
            400,
            "Invalid request body",
        ),
        case(
            "pagelen above 100",
            Method::GET,
            "/repositories/acme/widgets/issues?pagelen=101",
            None,
            400,
            "Invalid pagelen",
        ),
        case(
            "pagelen above 50 on PRs",
            Method::GET,
            "/repositories/acme/widgets/pullrequests?pagelen=51",
            None,
            400,
            "Invalid pagelen",
        ),
        case(
            "pagelen zero",
            Method::GET,
            "/repositories/acme/widgets/refs/branches?pagelen=0",
            None,
            400,
            "Invalid pagelen",
        ),
        case(
            "pagelen not a number",
            Method::GET,
            "/repositories/acme?pagelen=ten",
            None,
            400,
            "Invalid pagelen",
        ),
        case(
            "bad q",
            Method::GET,
            "/repositories/acme/widgets/issues?q=state%3D",
            None,
            400,
            "invalid `q`",
        ),
        case(
            "bad q operator",
            Method::GET,
            "/repositories/acme/widgets/issues?q=state%20%3D%3D%20%22new%22",
            None,
            400,
            "invalid `q`",
        ),
        case(
            "bad sort",
            Method::GET,
            "/repositories/acme/widgets/issues?sort=-",
            None,
            400,
            "invalid `sort`",
        ),
        case(
            "missing file",
            Method::GET,
            "/repositories/acme/widgets/src/main/nope.txt",
            None,
            404,
            "No such file",
        ),
        case(
            "unknown revision",
            Method::GET,
            "/repositories/acme/widgets/src/deadbeef/README.md",
            None,
            404,
            "not found",
        ),
        case(
            "unknown PR state",
            Method::GET,
            "/repositories/acme/widgets/pullrequests?state=OPENED",
            None,
            400,
            "Invalid state",
        ),
        case(
            "unknown issue",
            Method::GET,
            "/repositories/acme/widgets/issues/999",
            None,
            404,
            "does not exist",
        ),
        case(
            "non-numeric issue id",
            Method::GET,
            "/repositories/acme/widgets/issues/abc",
            None,
            400,
            "Invalid issue id",
        ),
        case(
            "issue without title",
            Method::POST,
            "/repositories/acme/widgets/issues",
            Some(r#"{"content":{"raw":"x"}}"#),
            400,
            "title",
        ),
        case(
            "issue with bad kind",
            Method::POST,
            "/repositories/acme/widgets/issues",
            Some(r#"{"title":"x","kind":"feature"}"#),
            400,
            "Invalid kind",
        ),
        case(
            "PR from a missing branch",
            Method::POST,
            "/repositories/acme/widgets/pullrequests",
            Some(r#"{"title":"x","source":{"branch":{"name":"nope"}}}"#),
            400,
            "not found",
        ),
        case(
            "PR with no changes",
            Method::POST,
            "/repositories/acme/widgets/pullrequests",
            Some(
                r#"{"title":"x","source":{"branch":{"name":"main"}},"destination":{"branch":{"name":"develop"}}}"#,
            ),
            400,
            "no changes",
        ),
        case(
            "PR onto itself",
            Method::POST,
            "/repositories/acme/widgets/pullrequests",
            Some(
                r#"{"title":"x","source":{"branch":{"name":"develop"}},"destination":{"branch":{"name":"develop"}}}"#,
            ),
            400,
            "must be different",
        ),
        case(
            "second open PR for the same branches",
            Method::POST,
            "/repositories/acme/widgets/pullrequests",
            Some(r#"{"title":"x","source":{"branch":{"name":"feature/login"}}}"#),
            400,
            "Only one pull request",
        ),
        case(
            "invalid repository slug",
            Method::POST,
            "/repositories/acme/Bad%20Slug",
            Some("{}"),
            400,
            "Invalid repository slug",
        ),
        case(
            "existing repository",
            Method::POST,
            "/repositories/acme/widgets",
            Some("{}"),
            400,
            "already exists",
        ),
        case(
            "unknown path",
            Method::GET,
            "/no/such/endpoint",
            None,
            404,
            "Resource not found",
        ),
        case(
            "wrong method",
            Method::PATCH,
            "/repositories/acme/widgets",
            None,
            405,
            "not allowed",
        ),
        case(
            "old workspaces endpoint",
            Method::GET,
            "/workspaces",
            None,
            410,
            "no longer supported",
        ),
        Case {
            name: "missing credentials",
            method: Method::GET,
            path: "/user",
            body: None,
            auth: Auth::None,
            status: 401,
            message_contains: "Unauthorized",
        },
        Case {
            name: "missing credentials on a private repo",
            method: Method::GET,
            path: "/repositories/acme/widgets",
            body: None,
            auth: Auth::None,
            status: 401,
            message_contains: "Unauthorized",
        },
        Case {
            name: "wrong credentials",
            method: Method::GET,
            path: "/repositories/acme/widgets",
            body: None,
            auth: Auth::Wrong,
            status: 401,
            message_contains: "Unauthorized",
        },
        Case {
            name: "not a member",
            method: Method::GET,
            path: "/repositories/demo/notes",
            body: None,
            auth: Auth::Alice,
            status: 403,
            message_contains: "do not have access",
        },
        Case {
            name: "member may not delete",
            method: Method::DELETE,
            path: "/repositories/acme/widgets",
            body: None,
            auth: Auth::Alice,
            status: 403,
            message_contains: "admin access",
        },
    ];
    let mut failures = Vec::new();
    for c in cases.drain(..) {
        let request = match c.auth {
            Auth::Demo => sb.demo(c.method.clone(), c.path),
            Auth::Alice => sb.as_user(c.method.clone(), c.path, "alice-token"),
            Auth::None => sb.http.request(c.method.clone(), sb.url(c.path)),
            Auth::Wrong => sb
                .http
                .request(c.method.clone(), sb.url(c.path))
                .basic_auth("demo@example.com", Some("wrong")),
        };
        let request = match c.body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(body),
            None => request,
        };
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => {
                failures.push(format!("{}: not JSON: {text}", c.name));
                continue;
            }
        };
        if status != c.status {
            failures.push(format!(
                "{}: status {status}, expected {}: {body}",
                c.name, c.status
            ));
            continue;
        }
        let message = error_message(&body);
        let detail = body["error"]["detail"].as_str().unwrap_or("");
        if !message.contains(c.message_contains) && !detail.contains(c.message_contains) {
            failures.push(format!(
                "{}: message {message:?} lacks {:?}",
                c.name, c.message_contains
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn unauthorized_answers_ask_for_basic_auth() {
    let sb = start().await;
    let response = sb.http.get(sb.url("/user")).send().await.expect("request");
    assert_eq!(response.status(), 401);
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok());
    assert_eq!(challenge, Some("Basic realm=\"Bitbucket.org HTTP\""));
}

#[tokio::test]
async fn injected_429_carries_retry_after() {
    let sb = start().await;
    sb.sandbox
        .set_faults("429=1,retry-after=7".parse().expect("spec"));
    let response = sb.demo(Method::GET, "/user").send().await.expect("request");
    assert_eq!(response.status(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    let body: Value = response.json().await.expect("json");
    assert!(error_message(&body).contains("Rate limit"));
    sb.sandbox.set_faults(Default::default());
    let response = sb.demo(Method::GET, "/user").send().await.expect("request");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn path_traversal_in_src_is_refused() {
    let sb = start().await;
    for path in [
        "/repositories/acme/widgets/src/main/../../../etc/passwd",
        "/repositories/acme/widgets/src/main/%2e%2e/%2e%2e/etc/passwd",
        "/repositories/acme/widgets/src/main/docs/%2E%2E/%2E%2E/x",
        "/repositories/acme/widgets/src/main/./README.md",
        "/repositories/acme/widgets/src/../README.md",
    ] {
        let (status, body) = sb.raw_get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            error_message(&body).contains("Invalid path"),
            "{path}: {body}"
        );
    }
}

/// A ref is a file: a name too long for one, or nested too deep for a path, used to fail in
/// git with a 500. Every way a branch or tag name comes in refuses it as a 400 instead.
#[tokio::test]
async fn over_long_and_deeply_nested_ref_names_are_400() {
    let sb = start().await;
    let long = "x".repeat(251);
    let deep = "a/".repeat(300) + "a";
    let deeper_than_gix_goes = "c/".repeat(30) + "c";
    for name in [&long, &deep, &deeper_than_gix_goes] {
        let new_ref = serde_json::json!({"name": name, "target": {"hash": "main"}});
        for path in [
            "/repositories/acme/widgets/refs/branches",
            "/repositories/acme/widgets/refs/tags",
        ] {
            let (status, body) = sb.send_json(Method::POST, path, new_ref.clone()).await;
            assert_eq!(status, 400, "{path} {}: {body}", name.len());
            assert!(
                error_message(&body).contains("is not a valid"),
                "{path}: {body}"
            );
            assert!(
                body["error"]["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("at most 250 bytes in at most 20")),
                "{body}"
            );
        }
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("message", "m"), ("branch", name.as_str()), ("x.txt", "x")])
            .finish();
        let response = sb
            .demo(Method::POST, "/repositories/acme/widgets/src")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.status(),
            400,
            "POST /src with a {}-byte branch",
            name.len()
        );
        let body: Value = response.json().await.expect("json");
        error_message(&body);
        let repo = serde_json::json!({"scm": "git", "mainbranch": {"name": name}});
        let (status, body) = sb
            .send_json(Method::POST, "/repositories/acme/too-long-main", repo)
            .await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = sb
            .raw_get(&format!("/repositories/acme/widgets/refs/branches/{name}"))
            .await;
        assert_eq!(status, 404, "{body}");
    }
    // The limit itself, and a deep name within it, are fine.
    for name in ["y".repeat(250), "b/".repeat(19) + "b"] {
        let new_ref = serde_json::json!({"name": name, "target": {"hash": "main"}});
        let (status, body) = sb
            .send_json(
                Method::POST,
                "/repositories/acme/widgets/refs/branches",
                new_ref,
            )
            .await;
        assert_eq!(status, 201, "{}: {body}", name.len());
        assert_eq!(body["name"], name.as_str());
    }
}

/// Endpoints that take JSON check the content type, as Bitbucket does: a JSON document sent
/// as text, a form or XML is refused and creates nothing. Forms still go to `POST /src`.
#[tokio::test]
async fn json_endpoints_refuse_other_content_types() {
    let sb = start().await;
    let issues = "/repositories/acme/widgets/issues";
    let count = |page: Value| page["size"].as_u64().expect("size");
    let before = count(sb.get_json(issues).await);
    let json = r#"{"title":"sent as something else"}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = sb.demo(Method::POST, issues).body(json);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 415, "{content_type:?}");
        let body: Value = response.json().await.expect("json");
        let message = error_message(&body);
        assert!(message.contains("application/json"), "{message}");
    }
    for form in ["title=sent+as+a+form", "<issue><title>xml</title></issue>"] {
        let response = sb
            .demo(Method::POST, issues)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 415, "{form}");
    }
    assert_eq!(
        count(sb.get_json(issues).await),
        before,
        "an issue was created"
    );

    // JSON with parameters is JSON; a bodiless POST needs no content type.
    let response = sb
        .demo(Method::POST, issues)
        .header("content-type", "application/json; charset=utf-8")
        .body(json)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    assert_eq!(count(sb.get_json(issues).await), before + 1);
    let response = sb
        .demo(Method::POST, "/repositories/acme/widgets/refs/branches")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert!(error_message(&body).contains("name is required"), "{body}");
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("message", "a form"), ("form.txt", "still works")])
        .finish();
    let response = sb
        .demo(Method::POST, "/repositories/acme/widgets/src")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
}

/// A client that never finishes its headers, or its body, is closed after the timeout
/// rather than held open for ever (issue 14's probe held such requests for 95 s and more).
#[tokio::test]
async fn unfinished_requests_are_closed_after_the_timeouts() {
    use std::time::Duration;

    use bitbucket_sandbox::{Limits, Sandbox, SandboxConfig};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits::default()
        .with_header_timeout(Duration::from_millis(200))
        .with_body_timeout(Duration::from_millis(200));
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()).with_limits(limits))
        .await
        .expect("sandbox starts");
    let half_headers = "GET /2.0/user HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bea".to_owned();
    let half_body = "POST /2.0/repositories/acme/widgets/issues HTTP/1.1\r\nHost: localhost\r\n\
                     Authorization: Bearer sandbox-token\r\ncontent-type: application/json\r\n\
                     content-length: 100\r\n\r\n{\"title\":"
        .to_owned();
    for (request, answer) in [(half_headers, None), (half_body, Some("HTTP/1.1 400"))] {
        let mut stream = tokio::net::TcpStream::connect(sandbox.addr())
            .await
            .expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut seen = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut seen)).await;
        assert!(read.is_ok(), "the sandbox kept an unfinished request open");
        let seen = String::from_utf8_lossy(&seen);
        match answer {
            None => assert!(!seen.contains("200 OK"), "{seen}"),
            Some(status) => {
                assert!(seen.starts_with(status), "{seen}");
                assert!(seen.contains("\"type\":\"error\""), "{seen}");
            }
        }
    }
}
