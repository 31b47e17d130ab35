//! Extraction tables, one per kind of argument, over the real Bitbucket tool catalogue.

use serde_json::{Value, json};

use super::*;
use crate::testing::catalogue;
use crate::text::Utterance;

/// The tool chosen for `request` and the arguments read from it.
fn read(request: &str, known: &Known) -> (String, Map<String, Value>) {
    let catalogue = catalogue();
    let u = Utterance::parse(request);
    let tool = choose_tool(&u, &catalogue).unwrap_or_else(|| panic!("no tool for {request:?}"));
    (tool.name.clone(), extract(&u, tool, known).args)
}

fn known() -> Known {
    Known {
        workspaces: vec!["acme".into()],
        branches: vec![],
        repositories: vec!["widgets".into()],
    }
}

/// Checks that each listed argument has the expected value (others are free).
fn check(table: &[(&str, Value)], known: &Known) {
    for (request, expected) in table {
        let (_, args) = read(request, known);
        for (name, value) in expected.as_object().into_iter().flatten() {
            assert_eq!(
                args.get(name),
                Some(value),
                "{request:?}: `{name}` in {args:?}"
            );
        }
        if expected.as_object().is_some_and(|o| o.is_empty()) {
            assert!(args.is_empty(), "{request:?}: {args:?}");
        }
    }
}

#[test]
fn tools_are_chosen_by_action_and_thing() {
    let table = [
        ("create a new branch off main", "BITBUCKET_CREATE_BRANCH"),
        (
            "could you branch off develop and call it x?",
            "BITBUCKET_CREATE_BRANCH",
        ),
        (
            "open a pull request for my feature",
            "BITBUCKET_CREATE_PULL_REQUEST",
        ),
        ("list open PRs in widgets", "BITBUCKET_LIST_PULL_REQUESTS"),
        ("show me PR #1", "BITBUCKET_GET_PULL_REQUEST"),
        (
            "comment 'looks good' on the latest open issue",
            "BITBUCKET_CREATE_ISSUE_COMMENT",
        ),
        (
            "fetch the readme from the repository",
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
        ),
        ("who am I", "BITBUCKET_GET_CURRENT_USER"),
        ("show me issue 3", "BITBUCKET_GET_ISSUE"),
        ("what does issue #1 say?", "BITBUCKET_GET_ISSUE"),
        ("show me the comments on issue 2", "BITBUCKET_GET_ISSUE"),
        ("close issue 3", "BITBUCKET_UPDATE_ISSUE"),
        ("delete the website repo", "BITBUCKET_DELETE_REPOSITORY"),
        ("which workspaces can I use?", "BITBUCKET_LIST_WORKSPACES"),
        (
            "who is in workspace acme",
            "BITBUCKET_LIST_WORKSPACE_MEMBERS",
        ),
        (
            "what's in the src folder",
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
        ),
        ("show the history of develop", "BITBUCKET_LIST_COMMITS"),
        ("file a bug: login fails", "BITBUCKET_CREATE_ISSUE"),
        ("tell me about acme/widgets", "BITBUCKET_GET_REPOSITORY"),
        (
            "reply 'thanks' on snippet kypj",
            "BITBUCKET_CREATE_SNIPPET_COMMENT",
        ),
        (
            "list the comments on commit 4f2a9c1",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_COMMENTS",
        ),
        (
            "comment 'why?' on commit 4f2a9c1",
            "BITBUCKET_CREATE_COMMIT_COMMENT",
        ),
        (
            "comment 'why?' on line 3 of README.md in commit 4f2a9c1",
            "BITBUCKET_CREATE_COMMIT_COMMENT",
        ),
    ];
    for (request, tool) in table {
        assert_eq!(read(request, &known()).0, tool, "{request:?}");
    }
    // A write must be to the thing named, so without the review tools nothing fits these.
    let catalogue = crate::testing::catalogue_before_reviews();
    for request in [
        "what's the weather in Paris?",
        "hello",
        "tell me a joke",
        "write me a poem about git",
        // A write must be to the thing named: an issue comment is not a PR comment.
        "comment 'looks good' on PR 1",
        "leave a comment on pull request 2 saying the tests pass",
        "post a comment 'nice' on the acme/website repo",
        "close pull request 1",
        "delete the branch feature/login",
        "delete snippet kypj",
    ] {
        assert!(
            choose_tool(&Utterance::parse(request), &catalogue).is_none(),
            "{request:?}"
        );
    }
}

