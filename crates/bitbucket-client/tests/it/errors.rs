//! Every error class: the status, Bitbucket's message and the client's hint, transport
//! failures and timeouts, and that no error ever shows a credential.

use std::time::{Duration, Instant};

use bitbucket_client::{
    Auth, Client, ClientConfig, Error, ListParams, ListPullRequestsParams, NewBranch, NewIssue,
    RepoId, RetryPolicy,
};
use bitbucket_sandbox::{DEMO_EMAIL, DEMO_TOKEN, FaultConfig};
use serde_json::Value;

use crate::support::{WRONG_API_TOKEN, WRONG_BEARER, api, assert_no_secret, repo, start};

#[tokio::test]
async fn unauthorized_without_credentials_names_the_variables() {
    let env = start().await;
    let before = env.requests();
    let err = env
        .anonymous()
        .current_user()
        .await
        .expect_err("anonymous /user");
    assert_eq!(env.requests() - before, 1, "a 401 is not retried");
    let api = api(&err);
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(api.status, 401);
    assert_eq!(api.message, "Unauthorized");
    assert_eq!(api.method, "GET");
    assert_eq!(api.path, "/user");
    let hint = err.hint().expect("hint");
    for name in [
        "BITBUCKET_ACCESS_TOKEN",
        "BITBUCKET_EMAIL",
        "BITBUCKET_API_TOKEN",
    ] {
        assert!(hint.contains(name), "{hint}");
    }
    let text = err.to_string();
    assert!(
        text.starts_with("bitbucket answered 401 for `GET /user`: Unauthorized"),
        "{text}"
    );
    assert!(text.contains("hint: "), "{text}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn unauthorized_with_wrong_tokens_names_the_variables() {
    let env = start().await;
    let basic = env.client_with(
        Auth::api_token(DEMO_EMAIL, WRONG_API_TOKEN),
        RetryPolicy::fast(),
    );
    let err = basic.current_user().await.expect_err("wrong api token");
    assert_eq!(err.status(), Some(401));
    let hint = err.hint().expect("hint");
    assert!(hint.contains("`BITBUCKET_EMAIL`"), "{hint}");
    assert!(hint.contains("`BITBUCKET_API_TOKEN`"), "{hint}");
    assert_no_secret(&err);
    let client_text = format!("{basic:?}");
    assert!(!client_text.contains(WRONG_API_TOKEN), "{client_text}");

    let bearer = env.bearer(WRONG_BEARER);
    let err = bearer
        .list_branches(&repo("acme", "widgets"), &ListParams::new())
        .await
        .expect_err("wrong bearer");
    assert_eq!(err.status(), Some(401));
    let hint = err.hint().expect("hint");
    assert!(hint.contains("`BITBUCKET_ACCESS_TOKEN`"), "{hint}");
    assert_no_secret(&err);

    // Right token, wrong account.
    let err = env
        .client_with(
            Auth::api_token("alice@example.com", "sandbox-token"),
            RetryPolicy::fast(),
        )
        .current_user()
        .await
        .expect_err("token of another user");
    assert_eq!(err.status(), Some(401));
    assert_no_secret(&err);
}

#[tokio::test]
async fn forbidden_for_a_non_member() {
    let env = start().await;
    let alice = env.alice();
    let err = alice
        .get_repository(&repo("demo", "notes"))
        .await
        .expect_err("alice is not in demo");
    let api = api(&err);
    assert_eq!(api.status, 403);
    assert_eq!(
        api.message,
        "You do not have access to the workspace 'demo'."
    );
    assert_eq!(
        api.detail.as_deref(),
        Some("Only members of a workspace can see its private resources.")
    );
    let hint = err.hint().expect("hint");
    assert!(hint.contains("`repository`"), "{hint}");
    assert!(hint.contains("no access"), "{hint}");
    assert_no_secret(&err);

    let err = alice
        .get_file(&repo("demo", "notes"), Some("main"), "README.md")
        .await
        .expect_err("nor its files");
    assert_eq!(err.status(), Some(403));

    // The demo user, who owns it, reads it.
    let notes = env
        .demo()
        .get_repository(&repo("demo", "notes"))
        .await
        .expect("demo's notes");
    assert_eq!(notes.full_name, "demo/notes");
}

#[tokio::test]
async fn not_found_repository_and_pull_request() {
    let env = start().await;
    let demo = env.demo();
    let before = env.requests();
    let err = demo
        .get_repository(&repo("acme", "no-such-repo"))
        .await
        .expect_err("unknown repo");
    assert_eq!(env.requests() - before, 1, "a 404 is not retried");
    assert!(err.is_not_found());
    let api = api(&err);
    assert_eq!(api.message, "Repository acme/no-such-repo not found");
    assert_eq!(api.path, "/repositories/acme/no-such-repo");
    assert_eq!(err.hint(), None, "an authenticated 404 has no hint");
    assert_no_secret(&err);

    let err = demo
        .get_pull_request(&repo("acme", "widgets"), 999)
        .await
        .expect_err("unknown pr");
    assert_eq!(err.status(), Some(404));
    assert_eq!(api_message(&err), "Pull request #999 does not exist");
    assert!(
        err.to_string().starts_with(
            "bitbucket answered 404 for `GET /repositories/acme/widgets/pullrequests/999`"
        ),
        "{err}"
    );

    let err = demo
        .get_branch(&repo("acme", "widgets"), "feature/nope")
        .await
        .expect_err("unknown branch");
    assert_eq!(err.status(), Some(404));
    assert_eq!(api_message(&err), "Branch \"feature/nope\" does not exist");
}

fn api_message(err: &Error) -> &str {
    &api(err).message
}

#[tokio::test]
async fn disabled_issue_tracker_is_explained() {
    let env = start().await;
    let demo = env.demo();
    let err = demo
        .list_issues(&repo("acme", "website"), &ListParams::new())
        .await
        .expect_err("website has no tracker");
    let api = api(&err);
    assert_eq!(api.status, 404);
    assert_eq!(api.message, "Repository has no issue tracker.");
    assert_eq!(
        api.detail.as_deref(),
        Some("The issue tracker is disabled for acme/website.")
    );
    let hint = err.hint().expect("hint");
    assert!(hint.contains("issue tracker is disabled"), "{hint}");
    assert!(hint.contains("retired"), "{hint}");
    assert!(
        err.to_string().contains(
            "Repository has no issue tracker: The issue tracker is disabled for \
                 acme/website; hint: the issue tracker is disabled"
        ),
        "{err}"
    );

    let err = demo
        .create_issue(&repo("acme", "website"), &NewIssue::new("Broken link"))
        .await
        .expect_err("no tracker to write to");
    assert_eq!(err.status(), Some(404));
    assert!(
        err.hint()
            .is_some_and(|h| h.contains("issue tracker is disabled")),
        "{err}"
    );

    let err = demo
        .get_issue(&repo("acme", "website"), 1)
        .await
        .expect_err("no issue either");
    assert_eq!(err.status(), Some(404));
    let hint = err.hint().expect("hint");
    assert!(hint.contains("the issue may not exist"), "{hint}");
    assert!(hint.contains("issue tracker is disabled"), "{hint}");
}

#[tokio::test]
async fn gone_endpoint_points_to_its_replacement() {
    let env = start().await;
    use futures::StreamExt;
    let results: Vec<Result<Value, Error>> = env
        .demo()
        .paginate_url::<Value>("/workspaces", 10)
        .collect()
        .await;
    assert_eq!(results.len(), 1, "{results:?}");
    let err = results
        .into_iter()
        .next()
        .expect("one result")
        .expect_err("410");
    let api = api(&err);
    assert_eq!(api.status, 410);
    assert_eq!(api.message, "This API is no longer supported.");
    let hint = err.hint().expect("hint");
    assert!(hint.contains("`GET /user/workspaces`"), "{hint}");
}

#[tokio::test]
async fn bad_requests_carry_bitbucket_messages() {
    let env = start().await;
    let demo = env.demo();

    let err = demo
        .create_branch(
            &repo("acme", "widgets"),
            &NewBranch::new("bad name", "main"),
        )
        .await
        .expect_err("invalid branch name");
    let api_err = api(&err);
    assert_eq!(api_err.status, 400);
    assert_eq!(api_err.method, "POST");
    assert_eq!(api_err.message, "'bad name' is not a valid branch name");
    assert_eq!(api_err.fields["name"], ["Invalid name."]);
    assert!(
        api_err
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("git's rules"))
    );
    assert!(
        err.to_string()
            .contains("'bad name' is not a valid branch name"),
        "{err}"
    );

    let err = demo
        .create_branch(&repo("acme", "widgets"), &NewBranch::new("develop", "main"))
        .await
        .expect_err("duplicate branch");
    let api_err = api(&err);
    assert_eq!(api_err.status, 400);
    assert_eq!(api_err.message, "Branch \"develop\" already exists");
    assert_eq!(api_err.fields["name"], ["Already exists."]);

    let err = demo
        .create_branch(
            &repo("acme", "widgets"),
            &NewBranch::new("orphan", "0000000"),
        )
        .await
        .expect_err("unknown target");
    assert_eq!(err.status(), Some(400));
    assert!(api_message(&err).starts_with("The target '0000000' does not exist"));

    let err = demo
        .list_branches(&repo("acme", "widgets"), &ListParams::new().pagelen(101))
        .await
        .expect_err("pagelen over 100");
    let api_err = api(&err);
    assert_eq!(api_err.status, 400);
    assert_eq!(api_err.message, "Invalid pagelen");
    assert!(
        api_err
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("1 to 100")),
        "{err}"
    );
    let err = demo
        .list_pull_requests(
            &repo("acme", "widgets"),
            &ListPullRequestsParams {
                pagelen: Some(51),
                ..ListPullRequestsParams::default()
            },
        )
        .await
        .expect_err("pull requests allow 50");
    assert_eq!(err.status(), Some(400));
    assert_eq!(api_message(&err), "Invalid pagelen");
    let fifty = demo
        .list_pull_requests(
            &repo("acme", "widgets"),
            &ListPullRequestsParams {
                pagelen: Some(50),
                ..ListPullRequestsParams::default()
            },
        )
        .await
        .expect("50 is allowed");
    assert_eq!(fifty.pagelen, Some(50));

    let err = demo
        .list_branches(&repo("acme", "widgets"), &ListParams::new().q("name ~"))
        .await
        .expect_err("incomplete q");
    let api_err = api(&err);
    assert_eq!(api_err.status, 400);
    assert!(api_err.message.starts_with("invalid `q`"), "{err}");
    assert!(api_err.fields.contains_key("q"), "{err}");
    let err = demo
        .list_issues(
            &repo("acme", "widgets"),
            &ListParams::new().q("title = \"x\" AND"),
        )
        .await
        .expect_err("dangling AND");
    assert_eq!(err.status(), Some(400));
    assert!(api_message(&err).starts_with("invalid `q`"), "{err}");
    let err = demo
        .list_issues(&repo("acme", "widgets"), &ListParams::new().sort("-"))
        .await
        .expect_err("bad sort");
    assert_eq!(err.status(), Some(400));
    assert!(api_message(&err).starts_with("invalid `sort`"), "{err}");
}

