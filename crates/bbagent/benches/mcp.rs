//! Benchmarks of `bbagent mcp`: cold start over stdio, `BITBUCKET_GET_PULL_REQUEST` latency
//! and throughput over Streamable HTTP against calling the sandbox directly, and the size of
//! the `tools/list` answer in bytes and tokens. Prints a markdown report and writes it to
//! `target/bench-mcp.md`.
//!
//! Run with `./scripts/bench` (or `cargo bench -p bbagent --bench mcp`); add `-- --quick` for
//! a smoke run with small counts. Everything talks to loopback, and every loop is bounded in
//! count and time.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use bitbucket_sandbox::{Sandbox, SandboxConfig};
use mcp_testkit::{Era, Session, connect, connect_http};
use rmcp::model::{CallToolRequestParams, ListToolsResult};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

mod common;

use common::{EMAIL, STEP_TIMEOUT, TOKEN, command, report_path, serve, step};

const API_KEY: &str = "bench-key";
const TOOL: &str = "BITBUCKET_GET_PULL_REQUEST";
/// How much to measure.
#[derive(Debug, Clone, Copy)]
struct Counts {
    cold_starts: usize,
    warmup: usize,
    sequential: usize,
    clients: usize,
    throughput_for: Duration,
}

impl Counts {
    const FULL: Self = Self {
        cold_starts: 20,
        warmup: 200,
        sequential: 2_000,
        clients: 8,
        throughput_for: Duration::from_secs(3),
    };
    const QUICK: Self = Self {
        cold_starts: 3,
        warmup: 10,
        sequential: 50,
        clients: 2,
        throughput_for: Duration::from_millis(300),
    };
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    // `cargo bench` passes `--bench`; anything after `--` on its command line lands here too.
    let quick = std::env::args().any(|a| a == "--quick");
    let counts = if quick { Counts::QUICK } else { Counts::FULL };
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;

    // The sandbox gets its own runtime, as it would have in its own process, so its work is
    // not scheduled behind the bench's clients.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sandbox")
        .build()?;
    let sandbox = server_rt
        .block_on(Sandbox::start(SandboxConfig::new(
            dir.path().join("sandbox"),
        )))
        .context("cannot start the sandbox")?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = client_rt.block_on(run(&sandbox, dir.path(), counts, started));
    drop(client_rt);
    drop(sandbox);
    drop(server_rt);
    let report = report?;

