//! Every client operation against the seeded sandbox, checking the values returned and the
//! effects left behind.

use bitbucket_client::{
    AccountRef, Auth, DirectoryParams, IssueKind, IssuePriority, IssueState, IssueUpdate,
    ListParams, ListPullRequestsParams, ListRepositoriesParams, ListWorkspacesParams, NewBranch,
    NewIssue, NewPullRequest, NewRepository, PageParams, PullRequestState, RepositoryRole,
    RetryPolicy, Source,
};
use bitbucket_sandbox::{DEMO_EMAIL, DEMO_TOKEN};

use crate::support::{api, repo, start};

const README_START: &str = "# Widgets\n\nWidgets is Acme's small Rust service";

#[tokio::test]
async fn current_user_with_basic_and_bearer_auth() {
    let env = start().await;
    let basic = env.demo().current_user().await.expect("basic auth");
    assert_eq!(basic.display_name.as_deref(), Some("Demo User"));
    assert_eq!(basic.username.as_deref(), Some("demo"));
    assert_eq!(basic.nickname.as_deref(), Some("demo"));
    assert!(basic.uuid.as_deref().is_some_and(|u| u.starts_with('{')));

    let bearer = env
        .bearer(DEMO_TOKEN)
        .current_user()
        .await
        .expect("bearer auth");
    assert_eq!(bearer.uuid, basic.uuid, "same token, same user");
    assert_eq!(bearer.account_id, basic.account_id);

    let alice = env.alice().current_user().await.expect("alice");
    assert_eq!(alice.display_name.as_deref(), Some("Alice Liddell"));
    assert_ne!(alice.uuid, basic.uuid);

    // Basic auth also accepts the username in place of the email.
    let by_name = env
        .client_with(Auth::api_token("bob", "bob-token"), RetryPolicy::fast())
        .current_user()
        .await
        .expect("username login");
    assert_eq!(by_name.display_name.as_deref(), Some("Bob Builder"));
}

#[tokio::test]
async fn workspaces_and_members() {
    let env = start().await;
    let demo = env.demo();
    let page = demo
        .list_workspaces(&ListWorkspacesParams::default())
        .await
        .expect("workspaces");
    let slugs: Vec<_> = page
        .values
        .iter()
        .map(|access| access.workspace.as_ref().expect("workspace").slug.as_str())
        .collect();
    assert_eq!(slugs, ["acme", "demo"]);
    assert!(
        page.values
            .iter()
            .all(|access| access.administrator == Some(true)),
        "demo owns both: {page:?}"
    );
    assert_eq!(page.size, Some(2));
    assert!(!page.has_next());

    let sorted = demo
        .list_workspaces(&ListWorkspacesParams {
            sort: Some("-workspace.slug".into()),
            ..ListWorkspacesParams::default()
        })
        .await
        .expect("sorted workspaces");
    let slugs: Vec<_> = sorted
        .values
        .iter()
        .map(|access| access.workspace.as_ref().expect("workspace").slug.clone())
        .collect();
    assert_eq!(slugs, ["demo", "acme"]);

    let filtered = demo
        .list_workspaces(&ListWorkspacesParams {
            q: Some("workspace.slug = \"demo\"".into()),
            ..ListWorkspacesParams::default()
        })
        .await
        .expect("filtered workspaces");
    assert_eq!(filtered.values.len(), 1);
    assert_eq!(
        filtered.values[0]
            .workspace
            .as_ref()
            .expect("workspace")
            .slug,
        "demo"
    );

    let alice = env
        .alice()
        .list_workspaces(&ListWorkspacesParams::default())
        .await
        .expect("alice's workspaces");
    assert_eq!(alice.values.len(), 1);
    assert_eq!(
        alice.values[0].workspace.as_ref().expect("workspace").slug,
        "acme"
    );
    assert_eq!(alice.values[0].administrator, Some(false));

    let members = demo
        .list_workspace_members("acme", &PageParams::new())
        .await
        .expect("members");
    let names: Vec<_> = members
        .values
        .iter()
        .map(|m| {
            m.user
                .as_ref()
                .and_then(|u| u.display_name.clone())
                .expect("member name")
        })
        .collect();
    assert_eq!(names, ["Alice Liddell", "Bob Builder", "Demo User"]);
    assert!(members.values.iter().all(|m| {
        m.workspace.as_ref().map(|w| w.slug.as_str()) == Some("acme")
            && m.object_type.as_deref() == Some("workspace_membership")
    }));

    let first_two = demo
        .list_workspace_members("acme", &PageParams::new().pagelen(2))
        .await
        .expect("members page");
    assert_eq!(first_two.values.len(), 2);
    assert_eq!(first_two.size, Some(3));
    assert!(first_two.has_next());

    let own = demo
        .list_workspace_members("demo", &PageParams::new())
        .await
        .expect("demo's members");
    assert_eq!(own.values.len(), 1);
}

