//! Issue tools, checked against what the tracker stores.

use bitbucket_client::{IssueComment, IssueKind, IssuePriority, IssueState};
use futures::TryStreamExt as _;
use serde_json::{Value, json};

use crate::support::{Env, repo, start};

fn ids(listing: &Value) -> Vec<u64> {
    listing["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_u64().expect("an id"))
        .collect()
}

async fn comments(env: &Env, issue: u64) -> Vec<IssueComment> {
    env.client
        .paginate_url(
            &format!("/repositories/acme/widgets/issues/{issue}/comments"),
            100,
        )
        .try_collect()
        .await
        .expect("comments list")
}

#[tokio::test]
async fn lists_issues_by_state_query_and_sort() {
    let env = start().await;
    let open = env
        .ok(
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": "acme", "repo_slug": "widgets", "state": "open", "sort": "-created_on"}),
        )
        .await;
    let listing = open.structured.unwrap();
    assert_eq!(ids(&listing), [2]);
    assert_eq!(listing["items"][0]["reporter"]["nickname"], "alice");

    let untriaged = env
        .ok(
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": "acme", "repo_slug": "widgets", "state": ["new", "OPEN"], "sort": "-created_on"}),
        )
        .await;
    assert_eq!(ids(&untriaged.structured.unwrap()), [2, 1]);

    let combined = env
        .ok(
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": "acme", "repo_slug": "widgets", "q": "kind = \"bug\"", "state": "new,resolved", "sort": "id"}),
        )
        .await;
    assert_eq!(ids(&combined.structured.unwrap()), [1, 3]);

    let queried = env
        .ok(
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": "acme", "repo_slug": "widgets", "q": "title ~ \"README\""}),
        )
        .await;
    let listing = queried.structured.unwrap();
    assert_eq!(ids(&listing), [3]);
    assert_eq!(
        listing["items"][0]["content"],
        "\"recieve\" should be \"receive\" in the README."
    );
    assert!(
        queried
            .text
            .contains("#3 \"Typo in README\" [resolved, bug, trivial]"),
        "{}",
        queried.text
    );

    let paged = env
        .ok(
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": "acme", "repo_slug": "widgets", "pagelen": 2, "sort": "id"}),
        )
        .await;
    let listing = paged.structured.unwrap();
    assert_eq!(ids(&listing), [1, 2]);
    assert_eq!(
        (listing["has_more"].clone(), listing["next_page"].clone()),
        (json!(true), json!(2))
    );
}

#[tokio::test]
async fn creates_an_issue() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_CREATE_ISSUE",
            json!({
                "workspace": "acme",
                "repo_slug": "widgets",
                "title": "Export fails",
                "content": "Steps: click *Export*.",
                "kind": "Task",
                "priority": "blocker",
                "assignee": "alice",
            }),
        )
        .await;
    let created = outcome.structured.unwrap();
    let id = created["id"].as_u64().unwrap();
    assert_eq!(id, 4);
    assert!(
        outcome
            .text
            .starts_with("Created issue #4 \"Export fails\" [new, task, blocker]"),
        "{}",
        outcome.text
    );
    let stored = env
        .client
        .get_issue(&repo("acme", "widgets"), id)
        .await
        .unwrap();
    assert_eq!(stored.title, "Export fails");
    assert_eq!(stored.content_raw(), Some("Steps: click *Export*."));
    assert_eq!(stored.kind, Some(IssueKind::Task));
    assert_eq!(stored.priority, Some(IssuePriority::Blocker));
    assert_eq!(
        stored.assignee.and_then(|a| a.nickname).as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn updates_an_issue() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_UPDATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 1, "state": "resolved", "assignee": "bob", "priority": "minor"}),
        )
        .await;
    assert_eq!(outcome.structured.as_ref().unwrap()["state"], "resolved");
    let stored = env
        .client
        .get_issue(&repo("acme", "widgets"), 1)
        .await
        .unwrap();
    assert_eq!(stored.state, Some(IssueState::Resolved));
    assert_eq!(stored.priority, Some(IssuePriority::Minor));
    assert_eq!(
        stored.assignee.and_then(|a| a.nickname).as_deref(),
        Some("bob")
    );
    assert_eq!(
        stored.title, "Crash when saving settings",
        "untouched fields stay"
    );

    env.ok(
        "BITBUCKET_UPDATE_ISSUE",
        json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": "1", "assignee": ""}),
    )
    .await;
    let stored = env
        .client
        .get_issue(&repo("acme", "widgets"), 1)
        .await
        .unwrap();
    assert_eq!(stored.assignee, None, "an empty assignee unassigns");

    let nothing = env
        .err(
            "BITBUCKET_UPDATE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 1}),
        )
        .await;
    assert_eq!(
        nothing,
        "invalid arguments for `BITBUCKET_UPDATE_ISSUE`: nothing to change; pass at least one of \
         `title`, `content`, `state`, `kind`, `priority`, `assignee`"
    );
}

