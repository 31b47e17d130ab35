//! A pseudo-terminal for end-to-end tests: the binary runs as in a user's terminal (line
//! editing, styled output, Ctrl-C as a signal), and the test types and reads.
//!
//! Reading waits for text rather than sleeping: [`Pty::expect`] returns as soon as the text
//! appears after what earlier expectations consumed, or fails the test after [`TIMEOUT`] with
//! what the terminal showed. Escape sequences and carriage returns are left out of the text
//! that is matched ([`Pty::raw`] keeps them). The process is killed when the [`Pty`] drops,
//! so a failing test leaves nothing behind.
//!
//! ```text
//! let mut cmd = support::command(dir);
//! cmd.args(["chat", "--model", "local"]);
//! let mut chat = Pty::spawn(&cmd);
//! chat.prompt().await;
//! chat.send_line("fetch the readme").await;
//! chat.expect("Widgets").await;
//! chat.send_line("exit").await;
//! assert!(chat.wait_exit().await.success());
//! ```

use std::io::{Read as _, Write as _};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use tokio::sync::watch;

/// `bbagent chat`'s input prompt, as text: the line editor draws it on a line of its own.
pub const PROMPT: &str = "\n> ";

/// The longest any one wait may take: generous, for a loaded two-core machine.
pub const TIMEOUT: Duration = Duration::from_secs(90);

/// A process on a pseudo-terminal.
pub struct Pty {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn std::io::Write + Send>,
    /// Kept open for the reader; closing it hangs up the terminal.
    _master: Box<dyn MasterPty + Send>,
    output: Arc<Mutex<Vec<u8>>>,
    /// The byte count of `output`; closed when the terminal has no writer left.
    grown: watch::Receiver<usize>,
    /// How much of [`Pty::text`] earlier expectations consumed.
    seen: usize,
}

impl Pty {
    /// Starts `command` (program, arguments, environment changes and folder are taken from it;
    /// its stdio settings are not: the terminal is stdin, stdout and stderr) on a 50×200
    /// terminal with `TERM=xterm-256color` unless the command sets `TERM`.
    pub fn spawn(command: &Command) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 50,
                cols: 200,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut builder = CommandBuilder::new(command.get_program());
        builder.args(command.get_args());
        builder.env("TERM", "xterm-256color");
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => builder.env(key, value),
                None => builder.env_remove(key),
            }
        }
        if let Some(dir) = command.get_current_dir() {
            builder.cwd(dir);
        }
        let child = pair
            .slave
            .spawn_command(builder)
            .expect("spawn on the pseudo-terminal");
        // Only the child holds the terminal's other end now, so reading ends when it exits.
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("terminal reader");
        let writer = pair.master.take_writer().expect("terminal writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (grow, grown) = watch::channel(0);
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Ends at end of file or an error (EIO once the child closed the terminal).
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                let len = {
                    let mut output = sink.lock().unwrap_or_else(PoisonError::into_inner);
                    output.extend_from_slice(&buf[..n]);
                    output.len()
                };
                grow.send_replace(len);
            }
        });
        Self {
            child,
            writer,
            _master: pair.master,
            output,
            grown,
            seen: 0,
        }
    }

    /// Everything the terminal showed, escape sequences included.
    pub fn raw(&self) -> String {
        let output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&output).into_owned()
    }

    /// Everything the terminal showed, as text: no escape sequences, no carriage returns.
    pub fn text(&self) -> String {
        let output = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        visible_text(&output)
    }

    /// Waits until `needle` shows after what earlier expectations consumed; consumes it and
    /// returns the text before it. Fails the test if it does not show within [`TIMEOUT`].
    pub async fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let text = self.text();
            if let Some(at) = text[self.seen..].find(needle) {
                let before = text[self.seen..self.seen + at].to_owned();
                self.seen += at + needle.len();
                return before;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "{needle:?} did not show within {TIMEOUT:?}; after the last match the terminal shows:\n{}",
                    &text[self.seen..]
                );
            }
            let waited = tokio::time::timeout(left, self.grown.changed()).await;
            if let Ok(Err(_closed)) = waited {
                let text = self.text();
                if text[self.seen..].contains(needle) {
                    continue;
                }
                panic!(
                    "the program closed the terminal ({}) before {needle:?} showed; after the last match it shows:\n{}",
                    self.status_line(),
                    &text[self.seen..]
                );
            }
        }
    }

    /// Waits for `bbagent chat`'s input prompt.
    pub async fn prompt(&mut self) {
        self.expect(PROMPT).await;
    }

    /// Types bytes, as they are: `b"\x03"` is Ctrl-C, `b"\x04"` Ctrl-D.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("type on the terminal");
        self.writer.flush().expect("type on the terminal");
    }

    pub fn ctrl_c(&mut self) {
        self.send(b"\x03");
    }

    /// Types `line` and Enter, then waits for its echo, so what is expected next is output
    /// that came after it.
    pub async fn send_line(&mut self, line: &str) {
        self.send(format!("{line}\r").as_bytes());
        self.expect(&format!("{line}\n")).await;
    }

    /// Waits for the process to exit (after `exit`, Ctrl-D, ...); fails the test after
    /// [`TIMEOUT`].
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the program did not exit within {TIMEOUT:?}; the terminal shows:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn status_line(&mut self) -> String {
        match self.child.try_wait() {
            Ok(Some(status)) => format!("exit status {}", status.exit_code()),
            Ok(None) => "still running".to_owned(),
            Err(e) => format!("status unknown: {e}"),
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        // SIGHUP, as when a terminal closes; SIGKILL if that is not enough.
        let _ = self.child.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(pid) = self.child.process_id() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.child.wait();
    }
}

/// The text of terminal output: escape sequences and carriage returns left out, and an
/// incomplete escape sequence or character at the end left for later, so the text of a
/// longer output always starts with the text of a shorter one.
pub fn visible_text(bytes: &[u8]) -> String {
    let valid = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return visible_text(String::from_utf8_lossy(bytes).as_bytes()),
    };
    let mut text = String::with_capacity(valid.len());
    let mut chars = valid.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte.
                Some('[') => {
                    let mut ended = false;
                    for c in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            ended = true;
                            break;
                        }
                    }
                    if !ended {
                        break;
                    }
                }
                // OSC: up to BEL or ESC \.
                Some(']') => {
                    let mut ended = false;
                    while let Some(c) = chars.next() {
                        if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                            ended = true;
                            break;
                        }
                    }
                    if !ended {
                        break;
                    }
                }
                // An intermediate byte (`ESC ( B`) takes one more; anything else is the end.
                Some(' '..='/') => {
                    if chars.next().is_none() {
                        break;
                    }
                }
                Some(_) => {}
                None => break,
            },
            '\r' => {}
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => text.push(c),
        }
    }
    text
}

#[test]
fn visible_text_leaves_out_escapes_and_waits_for_whole_sequences() {
    let raw = "\x1b[?2004h> \x1b[1mhi\x1b(B\x1b[0m\r\n\x1b]0;title\x07ok\x1b[";
    assert_eq!(visible_text(raw.as_bytes()), "> hi\nok");
    let mut bytes = "é".as_bytes().to_vec();
    bytes.truncate(1);
    assert_eq!(visible_text(&bytes), "");
    for cut in 0..=raw.len() {
        let shorter = visible_text(&raw.as_bytes()[..cut]);
        assert!(
            visible_text(raw.as_bytes()).starts_with(&shorter),
            "prefix-stable at {cut}: {shorter:?}"
        );
    }
}
