//! `bbagent router` as an operator runs it: the server prints its URL first, and `keys` and
//! `connect` work on its data folder (or its `--database`, when the suite runs on
//! PostgreSQL) while it runs.

use bitbucket_sandbox::ALICE_TOKEN;
use serde_json::{Value, json};

use crate::support::{World, command, serve, stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_serves_while_keys_and_connect_change_its_data() {
    let world = World::start().await;
    let data = world.dir.path().join("router");
    let data = data.to_str().expect("utf-8 path");
    let log_path = world.dir.path().join("router.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    // Every command names the database when the suite runs on PostgreSQL.
    let database = mcp_testkit::postgres::fresh().await;
    let database_args: Vec<&str> = match &database {
        Some(url) => vec!["--database", url],
        None => Vec::new(),
    };
    let run = |cwd: &std::path::Path, args: &[&str]| {
        command(cwd)
            .args(args)
            .args(&database_args)
            .output()
            .expect("bbagent runs")
    };
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    // Debug logging, so the scan for secrets at the end reads everything the router says.
    cmd.env("BBAGENT_LOG", "debug")
        .args(["router", "--listen", "127.0.0.1:0", "--data-dir", data])
        .args(&database_args)
        .stderr(log);
    let (_running, url) = serve(cmd);

    let created = run(
        world.dir.path(),
        &[
            "router",
            "keys",
            "create",
            "--name",
            "ci",
            "--data-dir",
            data,
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let key = stdout(&created).trim().to_owned();
    assert!(
        key.starts_with("bbr_") && !key.contains('\n'),
        "the key alone: {key}"
    );
    let listed = run(
        world.dir.path(),
        &["router", "keys", "list", "--data-dir", data],
    );
    let listing = stdout(&listed);
    assert!(
        listing.contains("\tci\t") && listing.contains("active"),
        "{listing}"
    );
    assert!(!listing.contains(&key));

    let http = reqwest::Client::new();
    let api = format!("{url}/api/v3.1/tool_router/session");
    let session: Value = http
        .post(&api)
        .header("x-api-key", &key)
        .json(&json!({"user_id": "u1", "toolkits": {"enable": ["bitbucket"]}}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = session["session_id"].as_str().expect("id");
    assert_eq!(session["mcp"]["url"], format!("{url}/tool_router/{id}/mcp"));

    let connect = |token: &str| {
        let mut cmd = command(world.dir.path());
        world.env(&mut cmd);
        cmd.args([
            "router",
            "connect",
            "--data-dir",
            data,
            "--user-id",
            "u1",
            "--access-token",
            token,
        ])
        .args(&database_args)
        .output()
        .expect("connect runs")
    };
    let bad = connect("wrong-token-123");
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("not accepted"), "{}", stderr(&bad));
    assert!(!stderr(&bad).contains("wrong-token-123"));
    let good = connect(ALICE_TOKEN);
    assert!(good.status.success(), "{}", stderr(&good));
    assert!(
        stderr(&good).contains("as Alice Liddell"),
        "{}",
        stderr(&good)
    );

    let me: Value = http
        .post(format!("{api}/{id}/execute"))
        .header("x-api-key", &key)
        .json(&json!({"tool_slug": "BITBUCKET_GET_CURRENT_USER", "arguments": {}}))
        .send()
        .await
        .expect("execute")
        .json()
        .await
        .expect("json");
    assert_eq!(me["data"]["display_name"], "Alice Liddell", "{me}");

    // The audit log, read while the router runs.
    let audit = run(
        world.dir.path(),
        &[
            "router",
            "audit",
            "--data-dir",
            data,
            "--user",
            "u1",
            "--since",
            "1h",
        ],
    );
    assert!(audit.status.success(), "{}", stderr(&audit));
    let line = stdout(&audit);
    assert!(
        line.contains("\tu1\t") && line.contains("BITBUCKET_GET_CURRENT_USER\tok\t"),
        "{line}"
    );
    let json = run(
        world.dir.path(),
        &["router", "audit", "--data-dir", data, "--json"],
    );
    let entry: Value = serde_json::from_str(stdout(&json).lines().next().unwrap_or_default())
        .expect("a JSON line");
    assert_eq!(entry["outcome"], "ok", "{entry}");
    let nobody = run(
        world.dir.path(),
        &["router", "audit", "--data-dir", data, "--user", "nobody"],
    );
    assert!(nobody.status.success());
    assert!(stderr(&nobody).contains("no executions match"));
    let bad = run(
        world.dir.path(),
        &[
            "router",
            "audit",
            "--data-dir",
            data,
            "--since",
            "last tuesday",
        ],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("is no time"), "{}", stderr(&bad));

    let revoked = run(
        world.dir.path(),
        &["router", "keys", "revoke", "ci", "--data-dir", data],
    );
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let refused = http
        .get(format!("{api}/{id}"))
        .header("x-api-key", &key)
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    let log = std::fs::read_to_string(&log_path).expect("router log");
    // Without --public-url the URL it listens at is the public one, said once.
    assert!(
        log.contains(&format!("Tool router listening at {url} on")),
        "{log}"
    );
    if database.is_some() {
        assert!(
            log.contains("postgres://"),
            "the banner names the database: {log}"
        );
        assert!(
            !std::path::Path::new(data).join("router.db").exists(),
            "nothing is kept in SQLite"
        );
    }
    for secret in [key.as_str(), ALICE_TOKEN, "wrong-token-123"] {
        assert!(!log.contains(secret), "`{secret}` is in the router's log");
    }
}

/// A database URL the router cannot use is refused with a clear message, without its password.
#[test]
fn a_bad_database_url_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("router");
    let data = data.to_str().expect("utf-8 path");
    for (url, says) in [
        (
            "mysql://ops:hunter2@db/router",
            "`mysql:` is no database this router knows",
        ),
        ("not a url", "is no database URL"),
        (
            "postgres://ops:hunter2@127.0.0.1:9/router",
            "cannot open the router database at `postgres://ops:***@127.0.0.1:9/router`",
        ),
    ] {
        let out = command(dir.path())
            .args([
                "router",
                "--database",
                url,
                "keys",
                "list",
                "--data-dir",
                data,
            ])
            .output()
            .expect("bbagent runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(err.contains(says), "{url}: {err}");
        assert!(!err.contains("hunter2"), "the password stays out: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
