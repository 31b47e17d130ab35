//! `bbagent ask "PROMPT"`: one turn of the agent, then exit.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use agent::{AgentEvent, ApproveAll, Approver, CancellationToken, DenyAll, History};
use anyhow::Context as _;
use futures::StreamExt as _;
use serde_json::json;

use crate::render::AnswerText;
use crate::session::{self, AgentArgs};

/// Run one request through the agent and exit: 0 when it finished, 1 when it failed or when a
/// destructive step was refused for want of `--yes`.
#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// What to do, in plain English, e.g. "create a branch off main for the login fix".
    pub prompt: String,

    /// Print events as JSON Lines on stdout (text_delta, tool_call, tool_result,
    /// approval_required, done) instead of text.
    #[arg(long)]
    pub json: bool,

    /// Plain text: the answer exactly as the model wrote it, without Markdown styles
    /// (automatic when not on a terminal; `NO_COLOR` also turns styles off).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,

    /// Approve destructive tools (deleting a repository, branch, issue or comment; merging or
    /// declining a pull request). Without it they are refused and the model is told so.
    #[arg(long)]
    pub yes: bool,

    /// Load the conversation from this file (if it exists) and save it back after the turn.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    #[command(flatten)]
    pub agent: AgentArgs,
}

/// Why destructive steps are refused without `--yes`; the model reads it too.
const WITHOUT_YES: &str = "`bbagent ask` runs without `--yes`; rerun with `--yes` to allow it";

/// The run ended without an answer; what happened was already reported.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunFailed(pub String);

pub async fn run(args: AskArgs) -> anyhow::Result<()> {
    if args.prompt.trim().is_empty() {
        anyhow::bail!(
            "the prompt is empty: say what to do, e.g. `bbagent ask \"list open pull requests\"`"
        );
    }
    let settings = args.agent.resolve()?;
    let mut history = match &args.history {
        Some(path) => History::open(path).context("cannot use the history file")?,
        None => History::new(),
    };
    let approver: Arc<dyn Approver> = if args.yes {
        Arc::new(ApproveAll)
    } else {
        Arc::new(DenyAll::because(WITHOUT_YES))
    };
    let session = session::start(settings, approver).await?;
    if !args.json {
        eprintln!(
            "model {} · {}",
            session.model_label, session.bitbucket_label
        );
    }
    let cancel = CancellationToken::new();
    let ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let outcome = drive(&session, &args, &mut history, cancel).await;
    ctrl_c.abort();
    session.shutdown().await;
    outcome
}

async fn drive(
    session: &session::Session,
    args: &AskArgs,
    history: &mut History,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let events = session
        .agent
        .run_stream_with_cancel(args.prompt.clone(), history, cancel);
    futures::pin_mut!(events);
    // Unlocked handles: each write takes the lock for itself. A lock held across the awaits
    // below would stop every other thread that logs to stderr (the embedded MCP server's
    // does, with `BBAGENT_LOG`), and the answer it owes would never come.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let mut answer = AnswerText::new(!args.json && crate::render::markdown_on_stdout(args.plain));
    let mut tools = crate::render::ToolLines::new(
        !args.json
            && crate::render::markdown_wanted(
                args.plain,
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
                std::env::var_os("TERM").as_deref(),
            ),
    );
    // Without `--yes` every approval request is refused unasked; the run then fails.
    let mut refused: Vec<String> = Vec::new();
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                if !args.json {
                    write!(err, "{}", tools.flush())?;
                    write!(out, "{}", answer.end())?;
                    out.flush()?;
                }
                if args.json {
                    writeln!(
                        out,
                        "{}",
                        json!({"type": "error", "message": e.to_string()})
                    )?;
                }
                return Err(RunFailed(e.to_string()).into());
            }
        };
        if let AgentEvent::ApprovalRequired { name, .. } = &event
            && !args.yes
            && !refused.contains(name)
        {
            refused.push(name.clone());
        }
        if args.json {
            if let Some(line) = json_line(&event) {
                writeln!(out, "{line}")?;
                out.flush()?;
            }
            continue;
        }
        match event {
            AgentEvent::TextDelta { text } => {
                let shown = answer.push(&text);
                if !shown.is_empty() {
                    write!(err, "{}", tools.flush())?;
                }
                write!(out, "{shown}")?;
                out.flush()?;
            }
            // Approved by `--yes`, or refused: the tool's line says which.
            AgentEvent::ApprovalRequired { .. } => {
                write!(err, "{}", tools.flush())?;
                write!(out, "{}", answer.end())?;
                out.flush()?;
            }
            ref other @ (AgentEvent::ToolCallStarted { .. }
            | AgentEvent::ToolResult { .. }
            | AgentEvent::Retrying { .. }) => {
                // Text the model wrote before this call goes after the lines held back.
                let rest = answer.end();
                if !rest.is_empty() {
                    write!(err, "{}", tools.flush())?;
                }
                write!(out, "{rest}")?;
                out.flush()?;
                write!(err, "{}", tools.event(other))?;
            }
            AgentEvent::Usage(_) => {}
            AgentEvent::Done { .. } => {
                write!(err, "{}", tools.flush())?;
                write!(out, "{}", answer.end())?;
                out.flush()?;
                break;
            }
        }
    }
    write!(err, "{}", tools.flush())?;
    if refused.is_empty() {
        return Ok(());
    }
    Err(RunFailed(format!(
        "not done: {} needs approval, and `bbagent ask` asks no one; rerun with `--yes` to allow it",
        refused
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .into())
}

/// The JSON Lines form of an event, as documented in `--help`.
fn json_line(event: &AgentEvent) -> Option<serde_json::Value> {
    Some(match event {
        AgentEvent::TextDelta { text } => json!({"type": "text_delta", "text": text}),
        AgentEvent::ToolCallStarted {
            id,
            name,
            arguments,
        } => {
            json!({"type": "tool_call", "id": id, "name": name, "arguments": arguments})
        }
        AgentEvent::ToolResult {
            id,
            name,
            is_error,
            content,
        } => {
            json!({"type": "tool_result", "id": id, "name": name, "is_error": is_error, "content": content})
        }
        AgentEvent::ApprovalRequired {
            id,
            name,
            arguments,
            reason,
        } => {
            json!({"type": "approval_required", "id": id, "name": name, "arguments": arguments, "reason": reason})
        }
        AgentEvent::Retrying {
            attempt,
            delay,
            error,
        } => {
            json!({"type": "retrying", "attempt": attempt, "delay_ms": delay.as_millis() as u64, "error": error})
        }
        AgentEvent::Done { output, usage } => {
            json!({"type": "done", "output": output, "usage": usage})
        }
        AgentEvent::Usage(_) => return None,
    })
}
