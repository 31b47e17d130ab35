//! Calls a model gets wrong: each is an outcome with an actionable message, never a panic.

use bitbucket_toolkit::Toolkit;
use serde_json::{Value, json};

use crate::support::{assert_house_style, start};

#[tokio::test]
async fn unknown_tools_are_errors_with_suggestions() {
    let env = start().await;
    let err = env
        .toolkit
        .call("BITBUCKET_CREATE_BRANCHES", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.name, "BITBUCKET_CREATE_BRANCHES");
    assert_eq!(err.suggestions[0], "BITBUCKET_CREATE_BRANCH");
    assert_eq!(
        err.to_string(),
        "unknown tool `BITBUCKET_CREATE_BRANCHES`; did you mean `BITBUCKET_CREATE_BRANCH`?"
    );
    let lower = env
        .toolkit
        .call("bitbucket_get_branch", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        lower.suggestions[0], "BITBUCKET_GET_BRANCH",
        "names are case-sensitive"
    );
    let far = env.toolkit.call("SEND_EMAIL", json!({})).await.unwrap_err();
    assert_eq!(far.to_string(), "unknown tool `SEND_EMAIL`");
}

/// A workspace or slug that cannot name a repository (a dot segment would send the request to
/// another endpoint) is refused when the tool makes its repository id, before any request.
#[tokio::test]
async fn dot_segments_never_name_a_repository() {
    let env = start().await;
    let before = env.requests();
    let cases = [
        (
            "BITBUCKET_GET_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "..", "pull_request_id": 1}),
            "invalid argument: `repo_slug` must not be `..`",
        ),
        (
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": ".", "repo_slug": "widgets", "name": "x", "target": "main"}),
            "invalid argument: `workspace` must not be `.`",
        ),
        (
            "BITBUCKET_RESOLVE_PULL_REQUEST_COMMENT",
            json!({"workspace": "acme", "repo_slug": ".", "pull_request_id": 1, "comment_id": 1}),
            "invalid argument: `repo_slug` must not be `.`",
        ),
    ];
    for (tool, arguments, expected) in cases {
        assert_eq!(env.err(tool, arguments).await, expected, "{tool}");
    }
    assert_eq!(env.requests(), before, "nothing was sent");
}

#[tokio::test]
async fn argument_errors_name_the_argument() {
    let env = start().await;
    let cases = [
        (
            json!({"workspace": "acme", "pull_request_id": 1}),
            "invalid arguments for `BITBUCKET_GET_PULL_REQUEST`: missing required argument `repo_slug`",
        ),
        (
            json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": "abc"}),
            "invalid arguments for `BITBUCKET_GET_PULL_REQUEST`: `pull_request_id` must be a positive integer, got `\"abc\"`",
        ),
        (
            json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": -1}),
            "invalid arguments for `BITBUCKET_GET_PULL_REQUEST`: `pull_request_id` must be a positive integer, got `-1`",
        ),
        (
            json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 0}),
            "invalid arguments for `BITBUCKET_GET_PULL_REQUEST`: `pull_request_id` must be a positive integer, got `0`",
        ),
        (
            json!({"workspace": "acme", "repo_slug": "", "pull_request_id": 1}),
            "invalid arguments for `BITBUCKET_GET_PULL_REQUEST`: `repo_slug` must not be empty, got `\"\"`",
        ),
        (
            json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1, "verbose": true}),
            "invalid arguments for `BITBUCKET_GET_PULL_REQUEST`: unknown argument `verbose`; expected one of `workspace`, `repo_slug`, `pull_request_id`",
        ),
        (
            json!(["acme"]),
            "invalid arguments for `BITBUCKET_GET_PULL_REQUEST`: arguments must be a JSON object, got `[\"acme\"]`",
        ),
    ];
    for (arguments, expected) in cases {
        let message = env.err("BITBUCKET_GET_PULL_REQUEST", arguments).await;
        assert_eq!(message, expected);
    }
    let none = env
        .err("BITBUCKET_GET_CURRENT_USER", json!({"user": "me"}))
        .await;
    assert_eq!(
        none,
        "invalid arguments for `BITBUCKET_GET_CURRENT_USER`: unknown argument `user`: this tool takes no arguments"
    );
    let state = env
        .err(
            "BITBUCKET_LIST_PULL_REQUESTS",
            json!({"workspace": "acme", "repo_slug": "widgets", "state": "closed"}),
        )
        .await;
    assert_eq!(
        state,
        "invalid arguments for `BITBUCKET_LIST_PULL_REQUESTS`: `state` must be one of `OPEN`, `MERGED`, \
         `DECLINED`, `SUPERSEDED` (or an array of them), got `\"closed\"`"
    );
    let pagelen = env
        .err(
            "BITBUCKET_LIST_PULL_REQUESTS",
            json!({"workspace": "acme", "repo_slug": "widgets", "pagelen": 100}),
        )
        .await;
    assert_eq!(
        pagelen,
        "invalid arguments for `BITBUCKET_LIST_PULL_REQUESTS`: `pagelen` must be an integer from 1 to 50, got `100`"
    );
    let kind = env
        .err(
            "BITBUCKET_CREATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": "T", "kind": "feature"}),
        )
        .await;
    assert_eq!(
        kind,
        "invalid arguments for `BITBUCKET_CREATE_ISSUE`: `kind` must be one of `bug`, `enhancement`, \
         `proposal`, `task`, got `\"feature\"`"
    );
}

/// A value of the wrong JSON type for `property`, from its schema.
fn wrong_value(property: &Value) -> Value {
    match property.get("type").and_then(Value::as_str) {
        Some("string") => json!({"not": "a string"}),
        Some("integer") => json!("many"),
        Some("boolean") => json!([true]),
        Some("array") => json!(7),
        _ => json!({"odd": true}),
    }
}

