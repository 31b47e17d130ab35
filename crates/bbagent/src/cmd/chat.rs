//! `bbagent chat`: the REPL. Each line is a request to the agent; the conversation carries
//! over; slash commands manage it.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use agent::{AgentEvent, ApprovalDecision, CancellationToken, History, Usage, approver_fn};
use anyhow::Context as _;
use futures::StreamExt as _;
use tokio::sync::{mpsc, oneshot, watch};

use crate::render::{AnswerText, ToolLines};
use crate::session::{self, AgentArgs, Session};

/// Talk to Bitbucket in plain English: each line is a request, the conversation carries over.
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// Load the conversation from this file (if it exists) and save it after every turn.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// Plain text: the answer exactly as the model wrote it, no Markdown styles and no
    /// progress indicator (automatic when not on a terminal; `NO_COLOR` also turns styles off).
    #[arg(long)]
    pub plain: bool,

    #[command(flatten)]
    pub agent: AgentArgs,
}

/// What the input thread read.
enum Input {
    Line(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D or the end of input.
    Closed,
}

/// The line editor runs on its own thread (it blocks); requests carry the prompt to show.
#[derive(Clone)]
struct Terminal {
    requests: mpsc::UnboundedSender<(String, oneshot::Sender<Input>)>,
}

impl Terminal {
    fn spawn(history_file: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut editor = rustyline::DefaultEditor::new().context("cannot open the terminal")?;
        if let Some(file) = &history_file {
            // A missing file is the first run; anything else is worth a warning only.
            let _ = editor.load_history(file);
        }
        let (requests, mut rx) = mpsc::unbounded_channel::<(String, oneshot::Sender<Input>)>();
        std::thread::spawn(move || {
            while let Some((prompt, reply)) = rx.blocking_recv() {
                let input = match editor.readline(&prompt) {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = editor.add_history_entry(line.as_str());
                            if let Some(file) = &history_file {
                                if let Some(dir) = file.parent() {
                                    let _ = std::fs::create_dir_all(dir);
                                }
                                let _ = editor.save_history(file);
                            }
                        }
                        Input::Line(line)
                    }
                    Err(rustyline::error::ReadlineError::Interrupted) => Input::Interrupted,
                    Err(_) => Input::Closed,
                };
                let _ = reply.send(input);
            }
        });
        Ok(Self { requests })
    }

    async fn read(&self, prompt: &str) -> Input {
        let (tx, rx) = oneshot::channel();
        if self.requests.send((prompt.to_owned(), tx)).is_err() {
            return Input::Closed;
        }
        rx.await.unwrap_or(Input::Closed)
    }
}

const HELP: &str = "Type a request, e.g. \"create a branch off main for the login fix\". Commands:
  /help          this help
  /tools         the tools the agent can use
  /history       the conversation so far
  /save FILE     save the conversation
  /load FILE     continue a saved conversation
  /clear         start a new conversation
  /usage         requests and tokens used in this session
  /model NAME    switch model, e.g. /model anthropic:claude-sonnet-4-5
  exit, quit, bye or Ctrl-D to leave; Ctrl-C cancels the current turn";

