//! A team on the tool router: 200 sandbox users, each with a router session and a connection
//! of their own, make 20 calls each (every second one creates an issue) at once, while the
//! sandbox answers 5% of requests 429 and 5% 503. Run on one router on SQLite, and on one and
//! two routers sharing a PostgreSQL database (each user's calls alternate between the two).
//! For each: calls per second, latency (p50, p99), the share of calls that failed, each
//! instance's memory (resting, peak, after the run), and what the sandbox holds against what
//! the users were told: writes lost, writes duplicated, and writes made with another user's
//! credentials (all three must be 0).
//! Prints a markdown report and writes it to `target/bench-team.md`.
//!
//! The PostgreSQL runs need a server: `./scripts/bench` starts a throwaway one and passes its
//! URL in `BBAGENT_BENCH_POSTGRES`; without it only the SQLite run is made, and the report says
//! so. `-- --quick` is a smoke run with small counts.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use bitbucket_client::{Auth, Client, ClientConfig};
use bitbucket_sandbox::{FaultConfig, NewUser, Sandbox, SandboxConfig};
use futures::StreamExt as _;
use mcp_testkit::load::{LoadReport, TeamPlan, TeamVerdict, judge_team, run_team};
use serde_json::{Value, json};

mod common;

use common::{EMAIL, TOKEN, command, memory_kib, mib, percentile, report_path, serve, step};

const FAULTS: &str = "429=0.05,503=0.05,retry-after=1";
/// The routers share it, as instances behind one load balancer must.
const MASTER_KEY: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";
/// Users connected at once while setting up.
const SETUP_CONCURRENCY: usize = 16;

/// How much to run.
#[derive(Debug, Clone, Copy)]
struct Counts {
    users: usize,
    calls: usize,
}

impl Counts {
    const FULL: Self = Self {
        users: 200,
        calls: 20,
    };
    const QUICK: Self = Self {
        users: 12,
        calls: 4,
    };
}

/// Where the routers of one run keep their state.
#[derive(Debug, Clone)]
enum Storage {
    /// `router.db` in this folder.
    Sqlite(std::path::PathBuf),
    /// This PostgreSQL database.
    Postgres(String),
}

impl Storage {
    fn args(&self) -> [&std::ffi::OsStr; 2] {
        match self {
            Self::Sqlite(dir) => ["--data-dir".as_ref(), dir.as_os_str()],
            Self::Postgres(url) => ["--database".as_ref(), url.as_ref()],
        }
    }
}

fn display_name(user: &str) -> String {
    format!("Load {user}")
}

fn user_name(i: usize) -> String {
    format!("load{i:03}")
}

