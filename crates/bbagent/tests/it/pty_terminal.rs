//! How a turn looks in a real terminal, with the offline model: each tool call is one dim line
//! in words (lookups grouped), the answer shows once, and `/history` is a transcript.

use crate::pty_chat::{leave, start};
use crate::support::{World, command, repo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_lines_are_compact_and_dim_and_the_answer_shows_once() {
    let world = World::start().await;
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    // No default workspace: naming `widgets` alone makes the model look it up.
    cmd.env("XDG_DATA_HOME", world.dir.path().join("data"))
        .env_remove("NO_COLOR")
        .arg("chat");
    let mut chat = start(&cmd).await;

    chat.send_line("create a branch called feature/tidy off main in widgets")
        .await;
    chat.expect("✓ create branch · acme/widgets · feature/tidy")
        .await;
    chat.prompt().await;
    world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "feature/tidy")
        .await
        .expect("the branch exists");

    let raw = chat.raw();
    assert!(
        raw.contains("\x1b[2m✓ create branch · acme/widgets · feature/tidy"),
        "tool lines are dim: {raw:?}"
    );
    let text = chat.text();
    // The result is the answer; the tool line does not repeat it.
    assert_eq!(
        text.matches("Created branch").count(),
        1,
        "the answer once:\n{text}"
    );
    // However many workspaces were searched for `widgets`, that is one line.
    assert_eq!(
        text.matches("✓ list repositories in workspace").count(),
        1,
        "lookups are grouped:\n{text}"
    );
    assert!(
        text.contains("✓ list repositories in workspace ×2 · acme, demo\n"),
        "{text}"
    );
    assert!(!text.contains("BITBUCKET_"), "no catalogue names:\n{text}");

    chat.send_line("/history").await;
    chat.expect("you: create a branch called feature/tidy off main in widgets")
        .await;
    chat.expect("✓ create branch · acme/widgets · feature/tidy")
        .await;
    chat.expect("bbagent: Created branch").await;
    chat.prompt().await;
    assert!(!chat.text().contains("\"role\""), "{}", chat.text());
    leave(chat).await;
}
