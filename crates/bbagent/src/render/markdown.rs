//! Markdown for a terminal: the model's answer with ANSI styles, rendered line by line as
//! complete lines arrive, so an answer still streams.
//!
//! Blocks are recognised per line (headings, fenced code, lists, quotes, rules, table rows);
//! the text of each line goes through pulldown-cmark for emphasis, code spans and links.
//! Constructs that span lines (emphasis across a line break, setext headings, reference
//! links) stay as the model wrote them, which is still readable Markdown. Control characters
//! in the model's text are dropped, so an answer cannot drive the terminal.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const ITALIC: &str = "\x1b[3m";
const UNDERLINE: &str = "\x1b[4m";
const STRIKE: &str = "\x1b[9m";
const CODE: &str = "\x1b[36m";

/// A streaming renderer: feed it the answer's pieces, print what it returns.
#[derive(Debug, Default)]
pub struct MarkdownStream {
    /// The line being received, not yet rendered.
    partial: String,
    /// The code fence the text is inside, if any.
    fence: Option<Fence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fence {
    marker: char,
    len: usize,
}

impl MarkdownStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a piece of the answer; returns the lines it completed, rendered, each ending in
    /// `\n` (empty while a line is still arriving).
    pub fn push(&mut self, text: &str) -> String {
        self.partial.push_str(text);
        let mut out = String::new();
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            out.push_str(&self.line(line.trim_end_matches(['\n', '\r'])));
            out.push('\n');
        }
        out
    }

    /// The answer is over: renders the line still arriving, if any, and forgets the block
    /// state, so the next answer starts fresh.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.partial);
        let out = if rest.is_empty() {
            String::new()
        } else {
            let mut line = self.line(rest.trim_end_matches('\r'));
            line.push('\n');
            line
        };
        self.fence = None;
        out
    }

    /// Text that arrived but is not shown yet (a line without its end).
    pub fn is_pending(&self) -> bool {
        !self.partial.is_empty()
    }

    fn line(&mut self, raw: &str) -> String {
        let line: String = raw
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect();
        if let Some(fence) = self.fence {
            if closes(fence, &line) {
                self.fence = None;
                return styled(DIM, &line);
            }
            return styled(CODE, &line);
        }
        if let Some(fence) = opening_fence(&line) {
            self.fence = Some(fence);
            return styled(DIM, &line);
        }
        block(&line)
    }
}

/// Renders a whole answer at once.
#[cfg(test)]
pub fn render(markdown: &str) -> String {
    let mut stream = MarkdownStream::new();
    let mut out = stream.push(markdown);
    out.push_str(&stream.finish());
    out
}

/// `text` in one style, reset after.
fn styled(style: &str, text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("{style}{text}{RESET}")
}

/// Splits a line into its leading spaces and tabs, and the rest.
fn indentation(line: &str) -> (&str, &str) {
    let rest = line.trim_start_matches([' ', '\t']);
    (&line[..line.len() - rest.len()], rest)
}

/// One line outside code blocks.
fn block(line: &str) -> String {
    let (indent, rest) = indentation(line);
    if rest.is_empty() {
        return String::new();
    }
    let shallow = indent.len() <= 3 && !indent.contains('\t');
    if shallow {
        if let Some((level, text)) = heading(rest) {
            let base: &[&str] = if level == 1 {
                &[BOLD, UNDERLINE]
            } else {
                &[BOLD]
            };
            return inline(text, base);
        }
        if is_rule(rest) {
            return styled(DIM, &"─".repeat(40));
        }
        if let Some(quoted) = rest.strip_prefix('>') {
            let quoted = quoted.strip_prefix(' ').unwrap_or(quoted);
            return format!("{}{}", styled(DIM, "│ "), block(quoted));
        }
    }
    if let Some((marker, text)) = list_item(rest) {
        return format!("{indent}{marker} {}", inline(text, &[]));
    }
    if rest.starts_with('|') && rest.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
        return styled(DIM, line);
    }
    format!("{indent}{}", inline(rest, &[]))
}