#[tokio::test]
async fn repositories_list_with_role_q_and_sort() {
    let env = start().await;
    let demo = env.demo();
    let all = demo
        .list_repositories("acme", &ListRepositoriesParams::default())
        .await
        .expect("repositories");
    let names: Vec<_> = all.values.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(names, ["acme/website", "acme/widgets"]);
    let widgets = &all.values[1];
    assert_eq!(widgets.has_issues, Some(true));
    assert_eq!(all.values[0].has_issues, Some(false));
    assert_eq!(widgets.mainbranch_name(), Some("main"));
    assert_eq!(
        widgets.project.as_ref().and_then(|p| p.key.as_deref()),
        Some("CORE")
    );

    let sorted = demo
        .list_repositories(
            "acme",
            &ListRepositoriesParams {
                sort: Some("-name".into()),
                ..ListRepositoriesParams::default()
            },
        )
        .await
        .expect("sorted");
    let names: Vec<_> = sorted.values.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["widgets", "website"]);

    let filtered = demo
        .list_repositories(
            "acme",
            &ListRepositoriesParams {
                q: Some("has_issues = false".into()),
                ..ListRepositoriesParams::default()
            },
        )
        .await
        .expect("filtered");
    let names: Vec<_> = filtered.values.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["website"]);

    let admin = ListRepositoriesParams {
        role: Some(RepositoryRole::Admin),
        ..ListRepositoriesParams::default()
    };
    let owned = demo
        .list_repositories("acme", &admin)
        .await
        .expect("demo as admin");
    assert_eq!(owned.values.len(), 2, "demo owns acme");
    let not_admin = env
        .alice()
        .list_repositories("acme", &admin)
        .await
        .expect("alice as admin");
    assert!(not_admin.values.is_empty(), "alice is only a member");
    let member = env
        .alice()
        .list_repositories(
            "acme",
            &ListRepositoriesParams {
                role: Some(RepositoryRole::Member),
                ..ListRepositoriesParams::default()
            },
        )
        .await
        .expect("alice as member");
    assert_eq!(member.values.len(), 2);
}

#[tokio::test]
async fn repository_get_create_delete() {
    let env = start().await;
    let demo = env.demo();
    let widgets = demo
        .get_repository(&repo("acme", "widgets"))
        .await
        .expect("widgets");
    assert_eq!(widgets.full_name, "acme/widgets");
    assert_eq!(widgets.slug.as_deref(), Some("widgets"));
    assert_eq!(widgets.mainbranch_name(), Some("main"));
    assert_eq!(widgets.has_issues, Some(true));
    assert_eq!(widgets.language.as_deref(), Some("rust"));
    assert_eq!(
        widgets.workspace.as_ref().map(|w| w.slug.as_str()),
        Some("acme")
    );

    let created = demo
        .create_repository(
            &repo("acme", "gadgets"),
            &NewRepository {
                name: Some("Gadgets".into()),
                description: Some("Gadget service.".into()),
                is_private: Some(false),
                project_key: Some("CORE".into()),
                has_issues: Some(true),
                language: Some("go".into()),
                ..NewRepository::default()
            },
        )
        .await
        .expect("create");
    assert_eq!(created.full_name, "acme/gadgets");
    assert_eq!(created.name, "Gadgets");
    assert_eq!(created.description.as_deref(), Some("Gadget service."));
    assert_eq!(created.is_private, Some(false));
    assert_eq!(created.has_issues, Some(true));
    assert_eq!(created.language.as_deref(), Some("go"));
    assert_eq!(
        created.project.as_ref().and_then(|p| p.key.as_deref()),
        Some("CORE")
    );

    let fetched = demo
        .get_repository(&repo("acme", "gadgets"))
        .await
        .expect("get created");
    assert_eq!(fetched.uuid, created.uuid);
    let listed = demo
        .list_repositories("acme", &ListRepositoriesParams::default())
        .await
        .expect("list");
    assert!(listed.values.iter().any(|r| r.full_name == "acme/gadgets"));

    demo.delete_repository(&repo("acme", "gadgets"))
        .await
        .expect("delete");
    let gone = demo
        .get_repository(&repo("acme", "gadgets"))
        .await
        .expect_err("deleted");
    assert!(gone.is_not_found(), "{gone:?}");
    let again = demo
        .delete_repository(&repo("acme", "gadgets"))
        .await
        .expect_err("deleted twice");
    assert_eq!(again.status(), Some(404));
}

