//! `bbagent sandbox`: serve the local Bitbucket sandbox, in the foreground until Ctrl-C, or
//! (`--shared`, started by other commands) for as long as some command leases it.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bitbucket_sandbox::{FaultConfig, Sandbox, SandboxConfig, SandboxError};
use secrecy::SecretString;

use crate::shared_sandbox::{self, Ended, Greeting, LeaseServer};

/// How long a shared sandbox waits for the data folder's lock held by one that is stopping.
const LOCK_WAIT: Duration = Duration::from_secs(15);

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:7990", env = "BBAGENT_SANDBOX_LISTEN")]
    listen: SocketAddr,

    /// Folder for the database and git repositories [default: the platform data folder,
    /// e.g. ~/.local/share/bbagent/sandbox].
    #[arg(
        long,
        env = "BBAGENT_SANDBOX_DIR",
        alias = "sandbox-dir",
        global = true
    )]
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

    /// How long an OAuth access token lives (`2h` as on Bitbucket, `90s`, `30m`); OAuth
    /// clients refresh it with their refresh token.
    #[arg(long, default_value = "2h", value_parser = parse_ttl, value_name = "DURATION")]
    oauth_token_ttl: Duration,

    /// Run pipeline steps for real: each step's `script` lines run with `sh` in a fresh
    /// checkout of the commit, on this machine, as you. Off by default because they are the
    /// repository's own commands; off, a started pipeline completes at once with result ERROR
    /// saying its steps did not run.
    #[arg(long, env = "BBAGENT_SANDBOX_RUN_PIPELINES")]
    run_pipelines: bool,

    /// The longest a pipeline step may run, whatever its `max-time` says (`120m`, `30s`).
    #[arg(long, default_value = "120m", value_parser = parse_step_limit, value_name = "DURATION")]
    step_time_limit: Duration,

    #[command(flatten)]
    connections: super::ConnectionArgs,

    #[command(subcommand)]
    command: Option<SandboxCommand>,

    /// Started by another command for the commands that share this folder: stays while any
    /// of them runs, then `--idle-exit` longer, and leaves quietly if a sandbox already serves
    /// the folder.
    #[arg(long, hide = true)]
    shared: bool,

    /// With `--shared`: how long to stay once no command uses the sandbox (`5s`, `300ms`).
    #[arg(
        long,
        hide = true,
        env = "BBAGENT_SANDBOX_IDLE",
        default_value = "5s",
        value_parser = super::parse_duration
    )]
    idle_exit: Duration,
}

#[derive(Debug, clap::Subcommand)]
enum SandboxCommand {
    /// OAuth consumers (apps that send users to the sandbox's consent page).
    #[command(subcommand)]
    Consumers(ConsumersCommand),
}

#[derive(Debug, clap::Subcommand)]
enum ConsumersCommand {
    /// Add a consumer, owned by demo, and print its client id and secret (the secret only
    /// this once). The sandbox of the data folder must be stopped.
    Create {
        /// A name the consent page shows.
        #[arg(long)]
        name: String,
        /// Where users return after consent; a `redirect_uri` must start with it.
        #[arg(long, value_name = "URL")]
        callback: String,
        /// Scopes it may ask for, space- or comma-separated, e.g. `repository pullrequest:write`.
        #[arg(
            long,
            value_name = "SCOPES",
            default_value = "account repository pullrequest issue"
        )]
        scopes: String,
    },
}

fn parse_ttl(s: &str) -> Result<Duration, String> {
    match super::parse_duration(s)? {
        d if d < Duration::from_secs(1) => {
            Err(format!("`{s}` is too short: tokens live at least 1s"))
        }
        d => Ok(d),
    }
}

fn parse_step_limit(s: &str) -> Result<Duration, String> {
    match super::parse_duration(s)? {
        d if d < Duration::from_secs(1) => {
            Err(format!("`{s}` is too short: a step may run at least 1s"))
        }
        d => Ok(d),
    }
}