    print!("{report}");
    let path = report_path("bench-mcp.md");
    std::fs::write(&path, &report).with_context(|| format!("cannot write `{}`", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

async fn run(
    sandbox: &Sandbox,
    dir: &Path,
    counts: Counts,
    started: Instant,
) -> anyhow::Result<String> {
    let base_url = sandbox.base_url().to_owned();

    step(&format!(
        "cold start over stdio ({} runs after 1 warm-up)",
        counts.cold_starts
    ));
    let cold = cold_start(&base_url, dir, counts.cold_starts).await?;

    step("starting `bbagent mcp --http 127.0.0.1:0 --api-key …`");
    let mut server = HttpChild::spawn(&base_url, dir).await?;
    let targets = [
        Kind::Direct,
        Kind::Mcp(Era::Sessions),
        Kind::Mcp(Era::Stateless),
    ];
    let mut calls = Vec::new();
    for kind in targets {
        step(&format!(
            "{}: {} warm-up, {} sequential calls, {} clients for {:?}",
            kind.label(),
            counts.warmup,
            counts.sequential,
            counts.clients,
            counts.throughput_for
        ));
        calls.push(measure_calls(kind, &base_url, &server.url, counts).await?);
    }

    step("sizing tools/list");
    let size = tools_list_size(&server.url).await?;
    server.stop().await;

    let elapsed = started.elapsed();
    Ok(render(counts, &cold, &calls, &size, elapsed)?)
}

// --- statistics ---

/// Order statistics of a set of timings.
#[derive(Debug, Clone, Copy)]
struct Stats {
    n: usize,
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
            n: samples.len(),
            min: samples.first().copied().unwrap_or_default(),
            median: rank(0.5),
            p90: rank(0.9),
            p99: rank(0.99),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

// --- 1. cold start ---

struct ColdStart {
    initialized: Stats,
    listed: Stats,
    tools: usize,
}

/// Spawn `bbagent mcp` on stdio, initialize (2025-11-25) and list the tools, `runs` times;
/// the clock runs from just before the spawn to the `tools/list` answer.
async fn cold_start(base_url: &str, dir: &Path, runs: usize) -> anyhow::Result<ColdStart> {
    let mut initialized = Vec::with_capacity(runs);
    let mut listed = Vec::with_capacity(runs);
    let mut tools = 0;
    // The first run pays for the page cache; it is not counted.
    for run in 0..=runs {
        let once = async {
            let start = Instant::now();
            let mut cmd = command(base_url, dir);
            cmd.arg("mcp");
            let (child, _) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::null())
                .spawn()
                .context("cannot spawn `bbagent mcp`")?;
            let (session, _) = connect(child, Era::Sessions, None).await;
            let init = start.elapsed();
            let list = session.list_tools(None).await.context("tools/list")?;
            let total = start.elapsed();
            ensure!(list.next_cursor.is_none(), "tools/list is paginated");
            session
                .cancel()
                .await
                .context("closing the stdio session")?;
            anyhow::Ok((init, total, list.tools.len()))
        };
        let (init, total, n) = tokio::time::timeout(STEP_TIMEOUT, once)
            .await
            .context("a cold start took too long")??;
        if run > 0 {
            initialized.push(init);
            listed.push(total);
        }
        tools = n;
    }
    Ok(ColdStart {
        initialized: Stats::of(initialized),
        listed: Stats::of(listed),
        tools,
    })
}

// --- 2. GET_PULL_REQUEST latency and throughput ---

/// `bbagent mcp --http` as a child process.
struct HttpChild {
    child: tokio::process::Child,
    url: String,
}

impl HttpChild {
    async fn spawn(base_url: &str, dir: &Path) -> anyhow::Result<Self> {
        let mut cmd = command(base_url, dir);
        cmd.args(["mcp", "--http", "127.0.0.1:0", "--api-key", API_KEY]);
        let (child, _, url) = serve(cmd).await?;
        ensure!(url.ends_with("/mcp"), "unexpected first line `{url}`");
        Ok(Self { child, url })
    }

    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// reqwest straight to the sandbox.
    Direct,
    /// An rmcp client through `bbagent mcp --http`.
    Mcp(Era),
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Direct => "direct: reqwest → sandbox",
            Kind::Mcp(Era::Sessions) => "MCP 2025-11-25 (session)",
            Kind::Mcp(Era::Stateless) => "MCP 2026-07-28 (stateless)",
        }
    }
}

/// One client that can fetch pull request `acme/widgets` #1.
enum Caller {
    Direct { http: reqwest::Client, url: String },
    Mcp(Session),
}

impl Caller {
    async fn new(kind: Kind, base_url: &str, mcp_url: &str) -> anyhow::Result<Self> {
        Ok(match kind {
            Kind::Direct => Caller::Direct {
                http: reqwest::Client::new(),
                url: format!("{base_url}/repositories/acme/widgets/pullrequests/1"),
            },
            Kind::Mcp(era) => {
                let connecting = connect_http(mcp_url, Some(API_KEY), era, None);
                let (session, _) = tokio::time::timeout(STEP_TIMEOUT, connecting)
                    .await
                    .context("connecting took too long")?;
                Caller::Mcp(session)
            }
        })
    }

    /// Fetches the pull request and checks that it came back whole.
    async fn get_pr(&self) -> anyhow::Result<()> {
        let call = async {
            match self {
                Caller::Direct { http, url } => {
                    let response = http.get(url).basic_auth(EMAIL, Some(TOKEN)).send().await?;
                    ensure!(response.status().is_success(), "{}", response.status());
                    let pr: Value = response.json().await?;
                    ensure!(pr["id"] == 1, "unexpected pull request {pr}");
                }
                Caller::Mcp(session) => {
                    let args =
                        json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1});
                    let params = CallToolRequestParams::new(TOOL)
                        .with_arguments(args.as_object().cloned().unwrap_or_default());
                    let result = session.call_tool(params).await?;
                    ensure!(result.is_error != Some(true), "{TOOL} failed: {result:?}");
                    let pr = result.structured_content.unwrap_or_default();
                    ensure!(pr["id"] == 1, "unexpected pull request {pr}");
                }
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(STEP_TIMEOUT, call)
            .await
            .context("a call took too long")?
    }