#[tokio::test]
async fn branches_create_from_hashes_and_names_and_read_back() {
    let env = start().await;
    let demo = env.demo();
    let main = demo
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .expect("main");
    let main_head = main.target.expect("main target").hash;
    assert_eq!(main_head.len(), 40);
    let develop_head = demo
        .get_branch(&repo("acme", "widgets"), "develop")
        .await
        .expect("develop")
        .target
        .expect("develop target")
        .hash;
    assert_ne!(develop_head, main_head);

    for (name, target, expected) in [
        ("from-full", main_head.as_str(), main_head.as_str()),
        ("from-short", &main_head[..7], main_head.as_str()),
        ("from-name", "develop", develop_head.as_str()),
        ("nested/from-slash", "feature/login", ""),
    ] {
        let created = demo
            .create_branch(&repo("acme", "widgets"), &NewBranch::new(name, target))
            .await
            .unwrap_or_else(|err| panic!("create {name}: {err}"));
        assert_eq!(created.name, name);
        let hash = created.target.expect("target").hash;
        if !expected.is_empty() {
            assert_eq!(hash, expected, "{name}");
        }
        let read = demo
            .get_branch(&repo("acme", "widgets"), name)
            .await
            .unwrap_or_else(|err| panic!("get {name}: {err}"));
        assert_eq!(read.name, name);
        assert_eq!(read.target.expect("target").hash, hash);
    }

    // A name with `/` stays one path segment.
    let login = demo
        .get_branch(&repo("acme", "widgets"), "feature/login")
        .await
        .expect("feature/login");
    assert_eq!(login.name, "feature/login");
    let login_target = login.target.expect("login target");
    assert_eq!(
        login_target.message.as_deref().map(str::trim),
        Some("Add login form")
    );
    assert_eq!(login_target.parents.len(), 1);
    assert_eq!(login_target.parents[0].hash, main_head);
    let nested = demo
        .get_branch(&repo("acme", "widgets"), "nested/from-slash")
        .await
        .expect("nested");
    assert_eq!(nested.target.expect("target").hash, login_target.hash);

    let listed = demo
        .list_branches(
            &repo("acme", "widgets"),
            &ListParams::new().q("name ~ \"from-\"").sort("-name"),
        )
        .await
        .expect("filtered branches");
    let names: Vec<_> = listed.values.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        ["nested/from-slash", "from-short", "from-name", "from-full"]
    );

    let all = demo
        .list_branches(&repo("acme", "widgets"), &ListParams::new().sort("name"))
        .await
        .expect("all branches");
    let names: Vec<_> = all.values.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "develop",
            "feature/login",
            "from-full",
            "from-name",
            "from-short",
            "main",
            "nested/from-slash"
        ]
    );
}

#[tokio::test]
async fn tags_are_listed() {
    let env = start().await;
    let demo = env.demo();
    let none = demo
        .list_tags(&repo("acme", "widgets"), &ListParams::new())
        .await
        .expect("no tags yet");
    assert!(none.values.is_empty());
    assert_eq!(none.size, Some(0));

    // The client cannot create tags; the sandbox can, over plain HTTP.
    let http = reqwest::Client::new();
    for (name, target) in [("v0.3.0", "develop"), ("v0.3.1", "main")] {
        let response = http
            .post(format!(
                "{}/repositories/acme/widgets/refs/tags",
                env.sandbox.base_url()
            ))
            .basic_auth(DEMO_EMAIL, Some(DEMO_TOKEN))
            .json(&serde_json::json!({"name": name, "target": {"hash": target}}))
            .send()
            .await
            .expect("create tag");
        assert_eq!(response.status().as_u16(), 201, "tag {name}");
    }
    let main_head = demo
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .expect("main")
        .target
        .expect("target")
        .hash;
    let tags = demo
        .list_tags(&repo("acme", "widgets"), &ListParams::new().sort("-name"))
        .await
        .expect("tags");
    let names: Vec<_> = tags.values.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["v0.3.1", "v0.3.0"]);
    assert_eq!(
        tags.values[0].target.as_ref().expect("target").hash,
        main_head
    );
    let filtered = demo
        .list_tags(
            &repo("acme", "widgets"),
            &ListParams::new().q("name = \"v0.3.0\""),
        )
        .await
        .expect("filtered tags");
    assert_eq!(filtered.values.len(), 1);
    assert_eq!(filtered.values[0].name, "v0.3.0");
}

