//! `bbagent ask` end to end: the binary, a scripted LLM speaking the real wire formats, the
//! embedded MCP server, and Bitbucket played by an in-process sandbox.

use llm_script::{Failure, Provider, ScriptedLlm, Turn};
use serde_json::{Value, json};

use crate::support::{World, repo, stderr, stdout, tokio_command};

async fn ask(
    world: &World,
    llm: &ScriptedLlm,
    provider: Provider,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = tokio_command(world.dir.path());
    let (model, key_var) = match provider {
        Provider::OpenAi => ("openai:gpt-5", "OPENAI_API_KEY"),
        Provider::Anthropic => ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
    };
    cmd.env("BITBUCKET_BASE_URL", world.sandbox.base_url())
        .env("BITBUCKET_EMAIL", "demo@example.com")
        .env("BITBUCKET_API_TOKEN", "sandbox-token")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("BBAGENT_MODEL")
        .env(key_var, llm.api_key().unwrap_or("none"))
        .args(["ask", "--model", model, "--base-url", &llm.base_url()])
        .args(args);
    cmd.output().await.expect("bbagent runs")
}

fn events(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_is_created_through_both_providers() {
    for provider in [Provider::OpenAi, Provider::Anthropic] {
        let world = World::start().await;
        let llm = ScriptedLlm::start(provider).await.expect("llm");
        llm.push_turn(Turn::text("Creating it.").with_tool_call(
            "BITBUCKET_CREATE_BRANCH",
            json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/ask", "target": "main"}),
        ));
        llm.push_turn(Turn::text("Created feature/ask off main."));
        let out = ask(
            &world,
            &llm,
            provider,
            &["create a new branch feature/ask off main"],
        )
        .await;
        assert!(out.status.success(), "{provider:?}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("Created feature/ask off main."),
            "{}",
            stdout(&out)
        );
        assert!(
            stderr(&out).contains("✓ create branch · acme/widgets · feature/ask · main"),
            "{}",
            stderr(&out)
        );
        let main = world
            .bitbucket
            .get_branch(&repo("acme", "widgets"), "main")
            .await
            .expect("main");
        let made = world
            .bitbucket
            .get_branch(&repo("acme", "widgets"), "feature/ask")
            .await
            .expect("created");
        assert_eq!(
            made.target.map(|c| c.hash),
            main.target.map(|c| c.hash),
            "at main's head"
        );
        // The model was offered the Bitbucket tools and received the tool's result.
        let requests = llm.requests();
        assert_eq!(requests.len(), 2, "{provider:?}");
        assert!(
            requests[0]
                .tool_names()
                .iter()
                .any(|n| n == "BITBUCKET_CREATE_BRANCH")
        );
        assert_eq!(requests[1].tool_results().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_events_and_history_carry_over() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(Turn::tool_call(
        "BITBUCKET_GET_PULL_REQUEST",
        json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1}),
    ));
    llm.push_turn(Turn::text("PR #1 is open."));
    llm.push_turn(Turn::text("It is by Alice."));
    let history = world.dir.path().join("history.json");
    let history = history.to_str().expect("utf-8 path");
    let out = ask(
        &world,
        &llm,
        Provider::OpenAi,
        &["--json", "--history", history, "is PR 1 open?"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    let first = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("no {k} in {kinds:?}"))
    };
    assert!(
        first("tool_call") < first("tool_result") && first("tool_result") < first("done"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"done"));
    let result = &events[first("tool_result")];
    assert_eq!(result["is_error"], false);
    assert!(
        result["content"]
            .as_str()
            .is_some_and(|c| c.contains("Add login form")),
        "{result}"
    );
    assert_eq!(events.last().expect("done")["output"], "PR #1 is open.");

    let out = ask(
        &world,
        &llm,
        Provider::OpenAi,
        &["--history", history, "who wrote it?"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let last = llm.requests().pop().expect("third request");
    let transcript = format!("{:?}", last.transcript());
    assert!(
        transcript.contains("is PR 1 open?") && transcript.contains("PR #1 is open."),
        "{transcript}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_calls_need_yes() {
    let world = World::start().await;
    let delete = json!({"workspace": "acme", "repo_slug": "website"});
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(Turn::tool_call(
        "BITBUCKET_DELETE_REPOSITORY",
        delete.clone(),
    ));
    llm.push_turn(Turn::text("I could not delete it."));
    let out = ask(
        &world,
        &llm,
        Provider::OpenAi,
        &["--json", "delete the website repo"],
    )
    .await;
    // Nobody was asked, so nobody declined: the run fails and says how to allow it.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "not done: `BITBUCKET_DELETE_REPOSITORY` needs approval, and `bbagent ask` asks no one; rerun with `--yes` to allow it"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("declined"), "{}", stderr(&out));
    let events = events(&out);
    assert!(
        events.iter().any(|e| e["type"] == "approval_required"),
        "{events:?}"
    );
    let refused = events
        .iter()
        .find(|e| e["type"] == "tool_result")
        .expect("result");
    assert_eq!(refused["is_error"], true);
    assert!(
        refused["content"]
            .as_str()
            .is_some_and(|c| c.contains("no one was asked") && c.contains("--yes")),
        "{refused}"
    );
    world
        .bitbucket
        .get_repository(&repo("acme", "website"))
        .await
        .expect("still there");
    let told = format!("{:?}", llm.requests()[1].tool_results());
    assert!(told.contains("not run"), "the model is told: {told}");

    llm.push_turn(Turn::tool_call("BITBUCKET_DELETE_REPOSITORY", delete));
    llm.push_turn(Turn::text("Deleted."));
    let out = ask(
        &world,
        &llm,
        Provider::OpenAi,
        &["--yes", "delete the website repo"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let gone = world
        .bitbucket
        .get_repository(&repo("acme", "website"))
        .await
        .expect_err("deleted");
    assert!(gone.is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_one_clear_line() {
    let world = World::start().await;
    let llm = ScriptedLlm::start(Provider::OpenAi).await.expect("llm");
    llm.push_turn(Turn::failure(Failure::Unauthorized));
    let out = ask(&world, &llm, Provider::OpenAi, &["hello"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("401") && err.contains("OPENAI_API_KEY"),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "{err}"
    );

    let mut cmd = tokio_command(world.dir.path());
    let out = cmd
        .env("OPENAI_API_KEY", "k")
        .args([
            "ask",
            "--model",
            "openai:gpt-5",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--sandbox",
            "--sandbox-dir",
            "sb",
            "hello",
        ])
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unreachable"), "{}", stderr(&out));

    let mut cmd = tokio_command(world.dir.path());
    let out = cmd
        .env("OPENAI_API_KEY", "k")
        .args([
            "ask",
            "--model",
            "openai:gpt-5",
            "--base-url",
            &llm.base_url(),
            "--mcp-url",
            "http://127.0.0.1:9/mcp",
            "hello",
        ])
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach the Bitbucket MCP server"),
        "{}",
        stderr(&out)
    );
}