pub async fn run(args: ChatArgs) -> anyhow::Result<()> {
    let settings = args.agent.resolve()?;
    let input_history = dirs::data_dir().map(|d| d.join("bbagent").join("input-history"));
    let terminal = Terminal::spawn(input_history)?;
    let approver = {
        let terminal = terminal.clone();
        let approver: Arc<dyn agent::Approver> =
            Arc::new(approver_fn(move |request: agent::ApprovalRequest| {
                let terminal = terminal.clone();
                // "`BITBUCKET_DELETE_REPOSITORY` is marked destructive" reads as "It is ...".
                let reason = request
                    .reason
                    .strip_prefix(&format!("`{}`", request.name))
                    .map_or_else(|| request.reason.clone(), |rest| format!("It{rest}"));
                let question = format!(
                    "Allow {}? {reason} [y/N] ",
                    crate::render::call_words(&request.name, &request.arguments),
                );
                async move {
                    match terminal.read(&question).await {
                        Input::Line(answer)
                            if matches!(
                                answer.trim().to_ascii_lowercase().as_str(),
                                "y" | "yes"
                            ) =>
                        {
                            ApprovalDecision::Approve
                        }
                        _ => ApprovalDecision::Deny {
                            reason: Some("the user said no".into()),
                        },
                    }
                }
            }));
        approver
    };
    let mut interrupts = interrupts();
    let mut session = tokio::select! {
        session = session::start(settings, approver.clone()) => session?,
        Ok(()) = interrupts.changed() => anyhow::bail!("interrupted while starting"),
    };
    let mut history = match &args.history {
        Some(path) => History::open(path).context("cannot use the history file")?,
        None => History::new(),
    };
    let looks = Looks {
        markdown: crate::render::markdown_on_stdout(args.plain),
        status: !args.plain
            && std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_none_or(|t| t != "dumb"),
        dim: crate::render::markdown_wanted(
            args.plain,
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        ),
    };
    let mut usage = Usage::default();
    println!("Chat started! Type 'exit' or 'quit' to end.");
    println!(
        "Using {} {} {}. /help lists commands.",
        session.model_label,
        if session.via_router { "with" } else { "on" },
        session.bitbucket_label
    );

    loop {
        let line = match terminal.read("> ").await {
            Input::Line(line) => line,
            Input::Interrupted => continue,
            Input::Closed => break,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line.to_ascii_lowercase().as_str(), "exit" | "quit" | "bye") {
            break;
        }
        if let Some(command) = line.strip_prefix('/') {
            match slash(command, &mut session, &mut history, &usage).await {
                Ok(()) => {}
                Err(e) => eprintln!("error: {e:#}"),
            }
            continue;
        }
        turn(&session, line, &mut history, &mut usage, looks, &interrupts).await;
    }
    session.shutdown().await;
    println!("Bye.");
    Ok(())
}

/// The one-line status on stderr ("thinking…") while nothing else shows that work goes on.
struct Status {
    enabled: bool,
    shown: Option<String>,
}

impl Status {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            shown: None,
        }
    }

    /// Shows `label`, replacing the one shown; output must be at the start of a line.
    fn show(&mut self, label: &str) {
        if self.enabled && self.shown.as_deref() != Some(label) {
            eprint!("\r\x1b[K{label}");
            self.shown = Some(label.to_owned());
        }
    }

    fn clear(&mut self) {
        if self.shown.take().is_some() {
            eprint!("\r\x1b[K");
        }
    }
}

/// How a turn is shown.
#[derive(Debug, Clone, Copy)]
struct Looks {
    /// The answer as styled Markdown.
    markdown: bool,
    /// A status line on stderr while waiting.
    status: bool,
    /// Tool lines in a faint style (stderr is a terminal that takes colours).
    dim: bool,
}

/// Counts Ctrl-C presses (SIGINT) from now on. Caught from the start, so one pressed early in
/// the first turn cancels that turn rather than ending the chat; at the prompt the line editor
/// reads Ctrl-C as a key instead.
fn interrupts() -> watch::Receiver<u64> {
    let (count, interrupts) = watch::channel(0);
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            count.send_modify(|n| *n += 1);
        }
    });
    interrupts
}

