//! One call of every tool, each checked against the sandbox through the Bitbucket client.

use bitbucket_client::{Client, RepoId};
use futures::StreamExt as _;
use serde_json::json;

use crate::{Session, call, failed};

/// A successful call whose text arrived marked as data.
fn ok(name: &str, result: &rmcp::model::CallToolResult) -> serde_json::Value {
    crate::assert_marked(name, &crate::text(result));
    crate::ok(name, result)
}

fn head(branch: &bitbucket_client::Branch) -> String {
    branch
        .target
        .as_ref()
        .map(|c| c.hash.clone())
        .unwrap_or_default()
}

/// Calls the tools through `s` (a server whose destructive policy lets deletes through) and
/// checks each effect in the seeded sandbox that `bitbucket` talks to; the code-review tools
/// run as [`exercise_review_lifecycle`].
pub async fn exercise_every_tool(s: &Session, bitbucket: &Client) {
    let listed = s.list_all_tools().await.expect("tools/list");
    assert_eq!(
        listed.len(),
        bitbucket_toolkit::Toolkit::catalogue().len(),
        "every tool"
    );
    let w = json!("acme");
    let r = json!("widgets");

    let main = bitbucket
        .get_branch(&repo_id("acme", "widgets"), "main")
        .await
        .expect("main");
    let created = ok(
        "branch",
        &call(
            s,
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": w, "repo_slug": r, "name": "feature/mcp"}),
        )
        .await,
    );
    let branch = bitbucket
        .get_branch(&repo_id("acme", "widgets"), "feature/mcp")
        .await
        .expect("branch exists");
    assert_eq!(
        head(&branch),
        head(&main),
        "default target is main's head: {created}"
    );
    let develop = bitbucket
        .get_branch(&repo_id("acme", "widgets"), "develop")
        .await
        .expect("develop");
    ok(
        "branch off develop",
        &call(
            s,
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": w, "repo_slug": r, "name": "hotfix/mcp", "target": "develop"}),
        )
        .await,
    );
    assert_eq!(
        head(
            &bitbucket
                .get_branch(&repo_id("acme", "widgets"), "hotfix/mcp")
                .await
                .expect("hotfix")
        ),
        head(&develop)
    );

    let got = ok(
        "get branch",
        &call(
            s,
            "BITBUCKET_GET_BRANCH",
            json!({"workspace": w, "repo_slug": r, "name": "feature/login"}),
        )
        .await,
    );
    assert!(got.to_string().contains("feature/login"));
    let branches = ok(
        "list branches",
        &call(
            s,
            "BITBUCKET_LIST_BRANCHES",
            json!({"workspace": w, "repo_slug": r, "pagelen": 2}),
        )
        .await,
    );
    assert_eq!(branches["has_more"], true, "{branches}");
    ok(
        "list tags",
        &call(
            s,
            "BITBUCKET_LIST_TAGS",
            json!({"workspace": w, "repo_slug": r}),
        )
        .await,
    );
    let commits = ok(
        "list commits",
        &call(
            s,
            "BITBUCKET_LIST_COMMITS",
            json!({"workspace": w, "repo_slug": r, "branch": "main"}),
        )
        .await,
    );
    assert_eq!(
        commits["items"].as_array().map(Vec::len),
        Some(2),
        "{commits}"
    );

    let issue = ok(
        "create issue",
        &call(
            s,
            "BITBUCKET_CREATE_ISSUE",
            json!({"workspace": w, "repo_slug": r, "title": "From MCP", "kind": "task"}),
        )
        .await,
    );
    let id = issue["id"].as_u64().expect("issue id");
    ok(
        "comment",
        &call(
            s,
            "BITBUCKET_CREATE_ISSUE_COMMENT",
            json!({"workspace": w, "repo_slug": r, "issue_id": id, "content": "noted"}),
        )
        .await,
    );
    ok(
        "update",
        &call(
            s,
            "BITBUCKET_UPDATE_ISSUE",
            json!({"workspace": w, "repo_slug": r, "issue_id": id, "state": "resolved"}),
        )
        .await,
    );
    let stored = bitbucket
        .get_issue(&repo_id("acme", "widgets"), id)
        .await
        .expect("issue");
    assert_eq!(
        stored.state.map(|s| s.to_string()).as_deref(),
        Some("resolved")
    );
    let read = ok(
        "get issue",
        &call(
            s,
            "BITBUCKET_GET_ISSUE",
            json!({"workspace": w, "repo_slug": r, "issue_id": id}),
        )
        .await,
    );
    assert_eq!(read["id"].as_u64(), Some(id), "{read}");
    assert_eq!(read["title"], "From MCP", "{read}");
    assert_eq!(read["state"], "resolved", "{read}");
    let comments = read["comments"]["items"].as_array().expect("comments");
    assert_eq!(comments.len(), 1, "{read}");
    assert_eq!(comments[0]["content"], "noted", "{read}");
    assert_eq!(read["comments"]["has_more"], false, "{read}");
    let open = ok(
        "list issues",
        &call(
            s,
            "BITBUCKET_LIST_ISSUES",
            json!({"workspace": w, "repo_slug": r, "q": "state = \"open\""}),
        )
        .await,
    );
    assert_eq!(open["items"].as_array().map(Vec::len), Some(1), "{open}");
    ok(
        "delete issue",
        &call(
            s,
            "BITBUCKET_DELETE_ISSUE",
            json!({"workspace": w, "repo_slug": r, "issue_id": id}),
        )
        .await,
    );
    assert!(
        bitbucket
            .get_issue(&repo_id("acme", "widgets"), id)
            .await
            .expect_err("deleted")
            .is_not_found()
    );

    let pr = ok("create PR", &call(s, "BITBUCKET_CREATE_PULL_REQUEST", json!({"workspace": w, "repo_slug": r, "title": "Hotfix", "source_branch": "hotfix/mcp"})).await);
    let pr_id = pr["id"].as_u64().expect("pr id");
    let stored = bitbucket
        .get_pull_request(&repo_id("acme", "widgets"), pr_id)
        .await
        .expect("pr");
    assert_eq!(stored.title, "Hotfix");
    let got = ok(
        "get PR",
        &call(
            s,
            "BITBUCKET_GET_PULL_REQUEST",
            json!({"workspace": w, "repo_slug": r, "pull_request_id": pr_id}),
        )
        .await,
    );
    assert!(got.to_string().contains("hotfix/mcp"), "{got}");
    let prs = ok(
        "list PRs",
        &call(
            s,
            "BITBUCKET_LIST_PULL_REQUESTS",
            json!({"workspace": w, "repo_slug": r, "state": ["OPEN", "MERGED"]}),
        )
        .await,
    );
    assert_eq!(prs["items"].as_array().map(Vec::len), Some(2), "{prs}");

    let readme = ok(
        "get file",
        &call(
            s,
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": w, "repo_slug": r, "path": "README.md"}),
        )
        .await,
    );
    assert!(readme.to_string().contains("# Widgets"), "{readme}");
    let listing = ok(
        "browse",
        &call(
            s,
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            json!({"workspace": w, "repo_slug": r, "path": "src"}),
        )
        .await,
    );
    assert!(listing.to_string().contains("src/main.rs"), "{listing}");
    let repo = ok(
        "get repo",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORY",
            json!({"workspace": w, "repo_slug": r}),
        )
        .await,
    );
    assert!(repo.to_string().contains("acme/widgets"));
    let repos = ok(
        "list repos",
        &call(
            s,
            "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            json!({"workspace": w}),
        )
        .await,
    );
    assert_eq!(repos["items"].as_array().map(Vec::len), Some(2), "{repos}");

    ok(
        "create repo",
        &call(
            s,
            "BITBUCKET_CREATE_REPOSITORY",
            json!({"workspace": "demo", "repo_slug": "from-mcp", "description": "made over MCP"}),
        )
        .await,
    );
    assert_eq!(
        bitbucket
            .get_repository(&repo_id("demo", "from-mcp"))
            .await
            .expect("repo")
            .is_private,
        Some(true)
    );
    ok(
        "delete repo",
        &call(
            s,
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "demo", "repo_slug": "from-mcp"}),
        )
        .await,
    );
    assert!(
        bitbucket
            .get_repository(&repo_id("demo", "from-mcp"))
            .await
            .expect_err("deleted")
            .is_not_found()
    );

    let me = ok(
        "me",
        &call(s, "BITBUCKET_GET_CURRENT_USER", json!({})).await,
    );
    assert!(me.to_string().contains("Demo User"), "{me}");
    let workspaces = ok(
        "workspaces",
        &call(s, "BITBUCKET_LIST_WORKSPACES", json!({})).await,
    );
    assert_eq!(
        workspaces["items"].as_array().map(Vec::len),
        Some(2),
        "{workspaces}"
    );
    let members = ok(
        "members",
        &call(
            s,
            "BITBUCKET_LIST_WORKSPACE_MEMBERS",
            json!({"workspace": w}),
        )
        .await,
    );
    assert_eq!(
        members["items"].as_array().map(Vec::len),
        Some(3),
        "{members}"
    );

    let snippet = ok(
        "snippet",
        &call(
            s,
            "BITBUCKET_GET_SNIPPET",
            json!({"workspace": w, "encoded_id": "kypj"}),
        )
        .await,
    );
    assert!(snippet.to_string().contains("Deploy checklist"));
    ok(
        "snippet comment",
        &call(
            s,
            "BITBUCKET_CREATE_SNIPPET_COMMENT",
            json!({"workspace": w, "encoded_id": "kypj", "content": "Done", "parent_id": 1}),
        )
        .await,
    );
    let comments = bitbucket.paginate_url::<serde_json::Value>("/snippets/acme/kypj/comments", 10);
    let comments: Vec<_> = comments.collect().await;
    assert_eq!(comments.len(), 2, "every tool");

    exercise_review_lifecycle(s, bitbucket).await;
    exercise_insights(s, bitbucket).await;
    exercise_pipelines(s, bitbucket).await;
    exercise_admin(s, bitbucket).await;
}