    async fn close(self) {
        if let Caller::Mcp(session) = self {
            let _ = tokio::time::timeout(STEP_TIMEOUT, session.cancel()).await;
        }
    }
}

struct Calls {
    kind: Kind,
    latency: Stats,
    throughput: Throughput,
}

struct Throughput {
    requests: u64,
    elapsed: Duration,
}

impl Throughput {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

async fn measure_calls(
    kind: Kind,
    base_url: &str,
    mcp_url: &str,
    counts: Counts,
) -> anyhow::Result<Calls> {
    let caller = Caller::new(kind, base_url, mcp_url).await?;
    for _ in 0..counts.warmup {
        caller.get_pr().await?;
    }
    let mut samples = Vec::with_capacity(counts.sequential);
    for _ in 0..counts.sequential {
        let start = Instant::now();
        caller.get_pr().await?;
        samples.push(start.elapsed());
    }
    caller.close().await;

    // Every client connects and warms up before the clock starts.
    let mut callers = Vec::with_capacity(counts.clients);
    for _ in 0..counts.clients {
        let caller = Caller::new(kind, base_url, mcp_url).await?;
        for _ in 0..10 {
            caller.get_pr().await?;
        }
        callers.push(caller);
    }
    let start = Instant::now();
    let deadline = start + counts.throughput_for;
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|caller| {
            tokio::spawn(async move {
                let mut done = 0u64;
                // Bounded by the deadline, and by a count no loopback client can reach.
                while Instant::now() < deadline && done < 10_000_000 {
                    caller.get_pr().await?;
                    done += 1;
                }
                anyhow::Ok((done, caller))
            })
        })
        .collect();
    let mut requests = 0;
    let mut finished = Vec::new();
    for task in tasks {
        let (done, caller) = task.await??;
        requests += done;
        finished.push(caller);
    }
    let elapsed = start.elapsed();
    for caller in finished {
        caller.close().await;
    }
    Ok(Calls {
        kind,
        latency: Stats::of(samples),
        throughput: Throughput { requests, elapsed },
    })
}

// --- 3. tools/list size ---

/// Bytes and o200k_base tokens of one piece of JSON text.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    bytes: usize,
    tokens: usize,
}

impl std::ops::Add for Size {
    type Output = Size;
    fn add(self, other: Size) -> Size {
        Size {
            bytes: self.bytes + other.bytes,
            tokens: self.tokens + other.tokens,
        }
    }
}

impl std::ops::Sub for Size {
    type Output = Size;
    fn sub(self, other: Size) -> Size {
        Size {
            bytes: self.bytes.saturating_sub(other.bytes),
            tokens: self.tokens.saturating_sub(other.tokens),
        }
    }
}

/// One part of every tool (its description, input schema or output schema).
struct Part {
    name: &'static str,
    key: &'static str,
    /// Sum over the tools of the part's own JSON.
    alone: Size,
    /// How much the whole result shrinks when the part is left out of every tool.
    saved: Size,
}

struct ToolSize {
    name: String,
    whole: Size,
    description: Size,
    input: Size,
    output: Size,
}

struct ListSize {
    tools: usize,
    result: Size,
    message: Size,
    /// Era, content type and body of the raw HTTP answer.
    http: Vec<(Era, String, Size)>,
    /// Name, title, description, input schema and annotations, summed over the tools.
    read: Size,
    parts: Vec<Part>,
    largest: Vec<ToolSize>,
}

