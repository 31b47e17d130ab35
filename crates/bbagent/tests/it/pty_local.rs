//! `bbagent chat` with no API key, in a pseudo-terminal: the offline `local` model runs the
//! reference design's four requests against the sandbox, asking when something is missing,
//! and each effect is checked through the client.

use std::path::Path;
use std::process::Command;

use crate::pty_chat::{issue_comments, leave, start};
use crate::support::{World, command, repo};

/// A developer's push to `branch`: a commit on top of it in the sandbox's git repository, so
/// the branch has changes to pull (as on Bitbucket, a branch with none cannot be proposed).
fn push_commit(repo: &Path, branch: &str) {
    let work = tempfile::tempdir().expect("dir");
    let git = |dir: &Path, args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let repo = repo.to_str().expect("utf-8 path");
    git(work.path(), &["clone", "-q", "--branch", branch, repo, "."]);
    std::fs::write(work.path().join("LOGIN.md"), "The login fix.\n").expect("write");
    git(work.path(), &["add", "LOGIN.md"]);
    git(work.path(), &["commit", "-q", "-m", "Fix the login"]);
    git(work.path(), &["push", "-q", "origin", branch]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_model_runs_the_four_reference_requests() {
    four_reference_requests(
        &[],
        "✓ create branch",
        "✓ create pull request",
        "✓ create issue comment",
    )
    .await;
}

/// The same in router mode (a tool router embedded in the process, no keys, no account): the
/// model searches, reads the found tools' schemas, and runs them through the executor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_model_runs_the_four_reference_requests_in_router_mode() {
    four_reference_requests(&["--tool-mode", "router"], ROUTED, ROUTED, ROUTED).await;
}

/// How the chat marks a call through the router's executor.
const ROUTED: &str = "✓ multi execute tool";

async fn four_reference_requests(
    args: &[&str],
    branch_done: &str,
    pr_done: &str,
    comment_done: &str,
) {
    let world = World::start().await;
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    cmd.env("XDG_DATA_HOME", world.dir.path().join("data"))
        .env("BBAGENT_WORKSPACE", "acme")
        .env("BBAGENT_REPO", "widgets")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .arg("chat")
        .args(args);
    let mut chat = start(&cmd).await;
    assert!(
        chat.text()
            .contains("the offline model: it understands common Bitbucket requests"),
        "the start-up line is honest about the model: {}",
        chat.text()
    );

    // "create a new branch off main": it asks for the name, then the branch is at main's head.
    chat.send_line("create a new branch off main").await;
    chat.expect("What should the new branch be called?").await;
    chat.prompt().await;
    chat.send_line("feature/login-fix").await;
    chat.expect(branch_done).await;
    chat.prompt().await;
    let main = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "main")
        .await
        .expect("main");
    let made = world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "feature/login-fix")
        .await
        .expect("the branch exists");
    assert_eq!(
        made.target.map(|c| c.hash),
        main.target.map(|c| c.hash),
        "at main's head"
    );

    // The developer pushes work; "open a pull request for my feature" proposes that branch.
    push_commit(
        &world.dir.path().join("sandbox/repos/acme/widgets.git"),
        "feature/login-fix",
    );
    chat.send_line("open a pull request for my feature").await;
    chat.expect(pr_done).await;
    chat.prompt().await;
    let pr = world
        .bitbucket
        .get_pull_request(&repo("acme", "widgets"), 2)
        .await
        .expect("the pull request exists");
    let source = pr.source.and_then(|e| e.branch_name().map(str::to_owned));
    assert_eq!(source.as_deref(), Some("feature/login-fix"));
    assert_eq!(pr.title, "Login fix");

    // "comment on the latest open issue": it asks what to say; the comment lands on #2.
    chat.send_line("comment on the latest open issue").await;
    chat.expect("What should the comment say?").await;
    chat.prompt().await;
    chat.send_line("Picked up from the terminal.").await;
    chat.expect(comment_done).await;
    chat.prompt().await;
    assert_eq!(
        issue_comments(&world, 2).await,
        ["Picked up from the terminal"]
    );

    // "fetch the readme file from the repository": its text is shown.
    chat.send_line("fetch the readme file from the repository")
        .await;
    chat.expect("Widgets is Acme's small Rust service").await;
    chat.prompt().await;

    // Something it cannot map gets examples, not an action.
    chat.send_line("what's the weather in Paris?").await;
    chat.expect("couldn't map that one to a Bitbucket action")
        .await;
    chat.prompt().await;
    leave(chat).await;
}

