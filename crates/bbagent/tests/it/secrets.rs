//! No secret in plaintext anywhere: the sandbox, `ask` with a model and a history file,
//! `mcp --http` and the router run with known secret values and debug logging, and then every
//! byte they printed and every file they left (logs, histories, databases, git repositories)
//! is searched for each secret.

use std::path::Path;

use bitbucket_sandbox::ALICE_TOKEN;
use llm_script::{Provider, ScriptedLlm, ServerConfig, Turn};
use mcp_testkit::{Era, call, connect_http, ok};
use serde_json::{Value, json};

use crate::support::{Running, command, files_under, serve, stderr, stdout, tokio_command};

/// The user's own token for the sandbox (the demo one is public), and one that is wrong.
const BITBUCKET_TOKEN: &str = "bbt-Secret-7Q2w9xK";
const WRONG_TOKEN: &str = "bbt-Wrong-4Lm8pZ";
const MODEL_KEY: &str = "sk-llm-Secret-8Xv3nJ";
const MCP_KEY: &str = "mcp-Secret-5Rt1yH";

/// Starts `bbagent <args>` with debug logging into `log` and returns it with its URL.
fn serve_logged(dir: &Path, args: &[&str], env: &[(&str, &str)], log: &str) -> (Running, String) {
    let mut cmd = command(dir);
    cmd.envs(env.iter().copied())
        .env("BBAGENT_LOG", "debug")
        .args(args)
        .stderr(std::fs::File::create(dir.join(log)).expect("log file"));
    serve(cmd)
}

