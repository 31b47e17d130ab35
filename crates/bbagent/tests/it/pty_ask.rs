//! `bbagent ask` on a terminal: the answer renders as Markdown there (piped, it stays as the
//! model wrote it; see `ask.rs`).

use llm_script::{Provider, ScriptedLlm, Turn};

use crate::pty::Pty;
use crate::support::{World, command};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_renders_as_markdown_on_a_terminal() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(Turn::text(
        "**PR #1** is *open*:\n\n- by Alice\n- [view it](https://example.com/pr/1)",
    ));
    let mut cmd = command(world.dir.path());
    world.env(&mut cmd);
    cmd.env_remove("NO_COLOR")
        .env("OPENAI_API_KEY", llm.api_key().unwrap_or("none"))
        .args([
            "ask",
            "--model",
            "openai:gpt-5",
            "--base-url",
            &llm.base_url(),
            "is PR 1 open?",
        ]);
    let mut ask = Pty::spawn(&cmd);
    ask.expect("PR #1 is open:\n\n• by Alice\n• view it (https://example.com/pr/1)\n")
        .await;
    let status = ask.wait_exit().await;
    assert!(status.success(), "{}", ask.text());
    let raw = ask.raw();
    assert!(
        raw.contains("\x1b[1mPR #1\x1b[0m is \x1b[3mopen\x1b[0m:"),
        "{raw:?}"
    );
}
