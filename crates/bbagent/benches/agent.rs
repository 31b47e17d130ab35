//! Benchmarks of the agent inside `bbagent`: its own overhead per turn (the time that is
//! neither the model nor the tool), and the memory of `bbagent chat` at rest. Prints a
//! markdown report and writes it to `target/bench-agent.md`.
//!
//! Overhead: every turn is one prompt, one tool call and a final answer (two model requests).
//! The model and the toolset are wrapped in clocks, so the overhead of a turn is its wall time
//! minus the time inside the model's streams and inside the tool calls. Three set-ups: an
//! in-process model that answers instantly with an in-process function tool (all that is left
//! is the agent), the same model with the real MCP toolset (`bbagent`'s embedded Bitbucket
//! MCP server on loopback, backed by the sandbox), and the real OpenAI model client talking to
//! the scripted LLM server with that MCP toolset.
//!
//! Memory: `bbagent chat` (the `bench` build) is started with a scripted model, left idle, and
//! its resident set read from `/proc/PID/status` (with the shared sandbox's process added when
//! it uses one); then again after one turn with a tool call.
//!
//! Run with `./scripts/bench` (or `cargo bench -p bbagent --bench agent`); add `-- --quick`
//! for a smoke run. Everything talks to loopback, and every loop is bounded in count and time.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use agent::model::FinishReason;
use agent::{
    Agent, FunctionToolset, History, McpConfig, McpToolset, Message, Model, ModelError, ModelEvent,
    ModelOptions, ModelRequest, ModelSpec, ToolCall, ToolContext, ToolDefinition, ToolOutput,
    Toolset, ToolsetError,
};
use anyhow::{Context as _, ensure};
use bitbucket_client::{Auth, Client, ClientConfig};
use bitbucket_mcp::http::{HttpOptions, HttpServer};
use bitbucket_mcp::{BitbucketMcp, DestructivePolicy, ServerOptions};
use bitbucket_sandbox::{Sandbox, SandboxConfig};
use bitbucket_toolkit::Toolkit;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt as _};
use llm_script::{Provider, ScriptedLlm, Turn};
use secrecy::SecretString;
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};

mod common;

use common::{EMAIL, STEP_TIMEOUT, TOKEN, bare, memory_kib, mib, report_path, step};

const TOOL: &str = "BITBUCKET_GET_PULL_REQUEST";
/// How much to measure.
#[derive(Debug, Clone, Copy)]
struct Counts {
    warmup: usize,
    function_turns: usize,
    mcp_turns: usize,
    http_turns: usize,
    memory_runs: usize,
    idle: Duration,
}

impl Counts {
    const FULL: Self = Self {
        warmup: 50,
        function_turns: 5_000,
        mcp_turns: 1_000,
        http_turns: 500,
        memory_runs: 3,
        idle: Duration::from_secs(1),
    };
    const QUICK: Self = Self {
        warmup: 5,
        function_turns: 200,
        mcp_turns: 50,
        http_turns: 30,
        memory_runs: 1,
        idle: Duration::from_millis(300),
    };
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    // `cargo bench` passes `--bench`; anything after `--` on its command line lands here too.
    let quick = std::env::args().any(|a| a == "--quick");
    let counts = if quick { Counts::QUICK } else { Counts::FULL };
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;

    // The servers (sandbox, MCP server, scripted LLM) get their own runtime, as they would
    // have in their own processes, so their work is not scheduled behind the agent's.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("servers")
        .build()?;
    let servers = server_rt.block_on(Servers::start(dir.path()))?;
    let agent_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = agent_rt.block_on(run(&servers, dir.path(), counts, started));
    drop(agent_rt);
    server_rt.block_on(servers.stop());
    drop(server_rt);
    let report = report?;

