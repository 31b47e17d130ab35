//! Two router instances on one database, as behind a load balancer: every request may land on
//! either, so neither may keep state of its own. The MCP client (2026-07-28, stateless)
//! alternates between them through the whole reference flow; the OAuth link is opened on one
//! and its callback lands on the other; one instance restarts in the middle; a token refresh
//! made by one is what the other uses. On PostgreSQL when the suite runs on it
//! (`BBAGENT_TEST_POSTGRES`), else on one SQLite file shared by both.

use std::time::Duration;

use mcp_testkit::{Answer, Era, call, connect_http, ok};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tool_router::RunningRouter;

use crate::oauth::{consumer, oauth_env, sign_in_routed};
use crate::support::{Env, repo, start_router};

use bitbucket_sandbox::SEED_CLIENT_SECRET;

/// Instance `b` beside `env`'s router `a`, on the same storage and master key, telling clients
/// the same public URL (the load balancer's).
async fn second_instance(env: &Env) -> RunningRouter {
    let public = env.url();
    let sandbox_url = env.sandbox_url.clone();
    start_router(&env.storage, &env.sandbox_url, |c| {
        c.public_url = Some(public);
        c.oauth = Some(consumer(&sandbox_url, SEED_CLIENT_SECRET));
    })
    .await
}

/// A public URL sent to the instance listening at `base` instead.
fn via(url: &str, public: &str, base: &str) -> String {
    url.strip_prefix(public)
        .map(|rest| format!("{base}{rest}"))
        .unwrap_or_else(|| panic!("`{url}` is not under the public URL `{public}`"))
}

/// A tool call's `{data, error, successful}` (unmarking an execution's data block).
fn data(result: &rmcp::model::CallToolResult) -> Value {
    let text = mcp_testkit::text(result);
    let text = if text.starts_with("<data ") {
        bitbucket_toolkit::unmark(&text)
    } else {
        text
    };
    serde_json::from_str(&text).expect("JSON")
}

/// `POST …/session/{id}/execute` on the instance at `base`.
async fn execute_on(env: &Env, base: &str, session: &str, slug: &str, arguments: Value) -> Value {
    let response = env
        .http
        .post(format!(
            "{base}/api/v3.1/tool_router/session/{session}/execute"
        ))
        .header("x-api-key", &env.key)
        .json(&json!({"tool_slug": slug, "arguments": arguments}))
        .send()
        .await
        .expect("execute");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn two_instances_on_one_database_serve_one_flow_alternately() {
    // Access tokens live 3 s, so the flow's end needs a refresh.
    let mut env = oauth_env(Duration::from_secs(3)).await;
    let public = env.url();
    let a_addr = env.router.as_ref().expect("a").addr();
    let b = second_instance(&env).await;
    let a_base = env.base();
    let b_base = format!("http://{}", b.addr());
    assert_eq!(b.url(), public, "both tell clients the same URL");

    // The session is created on a; its MCP endpoint answers on both.
    let session = env.session("alice").await;
    let path = format!("/tool_router/{session}/mcp");
    let mcp_a = format!("{a_base}{path}");
    let mcp_b = format!("{b_base}{path}");
    let era = Era::Stateless;
    let (on_b, _) = connect_http(&mcp_b, Some(&env.key), era, Some(Answer::Accept)).await;
    let found = data(
        &call(
            &on_b,
            "COMPOSIO_SEARCH_TOOLS",
            json!({"queries": [{"use_case": "create a branch", "known_fields": "workspace:acme, repo_slug:widgets"}]}),
        )
        .await,
    );
    assert_eq!(
        found["data"]["toolkit_connection_statuses"][0]["has_active_connection"], false,
        "{found}"
    );

    // The link is made on a, opened on b, and Bitbucket's callback lands on a.
    let (on_a, _) = connect_http(&mcp_a, Some(&env.key), era, Some(Answer::Accept)).await;
    let managed = data(
        &call(
            &on_a,
            "COMPOSIO_MANAGE_CONNECTIONS",
            json!({"toolkits": ["bitbucket"]}),
        )
        .await,
    );
    let link = managed["data"]["results"]["bitbucket"]["redirect_url"]
        .as_str()
        .unwrap_or_else(|| panic!("a link: {managed}"))
        .to_owned();
    let hops = std::sync::Mutex::new(0);
    let route = |url: &str| {
        let mut hops = hops.lock().expect("lock");
        *hops += 1;
        let base = if *hops % 2 == 1 { &b_base } else { &a_base };
        via(url, &public, base)
    };
    let done = sign_in_routed(&env, &link, "approve", "pullrequest:write", &route).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.expect("page").contains("Connected as"));
    assert_eq!(
        *hops.lock().expect("lock"),
        2,
        "the link on b, the callback on a"
    );

    // a restarts in the middle of the flow, on its address; b carries on meanwhile.
    env.router.take().expect("a").shutdown().await;
    let waited = data(
        &call(
            &on_b,
            "COMPOSIO_WAIT_FOR_CONNECTIONS",
            json!({"toolkits": ["bitbucket"]}),
        )
        .await,
    );
    assert_eq!(
        waited["data"]["results"]["bitbucket"]["status"], "ACTIVE",
        "{waited}"
    );
    let sandbox_url = env.sandbox_url.clone();
    env.router = Some(
        start_router(&env.storage, &env.sandbox_url, |c| {
            c.listen = a_addr;
            c.oauth = Some(consumer(&sandbox_url, SEED_CLIENT_SECRET));
        })
        .await,
    );

    // The same stateless client carries on with the restarted a.
    let executed = call(
        &on_a,
        "COMPOSIO_MULTI_EXECUTE_TOOL",
        json!({"tools": [{"tool_slug": "BITBUCKET_CREATE_BRANCH", "arguments":
            {"workspace": "acme", "repo_slug": "widgets", "name": "feature/two-instances", "target": "main"}}]}),
    )
    .await;
    let executed = ok("execute on a", &executed);
    assert_eq!(executed["data"]["success_count"], 1, "{executed}");

    // The token expires; eight calls at once, half on each instance, refresh it once between
    // them (a second refresh would present a rotated-away token, be refused and expire the
    // connection), and every call works.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let calls = (0..8).map(|i| {
        let base = if i % 2 == 0 { &a_base } else { &b_base };
        let arguments = json!({"workspace": "acme", "repo_slug": "widgets",
            "name": format!("refresh/{i}"), "target": "main"});
        execute_on(&env, base, &session, "BITBUCKET_CREATE_BRANCH", arguments)
    });
    for made in futures::future::join_all(calls).await {
        assert_eq!(made["successful"], true, "{made}");
    }
    for i in 0..8 {
        env.bitbucket
            .get_branch(&repo("acme", "widgets"), &format!("refresh/{i}"))
            .await
            .expect("every write landed once");
    }

    // The audit log, read on b, has what both instances ran.
    let response = env
        .http
        .get(format!("{b_base}/api/v3.1/tool_router/audit"))
        .header("x-api-key", &env.key)
        .send()
        .await
        .expect("audit");
    let audit: Value = response.json().await.expect("JSON");
    let executions = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["tool_slug"] == "BITBUCKET_CREATE_BRANCH" && e["outcome"] == "ok")
        .count();
    assert_eq!(executions, 9, "{audit}");

    on_a.cancel().await.ok();
    on_b.cancel().await.ok();
    b.shutdown().await;
}