/// The CI tools: a build status posted and read back by key, and a Code Insights report with
/// its annotations written, read, changed and deleted, each effect checked in the sandbox.
pub async fn exercise_insights(s: &Session, bitbucket: &Client) {
    let widgets = repo_id("acme", "widgets");
    let commit = head_of(bitbucket, "main").await;
    let at = |extra: serde_json::Value| {
        let mut args = json!({"workspace": "acme", "repo_slug": "widgets", "commit": commit});
        if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
            args.extend(extra.clone());
        }
        args
    };

    let posted = ok(
        "post build",
        &call(
            s,
            "BITBUCKET_CREATE_COMMIT_BUILD_STATUS",
            at(json!({"key": "ci/build", "state": "failed", "url": "https://ci.example/7", "description": "2 tests failed"})),
        )
        .await,
    );
    assert_eq!(posted["state"], "FAILED", "{posted}");
    let stored = bitbucket
        .get_commit_status(&widgets, &commit, "ci/build")
        .await
        .expect("the build status is stored");
    assert_eq!(stored.description.as_deref(), Some("2 tests failed"));
    let read = ok(
        "build by key",
        &call(
            s,
            "BITBUCKET_GET_COMMIT_BUILD_STATUS",
            at(json!({"key": "ci/build"})),
        )
        .await,
    );
    assert_eq!(read["url"], "https://ci.example/7", "{read}");

    let report = ok(
        "put report",
        &call(
            s,
            "BITBUCKET_UPDATE_INSIGHTS_PROJECTS_REPOS_COMMITS_REPORTS",
            at(json!({
                "report_id": "scan-1", "title": "Security scan", "details": "2 findings",
                "report_type": "security", "result": "FAILED",
                "data": [{"title": "Coverage", "type": "PERCENTAGE", "value": 81.5}]
            })),
        )
        .await,
    );
    assert_eq!(report["report_id"], "scan-1", "{report}");
    let stored = bitbucket
        .get_report(&widgets, &commit, "scan-1")
        .await
        .expect("the report is stored");
    assert_eq!(stored.report_type.as_deref(), Some("SECURITY"));
    assert_eq!(stored.data.len(), 1);

    let added = ok(
        "annotations",
        &call(
            s,
            "BITBUCKET_CREATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            at(json!({"report_id": "scan-1", "annotations": [
                {"annotation_id": "a1", "annotation_type": "VULNERABILITY", "summary": "SQL injection", "severity": "HIGH", "path": "src/main.rs", "line": 1},
                {"annotation_id": "a2", "annotation_type": "CODE_SMELL", "summary": "Long function"}
            ]})),
        )
        .await,
    );
    assert_eq!(
        added["annotations"].as_array().map(Vec::len),
        Some(2),
        "{added}"
    );
    let stored = bitbucket
        .list_annotations(&widgets, &commit, "scan-1", &Default::default())
        .await
        .expect("annotations are stored");
    assert_eq!(stored.values.len(), 2);

    let listed = ok(
        "reports",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS",
            at(json!({})),
        )
        .await,
    );
    assert_eq!(listed["items"][0]["title"], "Security scan", "{listed}");
    let full = ok(
        "report",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT",
            at(json!({"report_id": "scan-1"})),
        )
        .await,
    );
    assert_eq!(
        full["annotations"].as_array().map(Vec::len),
        Some(2),
        "{full}"
    );
    assert_eq!(full["report"]["result"], "FAILED", "{full}");

    let changed = ok(
        "annotation",
        &call(
            s,
            "BITBUCKET_UPDATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            at(json!({"report_id": "scan-1", "annotation_id": "a2", "annotation_type": "CODE_SMELL", "summary": "Long function", "severity": "low"})),
        )
        .await,
    );
    assert_eq!(changed["severity"], "LOW", "{changed}");
    let stored = bitbucket
        .get_annotation(&widgets, &commit, "scan-1", "a2")
        .await
        .expect("a2");
    assert_eq!(stored.severity.as_deref(), Some("LOW"));
    let one = ok(
        "one annotation",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            at(json!({"report_id": "scan-1", "annotation_id": "a1"})),
        )
        .await,
    );
    assert_eq!(one["line"], 1, "{one}");

    ok(
        "delete annotation",
        &call(
            s,
            "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            at(json!({"report_id": "scan-1", "annotation_id": "a1"})),
        )
        .await,
    );
    let left = bitbucket
        .list_annotations(&widgets, &commit, "scan-1", &Default::default())
        .await
        .expect("annotations");
    assert_eq!(left.values.len(), 1);
    ok(
        "delete report",
        &call(
            s,
            "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORT",
            at(json!({"report_id": "scan-1"})),
        )
        .await,
    );
    let gone = bitbucket
        .get_report(&widgets, &commit, "scan-1")
        .await
        .expect_err("the report is gone");
    assert_eq!(gone.api().map(|a| a.status), Some(404), "{gone}");
}