#[test]
fn a_comment_goes_to_what_it_refers_to() {
    let catalogue = crate::testing::catalogue_before_reviews();
    let chosen = |request: &str, topic: &str| {
        choose_tool_with(&Utterance::parse(request), &catalogue, Some(topic))
            .map(|t| t.name.clone())
    };
    assert_eq!(chosen("add a comment to it", "pull_request"), None);
    assert_eq!(chosen("comment 'lgtm'", "pull_request"), None);
    assert_eq!(
        chosen("add a comment to it", "issue").as_deref(),
        Some("BITBUCKET_CREATE_ISSUE_COMMENT")
    );
    assert_eq!(
        chosen("comment 'seen' on issue 2", "pull_request").as_deref(),
        Some("BITBUCKET_CREATE_ISSUE_COMMENT")
    );
    assert_eq!(
        chosen(
            "comment 'x' on the latest open issue in the website repo",
            "pull_request"
        )
        .as_deref(),
        Some("BITBUCKET_CREATE_ISSUE_COMMENT")
    );
}

#[test]
fn places() {
    check(
        &[
            (
                "list open PRs in acme/widgets",
                json!({"workspace": "acme", "repo_slug": "widgets"}),
            ),
            (
                "grab the Cargo.toml from widgets in acme",
                json!({"workspace": "acme", "repo_slug": "widgets"}),
            ),
            (
                "delete the website repo in acme",
                json!({"workspace": "acme", "repo_slug": "website"}),
            ),
            (
                "list the repositories in demo",
                json!({"workspace": "demo"}),
            ),
            (
                "show me repositories in the demo workspace",
                json!({"workspace": "demo"}),
            ),
            (
                "tell me about the acme/widgets repository",
                json!({"workspace": "acme", "repo_slug": "widgets"}),
            ),
            (
                "list branches of repository widgets",
                json!({"repo_slug": "widgets"}),
            ),
            ("list open PRs in widgets", json!({"repo_slug": "widgets"})),
        ],
        &Known::default(),
    );
}

#[test]
fn branch_names_and_where_they_start() {
    check(
        &[
            (
                "create a new branch feature/dark-mode off main",
                json!({"name": "feature/dark-mode", "target": "main"}),
            ),
            (
                "make a branch called hotfix/nav from develop in acme/widgets",
                json!({"name": "hotfix/nav", "target": "develop", "workspace": "acme"}),
            ),
            ("create branch release-1.2", json!({"name": "release-1.2"})),
            (
                "could you branch off develop and call it feature/export?",
                json!({"name": "feature/export", "target": "develop"}),
            ),
            (
                "I need a new branch named bugfix/crash based on main",
                json!({"name": "bugfix/crash", "target": "main"}),
            ),
            (
                "create a branch 'spike' at v1.0",
                json!({"name": "spike", "target": "v1.0"}),
            ),
        ],
        &known(),
    );
}

#[test]
fn pull_request_branches() {
    check(
        &[
            (
                "open a PR from feature/login to develop",
                json!({"source_branch": "feature/login", "destination_branch": "develop"}),
            ),
            (
                "open a pull request from develop into main",
                json!({"source_branch": "develop", "destination_branch": "main"}),
            ),
            (
                "open a draft PR from feature/x",
                json!({"source_branch": "feature/x", "draft": true}),
            ),
            (
                "open a PR from feature/x with reviewers alice and bob",
                json!({"reviewers": ["alice", "bob"]}),
            ),
        ],
        &known(),
    );
}

#[test]
fn titles_and_bodies() {
    check(
        &[
            (
                r#"open a PR from develop into main titled "Release 1.0""#,
                json!({"title": "Release 1.0"}),
            ),
            (
                r#"comment "I can reproduce this" on issue 2"#,
                json!({"content": "I can reproduce this"}),
            ),
            (
                "comment on the latest open issue saying that a fix is coming",
                json!({"content": "a fix is coming"}),
            ),
            (
                "file a bug in acme/widgets: Login fails with SSO",
                json!({"title": "Login fails with SSO", "kind": "bug"}),
            ),
            (
                r#"rename issue 2 to "Support dark mode""#,
                json!({"title": "Support dark mode"}),
            ),
            (
                r#"create an issue titled "Crash" saying "It crashes""#,
                json!({"title": "Crash", "content": "It crashes"}),
            ),
            (
                "create an issue titled Export is slow",
                json!({"title": "Export is slow"}),
            ),
        ],
        &known(),
    );
}

#[test]
fn numbers() {
    check(
        &[
            ("close issue #2", json!({"issue_id": 2})),
            ("show me PR 12", json!({"pull_request_id": 12})),
            (
                "what's the status of pull request 1?",
                json!({"pull_request_id": 1}),
            ),
            (
                "add a comment 'ok' to issue number 7",
                json!({"issue_id": 7}),
            ),
            ("delete #3 issue", json!({"issue_id": 3})),
        ],
        &known(),
    );
}