fn assert_no_secret(what: &str, bytes: &[u8], secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !bytes
                .windows(secret.len())
                .any(|window| window == secret.as_bytes()),
            "`{secret}` is in {what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_printed_logged_or_stored() {
    let home = tempfile::tempdir().expect("dir");
    let dir = home.path();
    let mut printed = Vec::<u8>::new();

    // The sandbox, with a token of the user's own.
    let (_sandbox, base) = serve_logged(
        dir,
        &[
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "sandbox",
        ],
        &[("BBAGENT_SANDBOX_TOKEN", BITBUCKET_TOKEN)],
        "sandbox.log",
    );
    let bitbucket = [
        ("BITBUCKET_BASE_URL", base.as_str()),
        ("BITBUCKET_EMAIL", "demo@example.com"),
        ("BITBUCKET_API_TOKEN", BITBUCKET_TOKEN),
    ];

    // `ask` with a model behind a key, a history file, and a tool call that writes.
    let llm = ScriptedLlm::start_with(
        ServerConfig::new(Provider::OpenAi).with_api_key(Some(MODEL_KEY.to_owned())),
    )
    .await
    .expect("llm");
    llm.push_turn(Turn::text("Filing it.").with_tool_call(
        "BITBUCKET_CREATE_ISSUE",
        json!({"workspace": "acme", "repo_slug": "widgets", "title": "Token rotation"}),
    ));
    llm.push_turn(Turn::text("Filed."));
    let ask = |token: &str, history: &str| {
        let mut cmd = tokio_command(dir);
        cmd.envs(bitbucket)
            .env("BITBUCKET_API_TOKEN", token)
            .env("OPENAI_API_KEY", MODEL_KEY)
            .env("BBAGENT_LOG", "debug")
            .args(["ask", "--model", "openai:gpt-5", "--base-url"])
            .arg(llm.base_url())
            .args(["--history", history, "file an issue about token rotation"]);
        cmd.output()
    };
    let asked = ask(BITBUCKET_TOKEN, "history.json")
        .await
        .expect("ask runs");
    assert!(asked.status.success(), "{}", stderr(&asked));
    assert!(llm.requests().len() >= 2, "the model saw the tool result");
    printed.extend(&asked.stdout);
    printed.extend(&asked.stderr);
    // A refused token: the error says so without repeating it.
    llm.push_turn(Turn::text("Filing it.").with_tool_call(
        "BITBUCKET_CREATE_ISSUE",
        json!({"workspace": "acme", "repo_slug": "widgets", "title": "Token rotation"}),
    ));
    llm.push_turn(Turn::text("Bitbucket refused the token."));
    let refused = ask(WRONG_TOKEN, "refused.json").await.expect("ask runs");
    let said = format!("{}{}", stdout(&refused), stderr(&refused));
    assert!(said.contains("401"), "{said}");
    printed.extend(&refused.stdout);
    printed.extend(&refused.stderr);

    // `mcp --http` behind an API key, called with it and with a wrong one.
    let (_mcp, url) = serve_logged(
        dir,
        &["mcp", "--http", "127.0.0.1:0"],
        &[bitbucket.as_slice(), &[("BBAGENT_API_KEY", MCP_KEY)]].concat(),
        "mcp.log",
    );
    let (session, _) = connect_http(&url, Some(MCP_KEY), Era::Stateless, None).await;
    ok(
        "issue",
        &call(
            &session,
            "BITBUCKET_GET_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 1}),
        )
        .await,
    );
    session.cancel().await.expect("close");
    let refused = reqwest::Client::new()
        .post(&url)
        .header("x-api-key", WRONG_TOKEN)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    printed.extend(refused.bytes().await.expect("body"));

    // The router: an API key, a user connected with a token, a call through it.
    let router = ["--data-dir", "router"];
    let (_router, router_url) = serve_logged(
        dir,
        &[&["router", "--listen", "127.0.0.1:0"][..], &router].concat(),
        &bitbucket,
        "router.log",
    );
    let mut created = command(dir);
    created
        .envs(bitbucket)
        .args(["router", "keys", "create", "--name", "ci"])
        .args(router);
    let created = created.output().expect("keys create");
    assert!(created.status.success(), "{}", stderr(&created));
    let key = stdout(&created).trim().to_owned();
    printed.extend(&created.stderr);
    let mut connect = tokio_command(dir);
    connect
        .envs(bitbucket)
        .args([
            "router",
            "connect",
            "--user-id",
            "u1",
            "--access-token",
            ALICE_TOKEN,
        ])
        .args(router);
    let connected = connect.output().await.expect("connect");
    assert!(connected.status.success(), "{}", stderr(&connected));
    printed.extend(&connected.stdout);
    printed.extend(&connected.stderr);
    let http = reqwest::Client::new();
    let api = format!("{router_url}/api/v3.1/tool_router/session");
    let session: Value = http
        .post(&api)
        .header("x-api-key", &key)
        .json(&json!({"user_id": "u1", "toolkits": {"enable": ["bitbucket"]}}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let id = session["session_id"].as_str().expect("session id");
    let me = http
        .post(format!("{api}/{id}/execute"))
        .header("x-api-key", &key)
        .json(&json!({"tool_slug": "BITBUCKET_GET_CURRENT_USER", "arguments": {}}))
        .send()
        .await
        .expect("execute")
        .bytes()
        .await
        .expect("body");
    assert!(
        String::from_utf8_lossy(&me).contains("Alice Liddell"),
        "{me:?}"
    );
    printed.extend(&me);
    drop((_sandbox, _mcp, _router));

    let secrets = [
        BITBUCKET_TOKEN,
        WRONG_TOKEN,
        MODEL_KEY,
        MCP_KEY,
        ALICE_TOKEN,
        key.as_str(),
    ];
    assert_no_secret("what the commands printed", &printed, &secrets);
    let left = files_under(dir);
    for expected in ["sandbox.log", "mcp.log", "router.log", "history.json"] {
        assert!(
            left.iter().any(|f| f.ends_with(expected)),
            "{expected} was written"
        );
    }
    for file in left {
        let bytes = std::fs::read(&file).expect("read");
        // Alice's token is the sandbox's own seed login, printed in its banner as the demo
        // one is; what matters is that the router, which holds it for `u1`, keeps it hidden.
        let secrets: Vec<&str> = secrets
            .iter()
            .copied()
            .filter(|s| *s != ALICE_TOKEN || !file.ends_with("sandbox.log"))
            .collect();
        assert_no_secret(&file.display().to_string(), &bytes, &secrets);
    }
}