#[tokio::test]
async fn commits_on_a_branch_and_by_default() {
    let env = start().await;
    let demo = env.demo();
    let main = demo
        .list_commits(&repo("acme", "widgets"), Some("main"), &PageParams::new())
        .await
        .expect("main commits");
    let messages: Vec<_> = main
        .values
        .iter()
        .map(|c| c.message.as_deref().expect("message").trim())
        .collect();
    assert_eq!(messages, ["Add the widgets guide", "Initial commit"]);
    assert_eq!(main.values[0].parents[0].hash, main.values[1].hash);
    assert!(main.values[1].parents.is_empty());
    let author = main.values[0].author.as_ref().expect("author");
    assert_eq!(author.raw.as_deref(), Some("Bob Builder <bob@example.com>"));
    assert_eq!(
        author.user.as_ref().and_then(|u| u.display_name.as_deref()),
        Some("Bob Builder")
    );

    let login = demo
        .list_commits(
            &repo("acme", "widgets"),
            Some("feature/login"),
            &PageParams::new(),
        )
        .await
        .expect("feature/login commits");
    let messages: Vec<_> = login
        .values
        .iter()
        .map(|c| c.message.as_deref().expect("message").trim())
        .collect();
    assert_eq!(
        messages,
        ["Add login form", "Add the widgets guide", "Initial commit"]
    );

    let at_hash = demo
        .list_commits(
            &repo("acme", "widgets"),
            Some(&main.values[1].hash),
            &PageParams::new(),
        )
        .await
        .expect("commits from a hash");
    assert_eq!(at_hash.values.len(), 1);

    let default = demo
        .list_commits(&repo("acme", "widgets"), None, &PageParams::new())
        .await
        .expect("default commits");
    // Without a revision: the commits of every branch, newest first.
    let messages: Vec<_> = default
        .values
        .iter()
        .map(|c| c.message.as_deref().expect("message").trim())
        .collect();
    assert_eq!(
        messages,
        [
            "Add login form",
            "Add shared widget types",
            "Add the widgets guide",
            "Initial commit"
        ]
    );
    assert_eq!(default.values[0].hash, login.values[0].hash);

    let one = demo
        .list_commits(
            &repo("acme", "widgets"),
            Some("main"),
            &PageParams::new().pagelen(1),
        )
        .await
        .expect("one commit");
    assert_eq!(one.values.len(), 1);
    assert_eq!(one.values[0].hash, main.values[0].hash);
    assert!(one.has_next());
}

