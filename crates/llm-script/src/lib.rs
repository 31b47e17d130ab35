//! A scripted LLM server for tests: the only thing this project ever fakes is a remote LLM.
//!
//! [`ScriptedLlm`] listens on `127.0.0.1:0` and speaks the real streaming wire format of one
//! provider: OpenAI Chat Completions or Anthropic Messages. Each request pops the next
//! [`Turn`] of the script and streams it (text deltas, tool calls with their arguments split
//! over several chunks, usage, the end marker), or answers with the provider's real error
//! status and body. The server checks the key and the history rules the real APIs enforce
//! (every tool call answered, no stray tool results), and records every request so a test can
//! assert what the model was offered and told.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use llm_script::{Provider, ScriptedLlm, Turn};
//! let llm = ScriptedLlm::start(Provider::OpenAi).await?;
//! llm.push_turn(Turn::text("Creating it.").with_tool_call("CREATE_BRANCH", serde_json::json!({"name": "x"})));
//! llm.push_turn(Turn::text("Done."));
//! // point the client at llm.base_url() with llm.api_key(), run it, then:
//! let requests = llm.requests();
//! # Ok(()) }
//! ```

mod anthropic;
mod openai;
mod record;
mod script;
mod wire;

use std::collections::VecDeque;
use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use record::{Entry, OfferedTool, RecordedRequest, SeenCall};
pub use script::{Failure, Script, ScriptedCall, TokenCounts, Turn};

/// The wire format the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Provider {
    #[serde(rename = "openai")]
    OpenAi,
    #[serde(rename = "anthropic")]
    Anthropic,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::OpenAi, Provider::Anthropic];

    /// The key [`ScriptedLlm::start`] expects.
    pub fn default_key(self) -> &'static str {
        match self {
            Provider::OpenAi => "sk-test-llm-script",
            Provider::Anthropic => "sk-ant-test-llm-script",
        }
    }

    fn id_prefix(self) -> &'static str {
        match self {
            Provider::OpenAi => "call_",
            Provider::Anthropic => "toolu_",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        })
    }
}

/// A provider name that is neither `openai` nor `anthropic`.
#[derive(Debug, thiserror::Error)]
#[error("unknown provider `{0}`: expected `openai` or `anthropic`")]
pub struct UnknownProvider(String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openai" => Ok(Provider::OpenAi),
            "anthropic" => Ok(Provider::Anthropic),
            other => Err(UnknownProvider(other.to_owned())),
        }
    }
}

/// How to start a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub provider: Provider,
    /// The key requests must carry; `None` accepts any key or none.
    pub api_key: Option<String>,
    /// Also append every request, as one JSON line, to this file.
    pub record_to: Option<PathBuf>,
    pub turns: Vec<Turn>,
}

impl ServerConfig {
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            api_key: Some(provider.default_key().to_owned()),
            record_to: None,
            turns: Vec::new(),
        }
    }

    pub fn with_api_key(mut self, key: Option<String>) -> Self {
        self.api_key = key;
        self
    }

    pub fn with_record_to(mut self, path: PathBuf) -> Self {
        self.record_to = Some(path);
        self
    }

    pub fn with_turns(mut self, turns: Vec<Turn>) -> Self {
        self.turns = turns;
        self
    }
}

struct Shared {
    provider: Provider,
    api_key: Option<String>,
    record_to: Option<PathBuf>,
    turns: Mutex<VecDeque<Turn>>,
    requests: Mutex<Vec<RecordedRequest>>,
    seen: watch::Sender<usize>,
    next_id: AtomicUsize,
    abandoned: Arc<AtomicUsize>,
}