    print!("{report}");
    let path = report_path("bench-agent.md");
    std::fs::write(&path, &report).with_context(|| format!("cannot write `{}`", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The sandbox, the embedded-style MCP server in front of it, and the scripted LLM.
struct Servers {
    sandbox: Sandbox,
    mcp: HttpServer,
    mcp_key: String,
    llm: ScriptedLlm,
}

impl Servers {
    async fn start(dir: &Path) -> anyhow::Result<Self> {
        let sandbox = Sandbox::start(SandboxConfig::new(dir.join("sandbox")))
            .await
            .context("cannot start the sandbox")?;
        let client = Client::new(
            ClientConfig::new(sandbox.base_url()).with_auth(Auth::api_token(EMAIL, TOKEN)),
        )?;
        // As `bbagent chat` embeds it: loopback, a random-looking key, destructive calls
        // allowed because the agent asks first.
        let handler = BitbucketMcp::new(
            Toolkit::new(client),
            ServerOptions {
                destructive: DestructivePolicy::Allow,
                ..ServerOptions::default()
            },
        )?;
        let mcp_key = "bench-agent-key".to_owned();
        let mcp = bitbucket_mcp::http::serve(
            handler,
            HttpOptions::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                .with_api_key(SecretString::from(mcp_key.clone())),
        )
        .await
        .context("cannot start the MCP server")?;
        let llm = ScriptedLlm::start(Provider::OpenAi)
            .await
            .context("cannot start the scripted LLM")?;
        Ok(Self {
            sandbox,
            mcp,
            mcp_key,
            llm,
        })
    }

    async fn stop(self) {
        self.mcp.shutdown().await;
        self.sandbox.shutdown().await;
        drop(self.llm);
    }
}

async fn run(
    servers: &Servers,
    dir: &Path,
    counts: Counts,
    started: Instant,
) -> anyhow::Result<String> {
    let arguments = json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1});
    let call = ToolCall {
        id: String::new(),
        name: TOOL.to_owned(),
        arguments: arguments.clone(),
    };
    let mcp = Arc::new(
        McpToolset::connect(
            McpConfig::http("bitbucket", servers.mcp.url().to_owned())
                .with_header("x-api-key", SecretString::from(servers.mcp_key.clone())),
        )
        .await
        .context("cannot connect the MCP toolset")?,
    );

    let mut setups = Vec::new();
    step(&format!(
        "instant model + function tool: {} turns",
        counts.function_turns
    ));
    let function_tool = FunctionToolset::new("bench").with_tool(
        ToolDefinition::new(
            TOOL,
            "Returns a fixed pull request",
            json!({"type": "object"}),
        ),
        |_| async { ToolOutput::text("Pull request #1 \"Add login form\" [OPEN]") },
    );
    let instant: Arc<dyn Model> = Arc::new(InstantModel { call: call.clone() });
    setups.push(
        measure(
            Setup::InstantFunction,
            instant.clone(),
            Arc::new(function_tool),
            counts.warmup,
            counts.function_turns,
            None,
        )
        .await?,
    );

    step(&format!(
        "instant model + MCP toolset (loopback, sandbox): {} turns",
        counts.mcp_turns
    ));
    setups.push(
        measure(
            Setup::InstantMcp,
            instant,
            mcp.clone(),
            counts.warmup,
            counts.mcp_turns,
            None,
        )
        .await?,
    );

    step(&format!(
        "OpenAI client → scripted LLM + MCP toolset: {} turns",
        counts.http_turns
    ));
    let spec = ModelSpec::parse("openai:gpt-5")?;
    let options = ModelOptions::default()
        .with_base_url(servers.llm.base_url())
        .with_api_key(SecretString::from(
            servers.llm.api_key().unwrap_or_default().to_owned(),
        ));
    let openai = agent::build_model(&spec, options)?;
    let script = |llm: &ScriptedLlm| {
        llm.push_turns([
            Turn::tool_call(TOOL, arguments.clone()),
            Turn::text("PR #1 is open."),
        ]);
    };
    setups.push(
        measure(
            Setup::HttpMcp,
            openai,
            mcp.clone(),
            counts.warmup,
            counts.http_turns,
            Some((&servers.llm, &script)),
        )
        .await?,
    );
    step("listing the MCP toolset's tools (cached)");
    let mut listing = Vec::with_capacity(counts.mcp_turns);
    let mut copying = Vec::with_capacity(counts.mcp_turns);
    let mut offered = 0;
    for _ in 0..counts.mcp_turns {
        let start = Instant::now();
        let tools = mcp.tools().await.context("listing the tools")?;
        listing.push(start.elapsed());
        let start = Instant::now();
        let copy = tools.clone();
        drop(copy);
        copying.push(start.elapsed());
        offered = tools.len();
    }
    let listing = Listing {
        tools: offered,
        list: Stats::of(listing),
        copy: Stats::of(copying),
    };
    mcp.close().await;

    let mut memory = Vec::new();
    for backend in [MemoryBackend::SharedSandbox, MemoryBackend::External] {
        step(&format!(
            "`bbagent chat` at rest ({}): {} runs",
            backend.label(),
            counts.memory_runs
        ));
        memory.push(chat_memory(servers, dir, backend, counts).await?);
    }

    Ok(render(
        counts,
        &setups,
        &listing,
        &memory,
        started.elapsed(),
    ))
}

// --- the instant model and the clocks ---

/// A model that answers at once: a tool call for a new prompt, a short text after a result.
struct InstantModel {
    call: ToolCall,
}

impl Model for InstantModel {
    fn name(&self) -> &str {
        "bench:instant"
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
        let events = match request.messages.last() {
            Some(Message::Tool { .. }) => vec![
                ModelEvent::TextDelta("PR #1 is open.".to_owned()),
                ModelEvent::Finished(FinishReason::Stop),
            ],
            _ => vec![
                ModelEvent::ToolCall(ToolCall {
                    id: format!("call_{}", request.messages.len()),
                    ..self.call.clone()
                }),
                ModelEvent::Finished(FinishReason::ToolCalls),
            ],
        };
        stream::iter(events.into_iter().map(Ok)).boxed()
    }
}

/// Time spent inside something, summed, in nanoseconds.
#[derive(Debug, Default)]
struct Clock(AtomicU64);

impl Clock {
    fn add(&self, d: Duration) {
        self.0.fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn take(&self) -> Duration {
        Duration::from_nanos(self.0.swap(0, Ordering::Relaxed))
    }
}

/// A model whose streams are timed from the request to their end.
struct TimedModel {
    inner: Arc<dyn Model>,
    clock: Arc<Clock>,
}

impl Model for TimedModel {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
        let start = Instant::now();
        let clock = self.clock.clone();
        let mut stopped = false;
        let end = stream::poll_fn(move |_| {
            if !std::mem::replace(&mut stopped, true) {
                clock.add(start.elapsed());
            }
            Poll::Ready(None)
        });
        self.inner.stream(request).chain(end).boxed()
    }
}

/// A toolset whose calls are timed.
struct TimedToolset {
    inner: Arc<dyn Toolset>,
    clock: Arc<Clock>,
}

impl Toolset for TimedToolset {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn tools(&self) -> BoxFuture<'_, Result<Vec<ToolDefinition>, ToolsetError>> {
        self.inner.tools()
    }

