//! A scripted LLM per test, the agent pointed at it, and in-process tools that record calls.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::{
    Agent, AgentError, AgentEvent, ModelOptions, ModelSpec, RetryPolicy, ToolAnnotations,
    ToolDefinition, ToolOutput, build_model,
};
use bitbucket_client::RepoId;
use futures::{Stream, StreamExt as _};
use llm_script::{Provider, ScriptedLlm};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const PROVIDERS: [Provider; 2] = Provider::ALL;

pub fn spec(provider: Provider) -> ModelSpec {
    match provider {
        Provider::OpenAi => ModelSpec::parse("openai:gpt-test").expect("test setup works"),
        Provider::Anthropic => ModelSpec::parse("anthropic:claude-test").expect("test setup works"),
    }
}

pub fn options(llm: &ScriptedLlm) -> ModelOptions {
    let options = ModelOptions::default().with_base_url(llm.base_url());
    match llm.api_key() {
        Some(key) => options.with_api_key(SecretString::from(key.to_owned())),
        None => options,
    }
}

/// An agent on the scripted server, retrying quickly so tests stay fast.
pub fn agent(llm: &ScriptedLlm) -> Agent {
    let model = build_model(&spec(llm.provider()), options(llm)).expect("test setup works");
    Agent::new(model)
        .with_instructions("You drive Bitbucket.")
        .with_retry(RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        })
}

pub async fn llm(provider: Provider) -> ScriptedLlm {
    ScriptedLlm::start(provider)
        .await
        .expect("test setup works")
}

/// Drains a run: its events, and the error it ended with, if any.
pub async fn collect(
    stream: impl Stream<Item = Result<AgentEvent, AgentError>>,
) -> (Vec<AgentEvent>, Option<AgentError>) {
    futures::pin_mut!(stream);
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(e) => {
                assert!(
                    stream.next().await.is_none(),
                    "nothing comes after an error"
                );
                return (events, Some(e));
            }
        }
    }
    (events, None)
}

/// Events as short lines, text deltas merged, for whole-run comparisons.
pub fn summary(events: &[AgentEvent]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for event in events {
        let line = match event {
            AgentEvent::TextDelta { text } => {
                if let Some(last) = lines.last_mut()
                    && last.starts_with("text: ")
                {
                    last.push_str(text);
                    continue;
                }
                format!("text: {text}")
            }
            AgentEvent::ToolCallStarted {
                name, arguments, ..
            } => format!("call {name} {arguments}"),
            AgentEvent::ApprovalRequired { name, reason, .. } => {
                format!("approve? {name}: {reason}")
            }
            AgentEvent::ToolResult {
                name,
                is_error,
                content,
                ..
            } => {
                // Bitbucket results arrive marked as data; the summary shows what is inside.
                format!(
                    "{} {name}: {}",
                    if *is_error { "failed" } else { "result" },
                    bitbucket_toolkit::unmark(content)
                )
            }
            AgentEvent::Retrying { attempt, error, .. } => format!("retry {attempt}: {error}"),
            AgentEvent::Usage(_) => "usage".to_owned(),
            AgentEvent::Done { output, .. } => format!("done: {output}"),
        };
        lines.push(line);
    }
    lines
}

/// Tools that record what they were called with.
#[derive(Clone, Default)]
pub struct Calls(Arc<Mutex<Vec<(String, Value)>>>);

impl Calls {
    pub fn record(&self, name: &str, args: &Value) {
        self.0
            .lock()
            .expect("no test thread panicked holding it")
            .push((name.to_owned(), args.clone()));
    }

    pub fn names(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("test setup works")
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }
}

pub fn weather_tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
    .with_annotations(ToolAnnotations::default().read_only(true))
}

pub fn delete_tool() -> ToolDefinition {
    ToolDefinition::new(
        "delete_branch",
        "Deletes a branch",
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
    )
    .with_annotations(ToolAnnotations::default().destructive(true))
}

/// `get_weather` (read-only), `fail` (always an error) and `delete_branch` (destructive).
pub fn local_tools(calls: &Calls) -> agent::FunctionToolset {
    let (a, b, c) = (calls.clone(), calls.clone(), calls.clone());
    agent::FunctionToolset::new("local")
        .with_tool(weather_tool(), move |args| {
            a.record("get_weather", &args);
            let city = args["city"].as_str().unwrap_or("?").to_owned();
            async move { ToolOutput::text(json!({"city": city, "sky": "sunny"}).to_string()) }
        })
        .with_tool(
            ToolDefinition::new("fail", "Always fails", json!({"type": "object"})),
            move |args| {
                b.record("fail", &args);
                async { ToolOutput::error("branch `x` already exists in `acme/widgets`") }
            },
        )
        .with_tool(delete_tool(), move |args| {
            c.record("delete_branch", &args);
            async { ToolOutput::text("deleted") }
        })
}

/// The id of a repository in the sandbox.
pub fn repo(workspace: &str, slug: &str) -> RepoId {
    RepoId::new(workspace, slug).expect("valid repository id")
}
