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

/// A form body (`application/x-www-form-urlencoded`).
fn form_body<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("url");
    url.query_pairs_mut().extend_pairs(fields);
    url.query().unwrap_or_default().to_owned()
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

    // An OAuth consumer of the sandbox's own (its secret is printed once, by design, so that
    // output is not searched), made in a seeded data folder before the sandbox serves it.
    let seeded = bitbucket_sandbox::Sandbox::start(bitbucket_sandbox::SandboxConfig::new(
        dir.join("sandbox"),
    ))
    .await
    .expect("seed");
    seeded.shutdown().await;
    let consumer = crate::support::run(
        dir,
        &[
            "sandbox",
            "consumers",
            "create",
            "--data-dir",
            "sandbox",
            "--name",
            "Router",
            "--callback",
            "http://127.0.0.1",
            "--scopes",
            "account repository",
        ],
    );
    assert!(consumer.status.success(), "{}", stderr(&consumer));
    let field = |name: &str| {
        stdout(&consumer)
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
            .expect("field")
    };
    let (client_id, client_secret) = (field("client_id:"), field("client_secret:"));
    printed.extend(&consumer.stderr);

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

    // A router that connects users through the sandbox's consent page: the browser sees the
    // state and the code, the router holds the consumer secret and the tokens.
    let oauth_router = ["--data-dir", "router-oauth"];
    let (_oauth_router, oauth_url) = serve_logged(
        dir,
        &[
            &[
                "router",
                "--listen",
                "127.0.0.1:0",
                "--oauth-client-id",
                &client_id,
            ][..],
            &oauth_router,
        ]
        .concat(),
        &[
            bitbucket.as_slice(),
            &[("BBAGENT_OAUTH_CLIENT_SECRET", client_secret.as_str())],
        ]
        .concat(),
        "router-oauth.log",
    );
    let mut created = command(dir);
    created
        .args(["router", "keys", "create", "--name", "ci"])
        .args(oauth_router);
    let created = created.output().expect("keys create");
    let oauth_key = stdout(&created).trim().to_owned();
    let api = format!("{oauth_url}/api/v3.1/tool_router/session");
    let session: Value = http
        .post(&api)
        .header("x-api-key", &oauth_key)
        .json(&json!({"user_id": "u2", "toolkits": {"enable": ["bitbucket"]}}))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let id = session["session_id"]
        .as_str()
        .expect("session id")
        .to_owned();
    let link: Value = http
        .post(format!("{api}/{id}/link"))
        .header("x-api-key", &oauth_key)
        .json(&json!({"toolkit": "bitbucket"}))
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let go = |r: &reqwest::Response| {
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    };
    let to_consent = browser
        .get(link["redirect_url"].as_str().expect("link url"))
        .send()
        .await
        .expect("link");
    let authorize = reqwest::Url::parse(&go(&to_consent)).expect("authorize url");
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");
    let mut fields: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    fields.push(("login".into(), "demo@example.com".into()));
    fields.push(("token".into(), BITBUCKET_TOKEN.into()));
    let site = base.trim_end_matches("/2.0");
    let consent = browser
        .post(format!("{site}/site/oauth2/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
        .send()
        .await
        .expect("sign in")
        .text()
        .await
        .expect("page");
    let ticket = consent
        .split("name=\"ticket\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("ticket")
        .to_owned();
    let back = browser
        .post(format!("{site}/site/oauth2/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body([
            ("ticket", ticket.as_str()),
            ("decision", "approve"),
        ]))
        .send()
        .await
        .expect("approve");
    let callback = go(&back);
    let code = reqwest::Url::parse(&callback)
        .expect("callback url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let done = browser.get(&callback).send().await.expect("callback");
    let page = done.text().await.expect("page");
    assert!(page.contains("Connected as Demo User"), "{page}");
    printed.extend(page.as_bytes());
    let me = http
        .post(format!("{api}/{id}/execute"))
        .header("x-api-key", &oauth_key)
        .json(&json!({"tool_slug": "BITBUCKET_GET_CURRENT_USER", "arguments": {}}))
        .send()
        .await
        .expect("execute")
        .bytes()
        .await
        .expect("body");
    assert!(String::from_utf8_lossy(&me).contains("Demo User"), "{me:?}");
    printed.extend(&me);
    drop((_sandbox, _mcp, _router, _oauth_router));

    let secrets = [
        BITBUCKET_TOKEN,
        WRONG_TOKEN,
        MODEL_KEY,
        MCP_KEY,
        ALICE_TOKEN,
        key.as_str(),
        oauth_key.as_str(),
        client_secret.as_str(),
        code.as_str(),
        state.as_str(),
        ticket.as_str(),
    ];
    assert_no_secret("what the commands printed", &printed, &secrets);
    let left = files_under(dir);
    for expected in [
        "sandbox.log",
        "mcp.log",
        "router.log",
        "router-oauth.log",
        "history.json",
    ] {
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