    fn call<'a>(&'a self, call: &'a ToolCall, context: ToolContext) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let start = Instant::now();
            let output = self.inner.call(call, context).await;
            self.clock.add(start.elapsed());
            output
        })
    }
}

// --- statistics ---

/// Order statistics of a set of timings.
#[derive(Debug, Clone, Copy)]
struct Stats {
    min: Duration,
    median: Duration,
    p90: Duration,
    p99: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        // Nearest rank: the smallest sample with at least `p` of all samples at or below it.
        let rank = |p: f64| {
            let i = (p * samples.len() as f64).ceil() as usize;
            samples
                .get(i.saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        Self {
            min: samples.first().copied().unwrap_or_default(),
            median: rank(0.5),
            p90: rank(0.9),
            p99: rank(0.99),
        }
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

// --- overhead per turn ---

#[derive(Debug, Clone, Copy)]
enum Setup {
    InstantFunction,
    InstantMcp,
    HttpMcp,
}

impl Setup {
    fn label(self) -> &'static str {
        match self {
            Setup::InstantFunction => "instant model + in-process function tool",
            Setup::InstantMcp => "instant model + MCP toolset → sandbox",
            Setup::HttpMcp => "OpenAI client → scripted LLM + MCP toolset → sandbox",
        }
    }
}

struct Measured {
    setup: Setup,
    turns: usize,
    total: Stats,
    model: Stats,
    tool: Stats,
    overhead: Stats,
}

type Script<'a> = Option<(&'a ScriptedLlm, &'a dyn Fn(&ScriptedLlm))>;

/// Runs `turns` turns (after `warmup` uncounted ones), each from an empty history.
async fn measure(
    setup: Setup,
    model: Arc<dyn Model>,
    toolset: Arc<dyn Toolset>,
    warmup: usize,
    turns: usize,
    script: Script<'_>,
) -> anyhow::Result<Measured> {
    let model_clock = Arc::new(Clock::default());
    let tool_clock = Arc::new(Clock::default());
    let agent = Agent::new(Arc::new(TimedModel {
        inner: model,
        clock: model_clock.clone(),
    }))
    .with_instructions("You work on Bitbucket through the tools.")
    .with_toolset(Arc::new(TimedToolset {
        inner: toolset,
        clock: tool_clock.clone(),
    }));
    let mut totals = Vec::with_capacity(turns);
    let mut models = Vec::with_capacity(turns);
    let mut tools = Vec::with_capacity(turns);
    let mut overheads = Vec::with_capacity(turns);
    for turn in 0..warmup + turns {
        if let Some((llm, push)) = script {
            push(llm);
        }
        model_clock.take();
        tool_clock.take();
        let mut history = History::new();
        let start = Instant::now();
        let result = tokio::time::timeout(
            STEP_TIMEOUT,
            agent.run("is PR 1 in acme/widgets open?", &mut history),
        )
        .await
        .context("a turn took too long")?
        .with_context(|| format!("turn {turn} of {} failed", setup.label()))?;
        let total = start.elapsed();
        ensure!(
            result.output == "PR #1 is open." && result.usage.requests == 2,
            "unexpected turn: {result:?}"
        );
        ensure!(
            matches!(
                history.messages().get(2),
                Some(Message::Tool {
                    is_error: false,
                    ..
                })
            ),
            "the tool failed: {:?}",
            history.messages().get(2)
        );
        if turn < warmup {
            continue;
        }
        let model = model_clock.take();
        let tool = tool_clock.take();
        totals.push(total);
        models.push(model);
        tools.push(tool);
        overheads.push(total.saturating_sub(model + tool));
    }
    Ok(Measured {
        setup,
        turns,
        total: Stats::of(totals),
        model: Stats::of(models),
        tool: Stats::of(tools),
        overhead: Stats::of(overheads),
    })
}

/// What `Toolset::tools` of the MCP toolset costs (the agent asks once per model request),
/// and what one copy of the list costs (made and dropped).
struct Listing {
    tools: usize,
    list: Stats,
    copy: Stats,
}

// --- memory of `bbagent chat` at rest ---

#[derive(Debug, Clone, Copy)]
enum MemoryBackend {
    /// No `BITBUCKET_*`: the chat leases the shared sandbox, as on a machine without
    /// credentials; measured together with the sandbox's process.
    SharedSandbox,
    /// `BITBUCKET_*` point at the bench's sandbox, as they would at Bitbucket Cloud.
    External,
}

impl MemoryBackend {
    fn label(self) -> &'static str {
        match self {
            MemoryBackend::SharedSandbox => {
                "the shared sandbox (no `BITBUCKET_*`): chat + sandbox processes"
            }
            MemoryBackend::External => "Bitbucket elsewhere (`BITBUCKET_*` set)",
        }
    }
}

/// Resident set sizes in KiB.
#[derive(Debug, Clone, Copy, Default)]
struct Rss {
    now: u64,
    peak: u64,
}

struct Memory {
    backend: MemoryBackend,
    started: Vec<Rss>,
    after_turn: Vec<Rss>,
}

fn read_rss(pid: u32) -> anyhow::Result<Rss> {
    let (now, peak) = memory_kib(pid)?;
    Ok(Rss { now, peak })
}

async fn chat_memory(
    servers: &Servers,
    dir: &Path,
    backend: MemoryBackend,
    counts: Counts,
) -> anyhow::Result<Memory> {
    let llm = &servers.llm;
    let mut memory = Memory {
        backend,
        started: Vec::new(),
        after_turn: Vec::new(),
    };
    for run in 0..counts.memory_runs {
        let home = dir.join(format!("chat-{run}"));
        std::fs::create_dir_all(&home)?;
        let mut cmd = bare(&home);
        cmd.env("XDG_DATA_HOME", home.join("data"))
            .env("OPENAI_API_KEY", llm.api_key().unwrap_or_default())
            .args(["chat", "--model", "openai:gpt-5", "--base-url"])
            .arg(llm.base_url())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        match backend {
            MemoryBackend::SharedSandbox => {
                cmd.arg("--sandbox-dir")
                    .arg(home.join("sandbox"))
                    .env("BBAGENT_SANDBOX_IDLE", "1s");
            }
            MemoryBackend::External => {
                cmd.env("BITBUCKET_BASE_URL", servers.sandbox.base_url())
                    .env("BITBUCKET_EMAIL", EMAIL)
                    .env("BITBUCKET_API_TOKEN", TOKEN);
            }
        }
        let mut child = cmd.spawn().context("cannot spawn `bbagent chat`")?;
        let pid = child.id().context("no pid")?;
        let mut stdin = child.stdin.take().context("no stdin")?;
        let mut lines =
            tokio::io::BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let mut wait_for = async |needle: &str| -> anyhow::Result<()> {
            let seen = tokio::time::timeout(STEP_TIMEOUT, async {
                while let Some(line) = lines.next_line().await? {
                    if line.contains(needle) {
                        return anyhow::Ok(true);
                    }
                }
                Ok(false)
            })
            .await
            .with_context(|| format!("`bbagent chat` did not print `{needle}` in time"))??;
            ensure!(seen, "`bbagent chat` ended before printing `{needle}`");
            Ok(())
        };
        wait_for("/help lists commands").await?;
        let sandbox = match backend {
            MemoryBackend::SharedSandbox => Some(sandbox_pid(&home.join("sandbox")).await?),
            MemoryBackend::External => None,
        };
        let rss = || -> anyhow::Result<Rss> {
            let chat = read_rss(pid)?;
            Ok(match sandbox {
                Some(sandbox) => {
                    let sandbox = read_rss(sandbox)?;
                    Rss {
                        now: chat.now + sandbox.now,
                        peak: chat.peak + sandbox.peak,
                    }
                }
                None => chat,
            })
        };
        tokio::time::sleep(counts.idle).await;
        memory.started.push(rss()?);

        llm.push_turns([
            Turn::tool_call(
                TOOL,
                json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1}),
            ),
            Turn::text("PR #1 is open."),
        ]);
        stdin.write_all(b"is PR 1 in acme/widgets open?\n").await?;
        wait_for("PR #1 is open.").await?;
        tokio::time::sleep(counts.idle).await;
        memory.after_turn.push(rss()?);