#[tokio::test]
async fn issue_lifecycle_and_comments() {
    let env = start().await;
    let demo = env.demo();
    let alice = env.alice().current_user().await.expect("alice");
    let alice_id = alice.account_id.clone().expect("alice's account id");

    let seeded = demo
        .get_issue(&repo("acme", "widgets"), 1)
        .await
        .expect("issue 1");
    assert_eq!(seeded.title, "Crash when saving settings");
    assert_eq!(seeded.kind, Some(IssueKind::Bug));
    assert_eq!(seeded.state, Some(IssueState::New));

    let all = demo
        .list_issues(&repo("acme", "widgets"), &ListParams::new())
        .await
        .expect("issues");
    let titles: Vec<_> = all.values.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Crash when saving settings",
            "Add dark mode",
            "Typo in README"
        ]
    );
    let bugs = demo
        .list_issues(
            &repo("acme", "widgets"),
            &ListParams::new().q("kind = \"bug\"").sort("-id"),
        )
        .await
        .expect("bugs");
    let ids: Vec<_> = bugs.values.iter().map(|i| i.id).collect();
    assert_eq!(ids, [3, 1]);

    let created = demo
        .create_issue(
            &repo("acme", "widgets"),
            &NewIssue {
                title: "Export widgets as PNG".into(),
                content: Some("Charts should *export*.".into()),
                kind: Some(IssueKind::Enhancement),
                priority: Some(IssuePriority::Critical),
                assignee: Some(AccountRef::AccountId(alice_id.clone())),
            },
        )
        .await
        .expect("create issue");
    assert_eq!(created.id, 4);
    assert_eq!(created.title, "Export widgets as PNG");
    assert_eq!(created.content_raw(), Some("Charts should *export*."));
    assert_eq!(created.kind, Some(IssueKind::Enhancement));
    assert_eq!(created.priority, Some(IssuePriority::Critical));
    assert_eq!(created.state, Some(IssueState::New));
    assert_eq!(
        created
            .assignee
            .as_ref()
            .and_then(|a| a.account_id.as_deref()),
        Some(alice_id.as_str())
    );
    assert_eq!(
        created
            .reporter
            .as_ref()
            .and_then(|r| r.display_name.as_deref()),
        Some("Demo User")
    );

    let fetched = demo
        .get_issue(&repo("acme", "widgets"), 4)
        .await
        .expect("get 4");
    assert_eq!(fetched.title, created.title);
    assert_eq!(fetched.priority, Some(IssuePriority::Critical));

    let updated = demo
        .update_issue(
            &repo("acme", "widgets"),
            4,
            &IssueUpdate {
                title: Some("Export widgets as PNG and SVG".into()),
                state: Some(IssueState::OnHold),
                priority: Some(IssuePriority::Minor),
                ..IssueUpdate::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.title, "Export widgets as PNG and SVG");
    assert_eq!(updated.state, Some(IssueState::OnHold));
    assert_eq!(updated.priority, Some(IssuePriority::Minor));
    assert_eq!(updated.kind, Some(IssueKind::Enhancement), "untouched");
    assert_eq!(
        updated
            .assignee
            .as_ref()
            .and_then(|a| a.account_id.as_deref()),
        Some(alice_id.as_str()),
        "untouched"
    );
    let refetched = demo
        .get_issue(&repo("acme", "widgets"), 4)
        .await
        .expect("get 4");
    assert_eq!(refetched.title, "Export widgets as PNG and SVG");
    assert_eq!(refetched.state, Some(IssueState::OnHold));
    assert_eq!(refetched.priority, Some(IssuePriority::Minor));

    let comment = demo
        .create_issue_comment(&repo("acme", "widgets"), 4, "PNG first, please.")
        .await
        .expect("comment");
    assert!(comment.id > 0);
    assert_eq!(
        comment.content.as_ref().and_then(|c| c.raw.as_deref()),
        Some("PNG first, please.")
    );
    assert_eq!(
        comment
            .user
            .as_ref()
            .and_then(|u| u.display_name.as_deref()),
        Some("Demo User")
    );
    let second = demo
        .create_issue_comment(&repo("acme", "widgets"), 4, "And SVG.")
        .await
        .expect("second comment");
    assert!(second.id > comment.id);
    let comments = demo
        .list_issue_comments(&repo("acme", "widgets"), 4, &ListParams::new())
        .await
        .expect("comments");
    let texts: Vec<Option<&str>> = comments
        .values
        .iter()
        .map(|c| c.content.as_ref().and_then(|c| c.raw.as_deref()))
        .collect();
    assert_eq!(texts, [Some("PNG first, please."), Some("And SVG.")]);
    let first_page = demo
        .list_issue_comments(
            &repo("acme", "widgets"),
            4,
            &ListParams {
                pagelen: Some(1),
                ..ListParams::new()
            },
        )
        .await
        .expect("first comment");
    assert_eq!(first_page.values.len(), 1);
    assert!(first_page.has_next());

    demo.delete_issue(&repo("acme", "widgets"), 4)
        .await
        .expect("delete");
    let gone = demo
        .get_issue(&repo("acme", "widgets"), 4)
        .await
        .expect_err("deleted");
    assert_eq!(gone.status(), Some(404));
    let remaining = demo
        .list_issues(&repo("acme", "widgets"), &ListParams::new())
        .await
        .expect("issues after delete");
    assert_eq!(remaining.values.len(), 3);
}

