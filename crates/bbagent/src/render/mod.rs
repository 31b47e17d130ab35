//! How agent events look in a terminal, shared by `ask` and `chat`: compact lines for tool
//! activity, and the answer's text, as styled Markdown on a terminal or exactly as the model wrote it.

pub mod markdown;
mod transcript;

pub use transcript::transcript;

use std::ffi::OsStr;
use std::io::IsTerminal as _;

use agent::AgentEvent;
use serde_json::Value;

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

/// Tool activity as compact lines for stderr: one line per finished call (what ran, on what,
/// and for a failure why), consecutive successful calls of one tool grouped into one line (a
/// repository named without its workspace is looked up in each workspace), dim on a terminal.
/// The answer carries what the tools returned, so the lines do not repeat it.
#[derive(Debug, Default)]
pub struct ToolLines {
    dim: bool,
    /// Calls started and not finished: id → (name, arguments).
    running: Vec<(String, String, Value)>,
    /// Successful calls of one tool not printed yet: (name, one summary per call).
    group: Option<(String, Vec<String>)>,
}

impl ToolLines {
    /// `dim`: style the lines faint (a terminal that takes colours).
    pub fn new(dim: bool) -> Self {
        Self {
            dim,
            ..Self::default()
        }
    }

    /// What to print for an event: whole lines, or nothing while a group may grow.
    pub fn event(&mut self, event: &AgentEvent) -> String {
        match event {
            AgentEvent::ToolCallStarted {
                id,
                name,
                arguments,
            } => {
                self.running
                    .push((id.clone(), name.clone(), arguments.clone()));
                String::new()
            }
            AgentEvent::ToolResult {
                id,
                name,
                is_error,
                content,
            } => {
                let arguments = match self.running.iter().position(|(i, _, _)| i == id) {
                    Some(at) => self.running.remove(at).2,
                    None => Value::Null,
                };
                let summary = arguments_summary(&arguments);
                if *is_error {
                    let reason = content.lines().next().unwrap_or("").trim();
                    // "`NAME` was not run: …" reads better without the raw name.
                    let reason = reason
                        .strip_prefix(&format!("`{name}` was "))
                        .unwrap_or(reason);
                    let mut text = format!("✗ {}", tool_words(name));
                    if !summary.is_empty() {
                        text.push_str(&format!(" · {summary}"));
                    }
                    text.push_str(&format!(": {}", short(&names_in_words(reason), 200)));
                    return self.flush() + &self.line(&text);
                }
                let mut out = String::new();
                match &mut self.group {
                    Some((group, summaries)) if group == name => summaries.push(summary),
                    _ => {
                        out = self.flush();
                        self.group = Some((name.clone(), vec![summary]));
                    }
                }
                out
            }
            AgentEvent::Retrying {
                attempt,
                delay,
                error,
            } => {
                let text = format!(
                    "… retrying the model (attempt {attempt}) in {} ms: {error}",
                    delay.as_millis()
                );
                self.flush() + &self.line(&text)
            }
            _ => String::new(),
        }
    }

    /// The group held back, as a line (call before other output and at the end of a turn).
    pub fn flush(&mut self) -> String {
        let Some((name, summaries)) = self.group.take() else {
            return String::new();
        };
        let mut text = format!("✓ {}", tool_words(&name));
        if summaries.len() > 1 {
            text.push_str(&format!(" ×{}", summaries.len()));
        }
        let mut distinct: Vec<&str> = Vec::new();
        for summary in summaries.iter().filter(|s| !s.is_empty()) {
            if !distinct.contains(&summary.as_str()) {
                distinct.push(summary);
            }
        }
        if !distinct.is_empty() {
            text.push_str(&format!(" · {}", short(&distinct.join(", "), 120)));
        }
        self.line(&text)
    }

    /// The tool that runs now, for a status line (`list branches · acme/widgets`).
    pub fn running(&self) -> Option<String> {
        let (_, name, arguments) = self.running.last()?;
        Some(short(&call_words(name, arguments), 80))
    }

    fn line(&self, text: &str) -> String {
        if self.dim {
            format!("\x1b[2m{text}\x1b[0m\n")
        } else {
            format!("{text}\n")
        }
    }
}

/// A call in words: `delete repository · acme/website`.
pub fn call_words(name: &str, arguments: &Value) -> String {
    let summary = arguments_summary(arguments);
    if summary.is_empty() {
        tool_words(name)
    } else {
        format!("{} · {summary}", tool_words(name))
    }
}

/// A tool's name in words: `BITBUCKET_CREATE_BRANCH` → `create branch` (the toolkit prefix of a
/// catalogue name dropped), `delete_branch` → `delete branch`.
pub fn tool_words(name: &str) -> String {
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let catalogue_style = words.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let words = if catalogue_style {
        &words[1..]
    } else {
        &words[..]
    };
    words.join(" ").to_lowercase()
}

