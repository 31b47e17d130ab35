//! `bbagent tools`: list and call the Bitbucket tools directly, without a model.

use std::io::Write as _;

use anyhow::Context as _;
use bitbucket_toolkit::Toolkit;

use crate::backend::{Backend, BackendArgs};
use crate::settings::WhenUnset;

/// List and call the Bitbucket tools without a model, for scripts and debugging.
#[derive(Debug, clap::Args)]
pub struct ToolsArgs {
    #[command(subcommand)]
    pub command: ToolsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ToolsCommand {
    /// List the tools: name, annotations and what each does.
    ///
    /// The list is the same for every Bitbucket: the backend flags are accepted, as by
    /// `tools call`, and reach nothing.
    List {
        /// Print the whole catalogue as JSON (names, descriptions, arguments, annotations).
        #[arg(long)]
        json: bool,

        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Call one tool and print its result.
    Call {
        /// The tool's name, e.g. `BITBUCKET_GET_PULL_REQUEST`.
        name: String,

        /// The arguments as a JSON object, e.g. `{"workspace":"acme","repo_slug":"widgets","pull_request_id":1}`.
        #[arg(long, default_value = "{}", value_name = "JSON")]
        args: String,

        /// Print the structured result as JSON instead of the compact text.
        #[arg(long)]
        json: bool,

        #[command(flatten)]
        backend: BackendArgs,
    },
}

pub async fn run(args: ToolsArgs) -> anyhow::Result<()> {
    match args.command {
        // Nothing to reach: the catalogue does not depend on which Bitbucket.
        ToolsCommand::List { json, backend: _ } => list(json),
        ToolsCommand::Call {
            name,
            args,
            json,
            backend,
        } => call(&name, &args, json, &backend).await,
    }
}

fn list(json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let infos: Vec<_> = Toolkit::catalogue().iter().map(|t| t.info()).collect();
        serde_json::to_writer_pretty(&mut out, &infos)?;
        writeln!(out)?;
        return Ok(());
    }
    for spec in Toolkit::catalogue() {
        let a = spec.annotations;
        let kind = if a.destructive {
            "destructive"
        } else if a.read_only {
            "read"
        } else {
            "write"
        };
        let summary = spec
            .description
            .split(". ")
            .next()
            .unwrap_or(spec.description);
        writeln!(
            out,
            "{:<42} {:<12} {:<14} {}",
            spec.name,
            kind,
            spec.toolset.as_str(),
            summary.trim_end_matches('.')
        )?;
    }
    Ok(())
}

/// A tool that reported failure: the message is already printed, exit non-zero.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` failed")]
pub struct ToolFailed(pub String);

async fn call(name: &str, raw_args: &str, json: bool, backend: &BackendArgs) -> anyhow::Result<()> {
    let arguments: serde_json::Value = serde_json::from_str(raw_args)
        .with_context(|| format!("`--args` is not valid JSON: {raw_args}"))?;
    if !arguments.is_object() {
        anyhow::bail!("`--args` must be a JSON object, e.g. '{{\"workspace\":\"acme\"}}'");
    }
    if Toolkit::find(name).is_none() {
        // Resolve the name before starting a backend, so a typo fails fast.
        return Err(bitbucket_toolkit::UnknownTool::new(name).into());
    }
    let bitbucket = backend.resolve(WhenUnset::Refuse)?;
    let backend = Backend::connect(&bitbucket).await?;
    let toolkit = Toolkit::new(backend.client.clone());
    let outcome = toolkit.call(name, arguments).await?;
    backend.shutdown().await;
    let mut out = std::io::stdout().lock();
    if json {
        let value = outcome
            .structured
            .clone()
            .unwrap_or(serde_json::Value::Null);
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", outcome.text)?;
    }
    if outcome.is_error {
        return Err(ToolFailed(name.to_owned()).into());
    }
    Ok(())
}