#[tokio::test]
async fn every_tool_refuses_unknown_missing_and_ill_typed_arguments() {
    let env = start().await;
    for spec in Toolkit::catalogue() {
        let schema = spec.input_schema();
        let prefix = format!("invalid arguments for `{}`: ", spec.name);

        let unknown = env.err(spec.name, json!({"bogus": 1})).await;
        assert!(
            unknown.starts_with(&format!("{prefix}unknown argument `bogus`")),
            "{unknown}"
        );

        if let Some(first) = spec.arguments().into_iter().find(|a| a.required) {
            let missing = env.err(spec.name, json!({})).await;
            assert_eq!(
                missing,
                format!("{prefix}missing required argument `{}`", first.name)
            );
        }

        for (name, property) in schema["properties"].as_object().unwrap() {
            let message = env
                .err(spec.name, json!({ name: wrong_value(property) }))
                .await;
            assert!(
                message.starts_with(&format!("{prefix}`{name}` must be ")),
                "{}: {message}",
                spec.name
            );
            assert!(message.contains(", got `"), "{message}");
        }
    }
}

#[tokio::test]
async fn bitbucket_failures_are_explained() {
    let env = start().await;
    let invalid_name = env
        .err(
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "bad name"}),
        )
        .await;
    assert!(
        invalid_name.starts_with(
            "bitbucket refused to create branch `bad name` in `acme/widgets`: 400 'bad name' is not a valid branch name"
        ),
        "{invalid_name}"
    );

    let missing_repository = env
        .err(
            "BITBUCKET_LIST_BRANCHES",
            json!({"workspace": "acme", "repo_slug": "nope"}),
        )
        .await;
    assert_eq!(
        missing_repository,
        "repository `acme/nope` not found (check the workspace and slug; \
         BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE lists them); bitbucket said: 404 Repository acme/nope not found"
    );

    for (tool, arguments) in [
        (
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": "acme", "repo_slug": "website"}),
        ),
        (
            "BITBUCKET_CREATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "website", "title": "T"}),
        ),
        (
            "BITBUCKET_UPDATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "website", "issue_id": 1, "state": "open"}),
        ),
        (
            "BITBUCKET_CREATE_ISSUE_COMMENT",
            json!({"workspace": "acme", "repo_slug": "website", "issue_id": 1, "content": "x"}),
        ),
    ] {
        let disabled = env.err(tool, arguments).await;
        assert!(
            disabled.starts_with("the issue tracker is disabled for `acme/website`"),
            "{tool}: {disabled}"
        );
    }

    let issue_in_missing_repository = env
        .err(
            "BITBUCKET_DELETE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "nope", "issue_id": 1}),
        )
        .await;
    assert!(
        issue_in_missing_repository.starts_with("repository `acme/nope` not found"),
        "{issue_in_missing_repository}"
    );

    let file = env
        .err(
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "nope.md"}),
        )
        .await;
    assert!(
        file.starts_with("file `nope.md` (on the main branch) not found in `acme/widgets`"),
        "{file}"
    );
    assert_house_style(&file);

    // A known refusal ends with the step that gets past it.
    let no_changes = env
        .err(
            "BITBUCKET_CREATE_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": "T", "source_branch": "main", "destination_branch": "main"}),
        )
        .await;
    let fresh = env
        .call(
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/empty", "target": "main"}),
        )
        .await;
    assert!(!fresh.is_error, "{}", fresh.text);
    let empty = env
        .err(
            "BITBUCKET_CREATE_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "title": "T", "source_branch": "feature/empty"}),
        )
        .await;
    assert!(
        empty.contains("There are no changes to be pulled")
            && empty.ends_with(
                "; next step: a pull request needs commits on the source branch that the destination lacks: \
                 commit a change to the branch first (BITBUCKET_COMMIT_FILES), or pick a branch with changes"
            ),
        "{empty}"
    );
    assert!(
        !no_changes.contains("next step"),
        "another refusal gets no such step: {no_changes}"
    );
}

#[tokio::test]
async fn unreachable_servers_and_rejected_credentials_are_explained() {
    use bitbucket_client::{Auth, Client, ClientConfig, RetryPolicy};

    // Port 1 on loopback refuses connections.
    let offline = Toolkit::new(
        Client::new(ClientConfig::new("http://127.0.0.1:1/2.0").with_retry(RetryPolicy::none()))
            .expect("client"),
    );
    let outcome = offline
        .call("BITBUCKET_GET_CURRENT_USER", json!({}))
        .await
        .expect("known tool");
    assert!(outcome.is_error);
    assert!(
        outcome
            .text
            .starts_with("could not reach bitbucket to read the current user: "),
        "{}",
        outcome.text
    );
    assert_house_style(&outcome.text);

    let env = start().await;
    let wrong_token = Toolkit::new(
        Client::new(
            ClientConfig::new(env.client.base_url())
                .with_auth(Auth::api_token("demo@example.com", "wrong"))
                .with_retry(RetryPolicy::none()),
        )
        .expect("client"),
    );
    let outcome = wrong_token
        .call("BITBUCKET_LIST_WORKSPACES", json!({}))
        .await
        .expect("known tool");
    assert!(outcome.is_error);
    assert!(
        outcome
            .text
            .starts_with("bitbucket rejected the credentials: 401 Unauthorized")
            && outcome
                .text
                .contains("; hint: the email or api token was rejected"),
        "{}",
        outcome.text
    );
    assert!(
        !outcome.text.contains("wrong"),
        "the token never shows: {}",
        outcome.text
    );
}
