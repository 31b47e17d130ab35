//! OAuth connections end to end, with an HTTP client as the browser: the auth link sends the
//! user to the sandbox's consent page (state and PKCE), the router's callback stores the
//! tokens, executions use them, tokens refresh themselves (once across concurrent calls, the
//! rotated refresh token kept), and a refused refresh asks the user to connect again.

use std::time::Duration;

use bitbucket_sandbox::{DEMO_EMAIL, DEMO_TOKEN, SEED_CLIENT_ID, SEED_CLIENT_SECRET};
use reqwest::{StatusCode, redirect};
use secrecy::SecretString;
use serde_json::{Value, json};
use tool_router::oauth::OAuthClient;

use crate::support::{Env, start_on, start_router};

pub fn consumer(sandbox_url: &str, secret: &str) -> OAuthClient {
    let site = sandbox_url.trim_end_matches("/2.0");
    OAuthClient {
        client_id: SEED_CLIENT_ID.to_owned(),
        client_secret: SecretString::from(secret.to_owned()),
        scopes: "account repository pullrequest:write issue:write".to_owned(),
        authorize_url: format!("{site}/site/oauth2/authorize"),
        token_url: format!("{site}/site/oauth2/access_token"),
    }
}

pub async fn oauth_env(ttl: Duration) -> Env {
    start_on(
        |sandbox| sandbox.oauth_token_ttl = ttl,
        |router, sandbox_url| router.oauth = Some(consumer(sandbox_url, SEED_CLIENT_SECRET)),
    )
    .await
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned()
}

async fn form(browser: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    browser
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("post")
}

/// Follows an auth link through sign-in and consent as demo; the page the router shows last
/// (or its redirect).
pub async fn sign_in_through(env: &Env, link: &str, decision: &str) -> reqwest::Response {
    sign_in_for(env, link, decision, "pullrequest:write").await
}

/// [`sign_in_through`], checking that the consent page names `scope`, or (`!scope`) does not.
async fn sign_in_for(env: &Env, link: &str, decision: &str, scope: &str) -> reqwest::Response {
    sign_in_routed(env, link, decision, scope, &|url| url.to_owned()).await
}

