//! `bbagent chat` end to end with piped input: turns carry over, slash commands, approval, and
//! a conversation saved in one process and continued in another.

use std::process::Stdio;

use llm_script::{Provider, ScriptedLlm, Turn};
use serde_json::json;
use tokio::io::AsyncWriteExt as _;

use crate::support::{World, repo, stderr, stdout, tokio_command};

async fn chat(world: &World, llm: &ScriptedLlm, input: &str) -> std::process::Output {
    let mut cmd = tokio_command(world.dir.path());
    cmd.env("BITBUCKET_BASE_URL", world.sandbox.base_url())
        .env("BITBUCKET_EMAIL", "demo@example.com")
        .env("BITBUCKET_API_TOKEN", "sandbox-token")
        .env("OPENAI_API_KEY", llm.api_key().unwrap_or("none"))
        // Keep the input history out of the developer's data folder.
        .env("XDG_DATA_HOME", world.dir.path().join("data"))
        .args([
            "chat",
            "--model",
            "openai:gpt-5",
            "--base-url",
            &llm.base_url(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).await.expect("write");
    drop(stdin);
    child.wait_with_output().await.expect("bbagent chat runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turns_carry_over_and_the_conversation_can_be_resumed() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(Turn::tool_call(
        "BITBUCKET_CREATE_BRANCH",
        json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/chat", "target": "main"}),
    ));
    llm.push_turn(Turn::text("Created feature/chat."));
    llm.push_turn(Turn::text("It points at main's head."));
    let saved = world.dir.path().join("conversation.json");
    let input = format!(
        "create a new branch feature/chat off main\n\nwhere does it point?\n/usage\n/history\n/save {}\nexit\n",
        saved.display()
    );
    let out = chat(&world, &llm, &input).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("Chat started! Type 'exit' or 'quit' to end."),
        "{text}"
    );
    assert!(
        text.contains("Using openai:gpt-5 on Bitbucket at"),
        "{text}"
    );
    assert!(
        text.contains("Created feature/chat.") && text.contains("It points at main's head."),
        "{text}"
    );
    assert!(text.contains("3 model requests"), "{text}");
    // Tool activity: one line for the call, in words, on stderr; the answer once, on stdout.
    assert!(
        stderr(&out).contains("✓ create branch · acme/widgets · feature/chat · main\n"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("BITBUCKET_"), "{}", stderr(&out));
    // /history is a transcript, not JSON.
    assert!(
        text.contains(
            "you: create a new branch feature/chat off main\n  \
             ✓ create branch · acme/widgets · feature/chat · main\n\
             bbagent: Created feature/chat.\n\
             you: where does it point?\n\
             bbagent: It points at main's head.\n"
        ),
        "{text}"
    );
    assert!(!text.contains("\"role\""), "{text}");
    world
        .bitbucket
        .get_branch(&repo("acme", "widgets"), "feature/chat")
        .await
        .expect("branch exists");
    // The second turn's request carried the first turn.
    let second = format!("{:?}", llm.requests()[2].transcript());
    assert!(
        second.contains("create a new branch feature/chat off main")
            && second.contains("Created feature/chat."),
        "{second}"
    );

    llm.push_turn(Turn::text("You asked about feature/chat."));
    let input = format!("/load {}\nwhat did I ask before?\nquit\n", saved.display());
    let out = chat(&world, &llm, &input).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Loaded"), "{}", stdout(&out));
    let resumed = format!("{:?}", llm.requests().last().expect("request").transcript());
    assert!(
        resumed.contains("where does it point?") && resumed.contains("It points at main's head."),
        "{resumed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_calls_wait_for_a_yes() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    let delete = json!({"workspace": "acme", "repo_slug": "website"});
    llm.push_turn(Turn::tool_call(
        "BITBUCKET_DELETE_REPOSITORY",
        delete.clone(),
    ));
    llm.push_turn(Turn::text("Left it alone."));
    llm.push_turn(Turn::tool_call("BITBUCKET_DELETE_REPOSITORY", delete));
    llm.push_turn(Turn::text("Deleted."));
    let out = chat(
        &world,
        &llm,
        "delete the website repo\nn\ndelete the website repo\ny\nexit\n",
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let told = format!("{:?}", llm.requests()[1].tool_results());
    assert!(
        told.contains("denied"),
        "the model hears the refusal: {told}"
    );
    assert!(
        stdout(&out).contains("Left it alone.") && stdout(&out).contains("Deleted."),
        "{}",
        stdout(&out)
    );
    let gone = world
        .bitbucket
        .get_repository(&repo("acme", "website"))
        .await
        .expect_err("deleted after yes");
    assert!(gone.is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_end_of_input() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    let out = chat(&world, &llm, "/tools\n/history\n/nope\n/clear\n").await;
    assert!(
        out.status.success(),
        "Ctrl-D (end of input) ends the chat: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("BITBUCKET_CREATE_PULL_REQUEST"), "{text}");
    assert!(text.contains("(the conversation is empty)"), "{text}");
    assert!(
        stderr(&out).contains("unknown command `/nope`"),
        "{}",
        stderr(&out)
    );
    assert!(llm.requests().is_empty(), "commands never reach the model");
}