/// The whole pull request lifecycle with no keys, as two people would run it: the author
/// branches, changes a file, opens the pull request, reads its diff and comments on a line;
/// a reviewer (another sandbox user) approves it and merges it with a squash. Each effect is
/// checked in the sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_model_runs_a_pull_request_from_branch_to_squash_merge() {
    let world = World::start().await;
    let chat_as = |email: &str, token: &str| {
        let mut cmd = command(world.dir.path());
        world.env(&mut cmd);
        cmd.env("XDG_DATA_HOME", world.dir.path().join("data"))
            .env("BBAGENT_WORKSPACE", "acme")
            .env("BBAGENT_REPO", "widgets")
            .env("BITBUCKET_EMAIL", email)
            .env("BITBUCKET_API_TOKEN", token)
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .arg("chat");
        cmd
    };
    let head = |branch: &'static str| {
        let bitbucket = world.bitbucket.clone();
        async move {
            bitbucket
                .get_branch(&repo("acme", "widgets"), branch)
                .await
                .expect("branch")
                .target
                .map(|c| c.hash)
                .unwrap_or_default()
        }
    };

    let mut chat = start(&chat_as("demo@example.com", "sandbox-token")).await;
    chat.send_line("create a branch feature/docs off main")
        .await;
    chat.expect("✓ create branch").await;
    chat.prompt().await;
    let branched = head("feature/docs").await;
    assert_eq!(branched, head("main").await, "at main's head");

    chat.send_line("change README.md on feature/docs to say 'Widgets, rendered.'")
        .await;
    chat.expect("✓ commit files").await;
    chat.prompt().await;
    let changed = head("feature/docs").await;
    assert_ne!(changed, branched, "a commit on the branch");

    chat.send_line("open a pull request from feature/docs")
        .await;
    chat.expect("✓ create pull request").await;
    chat.prompt().await;
    let pr = world
        .bitbucket
        .get_pull_request(&repo("acme", "widgets"), 2)
        .await
        .expect("the pull request exists");
    assert_eq!(
        pr.source
            .and_then(|e| e.branch_name().map(str::to_owned))
            .as_deref(),
        Some("feature/docs")
    );

    chat.send_line("show the diff of PR 2").await;
    chat.expect("+Widgets, rendered.").await;
    chat.prompt().await;

    chat.send_line("comment 'nit: say what a widget is' on line 1 of README.md in PR 2")
        .await;
    chat.expect("✓ create pull request comment").await;
    chat.prompt().await;
    let comments = world
        .bitbucket
        .list_pull_request_comments(&repo("acme", "widgets"), 2, &Default::default())
        .await
        .expect("comments");
    let inline = comments.values[0].inline.clone().expect("inline");
    assert_eq!((inline.path.as_str(), inline.to), ("README.md", Some(1)));
    leave(chat).await;

    let main_before = head("main").await;
    let mut chat = start(&chat_as("alice@example.com", "alice-token")).await;
    chat.send_line("approve PR 2").await;
    chat.expect("✓ approve pull request").await;
    chat.prompt().await;
    let approved = world
        .bitbucket
        .get_pull_request(&repo("acme", "widgets"), 2)
        .await
        .expect("pr");
    assert!(
        approved
            .participants
            .iter()
            .any(|p| p.approved == Some(true)),
        "{:?}",
        approved.participants
    );

    chat.send_line("merge PR 2 with a squash").await;
    chat.expect("[y/N]").await;
    chat.send_line("y").await;
    chat.expect("✓ merge pull request").await;
    chat.prompt().await;
    let merged = world
        .bitbucket
        .get_pull_request(&repo("acme", "widgets"), 2)
        .await
        .expect("pr");
    assert_eq!(merged.state.as_ref().map(|s| s.as_str()), Some("MERGED"));
    let main_after = head("main").await;
    assert_ne!(main_after, main_before, "the destination branch moved");
    let squash = world
        .bitbucket
        .get_commit(&repo("acme", "widgets"), &main_after)
        .await
        .expect("squash commit");
    let parents: Vec<&str> = squash.parents.iter().map(|p| p.hash.as_str()).collect();
    assert_eq!(parents, [main_before.as_str()], "a squash has one parent");
    let readme = world
        .bitbucket
        .get_file(&repo("acme", "widgets"), Some(&main_after), "README.md")
        .await
        .expect("readme");
    let readme = readme.into_file().and_then(|f| f.text().map(str::to_owned));
    assert_eq!(
        readme.as_deref(),
        Some("Widgets, rendered.\n"),
        "the squash holds the change"
    );
    leave(chat).await;
}
