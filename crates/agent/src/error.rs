//! The errors of a run, of models, of toolsets and of the history file.

use std::path::PathBuf;
use std::time::Duration;

use crate::history::Inconsistency;
use crate::r#loop::LimitExceeded;

/// Why a run ended without an answer.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Toolset(#[from] ToolsetError),
    #[error(
        "tool `{name}` is offered by two toolsets, `{first}` and `{second}`; narrow one of them"
    )]
    DuplicateTool {
        name: String,
        first: String,
        second: String,
    },
    #[error("the run was cancelled")]
    Cancelled,
}

/// Why a model call failed, in one line a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{service} rejected the key ({status}): check `{key_var}`")]
    Auth {
        service: String,
        status: u16,
        key_var: String,
    },
    #[error("{service} is rate limiting requests (429){}: {message}", retry_hint(*.retry_after))]
    RateLimited {
        service: String,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("the conversation no longer fits the context window of `{model}`: {message}")]
    ContextTooLong { model: String, message: String },
    #[error("{service} failed ({status}): {message}")]
    Server {
        service: String,
        status: u16,
        message: String,
    },
    #[error("{service} refused the request ({status}): {message}")]
    Rejected {
        service: String,
        status: u16,
        message: String,
    },
    #[error("the model server at `{url}` is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{service} broke off the answer: {message}")]
    Interrupted { service: String, message: String },
    #[error("{service} sent an answer that cannot be read: {message}")]
    Protocol { service: String, message: String },
    #[error("model `{model}` failed: {message}")]
    Other { model: String, message: String },
}

fn retry_hint(after: Option<Duration>) -> String {
    match after {
        Some(d) => format!(", retry after {}s", d.as_secs()),
        None => String::new(),
    }
}

impl ModelError {
    /// Whether sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ModelError::RateLimited { .. }
                | ModelError::Server { .. }
                | ModelError::Unreachable { .. }
                | ModelError::Interrupted { .. }
        )
    }

    /// How long the provider asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ModelError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Why a model could not be set up from its spec.
#[derive(Debug, thiserror::Error)]
pub enum ModelSpecError {
    #[error(
        "invalid model `{spec}`: expected `provider:model`, e.g. `openai:gpt-5` or `anthropic:claude-sonnet-4-5`"
    )]
    Syntax { spec: String },
    #[error("unknown model provider `{provider}` in `{spec}`: expected `openai` or `anthropic`")]
    UnknownProvider { spec: String, provider: String },
    #[error("no API key for `{spec}`: set `{key_var}`")]
    MissingKey { spec: String, key_var: String },
    #[error("invalid base URL `{url}` for `{spec}`: {reason}")]
    BaseUrl {
        spec: String,
        url: String,
        reason: String,
    },
    #[error("cannot set up the HTTP client for `{spec}`")]
    Client {
        spec: String,
        #[source]
        source: reqwest::Error,
    },
}

/// Why the tools of a toolset could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ToolsetError {
    #[error("cannot reach the MCP server `{server}`: {message}")]
    Connect { server: String, message: String },
    #[error(
        "the MCP server `{server}` refused the credentials (HTTP {status}): check the headers it is given, e.g. `x-api-key`"
    )]
    Unauthorized { server: String, status: u16 },
    #[error("the MCP server `{server}` did not list its tools: {message}")]
    List { server: String, message: String },
    #[error("cannot start the MCP server `{server}` (`{command}`)")]
    Spawn {
        server: String,
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid header `{name}` for the MCP server `{server}`")]
    Header { server: String, name: String },
}

/// Why a history file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read the conversation `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the conversation `{}` is not a valid history file", path.display())]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the conversation `{}` was written by a newer bbagent (format version {found}, this one reads up to {supported}); upgrade bbagent to continue it",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the conversation `{}` has format version 0, which never existed", path.display())]
    BadVersion { path: PathBuf },
    #[error("the conversation `{}` is damaged", path.display())]
    Inconsistent {
        path: PathBuf,
        #[source]
        source: Inconsistency,
    },
    #[error("cannot save the conversation to `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
