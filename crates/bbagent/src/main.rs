//! The `bbagent` command line: one binary for the sandbox (and, as they land, the chat, the
//! MCP server and the tool router).

mod backend;
mod cmd;
mod render;
mod router_session;
mod session;
mod settings;
mod shared_sandbox;

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::Parser as _;

/// Exit codes: 0 success, 1 a user-facing failure (bad input, unreachable service),
/// 2 a usage error (clap's own), 101 a bug.
const EXIT_FAILURE: u8 = 1;

fn main() -> ExitCode {
    // `.env` fills in settings, as in the reference design; the real environment wins.
    let dotenv = dotenvy::dotenv();
    let cli = cmd::Cli::parse();
    init_tracing(cli.verbose, cli.command.is_conversation());
    if let Err(e) = dotenv
        && !e.not_found()
    {
        tracing::warn!("ignoring `.env`: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = runtime.block_on(cmd::run(cli));
    // A read of stdin (the stdio MCP server's, stopped by a signal) cannot be cancelled and
    // would hold the runtime's shutdown, and so the exit, until the client writes or closes.
    runtime.shutdown_timeout(STOP_BLOCKING_WITHIN);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

/// How long blocking work left running when a command ends may delay the exit.
const STOP_BLOCKING_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

fn report(err: &anyhow::Error) -> ExitCode {
    // A closed stdout (`bbagent ... | head`) is not a failure.
    if err
        .chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
    if let Some(hint) = cmd::hint_for(err) {
        let _ = writeln!(stderr, "hint: {hint}");
    }
    ExitCode::from(EXIT_FAILURE)
}

fn init_tracing(verbose: u8, conversation: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (verbose, conversation) {
        // A conversation reports failures itself, in its own words; library lines (rmcp's
        // "channel closed" when a turn is cancelled, genai's failed requests) would land
        // over the prompt.
        (0, true) => "off,bbagent=warn",
        // genai logs each failed request as an error; the run reports it once, better worded.
        (0, false) => "warn,genai=off",
        (1, _) => "info,bbagent=debug,genai=warn",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("BBAGENT_LOG")
        .or_else(|_| EnvFilter::try_from_env("RUST_LOG"))
        .unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal())
        .try_init();
}