async fn tools_list_size(mcp_url: &str) -> anyhow::Result<ListSize> {
    let bpe = tiktoken_rs::o200k_base().context("cannot load o200k_base")?;
    let size = |text: &str| Size {
        bytes: text.len(),
        tokens: bpe.encode_ordinary(text).len(),
    };
    let json_size = |value: &Value| size(&value.to_string());

    let (session, _) = connect_http(mcp_url, Some(API_KEY), Era::Sessions, None).await;
    let list: ListToolsResult = session.list_tools(None).await.context("tools/list")?;
    let _ = session.cancel().await;
    ensure!(list.next_cursor.is_none(), "tools/list is paginated");
    let result = serde_json::to_value(&list)?;
    let message = json!({"jsonrpc": "2.0", "id": 2, "result": result});

    let http = reqwest::Client::new();
    let mut raw = Vec::new();
    for era in [Era::Sessions, Era::Stateless] {
        let (content_type, body) = raw_tools_list(&http, mcp_url, era).await?;
        raw.push((era, content_type, size(&body)));
    }

    let tools = result["tools"].as_array().cloned().unwrap_or_default();
    let mut parts = Vec::new();
    for (name, key) in [
        ("descriptions", "description"),
        ("input schemas", "inputSchema"),
        ("output schemas", "outputSchema"),
    ] {
        let alone = tools
            .iter()
            .filter_map(|tool| tool.get(key))
            .map(json_size)
            .fold(Size::default(), |a, b| a + b);
        let mut without = result.clone();
        if let Some(tools) = without["tools"].as_array_mut() {
            for tool in tools {
                if let Some(tool) = tool.as_object_mut() {
                    tool.remove(key);
                }
            }
        }
        let saved = json_size(&result) - json_size(&without);
        parts.push(Part {
            name,
            key,
            alone,
            saved,
        });
    }

    let part = |tool: &Value, key| tool.get(key).map(json_size).unwrap_or_default();
    let mut largest: Vec<ToolSize> = tools
        .iter()
        .map(|tool| ToolSize {
            name: tool["name"].as_str().unwrap_or("?").to_owned(),
            whole: json_size(tool),
            description: part(tool, "description"),
            input: part(tool, "inputSchema"),
            output: part(tool, "outputSchema"),
        })
        .collect();
    largest.sort_by_key(|t| std::cmp::Reverse(t.whole.tokens));
    largest.truncate(5);
    // What a model reads of each tool to choose one: its name, title, description, input
    // schema and annotations (the output schema only matters once it has called).
    let read = tools
        .iter()
        .map(|tool| {
            let mut seen = serde_json::Map::new();
            for key in ["name", "title", "description", "inputSchema", "annotations"] {
                if let Some(value) = tool.get(key) {
                    seen.insert(key.to_owned(), value.clone());
                }
            }
            json_size(&Value::Object(seen))
        })
        .fold(Size::default(), |a, b| a + b);

    Ok(ListSize {
        tools: tools.len(),
        read,
        result: json_size(&result),
        message: json_size(&message),
        http: raw,
        parts,
        largest,
    })
}

/// `tools/list` by hand over HTTP, to see the body exactly as sent: the 2025-11-25 era
/// initializes a session first; the 2026-07-28 era sends the request context in `_meta`.
async fn raw_tools_list(
    http: &reqwest::Client,
    url: &str,
    era: Era,
) -> anyhow::Result<(String, String)> {
    let post = |version: &str, method: &str, body: Value| {
        http.post(url)
            .header("x-api-key", API_KEY)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", version)
            .header("mcp-method", method)
            .json(&body)
            .timeout(STEP_TIMEOUT)
    };
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}});
    let response = match era {
        Era::Sessions => {
            let version = "2025-11-25";
            let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "bbagent-bench", "version": "0"},
            }});
            let response = post(version, "initialize", init).send().await?;
            ensure!(
                response.status().is_success(),
                "initialize: {}",
                response.status()
            );
            let session = response
                .headers()
                .get("mcp-session-id")
                .context("no `mcp-session-id`")?
                .clone();
            response.bytes().await?;
            let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            let response = post(version, "notifications/initialized", initialized)
                .header("mcp-session-id", session.clone())
                .send()
                .await?;
            ensure!(
                response.status().is_success(),
                "initialized: {}",
                response.status()
            );
            let response = post(version, "tools/list", list)
                .header("mcp-session-id", session.clone())
                .send()
                .await?;
            let _ = http
                .delete(url)
                .header("x-api-key", API_KEY)
                .header("mcp-session-id", session)
                .timeout(STEP_TIMEOUT)
                .send()
                .await;
            response
        }
        Era::Stateless => {
            let version = "2026-07-28";
            let mut list = list;
            list["params"]["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": version,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "bbagent-bench", "version": "0"},
            });
            post(version, "tools/list", list).send().await?
        }
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_owned();
    let body = response.text().await?;
    if !status.is_success() || !body.contains("\"tools\"") {
        bail!("tools/list over raw HTTP ({era:?}): {status}: {body}");
    }
    Ok((content_type, body))
}