/// `## Title ##` → `(2, "Title")`.
fn heading(text: &str) -> Option<(usize, &str)> {
    let level = text.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &text[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    // An optional closing run of `#`, after a space.
    let without = rest.trim_end_matches('#');
    let title = if without.len() < rest.len() && (without.is_empty() || without.ends_with(' ')) {
        without.trim_end()
    } else {
        rest
    };
    Some((level, title))
}

/// `---`, `***`, `_ _ _`.
fn is_rule(text: &str) -> bool {
    let marks: Vec<char> = text.chars().filter(|c| !matches!(c, ' ' | '\t')).collect();
    marks.len() >= 3 && matches!(marks[0], '-' | '*' | '_') && marks.iter().all(|c| *c == marks[0])
}

/// `- item` → `("•", "item")`; `2. item` → `("2.", "item")`.
fn list_item(text: &str) -> Option<(String, &str)> {
    fn spaced(rest: &str) -> Option<&str> {
        rest.starts_with([' ', '\t']).then(|| rest.trim_start())
    }
    if let Some(rest) = text.strip_prefix(['-', '*', '+']) {
        return spaced(rest).map(|item| ("•".to_owned(), item));
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &text[digits..];
        if let Some(after) = rest.strip_prefix(['.', ')']) {
            return spaced(after).map(|item| (text[..=digits].to_owned(), item));
        }
    }
    None
}

fn opening_fence(line: &str) -> Option<Fence> {
    let (indent, rest) = indentation(line);
    if indent.len() > 3 {
        return None;
    }
    let marker = rest.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = rest.chars().take_while(|c| *c == marker).count();
    if len < 3 {
        return None;
    }
    // A backtick fence's info string cannot hold a backtick (that is a code span).
    if marker == '`' && rest[len..].contains('`') {
        return None;
    }
    Some(Fence { marker, len })
}

fn closes(fence: Fence, line: &str) -> bool {
    let (indent, rest) = indentation(line);
    let len = rest.chars().take_while(|c| *c == fence.marker).count();
    indent.len() <= 3 && len >= fence.len && rest[len..].trim().is_empty()
}

/// Appends `text` without its control characters (tabs stay): the line was cleaned of them,
/// but entities such as `&#27;` decode to them inside pulldown-cmark.
fn push_visible(out: &mut String, text: &str) {
    out.extend(text.chars().filter(|c| !c.is_control() || *c == '\t'));
}

/// The inline Markdown of one line (emphasis, code spans, links) with `base` styles around it.
fn inline(text: &str, base: &[&'static str]) -> String {
    let mut out = String::new();
    let mut styles: Vec<&'static str> = base.to_vec();
    for style in &styles {
        out.push_str(style);
    }
    // Open links: their target and the text seen so far, to show the target after the text.
    let mut links: Vec<(String, String)> = Vec::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut shown = false;
    let restyle = |out: &mut String, styles: &[&str]| {
        out.push_str(RESET);
        for style in styles {
            out.push_str(style);
        }
    };
    for event in Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Emphasis => {
                    styles.push(ITALIC);
                    out.push_str(ITALIC);
                }
                Tag::Strong => {
                    styles.push(BOLD);
                    out.push_str(BOLD);
                }
                Tag::Strikethrough => {
                    styles.push(STRIKE);
                    out.push_str(STRIKE);
                }
                Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                    links.push((dest_url.into_string(), String::new()));
                    styles.push(UNDERLINE);
                    out.push_str(UNDERLINE);
                }
                // Only reachable when a line's text itself looks like a block (a heading
                // titled `1. Intro`); keep its marker rather than lose it.
                Tag::List(start) => lists.push(start),
                Tag::Item => match lists.last_mut() {
                    Some(Some(n)) => {
                        out.push_str(&format!("{n}. "));
                        *n += 1;
                    }
                    _ => out.push_str("• "),
                },
                Tag::BlockQuote(_) => out.push_str("│ "),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                    styles.pop();
                    restyle(&mut out, &styles);
                }
                TagEnd::Link | TagEnd::Image => {
                    styles.pop();
                    restyle(&mut out, &styles);
                    if let Some((url, label)) = links.pop()
                        && !url.is_empty()
                        && url != label
                        && url.strip_prefix("mailto:") != Some(label.as_str())
                    {
                        out.push_str(" (");
                        push_visible(&mut out, &url);
                        out.push(')');
                    }
                }
                TagEnd::List(_) => {
                    lists.pop();
                }
                _ => {}
            },
            Event::Text(t) => {
                for (_, label) in &mut links {
                    label.push_str(&t);
                }
                shown |= !t.trim().is_empty();
                push_visible(&mut out, &t);
            }
            Event::Code(code) => {
                for (_, label) in &mut links {
                    label.push_str(&code);
                }
                shown = true;
                out.push_str(CODE);
                push_visible(&mut out, &code);
                restyle(&mut out, &styles);
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                shown = true;
                push_visible(&mut out, html.trim_end_matches('\n'));
            }
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::Rule => out.push_str(&"─".repeat(40)),
            Event::FootnoteReference(name) => {
                out.push_str("[^");
                push_visible(&mut out, &name);
                out.push(']');
            }
            Event::TaskListMarker(done) => out.push_str(if done { "[x] " } else { "[ ] " }),
            Event::InlineMath(_) | Event::DisplayMath(_) => {}
        }
    }
    if !shown && !text.trim().is_empty() {
        // Nothing came out (a line the parser takes for a link definition): show it as written.
        out = String::new();
        for style in base {
            out.push_str(style);
        }
        out.push_str(text);
    }
    // Ends of inline styles reset already; only the line's own styles are still on.
    if !base.is_empty() {
        out.push_str(RESET);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The styles spelled out, so expectations read as text.
    fn visible(rendered: &str) -> String {
        rendered
            .replace(RESET, "{/}")
            .replace(BOLD, "{b}")
            .replace(DIM, "{dim}")
            .replace(ITALIC, "{i}")
            .replace(UNDERLINE, "{u}")
            .replace(STRIKE, "{s}")
            .replace(CODE, "{code}")
    }

    #[test]
    fn renders_each_construct() {
        let cases = [
            ("plain text", "plain text\n"),
            ("# Title", "{b}{u}Title{/}\n"),
            ("## Section ##", "{b}Section{/}\n"),
            ("#hashtag", "#hashtag\n"),
            ("**bold** and *italic*", "{b}bold{/} and {i}italic{/}\n"),
            ("~~gone~~", "{s}gone{/}\n"),
            ("run `cargo test` now", "run {code}cargo test{/} now\n"),
            (
                "see [PR #5](https://bitbucket.org/acme/widgets/pull-requests/5)",
                "see {u}PR #5{/} (https://bitbucket.org/acme/widgets/pull-requests/5)\n",
            ),
            ("<https://example.com>", "{u}https://example.com{/}\n"),
            ("- first", "• first\n"),
            ("  * nested **item**", "  • nested {b}item{/}\n"),
            ("3. third", "3. third\n"),
            ("> quoted *text*", "{dim}│ {/}quoted {i}text{/}\n"),
            ("---", "{dim}────────────────────────────────────────{/}\n"),
            ("| a | b |", "| a | b |\n"),
            ("|---|:-:|", "{dim}|---|:-:|{/}\n"),
            ("## `src/main.rs`", "{b}{code}src/main.rs{/}{b}{/}\n"),
            ("# 1. Intro", "{b}{u}1. Intro{/}\n"),
            ("[ref]: https://example.com", "[ref]: https://example.com\n"),
            ("2 * 3 * 4", "2 * 3 * 4\n"),
            ("", ""),
            ("\n", "\n"),
            ("a\x1b[31mred\x07", "a[31mred\n"),
        ];
        for (markdown, expected) in cases {
            assert_eq!(visible(&render(markdown)), expected, "for {markdown:?}");
        }
    }

    /// Found by the `markdown` fuzz target: character references such as `&#27;` decode to
    /// control characters inside pulldown-cmark, after the line was cleaned of them.
    #[test]
    fn entities_cannot_smuggle_control_characters() {
        let cases = [
            "##&#\x043;3##",
            "&#27;[31mred &#7;",
            "`&#27;` <b>&#27;</b> <a title=\"&#27;\">",
            "[x](http://a&#27;b) ![y](&#x1b;)",
            "[^&#27;] **&#27;** ~~&#127;~~ &#x9b;",
        ];
        for markdown in cases {
            let rendered = visible(&render(markdown));
            assert!(
                !rendered.chars().any(|c| c.is_control() && c != '\n'),
                "{markdown:?} rendered as {rendered:?}"
            );
        }
        assert_eq!(visible(&render("##&#\x043;3##")), "##3##\n");
    }

    #[test]
    fn code_blocks_are_kept_verbatim() {
        let rendered = render("Run:\n\n```sh\ncargo run -- **not bold**\n```\nDone.");
        assert_eq!(
            visible(&rendered),
            "Run:\n\n{dim}```sh{/}\n{code}cargo run -- **not bold**{/}\n{dim}```{/}\nDone.\n"
        );
        // A longer closing fence closes; a shorter one is code.
        let rendered = render("````\n```\n`````\n# after");
        assert_eq!(
            visible(&rendered),
            "{dim}````{/}\n{code}```{/}\n{dim}`````{/}\n{b}{u}after{/}\n"
        );
    }

    #[test]
    fn streams_line_by_line_whatever_the_pieces() {
        let answer =
            "# Widgets\n\nIt has **two** branches:\n- `main`\n- `develop`\n\n```\nx\n```\nBye";
        let whole = render(answer);
        for size in [1, 2, 3, 5, 8, 13] {
            let mut stream = MarkdownStream::new();
            let mut out = String::new();
            let chars: Vec<char> = answer.chars().collect();
            for piece in chars.chunks(size) {
                let piece: String = piece.iter().collect();
                let rendered = stream.push(&piece);
                // Only whole lines come out.
                assert!(rendered.is_empty() || rendered.ends_with('\n'));
                out.push_str(&rendered);
            }
            assert!(stream.is_pending());
            out.push_str(&stream.finish());
            assert!(!stream.is_pending());
            assert_eq!(out, whole, "in pieces of {size}");
        }
    }

    #[test]
    fn finish_closes_an_open_fence() {
        let mut stream = MarkdownStream::new();
        assert_eq!(visible(&stream.push("```\n")), "{dim}```{/}\n");
        assert_eq!(visible(&stream.finish()), "");
        assert_eq!(visible(&stream.push("# next\n")), "{b}{u}next{/}\n");
    }

    #[test]
    fn windows_line_ends_are_lines_too() {
        assert_eq!(visible(&render("**a**\r\nb\r\n")), "{b}a{/}\nb\n");
    }
}