/// Locks a mutex, recovering the data if a panicking test thread poisoned it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running scripted server; stops when dropped.
pub struct ScriptedLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedLlm")
            .field("provider", &self.shared.provider)
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for ScriptedLlm {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl ScriptedLlm {
    /// Starts a server for `provider` that expects [`Provider::default_key`].
    pub async fn start(provider: Provider) -> std::io::Result<Self> {
        Self::start_with(ServerConfig::new(provider)).await
    }

    pub async fn start_with(config: ServerConfig) -> std::io::Result<Self> {
        Self::serve_on(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            config,
        )
        .await
    }

    /// Starts on a given address (the binary uses it; tests want port 0).
    pub async fn serve_on(addr: SocketAddr, config: ServerConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (seen, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            provider: config.provider,
            api_key: config.api_key,
            record_to: config.record_to,
            turns: Mutex::new(config.turns.into()),
            requests: Mutex::new(Vec::new()),
            seen,
            next_id: AtomicUsize::new(1),
            abandoned: Arc::new(AtomicUsize::new(0)),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await;
            if let Err(e) = served {
                eprintln!("llm-script: server failed: {e}");
            }
        });
        Ok(Self { addr, shared, stop })
    }

    pub fn provider(&self) -> Provider {
        self.shared.provider
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What a client uses as its base URL, e.g. `http://127.0.0.1:41234/v1`
    /// (`OPENAI_BASE_URL` style; the client appends `/chat/completions` or `/messages`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The key requests must carry, if any.
    pub fn api_key(&self) -> Option<&str> {
        self.shared.api_key.as_deref()
    }

    pub fn push_turn(&self, turn: Turn) {
        lock(&self.shared.turns).push_back(turn);
    }

    pub fn push_turns(&self, turns: impl IntoIterator<Item = Turn>) {
        lock(&self.shared.turns).extend(turns);
    }

    /// Turns not played yet.
    pub fn remaining_turns(&self) -> usize {
        lock(&self.shared.turns).len()
    }

    /// Every request received so far, in order (including refused ones).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Waits until at least `n` requests arrived; returns them.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<RecordedRequest> {
        let mut seen = self.shared.seen.subscribe();
        // The sender lives as long as `self`, so this only ends when `n` is reached.
        let _ = seen.wait_for(|count| *count >= n).await;
        self.requests()
    }

    /// Streams the client closed before their end (a cancelled run drops its connection).
    pub fn abandoned_streams(&self) -> usize {
        self.shared.abandoned.load(Ordering::SeqCst)
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let provider = shared.provider;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&shared, uri.path(), &headers, &body);

    let expected_path = match provider {
        Provider::OpenAi => openai::PATH,
        Provider::Anthropic => anthropic::PATH,
    };
    if uri.path() != expected_path {
        let message = format!(
            "llm-script ({provider}) serves only `POST {expected_path}`, not `{}`",
            uri.path()
        );
        return match provider {
            Provider::OpenAi => openai::error(
                StatusCode::NOT_FOUND,
                &message,
                "invalid_request_error",
                Value::Null,
                Value::Null,
            ),
            Provider::Anthropic => {
                anthropic::error(StatusCode::NOT_FOUND, "not_found_error", &message)
            }
        }
        .into_response();
    }
    if let Some(key) = &shared.api_key {
        let checked = match provider {
            Provider::OpenAi => openai::check_auth(&headers, key),
            Provider::Anthropic => anthropic::check_auth(&headers, key),
        };
        if let Err(reply) = checked {
            return reply.into_response();
        }
    }
    let valid = match provider {
        Provider::OpenAi => openai::validate(&body),
        Provider::Anthropic => anthropic::validate(&headers, &body),
    };
    if let Err(reply) = valid {
        return reply.into_response();
    }

    let next = lock(&shared.turns).pop_front();
    let Some(turn) = next else {
        let count = lock(&shared.requests).len();
        let message = format!("llm-script: the script has no turn left for request #{count}");
        return match provider {
            Provider::OpenAi => openai::error(
                StatusCode::BAD_REQUEST,
                &message,
                "invalid_request_error",
                Value::Null,
                Value::Null,
            ),
            Provider::Anthropic => {
                anthropic::error(StatusCode::BAD_REQUEST, "invalid_request_error", &message)
            }
        }
        .into_response();
    };
    if let Some(failure) = &turn.failure
        && *failure != Failure::MidStream
    {
        return match provider {
            Provider::OpenAi => openai::failure(failure),
            Provider::Anthropic => anthropic::failure(failure),
        }
        .into_response();
    }

    let ids: Vec<String> = turn
        .tool_calls
        .iter()
        .map(|call| {
            call.id.clone().unwrap_or_else(|| {
                let n = shared.next_id.fetch_add(1, Ordering::SeqCst);
                format!("{}{n}", provider.id_prefix())
            })
        })
        .collect();
    let usage = turn.usage.unwrap_or_else(|| estimate_usage(&body, &turn));
    let frames = match provider {
        Provider::OpenAi => openai::frames(&turn, &ids, &body, usage),
        Provider::Anthropic => anthropic::frames(&turn, &ids, &body, usage),
    };
    wire::sse(
        frames,
        wire::Playback {
            delay: Duration::from_millis(turn.chunk_delay_ms),
            stall_after: turn.stall_after,
            abandoned: shared.abandoned.clone(),
        },
    )
}

/// Roughly four bytes per token, as providers' rules of thumb go.
fn estimate_usage(body: &Value, turn: &Turn) -> TokenCounts {
    let output: usize = turn.text.iter().map(String::len).sum::<usize>()
        + turn
            .tool_calls
            .iter()
            .map(|c| c.name.len() + c.arguments.to_string().len())
            .sum::<usize>();
    TokenCounts {
        input: (body.to_string().len() / 4).max(1) as u64,
        output: (output / 4).max(1) as u64,
    }
}

fn record(shared: &Shared, path: &str, headers: &HeaderMap, body: &Value) {
    let request = RecordedRequest {
        provider: shared.provider,
        path: path.to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.clone(),
    };
    if let Some(file) = &shared.record_to {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| {
                writeln!(f, "{}", serde_json::to_string(&request).unwrap_or_default())
            });
        if let Err(e) = appended {
            eprintln!("llm-script: cannot record to `{}`: {e}", file.display());
        }
    }
    let count = {
        let mut requests = lock(&shared.requests);
        requests.push(request);
        requests.len()
    };
    shared.seen.send_replace(count);
}
