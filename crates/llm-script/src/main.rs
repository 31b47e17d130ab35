//! `llm-script serve`: the scripted LLM server as a process, for end-to-end tests of a binary
//! (e.g. `bbagent chat` in a pseudo-terminal). Prints its base URL as the first line of stdout,
//! then plays the script until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use llm_script::{Provider, Script, ScriptedLlm, ServerConfig};
use std::io::Write as _;

/// A scripted LLM server speaking the OpenAI or Anthropic streaming wire format.
#[derive(Debug, Parser)]
#[command(name = "llm-script", version)]
enum Cli {
    /// Serve a script until interrupted; the first stdout line is the base URL.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The wire format: `openai` (Chat Completions) or `anthropic` (Messages).
    #[arg(long)]
    provider: Provider,

    /// The script: `{"turns": [{"text": ["Hi"]}, ...]}`.
    #[arg(long, value_name = "FILE")]
    script: PathBuf,

    /// The key clients must send (default: the provider's test key, see `--no-auth`).
    #[arg(long, value_name = "KEY", conflicts_with = "no_auth")]
    api_key: Option<String>,

    /// Accept requests with any key or none.
    #[arg(long)]
    no_auth: bool,

    /// Append every request received, as one JSON line, to this file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,

    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli::Serve(args) = Cli::parse();
    let text = std::fs::read_to_string(&args.script)
        .with_context(|| format!("cannot read the script `{}`", args.script.display()))?;
    let script: Script = serde_json::from_str(&text)
        .with_context(|| format!("the script `{}` is not valid", args.script.display()))?;
    let key = if args.no_auth {
        None
    } else {
        Some(
            args.api_key
                .unwrap_or_else(|| args.provider.default_key().to_owned()),
        )
    };
    let mut config = ServerConfig::new(args.provider)
        .with_api_key(key)
        .with_turns(script.turns);
    if let Some(record) = args.record {
        config = config.with_record_to(record);
    }
    let server = ScriptedLlm::serve_on(args.listen, config)
        .await
        .with_context(|| format!("cannot listen on `{}`", args.listen))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", server.base_url()).context("cannot print the base URL")?;
    stdout.flush().context("cannot print the base URL")?;
    drop(stdout);
    eprintln!(
        "llm-script: serving {} turns as {} at {}",
        server.remaining_turns(),
        args.provider,
        server.base_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}