#[tokio::test]
async fn arguments_that_cannot_be_sent_are_refused_locally() {
    let env = start().await;
    let demo = env.demo();
    let before = env.requests();
    let err = RepoId::new("acme", "..").expect_err("dot segment");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid argument: `repo_slug` must not be `..`"
    );
    let err = demo
        .create_issue(&repo("acme", "widgets"), &NewIssue::new("  "))
        .await
        .expect_err("blank title");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let err = demo
        .update_issue(&repo("acme", "widgets"), 1, &Default::default())
        .await
        .expect_err("empty update");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(env.requests(), before, "nothing was sent");
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let port = closed_port();
    let base = format!("http://127.0.0.1:{port}/2.0");
    let client = Client::new(
        ClientConfig::new(&base)
            .with_auth(Auth::api_token(DEMO_EMAIL, WRONG_API_TOKEN))
            .with_retry(RetryPolicy::fast()),
    )
    .expect("client");
    let started = Instant::now();
    let err = client.current_user().await.expect_err("refused");
    assert!(started.elapsed() < Duration::from_secs(5));
    match &err {
        Error::RetriesExhausted { attempts, last } => {
            assert_eq!(*attempts, 4, "a refused connect is retried");
            match last.as_ref() {
                Error::Transport {
                    method,
                    url,
                    message,
                    connect,
                } => {
                    assert!(*connect);
                    assert_eq!(method, "GET");
                    assert_eq!(url, &format!("{base}/user"));
                    assert!(message.starts_with("could not connect"), "{message}");
                }
                other => panic!("expected a transport error, got {other:?}"),
            }
        }
        other => panic!("expected retries around a transport error, got {other:?}"),
    }
    assert_eq!(err.status(), None);
    assert!(!err.is_timeout());
    assert_no_secret(&err);

    // A POST that never reached the server is safe to repeat too.
    let err = client
        .create_issue(&repo("acme", "widgets"), &NewIssue::new("Never sent"))
        .await
        .expect_err("refused post");
    assert!(
        matches!(&err, Error::RetriesExhausted { attempts: 4, last } if matches!(**last, Error::Transport { connect: true, .. })),
        "{err:?}"
    );

    let once =
        Client::new(ClientConfig::new(&base).with_retry(RetryPolicy::none())).expect("client");
    let err = once.current_user().await.expect_err("refused once");
    assert!(
        matches!(err, Error::Transport { connect: true, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("`GET {base}/user` failed: could not connect")),
        "{err}"
    );
}