#[tokio::test]
async fn pull_requests_create_get_and_list_by_state() {
    let env = start().await;
    let demo = env.demo();
    let alice = env.alice().current_user().await.expect("alice");
    let bob = env.bob().current_user().await.expect("bob");

    let seeded = demo
        .get_pull_request(&repo("acme", "widgets"), 1)
        .await
        .expect("pr 1");
    assert_eq!(seeded.title, "Add login form");
    assert_eq!(seeded.state, Some(PullRequestState::Open));
    assert_eq!(
        seeded.source.as_ref().and_then(|s| s.branch_name()),
        Some("feature/login")
    );
    assert_eq!(
        seeded.destination.as_ref().and_then(|d| d.branch_name()),
        Some("main")
    );
    assert_eq!(
        seeded
            .author
            .as_ref()
            .and_then(|a| a.display_name.as_deref()),
        Some("Alice Liddell")
    );

    let develop_head = demo
        .get_branch(&repo("acme", "widgets"), "develop")
        .await
        .expect("develop")
        .target
        .expect("target")
        .hash;
    let created = demo
        .create_pull_request(
            &repo("acme", "widgets"),
            &NewPullRequest {
                title: "Shared widget types".into(),
                source_branch: "develop".into(),
                destination_branch: Some("main".into()),
                description: Some("Adds `Kind`.".into()),
                reviewers: vec![
                    AccountRef::Uuid(bob.uuid.clone().expect("bob's uuid")),
                    AccountRef::AccountId(alice.account_id.clone().expect("alice's id")),
                ],
                close_source_branch: Some(true),
                draft: Some(true),
            },
        )
        .await
        .expect("create pr");
    assert_eq!(created.id, 2);
    assert_eq!(created.title, "Shared widget types");
    assert_eq!(created.description.as_deref(), Some("Adds `Kind`."));
    assert_eq!(created.state, Some(PullRequestState::Open));
    assert_eq!(created.draft, Some(true));
    assert_eq!(created.close_source_branch, Some(true));
    let source = created.source.as_ref().expect("source");
    assert_eq!(source.branch_name(), Some("develop"));
    let source_commit = &source.commit.as_ref().expect("source commit").hash;
    assert!(
        !source_commit.is_empty() && develop_head.starts_with(source_commit.as_str()),
        "{source_commit} vs {develop_head}"
    );
    let mut reviewers: Vec<_> = created
        .reviewers
        .iter()
        .map(|r| r.display_name.clone().expect("reviewer name"))
        .collect();
    reviewers.sort();
    assert_eq!(reviewers, ["Alice Liddell", "Bob Builder"]);
    assert!(
        created
            .participants
            .iter()
            .all(|p| p.role.as_deref() == Some("REVIEWER"))
    );

    let fetched = demo
        .get_pull_request(&repo("acme", "widgets"), 2)
        .await
        .expect("get pr 2");
    assert_eq!(fetched.title, created.title);
    assert_eq!(fetched.draft, Some(true));
    assert_eq!(fetched.reviewers.len(), 2);

    let list = |states: Vec<PullRequestState>| {
        let demo = demo.clone();
        async move {
            let page = demo
                .list_pull_requests(
                    &repo("acme", "widgets"),
                    &ListPullRequestsParams {
                        states,
                        ..ListPullRequestsParams::default()
                    },
                )
                .await
                .expect("list prs");
            page.values.iter().map(|pr| pr.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(vec![]).await, [2, 1], "OPEN by default, newest first");
    assert_eq!(list(vec![PullRequestState::Open]).await, [2, 1]);
    assert!(list(vec![PullRequestState::Merged]).await.is_empty());
    assert!(
        list(vec![PullRequestState::Merged, PullRequestState::Declined])
            .await
            .is_empty()
    );
    // Several states: every one counts, not only the first or the last.
    assert_eq!(
        list(vec![PullRequestState::Merged, PullRequestState::Open]).await,
        [2, 1]
    );
    assert_eq!(
        list(vec![PullRequestState::Open, PullRequestState::Declined]).await,
        [2, 1]
    );

    let filtered = demo
        .list_pull_requests(
            &repo("acme", "widgets"),
            &ListPullRequestsParams {
                q: Some("draft = true".into()),
                pagelen: Some(50),
                ..ListPullRequestsParams::default()
            },
        )
        .await
        .expect("drafts");
    let ids: Vec<_> = filtered.values.iter().map(|pr| pr.id).collect();
    assert_eq!(ids, [2]);
}

fn file_text(source: Source) -> (String, String) {
    match source {
        Source::File(file) => (
            file.text().expect("utf-8").to_owned(),
            file.revision.clone(),
        ),
        Source::Directory(page) => panic!("expected a file, got a listing: {page:?}"),
    }
}

#[tokio::test]
async fn files_at_branches_commits_and_the_main_branch() {
    let env = start().await;
    let demo = env.demo();
    let commits = demo
        .list_commits(&repo("acme", "widgets"), Some("main"), &PageParams::new())
        .await
        .expect("commits");
    let first_commit = commits.values[1].hash.clone();
    let login_head = demo
        .get_branch(&repo("acme", "widgets"), "feature/login")
        .await
        .expect("login")
        .target
        .expect("target")
        .hash;

    let readme = demo
        .get_file(&repo("acme", "widgets"), Some("main"), "README.md")
        .await
        .expect("README at main");
    let Source::File(file) = readme else {
        panic!("README is a file")
    };
    assert!(file.text().expect("utf-8").starts_with(README_START));
    assert_eq!(file.path, "README.md");
    assert_eq!(file.revision, "main");
    assert_eq!(file.size, u64::try_from(file.bytes.len()).expect("size"));
    assert!(
        file.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/markdown")),
        "{:?}",
        file.content_type
    );

    let (text, revision) = file_text(
        demo.get_file(&repo("acme", "widgets"), None, "README.md")
            .await
            .expect("README at the main branch"),
    );
    assert!(text.starts_with(README_START));
    assert_eq!(revision, "main", "defaults to the main branch");

    // README.md is the same at every revision; each is read through its own form.
    for revision in [
        first_commit.as_str(),
        &first_commit[..10],
        "feature/login",
        "develop",
    ] {
        let (text, _) = file_text(
            demo.get_file(&repo("acme", "widgets"), Some(revision), "README.md")
                .await
                .unwrap_or_else(|err| panic!("README at {revision}: {err}")),
        );
        assert!(text.starts_with(README_START), "README at {revision}");
    }
    assert_eq!(
        demo.resolve_revision(&repo("acme", "widgets"), None)
            .await
            .expect("default revision"),
        "main"
    );
    assert_eq!(
        demo.resolve_revision(&repo("acme", "widgets"), Some("feature/login"))
            .await
            .expect("slashed revision"),
        login_head
    );
    assert_eq!(
        demo.resolve_revision(&repo("acme", "widgets"), Some("develop"))
            .await
            .expect("plain revision"),
        "develop"
    );

    let (text, revision) = file_text(
        demo.get_file(&repo("acme", "widgets"), Some(&first_commit), "src/main.rs")
            .await
            .expect("main.rs at the first commit"),
    );
    assert!(text.starts_with("//! Widgets: renders dashboard widgets."));
    assert_eq!(revision, first_commit);
    // The guide came with the second commit.
    let missing = demo
        .get_file(
            &repo("acme", "widgets"),
            Some(&first_commit),
            "docs/guide.md",
        )
        .await
        .expect_err("no guide in the first commit");
    assert_eq!(missing.status(), Some(404));

    let (text, revision) = file_text(
        demo.get_file(
            &repo("acme", "widgets"),
            Some("feature/login"),
            "src/login.rs",
        )
        .await
        .expect("login.rs on feature/login"),
    );
    assert!(text.contains("render_login_form"));
    assert_eq!(revision, login_head, "a slashed branch reads at its head");
    let not_on_main = demo
        .get_file(&repo("acme", "widgets"), Some("main"), "src/login.rs")
        .await
        .expect_err("login.rs is only on the branch");
    assert!(not_on_main.is_not_found());

    let (text, _) = file_text(
        demo.get_file(&repo("acme", "website"), None, "index.html")
            .await
            .expect("index.html"),
    );
    assert!(text.contains("<h1>Acme Corp</h1>"));

    // Directories come back as listings, by path or as the root.
    let root = demo
        .get_file(&repo("acme", "widgets"), Some("main"), "")
        .await
        .expect("root")
        .into_directory()
        .expect("root is a directory");
    let mut paths: Vec<_> = root.values.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["Cargo.toml", "README.md", "docs", "src"]);
    let src = demo
        .get_file(&repo("acme", "widgets"), Some("feature/login"), "src")
        .await
        .expect("src")
        .into_directory()
        .expect("src is a directory");
    let mut paths: Vec<_> = src.values.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["src/login.rs", "src/main.rs"]);
}