        stdin.write_all(b"exit\n").await?;
        wait_for("Bye.").await?;
        let status = tokio::time::timeout(STEP_TIMEOUT, child.wait())
            .await
            .context("`bbagent chat` did not exit")??;
        ensure!(status.success(), "`bbagent chat` failed: {status}");
    }
    Ok(memory)
}

/// The pid of the sandbox serving `dir`, from the greeting on its socket.
async fn sandbox_pid(dir: &Path) -> anyhow::Result<u32> {
    let socket = dir.join("sandbox.sock");
    let stream = tokio::net::UnixStream::connect(&socket)
        .await
        .with_context(|| format!("no sandbox at {}", socket.display()))?;
    let mut line = String::new();
    tokio::io::BufReader::new(stream)
        .read_line(&mut line)
        .await?;
    let greeting: serde_json::Value = serde_json::from_str(&line)?;
    let pid = greeting["pid"].as_u64().context("no pid in the greeting")?;
    Ok(u32::try_from(pid)?)
}

// --- the report ---

fn median_of(values: impl Iterator<Item = u64>) -> u64 {
    let mut values: Vec<u64> = values.collect();
    values.sort_unstable();
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

fn render(
    counts: Counts,
    setups: &[Measured],
    listing: &Listing,
    memory: &[Memory],
    took: Duration,
) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    line("# bbagent agent benchmarks");
    line("");
    line(&format!(
        "bbagent {} · {} · {cores} cores · loopback only · servers in-process (own runtime) · run took {:.0} s",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) {
            "a debug build"
        } else {
            "`bench` profile"
        },
        took.as_secs_f64()
    ));
    line("");
    line("## 1. The agent's own time per turn");
    line("");
    line(&format!(
        "One turn: a prompt, the model calls `{TOOL}` (acme/widgets #1), the tool answers, the model answers (2 model requests, 1 tool call), from an empty history. \
Model time runs from each request to the end of its stream; tool time is the toolset's `call`. Overhead = turn − model − tool, per turn. \
{} warm-up turns, then {} / {} / {} timed turns.",
        counts.warmup, counts.function_turns, counts.mcp_turns, counts.http_turns
    ));
    line("");
    line(
        "| set-up | turn (median) | model | tool | **overhead** (median) | p90 | p99 | overhead ÷ turn |",
    );
    line("|---|---:|---:|---:|---:|---:|---:|---:|");
    for m in setups {
        line(&format!(
            "| {} ({} turns) | {:.1} µs | {:.1} µs | {:.1} µs | **{:.1} µs** | {:.1} µs | {:.1} µs | {:.0}% |",
            m.setup.label(),
            m.turns,
            us(m.total.median),
            us(m.model.median),
            us(m.tool.median),
            us(m.overhead.median),
            us(m.overhead.p90),
            us(m.overhead.p99),
            100.0 * m.overhead.median.as_secs_f64()
                / m.total.median.as_secs_f64().max(f64::MIN_POSITIVE),
        ));
    }
    line("");
    for m in setups {
        line(&format!(
            "- {}: overhead min {:.1} µs; turn p90 {:.1} µs, min {:.1} µs",
            m.setup.label(),
            us(m.overhead.min),
            us(m.total.p90),
            us(m.total.min)
        ));
    }
    line("");
    line(&format!(
        "Where the MCP set-ups' extra overhead goes: copies of the tool list. For each model request the agent asks the toolset for its tools, and `McpToolset::tools()` hands out its cached list as a copy ({:.1} µs per call, median); the agent then copies the list into the request and once more for the model call (`crates/agent/src/agent.rs`). One copy of the {} definitions with their JSON schemas, made and dropped, takes {:.1} µs (median), so the three copies of two requests come to about {:.0} µs per turn. The function tool's list is one short definition.",
        us(listing.list.median),
        listing.tools,
        us(listing.copy.median),
        6.0 * us(listing.copy.median)
    ));
    line("");
    line("## 2. Memory of `bbagent chat` at rest");
    line("");
    line(&format!(
        "`bbagent chat --model openai:gpt-5 --base-url <scripted LLM>` with stdin a pipe; resident set (`VmRSS`) and its peak (`VmHWM`) from `/proc/PID/status`, \
{:.1} s after the banner, and {:.1} s after one turn with a tool call. Median of {} run(s).",
        counts.idle.as_secs_f64(),
        counts.idle.as_secs_f64(),
        counts.memory_runs
    ));
    line("");
    line("| tools backed by | RSS after start-up | peak | RSS after one turn | peak |");
    line("|---|---:|---:|---:|---:|");
    for m in memory {
        line(&format!(
            "| {} | **{:.1} MiB** | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
            m.backend.label(),
            mib(median_of(m.started.iter().map(|r| r.now))),
            mib(median_of(m.started.iter().map(|r| r.peak))),
            mib(median_of(m.after_turn.iter().map(|r| r.now))),
            mib(median_of(m.after_turn.iter().map(|r| r.peak))),
        ));
    }
    line("");
    line("## How to run");
    line("");
    line("```sh");
    line("./scripts/bench           # both benchmarks: the agent, then the MCP server");
    line("./scripts/bench --quick   # a smoke run with small counts");
    line("```");
    line("");
    line(
        "Everything stays on loopback and every loop is bounded. Microseconds move between runs; compare set-ups within one run.",
    );
    out
}
