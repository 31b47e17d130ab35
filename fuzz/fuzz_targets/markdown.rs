//! The terminal Markdown renderer of `bbagent` (`crates/bbagent/src/render/markdown.rs`,
//! compiled here from bbagent's own source: bbagent is a binary, and the renderer depends on
//! nothing but pulldown-cmark). Any answer, streamed in pieces of any size, renders the same as
//! at once, and nothing in it but our own styles reaches the terminal as a control character.
//!
//! The first byte sets the size of the pieces; the rest is the answer.

#![no_main]

#[path = "../../crates/bbagent/src/render/markdown.rs"]
#[allow(dead_code, reason = "bbagent uses more of the module than this target")]
mod markdown;

use libfuzzer_sys::fuzz_target;
use markdown::MarkdownStream;

fn render(pieces: &[&str]) -> String {
    let mut stream = MarkdownStream::new();
    let mut out = String::new();
    for piece in pieces {
        out.push_str(&stream.push(piece));
    }
    out.push_str(&stream.finish());
    assert!(!stream.is_pending());
    out
}

/// The output without our own SGR sequences (`ESC [ digits m`).
fn without_styles(out: &str) -> String {
    let mut rest = out;
    let mut plain = String::new();
    while let Some(at) = rest.find("\x1b[") {
        plain.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let digits = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == ';')
                .len();
        assert!(
            after[digits..].starts_with('m'),
            "an escape that is not a style: {:?}",
            &rest[at..]
        );
        rest = &after[digits + 1..];
    }
    plain.push_str(rest);
    plain
}

fuzz_target!(|data: &[u8]| {
    let Some((&size, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let whole = render(&[text]);
    let size = usize::from(size % 16) + 1;
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    assert_eq!(render(&pieces), whole, "streamed in pieces of {size} bytes");
    let plain = without_styles(&whole);
    assert!(
        !plain
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "a control character reached the terminal: {plain:?}"
    );
});
