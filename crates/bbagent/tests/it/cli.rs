//! `bbagent tools` and `bbagent sandbox` as scripts use them.

use crate::support::{World, command, repo, run, stderr, stdout};

#[test]
fn tools_list_names_every_tool() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(dir.path(), &["tools", "list"]);
    assert!(out.status.success());
    let text = stdout(&out);
    let every = bitbucket_toolkit::Toolkit::catalogue().len();
    assert_eq!(text.lines().count(), every, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("BITBUCKET_DELETE_REPOSITORY") && l.contains("destructive"))
    );
    let out = run(dir.path(), &["tools", "list", "--json"]);
    let catalogue: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(catalogue.as_array().map(Vec::len), Some(every));
}

/// The demo token is public and shown; a token of the user's own is never printed.
#[test]
fn sandbox_banner_shows_no_token_of_the_users_own() {
    use std::io::{BufRead as _, BufReader};
    let dir = tempfile::tempdir().expect("dir");
    let banner = |token: Option<&str>| {
        let mut cmd = command(dir.path());
        cmd.args(["sandbox", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
        if let Some(token) = token {
            cmd.env("BBAGENT_SANDBOX_TOKEN", token);
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut url = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut url)
            .expect("line");
        // The banner ends with "Press Ctrl-C to stop."; stop once it is all there.
        let mut text = String::new();
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        while !text.contains("Press Ctrl-C to stop.") {
            if stderr.read_line(&mut text).expect("stderr") == 0 {
                break;
            }
        }
        child.kill().expect("kill");
        let _ = child.wait();
        (url.trim().to_owned(), text)
    };
    let (_, public) = banner(None);
    assert!(
        public.contains("login: demo@example.com / sandbox-token"),
        "{public}"
    );
    let secret = "s3cret-of-mine";
    let (url, own) = banner(Some(secret));
    assert!(!own.contains(secret), "{own}");
    assert!(
        own.contains("login: demo@example.com / $TOKEN") && own.contains("BBAGENT_SANDBOX_TOKEN"),
        "{own}"
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        public.contains("oauth: client id sandbox-consumer, secret sandbox-consumer-secret"),
        "{public}"
    );
}

/// `sandbox consumers create` adds a consumer whose credentials then get tokens of its
/// scopes; bad input and a running sandbox get clear errors, and nothing is added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_consumers_create_makes_a_working_consumer() {
    use bitbucket_sandbox::{Sandbox, SandboxConfig};
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let create = |extra: &[&str]| {
        let mut args = vec!["sandbox", "consumers", "create", "--data-dir", "data"];
        args.extend_from_slice(extra);
        run(dir.path(), &args)
    };
    let fresh = create(&["--name", "CI", "--callback", "http://127.0.0.1:9/cb"]);
    assert_eq!(fresh.status.code(), Some(1));
    assert!(
        stderr(&fresh).contains("start `bbagent sandbox` on it once first"),
        "{}",
        stderr(&fresh)
    );

    let sandbox = Sandbox::start(SandboxConfig::new(&data))
        .await
        .expect("seed");
    let busy = create(&["--name", "CI", "--callback", "http://127.0.0.1:9/cb"]);
    assert_eq!(busy.status.code(), Some(1));
    assert!(stderr(&busy).contains("stop it first"), "{}", stderr(&busy));
    sandbox.shutdown().await;

    for (extra, says) in [
        (
            [
                "--name",
                "CI",
                "--callback",
                "ftp://x",
                "--scopes",
                "repository",
            ],
            "http or https URL",
        ),
        (
            [
                "--name",
                "CI",
                "--callback",
                "http://127.0.0.1:9/cb",
                "--scopes",
                "repository root",
            ],
            "unknown scope `root`",
        ),
        (
            [
                "--name",
                " ",
                "--callback",
                "http://127.0.0.1:9/cb",
                "--scopes",
                "repository",
            ],
            "needs a name",
        ),
    ] {
        let out = create(&extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(stderr(&out).contains(says), "{extra:?}: {}", stderr(&out));
    }

    let made = create(&[
        "--name",
        "CI bot",
        "--callback",
        "http://127.0.0.1:9/cb",
        "--scopes",
        "repository,issue",
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    let printed = stdout(&made);
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{name} in {printed}"))
    };
    let (client_id, secret) = (field("client_id:"), field("client_secret:"));
    let sandbox = Sandbox::start(SandboxConfig::new(&data))
        .await
        .expect("restart");
    let site = sandbox.base_url().trim_end_matches("/2.0").to_owned();
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{site}/site/oauth2/access_token"))
        .basic_auth(&client_id, Some(&secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    assert_eq!(token["scopes"], "repository issue", "{token}");
    sandbox.shutdown().await;
}

// Multi-threaded: the test blocks on the child while the in-process sandbox must answer it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_call_runs_one_tool() {
    let world = World::start().await;
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    let out = cmd
        .args([
            "tools",
            "call",
            "BITBUCKET_GET_PULL_REQUEST",
            "--args",
            r#"{"workspace":"acme","repo_slug":"widgets","pull_request_id":1}"#,
        ])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Add login form"), "{}", stdout(&out));

    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    let out = cmd
        .args([
            "tools",
            "call",
            "BITBUCKET_CREATE_BRANCH",
            "--json",
            "--args",
            r#"{"workspace":"acme","repo_slug":"widgets","name":"from-cli"}"#,
        ])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(created["name"], "from-cli", "{created}");
    world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "from-cli")
        .await
        .expect("branch exists");

    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    let out = cmd
        .args([
            "tools",
            "call",
            "BITBUCKET_GET_REPOSITORY",
            "--args",
            r#"{"workspace":"acme","repo_slug":"nope"}"#,
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed tool fails the command"
    );
    assert!(stdout(&out).contains("acme/nope"), "{}", stdout(&out));
}

#[test]
fn tools_call_rejects_bad_input_before_reaching_bitbucket() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(dir.path(), &["tools", "call", "BITBUCKET_CREATE_BRANCHES"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean `BITBUCKET_CREATE_BRANCH`"),
        "{}",
        stderr(&out)
    );
    let out = run(
        dir.path(),
        &[
            "tools",
            "call",
            "BITBUCKET_GET_CURRENT_USER",
            "--args",
            "{oops",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not valid JSON"), "{}", stderr(&out));
    let out = run(
        dir.path(),
        &[
            "tools",
            "call",
            "BITBUCKET_GET_CURRENT_USER",
            "--args",
            "[1]",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("must be a JSON object"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sandbox_rejects_a_bad_fault_spec() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(dir.path(), &["sandbox", "--faults", "429=2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid fault spec"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn servers_reject_limits_that_serve_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    for (args, says) in [
        (
            &["sandbox", "--max-connections", "0"][..],
            "0 is not in 1..",
        ),
        (
            &[
                "mcp",
                "--http",
                "127.0.0.1:0",
                "--max-sessions-per-key",
                "0",
            ][..],
            "0 is not in 1..",
        ),
        (&["router", "--session-idle", "0s"][..], "more than `0s`"),
        (
            &["router", "--session-idle", "soon"][..],
            "invalid duration `soon`",
        ),
    ] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn sandbox_prints_its_url_first_and_reports_a_busy_folder() {
    use std::io::{BufRead as _, BufReader};
    let dir = tempfile::tempdir().expect("dir");
    let mut first = command(dir.path())
        .args(["sandbox", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(first.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("line");
    assert!(
        line.starts_with("http://127.0.0.1:") && line.trim_end().ends_with("/2.0"),
        "{line}"
    );
    let out = run(
        dir.path(),
        &["sandbox", "--listen", "127.0.0.1:0", "--data-dir", "data"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("in use by another running sandbox"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint:"), "{}", stderr(&out));
    first.kill().expect("kill");
    let _ = first.wait();
}

// Multi-threaded: the test blocks on the child while the in-process sandbox must answer it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_a_dot_env_file() {
    let world = World::start().await;
    std::fs::write(
        world.dir.path().join(".env"),
        format!(
            "BITBUCKET_BASE_URL={}\nBITBUCKET_EMAIL=demo@example.com\nBITBUCKET_API_TOKEN=sandbox-token\n",
            world.sandbox.base_url()
        ),
    )
    .expect("write .env");
    let out = run(
        world.dir.path(),
        &["tools", "call", "BITBUCKET_GET_CURRENT_USER"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Demo User"), "{}", stdout(&out));
    // The real environment wins over the file.
    let out = command(world.dir.path())
        .env("BITBUCKET_API_TOKEN", "wrong")
        .args(["tools", "call", "BITBUCKET_GET_CURRENT_USER"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stdout(&out).contains("wrong") && !stderr(&out).contains("wrong"),
        "the token is never echoed"
    );
}