async fn head_of(bitbucket: &Client, branch: &str) -> String {
    head(
        &bitbucket
            .get_branch(&repo_id("acme", "widgets"), branch)
            .await
            .unwrap_or_else(|e| panic!("{branch}: {e}")),
    )
}

async fn file_at(bitbucket: &Client, revision: &str, path: &str) -> String {
    let source = bitbucket
        .get_file(&repo_id("acme", "widgets"), Some(revision), path)
        .await
        .unwrap_or_else(|e| panic!("{path} at {revision}: {e}"));
    match source {
        bitbucket_client::Source::File(file) => String::from_utf8_lossy(&file.bytes).into_owned(),
        bitbucket_client::Source::Directory(_) => panic!("{path} is a directory"),
    }
}

/// The pull request lifecycle through `s`: a branch off main, a file changed on it, a pull
/// request, its diff and files, an inline comment, approval (refused on one's own pull
/// request, as Bitbucket refuses it), and merges with a squash and with a merge commit. Each
/// effect is checked in the sandbox through `bitbucket`.
pub async fn exercise_review_lifecycle(s: &Session, bitbucket: &Client) {
    let w = json!("acme");
    let r = json!("widgets");
    ok(
        "branch",
        &call(
            s,
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": w, "repo_slug": r, "name": "feature/docs"}),
        )
        .await,
    );
    let before = head_of(bitbucket, "feature/docs").await;
    let readme = "# Widgets\n\nDashboard widgets, rendered as HTML.\n";
    let committed = ok(
        "commit files",
        &call(
            s,
            "BITBUCKET_COMMIT_FILES",
            json!({"workspace": w, "repo_slug": r, "branch": "feature/docs",
                "message": "Shorten the README", "files": [{"path": "README.md", "content": readme}]}),
        )
        .await,
    );
    let after = head_of(bitbucket, "feature/docs").await;
    assert_ne!(before, after, "the branch moved");
    assert_eq!(committed["commit"], json!(after), "{committed}");
    assert_eq!(
        file_at(bitbucket, "feature/docs", "README.md").await,
        readme
    );

    // A comment on the commit itself: inline on the changed line, edited, then deleted.
    let on_commit = |extra: serde_json::Value| {
        let mut args = json!({"workspace": "acme", "repo_slug": "widgets", "commit": after});
        if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
            args.extend(extra.clone());
        }
        args
    };
    let noted = ok(
        "commit comment",
        &call(
            s,
            "BITBUCKET_CREATE_COMMIT_COMMENT",
            on_commit(json!({"content": "Say *which* HTML.", "path": "README.md", "line": 3})),
        )
        .await,
    );
    let note_id = noted["id"].as_u64().expect("comment id");
    let stored = bitbucket
        .get_commit_comment(&repo_id("acme", "widgets"), &after, note_id)
        .await
        .expect("commit comment stored");
    let anchor = stored.inline.clone().expect("inline");
    assert_eq!((anchor.path.as_str(), anchor.to), ("README.md", Some(3)));
    let listed = ok(
        "commit comments",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_COMMIT_COMMENTS",
            on_commit(json!({})),
        )
        .await,
    );
    assert_eq!(listed["items"][0]["id"], json!(note_id), "{listed}");
    ok(
        "edit commit comment",
        &call(
            s,
            "BITBUCKET_UPDATE_REPOSITORIES_COMMIT_COMMENTS",
            on_commit(json!({"comment_id": note_id, "content": "Say which HTML."})),
        )
        .await,
    );
    let shown = ok(
        "get commit comment",
        &call(
            s,
            "BITBUCKET_GET_COMMIT_COMMENT",
            on_commit(json!({"comment_id": note_id})),
        )
        .await,
    );
    assert_eq!(shown["content"], json!("Say which HTML."), "{shown}");
    ok(
        "delete commit comment",
        &call(
            s,
            "BITBUCKET_DELETE_COMMIT_COMMENT",
            on_commit(json!({"comment_id": note_id})),
        )
        .await,
    );
    let gone = bitbucket
        .get_commit_comment(&repo_id("acme", "widgets"), &after, note_id)
        .await
        .expect("a deleted comment still reads, marked deleted");
    assert_eq!(gone.deleted, Some(true));

    let pr = ok(
        "open PR",
        &call(
            s,
            "BITBUCKET_CREATE_PULL_REQUEST",
            json!({"workspace": w, "repo_slug": r, "title": "Shorter README", "source_branch": "feature/docs"}),
        )
        .await,
    );
    let id = pr["id"].as_u64().expect("pr id");
    let pr_args = |extra: serde_json::Value| {
        let mut args = json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": id});
        if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
            args.extend(extra.clone());
        }
        args
    };

    let diff = call(s, "BITBUCKET_GET_PULL_REQUEST_DIFF", pr_args(json!({}))).await;
    ok("diff", &diff);
    let diff_text = crate::text(&diff);
    assert!(
        diff_text.contains("diff --git a/README.md b/README.md\n")
            && diff_text.contains("\n+Dashboard widgets, rendered as HTML.\n"),
        "the model reads git's own diff text: {diff_text}"
    );
    let files = ok(
        "diffstat",
        &call(s, "BITBUCKET_GET_PULL_REQUEST_DIFFSTAT", pr_args(json!({}))).await,
    );
    assert_eq!(files["items"][0]["path"], "README.md", "{files}");
    assert_eq!(files["items"][0]["status"], "modified", "{files}");

    let comment = ok(
        "inline comment",
        &call(
            s,
            "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            pr_args(
                json!({"content": "nit: say what a widget is", "path": "README.md", "line": 3}),
            ),
        )
        .await,
    );
    let stored = bitbucket
        .list_pull_request_comments(&repo_id("acme", "widgets"), id, &Default::default())
        .await
        .expect("comments");
    let inline = stored.values[0].inline.clone().expect("inline");
    assert_eq!(
        (inline.path.as_str(), inline.to),
        ("README.md", Some(3)),
        "{comment}"
    );

    let own = failed(
        "approve own PR",
        &call(s, "BITBUCKET_APPROVE_PULL_REQUEST", pr_args(json!({}))).await,
    );
    assert!(own.contains("your own pull request"), "{own}");

    // Alice's pull request 1 (feature/login): approve it, then squash it into main.
    ok(
        "approve",
        &call(
            s,
            "BITBUCKET_APPROVE_PULL_REQUEST",
            json!({"workspace": w, "repo_slug": r, "pull_request_id": 1}),
        )
        .await,
    );
    let login = bitbucket
        .get_pull_request(&repo_id("acme", "widgets"), 1)
        .await
        .expect("pr 1");
    assert!(
        login.participants.iter().any(|p| p.approved == Some(true)),
        "{:?}",
        login.participants
    );
    let main_before = head_of(bitbucket, "main").await;
    let merged = ok(
        "squash",
        &call(
            s,
            "BITBUCKET_MERGE_PULL_REQUEST",
            json!({"workspace": w, "repo_slug": r, "pull_request_id": 1,
                "merge_strategy": "squash", "message": "Add the login form"}),
        )
        .await,
    );
    assert_eq!(merged["state"], "MERGED", "{merged}");
    let main_after = head_of(bitbucket, "main").await;
    let squash = bitbucket
        .get_commit(&repo_id("acme", "widgets"), &main_after)
        .await
        .expect("squash commit");
    let parents: Vec<&str> = squash.parents.iter().map(|p| p.hash.as_str()).collect();
    assert_eq!(parents, [main_before.as_str()], "a squash has one parent");
    assert!(
        file_at(bitbucket, &main_after, "src/login.rs")
            .await
            .contains("login"),
        "the squash commit holds the change"
    );

    // Our own pull request, merged with a merge commit once main has moved.
    let merged = ok(
        "merge commit",
        &call(
            s,
            "BITBUCKET_MERGE_PULL_REQUEST",
            pr_args(json!({"merge_strategy": "merge_commit"})),
        )
        .await,
    );
    assert_eq!(merged["state"], "MERGED", "{merged}");
    let merge = bitbucket
        .get_commit(
            &repo_id("acme", "widgets"),
            &head_of(bitbucket, "main").await,
        )
        .await
        .expect("merge commit");
    let parents: Vec<&str> = merge.parents.iter().map(|p| p.hash.as_str()).collect();
    assert_eq!(parents, [main_after.as_str(), after.as_str()], "both heads");
    assert_eq!(file_at(bitbucket, "main", "README.md").await, readme);
}

