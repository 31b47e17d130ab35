//! `bbagent eval intents FILE`: runs recorded conversations through the agent, each against a
//! freshly seeded sandbox, and checks the tool calls each turn made.
//! `bbagent eval discovery FILE`: runs use cases through the tool router's search over the
//! whole catalogue and counts top-1 and top-3 hits.
//!
//! The file format and the rules are those of `reference/eval/README.md`: JSON Lines of
//! `{"id", "defaults"?, "turns": [{"user", "expect_calls" | "expect_clarification"}]}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agent::{ApproveAll, History, Message};
use anyhow::Context as _;
use bitbucket_toolkit::Toolkit;
use serde::Deserialize;
use serde_json::Value;

use crate::session;
use crate::settings::{AgentSettings, Bitbucket, ModelEnv, ToolMode, Tools};

/// Measure the agent on recorded conversations.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: EvalCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum EvalCommand {
    /// Run a JSON Lines file of conversations, each against a freshly seeded sandbox; print a
    /// line per failing conversation, then `N passed, M failed`.
    Intents(IntentsArgs),
    /// Run a JSON Lines file of use cases through the tool router's search over the whole
    /// catalogue; print a line per miss and per case whose tools we do not have, then
    /// `top-1 A/N, top-3 B/N (K not applicable)`.
    Discovery(DiscoveryArgs),
}

#[derive(Debug, clap::Args)]
pub struct DiscoveryArgs {
    /// The cases, e.g. `tests/eval/discovery.jsonl`: `{"id", "use_case", "expect": [tools]}`
    /// per line.
    pub file: PathBuf,

    /// Fail when fewer applicable cases than this (in percent) have an expected tool first.
    #[arg(long, value_name = "PERCENT", default_value_t = 0.0)]
    pub min_top1: f64,

    /// Fail when fewer applicable cases than this (in percent) have an expected tool among the
    /// first three.
    #[arg(long, value_name = "PERCENT", default_value_t = 0.0)]
    pub min_top3: f64,
}

#[derive(Debug, clap::Args)]
pub struct IntentsArgs {
    /// The conversations, e.g. `reference/eval/intents.jsonl`.
    pub file: PathBuf,

    /// The model to measure, as for `chat` (`local`, `openai:gpt-5`, ...).
    #[arg(long, default_value = "local", value_name = "MODEL")]
    pub model: String,

    /// Base URL of the model's API, for OpenAI-compatible servers.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Run only the conversations whose id contains this text.
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,

    /// Exit with success when at least this share of conversations passes (in percent);
    /// by default any failure is a failure.
    #[arg(long, value_name = "PERCENT", default_value_t = 100.0)]
    pub min_pass_rate: f64,

    /// Also print every turn's calls and reply.
    #[arg(long)]
    pub show: bool,

