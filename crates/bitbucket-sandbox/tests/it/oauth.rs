//! OAuth 2.0 against the sandbox with an HTTP client as the browser: sign-in, consent, the
//! redirect, the token endpoint's three grants, rotation, expiry, PKCE and scopes.

use std::time::Duration;

use bitbucket_sandbox::{
    DEMO_EMAIL, DEMO_TOKEN, SEED_CLIENT_ID, SEED_CLIENT_SECRET, Sandbox, SandboxConfig,
};
use reqwest::{Method, StatusCode, redirect};
use serde_json::{Value, json};

const CALLBACK: &str = "http://127.0.0.1:9/callback";

struct Site {
    _dir: tempfile::TempDir,
    sandbox: Sandbox,
    /// Never follows redirects, so the test reads them.
    browser: reqwest::Client,
}

async fn site(ttl: Duration) -> Site {
    let dir = tempfile::tempdir().expect("dir");
    let mut config = SandboxConfig::new(dir.path());
    config.oauth_token_ttl = ttl;
    let sandbox = Sandbox::start(config).await.expect("sandbox");
    let browser = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client");
    Site {
        _dir: dir,
        sandbox,
        browser,
    }
}

impl Site {
    fn origin(&self) -> String {
        self.sandbox.base_url().trim_end_matches("/2.0").to_owned()
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.browser
            .post(format!("{}{path}", self.origin()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("post")
    }

    /// Steps 1 to 3 of the flow for demo; the redirect's location.
    async fn consent(&self, extra: &[(&str, &str)], decision: &str) -> url::Url {
        let mut fields = vec![
            ("client_id", SEED_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", CALLBACK),
            ("state", "xyz"),
        ];
        fields.extend_from_slice(extra);
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let form = self
            .browser
            .get(format!("{}/site/oauth2/authorize?{query}", self.origin()))
            .send()
            .await
            .expect("authorize");
        assert_eq!(form.status(), StatusCode::OK);
        let form = form.text().await.expect("page");
        assert!(
            form.contains("Sandbox app") && form.contains("name=\"token\""),
            "{form}"
        );

        let mut wrong = fields.clone();
        wrong.extend([("login", DEMO_EMAIL), ("token", "wrong")]);
        let again = self.post_form("/site/oauth2/authorize", &wrong).await;
        let again = again.text().await.expect("page");
        assert!(again.contains("do not match"), "{again}");

        let mut right = fields.clone();
        right.extend([("login", DEMO_EMAIL), ("token", DEMO_TOKEN)]);
        let page = self.post_form("/site/oauth2/authorize", &right).await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.expect("consent page");
        assert!(page.contains("Signed in as Demo User"), "{page}");
        let ticket = page
            .split("name=\"ticket\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a ticket")
            .to_owned();
        let decided = self
            .post_form(
                "/site/oauth2/authorize",
                &[("ticket", &ticket), ("decision", decision)],
            )
            .await;
        assert_eq!(decided.status(), StatusCode::FOUND);
        let location = decided.headers()["location"].to_str().expect("location");
        let again = self
            .post_form(
                "/site/oauth2/authorize",
                &[("ticket", &ticket), ("decision", decision)],
            )
            .await;
        assert_eq!(
            again.status(),
            StatusCode::BAD_REQUEST,
            "a ticket works once"
        );
        url::Url::parse(location).expect("url")
    }

    async fn token(&self, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = self
            .browser
            .post(format!("{}/site/oauth2/access_token", self.origin()))
            .basic_auth(SEED_CLIENT_ID, Some(SEED_CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("token");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }

    async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .browser
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("api");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_code_flow_issues_tokens_that_act_as_the_user_and_rotate() {
    let site = site(Duration::from_secs(7200)).await;
    let back = site.consent(&[], "approve").await;
    assert!(back.as_str().starts_with(CALLBACK), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
    let code = param(&back, "code").expect("code");

    let (status, body) = site
        .token(&[("grant_type", "authorization_code"), ("code", &code)])
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the redirect URI must be repeated"
    );
    assert_eq!(body["error"], "invalid_grant");
    let back = site.consent(&[], "approve").await;
    let code = param(&back, "code").expect("code");
    let (status, tokens) = site
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 7200);
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let (status, me) = site.api(Method::GET, "/user", &access, None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["nickname"], "demo");

    let (status, reused) = site
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(
        (status, &reused["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant")),
        "a code works once"
    );

    let (status, rotated) = site
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_refresh = rotated["refresh_token"]
        .as_str()
        .expect("a new refresh token");
    assert_ne!(new_refresh, refresh);
    let (status, old) = site
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(
        (status, &old["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant")),
        "refresh tokens rotate"
    );
    let new_access = rotated["access_token"].as_str().expect("access");
    let (status, _) = site.api(Method::GET, "/user", new_access, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_denied_consent_returns_an_error_and_no_code() {
    let site = site(Duration::from_secs(7200)).await;
    let back = site.consent(&[], "deny").await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&back, "code"), None);
}

#[tokio::test]
async fn pkce_binds_the_code_to_its_verifier() {
    let site = site(Duration::from_secs(7200)).await;
    // RFC 7636 appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = [
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let code = param(&site.consent(&challenge, "approve").await, "code").expect("code");
    let (status, body) = site
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", "wrong"),
        ])
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant"))
    );
    let code = param(&site.consent(&challenge, "approve").await, "code").expect("code");
    let (status, body) = site
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn scopes_are_enforced_and_named() {
    let site = site(Duration::from_secs(7200)).await;
    let code = param(
        &site
            .consent(&[("scope", "repository issue")], "approve")
            .await,
        "code",
    )
    .expect("code");
    let (_, tokens) = site
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(tokens["scopes"], "repository issue");
    let token = tokens["access_token"].as_str().expect("access");
    let (status, _) = site
        .api(
            Method::GET,
            "/repositories/acme/widgets/issues",
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = site
        .api(
            Method::GET,
            "/repositories/acme/widgets/src/main/README.md",
            token,
            None,
        )
        .await;
    assert_ne!(
        status,
        StatusCode::FORBIDDEN,
        "repository covers the source"
    );
    let (status, refused) = site
        .api(
            Method::POST,
            "/repositories/acme/widgets/pullrequests",
            token,
            Some(json!({"title": "x", "source": {"branch": {"name": "develop"}}})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "Your credentials lack one or more required privilege scopes."
    );
    assert!(
        refused["error"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("pullrequest:write")),
        "{refused}"
    );
    let (status, refused) = site
        .api(
            Method::POST,
            "/repositories/acme/widgets/issues",
            token,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, _) = site.api(Method::GET, "/user", token, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "/user needs `account`");

    let bad = site
        .browser
        .get(format!(
            "{}/site/oauth2/authorize?client_id={SEED_CLIENT_ID}&response_type=code&scope=repository%20nonsense",
            site.origin()
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tokens_expire_and_client_credentials_act_as_the_owner() {
    let site = site(Duration::from_secs(1)).await;
    let (status, tokens) = site.token(&[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let token = tokens["access_token"].as_str().expect("access");
    let (status, me) = site.api(Method::GET, "/user", token, None).await;
    assert_eq!((status, &me["nickname"]), (StatusCode::OK, &json!("demo")));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, expired) = site.api(Method::GET, "/user", token, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired["error"]["message"], "Access token expired.");
}

#[tokio::test]
async fn bad_clients_and_requests_are_refused_clearly() {
    let site = site(Duration::from_secs(7200)).await;
    let wrong = site
        .browser
        .post(format!("{}/site/oauth2/access_token", site.origin()))
        .basic_auth(SEED_CLIENT_ID, Some("wrong"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
    let form = site
        .post_form(
            "/site/oauth2/access_token",
            &[
                ("grant_type", "password"),
                ("client_id", SEED_CLIENT_ID),
                ("client_secret", SEED_CLIENT_SECRET),
            ],
        )
        .await;
    assert_eq!(form.status(), StatusCode::BAD_REQUEST);
    let body: Value = form.json().await.expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");
    for query in [
        "client_id=nobody&response_type=code",
        "client_id=sandbox-consumer&response_type=token",
        "client_id=sandbox-consumer&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2F",
    ] {
        let page = site
            .browser
            .get(format!("{}/site/oauth2/authorize?{query}", site.origin()))
            .send()
            .await
            .expect("authorize");
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            page.headers().get("location").is_none(),
            "never redirects to an unchecked URI"
        );
    }
    let (status, _) = site.api(Method::GET, "/user", "not-a-token", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