#[tokio::test]
async fn deletes_an_issue() {
    let env = start().await;
    let outcome = env
        .ok(
            "BITBUCKET_DELETE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 3}),
        )
        .await;
    assert_eq!(outcome.text, "Deleted issue #3 of acme/widgets");
    assert!(
        env.client
            .get_issue(&repo("acme", "widgets"), 3)
            .await
            .unwrap_err()
            .is_not_found()
    );

    let again = env
        .err(
            "BITBUCKET_DELETE_ISSUE",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 3}),
        )
        .await;
    assert!(
        again
            .starts_with("issue #3 not found in `acme/widgets` (BITBUCKET_LIST_ISSUES lists them)"),
        "{again}"
    );
}

#[tokio::test]
async fn comments_on_an_issue() {
    let env = start().await;
    let before = comments(&env, 2).await.len();
    let outcome = env
        .ok(
            "BITBUCKET_CREATE_ISSUE_COMMENT",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 2, "content": "Working on it."}),
        )
        .await;
    let comment = outcome.structured.unwrap();
    let stored = comments(&env, 2).await;
    assert_eq!(stored.len(), before + 1);
    let last = stored.last().unwrap();
    assert_eq!(json!(last.id), comment["id"]);
    assert_eq!(
        last.content.as_ref().and_then(|c| c.raw.as_deref()),
        Some("Working on it.")
    );
    assert_eq!(comment["commented_on"], "issue #2 of acme/widgets");
    assert_eq!(comment["author"]["nickname"], "demo");
}

#[tokio::test]
async fn gets_one_issue_with_its_comments_a_page_at_a_time() {
    let env = start().await;
    let issue = |extra: Value| {
        let mut arguments = json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 1});
        if let (Some(target), Some(extra)) = (arguments.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        arguments
    };
    let quiet = env.ok("BITBUCKET_GET_ISSUE", issue(json!({}))).await;
    let read = quiet.structured.unwrap();
    assert_eq!(
        (
            read["id"].clone(),
            read["state"].clone(),
            read["priority"].clone()
        ),
        (json!(1), json!("new"), json!("critical"))
    );
    assert_eq!(
        read["content"],
        "The app crashes when I click Save on the settings page."
    );
    assert_eq!(read["comments"]["items"], json!([]));
    assert!(quiet.text.ends_with("comments: none"), "{}", quiet.text);

    for n in 1..=51 {
        env.client
            .create_issue_comment(&repo("acme", "widgets"), 1, &format!("note {n}"))
            .await
            .unwrap();
    }
    let first = env.ok("BITBUCKET_GET_ISSUE", issue(json!({}))).await;
    let page = first.structured.unwrap();
    let items = page["comments"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert_eq!(items[0]["content"], "note 1");
    assert_eq!(items[0]["author"]["nickname"], "demo");
    assert_eq!(
        (
            page["comments"]["has_more"].clone(),
            page["comments"]["next_page"].clone()
        ),
        (json!(true), json!(2))
    );
    assert!(
        first
            .text
            .ends_with("More comments: call again with comments_page=2"),
        "{}",
        first.text
    );
    let second = env
        .ok("BITBUCKET_GET_ISSUE", issue(json!({"comments_page": 2})))
        .await;
    let page = second.structured.unwrap();
    let items = page["comments"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["content"], "note 51");
    assert_eq!(page["comments"]["has_more"], false);
    assert!(second.text.ends_with("No more comments"), "{}", second.text);

    let missing = env
        .err("BITBUCKET_GET_ISSUE", issue(json!({"issue_id": 99})))
        .await;
    assert!(missing.contains("issue #99 not found"), "{missing}");
}

/// A failure that may pass says what to do next: a refused or failed read can simply be
/// repeated (after the wait Bitbucket asked for), a write that reached Bitbucket must be
/// checked first, or it may be done twice.
#[tokio::test]
async fn a_failure_that_may_pass_says_whether_to_wait_or_to_check_first() {
    let env = start().await;
    let faults = |spec: &str| spec.parse::<bitbucket_sandbox::FaultConfig>().unwrap();
    let list = json!({"workspace": "acme", "repo_slug": "widgets"});
    let create = json!({"workspace": "acme", "repo_slug": "widgets", "title": "twice?"});

    env._sandbox.set_faults(faults("429=1,retry-after=3"));
    let read = env.err("BITBUCKET_LIST_ISSUES", list.clone()).await;
    assert!(
        read.contains("rate limiting") && read.contains("try again in 3s"),
        "{read}"
    );
    // A 429 means the write was turned away unprocessed, so it may simply be repeated.
    let write = env.err("BITBUCKET_CREATE_ISSUE", create.clone()).await;
    assert!(write.contains("try again in 3s"), "{write}");

    env._sandbox.set_faults(faults("503=1"));
    let read = env.err("BITBUCKET_LIST_ISSUES", list).await;
    assert!(
        read.contains("(503)") && read.contains("try again in a few seconds"),
        "{read}"
    );
    let write = env.err("BITBUCKET_CREATE_ISSUE", create).await;
    assert!(
        write.contains("may have been done anyway, so check before trying again"),
        "{write}"
    );
}