    /// `router`: offer the tools through a tool router embedded in the process (the model
    /// searches and runs them with `COMPOSIO_MULTI_EXECUTE_TOOL`); the calls judged are the
    /// ones the executor ran.
    #[arg(long, value_enum, default_value_t = ToolMode::Direct)]
    pub tool_mode: ToolMode,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Conversation {
    id: String,
    #[serde(default)]
    defaults: Option<Defaults>,
    turns: Vec<Turn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    workspace: Option<String>,
    repo_slug: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Turn {
    user: String,
    #[serde(default)]
    expect_calls: Option<Vec<ExpectedCall>>,
    #[serde(default)]
    expect_clarification: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedCall {
    tool: String,
    #[serde(default)]
    args: serde_json::Map<String, Value>,
}

/// The run did not reach the pass rate; the failures were printed.
#[derive(Debug, thiserror::Error)]
#[error("{passed} of {total} conversations passed ({rate:.1}%), below the required {min}%")]
pub struct BelowPassRate {
    passed: usize,
    total: usize,
    rate: f64,
    min: f64,
}

pub async fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.command {
        EvalCommand::Intents(args) => intents(args).await,
        EvalCommand::Discovery(args) => discovery(&args),
    }
}

async fn intents(args: IntentsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=100.0).contains(&args.min_pass_rate),
        "`--min-pass-rate` is a percentage between 0 and 100, not {}",
        args.min_pass_rate
    );
    let model_env = ModelEnv::from_env();
    let conversations = read_file(&args.file)?;
    let conversations: Vec<&Conversation> = conversations
        .iter()
        .filter(|c| {
            args.only
                .as_ref()
                .is_none_or(|only| c.id.contains(only.as_str()))
        })
        .collect();
    anyhow::ensure!(
        !conversations.is_empty(),
        "no conversation to run in {}",
        args.file.display()
    );
    let (mut passed, mut failed) = (0usize, 0usize);
    for conversation in &conversations {
        match run_conversation(conversation, &args, &model_env).await {
            Ok(None) => passed += 1,
            Ok(Some(failure)) => {
                failed += 1;
                println!("FAIL {}: {failure}", conversation.id);
            }
            Err(err) => {
                failed += 1;
                println!("FAIL {}: could not run: {err:#}", conversation.id);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    let total = passed + failed;
    let rate = 100.0 * passed as f64 / total as f64;
    if rate + 1e-9 < args.min_pass_rate {
        return Err(BelowPassRate {
            passed,
            total,
            rate,
            min: args.min_pass_rate,
        }
        .into());
    }
    Ok(())
}

fn read_file(path: &Path) -> anyhow::Result<Vec<Conversation>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let conversation: Conversation = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a conversation", path.display(), n + 1))?;
            for (t, turn) in conversation.turns.iter().enumerate() {
                anyhow::ensure!(
                    turn.expect_calls.is_some() != turn.expect_clarification,
                    "{}:{}: turn {} needs either `expect_calls` or `expect_clarification: true`",
                    path.display(),
                    n + 1,
                    t + 1
                );
            }
            Ok(conversation)
        })
        .collect()
}

