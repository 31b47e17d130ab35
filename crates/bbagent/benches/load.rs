//! Load with faults: many MCP sessions at once, each alternating reads and writes, against
//! `bbagent mcp --http` (each protocol era) and `bbagent router` (each era), while the sandbox
//! answers 10% of requests 429, 10% 503 and delays 10% by 200 ms. For each: calls per second,
//! latency (p50, p99), the share of calls that failed, the server's peak memory (VmHWM) and its
//! memory once the sessions of each of two rounds are closed against its resting size, and the
//! writes lost or duplicated (the issues in the sandbox against those reported created; both must be 0).
//! Prints a markdown report and writes it to `target/bench-load.md`.
//!
//! Run with `./scripts/bench` (or `cargo bench -p bbagent --bench load`); add `-- --quick`
//! for a smoke run with small counts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use bitbucket_client::{Auth, Client, ClientConfig, ListParams, RepoId};
use bitbucket_sandbox::{FaultConfig, Sandbox, SandboxConfig};
use futures::TryStreamExt as _;
use mcp_testkit::Era;
use mcp_testkit::load::{Front, LoadPlan, LoadReport, run_load};
use serde_json::{Value, json};

mod common;

use common::{EMAIL, TOKEN, command, memory_kib, mib, percentile, report_path, serve, step};

const FAULTS: &str = "429=0.1,503=0.1,slow=0.1,delay=200ms,retry-after=1";

/// How much to run.
#[derive(Debug, Clone, Copy)]
struct Counts {
    sessions: usize,
    calls: usize,
}

impl Counts {
    const FULL: Self = Self {
        sessions: 64,
        calls: 40,
    };
    const QUICK: Self = Self {
        sessions: 8,
        calls: 8,
    };
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let quick = std::env::args().any(|a| a == "--quick");
    let counts = if quick { Counts::QUICK } else { Counts::FULL };
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;

    // The sandbox gets its own runtime, as it would have in its own process.
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
    let (report, wrong_writes) = report?;

    print!("{report}");
    let path = report_path("bench-load.md");
    std::fs::write(&path, &report).with_context(|| format!("cannot write `{}`", path.display()))?;
    eprintln!("wrote {}", path.display());
    ensure!(
        wrong_writes == 0,
        "{wrong_writes} writes were lost or duplicated (see the report)"
    );
    Ok(())
}

/// What one server under load did.
struct Row {
    label: &'static str,
    report: LoadReport,
    resting_kib: u64,
    peak_kib: u64,
    /// After the first round and after the second.
    after_kib: [u64; 2],
    lost: usize,
    duplicated: usize,
}