// --- the report ---

fn era_label(era: Era) -> &'static str {
    match era {
        Era::Sessions => "2025-11-25",
        Era::Stateless => "2026-07-28",
    }
}

fn render(
    counts: Counts,
    cold: &ColdStart,
    calls: &[Calls],
    size: &ListSize,
    elapsed: Duration,
) -> Result<String, std::fmt::Error> {
    use std::fmt::Write as _;
    let mut r = String::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(r, "# bbagent MCP benchmarks\n")?;
    writeln!(
        r,
        "bbagent {} · `bench` profile · {cores} cores · {} tools · loopback only · \
         sandbox in-process (own runtime), server = the `bbagent` binary · run took {:.0} s\n",
        env!("CARGO_PKG_VERSION"),
        cold.tools,
        elapsed.as_secs_f64(),
    )?;

    writeln!(r, "## 1. Cold start over stdio (2025-11-25)\n")?;
    writeln!(
        r,
        "Spawn `bbagent mcp` (backend: `BITBUCKET_*` → the sandbox), `initialize`, `tools/list`; \
         clock from just before the spawn. {} runs after one uncounted warm-up.\n",
        cold.listed.n
    )?;
    writeln!(r, "| from spawn to | median | p90 | min |")?;
    writeln!(r, "|---|---:|---:|---:|")?;
    for (what, s) in [
        ("`initialize` answered", cold.initialized),
        ("**`tools/list` answered**", cold.listed),
    ] {
        writeln!(
            r,
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms |",
            ms(s.median),
            ms(s.p90),
            ms(s.min)
        )?;
    }

    let direct = calls.iter().find(|c| c.kind == Kind::Direct);
    let direct_median = direct.map_or(0.0, |d| ms(d.latency.median));
    let direct_rps = direct.map_or(0.0, |d| d.throughput.per_second());
    writeln!(
        r,
        "\n## 2. `{TOOL}` (acme/widgets #1): MCP over HTTP vs the sandbox directly\n"
    )?;
    writeln!(
        r,
        "MCP: an rmcp client → `bbagent mcp --http 127.0.0.1:0 --api-key …` → sandbox. Direct: \
         reqwest `GET /2.0/repositories/acme/widgets/pullrequests/1` with the same basic auth. \
         Each client checks the answer. Sequential: one client, {} warm-up calls, then {} timed \
         calls. Throughput: {} clients (each its own connection or session) for {:.1} s.\n",
        counts.warmup,
        counts.sequential,
        counts.clients,
        counts.throughput_for.as_secs_f64()
    )?;
    writeln!(
        r,
        "| path | median | p99 | min | overhead (median ÷ direct) \
         | req/s, {} clients | direct req/s ÷ this |",
        counts.clients
    )?;
    writeln!(r, "|---|---:|---:|---:|---:|---:|---:|")?;
    for c in calls {
        let rps = c.throughput.per_second();
        writeln!(
            r,
            "| {} | {:.3} ms | {:.3} ms | {:.3} ms | {:.2}× | {:.0} ({} in {:.1} s) | {:.2}× |",
            c.kind.label(),
            ms(c.latency.median),
            ms(c.latency.p99),
            ms(c.latency.min),
            ms(c.latency.median) / direct_median,
            rps,
            c.throughput.requests,
            c.throughput.elapsed.as_secs_f64(),
            direct_rps / rps,
        )?;
    }

    writeln!(r, "\n## 3. Size of the `tools/list` answer\n")?;
    writeln!(
        r,
        "{} tools. Tokens: `tiktoken-rs` o200k_base over the compact JSON.\n",
        size.tools
    )?;
    writeln!(
        r,
        "What a model reads to choose a tool (name, title, description, input schema and \
         annotations): **{:.0} characters and {:.0} tokens a tool on average** (target: 600 \
         characters), {} tokens for all {} tools.\n",
        size.read.bytes as f64 / size.tools.max(1) as f64,
        size.read.tokens as f64 / size.tools.max(1) as f64,
        size.read.tokens,
        size.tools
    )?;
    writeln!(r, "| what | bytes | tokens |")?;
    writeln!(r, "|---|---:|---:|")?;
    writeln!(
        r,
        "| **`ListToolsResult`, compact JSON** | **{}** | **{}** |",
        size.result.bytes, size.result.tokens
    )?;
    writeln!(
        r,
        "| the JSON-RPC response (`{{\"jsonrpc\",\"id\",\"result\"}}`) | {} | {} |",
        size.message.bytes, size.message.tokens
    )?;
    for (era, content_type, s) in &size.http {
        writeln!(
            r,
            "| raw HTTP body, {} (`{content_type}`) | {} | {} |",
            era_label(*era),
            s.bytes,
            s.tokens
        )?;
    }

    writeln!(r, "\n### Where the tokens go\n")?;
    writeln!(
        r,
        "\"Alone\": the part's own JSON, summed over the tools (schema property descriptions \
         count under their schema). \"Saved if dropped\": how much smaller the whole result is \
         without that key in every tool.\n"
    )?;
    writeln!(
        r,
        "| part | bytes alone | tokens alone | share of tokens \
         | bytes saved if dropped | tokens saved if dropped |"
    )?;
    writeln!(r, "|---|---:|---:|---:|---:|---:|")?;
    let mut rest = size.result;
    for p in &size.parts {
        rest = rest - p.alone;
        writeln!(
            r,
            "| {} (`{}`) | {} | {} | {:.0}% | {} | {} |",
            p.name,
            p.key,
            p.alone.bytes,
            p.alone.tokens,
            share(p.alone.tokens, size.result.tokens),
            p.saved.bytes,
            p.saved.tokens
        )?;
    }
    writeln!(
        r,
        "| the rest: names, titles, annotations, keys | {} | {} | {:.0}% | | |",
        rest.bytes,
        rest.tokens,
        share(rest.tokens, size.result.tokens)
    )?;

    writeln!(r, "\nLargest tools (tokens):\n")?;
    writeln!(
        r,
        "| tool | whole | description | input schema | output schema |"
    )?;
    writeln!(r, "|---|---:|---:|---:|---:|")?;
    for t in &size.largest {
        writeln!(
            r,
            "| `{}` | {} | {} | {} | {} |",
            t.name, t.whole.tokens, t.description.tokens, t.input.tokens, t.output.tokens
        )?;
    }

    writeln!(r, "\n## How to run\n")?;
    writeln!(r, "```sh")?;
    writeln!(
        r,
        "./scripts/bench           # the full run: about 20 s once built"
    )?;
    writeln!(
        r,
        "./scripts/bench --quick   # a smoke run with small counts"
    )?;
    writeln!(r, "```\n")?;
    writeln!(
        r,
        "It runs `cargo bench --locked -p bbagent --bench mcp` (the `bench` profile; building \
         the optimized dependencies the first time takes about 13 minutes on 2 cores), prints \
         this report on stdout, progress on stderr, and writes the report to \
         `target/bench-mcp.md`. Everything stays on loopback and every loop is bounded. \
         Milliseconds move between runs; the ratios are steadier."
    )?;
    if counts.sequential < Counts::FULL.sequential {
        writeln!(r, "\n**Quick run: the counts are too small to quote.**")?;
    }
    Ok(r)
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