/// Runs one conversation on a fresh sandbox; `Some(why)` when a turn failed.
async fn run_conversation(
    conversation: &Conversation,
    args: &IntentsArgs,
    model_env: &ModelEnv,
) -> anyhow::Result<Option<String>> {
    let dir = tempfile::tempdir().context("cannot make a folder for the sandbox")?;
    let defaults = conversation.defaults.as_ref();
    // A sandbox of this process alone: nobody else needs this folder, and no other process
    // should outlive the conversation.
    let settings = AgentSettings {
        model: args.model.clone(),
        base_url: args.base_url.clone(),
        model_env: model_env.clone(),
        tools: {
            let bitbucket = Bitbucket::Embedded {
                dir: dir.path().to_owned(),
            };
            match args.tool_mode {
                ToolMode::Direct => Tools::Embedded(bitbucket),
                ToolMode::Router => Tools::EmbeddedRouter(bitbucket),
            }
        },
        workspace: defaults.and_then(|d| d.workspace.clone()),
        repo: defaults.and_then(|d| d.repo_slug.clone()),
        lockdown: false,
    };
    // Destructive calls are approved during evaluation, as with `bbagent ask --yes`.
    let session = session::start(settings, Arc::new(ApproveAll)).await?;
    let mut saved = History::new().to_json();
    let mut verdict = None;
    for (index, turn) in conversation.turns.iter().enumerate() {
        // Each turn starts from the saved file, as `bbagent ask --history FILE` would.
        let mut history = History::from_json(&saved).context("history did not survive saving")?;
        let before = history.len();
        let result = session.agent.run(turn.user.as_str(), &mut history).await;
        let calls: Vec<(String, Value)> = history.messages()[before..]
            .iter()
            .filter_map(|m| match m {
                Message::Assistant { tool_calls, .. } => Some(tool_calls),
                _ => None,
            })
            .flatten()
            .flat_map(|c| routed_calls(&c.name, &c.arguments))
            .collect();
        let reply = match &result {
            Ok(run) => run.output.clone(),
            Err(err) => format!("(the run failed: {err})"),
        };
        if args.show {
            println!("  {} turn {}: {:?}", conversation.id, index + 1, turn.user);
            for (name, arguments) in &calls {
                println!("    → {name} {arguments}");
            }
            println!("    ← {}", reply.replace('\n', "\n      "));
        }
        if let Some(why) = judge(turn, &calls, &reply) {
            verdict = Some(format!(
                "turn {} ({:?}): {why}; made [{}]",
                index + 1,
                turn.user,
                calls
                    .iter()
                    .map(|(n, a)| format!("{n} {a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            break;
        }
        saved = history.to_json();
    }
    session.shutdown().await;
    Ok(verdict)
}

/// The Bitbucket calls one tool call made: itself, or in router mode the calls an executor
/// call ran (the router's other meta-tools make none).
fn routed_calls(name: &str, arguments: &Value) -> Vec<(String, Value)> {
    if name == "COMPOSIO_MULTI_EXECUTE_TOOL" {
        return arguments
            .get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let slug = item.get("tool_slug")?.as_str()?.to_owned();
                Some((slug, item.get("arguments").cloned().unwrap_or(Value::Null)))
            })
            .collect();
    }
    if name.starts_with("COMPOSIO_") {
        return Vec::new();
    }
    vec![(name.to_owned(), arguments.clone())]
}

/// One line of a discovery set; other fields are allowed and ignored.
#[derive(Debug, Deserialize)]
struct DiscoveryCase {
    id: String,
    use_case: String,
    expect: Vec<String>,
}

/// The search fell below a required share of hits; the misses were printed.
#[derive(Debug, thiserror::Error)]
#[error("top-{k} is {hits} of {total} ({rate:.1}%), below the required {min}%")]
pub struct BelowMinimum {
    k: usize,
    hits: usize,
    total: usize,
    rate: f64,
    min: f64,
}

fn discovery(args: &DiscoveryArgs) -> anyhow::Result<()> {
    for (flag, value) in [("--min-top1", args.min_top1), ("--min-top3", args.min_top3)] {
        anyhow::ensure!(
            (0.0..=100.0).contains(&value),
            "`{flag}` is a percentage between 0 and 100, not {value}"
        );
    }
    let cases = read_discovery_file(&args.file)?;
    let index = tool_router::search::Index::catalogue();
    let (mut top1, mut top3, mut applicable, mut not_applicable) = (0usize, 0usize, 0usize, 0usize);
    for case in &cases {
        if !case.expect.iter().any(|name| index.contains(name)) {
            not_applicable += 1;
            println!(
                "N/A {}: {:?}: we have none of {}",
                case.id,
                case.use_case,
                case.expect.join(", ")
            );
            continue;
        }
        applicable += 1;
        let hits = index.search(&case.use_case, 3);
        let rank = hits
            .iter()
            .position(|hit| case.expect.iter().any(|name| name == hit.name));
        match rank {
            Some(0) => {
                top1 += 1;
                top3 += 1;
            }
            Some(rank) => {
                top3 += 1;
                println!(
                    "MISS {} (top-3, #{}): {:?}: expected {}, first {}",
                    case.id,
                    rank + 1,
                    case.use_case,
                    case.expect.join(" or "),
                    hits[0].name
                );
            }
            None => println!(
                "MISS {}: {:?}: expected {}, first {}",
                case.id,
                case.use_case,
                case.expect.join(" or "),
                hits.first().map_or("nothing", |hit| hit.name)
            ),
        }
    }
    println!(
        "top-1 {top1}/{applicable}, top-3 {top3}/{applicable} ({not_applicable} not applicable)"
    );
    anyhow::ensure!(
        applicable > 0,
        "no case of {} applies: the catalogue has none of their tools",
        args.file.display()
    );
    for (k, hits, min) in [(1, top1, args.min_top1), (3, top3, args.min_top3)] {
        let rate = 100.0 * hits as f64 / applicable as f64;
        if rate + 1e-9 < min {
            return Err(BelowMinimum {
                k,
                hits,
                total: applicable,
                rate,
                min,
            }
            .into());
        }
    }
    Ok(())
}

fn read_discovery_file(path: &Path) -> anyhow::Result<Vec<DiscoveryCase>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let cases = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let case: DiscoveryCase = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a discovery case", path.display(), n + 1))?;
            anyhow::ensure!(
                !case.expect.is_empty(),
                "{}:{}: `expect` lists no tool",
                path.display(),
                n + 1
            );
            Ok(case)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!cases.is_empty(), "no case in {}", path.display());
    Ok(cases)
}

fn is_write(tool: &str) -> bool {
    Toolkit::find(tool).is_none_or(|spec| !spec.annotations.read_only)
}