#[tokio::test]
async fn file_meta_and_directory_listings() {
    let env = start().await;
    let demo = env.demo();
    let main_head = demo
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .expect("main")
        .target
        .expect("target")
        .hash;
    let readme_len = match demo
        .get_file(&repo("acme", "widgets"), Some("main"), "README.md")
        .await
        .expect("README")
    {
        Source::File(file) => file.size,
        Source::Directory(_) => panic!("README is a file"),
    };

    let meta = demo
        .get_file_meta(&repo("acme", "widgets"), Some("main"), "README.md")
        .await
        .expect("README meta");
    assert!(meta.is_file(), "{meta:?}");
    assert_eq!(meta.path, "README.md");
    assert_eq!(meta.size, Some(readme_len));
    assert_eq!(meta.commit.as_ref().expect("commit").hash, main_head);
    let meta = demo
        .get_file_meta(&repo("acme", "widgets"), None, "docs")
        .await
        .expect("docs meta");
    assert!(meta.is_directory(), "{meta:?}");
    assert_eq!(meta.path, "docs");

    let root = demo
        .list_directory(
            &repo("acme", "widgets"),
            Some("main"),
            "",
            &DirectoryParams::default(),
        )
        .await
        .expect("root listing");
    let mut entries: Vec<_> = root
        .values
        .iter()
        .map(|e| (e.path.as_str(), e.is_directory()))
        .collect();
    entries.sort_unstable();
    assert_eq!(
        entries,
        [
            ("Cargo.toml", false),
            ("README.md", false),
            ("docs", true),
            ("src", true)
        ]
    );
    let readme = root
        .values
        .iter()
        .find(|e| e.path == "README.md")
        .expect("README entry");
    assert_eq!(readme.size, Some(readme_len));

    let src = demo
        .list_directory(
            &repo("acme", "widgets"),
            None,
            "src",
            &DirectoryParams::default(),
        )
        .await
        .expect("src listing");
    let paths: Vec<_> = src.values.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["src/main.rs"]);
    let src = demo
        .list_directory(
            &repo("acme", "widgets"),
            Some("feature/login"),
            "src/",
            &DirectoryParams::default(),
        )
        .await
        .expect("src listing on feature/login");
    let mut paths: Vec<_> = src.values.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["src/login.rs", "src/main.rs"]);

    let files_only = demo
        .list_directory(
            &repo("acme", "widgets"),
            Some("main"),
            "",
            &DirectoryParams {
                q: Some("type = \"commit_file\"".into()),
                sort: Some("-path".into()),
                ..DirectoryParams::default()
            },
        )
        .await
        .expect("files only");
    let paths: Vec<_> = files_only.values.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["README.md", "Cargo.toml"]);
}