fn user_token(i: usize) -> String {
    format!("load-token-{i:03}")
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let quick = std::env::args().any(|a| a == "--quick");
    let counts = if quick { Counts::QUICK } else { Counts::FULL };
    let postgres = std::env::var("BBAGENT_BENCH_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty());
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
    server_rt.block_on(async {
        for i in 0..counts.users {
            let user = user_name(i);
            sandbox
                .create_user(
                    &NewUser {
                        display_name: display_name(&user),
                        email: format!("{user}@example.com"),
                        token: user_token(i),
                        username: user,
                    },
                    Some("acme"),
                )
                .await
                .with_context(|| format!("cannot add sandbox user {i}"))?;
        }
        anyhow::Ok(())
    })?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = client_rt.block_on(run(&sandbox, dir.path(), counts, postgres));
    drop(client_rt);
    drop(sandbox);
    drop(server_rt);
    let rows = outcome?;

    let report = render(counts, &rows, started.elapsed());
    print!("{report}");
    let path = report_path("bench-team.md");
    std::fs::write(&path, &report).with_context(|| format!("cannot write `{}`", path.display()))?;
    eprintln!("wrote {}", path.display());
    for row in &rows {
        ensure!(
            row.verdict.is_clean(),
            "{}: the sandbox does not hold what the users were told: {:?}",
            row.label,
            row.verdict
        );
    }
    Ok(())
}

/// What one set-up did.
struct Row {
    label: String,
    report: LoadReport,
    setup: Duration,
    /// Per instance: resting (users connected, before the load), peak and after the run, KiB.
    memory: Vec<[u64; 3]>,
    verdict: TeamVerdict,
}

async fn run(
    sandbox: &Sandbox,
    dir: &Path,
    counts: Counts,
    postgres: Option<String>,
) -> anyhow::Result<Vec<Row>> {
    let bitbucket = Client::new(
        ClientConfig::new(sandbox.base_url()).with_auth(Auth::api_token(EMAIL, TOKEN)),
    )?;
    let mut setups = vec![(
        "1 instance, SQLite".to_owned(),
        1,
        Storage::Sqlite(dir.join("router-sqlite")),
    )];
    if let Some(server) = &postgres {
        for instances in [1, 2] {
            let database = mcp_testkit::postgres::fresh_database(server).await;
            let label = format!(
                "{instances} instance{}, PostgreSQL",
                if instances > 1 { "s" } else { "" }
            );
            setups.push((label, instances, Storage::Postgres(database)));
        }
    } else {
        step("BBAGENT_BENCH_POSTGRES is not set: only the SQLite run (./scripts/bench sets it)");
    }
    let mut rows = Vec::new();
    for (n, (label, instances, storage)) in setups.into_iter().enumerate() {
        step(&format!(
            "{label}: {} users × {} calls under faults",
            counts.users, counts.calls
        ));
        let run_dir = dir.join(format!("run{n}"));
        std::fs::create_dir_all(&run_dir)?;
        let routers = Routers::start(sandbox.base_url(), &run_dir, &storage, instances).await?;

        let setup_started = Instant::now();
        let users = routers.connect_users(counts.users).await?;
        let setup = setup_started.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let resting = routers.memory()?;

        let plan = TeamPlan {
            key: routers.key.clone(),
            users,
            calls: counts.calls,
            marker: format!("team{n}"),
        };
        sandbox.set_faults(FAULTS.parse()?);
        let report = run_team(&plan).await;
        sandbox.set_faults(FaultConfig::default());
        ensure!(
            report.protocol_errors.is_empty(),
            "{label}: {:?}",
            report.protocol_errors
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = routers.memory()?;
        routers.stop().await;
        let verdict = judge_team(&bitbucket, &plan, &report, display_name).await?;
        rows.push(Row {
            label,
            report,
            setup,
            memory: resting
                .iter()
                .zip(&after)
                .map(|(&(rest, _), &(now, peak))| [rest, peak, now])
                .collect(),
            verdict,
        });
    }
    Ok(rows)
}

/// Router processes on one storage, the first one's URL public for all.
struct Routers {
    children: Vec<(tokio::process::Child, u32, String)>,
    key: String,
    http: reqwest::Client,
}

impl Routers {
    async fn start(
        base_url: &str,
        dir: &Path,
        storage: &Storage,
        instances: usize,
    ) -> anyhow::Result<Self> {
        let created = command(base_url, dir)
            .env("BBAGENT_MASTER_KEY", MASTER_KEY)
            .args(["router", "keys", "create", "--name", "bench"])
            .args(storage.args())
            .output()
            .await?;
        ensure!(
            created.status.success(),
            "cannot create a router key: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        let key = String::from_utf8(created.stdout)?.trim().to_owned();
        let mut children: Vec<(tokio::process::Child, u32, String)> = Vec::new();
        for _ in 0..instances {
            let mut cmd = command(base_url, dir);
            cmd.env("BBAGENT_MASTER_KEY", MASTER_KEY)
                // Every user keeps a connection open to each instance.
                .args(["router", "--max-connections", "4096"])
                .args(storage.args());
            match children.first() {
                None => {
                    cmd.args(["--listen", "127.0.0.1:0"]);
                    children.push(serve(cmd).await?);
                }
                // The others print the first one's URL, their public one: they are given a
                // port to be reached at directly.
                Some((_, _, public)) => {
                    let port = std::net::TcpListener::bind("127.0.0.1:0")?
                        .local_addr()?
                        .port();
                    let listen = format!("127.0.0.1:{port}");
                    cmd.args(["--listen", &listen, "--public-url", public]);
                    let (child, pid, _) = serve(cmd).await?;
                    children.push((child, pid, format!("http://{listen}")));
                }
            }
        }
        Ok(Self {
            children,
            key,
            http: reqwest::Client::new(),
        })
    }

    /// Where instance `i` listens.
    fn url(&self, i: usize) -> &str {
        &self.children[i % self.children.len()].2
    }

    /// A session for each user, made on instance `i`, and a connection through an auth link
    /// made on the next instance and completed on the public one; per user, their session's
    /// MCP URL at each instance.
    async fn connect_users(&self, users: usize) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        futures::stream::iter(0..users)
            .map(|i| self.connect_user(i))
            .buffered(SETUP_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    async fn connect_user(&self, i: usize) -> anyhow::Result<(String, Vec<String>)> {
        let user = user_name(i);
        let session = self
            .post(
                i,
                "",
                json!({"user_id": user, "toolkits": {"enable": ["bitbucket"]}}),
            )
            .await?;
        let id = session["session_id"]
            .as_str()
            .context("the session has no id")?
            .to_owned();
        let link = self
            .post(
                i + 1,
                &format!("/{id}/link"),
                json!({"toolkit": "bitbucket"}),
            )
            .await?;
        let link = link["redirect_url"]
            .as_str()
            .context("the link has no URL")?;
        let page = self
            .http
            .post(link)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", self.url(0))
            .body(format!("access_token={}", user_token(i)))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        ensure!(
            page.contains("Connected as"),
            "{user} was not connected: {page}"
        );
        let urls = (0..self.children.len())
            .map(|at| format!("{}/tool_router/{id}/mcp", self.url(at)))
            .collect();
        Ok((user, urls))
    }

    async fn post(&self, instance: usize, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!(
                "{}/api/v3.1/tool_router/session{path}",
                self.url(instance)
            ))
            .header("x-api-key", &self.key)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        ensure!(status.is_success(), "{status} from the router: {text}");
        Ok(serde_json::from_str(&text)?)
    }

    /// `(VmRSS, VmHWM)` of each instance, KiB.
    fn memory(&self) -> anyhow::Result<Vec<(u64, u64)>> {
        self.children
            .iter()
            .map(|(_, pid, _)| memory_kib(*pid))
            .collect()
    }

    async fn stop(self) {
        for (mut child, _, _) in self.children {
            let _ = child.kill().await;
        }
    }
}

fn render(counts: Counts, rows: &[Row], elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# A team on the tool router\n");
    let _ = writeln!(
        out,
        "{} sandbox users, each with a router session and a connection of their own (an API \
         token given through the auth link), make {} calls each, all users at once (every \
         second call creates an issue; the others read the repository or the current user), \
         while the sandbox injects `{FAULTS}`. With two instances on one PostgreSQL database, \
         each user's calls alternate between them, sessions are made on one instance and \
         auth links on the other. Memory is per instance: resting once the users are \
         connected, peak, and after the run.\n",
        counts.users, counts.calls
    );
    let _ = writeln!(
        out,
        "| routers | calls | calls/s | p50 ms | p99 ms | failed | MiB per instance (resting / peak / after) | writes lost | duplicated | with another user's credentials | set-up s |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"
    );
    for row in rows {
        let mut latencies: Vec<Duration> = row.report.calls.iter().map(|c| c.latency).collect();
        let calls = latencies.len();
        let failed = row.report.failures().count();
        let memory = row
            .memory
            .iter()
            .map(|[rest, peak, after]| {
                format!("{:.1} / {:.1} / {:.1}", mib(*rest), mib(*peak), mib(*after))
            })
            .collect::<Vec<_>>()
            .join("; ");
        let _ = writeln!(
            out,
            "| {} | {calls} | {:.0} | {:.1} | {:.1} | {:.1}% | {memory} | {} | {} | {} | {:.1} |",
            row.label,
            calls as f64 / row.report.elapsed.as_secs_f64(),
            percentile(&mut latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&mut latencies, 0.99).as_secs_f64() * 1e3,
            100.0 * failed as f64 / calls.max(1) as f64,
            row.verdict.lost,
            row.verdict.duplicated,
            row.verdict.wrong_user.len(),
            row.setup.as_secs_f64(),
        );
    }
    if rows.len() == 1 {
        let _ = writeln!(
            out,
            "\nNo PostgreSQL server was given (`BBAGENT_BENCH_POSTGRES`), so only one instance \
             on SQLite ran; `./scripts/bench` starts one."
        );
    }
    let _ = writeln!(
        out,
        "\nA failed call is one whose result says what to do next (wait and try again, or \
         check first: a write that met a 503 is not repeated, since it may have been done). \
         Latency includes the router's retries and their waits (`Retry-After: 1`). A write \
         with another user's credentials is an issue whose reporter is not the user whose \
         title it carries. Set-up is the time to make the sessions and connect the users, \
         {SETUP_CONCURRENCY} at a time. Run in {:.1}s. Reproduce: `./scripts/bench` \
         (`--quick` for a smoke run).",
        elapsed.as_secs_f64()
    );
    out
}
