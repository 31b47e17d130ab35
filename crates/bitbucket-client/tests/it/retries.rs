//! Retries under injected 429/500/503 faults: idempotent calls ride them out, a POST is
//! repeated only when the server turned it away unprocessed (429), and nothing is written
//! twice.

use std::time::{Duration, Instant};

use bitbucket_client::{Auth, Error, Issue, IssueUpdate, ListParams, NewIssue, RetryPolicy};
use bitbucket_sandbox::{DEMO_EMAIL, DEMO_TOKEN, FaultConfig};
use futures::TryStreamExt;

use crate::support::{Env, api, assert_no_secret, patient, repo, start};

fn faults(spec: &str) -> FaultConfig {
    spec.parse().expect("fault spec")
}

async fn all_issues(env: &Env) -> Vec<Issue> {
    let client = env.demo();
    let first = client
        .list_issues(&repo("acme", "widgets"), &ListParams::new().pagelen(100))
        .await
        .expect("issues");
    client
        .paginate(first, usize::MAX)
        .try_collect()
        .await
        .expect("every issue")
}

#[tokio::test]
async fn two_hundred_calls_under_faults_without_duplicate_writes() {
    let env = start().await;
    let client = env.client_with(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN), patient());

    // Issues for the DELETEs of the run, made while the sandbox is still healthy.
    let mut victims = Vec::new();
    for n in 0..40 {
        let issue = client
            .create_issue(
                &repo("acme", "widgets"),
                &NewIssue::new(format!("Victim {n}")),
            )
            .await
            .expect("victim");
        victims.push(issue.id);
    }
    let first_new_id = victims.last().expect("victims") + 1;

    env.sandbox
        .set_faults(faults("429=0.1,503=0.1,retry-after=0"));
    let before = env.requests();
    let started = Instant::now();
    let mut created: Vec<(u64, String)> = Vec::new();
    let mut refused_posts = 0;
    let mut retried_posts = 0;
    let mut last_title = String::new();
    for call in 0..200usize {
        let sent = env.requests();
        match call % 5 {
            0 => {
                let issue = client
                    .get_issue(&repo("acme", "widgets"), 1)
                    .await
                    .unwrap_or_else(|err| panic!("call {call}: GET issue: {err}"));
                assert_eq!(issue.title, "Crash when saving settings");
            }
            1 => match (call / 5) % 3 {
                0 => {
                    let branches = client
                        .list_branches(&repo("acme", "widgets"), &ListParams::new())
                        .await
                        .unwrap_or_else(|err| panic!("call {call}: GET branches: {err}"));
                    assert!(branches.values.iter().any(|b| b.name == "main"));
                }
                1 => {
                    let readme = client
                        .get_file(&repo("acme", "widgets"), Some("main"), "README.md")
                        .await
                        .unwrap_or_else(|err| panic!("call {call}: GET README: {err}"))
                        .into_file()
                        .expect("a file");
                    assert!(readme.text().expect("utf-8").starts_with("# Widgets"));
                }
                _ => {
                    let pr = client
                        .get_pull_request(&repo("acme", "widgets"), 1)
                        .await
                        .unwrap_or_else(|err| panic!("call {call}: GET pr: {err}"));
                    assert_eq!(pr.title, "Add login form");
                }
            },
            2 => {
                let title = format!("Add dark mode (take {call})");
                let issue = client
                    .update_issue(
                        &repo("acme", "widgets"),
                        2,
                        &IssueUpdate {
                            title: Some(title.clone()),
                            ..IssueUpdate::default()
                        },
                    )
                    .await
                    .unwrap_or_else(|err| panic!("call {call}: PUT issue: {err}"));
                assert_eq!(issue.title, title);
                last_title = title;
            }
            3 => {
                let title = format!("Retry run {call}");
                match client
                    .create_issue(&repo("acme", "widgets"), &NewIssue::new(title.clone()))
                    .await
                {
                    Ok(issue) => {
                        assert_eq!(issue.title, title);
                        if env.requests() - sent > 1 {
                            retried_posts += 1;
                        }
                        created.push((issue.id, title));
                    }
                    Err(err) => {
                        // Only a 503 stops a POST, at once: it may have been processed.
                        assert!(
                            matches!(&err, Error::Api(api) if api.status == 503 && api.method == "POST"),
                            "call {call}: {err:?}"
                        );
                        refused_posts += 1;
                    }
                }
            }
            _ => {
                let id = victims[call / 5];
                client
                    .delete_issue(&repo("acme", "widgets"), id)
                    .await
                    .unwrap_or_else(|err| panic!("call {call}: DELETE issue {id}: {err}"));
            }
        }
    }
    let attempts = env.requests() - before;
    let elapsed = started.elapsed();
    env.sandbox.set_faults(FaultConfig::default());
    eprintln!(
        "200 calls: {attempts} requests in {elapsed:?}; {} posts written ({retried_posts} after \
         a 429), {refused_posts} answered 503",
        created.len()
    );

    assert!(
        attempts > 200,
        "faults were injected and retried: {attempts}"
    );
    assert_eq!(created.len() + refused_posts, 40);
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");

    // No duplicate and no hidden write: the issues that exist are exactly those whose POST
    // returned Ok, numbered one after the other.
    let ids: Vec<u64> = created.iter().map(|(id, _)| *id).collect();
    let expected: Vec<u64> = (first_new_id..).take(created.len()).collect();
    assert_eq!(ids, expected, "distinct, sequential ids");
    let issues = all_issues(&env).await;
    let written: Vec<(u64, String)> = issues
        .iter()
        .filter(|issue| issue.title.starts_with("Retry run"))
        .map(|issue| (issue.id, issue.title.clone()))
        .collect();
    assert_eq!(written, created);
    assert!(
        issues
            .iter()
            .all(|issue| !issue.title.starts_with("Victim")),
        "every DELETE took effect"
    );
    assert_eq!(issues.len(), 3 + created.len());
    let dark_mode = issues.iter().find(|issue| issue.id == 2).expect("issue 2");
    assert_eq!(dark_mode.title, last_title, "the last PUT won");
}