async fn turn(
    session: &Session,
    prompt: &str,
    history: &mut History,
    usage: &mut Usage,
    looks: Looks,
    interrupts: &watch::Receiver<u64>,
) {
    let cancel = CancellationToken::new();
    let ctrl_c = {
        let cancel = cancel.clone();
        let mut interrupts = interrupts.clone();
        // Only a Ctrl-C pressed during this turn cancels it.
        interrupts.mark_unchanged();
        tokio::spawn(async move {
            if interrupts.changed().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let mut out = std::io::stdout();
    let mut print = |text: &str| {
        if !text.is_empty() {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    };
    let mut status = Status::new(looks.status);
    status.show("thinking…");
    let mut answer = AnswerText::new(looks.markdown);
    let mut tools = ToolLines::new(looks.dim);
    let events = session
        .agent
        .run_stream_with_cancel(prompt.to_owned(), history, cancel);
    futures::pin_mut!(events);
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                status.clear();
                eprint!("{}", tools.flush());
                print(&answer.end());
                match e {
                    agent::AgentError::Cancelled => eprintln!("(cancelled)"),
                    e => eprintln!("error: {e}"),
                }
                break;
            }
        };
        match event {
            AgentEvent::TextDelta { text } => {
                let shown = answer.push(&text);
                if !shown.is_empty() {
                    status.clear();
                    eprint!("{}", tools.flush());
                    print(&shown);
                }
                if answer.is_pending() {
                    status.show("writing…");
                }
            }
            // The approver asks the question itself, on the prompt line.
            AgentEvent::ApprovalRequired { .. } => {
                status.clear();
                eprint!("{}", tools.flush());
                print(&answer.end());
            }
            ref other @ (AgentEvent::ToolCallStarted { .. }
            | AgentEvent::ToolResult { .. }
            | AgentEvent::Retrying { .. }) => {
                status.clear();
                // Text the model wrote before this call goes after the lines held back.
                let rest = answer.end();
                if !rest.is_empty() {
                    eprint!("{}", tools.flush());
                }
                print(&rest);
                eprint!("{}", tools.event(other));
                match tools.running() {
                    Some(running) => status.show(&format!("{running}…")),
                    None => status.show("thinking…"),
                }
            }
            AgentEvent::Usage(_) => {}
            AgentEvent::Done { usage: used, .. } => {
                status.clear();
                eprint!("{}", tools.flush());
                print(&answer.end());
                usage.requests += used.requests;
                usage.input_tokens += used.input_tokens;
                usage.output_tokens += used.output_tokens;
                usage.total_tokens += used.total_tokens;
            }
        }
    }
    status.clear();
    eprint!("{}", tools.flush());
    ctrl_c.abort();
}

async fn slash(
    command: &str,
    session: &mut Session,
    history: &mut History,
    usage: &Usage,
) -> anyhow::Result<()> {
    let (name, arg) = command
        .split_once(' ')
        .map_or((command, ""), |(n, a)| (n, a.trim()));
    match name {
        "help" => println!("{HELP}"),
        "tools" => {
            for tool in session.agent.tools().await? {
                let description = tool.description.unwrap_or_default();
                let summary = description
                    .split(". ")
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                println!("{:<42} {}", tool.name, summary.trim_end_matches('.'));
            }
        }
        "history" => print!("{}", crate::render::transcript(history.messages())),
        "save" => {
            anyhow::ensure!(!arg.is_empty(), "usage: /save FILE");
            history
                .save_to(std::path::Path::new(arg))
                .context("cannot save the conversation")?;
            println!("Saved {} messages to {arg}.", history.len());
        }
        "load" => {
            anyhow::ensure!(!arg.is_empty(), "usage: /load FILE");
            *history = History::load(arg).context("cannot load the conversation")?;
            println!("Loaded {} messages from {arg}.", history.len());
        }
        "clear" => {
            *history = History::new();
            println!("Started a new conversation.");
        }
        "usage" => println!(
            "{} model requests, {} input + {} output = {} tokens",
            usage.requests, usage.input_tokens, usage.output_tokens, usage.total_tokens
        ),
        "model" => {
            anyhow::ensure!(
                !arg.is_empty(),
                "usage: /model PROVIDER:MODEL (now {})",
                session.model_label
            );
            // Only the model changes: the tools and Bitbucket stay as they are.
            session.switch_model(arg)?;
            println!("Using {} now.", session.model_label);
        }
        other => anyhow::bail!("unknown command `/{other}`; /help lists them"),
    }
    Ok(())
}