/// `text` with the catalogue names of tools written as words, for people who never typed
/// them: "(BITBUCKET_LIST_ISSUES lists them)" → "(“list issues” lists them)".
pub fn names_in_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let is_name = word.matches('_').count() >= 2
            && word.starts_with(|c: char| c.is_ascii_uppercase())
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if is_name {
            out.push_str(&format!("“{}”", tool_words(word)));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// What a call worked on, in few words: `acme/widgets · feature/login · #2`. Long texts
/// (bodies, descriptions) are left out.
fn arguments_summary(arguments: &Value) -> String {
    let Some(map) = arguments.as_object() else {
        return String::new();
    };
    let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::trim);
    let mut parts: Vec<String> = Vec::new();
    match (text("workspace"), text("repo_slug")) {
        (Some(w), Some(r)) => parts.push(format!("{w}/{r}")),
        (Some(w), None) => parts.push(w.to_owned()),
        (None, Some(r)) => parts.push(r.to_owned()),
        (None, None) => {}
    }
    for (key, value) in map {
        if matches!(key.as_str(), "workspace" | "repo_slug") {
            continue;
        }
        match value {
            Value::Number(n) if key == "id" || key.ends_with("_id") => parts.push(format!("#{n}")),
            Value::String(s)
                if !s.trim().is_empty()
                    && s.chars().count() <= 40
                    && !s.contains('\n')
                    && !matches!(
                        key.as_str(),
                        "content" | "body" | "description" | "message" | "raw"
                    ) =>
            {
                parts.push(s.trim().to_owned());
            }
            _ => {}
        }
    }
    parts.join(" · ")
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

    fn started(id: &str, name: &str, arguments: Value) -> AgentEvent {
        AgentEvent::ToolCallStarted {
            id: id.into(),
            name: name.into(),
            arguments,
        }
    }

    fn finished(id: &str, name: &str, is_error: bool, content: &str) -> AgentEvent {
        AgentEvent::ToolResult {
            id: id.into(),
            name: name.into(),
            is_error,
            content: content.into(),
        }
    }

    #[test]
    fn a_finished_call_is_one_line_that_does_not_repeat_the_result() {
        let mut lines = ToolLines::new(false);
        let args = serde_json::json!({"workspace": "acme", "repo_slug": "widgets", "name": "feature/x", "target": "main"});
        assert_eq!(
            lines.event(&started("1", "BITBUCKET_CREATE_BRANCH", args)),
            ""
        );
        assert_eq!(
            lines.running().as_deref(),
            Some("create branch · acme/widgets · feature/x · main")
        );
        let done = finished(
            "1",
            "BITBUCKET_CREATE_BRANCH",
            false,
            "Created branch feature/x at 1a2b3c",
        );
        assert_eq!(lines.event(&done), "", "held until something else shows");
        assert_eq!(lines.running(), None);
        assert_eq!(
            lines.flush(),
            "✓ create branch · acme/widgets · feature/x · main\n"
        );
        assert_eq!(lines.flush(), "", "printed once");
    }

    #[test]
    fn lookups_of_one_tool_are_grouped_and_failures_stand_alone() {
        let mut lines = ToolLines::new(false);
        let mut out = String::new();
        for (i, ws) in ["acme", "demo", "acme"].iter().enumerate() {
            let id = i.to_string();
            let args = serde_json::json!({"workspace": ws, "pagelen": 50});
            out += &lines.event(&started(
                &id,
                "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
                args,
            ));
            out += &lines.event(&finished(
                &id,
                "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
                false,
                "3 repositories",
            ));
        }
        let args = serde_json::json!({"workspace": "acme", "repo_slug": "widgets", "title": "Fix", "source_branch": "feature/x"});
        out += &lines.event(&started("9", "BITBUCKET_CREATE_PULL_REQUEST", args));
        out += &lines.event(&finished(
            "9",
            "BITBUCKET_CREATE_PULL_REQUEST",
            true,
            "There are no changes to be pulled\nmore detail",
        ));
        out += &lines.flush();
        assert_eq!(
            out,
            "✓ list repositories in workspace ×3 · acme, demo\n\
             ✗ create pull request · acme/widgets · Fix · feature/x: There are no changes to be pulled\n"
        );
    }

    #[test]
    fn a_refusal_reads_without_the_raw_tool_name() {
        let mut lines = ToolLines::new(true);
        let args = serde_json::json!({"workspace": "acme", "repo_slug": "website"});
        lines.event(&started("1", "BITBUCKET_DELETE_REPOSITORY", args));
        let out = lines.event(&finished(
            "1",
            "BITBUCKET_DELETE_REPOSITORY",
            true,
            "`BITBUCKET_DELETE_REPOSITORY` was not run: no one was asked to approve it (why)",
        ));
        assert_eq!(
            out,
            "\x1b[2m✗ delete repository · acme/website: not run: no one was asked to approve it (why)\x1b[0m\n"
        );
    }

    #[test]
    fn catalogue_names_in_a_message_become_words() {
        for (text, words) in [
            (
                "repository `acme/nope` not found (BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE lists them)",
                "repository `acme/nope` not found (“list repositories in workspace” lists them)",
            ),
            ("`BITBUCKET_GET_BRANCH` failed", "`“get branch”` failed"),
            (
                "HTTP 404 NOT_FOUND and snake_case_words stay",
                "HTTP 404 NOT_FOUND and snake_case_words stay",
            ),
            ("", ""),
        ] {
            assert_eq!(names_in_words(text), words, "{text}");
        }
    }

    #[test]
    fn tool_names_in_words() {
        for (name, words) in [
            ("BITBUCKET_CREATE_BRANCH", "create branch"),
            ("BITBUCKET_GET_CURRENT_USER", "get current user"),
            ("delete_branch", "delete branch"),
            ("get_weather", "get weather"),
            ("PING", "ping"),
        ] {
            assert_eq!(tool_words(name), words, "{name}");
        }
    }
}
