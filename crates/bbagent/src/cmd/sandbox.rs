//! `bbagent sandbox`: serve the local Bitbucket sandbox until Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use bitbucket_sandbox::{FaultConfig, Sandbox, SandboxConfig};

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:7990", env = "BBAGENT_SANDBOX_LISTEN")]
    listen: SocketAddr,

    /// Folder for the database and git repositories [default: the platform data folder,
    /// e.g. ~/.local/share/bbagent/sandbox].
    #[arg(long, env = "BBAGENT_SANDBOX_DIR")]
    data_dir: Option<PathBuf>,

    /// Token for the demo user, replacing `sandbox-token`.
    #[arg(long, env = "BBAGENT_SANDBOX_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// Delete all sandbox data and seed it again.
    #[arg(long)]
    reset: bool,

    /// Inject faults for testing clients, e.g. `429=0.1,503=0.1,500=0.05,slow=0.1,delay=2s,retry-after=1`
    /// (fractions of requests).
    #[arg(long, value_parser = parse_faults)]
    faults: Option<FaultConfig>,
}

fn parse_faults(s: &str) -> Result<FaultConfig, String> {
    s.parse()
        .map_err(|e: bitbucket_sandbox::faults::FaultSpecError| e.to_string())
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => super::default_sandbox_dir()?,
    };
    let mut config = SandboxConfig::new(&data_dir)
        .with_listen(args.listen)
        .with_reset(args.reset);
    if let Some(token) = &args.token {
        config = config.with_demo_token(token);
    }
    if let Some(faults) = args.faults {
        config = config.with_faults(faults);
    }
    let sandbox = Sandbox::start(config)
        .await
        .context("cannot start the sandbox")?;
    let base = sandbox.base_url().to_owned();
    let token = args
        .token
        .as_deref()
        .unwrap_or(bitbucket_sandbox::DEMO_TOKEN);
    let email = bitbucket_sandbox::DEMO_EMAIL;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{base}")?;
    out.flush()?;
    drop(out);
    eprintln!(
        "Bitbucket sandbox listening at {base}\n  data:  {} ({})\n  login: {email} / {token} (HTTP Basic), or Bearer {token}\n  also:  alice@example.com / {alice}, bob@example.com / {bob}\n  try:   curl -u {email}:{token} {base}/user\n  use:   BITBUCKET_BASE_URL={base} BITBUCKET_EMAIL={email} BITBUCKET_API_TOKEN={token}\nPress Ctrl-C to stop.",
        data_dir.display(),
        if sandbox.was_seeded() {
            "freshly seeded"
        } else {
            "existing data"
        },
        alice = bitbucket_sandbox::ALICE_TOKEN,
        bob = bitbucket_sandbox::BOB_TOKEN,
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    eprintln!("stopping the sandbox");
    sandbox.shutdown().await;
    Ok(())
}