async fn consumers(command: ConsumersCommand, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let ConsumersCommand::Create {
        name,
        callback,
        scopes,
    } = command;
    let consumer = bitbucket_sandbox::NewConsumer {
        name,
        callback_url: callback,
        scopes: scopes
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let (client_id, secret) = bitbucket_sandbox::create_consumer(data_dir, &consumer)
        .await
        .map_err(|e| match e {
            SandboxError::Locked { .. } => anyhow::Error::new(e)
                .context("cannot add a consumer while a sandbox serves the folder; stop it first"),
            other => anyhow::Error::new(other).context("cannot add the consumer"),
        })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "client_id:     {client_id}")?;
    writeln!(out, "client_secret: {secret}")?;
    out.flush()?;
    eprintln!("Keep the secret: it is stored hashed and shown only now.");
    Ok(())
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
    if let Some(SandboxCommand::Consumers(command)) = args.command {
        return consumers(command, &data_dir).await;
    }
    let mut config = SandboxConfig::new(&data_dir)
        .with_oauth_token_ttl(args.oauth_token_ttl)
        .with_listen(args.listen)
        .with_reset(args.reset)
        .with_run_pipelines(args.run_pipelines)
        .with_step_time_limit(args.step_time_limit)
        .with_limits(args.connections.limits());
    if let Some(token) = &args.token {
        config = config.with_demo_token(token);
    }
    if let Some(faults) = args.faults {
        config = config.with_faults(faults);
    }
    let sandbox = if args.shared {
        match start_shared(config).await? {
            Some(sandbox) => sandbox,
            None => return Ok(()),
        }
    } else {
        start_foreground(config).await?
    };
    let base = sandbox.base_url().to_owned();
    let token = args
        .token
        .as_deref()
        .unwrap_or(bitbucket_sandbox::DEMO_TOKEN);
    let email = bitbucket_sandbox::DEMO_EMAIL;
    let greeting = Greeting {
        url: base.clone(),
        email: email.to_owned(),
        token: SecretString::from(token.to_owned()),
        pid: std::process::id(),
    };
    let leases = match LeaseServer::bind(&data_dir, &greeting) {
        Ok(leases) => Some(leases),
        Err(e) if !args.shared => {
            // Still a working sandbox for any client; only bbagent commands cannot share it.
            eprintln!("warning: other bbagent commands cannot use this sandbox: {e:#}");
            None
        }
        Err(e) => return Err(e),
    };
    // The first line says "ready": the socket is bound by now.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{base}")?;
    out.flush()?;
    drop(out);
    let seeded = if sandbox.was_seeded() {
        "freshly seeded"
    } else {
        "existing data"
    };
    if args.shared {
        eprintln!(
            "shared sandbox (pid {}) at {base}, data in {} ({seeded}); it stops {}s after the last command leaves",
            std::process::id(),
            data_dir.display(),
            args.idle_exit.as_secs_f64()
        );
        let ended = match leases {
            Some(leases) => {
                leases
                    .serve(Some(args.idle_exit), http_serve::shutdown_signal())
                    .await
            }
            None => Ended::Stopped,
        };
        if ended == Ended::Idle {
            eprintln!("no command uses the sandbox any more; stopping");
        }
    } else {
        // The demo token is public; a token of the user's own is a secret and never printed.
        let (token, whose) = match args.token {
            Some(_) => (
                "$TOKEN",
                "\n  TOKEN: the demo token you set (`--token` or `BBAGENT_SANDBOX_TOKEN`)",
            ),
            None => (token, ""),
        };
        eprintln!(
            "Bitbucket sandbox listening at {base}\n  data:  {} ({seeded})\n  login: {email} / {token} (HTTP Basic), or Bearer {token}{whose}\n  also:  alice@example.com / {alice}, bob@example.com / {bob}\n  try:   curl -u {email}:{token} {base}/user\n  use:   BITBUCKET_BASE_URL={base} BITBUCKET_EMAIL={email} BITBUCKET_API_TOKEN={token}\n  oauth: client id {client_id}, secret {client_secret}, at {site}/site/oauth2/authorize and /site/oauth2/access_token (more: bbagent sandbox consumers create)\nbbagent commands that use the sandbox of this folder use this one.\nPress Ctrl-C to stop.",
            data_dir.display(),
            alice = bitbucket_sandbox::ALICE_TOKEN,
            bob = bitbucket_sandbox::BOB_TOKEN,
            client_id = bitbucket_sandbox::SEED_CLIENT_ID,
            client_secret = bitbucket_sandbox::SEED_CLIENT_SECRET,
            site = base.trim_end_matches("/2.0"),
        );
        match leases {
            Some(leases) => {
                leases.serve(None, http_serve::shutdown_signal()).await;
            }
            None => http_serve::shutdown_signal().await,
        }
        eprintln!("stopping the sandbox");
    }
    sandbox.shutdown().await;
    Ok(())
}

async fn start_foreground(config: SandboxConfig) -> anyhow::Result<Sandbox> {
    let dir = config.data_dir.clone();
    match Sandbox::start(config).await {
        Ok(sandbox) => Ok(sandbox),
        Err(SandboxError::Locked { path }) => {
            // Say which sandbox holds it, when it answers.
            let serving = match shared_sandbox::socket_path(&dir) {
                Ok(socket) => shared_sandbox::connect(&socket).await.ok().flatten(),
                Err(_) => None,
            };
            let err = anyhow::Error::new(SandboxError::Locked { path });
            Err(match serving {
                Some((greeting, _)) => err.context(format!(
                    "a sandbox (pid {}) already serves this folder at {}",
                    greeting.pid, greeting.url
                )),
                None => err.context("cannot start the sandbox"),
            })
        }
        Err(e) => Err(anyhow::Error::new(e).context("cannot start the sandbox")),
    }
}

/// Starts the sandbox for commands that share the folder; `None` when another one serves it.
async fn start_shared(config: SandboxConfig) -> anyhow::Result<Option<Sandbox>> {
    let socket = shared_sandbox::socket_path(&config.data_dir)?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match Sandbox::start(config.clone()).await {
            Ok(sandbox) => return Ok(Some(sandbox)),
            Err(SandboxError::Locked { path }) => {
                // The holder is a sandbox that serves (then the command leases that one), is
                // starting, or is stopping (then the lock is free in a moment).
                if shared_sandbox::connect(&socket).await?.is_some() {
                    tracing::info!("a sandbox already serves `{}`", path.display());
                    return Ok(None);
                }
                if Instant::now() >= deadline {
                    return Err(anyhow::Error::new(SandboxError::Locked { path })
                        .context("cannot start the shared sandbox"));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(anyhow::Error::new(e).context("cannot start the shared sandbox")),
        }
    }
}