/// [`sign_in_for`] where `route` maps each of the router's public URLs (the link, the
/// callback) to the address that receives it, as a load balancer in front of several
/// instances does.
pub async fn sign_in_routed(
    env: &Env,
    link: &str,
    decision: &str,
    scope: &str,
    route: &dyn Fn(&str) -> String,
) -> reqwest::Response {
    let browser = browser();
    let to_consent = browser.get(route(link)).send().await.expect("link");
    assert_eq!(
        to_consent.status(),
        StatusCode::FOUND,
        "the link sends the user to Bitbucket"
    );
    let authorize = location(&to_consent);
    let site = env.sandbox_url.trim_end_matches("/2.0");
    assert!(
        authorize.starts_with(&format!("{site}/site/oauth2/authorize?")),
        "{authorize}"
    );
    let asked = url::Url::parse(&authorize).expect("url");
    let param = |n: &str| {
        asked
            .query_pairs()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.into_owned())
    };
    assert!(param("state").is_some_and(|s| s.len() > 20), "{authorize}");
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    let mut fields: Vec<(String, String)> = asked.query_pairs().into_owned().collect();
    fields.push(("login".into(), DEMO_EMAIL.into()));
    fields.push(("token".into(), DEMO_TOKEN.into()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let consent = form(&browser, &format!("{site}/site/oauth2/authorize"), &fields).await;
    let page = consent.text().await.expect("consent page");
    match scope.strip_prefix('!') {
        Some(absent) => assert!(!page.contains(absent), "{page}"),
        None => assert!(page.contains(scope), "the page names the scopes: {page}"),
    }
    let ticket = page
        .split("name=\"ticket\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("ticket")
        .to_owned();
    let back = form(
        &browser,
        &format!("{site}/site/oauth2/authorize"),
        &[("ticket", &ticket), ("decision", decision)],
    )
    .await;
    assert_eq!(back.status(), StatusCode::FOUND);
    let callback = location(&back);
    assert!(
        callback.starts_with(&format!("{}/oauth/callback?", env.url())),
        "{callback}"
    );
    browser
        .get(route(&callback))
        .send()
        .await
        .expect("callback")
}

pub async fn create_branch(env: &Env, session: &str, name: &str) -> Value {
    env.execute(
        session,
        "BITBUCKET_CREATE_BRANCH",
        json!({"workspace": "acme", "repo_slug": "widgets", "name": name, "target": "main"}),
    )
    .await
}

#[tokio::test]
async fn a_user_connects_through_the_consent_page_and_the_tokens_work() {
    let env = oauth_env(Duration::from_secs(7200)).await;
    let session = env.session("u1").await;
    let link = env.link(&session).await;
    let done = sign_in_through(&env, &link, "approve").await;
    assert_eq!(done.status(), StatusCode::OK);
    let page = done.text().await.expect("page");
    assert!(page.contains("Connected as Demo User"), "{page}");
    let made = create_branch(&env, &session, "feature/oauth").await;
    assert_eq!(made["successful"], true, "{made}");
    env.bitbucket
        .get_branch(&crate::support::repo("acme", "widgets"), "feature/oauth")
        .await
        .expect("the branch exists");
    let again = browser().get(&link).send().await.expect("link");
    assert_eq!(again.status(), StatusCode::GONE, "a link works once");
}

#[tokio::test]
async fn a_denied_consent_stores_nothing() {
    let env = oauth_env(Duration::from_secs(7200)).await;
    let session = env.session("u1").await;
    let link = env.link(&session).await;
    let done = sign_in_through(&env, &link, "deny").await;
    let page = done.text().await.expect("page");
    assert!(page.contains("You declined access"), "{page}");
    let (_, status) = env.get(&format!("/{session}")).await;
    let made = create_branch(&env, &session, "feature/denied").await;
    assert_eq!(made["successful"], false, "{made} {status}");
    assert!(
        made["error"]
            .as_str()
            .is_some_and(|e| e.contains("no active connection")),
        "{made}"
    );
}

/// Access tokens that live 2 s: every call finds them expiring and refreshes; eight calls at
/// once refresh once (a second refresh would present a rotated-away refresh token, be
/// refused, and expire the connection), and later calls keep working on the rotated token.
#[tokio::test]
async fn tokens_refresh_themselves_once_across_concurrent_calls() {
    let env = oauth_env(Duration::from_secs(2)).await;
    let session = env.session("u1").await;
    let link = env.link(&session).await;
    assert_eq!(
        sign_in_through(&env, &link, "approve").await.status(),
        StatusCode::OK
    );
    for round in 0..2 {
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let names: Vec<String> = (0..8).map(|i| format!("r{round}/b{i}")).collect();
        let calls = names.iter().map(|name| create_branch(&env, &session, name));
        for made in futures::future::join_all(calls).await {
            assert_eq!(made["successful"], true, "round {round}: {made}");
        }
    }
}

/// A refresh that Bitbucket refuses (here: the router restarted with a wrong consumer secret)
/// marks the connection expired; the call answers with a new auth link, never a raw 401.
#[tokio::test]
async fn a_refused_refresh_asks_the_user_to_connect_again() {
    let mut env = oauth_env(Duration::from_secs(1)).await;
    let session = env.session("u1").await;
    let link = env.link(&session).await;
    assert_eq!(
        sign_in_through(&env, &link, "approve").await.status(),
        StatusCode::OK
    );
    if let Some(router) = env.router.take() {
        router.shutdown().await;
    }
    let sandbox_url = env.sandbox_url.clone();
    env.router = Some(
        start_router(&env.storage, &sandbox_url, |c| {
            c.oauth = Some(consumer(&sandbox_url, "wrong-secret"));
        })
        .await,
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let made = create_branch(&env, &session, "feature/expired").await;
    assert_eq!(made["successful"], false, "{made}");
    let error = made["error"].as_str().unwrap_or_default();
    assert!(error.contains("connection expired"), "{error}");
    assert!(
        error.contains(&format!("{}/link/", env.url())),
        "a new link: {error}"
    );
    assert!(!error.contains("401"), "{error}");

    // With the right consumer again, COMPOSIO_MANAGE_CONNECTIONS offers a new link for the
    // expired connection; signing in again makes it work.
    if let Some(router) = env.router.take() {
        router.shutdown().await;
    }
    env.router = Some(
        start_router(&env.storage, &sandbox_url, |c| {
            c.oauth = Some(consumer(&sandbox_url, SEED_CLIENT_SECRET));
        })
        .await,
    );
    let (status, managed) = env
        .post(
            &format!("/{session}/execute_meta"),
            json!({"slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {"toolkits": ["bitbucket"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{managed}");
    let result = &managed["data"]["results"]["bitbucket"];
    assert_eq!(result["status"], "initiated", "{managed}");
    assert_eq!(result["was_reinitiated"], true, "{managed}");
    let relink = result["redirect_url"].as_str().expect("a link").to_owned();
    assert_eq!(
        sign_in_through(&env, &relink, "approve").await.status(),
        StatusCode::OK
    );
    let made = create_branch(&env, &session, "feature/reconnected").await;
    assert_eq!(made["successful"], true, "{made}");
}

/// A consumer that asks only to read cannot open a pull request; the agent is told which
/// scope is missing.
#[tokio::test]
async fn a_token_without_the_scope_gets_a_clear_refusal() {
    let env = start_on(
        |_| {},
        |router, sandbox_url| {
            let mut client = consumer(sandbox_url, SEED_CLIENT_SECRET);
            client.scopes = "account repository".to_owned();
            router.oauth = Some(client);
        },
    )
    .await;
    let session = env.session("u1").await;
    let link = env.link(&session).await;
    let done = sign_in_for(&env, &link, "approve", "!pullrequest:write").await;
    assert_eq!(done.status(), StatusCode::OK);
    let read = env
        .execute(
            &session,
            "BITBUCKET_LIST_BRANCHES",
            json!({"workspace": "acme", "repo_slug": "widgets"}),
        )
        .await;
    assert_eq!(read["successful"], true, "{read}");
    let opened = env
        .execute(
            &session,
            "BITBUCKET_CREATE_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": "x", "source_branch": "develop"}),
        )
        .await;
    assert_eq!(opened["successful"], false, "{opened}");
    let error = opened["error"].as_str().unwrap_or_default();
    assert!(error.contains("pullrequest:write"), "{error}");
}
