//! One sandbox per data folder, shared by every `bbagent` process that wants it.
//!
//! The sandbox that serves a folder listens on a Unix socket there, `sandbox.sock`. A command
//! connects, reads one greeting line (JSON: the base URL, the login to use, the pid) and keeps
//! the connection open for as long as it runs: the connection is its *lease*. The kernel closes
//! it when the process ends, however it ends, so the sandbox counts leases without trusting
//! anyone to say goodbye. When nobody serves the folder, the command starts the same executable
//! as `bbagent sandbox --shared` in its own process group (Ctrl-C in the terminal does not reach
//! it), which exits once it has had no lease for a grace period. Two commands starting one at
//! the same time are settled by the data folder's lock: the loser sees the winner's socket and
//! leaves quietly, and both commands lease the winner.
//!
//! The socket is created owner-only, so other users of the machine cannot lease the sandbox or
//! read the login in its greeting.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

/// The socket in the data folder that leases the sandbox.
pub const SOCKET: &str = "sandbox.sock";
/// Where a started sandbox writes its messages (appended; trimmed when it grows large).
pub const LOG: &str = "sandbox.log";
/// How long a command waits for a sandbox it started.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a greeting may take once connected.
const GREETING_TIMEOUT: Duration = Duration::from_secs(10);
/// A shared sandbox waits at least this long for its first lease (its starter connects at
/// once, but a loaded machine may take a moment).
const FIRST_LEASE_ALLOWANCE: Duration = Duration::from_secs(10);
/// `sun_path` holds 104 bytes on macOS, 108 on Linux, the terminating NUL included.
const MAX_SOCKET_PATH: usize = 103;
const MAX_LOG_BYTES: u64 = 1 << 20;
/// The environment a started sandbox keeps.
const INHERITED: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "BBAGENT_LOG",
    "BBAGENT_SANDBOX_IDLE",
    "BBAGENT_SANDBOX_TOKEN",
];

/// What a sandbox tells each command that leases it.
#[derive(Serialize, Deserialize)]
pub struct Greeting {
    /// The API base URL, e.g. `http://127.0.0.1:41234/2.0`.
    pub url: String,
    pub email: String,
    #[serde(serialize_with = "expose", deserialize_with = "secret")]
    pub token: SecretString,
    pub pid: u32,
}

fn expose<S: serde::Serializer>(token: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(token.expose_secret())
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    String::deserialize(d).map(SecretString::from)
}

impl std::fmt::Debug for Greeting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Greeting")
            .field("url", &self.url)
            .field("email", &self.email)
            .field("token", &"[redacted]")
            .field("pid", &self.pid)
            .finish()
    }
}

/// A command's hold on the sandbox of a folder: the sandbox stays up while this lives.
#[derive(Debug)]
pub struct Lease {
    pub greeting: Greeting,
    /// The data folder, absolute.
    pub dir: PathBuf,
    _connection: UnixStream,
}

/// Leases the sandbox that serves `dir`, starting one when nobody does.
pub async fn lease(dir: &Path) -> anyhow::Result<Lease> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot make the sandbox folder `{}`", dir.display()))?;
    let dir = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot use the sandbox folder `{}`", dir.display()))?;
    let socket = socket_path(&dir)?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(greeting) = connect(&socket).await? {
            let (greeting, connection) = greeting;
            return Ok(Lease {
                greeting,
                dir,
                _connection: connection,
            });
        }
        start(&dir, deadline).await?;
        if Instant::now() >= deadline {
            anyhow::bail!(
                "the sandbox for `{}` did not become reachable in {}s; its log is `{}`",
                dir.display(),
                START_TIMEOUT.as_secs(),
                dir.join(LOG).display()
            );
        }
    }
}

/// The socket's path, refused early when the system cannot bind a path that long.
pub fn socket_path(dir: &Path) -> anyhow::Result<PathBuf> {
    let socket = dir.join(SOCKET);
    anyhow::ensure!(
        socket.as_os_str().len() <= MAX_SOCKET_PATH,
        "the sandbox folder `{}` is too deep for its socket `{SOCKET}` (at most {MAX_SOCKET_PATH} bytes in all); pick a shorter `--sandbox-dir`",
        dir.display()
    );
    Ok(socket)
}

/// The greeting of the sandbox listening on `socket`, and the open connection; `None` when
/// nothing listens there (no socket, a stale one, or a sandbox that is just stopping).
pub async fn connect(socket: &Path) -> anyhow::Result<Option<(Greeting, UnixStream)>> {
    use std::io::ErrorKind;
    let stream = match UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Ok(None);
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot connect to `{}`", socket.display()));
        }
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let read = tokio::time::timeout(GREETING_TIMEOUT, reader.read_line(&mut line))
        .await
        .with_context(|| {
            format!(
                "the sandbox at `{}` did not greet in {}s",
                socket.display(),
                GREETING_TIMEOUT.as_secs()
            )
        })?;
    match read {
        // Closed before greeting: it stopped between our connect and its accept.
        Ok(0) | Err(_) => return Ok(None),
        Ok(_) => {}
    }
    let greeting: Greeting = serde_json::from_str(line.trim_end()).with_context(|| {
        format!(
            "`{}` is not a bbagent sandbox (unexpected greeting)",
            socket.display()
        )
    })?;
    Ok(Some((greeting, reader.into_inner())))
}