#[tokio::test]
async fn post_answered_503_is_not_retried() {
    let env = start().await;
    let client = env.client_with(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN), patient());
    env.sandbox.set_faults(faults("503=1"));
    let before = env.requests();
    let err = client
        .create_issue(&repo("acme", "widgets"), &NewIssue::new("Maybe processed"))
        .await
        .expect_err("503");
    assert_eq!(env.requests() - before, 1, "exactly one attempt");
    assert!(
        matches!(err, Error::Api(_)),
        "not wrapped in retries: {err:?}"
    );
    let api = api(&err);
    assert_eq!(api.status, 503);
    assert_eq!(api.method, "POST");
    assert_eq!(api.message, "Injected fault");
    assert_no_secret(&err);

    env.sandbox.set_faults(FaultConfig::default());
    assert_eq!(
        all_issues(&env).await.len(),
        3,
        "the sandbox never processed it"
    );
}

#[tokio::test]
async fn post_answered_429_is_retried_until_the_policy_runs_out() {
    let env = start().await;
    let client = env.client_with(
        Auth::api_token(DEMO_EMAIL, DEMO_TOKEN),
        patient().with_max_retries(5),
    );
    env.sandbox.set_faults(faults("429=1,retry-after=0"));
    let before = env.requests();
    let err = client
        .create_issue(&repo("acme", "widgets"), &NewIssue::new("Rate limited"))
        .await
        .expect_err("always 429");
    assert_eq!(env.requests() - before, 6);
    match &err {
        Error::RetriesExhausted { attempts, last } => {
            assert_eq!(*attempts, 6);
            assert_eq!(last.status(), Some(429));
        }
        other => panic!("expected exhausted retries, got {other:?}"),
    }
    assert_eq!(
        api(&err).message,
        "Rate limit for this resource has been exceeded"
    );
    assert!(
        err.hint().is_some_and(|h| h.contains("rate limit")),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("gave up after 6 attempts: bitbucket answered 429")
    );

    env.sandbox.set_faults(FaultConfig::default());
    assert_eq!(all_issues(&env).await.len(), 3, "no attempt was processed");
}

#[tokio::test]
async fn post_answered_429_then_accepted_is_written_once() {
    let env = start().await;
    // `Retry-After: 1` is capped to the policy's 200 ms, so the retry comes well after the
    // first answer; the faults are lifted in between.
    let client = env.client_with(
        Auth::api_token(DEMO_EMAIL, DEMO_TOKEN),
        patient().with_max_delay(Duration::from_millis(200)),
    );
    env.sandbox.set_faults(faults("429=1,retry-after=1"));
    let before = env.requests();
    let task = tokio::spawn(async move {
        client
            .create_issue(
                &repo("acme", "widgets"),
                &NewIssue::new("Second time lucky"),
            )
            .await
    });
    // The sandbox picks the fault as it counts the request, so once the first attempt is
    // counted it has been turned away; the retry then finds the faults gone.
    while env.requests() == before {
        tokio::task::yield_now().await;
    }
    env.sandbox.set_faults(FaultConfig::default());
    let issue = task.await.expect("task").expect("accepted on the retry");
    assert_eq!(env.requests() - before, 2, "one 429, then the write");
    assert_eq!(issue.id, 4);
    let issues = all_issues(&env).await;
    let matching: Vec<_> = issues
        .iter()
        .filter(|i| i.title == "Second time lucky")
        .map(|i| i.id)
        .collect();
    assert_eq!(matching, [4], "written exactly once");
}

#[tokio::test]
async fn idempotent_calls_give_up_naming_the_attempts() {
    let env = start().await;
    let client = env.client_with(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN), RetryPolicy::fast());
    for (spec, status) in [("503=1", 503), ("500=1", 500), ("429=1,retry-after=0", 429)] {
        env.sandbox.set_faults(faults(spec));
        let before = env.requests();
        let started = Instant::now();
        let err = client
            .get_repository(&repo("acme", "widgets"))
            .await
            .expect_err("always failing");
        assert!(started.elapsed() < Duration::from_secs(2), "{spec}");
        assert_eq!(env.requests() - before, 4, "{spec}: 1 + 3 retries");
        match &err {
            Error::RetriesExhausted { attempts: 4, last } => {
                assert_eq!(last.status(), Some(status), "{spec}");
            }
            other => panic!("{spec}: expected exhausted retries, got {other:?}"),
        }
        assert_eq!(err.status(), Some(status));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "gave up after 4 attempts: bitbucket answered {status} for `GET /repositories/acme/widgets`"
            )),
            "{text}"
        );
        assert_no_secret(&err);
    }

    // PUT and DELETE are retried like GET, and the faults kept them from doing anything.
    env.sandbox.set_faults(faults("503=1"));
    let err = client
        .update_issue(
            &repo("acme", "widgets"),
            1,
            &IssueUpdate {
                title: Some("Never applied".into()),
                ..IssueUpdate::default()
            },
        )
        .await
        .expect_err("put");
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 4, .. }),
        "{err:?}"
    );
    let err = client
        .delete_issue(&repo("acme", "widgets"), 1)
        .await
        .expect_err("delete");
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 4, .. }),
        "{err:?}"
    );
    env.sandbox.set_faults(FaultConfig::default());
    let issue = client
        .get_issue(&repo("acme", "widgets"), 1)
        .await
        .expect("still there");
    assert_eq!(issue.title, "Crash when saving settings");
}
