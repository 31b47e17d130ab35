//! The pull-request lifecycle through the client, against the sandbox: write a file on a new
//! branch, read the commit and its diff, open a pull request, comment on a line, approve
//! (as someone else: approving your own is refused), merge with a squash; then read the
//! effects back. Tasks on a pull request, and comments on a commit, go the same way.

use bitbucket_client::{
    CommitFiles, DiffParams, InlineAnchor, MergeOptions, MergeStrategy, NewComment, NewPullRequest,
    PageParams, PullRequestState, PullRequestUpdate,
};

use crate::support::{api, repo, start};

#[tokio::test]
async fn a_change_goes_from_a_branch_through_review_into_main() {
    let env = start().await;
    let demo = env.demo();
    let alice = env.alice();
    let widgets = repo("acme", "widgets");
    let main_before = demo
        .get_branch(&widgets, "main")
        .await
        .expect("main")
        .target
        .expect("main's head")
        .hash;

    // A file written on a new branch is one commit on top of main.
    let hash = demo
        .commit_files(
            &widgets,
            &CommitFiles {
                message: Some("Document the login fix".into()),
                branch: Some("feature/docs".into()),
                files: vec![("docs/login.md".into(), "# Login\n\nFixed.\n".into())],
                ..CommitFiles::default()
            },
        )
        .await
        .expect("commit");
    let commit = demo.get_commit(&widgets, &hash).await.expect("the commit");
    assert_eq!(commit.hash, hash);
    assert_eq!(
        commit.message.as_deref().map(str::trim),
        Some("Document the login fix")
    );
    assert_eq!(commit.parents.len(), 1);
    assert_eq!(commit.parents[0].hash, main_before);
    let branch = demo
        .get_branch(&widgets, "feature/docs")
        .await
        .expect("branch");
    assert_eq!(branch.target.expect("head").hash, hash);

    // Its diff and diffstat name the file.
    let diff = demo
        .diff(&widgets, &hash, &DiffParams::default())
        .await
        .expect("diff");
    assert!(diff.contains("+++ b/docs/login.md"), "{diff}");
    assert!(diff.contains("+Fixed."), "{diff}");
    let stat = demo
        .diffstat(
            &widgets,
            &hash,
            &DiffParams::default(),
            &PageParams::default(),
        )
        .await
        .expect("diffstat");
    assert_eq!(stat.values.len(), 1);
    assert_eq!(stat.values[0].path(), Some("docs/login.md"));
    assert_eq!(stat.values[0].status.as_deref(), Some("added"));

    // A pull request from it, renamed, with an inline comment.
    let pr = demo
        .create_pull_request(&widgets, &NewPullRequest::new("Docs", "feature/docs"))
        .await
        .expect("pull request");
    let pr = demo
        .update_pull_request(
            &widgets,
            pr.id,
            &PullRequestUpdate {
                title: Some("Document the login fix".into()),
                ..PullRequestUpdate::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(pr.title, "Document the login fix");
    let pr_diff = demo.pull_request_diff(&widgets, pr.id).await.expect("diff");
    assert!(pr_diff.contains("+Fixed."), "{pr_diff}");
    let comment = alice
        .create_pull_request_comment(
            &widgets,
            pr.id,
            &NewComment {
                text: "nit: say what was fixed".into(),
                inline: Some(InlineAnchor {
                    path: "docs/login.md".into(),
                    from: None,
                    to: Some(3),
                }),
                parent: None,
            },
        )
        .await
        .expect("inline comment");
    assert_eq!(
        comment.inline.as_ref().map(|i| (i.path.as_str(), i.to)),
        Some(("docs/login.md", Some(3)))
    );
    let comments = demo
        .list_pull_request_comments(&widgets, pr.id, &Default::default())
        .await
        .expect("comments");
    assert!(comments.values.iter().any(|c| c.id == comment.id));

    // Approving your own pull request is refused; someone else's approval counts.
    let own = demo
        .approve_pull_request(&widgets, pr.id)
        .await
        .expect_err("own approval");
    assert_eq!(api(&own).status, 400, "{own}");
    let approval = alice
        .approve_pull_request(&widgets, pr.id)
        .await
        .expect("approve");
    assert_eq!(approval.approved, Some(true));

    // A squash merge moves main by one commit that holds the change.
    let merged = demo
        .merge_pull_request(
            &widgets,
            pr.id,
            &MergeOptions {
                strategy: Some(MergeStrategy::Squash),
                message: Some("Document the login fix (#2)".into()),
                close_source_branch: None,
            },
        )
        .await
        .expect("merge");
    assert_eq!(merged.state, Some(PullRequestState::Merged));
    let main_after = demo
        .get_branch(&widgets, "main")
        .await
        .expect("main")
        .target
        .expect("main's head");
    assert_ne!(main_after.hash, main_before);
    let squash = demo
        .get_commit(&widgets, &main_after.hash)
        .await
        .expect("squash commit");
    assert_eq!(squash.parents.len(), 1, "a squash has one parent");
    assert_eq!(squash.parents[0].hash, main_before);
    let file = demo
        .get_file(&widgets, Some("main"), "docs/login.md")
        .await
        .expect("the file is on main");
    match file {
        bitbucket_client::Source::File(file) => {
            assert_eq!(file.bytes.as_ref(), b"# Login\n\nFixed.\n");
        }
        other => panic!("expected a file, got {other:?}"),
    }

    // Merging again is refused: it is no longer open.
    let again = demo
        .merge_pull_request(&widgets, pr.id, &MergeOptions::default())
        .await
        .expect_err("merge twice");
    assert!(api(&again).status >= 400, "{again}");
}

#[tokio::test]
async fn reviews_can_be_changed_statuses_posted_and_refs_removed() {
    let env = start().await;
    let demo = env.demo();
    let alice = env.alice();
    let widgets = repo("acme", "widgets");
    let head = demo
        .commit_files(
            &widgets,
            &CommitFiles {
                message: Some("Tweak the README".into()),
                branch: Some("feature/tweak".into()),
                files: vec![("README.md".into(), "# Widgets\n\nTweaked.\n".into())],
                ..CommitFiles::default()
            },
        )
        .await
        .expect("commit");
    let base = demo
        .merge_base(&widgets, &format!("{head}..main"))
        .await
        .expect("merge base");
    let main = demo.get_branch(&widgets, "main").await.expect("main");
    assert_eq!(Some(base.hash), main.target.map(|c| c.hash));
    let history = demo
        .file_history(&widgets, &head, "README.md", &PageParams::default())
        .await
        .expect("file history");
    assert!(history.values.len() >= 2, "{:?}", history.values.len());
    let patch = demo.patch(&widgets, &head).await.expect("patch");
    assert!(
        patch.contains("Tweak the README") && patch.contains("+Tweaked."),
        "{patch}"
    );

    // CI reports on the head commit; the pull request shows it.
    let status = demo
        .create_commit_status(
            &widgets,
            &head,
            &bitbucket_client::NewCommitStatus {
                key: "ci/build".into(),
                state: "FAILED".into(),
                url: "https://ci.example.com/1".into(),
                name: Some("Build #1".into()),
                description: Some("2 tests failed".into()),
            },
        )
        .await
        .expect("status");
    assert_eq!(status.state.as_deref(), Some("FAILED"));
    let pr = demo
        .create_pull_request(&widgets, &NewPullRequest::new("Tweak", "feature/tweak"))
        .await
        .expect("pull request");
    let statuses = demo
        .pull_request_statuses(&widgets, pr.id, &Default::default())
        .await
        .expect("statuses");
    assert_eq!(statuses.values.len(), 1);
    assert_eq!(statuses.values[0].key, "ci/build");

    // Changes requested, then withdrawn; a comment resolved and reopened, with a reply.
    let asked = alice
        .request_pull_request_changes(&widgets, pr.id)
        .await
        .expect("request changes");
    assert_eq!(asked.state.as_deref(), Some("changes_requested"));
    alice
        .remove_pull_request_change_request(&widgets, pr.id)
        .await
        .expect("withdraw");
    let first = alice
        .create_pull_request_comment(&widgets, pr.id, &NewComment::new("Why tweak?"))
        .await
        .expect("comment");
    let reply = demo
        .create_pull_request_comment(
            &widgets,
            pr.id,
            &NewComment {
                parent: Some(first.id),
                ..NewComment::new("Because.")
            },
        )
        .await
        .expect("reply");
    assert_eq!(reply.parent.map(|p| p.id), Some(first.id));
    demo.resolve_pull_request_comment(&widgets, pr.id, first.id)
        .await
        .expect("resolve");
    demo.reopen_pull_request_comment(&widgets, pr.id, first.id)
        .await
        .expect("reopen");

    // Declined, it cannot be merged; its branch and a tag can go.
    let declined = demo
        .decline_pull_request(&widgets, pr.id)
        .await
        .expect("decline");
    assert_eq!(declined.state, Some(PullRequestState::Declined));
    let refused = demo
        .merge_pull_request(&widgets, pr.id, &MergeOptions::default())
        .await
        .expect_err("a declined pull request cannot be merged");
    assert_eq!(api(&refused).status, 400, "{refused}");
    demo.create_tag(&widgets, "v-tweak", &head, None)
        .await
        .expect("tag");
    demo.delete_tag(&widgets, "v-tweak")
        .await
        .expect("delete tag");
    demo.delete_branch(&widgets, "feature/tweak")
        .await
        .expect("delete branch");
    let gone = demo
        .get_branch(&widgets, "feature/tweak")
        .await
        .expect_err("deleted");
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn tasks_are_created_resolved_reopened_and_deleted() {
    let env = start().await;
    let demo = env.demo();
    let alice = env.alice();
    let (widgets, pr) = (repo("acme", "widgets"), 1);
    let open_tasks = |client: &bitbucket_client::Client| {
        let (client, widgets) = (client.clone(), widgets.clone());
        async move {
            client
                .get_pull_request(&widgets, pr)
                .await
                .expect("pull request")
                .task_count
        }
    };
    assert_eq!(open_tasks(&demo).await, Some(0));

    let comment = alice
        .create_pull_request_comment(&widgets, pr, &NewComment::new("Split this up"))
        .await
        .expect("comment");
    let plain = demo
        .create_pull_request_task(&widgets, pr, "Add a test", None)
        .await
        .expect("task");
    assert_eq!(plain.state.as_deref(), Some("UNRESOLVED"));
    assert_eq!(
        plain.content.as_ref().map(|c| c.raw.as_deref()),
        Some(Some("Add a test"))
    );
    assert_eq!(
        plain.creator.as_ref().and_then(|c| c.nickname.as_deref()),
        Some("demo")
    );
    let under = alice
        .create_pull_request_task(&widgets, pr, "Split it", Some(comment.id))
        .await
        .expect("task on a comment");
    assert_eq!(under.comment.map(|c| c.id), Some(comment.id));
    assert_eq!(open_tasks(&demo).await, Some(2));

    // Alice resolves the demo user's task; it stops counting, and shows who resolved it.
    let resolved = alice
        .update_pull_request_task(&widgets, pr, plain.id, Some(true), None)
        .await
        .expect("resolve");
    assert_eq!(resolved.state.as_deref(), Some("RESOLVED"));
    assert_eq!(
        resolved
            .resolved_by
            .as_ref()
            .and_then(|u| u.nickname.as_deref()),
        Some("alice")
    );
    assert!(resolved.resolved_on.is_some());
    assert_eq!(open_tasks(&demo).await, Some(1));
    let reopened = demo
        .update_pull_request_task(&widgets, pr, plain.id, Some(false), Some("Add two tests"))
        .await
        .expect("reopen and reword");
    assert_eq!(reopened.state.as_deref(), Some("UNRESOLVED"));
    assert!(reopened.resolved_by.is_none());
    assert_eq!(
        reopened.content.as_ref().map(|c| c.raw.as_deref()),
        Some(Some("Add two tests"))
    );

    // Someone else's text cannot be changed, nor their task deleted.
    let refused = alice
        .update_pull_request_task(&widgets, pr, plain.id, None, Some("mine now"))
        .await
        .expect_err("someone else's task");
    assert_eq!(api(&refused).status, 403, "{refused}");
    let refused = alice
        .delete_pull_request_task(&widgets, pr, plain.id)
        .await
        .expect_err("someone else's task");
    assert_eq!(api(&refused).status, 403, "{refused}");

    // A task on a comment that does not exist is refused by the server; a blank one by the
    // client, before any request.
    let missing = demo
        .create_pull_request_task(&widgets, pr, "Orphan", Some(999))
        .await
        .expect_err("missing comment");
    assert_eq!(api(&missing).status, 400, "{missing}");
    let requests = env.requests();
    let blank = demo
        .create_pull_request_task(&widgets, pr, "  ", None)
        .await
        .expect_err("blank");
    assert!(
        matches!(blank, bitbucket_client::Error::InvalidInput { .. }),
        "{blank:?}"
    );
    assert_eq!(env.requests(), requests, "nothing was sent");

    demo.delete_pull_request_task(&widgets, pr, plain.id)
        .await
        .expect("delete");
    let listed = demo
        .list_pull_request_tasks(&widgets, pr, &Default::default())
        .await
        .expect("tasks");
    let ids: Vec<u64> = listed.values.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![under.id]);
    let gone = demo
        .delete_pull_request_task(&widgets, pr, plain.id)
        .await
        .expect_err("deleted twice");
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn commits_are_commented_inline_replied_to_edited_and_deleted() {
    let env = start().await;
    let demo = env.demo();
    let alice = env.alice();
    let widgets = repo("acme", "widgets");
    let hash = demo
        .commit_files(
            &widgets,
            &CommitFiles {
                message: Some("Add notes".into()),
                branch: Some("feature/notes".into()),
                files: vec![("docs/notes.md".into(), "one\ntwo\nthree\n".into())],
                ..CommitFiles::default()
            },
        )
        .await
        .expect("commit");

    let inline = alice
        .create_commit_comment(
            &widgets,
            &hash,
            &NewComment {
                text: "Say **why**".into(),
                inline: Some(InlineAnchor {
                    path: "docs/notes.md".into(),
                    from: None,
                    to: Some(2),
                }),
                parent: None,
            },
        )
        .await
        .expect("inline comment");
    assert_eq!(
        inline.inline.as_ref().map(|i| (i.path.as_str(), i.to)),
        Some(("docs/notes.md", Some(2)))
    );
    let html = inline.content.as_ref().and_then(|c| c.html.as_deref());
    assert!(
        html.is_some_and(|h| h.contains("<strong>why</strong>")),
        "{html:?}"
    );
    let reply = demo
        .create_commit_comment(
            &widgets,
            &hash,
            &NewComment {
                parent: Some(inline.id),
                ..NewComment::new("For the docs")
            },
        )
        .await
        .expect("reply");
    assert_eq!(reply.parent.map(|p| p.id), Some(inline.id));

    // An anchor outside the commit's diff is refused by the server.
    let outside = demo
        .create_commit_comment(
            &widgets,
            &hash,
            &NewComment {
                inline: Some(InlineAnchor {
                    path: "README.md".into(),
                    from: None,
                    to: Some(1),
                }),
                ..NewComment::new("not here")
            },
        )
        .await
        .expect_err("README.md is not in the diff");
    assert_eq!(api(&outside).status, 400, "{outside}");

    let edited = alice
        .update_commit_comment(&widgets, &hash, inline.id, "Say why, please")
        .await
        .expect("edit");
    assert_eq!(
        edited.content.and_then(|c| c.raw).as_deref(),
        Some("Say why, please")
    );
    let refused = demo
        .update_commit_comment(&widgets, &hash, inline.id, "hijack")
        .await
        .expect_err("someone else's comment");
    assert_eq!(api(&refused).status, 403, "{refused}");

    demo.delete_commit_comment(&widgets, &hash, reply.id)
        .await
        .expect("delete");
    let gone = demo
        .get_commit_comment(&widgets, &hash, reply.id)
        .await
        .expect("a deleted comment is still there, marked");
    assert_eq!(gone.deleted, Some(true));
    let listed = demo
        .list_commit_comments(&widgets, &hash, &Default::default())
        .await
        .expect("list");
    let ids: Vec<u64> = listed.values.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![inline.id, reply.id]);
    let missing = demo
        .list_commit_comments(
            &widgets,
            "0123456789abcdef0123456789abcdef01234567",
            &Default::default(),
        )
        .await
        .expect_err("no such commit");
    assert!(missing.is_not_found(), "{missing}");
}