/// Starts `bbagent sandbox --shared` for `dir` and waits until it serves, or has left because
/// another sandbox serves the folder.
async fn start(dir: &Path, deadline: Instant) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the bbagent executable")?;
    let log_path = dir.join(LOG);
    let log = open_log(&log_path)
        .with_context(|| format!("cannot open the sandbox log `{}`", log_path.display()))?;
    let mut command = tokio::process::Command::new(exe);
    // Only what a sandbox reads: no model keys or Bitbucket tokens in a process that outlives
    // the command.
    command.env_clear();
    for var in INHERITED {
        if let Some(value) = std::env::var_os(var) {
            command.env(var, value);
        }
    }
    command
        .arg("sandbox")
        .arg("--shared")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        // Its own process group: the terminal's Ctrl-C is for the command, not the sandbox.
        .process_group(0);
    tracing::debug!(dir = %dir.display(), "starting the shared sandbox");
    let mut child = command
        .spawn()
        .context("cannot start the sandbox process")?;
    let stdout = child
        .stdout
        .take()
        .context("the sandbox process has no stdout")?;
    let mut first = String::new();
    let remaining = deadline.saturating_duration_since(Instant::now());
    let read = tokio::time::timeout(remaining, BufReader::new(stdout).read_line(&mut first)).await;
    match read {
        // It serves: the first line is its URL, printed once the socket is bound.
        Ok(Ok(n)) if n > 0 => Ok(()),
        Ok(_) => {
            let status = child
                .wait()
                .await
                .context("cannot wait for the sandbox process")?;
            if status.success() {
                // Another sandbox serves the folder; it left for that one.
                return Ok(());
            }
            Err(anyhow::anyhow!(
                "the sandbox for `{}` did not start ({status}); its log `{}` ends with:\n{}",
                dir.display(),
                log_path.display(),
                log_tail(&log_path)
            ))
        }
        Err(_) => {
            let _ = child.start_kill();
            anyhow::bail!(
                "the sandbox for `{}` did not start in {}s; its log is `{}`",
                dir.display(),
                START_TIMEOUT.as_secs(),
                log_path.display()
            )
        }
    }
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        std::fs::remove_file(path)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// The last lines of the log, indented, for an error message.
fn log_tail(path: &Path) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(2048)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let text = read().unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(6)..];
    if tail.is_empty() {
        return "  (nothing)".to_owned();
    }
    tail.iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The sandbox's side: the socket that hands out leases and counts them.
pub struct LeaseServer {
    listener: UnixListener,
    socket: PathBuf,
    greeting: Arc<String>,
    leases: watch::Sender<usize>,
}

impl LeaseServer {
    /// Binds `dir/sandbox.sock`, replacing a stale one. The caller holds the folder's lock,
    /// so no other sandbox can be listening there.
    pub fn bind(dir: &Path, greeting: &Greeting) -> anyhow::Result<Self> {
        let socket = socket_path(dir)?;
        match std::fs::remove_file(&socket) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot remove the stale `{}`", socket.display()));
            }
        }
        let listener = UnixListener::bind(&socket)
            .with_context(|| format!("cannot listen on `{}`", socket.display()))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict `{}` to its owner", socket.display()))?;
        let mut line = serde_json::to_string(greeting).context("cannot write the greeting")?;
        line.push('\n');
        Ok(Self {
            listener,
            socket,
            greeting: Arc::new(line),
            leases: watch::channel(0).0,
        })
    }

    /// Hands out leases until `stop` resolves or, with `idle` set, until no lease has been
    /// held for that long (for the first lease, at least [`FIRST_LEASE_ALLOWANCE`]). The
    /// socket is removed before returning, so later commands start a new sandbox.
    pub async fn serve(self, idle: Option<Duration>, stop: impl Future<Output = ()>) -> Ended {
        let mut count = self.leases.subscribe();
        let mut first = true;
        tokio::pin!(stop);
        let ended = loop {
            let idle_for = match idle {
                Some(idle) if *count.borrow_and_update() == 0 => Some(if first {
                    idle.max(FIRST_LEASE_ALLOWANCE)
                } else {
                    idle
                }),
                _ => None,
            };
            let idle_timer = async {
                match idle_for {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut stop => break Ended::Stopped,
                () = idle_timer => break Ended::Idle,
                // A lease ended: the timer starts again from now.
                Ok(()) = count.changed() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        first = false;
                        self.hold(stream);
                    }
                    Err(e) => tracing::warn!("cannot accept a lease: {e}"),
                },
            }
        };
        // Gone from the folder first: a command arriving now starts a new sandbox, which waits
        // for this one's lock.
        let _ = std::fs::remove_file(&self.socket);
        ended
    }

    /// Greets `stream` and counts it as a lease until the other side closes it.
    fn hold(&self, mut stream: UnixStream) {
        let leases = self.leases.clone();
        let greeting = self.greeting.clone();
        leases.send_modify(|n| *n += 1);
        tokio::spawn(async move {
            if stream.write_all(greeting.as_bytes()).await.is_ok() {
                // Leaseholders never write; anything read is ignored until the end.
                let mut buf = [0u8; 64];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            }
            leases.send_modify(|n| *n = n.saturating_sub(1));
        });
    }
}

/// Why [`LeaseServer::serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Stopped,
    Idle,
}