/// The id of a repository in the sandbox.
fn repo_id(workspace: &str, slug: &str) -> RepoId {
    RepoId::new(workspace, slug).expect("valid repository id")
}

/// The pipeline file the pipeline tools run: a default pipeline whose first step deploys to
/// Test and whose second fails, and a custom one that waits to be stopped.
const PIPELINES: &str = "pipelines:
  default:
    - step:
        name: Build
        deployment: test
        script:
          - echo building at $LEVEL in $REGION
    - step:
        name: Check
        script:
          - echo checking
          - exit 1
  custom:
    slow:
      - step:
          name: Wait
          script: [sleep 30]
";

/// Reads a run through the tool until it completes.
async fn completed(s: &Session, number: &serde_json::Value) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let run = ok(
            "get pipeline",
            &call(
                s,
                "BITBUCKET_GET_REPOSITORIES_PIPELINES2",
                json!({"workspace": "acme", "repo_slug": "widgets", "pipeline_id": number.to_string()}),
            )
            .await,
        );
        if run["state"] == "COMPLETED" {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pipeline never completed: {run}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The pipeline tools on a sandbox that runs steps: a run that deploys and then fails, its
/// steps and the failing step's log, a run stopped midway, variables of a repository, a
/// workspace (under Composio's team and user names) and an environment, environments and the
/// deployment the run made, each checked through the client.
pub async fn exercise_pipelines(s: &Session, bitbucket: &Client) {
    use bitbucket_client::{CommitFiles, ListParams, VariableScope};
    let widgets = repo_id("acme", "widgets");
    let at = |extra: serde_json::Value| {
        let mut args = json!({"workspace": "acme", "repo_slug": "widgets"});
        if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
            args.extend(extra.clone());
        }
        args
    };
    bitbucket
        .commit_files(
            &widgets,
            &CommitFiles {
                message: Some("CI".into()),
                branch: Some("main".into()),
                files: vec![("bitbucket-pipelines.yml".into(), PIPELINES.into())],
                ..CommitFiles::default()
            },
        )
        .await
        .expect("the pipeline file is committed");

    // Variables first, so that the run sees them.
    let region = ok(
        "repository variable",
        &call(
            s,
            "BITBUCKET_CREATE_REPOSITORY_PIPELINE_VARIABLE",
            at(json!({"key": "REGION", "value": "eu"})),
        )
        .await,
    );
    assert_eq!(region["value"], "eu", "{region}");
    let listed = ok(
        "repository variables",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_VARIABLES",
            at(json!({})),
        )
        .await,
    );
    assert_eq!(listed["items"][0]["key"], "REGION", "{listed}");
    ok(
        "team variable",
        &call(
            s,
            "BITBUCKET_CREATE_TEAMS_PIPELINES_CONFIG_VARIABLES",
            json!({"username": "acme", "key": "LEVEL", "value": "info"}),
        )
        .await,
    );
    ok(
        "team variable changed",
        &call(
            s,
            "BITBUCKET_UPDATE_TEAMS_PIPELINES_CONFIG_VARIABLES",
            json!({"username": "acme", "variable_uuid": "LEVEL", "value": "debug"}),
        )
        .await,
    );
    let secret = ok(
        "user variable",
        &call(
            s,
            "BITBUCKET_CREATE_USERS_PIPELINES_CONFIG_VARIABLES",
            json!({"selected_user": "acme", "key": "TOKEN", "value": "hunter2", "secured": true}),
        )
        .await,
    );
    assert!(
        secret.get("value").is_none() && !secret.to_string().contains("hunter2"),
        "{secret}"
    );
    ok(
        "user variable changed",
        &call(
            s,
            "BITBUCKET_UPDATE_USERS_PIPELINES_CONFIG_VARIABLES",
            json!({"selected_user": "acme", "variable_uuid": "TOKEN", "value": "hunter3"}),
        )
        .await,
    );
    ok(
        "user variable deleted",
        &call(
            s,
            "BITBUCKET_DELETE_USER_PIPELINE_VARIABLE",
            json!({"selected_user": "acme", "variable_uuid": "TOKEN"}),
        )
        .await,
    );
    let workspace = bitbucket
        .list_variables(&VariableScope::Workspace("acme".into()), &ListParams::new())
        .await
        .expect("workspace variables");
    let keys: Vec<_> = workspace
        .values
        .iter()
        .map(|v| (v.key.as_str(), v.value.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [("LEVEL", Some("debug"))],
        "team variable updated, user variable deleted"
    );

    // A run that deploys to Test, then fails.
    let run = ok(
        "run",
        &call(s, "BITBUCKET_RUN_PIPELINE", at(json!({"branch": "main"}))).await,
    );
    let number = run["build_number"].clone();
    let done = completed(s, &number).await;
    assert_eq!(done["result"], "FAILED", "{done}");
    let results: Vec<_> = done["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|st| {
            (
                st["name"].as_str().unwrap_or_default().to_owned(),
                st["result"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("Build".to_owned(), "SUCCESSFUL".to_owned()),
            ("Check".to_owned(), "FAILED".to_owned())
        ]
    );
    let steps = ok(
        "steps",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_STEPS",
            at(json!({"pipeline_id": number.to_string()})),
        )
        .await,
    );
    assert_eq!(steps["items"].as_array().map(Vec::len), Some(2), "{steps}");
    let log = ok(
        "failed step's log",
        &call(
            s,
            "BITBUCKET_GET_PIPELINE_STEP_LOG",
            at(json!({"pipeline_id": number.to_string()})),
        )
        .await,
    );
    assert_eq!(log["step"], "Check", "the failed step by default: {log}");
    assert!(
        log["log"].as_str().unwrap_or_default().contains("+ exit 1"),
        "{log}"
    );
    let build_log = ok(
        "a step's log by name",
        &call(
            s,
            "BITBUCKET_GET_PIPELINE_STEP_LOG",
            at(json!({"pipeline_id": number.to_string(), "step": "build"})),
        )
        .await,
    );
    assert!(
        build_log["log"]
            .as_str()
            .unwrap_or_default()
            .contains("building at debug in eu"),
        "{build_log}"
    );
    let listed = ok(
        "pipelines",
        &call(s, "BITBUCKET_LIST_PIPELINES", at(json!({"branch": "main"}))).await,
    );
    assert_eq!(listed["items"][0]["build_number"], number, "{listed}");

    // A run stopped while its step sleeps.
    let slow = ok(
        "run custom",
        &call(
            s,
            "BITBUCKET_RUN_PIPELINE",
            at(json!({"branch": "main", "custom": "slow"})),
        )
        .await,
    );
    let slow_number = slow["build_number"].clone();
    ok(
        "stop",
        &call(
            s,
            "BITBUCKET_STOP_PIPELINE",
            at(json!({"pipeline_id": slow_number.to_string()})),
        )
        .await,
    );
    let stopped = completed(s, &slow_number).await;
    assert_eq!(stopped["result"], "STOPPED", "{stopped}");
    let stored = bitbucket
        .get_pipeline(&widgets, &slow_number.to_string())
        .await
        .expect("the stopped run");
    assert_eq!(stored.result_name(), Some("STOPPED"));

    // Environments, the deployment the first run made, an environment's variables.
    let envs = ok(
        "environments",
        &call(s, "BITBUCKET_LIST_REPOSITORIES_ENVIRONMENTS", at(json!({}))).await,
    );
    assert_eq!(envs["items"].as_array().map(Vec::len), Some(3), "{envs}");
    let production = ok(
        "environment",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_ENVIRONMENTS2",
            at(json!({"environment_id": "production"})),
        )
        .await,
    );
    assert_eq!(production["name"], "Production", "{production}");
    let uuid = production["uuid"].as_str().expect("uuid").to_owned();
    bitbucket
        .create_variable(
            &VariableScope::Environment(widgets.clone(), uuid),
            "URL",
            "https://example.com",
            false,
        )
        .await
        .expect("an environment variable");
    let env_vars = ok(
        "environment variables",
        &call(
            s,
            "BITBUCKET_GET_DEPLOYMENT_ENVIRONMENT_VARIABLES",
            at(json!({"environment_id": "Production"})),
        )
        .await,
    );
    assert_eq!(env_vars["items"][0]["key"], "URL", "{env_vars}");
    let deployments = ok(
        "deployments",
        &call(
            s,
            "BITBUCKET_LIST_DEPLOYMENTS",
            at(json!({"environment": "test"})),
        )
        .await,
    );
    assert_eq!(
        deployments["items"].as_array().map(Vec::len),
        Some(1),
        "{deployments}"
    );
    assert_eq!(
        deployments["items"][0]["status"], "SUCCESSFUL",
        "{deployments}"
    );
    let stored = bitbucket
        .list_deployments(&widgets, &ListParams::new())
        .await
        .expect("deployments");
    assert_eq!(stored.values.len(), 1);

    // Settings made through the client, read through the tools.
    use bitbucket_client::PipelineSetting;
    for (setting, body) in [
        (
            PipelineSetting::Schedules,
            json!({"target": {"ref_type": "branch", "ref_name": "main"}, "cron_pattern": "0 30 2 * * ? *"}),
        ),
        (
            PipelineSetting::Runners,
            json!({"name": "build-box", "labels": ["self.hosted", "linux"]}),
        ),
        (
            PipelineSetting::KnownHosts,
            json!({"hostname": "git.example.com", "public_key": {"key_type": "ssh-ed25519", "key": "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}}),
        ),
    ] {
        bitbucket
            .create_pipeline_setting(&widgets, setting, &body)
            .await
            .expect("a pipeline setting");
    }
    for (tool, expected) in [
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_SCHEDULES",
            "0 30 2 * * ? *",
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_RUNNERS",
            "build-box [UNREGISTERED]",
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_SSH_KNOWN_HOSTS",
            "git.example.com ssh-ed25519 SHA256:",
        ),
    ] {
        let listed = ok(tool, &call(s, tool, at(json!({}))).await);
        assert!(
            listed["items"][0]["summary"]
                .as_str()
                .unwrap_or_default()
                .contains(expected),
            "{tool}: {listed}"
        );
    }
    let caches = ok(
        "caches",
        &call(
            s,
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_CACHES",
            at(json!({})),
        )
        .await,
    );
    assert_eq!(
        caches["items"],
        json!([]),
        "the sandbox keeps no caches: {caches}"
    );
    let oidc = ok(
        "oidc",
        &call(
            s,
            "BITBUCKET_GET_OPENID_CONFIGURATION",
            json!({"workspace": "acme"}),
        )
        .await,
    );
    let document = bitbucket
        .get_openid_configuration("acme")
        .await
        .expect("document");
    assert_eq!(oidc["issuer"], document["issuer"], "{oidc}");
}

/// The reads of how things are set up, each answer checked against the client's.
pub async fn exercise_admin(s: &Session, bitbucket: &Client) {
    let widgets = repo_id("acme", "widgets");
    let events = ok(
        "hook events",
        &call(
            s,
            "BITBUCKET_GET_HOOK_EVENTS",
            json!({"subject_type": "repository"}),
        )
        .await,
    );
    let listed = bitbucket
        .list_hook_events(
            "repository",
            &bitbucket_client::PageParams {
                page: None,
                pagelen: Some(100),
            },
        )
        .await
        .expect("hook events");
    assert_eq!(
        events["items"].as_array().map(Vec::len),
        Some(listed.values.len()),
        "{events}"
    );
    assert!(
        events.to_string().contains("pullrequest:fulfilled"),
        "{events}"
    );
    for (tool, effective) in [
        ("BITBUCKET_GET_REPOSITORIES_BRANCHING_MODEL", false),
        ("BITBUCKET_GET_REPOSITORIES_EFFECTIVE_BRANCHING_MODEL", true),
    ] {
        let model = ok(
            tool,
            &call(
                s,
                tool,
                json!({"workspace": "acme", "repo_slug": "widgets"}),
            )
            .await,
        );
        let stored = bitbucket
            .get_branching_model(&widgets, effective)
            .await
            .expect("model");
        assert_eq!(
            model["development"],
            json!(format!(
                "{} (the main branch)",
                stored["development"]["name"].as_str().unwrap_or("")
            )),
            "{model}"
        );
        assert!(
            model["branch_types"]
                .to_string()
                .contains("feature: feature/"),
            "{model}"
        );
    }
    let alice = ok(
        "user",
        &call(s, "BITBUCKET_GET_USER", json!({"selected_user": "alice"})).await,
    );
    let stored = bitbucket.get_user("alice").await.expect("alice");
    assert_eq!(alice["uuid"].as_str(), stored.uuid.as_deref(), "{alice}");
    let missing = failed(
        "no such user",
        &call(s, "BITBUCKET_GET_USER", json!({"selected_user": "nobody"})).await,
    );
    assert!(missing.contains("nobody"), "{missing}");
    let ws = ok(
        "workspace",
        &call(s, "BITBUCKET_GET_WORKSPACE", json!({"workspace": "acme"})).await,
    );
    let stored = bitbucket.get_workspace("acme").await.expect("acme");
    assert_eq!(ws["uuid"].as_str(), stored.uuid.as_deref(), "{ws}");
    let projects = ok(
        "projects",
        &call(
            s,
            "BITBUCKET_LIST_WORKSPACE_PROJECTS",
            json!({"workspace": "acme"}),
        )
        .await,
    );
    let stored = bitbucket
        .list_projects("acme", &bitbucket_client::PageParams::default())
        .await
        .expect("projects");
    let keys: Vec<_> = stored.values.iter().filter_map(|p| p.key.clone()).collect();
    assert!(!keys.is_empty());
    for key in keys {
        assert!(projects.to_string().contains(&key), "{key} in {projects}");
    }
}