async fn run(
    sandbox: &Sandbox,
    dir: &Path,
    counts: Counts,
    started: Instant,
) -> anyhow::Result<(String, usize)> {
    let bitbucket = Client::new(
        ClientConfig::new(sandbox.base_url()).with_auth(Auth::api_token(EMAIL, TOKEN)),
    )?;
    let targets = [
        ("`mcp --http`, 2025-11-25", Front::Direct, Era::Sessions),
        ("`mcp --http`, 2026-07-28", Front::Direct, Era::Stateless),
        ("`router`, 2025-11-25", Front::Router, Era::Sessions),
        ("`router`, 2026-07-28", Front::Router, Era::Stateless),
    ];
    let mut rows = Vec::new();
    for (n, (label, front, era)) in targets.into_iter().enumerate() {
        step(&format!(
            "{label}: {} sessions × {} calls under faults",
            counts.sessions, counts.calls
        ));
        let server = Server::start(sandbox.base_url(), &dir.join(format!("run{n}")), front).await?;
        let plan = |sessions, calls, marker: String| LoadPlan {
            url: server.mcp_url.clone(),
            key: server.key.clone(),
            front,
            sessions,
            era: Some(era),
            calls,
            marker,
        };
        // Warm up without faults: the resting size is the server's once it has served.
        let warm = run_load(&plan(4, 8, format!("bench{n}-warm"))).await;
        ensure!(
            warm.protocol_errors.is_empty(),
            "{:?}",
            warm.protocol_errors
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (resting_kib, _) = memory_kib(server.pid)?;

        // Two rounds: memory kept after the first is the allocator's; a leak would grow again
        // in the second.
        let mut after_kib = [0; 2];
        let mut peak_kib = 0;
        let mut reports = Vec::new();
        let (mut lost, mut duplicated) = (0, 0);
        for (round, after) in after_kib.iter_mut().enumerate() {
            sandbox.set_faults(FAULTS.parse()?);
            let marker = format!("bench{n}-load{round}");
            let report = run_load(&plan(counts.sessions, counts.calls, marker.clone())).await;
            sandbox.set_faults(FaultConfig::default());
            ensure!(
                report.protocol_errors.is_empty(),
                "{label}: {:?}",
                report.protocol_errors
            );
            // Session tasks end a moment after their sessions.
            tokio::time::sleep(Duration::from_secs(1)).await;
            (*after, peak_kib) = memory_kib(server.pid)?;
            let (l, d) = compare_writes(&bitbucket, &marker, &report).await?;
            lost += l;
            duplicated += d;
            reports.push(report);
        }
        server.stop().await;
        let mut report = reports.remove(0);
        for more in reports {
            report.calls.extend(more.calls);
            report.elapsed += more.elapsed;
        }
        rows.push(Row {
            label,
            report,
            resting_kib,
            peak_kib,
            after_kib,
            lost,
            duplicated,
        });
    }
    let wrong_writes = rows.iter().map(|r| r.lost + r.duplicated).sum();
    Ok((render(counts, &rows, started.elapsed()), wrong_writes))
}

/// Writes reported created but missing, and writes stored more than once or without being
/// reported created.
async fn compare_writes(
    bitbucket: &Client,
    marker: &str,
    report: &LoadReport,
) -> anyhow::Result<(usize, usize)> {
    let repo = RepoId::new("acme", "widgets")?;
    let first = bitbucket
        .list_issues(
            &repo,
            &ListParams::new()
                .q(format!("title ~ \"{marker} \""))
                .pagelen(100),
        )
        .await?;
    let stored: Vec<String> = bitbucket
        .paginate(first, 1_000_000)
        .map_ok(|issue| issue.title)
        .try_collect()
        .await?;
    let mut counts = BTreeMap::<String, usize>::new();
    for title in stored {
        *counts.entry(title).or_default() += 1;
    }
    let created = report.created();
    let lost = created.iter().filter(|t| !counts.contains_key(*t)).count();
    let extra: usize = counts
        .iter()
        .map(|(title, n)| if created.contains(title) { n - 1 } else { *n })
        .sum();
    Ok((lost, extra))
}

/// A server under test: `bbagent mcp --http`, or `bbagent router` with one connected user.
struct Server {
    child: tokio::process::Child,
    pid: u32,
    mcp_url: String,
    key: Option<String>,
}

impl Server {
    async fn start(base_url: &str, dir: &Path, front: Front) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        match front {
            Front::Direct => {
                let mut cmd = command(base_url, dir);
                cmd.args(["mcp", "--http", "127.0.0.1:0"]);
                let (child, pid, url) = serve(cmd).await?;
                Ok(Self {
                    child,
                    pid,
                    mcp_url: url,
                    key: None,
                })
            }
            Front::Router => {
                let created = command(base_url, dir)
                    .args(["router", "keys", "create", "--name", "bench"])
                    .args(["--data-dir", "router"])
                    .output()
                    .await?;
                ensure!(created.status.success(), "cannot create a router key");
                let key = String::from_utf8(created.stdout)?.trim().to_owned();
                let connected = command(base_url, dir)
                    .args([
                        "router",
                        "connect",
                        "--data-dir",
                        "router",
                        "--user-id",
                        "u1",
                    ])
                    .args(["--email", EMAIL, "--api-token", TOKEN])
                    .output()
                    .await?;
                ensure!(connected.status.success(), "cannot connect the router user");
                let mut cmd = command(base_url, dir);
                cmd.args(["router", "--listen", "127.0.0.1:0", "--data-dir", "router"]);
                let (child, pid, url) = serve(cmd).await?;
                let session: Value = reqwest::Client::new()
                    .post(format!("{url}/api/v3.1/tool_router/session"))
                    .header("x-api-key", &key)
                    .json(&json!({"user_id": "u1", "toolkits": {"enable": ["bitbucket"]}}))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let mcp_url = session["mcp"]["url"]
                    .as_str()
                    .context("the session has no MCP URL")?
                    .to_owned();
                Ok(Self {
                    child,
                    pid,
                    mcp_url,
                    key: Some(key),
                })
            }
        }
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn render(counts: Counts, rows: &[Row], elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Load with faults\n");
    let _ = writeln!(
        out,
        "Two rounds of {} sessions at once per server, {} calls each (every second call creates \
         an issue; the others read a repository or an issue), while the sandbox injects \
         `{FAULTS}`. Each server is a fresh process; its resting size is measured after a \
         warm-up of 4 sessions without faults, and its size after close once every session of \
         a round has ended (after the first round, then the second: freed memory the allocator \
         keeps shows after the first, a leak would grow again in the second).\n",
        counts.sessions, counts.calls
    );
    let _ = writeln!(
        out,
        "| server, era | calls | calls/s | p50 ms | p99 ms | failed | resting MiB | peak MiB | after close MiB (1st / 2nd round) | writes lost | writes duplicated |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for row in rows {
        let mut latencies: Vec<Duration> = row.report.calls.iter().map(|c| c.latency).collect();
        let calls = latencies.len();
        let failed = row.report.failures().count();
        let _ = writeln!(
            out,
            "| {} | {calls} | {:.0} | {:.1} | {:.1} | {:.1}% | {:.1} | {:.1} | {:.1} / {:.1} | {} | {} |",
            row.label,
            calls as f64 / row.report.elapsed.as_secs_f64(),
            percentile(&mut latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&mut latencies, 0.99).as_secs_f64() * 1e3,
            100.0 * failed as f64 / calls.max(1) as f64,
            mib(row.resting_kib),
            mib(row.peak_kib),
            mib(row.after_kib[0]),
            mib(row.after_kib[1]),
            row.lost,
            row.duplicated,
        );
    }
    let _ = writeln!(
        out,
        "\nA failed call is one whose result says what to do next (wait and try again, or \
         check first: a write that met a 503 is not repeated by the client, since it may have \
         been done). Latency includes the client's retries and their waits (`Retry-After: 1`). \
         Run in {:.1}s. Reproduce: `./scripts/bench` (`--quick` for a smoke run).",
        elapsed.as_secs_f64()
    );
    out
}
