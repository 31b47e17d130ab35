//! Search tables: over the real catalogue, over the catalogue grown with tools we do not have
//! yet (written the way the toolkit writes its own), and over an unrelated catalogue.

use bitbucket_toolkit::{ArgumentInfo, ToolAnnotations, ToolInfo, Toolset};

use super::*;

fn first(index: &Index, query: &str) -> Option<&'static str> {
    index.search(query, 1).first().map(|hit| hit.name)
}

#[track_caller]
fn check_table(index: &Index, table: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (query, expected) in table {
        let got = first(index, query);
        if got != Some(*expected) {
            let why = got.and_then(|name| index.explain(query, name));
            let want = index.explain(query, expected);
            wrong.push(format!(
                "{query:?}: expected {expected}, got {got:?}\n  got: {why:?}\n  want: {want:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_tool_is_found_by_plain_words() {
    let index = Index::catalogue();
    check_table(
        &index,
        &[
            (
                "list repositories in the acme workspace",
                "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            ),
            ("get repository widgets", "BITBUCKET_GET_REPOSITORY"),
            ("create a repository", "BITBUCKET_CREATE_REPOSITORY"),
            ("delete the repository", "BITBUCKET_DELETE_REPOSITORY"),
            ("browse the docs folder", "BITBUCKET_BROWSE_REPOSITORY_PATH"),
            ("read a file", "BITBUCKET_GET_FILE_FROM_REPOSITORY"),
            ("list commits", "BITBUCKET_LIST_COMMITS"),
            ("list branches", "BITBUCKET_LIST_BRANCHES"),
            ("get branch develop", "BITBUCKET_GET_BRANCH"),
            ("create a branch", "BITBUCKET_CREATE_BRANCH"),
            ("list tags", "BITBUCKET_LIST_TAGS"),
            ("list pull requests", "BITBUCKET_LIST_PULL_REQUESTS"),
            ("get pull request 3", "BITBUCKET_GET_PULL_REQUEST"),
            ("create a pull request", "BITBUCKET_CREATE_PULL_REQUEST"),
            ("list issues", "BITBUCKET_LIST_ISSUES"),
            ("create an issue", "BITBUCKET_CREATE_ISSUE"),
            ("update issue 2", "BITBUCKET_UPDATE_ISSUE"),
            ("delete issue 2", "BITBUCKET_DELETE_ISSUE"),
            ("comment on issue 2", "BITBUCKET_CREATE_ISSUE_COMMENT"),
            ("get snippet kypj", "BITBUCKET_GET_SNIPPET"),
            (
                "comment on snippet kypj",
                "BITBUCKET_CREATE_SNIPPET_COMMENT",
            ),
            ("get the current user", "BITBUCKET_GET_CURRENT_USER"),
            ("list workspaces", "BITBUCKET_LIST_WORKSPACES"),
            ("list workspace members", "BITBUCKET_LIST_WORKSPACE_MEMBERS"),
        ],
    );
}

#[test]
fn synonyms_intent_and_number_decide() {
    let index = Index::catalogue();
    check_table(
        &index,
        &[
            // PR, pull request, merge request.
            ("show merge request 4", "BITBUCKET_GET_PULL_REQUEST"),
            ("any open MRs?", "BITBUCKET_LIST_PULL_REQUESTS"),
            // Ticket, issue, bug.
            ("log a bug about the login page", "BITBUCKET_CREATE_ISSUE"),
            ("tickets assigned to bob", "BITBUCKET_LIST_ISSUES"),
            // Reply, note, comment.
            ("leave a note on ticket 3", "BITBUCKET_CREATE_ISSUE_COMMENT"),
            // A write asked: a list tool does not come first.
            ("remove bug 7", "BITBUCKET_DELETE_ISSUE"),
            ("open a new ticket", "BITBUCKET_CREATE_ISSUE"),
            // "open" as a state is a read.
            ("open pull requests", "BITBUCKET_LIST_PULL_REQUESTS"),
            // Many or one.
            ("which branches are there", "BITBUCKET_LIST_BRANCHES"),
            ("does branch release/2.0 exist", "BITBUCKET_GET_BRANCH"),
            // The target, not the context: the PR is made from a branch.
            (
                "open a PR from my feature branch",
                "BITBUCKET_CREATE_PULL_REQUEST",
            ),
            (
                "branch off develop for the login fix",
                "BITBUCKET_CREATE_BRANCH",
            ),
            // Quoted text is a value, not words about the tool.
            (
                r#"comment "please delete this branch" on issue 3"#,
                "BITBUCKET_CREATE_ISSUE_COMMENT",
            ),
            ("who am I", "BITBUCKET_GET_CURRENT_USER"),
            // Asked of a thing: "which X does Y ..." looks at Y, unless Y has the Xs.
            (
                "which branch does PR 9 merge into",
                "BITBUCKET_GET_PULL_REQUEST",
            ),
            (
                "which repos does the acme team have",
                "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            ),
            // Writing to someone, or on something, is a comment.
            (
                "follow up on ticket 2 with the logs",
                "BITBUCKET_CREATE_ISSUE_COMMENT",
            ),
            (
                "write on issue 15 that QA verified it",
                "BITBUCKET_CREATE_ISSUE_COMMENT",
            ),
            (
                "I found a bug in the export button",
                "BITBUCKET_CREATE_ISSUE",
            ),
            (
                "tear down the demo repository",
                "BITBUCKET_DELETE_REPOSITORY",
            ),
            // Opening one named thing reads it.
            ("open snippet kypj", "BITBUCKET_GET_SNIPPET"),
            ("open PR 4", "BITBUCKET_GET_PULL_REQUEST"),
            ("give issue 4 to carol", "BITBUCKET_UPDATE_ISSUE"),
            (
                "let the reporter of issue 3 know it is fixed",
                "BITBUCKET_CREATE_ISSUE_COMMENT",
            ),
            ("ls src/components", "BITBUCKET_BROWSE_REPOSITORY_PATH"),
            (
                "who has access to workspace acme",
                "BITBUCKET_LIST_WORKSPACE_MEMBERS",
            ),
            ("which teams am I part of", "BITBUCKET_LIST_WORKSPACES"),
            (
                "who is on the acme team",
                "BITBUCKET_LIST_WORKSPACE_MEMBERS",
            ),
        ],
    );
}

#[test]
fn searches_are_deterministic_and_limited() {
    let index = Index::catalogue();
    let once = index.search("show the pull requests", 5);
    assert_eq!(once.len(), 5);
    assert_eq!(once, index.search("show the pull requests", 5));
    assert!(once.windows(2).all(|pair| pair[0].score >= pair[1].score));
    assert!(index.search("show the pull requests", 0).is_empty());
}

#[test]
fn odd_text_is_read_without_failing() {
    let index = Index::catalogue();
    let long = "pull request ".repeat(2000);
    for query in [
        "\"unbalanced quote about a PR",
        "\u{201C}smart quotes\u{201D} on issue 3",
        "# / . .. ... ' '' 's",
        "a.b.c/d.e",
        "which which which does does",
        "PR-12: \u{00e9}t\u{00e9} ISSUE_4 repo's",
        "x\u{0}y\tz\r\n",
        long.as_str(),
    ] {
        let hits = index.search(query, 3);
        assert!(hits.len() <= 3, "{query:?}");
        let _ = index.discover(&UseCase {
            use_case: query.to_owned(),
            ..UseCase::default()
        });
    }
    assert_eq!(
        first(&index, "post \u{201C}delete the repo\u{201D} on issue 3"),
        Some("BITBUCKET_CREATE_ISSUE_COMMENT")
    );
}

#[test]
fn unrelated_or_empty_requests_find_nothing() {
    let index = Index::catalogue();
    for query in [
        "",
        "   ",
        "\"only a quote\"",
        "the weather in Paris",
        "🙂 ñ",
    ] {
        assert_eq!(index.search(query, 3), Vec::new(), "{query:?}");
    }
}

fn tool(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    annotations: ToolAnnotations,
    arguments: &[(&str, bool, &str)],
) -> ToolInfo {
    ToolInfo {
        name,
        title,
        description,
        toolset: Toolset::PullRequests,
        arguments: arguments
            .iter()
            .map(|(name, required, description)| ArgumentInfo {
                name: (*name).to_owned(),
                r#type: "string".to_owned(),
                required: *required,
                description: (*description).to_owned(),
            })
            .collect(),
        annotations,
    }
}

const READ: ToolAnnotations = ToolAnnotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: true,
};
const WRITE: ToolAnnotations = ToolAnnotations {
    read_only: false,
    destructive: false,
    idempotent: false,
    open_world: true,
};

const PR_ARGS: &[(&str, bool, &str)] = &[
    ("workspace", true, "Workspace slug, e.g. `acme`."),
    ("repo_slug", true, "Repository slug, e.g. `widgets`."),
    ("pull_request_id", true, "The pull request's number."),
];

/// The catalogue with tools from Composio's list that we do not have yet.
fn grown() -> Index {
    let mut tools: Vec<ToolInfo> = bitbucket_toolkit::Toolkit::catalogue()
        .iter()
        .map(bitbucket_toolkit::ToolSpec::info)
        .collect();
    let stand_ins = [
        tool(
            "BITBUCKET_APPROVE_PULL_REQUEST",
            "Approve pull request",
            "Approves a pull request as the current user.",
            WRITE,
            PR_ARGS,
        ),
        tool(
            "BITBUCKET_MERGE_PULL_REQUEST",
            "Merge pull request",
            "Merges an open pull request into its destination branch.",
            WRITE,
            PR_ARGS,
        ),
        tool(
            "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            "Comment on pull request",
            "Adds a comment to a pull request, optionally inline on a file and line.",
            WRITE,
            PR_ARGS,
        ),
        tool(
            "BITBUCKET_GET_PULL_REQUEST_DIFF",
            "Get pull request diff",
            "Shows the diff of a pull request.",
            READ,
            PR_ARGS,
        ),
        tool(
            "BITBUCKET_GET_PULL_REQUEST_COMMITS",
            "Get pull request commits",
            "Lists the commits of a pull request.",
            READ,
            PR_ARGS,
        ),
        tool(
            "BITBUCKET_LIST_PIPELINES",
            "List pipelines",
            "Lists a repository's pipeline runs with their state.",
            READ,
            &PR_ARGS[..2],
        ),
        tool(
            "BITBUCKET_UNAPPROVE_PULL_REQUEST",
            "Unapprove pull request",
            "Withdraws the current user's approval of a pull request.",
            WRITE,
            PR_ARGS,
        ),
        tool(
            "BITBUCKET_COMMIT_FILES",
            "Commit files",
            "Commits new or changed files to a branch.",
            WRITE,
            &PR_ARGS[..2],
        ),
        tool(
            "BITBUCKET_UPDATE_PULL_REQUEST",
            "Update pull request",
            "Changes a pull request's title, description, reviewers or destination branch.",
            WRITE,
            PR_ARGS,
        ),
    ];
    // The stand-ins were written before these tools existed; the real ones win when present.
    let real: Vec<&str> = tools.iter().map(|t| t.name).collect();
    let stand_ins: Vec<ToolInfo> = stand_ins
        .into_iter()
        .filter(|t| !real.contains(&t.name))
        .collect();
    tools.extend(stand_ins);
    Index::new(tools)
}

#[test]
fn tools_added_later_are_found_by_the_same_rules() {
    let index = grown();
    check_table(
        &index,
        &[
            ("approve pull request 9", "BITBUCKET_APPROVE_PULL_REQUEST"),
            ("LGTM PR 4", "BITBUCKET_APPROVE_PULL_REQUEST"),
            ("merge PR 12 into main", "BITBUCKET_MERGE_PULL_REQUEST"),
            (
                "comment on pull request 3",
                "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            ),
            (
                "reply on the merge request",
                "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            ),
            ("show the diff of PR 5", "BITBUCKET_GET_PULL_REQUEST_DIFF"),
            (
                "what commits are in PR 8",
                "BITBUCKET_GET_PULL_REQUEST_COMMITS",
            ),
            ("list pipelines that failed", "BITBUCKET_LIST_PIPELINES"),
            (
                "change the title of pull request 2",
                "BITBUCKET_UPDATE_PULL_REQUEST",
            ),
            // The old answers stay.
            ("comment on issue 2", "BITBUCKET_CREATE_ISSUE_COMMENT"),
            ("list merged pull requests", "BITBUCKET_LIST_PULL_REQUESTS"),
            (
                "open a pull request from feature/x",
                "BITBUCKET_CREATE_PULL_REQUEST",
            ),
            ("who approved PR 3", "BITBUCKET_GET_PULL_REQUEST"),
            (
                "remove my approval from PR 3",
                "BITBUCKET_UNAPPROVE_PULL_REQUEST",
            ),
            // "commit the changes to develop" reads as the commit changes (GET_COMMIT_CHANGES):
            // "changes" is its thing and the real tool's is files.
            ("commit the new README to develop", "BITBUCKET_COMMIT_FILES"),
            ("read the commit history", "BITBUCKET_LIST_COMMITS"),
            ("show merge request 5", "BITBUCKET_GET_PULL_REQUEST"),
            ("merge feature/x into main", "BITBUCKET_MERGE_PULL_REQUEST"),
            (
                "sign off on the pull request",
                "BITBUCKET_APPROVE_PULL_REQUEST",
            ),
            ("did the pipeline for main pass", "BITBUCKET_LIST_PIPELINES"),
            ("add a reviewer to PR 7", "BITBUCKET_UPDATE_PULL_REQUEST"),
            (
                "leave a review comment on PR 2",
                "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            ),
        ],
    );
}

#[test]
fn any_catalogue_can_be_indexed() {
    let index = Index::new([
        tool(
            "GITHUB_CREATE_AN_ISSUE",
            "Create an issue",
            "Opens an issue in a GitHub repository.",
            WRITE,
            &[("owner", true, "Owner."), ("repo", true, "Repository.")],
        ),
        tool(
            "GITHUB_LIST_REPOSITORY_ISSUES",
            "List repository issues",
            "Lists the issues of a repository.",
            READ,
            &[("owner", true, "Owner."), ("repo", true, "Repository.")],
        ),
    ]);
    check_table(
        &index,
        &[
            ("file a bug", "GITHUB_CREATE_AN_ISSUE"),
            ("which tickets are open", "GITHUB_LIST_REPOSITORY_ISSUES"),
        ],
    );
    assert!(Index::new([]).search("list issues", 3).is_empty());
}

#[test]
fn explanations_add_up_to_the_score() {
    let index = Index::catalogue();
    let query = "comment on the latest open issue";
    let hit = &index.search(query, 1)[0];
    let parts = index.explain(query, hit.name).unwrap_or_default();
    let sum: f32 = parts.iter().map(|p| p.points).sum();
    assert!((sum - hit.score).abs() < 1e-3, "{parts:?} vs {}", hit.score);
    assert!(
        parts
            .iter()
            .any(|p| p.what == "thing: comment is the target"),
        "{parts:?}"
    );
    assert_eq!(index.explain(query, "BITBUCKET_NOPE"), None);
}

#[test]
fn discovery_gives_related_tools_a_plan_and_pitfalls() {
    let index = Index::catalogue();
    let found = index.discover(&UseCase {
        use_case: "comment on the latest open issue".to_owned(),
        known_fields: parse_known_fields("workspace: acme"),
    });
    let names = |refs: &[ToolRef]| refs.iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(&found.primary)[0], "BITBUCKET_CREATE_ISSUE_COMMENT");
    let related = names(&found.related);
    for producer in [
        "BITBUCKET_LIST_ISSUES",
        "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
        "BITBUCKET_LIST_WORKSPACES",
        // Named in the description.
        "BITBUCKET_UPDATE_ISSUE",
    ] {
        assert!(related.contains(&producer), "{producer} in {related:?}");
    }
    assert_eq!(found.toolkits, ["bitbucket"]);
    // The workspace is known: the plan does not look it up, and the call carries it.
    assert!(
        found
            .plan
            .iter()
            .all(|s| !s.contains("`workspace` is unknown")),
        "{:?}",
        found.plan
    );
    assert!(
        found
            .plan
            .iter()
            .any(|s| s.contains("`issue_id` is unknown")),
        "{:?}",
        found.plan
    );
    let call = found.plan.last().map(String::as_str).unwrap_or_default();
    assert!(
        call.starts_with("Call BITBUCKET_CREATE_ISSUE_COMMENT with `workspace` = \"acme\""),
        "{call}"
    );
    assert!(
        found.pitfalls[0].contains("`issue_id`"),
        "{:?}",
        found.pitfalls
    );

    let delete = index.discover(&UseCase {
        use_case: "delete the widgets repository".to_owned(),
        ..UseCase::default()
    });
    assert_eq!(delete.primary[0].name, "BITBUCKET_DELETE_REPOSITORY");
    assert!(
        delete
            .plan
            .iter()
            .any(|s| s.contains("confirm with the user")),
        "{:?}",
        delete.plan
    );
    assert!(
        delete
            .pitfalls
            .iter()
            .any(|s| s.contains("cannot be undone")),
        "{:?}",
        delete.pitfalls
    );

    let nothing = index.discover(&UseCase {
        use_case: "the weather in Paris".to_owned(),
        ..UseCase::default()
    });
    assert!(
        nothing.primary.is_empty() && nothing.plan.is_empty(),
        "{nothing:?}"
    );
}

#[test]
fn use_cases_deserialize_with_either_form_of_known_fields() {
    let text: UseCase =
        serde_json::from_str(r#"{"use_case": "x", "known_fields": "workspace:acme, repo_slug:w"}"#)
            .unwrap_or_default();
    let object: UseCase = serde_json::from_str(
        r#"{"use_case": "x", "known_fields": {"workspace": "acme", "repo_slug": "w"}}"#,
    )
    .unwrap_or_default();
    assert_eq!(text.known_fields.len(), 2);
    assert_eq!(text, object);
    let bare: UseCase = serde_json::from_str(r#"{"use_case": "x"}"#).unwrap_or_default();
    assert_eq!(bare.use_case, "x");
    assert!(serde_json::from_str::<UseCase>(r#"{"known_fields": {}}"#).is_err());
}

#[test]
fn review_requests_find_the_review_tools() {
    let index = Index::catalogue();
    check_table(
        &index,
        &[
            (
                "comment 'nit: rename' on line 3 of src/login.rs in PR 1",
                "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            ),
            (
                "which files does PR 1 change",
                "BITBUCKET_GET_PULL_REQUEST_DIFFSTAT",
            ),
            ("delete repo notes in demo", "BITBUCKET_DELETE_REPOSITORY"),
            ("show the diff of PR 1", "BITBUCKET_GET_PULL_REQUEST_DIFF"),
            ("approve PR 1", "BITBUCKET_APPROVE_PULL_REQUEST"),
            ("merge PR 2 with a squash", "BITBUCKET_MERGE_PULL_REQUEST"),
            ("decline PR 3", "BITBUCKET_DECLINE_PULL_REQUEST"),
            (
                "request changes on PR 3",
                "BITBUCKET_REQUEST_PULL_REQUEST_CHANGES",
            ),
            ("delete the branch feature/old", "BITBUCKET_DELETE_BRANCH"),
            (
                "change README.md on feature/docs to say hello",
                "BITBUCKET_COMMIT_FILES",
            ),
        ],
    );
}

#[test]
fn a_thing_named_as_context_that_a_tool_ignores_counts_against_it() {
    let index = Index::catalogue();
    let query = "what's the status of pull request 42";
    let top: Vec<&str> = index.search(query, 3).iter().map(|hit| hit.name).collect();
    assert!(top.contains(&"BITBUCKET_GET_PULL_REQUEST"), "{top:?}");
    let parts = index
        .explain(query, "BITBUCKET_GET_COMMIT_BUILD_STATUS")
        .expect("explained");
    assert!(
        parts
            .iter()
            .any(|p| p.what == "context: pr is not the tool's"),
        "{parts:?}"
    );
    // The acting user is everyone's context.
    let parts = index
        .explain(
            "List all workspaces accessible to the current user",
            "BITBUCKET_LIST_WORKSPACES",
        )
        .expect("explained");
    assert!(
        !parts
            .iter()
            .any(|p| p.what == "context: me is not the tool's"),
        "{parts:?}"
    );
}
