//! How agent events look in a terminal, shared by `ask` and `chat`: progress lines for tools,
//! and the answer's text, as styled Markdown on a terminal or exactly as the model wrote it.

pub mod markdown;

use std::ffi::OsStr;
use std::io::IsTerminal as _;

use agent::AgentEvent;

use self::markdown::MarkdownStream;

/// Whether answers render as styled Markdown: only on a terminal, and not with `--plain`,
/// `NO_COLOR` (set and not empty) or `TERM=dumb`.
pub fn markdown_wanted(
    plain: bool,
    stdout_is_terminal: bool,
    no_color: Option<&OsStr>,
    term: Option<&OsStr>,
) -> bool {
    !plain
        && stdout_is_terminal
        && no_color.is_none_or(OsStr::is_empty)
        && term.is_none_or(|t| t != "dumb")
}

/// [`markdown_wanted`] for this process's stdout and environment.
pub fn markdown_on_stdout(plain: bool) -> bool {
    markdown_wanted(
        plain,
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

/// The answer's text as it streams: what to print for each piece, and what ends it.
#[derive(Debug)]
pub struct AnswerText {
    markdown: Option<MarkdownStream>,
    /// Plain text was printed and its line is not ended yet.
    open_line: bool,
}

impl AnswerText {
    /// Styled Markdown (whole lines as they complete) or the text as it comes.
    pub fn new(markdown: bool) -> Self {
        Self {
            markdown: markdown.then(MarkdownStream::new),
            open_line: false,
        }
    }

    /// What to print for a piece of the answer (empty while a styled line is incomplete).
    pub fn push(&mut self, text: &str) -> String {
        match &mut self.markdown {
            Some(stream) => stream.push(text),
            None => {
                if !text.is_empty() {
                    self.open_line = !text.ends_with('\n');
                }
                text.to_owned()
            }
        }
    }

    /// What to print when the text stops (a tool call, an error, the end): the rest of it
    /// and the end of its line, so the next output starts on a line of its own.
    pub fn end(&mut self) -> String {
        match &mut self.markdown {
            Some(stream) => stream.finish(),
            None if std::mem::take(&mut self.open_line) => "\n".to_owned(),
            None => String::new(),
        }
    }

    /// Text arrived that is not printed yet.
    pub fn is_pending(&self) -> bool {
        self.markdown
            .as_ref()
            .is_some_and(MarkdownStream::is_pending)
    }
}

/// The progress line for a tool call, a tool result or a retry; `None` for other events.
pub fn progress_line(event: &AgentEvent) -> Option<String> {
    match event {
        AgentEvent::ToolCallStarted {
            name, arguments, ..
        } => Some(format!("→ {name} {}", short(&arguments.to_string(), 160))),
        AgentEvent::ToolResult {
            name,
            is_error,
            content,
            ..
        } => {
            let mark = if *is_error { "✗" } else { "✓" };
            Some(format!(
                "{mark} {name}: {}",
                short(content.lines().next().unwrap_or(""), 160)
            ))
        }
        AgentEvent::Retrying {
            attempt,
            delay,
            error,
        } => Some(format!(
            "… retrying the model (attempt {attempt}) in {} ms: {error}",
            delay.as_millis()
        )),
        _ => None,
    }
}

/// `text`, cut to `max` characters with an ellipsis.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_only_on_a_terminal_that_wants_it() {
        let os = |s: &'static str| Some(OsStr::new(s));
        // (plain, terminal, NO_COLOR, TERM) → styled
        let cases = [
            (false, true, None, os("xterm-256color"), true),
            (false, true, None, None, true),
            (false, true, os(""), os("xterm"), true),
            (true, true, None, os("xterm"), false),
            (false, false, None, os("xterm"), false),
            (false, true, os("1"), os("xterm"), false),
            (false, true, None, os("dumb"), false),
        ];
        for (plain, terminal, no_color, term, styled) in cases {
            assert_eq!(
                markdown_wanted(plain, terminal, no_color, term),
                styled,
                "plain={plain} terminal={terminal} NO_COLOR={no_color:?} TERM={term:?}"
            );
        }
    }

    #[test]
    fn plain_text_passes_through_and_ends_its_line() {
        let mut text = AnswerText::new(false);
        assert_eq!(text.push("**Done** "), "**Done** ");
        assert_eq!(text.push("now"), "now");
        assert!(!text.is_pending());
        assert_eq!(text.end(), "\n");
        assert_eq!(text.end(), "", "ended once");
        assert_eq!(text.push("line\n"), "line\n");
        assert_eq!(text.end(), "", "already at a line start");
    }

    #[test]
    fn styled_text_comes_in_whole_lines() {
        let mut text = AnswerText::new(true);
        assert_eq!(text.push("**Done** "), "");
        assert!(text.is_pending());
        assert_eq!(text.push("now\nand"), "\x1b[1mDone\x1b[0m now\n");
        assert_eq!(text.end(), "and\n");
        assert!(!text.is_pending());
    }
}