#[test]
fn states_and_other_fixed_values() {
    check(
        &[
            ("mark issue 1 as resolved", json!({"state": "resolved"})),
            ("close issue #2", json!({"state": "closed"})),
            ("reopen issue 3", json!({"state": "open"})),
            ("put issue 4 on hold", json!({"state": "on hold"})),
            (
                "set the priority of issue 1 to critical",
                json!({"priority": "critical"}),
            ),
            ("show merged PRs", json!({"state": ["MERGED"]})),
            (
                "list declined and merged pull requests",
                json!({"state": ["DECLINED", "MERGED"]}),
            ),
            // "Open" to a person is every issue not yet dealt with, triaged or not.
            ("list open issues", json!({"state": ["new", "open"]})),
            (
                "which issues are still open?",
                json!({"state": ["new", "open"]}),
            ),
            (
                "show unresolved issues",
                json!({"state": ["new", "open", "on hold"]}),
            ),
            ("set issue 2 to open", json!({"state": "open"})),
            ("are there open PRs?", json!({"state": ["OPEN"]})),
            // "All" is every state of a filter that is narrower by default.
            (
                "all pull requests including merged and declined",
                json!({"state": ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"]}),
            ),
            (
                "list all pull requests",
                json!({"state": ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"]}),
            ),
            (
                "list all the pull requests that were merged",
                json!({"state": ["MERGED"]}),
            ),
            (
                "create a new private repository called mobile-app in acme",
                json!({"is_private": true, "repo_slug": "mobile-app"}),
            ),
            (
                "create a public repo named blog in workspace demo",
                json!({"is_private": false, "repo_slug": "blog", "workspace": "demo"}),
            ),
        ],
        &known(),
    );
}

#[test]
fn paths_and_refs_to_read_at() {
    check(
        &[
            (
                "get src/main.rs from the develop branch of acme/widgets",
                json!({"path": "src/main.rs", "commit": "develop", "repo_slug": "widgets"}),
            ),
            (
                "show me README.md in acme/website",
                json!({"path": "README.md", "repo_slug": "website"}),
            ),
            ("fetch the readme", json!({"path": "README.md"})),
            ("what's in the docs folder?", json!({"path": "docs"})),
            // A folder where a repository could stand, when the repository is known.
            ("what files are in docs", json!({"path": "docs"})),
            (
                "list files in docs in acme/widgets",
                json!({"path": "docs", "repo_slug": "widgets"}),
            ),
            ("list the files in docs/", json!({"path": "docs"})),
            ("list the files in widgets", json!({"repo_slug": "widgets"})),
            (
                "show recent commits on develop",
                json!({"branch": "develop"}),
            ),
            (
                "read docs/guide.md on feature/login",
                json!({"path": "docs/guide.md", "commit": "feature/login"}),
            ),
        ],
        &known(),
    );
}

#[test]
fn snippet_ids_and_people() {
    check(
        &[
            (
                "show snippet kypj in acme",
                json!({"encoded_id": "kypj", "workspace": "acme"}),
            ),
            (
                r#"comment "Done" on snippet kypj"#,
                json!({"encoded_id": "kypj", "content": "Done"}),
            ),
            (
                "assign issue 2 to alice",
                json!({"assignee": "alice", "issue_id": 2}),
            ),
        ],
        &known(),
    );
}

#[test]
fn latest_and_what_a_new_name_comes_from() {
    let catalogue = catalogue();
    let read = |request: &str| {
        let u = Utterance::parse(request);
        let tool = choose_tool(&u, &catalogue).expect("a tool");
        extract(&u, tool, &known())
    };
    assert!(read("comment 'x' on the latest open issue").latest);
    assert!(read("close the newest issue").latest);
    assert!(!read("close issue 2").latest);
    assert_eq!(
        read("create a branch for issue 2").for_number,
        Some(("issue".into(), 2))
    );
    assert_eq!(
        read("create a branch off main for the login fix")
            .purpose
            .as_deref(),
        Some("login fix")
    );
    assert!(read("fetch the readme").readme);
}

#[test]
fn review_requests_pick_the_review_tools() {
    let known = Known {
        workspaces: vec!["acme".into()],
        branches: vec!["feature/docs".into(), "feature/old".into()],
        repositories: vec!["widgets".into()],
    };
    let table = [
        (
            "show the diff of PR 1",
            "BITBUCKET_GET_PULL_REQUEST_DIFF",
            json!({"pull_request_id": 1}),
        ),
        (
            "which files does PR 2 change",
            "BITBUCKET_GET_PULL_REQUEST_DIFFSTAT",
            json!({"pull_request_id": 2}),
        ),
        (
            "approve PR 1",
            "BITBUCKET_APPROVE_PULL_REQUEST",
            json!({"pull_request_id": 1}),
        ),
        (
            "request changes on PR 3",
            "BITBUCKET_REQUEST_PULL_REQUEST_CHANGES",
            json!({"pull_request_id": 3}),
        ),
        (
            "comment 'nit: rename' on line 3 of src/main.rs in PR 1",
            "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            json!({"pull_request_id": 1, "content": "nit: rename", "path": "src/main.rs", "line": 3}),
        ),
        (
            "comment 'looks good' on PR 1",
            "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            json!({"pull_request_id": 1, "content": "looks good"}),
        ),
        (
            "merge PR 2 with a squash",
            "BITBUCKET_MERGE_PULL_REQUEST",
            json!({"pull_request_id": 2, "merge_strategy": "squash"}),
        ),
        (
            "decline PR 3",
            "BITBUCKET_DECLINE_PULL_REQUEST",
            json!({"pull_request_id": 3}),
        ),
        (
            "delete the branch feature/old",
            "BITBUCKET_DELETE_BRANCH",
            json!({"name": "feature/old"}),
        ),
        (
            "show the commits of PR 1",
            "BITBUCKET_GET_PULL_REQUEST_COMMITS",
            json!({"pull_request_id": 1}),
        ),
        (
            "did the build pass on PR 1",
            "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_STATUSES",
            json!({"pull_request_id": 1}),
        ),
        (
            "list the comments on PR 1",
            "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_COMMENTS",
            json!({"pull_request_id": 1}),
        ),
    ];
    let mut wrong = Vec::new();
    for (request, tool, expected) in table {
        let catalogue = catalogue();
        let u = Utterance::parse(request);
        let Some(chosen) = choose_tool(&u, &catalogue) else {
            wrong.push(format!("{request:?}: no tool"));
            continue;
        };
        if chosen.name != tool {
            wrong.push(format!("{request:?}: {} instead of {tool}", chosen.name));
            continue;
        }
        let args = extract(&u, chosen, &known).args;
        for (name, value) in expected.as_object().into_iter().flatten() {
            if args.get(name) != Some(value) {
                wrong.push(format!(
                    "{request:?}: `{name}` is {:?}, want {value}",
                    args.get(name)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn builds_and_code_insights_reports_on_a_commit() {
    let table = [
        // A verdict is every build of the commit; a branch names the commit at its tip.
        (
            "did the build on main pass",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES",
            json!({"commit": "main"}),
        ),
        (
            "is CI failing on develop?",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES",
            json!({"commit": "develop"}),
        ),
        (
            "is PR 1 green",
            "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_STATUSES",
            json!({"pull_request_id": 1}),
        ),
        (
            "show me the builds on main",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES",
            json!({"commit": "main"}),
        ),
        // One build, by its key.
        (
            "show the build status ci/build on main",
            "BITBUCKET_GET_COMMIT_BUILD_STATUS",
            json!({"commit": "main", "key": "ci/build"}),
        ),
        (
            "what's the status of build lint on main",
            "BITBUCKET_GET_COMMIT_BUILD_STATUS",
            json!({"commit": "main", "key": "lint"}),
        ),
        (
            "post a failed build status with key lint on main, url https://ci.example/7",
            "BITBUCKET_CREATE_COMMIT_BUILD_STATUS",
            json!({"commit": "main", "key": "lint", "state": "FAILED", "url": "https://ci.example/7"}),
        ),
        (
            "post an in progress build status with key e2e on main, url https://ci.example/8",
            "BITBUCKET_CREATE_COMMIT_BUILD_STATUS",
            json!({"commit": "main", "key": "e2e", "state": "INPROGRESS"}),
        ),
        // Code Insights reports and their annotations.
        (
            "list the code insights reports on main",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS",
            json!({"commit": "main"}),
        ),
        (
            "what did the security scan report on main",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS",
            json!({"commit": "main"}),
        ),
        (
            "get the insights reports of commit 4f2a9c1",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS",
            json!({"commit": "4f2a9c1"}),
        ),
        (
            "show the code insights report scan-1 on develop",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT",
            json!({"commit": "develop", "report_id": "scan-1"}),
        ),
        (
            "show the findings of report scan-1 on main",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT",
            json!({"commit": "main", "report_id": "scan-1"}),
        ),
        (
            "get annotation a1 of report scan-1 on main",
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            json!({"commit": "main", "report_id": "scan-1", "annotation_id": "a1"}),
        ),
    ];
    for (request, tool, expected) in table {
        let (chosen, args) = read(request, &known());
        assert_eq!(chosen, tool, "{request:?}");
        for (name, value) in expected.as_object().into_iter().flatten() {
            assert_eq!(
                args.get(name),
                Some(value),
                "{request:?}: `{name}` in {args:?}"
            );
        }
    }
    // Posting names what is posted; without a thing named, it is a comment.
    assert_eq!(
        read("post 'lgtm' on PR 1", &known()).0,
        "BITBUCKET_CREATE_PULL_REQUEST_COMMENT"
    );
    // "the build status" has no id in it: the word before is part of the name.
    let (_, args) = read("show the build status on main", &known());
    assert_eq!(args.get("key"), None, "{args:?}");
}