#[tokio::test]
async fn snippet_and_comments_with_and_without_parent() {
    let env = start().await;
    let demo = env.demo();
    let snippet = demo.get_snippet("acme", "kypj").await.expect("snippet");
    assert_eq!(snippet.title.as_deref(), Some("Deploy checklist"));
    assert_eq!(snippet.is_private, Some(true));
    assert_eq!(
        snippet.files.keys().map(String::as_str).collect::<Vec<_>>(),
        ["checklist.md"]
    );
    assert_eq!(
        snippet
            .creator
            .as_ref()
            .and_then(|c| c.display_name.as_deref()),
        Some("Demo User")
    );
    assert!(
        snippet
            .links
            .self_href()
            .is_some_and(|href| href.ends_with("/2.0/snippets/acme/kypj")),
        "{:?}",
        snippet.links
    );

    let top = demo
        .create_snippet_comment("acme", "kypj", "Added the migration step.", None)
        .await
        .expect("comment");
    assert!(top.id > 1, "the seed already has bob's comment");
    assert_eq!(
        top.content.as_ref().and_then(|c| c.raw.as_deref()),
        Some("Added the migration step.")
    );
    assert!(top.parent.is_none());
    assert_eq!(
        top.user.as_ref().and_then(|u| u.display_name.as_deref()),
        Some("Demo User")
    );

    let reply = env
        .bob()
        .create_snippet_comment("acme", "kypj", "Thanks!", Some(top.id))
        .await
        .expect("reply");
    assert!(reply.id > top.id);
    assert_eq!(reply.parent.as_ref().map(|p| p.id), Some(top.id));
    assert_eq!(
        reply.user.as_ref().and_then(|u| u.display_name.as_deref()),
        Some("Bob Builder")
    );

    let orphan = demo
        .create_snippet_comment("acme", "kypj", "Reply to nothing", Some(9_999))
        .await
        .expect_err("unknown parent");
    assert_eq!(orphan.status(), Some(400));
    assert!(
        api(&orphan).message.contains("Parent comment 9999"),
        "{orphan}"
    );
}

#[tokio::test]
async fn with_auth_acts_as_another_user_and_leaves_the_original_alone() {
    let env = crate::support::start().await;
    let anonymous = env.anonymous();
    let alice = anonymous.with_auth(bitbucket_client::Auth::bearer(
        bitbucket_sandbox::ALICE_TOKEN,
    ));
    let bob = alice.with_auth(bitbucket_client::Auth::bearer(bitbucket_sandbox::BOB_TOKEN));
    let alice_name = alice.current_user().await.expect("alice").nickname;
    let bob_name = bob.current_user().await.expect("bob").nickname;
    assert!(alice_name.is_some());
    assert_ne!(alice_name, bob_name);
    assert_eq!(bob.base_url(), anonymous.base_url());
    assert_eq!(bob.retry_policy(), anonymous.retry_policy());
    let err = anonymous.current_user().await.expect_err("still anonymous");
    assert_eq!(err.api().map(|api| api.status), Some(401));
}