/// Why a turn fails the README's rules, or `None` when it passes.
fn judge(turn: &Turn, calls: &[(String, Value)], reply: &str) -> Option<String> {
    if turn.expect_clarification {
        if let Some((name, _)) = calls.iter().find(|(n, _)| is_write(n)) {
            return Some(format!("expected a question, but it called {name}"));
        }
        if !reply.contains('?') {
            return Some(format!("expected a question, got {reply:?}"));
        }
        return None;
    }
    let expected = turn.expect_calls.as_deref().unwrap_or_default();
    if expected.is_empty() {
        return (!calls.is_empty()).then(|| "expected no tool call".to_owned());
    }
    let mut next = 0;
    for call in calls {
        if next < expected.len() && matches(&expected[next], call) {
            next += 1;
        }
    }
    if next < expected.len() {
        let want = &expected[next];
        return Some(format!(
            "expected {} {}",
            want.tool,
            Value::Object(want.args.clone())
        ));
    }
    let listed: Vec<&str> = expected.iter().map(|e| e.tool.as_str()).collect();
    calls
        .iter()
        .find(|(name, _)| is_write(name) && !listed.contains(&name.as_str()))
        .map(|(name, _)| format!("called {name}, a write tool nobody asked for"))
}

fn matches(expected: &ExpectedCall, (name, arguments): &(String, Value)) -> bool {
    name == &expected.tool
        && expected.args.iter().all(|(key, want)| {
            arguments
                .get(key)
                .is_some_and(|got| value_matches(want, got))
        })
}

/// The README's matching: strings case-insensitively after trimming, numbers as their decimal
/// strings, and a scalar also matches a one-element array holding it.
fn value_matches(want: &Value, got: &Value) -> bool {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match (want, got) {
        (_, Value::Array(items)) if !want.is_array() && items.len() == 1 => {
            value_matches(want, &items[0])
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| value_matches(x, y))
        }
        _ => match (scalar(want), scalar(got)) {
            (Some(a), Some(b)) => a == b,
            _ => want == got,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_match_as_the_readme_says() {
        let table = [
            (json!("Main"), json!(" main "), true),
            (json!(2), json!("2"), true),
            (json!("2"), json!(2), true),
            (json!("OPEN"), json!(["open"]), true),
            (json!("OPEN"), json!(["OPEN", "MERGED"]), false),
            (json!(true), json!(true), true),
            (json!(false), json!("true"), false),
            (json!("feature/x"), json!("feature/y"), false),
        ];
        for (want, got, expected) in table {
            assert_eq!(value_matches(&want, &got), expected, "{want} vs {got}");
        }
    }

    fn turn(line: &str) -> Turn {
        serde_json::from_str(line).expect("a turn")
    }

    #[test]
    fn turns_are_judged_by_subsequence_writes_and_questions() {
        let branch = |name: &str| {
            (
                "BITBUCKET_CREATE_BRANCH".to_owned(),
                json!({"workspace": "acme", "repo_slug": "widgets", "name": name}),
            )
        };
        let list = ("BITBUCKET_LIST_BRANCHES".to_owned(), json!({}));
        let expects = turn(
            r#"{"user": "x", "expect_calls": [{"tool": "BITBUCKET_CREATE_BRANCH", "args": {"name": "a"}}]}"#,
        );
        assert_eq!(judge(&expects, &[list.clone(), branch("a")], ""), None);
        assert!(judge(&expects, &[branch("b")], "").is_some());
        assert!(
            judge(
                &expects,
                &[branch("a"), ("BITBUCKET_DELETE_ISSUE".into(), json!({}))],
                ""
            )
            .is_some_and(|why| why.contains("nobody asked"))
        );
        let none = turn(r#"{"user": "x", "expect_calls": []}"#);
        assert_eq!(judge(&none, &[], "hi"), None);
        assert!(judge(&none, std::slice::from_ref(&list), "hi").is_some());
        let ask = turn(r#"{"user": "x", "expect_clarification": true}"#);
        assert_eq!(judge(&ask, &[list], "Which repository?"), None);
        assert!(judge(&ask, &[], "Done.").is_some());
        assert!(judge(&ask, &[branch("a")], "Which?").is_some());
    }
}