/// Every instance on one database needs the same master key: one with another key refuses to
/// start, saying so, before any user's credentials fail to open.
#[tokio::test]
async fn an_instance_with_another_master_key_refuses_to_start() {
    let env = crate::support::start().await;
    let mut config =
        tool_router::RouterConfig::new("127.0.0.1:0".parse().expect("addr"), &env.storage.data_dir);
    config.database = env.storage.database.clone();
    config.master_key = Some("f".repeat(64));
    let toolkit = bitbucket_toolkit::Toolkit::new(
        bitbucket_client::Client::new(bitbucket_client::ClientConfig::new(&env.sandbox_url))
            .expect("client"),
    );
    let refused = tool_router::start(config, toolkit)
        .await
        .expect_err("another key is refused");
    let message = refused.to_string();
    assert!(
        message.contains("every router on one database needs the same key"),
        "{message}"
    );
    assert!(!message.contains(&"f".repeat(64)), "the key is not shown");
}

/// The load benchmark's small version: users with sessions and connections of their own, each
/// call landing on either instance, while the sandbox refuses 10% of requests (429 or 503):
/// no write is lost or duplicated, and every write was made with its own user's credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_on_two_instances_under_faults_loses_nothing_and_mixes_no_credentials() {
    const USERS: usize = 16;
    let env = crate::support::start().await;
    let b = {
        let public = env.url();
        start_router(&env.storage, &env.sandbox_url, |c| {
            c.public_url = Some(public)
        })
        .await
    };
    let bases = [env.base(), format!("http://{}", b.addr())];
    let display = |user: &str| format!("Load {user}");
    let mut users = Vec::new();
    for i in 0..USERS {
        let user = format!("load{i:03}");
        let token = format!("load-token-{i:03}");
        env._sandbox
            .create_user(
                &bitbucket_sandbox::NewUser {
                    username: user.clone(),
                    display_name: display(&user),
                    email: format!("{user}@example.com"),
                    token: token.clone(),
                },
                Some("acme"),
            )
            .await
            .expect("user");
        let session = env.session(&user).await;
        env.connect_with(&session, &token).await;
        let urls = bases
            .iter()
            .map(|base| format!("{base}/tool_router/{session}/mcp"))
            .collect();
        users.push((user, urls));
    }
    let plan = mcp_testkit::load::TeamPlan {
        key: env.key.clone(),
        users,
        calls: 6,
        marker: "team-load".to_owned(),
    };
    env._sandbox
        .set_faults("429=0.05,503=0.05,retry-after=1".parse().expect("faults"));
    let report = mcp_testkit::load::run_team(&plan).await;
    env._sandbox.set_faults(Default::default());
    assert!(
        report.protocol_errors.is_empty(),
        "{:?}",
        report.protocol_errors
    );
    assert_eq!(report.calls.len(), USERS * 6);
    assert!(
        report.created().len() > USERS,
        "most writes succeed: {}",
        report.created().len()
    );
    for (tool, message) in report.failures() {
        assert!(
            message.contains("try again") || message.contains("check"),
            "{tool}: a failure says what to do: {message}"
        );
    }
    let verdict = mcp_testkit::load::judge_team(&env.bitbucket, &plan, &report, display)
        .await
        .expect("issues");
    assert!(verdict.is_clean(), "{verdict:?}");
    b.shutdown().await;
}