#[tokio::test]
async fn timeouts_are_reported_within_a_bounded_time() {
    let env = start().await;
    env.sandbox
        .set_faults("slow=1,delay=5s".parse::<FaultConfig>().expect("faults"));
    let client = Client::new(
        ClientConfig::new(env.sandbox.base_url())
            .with_auth(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN))
            .with_timeout(Duration::from_millis(300))
            .with_retry(RetryPolicy::fast()),
    )
    .expect("client");
    let before = env.requests();
    let started = Instant::now();
    let err = client
        .get_repository(&repo("acme", "widgets"))
        .await
        .expect_err("every attempt is slow");
    let elapsed = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    match &err {
        Error::RetriesExhausted { attempts, last } => {
            assert_eq!(*attempts, 4);
            assert!(
                matches!(**last, Error::Timeout { ref method, .. } if method == "GET"),
                "{last:?}"
            );
        }
        other => panic!("expected retries around a timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(
        env.requests() - before,
        4,
        "each attempt reached the server"
    );
    // Four attempts of 300 ms and three short waits, far less than one slow answer (5 s).
    assert!(elapsed >= Duration::from_millis(1_200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert_no_secret(&err);

    // Without retries, a single timeout.
    let once = Client::new(
        ClientConfig::new(env.sandbox.base_url())
            .with_timeout(Duration::from_millis(300))
            .with_retry(RetryPolicy::none()),
    )
    .expect("client");
    let started = Instant::now();
    let err = once.current_user().await.expect_err("slow");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}
