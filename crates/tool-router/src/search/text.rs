//! Words out of text: splitting, a light stemmer, and what a raw chunk of a request is (a
//! number, a file path, a value to ignore).

/// One word of a text, lowercased, with what the search needs to know about its form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// The lowercased word as written, e.g. `merged`.
    pub raw: String,
    /// Its stem, e.g. `merg`.
    pub stem: String,
    /// Written as a plural noun (`branches`, `PRs`).
    pub plural: bool,
    /// Written in the past tense or as a past participle (`merged`, `closed`).
    pub past: bool,
    /// A number or an identifier-like value follows it (`issue 4`, `PR #12`).
    pub numbered: bool,
}

/// A request or a description cut into words. Quoted spans are dropped (they are values, not
/// words about the tool); chunks that look like paths or refs (`src/main.rs`, `acme/widgets`)
/// are dropped too, a chunk with a file extension leaving the word `file` behind.
pub(crate) fn words(text: &str) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    for chunk in unquoted(text).split_whitespace() {
        let chunk = chunk.trim_matches(|c: char| {
            matches!(c, ',' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '.')
        });
        if chunk.is_empty() {
            continue;
        }
        let lower = chunk.to_lowercase();
        if is_number(&lower) {
            if let Some(last) = out.last_mut() {
                last.numbered = true;
            }
            continue;
        }
        if lower.contains('/') || lower.contains('.') || lower.contains('`') {
            if has_file_extension(&lower) {
                out.push(word("file"));
            } else if out
                .last()
                .is_some_and(|w| matches!(w.raw.as_str(), "ls" | "browse" | "under" | "dir"))
            {
                // `ls src/components`: a folder.
                out.push(word("directory"));
            } else if lower.starts_with('`') || lower.ends_with('`') {
                // A code span in a description (`state`, `resolved`): its words count.
                for part in split_word(&lower) {
                    out.push(word(&part));
                }
            }
            continue;
        }
        for part in split_word(&lower) {
            out.push(word(&part));
        }
    }
    out
}

/// The words of an UPPER_SNAKE tool name, without trailing version digits (`PIPELINES2`).
/// Compounds of known words are split (`FILEHISTORY` → `file`, `history`).
pub(crate) fn name_words(name: &str) -> Vec<Word> {
    let mut out = Vec::new();
    for part in name.split('_') {
        let part = part
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_lowercase();
        if part.is_empty() {
            continue;
        }
        match super::lexicon::split_compound(&part) {
            Some((a, b)) => {
                out.push(word(a));
                out.push(word(b));
            }
            None => out.push(word(&part)),
        }
    }
    out
}

fn word(raw: &str) -> Word {
    Word {
        raw: raw.to_owned(),
        stem: stem(raw),
        plural: is_plural(raw),
        past: is_past(raw),
        numbered: false,
    }
}

/// Splits on anything that is not a letter or digit, dropping `'s` and joining contractions
/// (`teammate's` → `teammate`, `don't` → `dont`).
fn split_word(lower: &str) -> Vec<String> {
    let cleaned = lower
        .replace("'s ", " ")
        .replace('\u{2019}', "'")
        .trim_end_matches("'s")
        .replace('\'', "");
    cleaned
        .split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty() && !part.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// The text without its quoted spans (`comment "LGTM" on it` → `comment  on it`; single quotes
/// too, when they open a word and close one, so an apostrophe is no quote); an unbalanced
/// quote keeps the rest of the text.
fn unquoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((open, quote)) = opening_quote(rest) {
        let after = &rest[open + quote.len_utf8()..];
        match closing_quote(after, quote) {
            Some((close, close_len)) => {
                out.push_str(&rest[..open]);
                out.push(' ');
                rest = &after[close + close_len..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// The first quote that opens a span: `"`, `“`, or `'` at the start of a word.
fn opening_quote(text: &str) -> Option<(usize, char)> {
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let word_start = previous.is_none_or(|p| p.is_whitespace() || p == '(');
        if c == '"' || c == '\u{201C}' || ((c == '\'' || c == '\u{2018}') && word_start) {
            return Some((at, c));
        }
        previous = Some(c);
    }
    None
}

/// Where the span opened by `quote` closes (a `'` only at the end of a word), and the
/// closing quote's length.
fn closing_quote(text: &str, quote: char) -> Option<(usize, usize)> {
    let closers: &[char] = match quote {
        '"' | '\u{201C}' => &['"', '\u{201D}'],
        _ => &['\'', '\u{2019}'],
    };
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if closers.contains(&c) {
            let word_end = chars.peek().is_none_or(|(_, n)| !n.is_alphanumeric());
            if matches!(quote, '"' | '\u{201C}') || word_end {
                return Some((at, c.len_utf8()));
            }
        }
    }
    None
}

fn is_number(chunk: &str) -> bool {
    let digits = chunk.trim_start_matches('#');
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn has_file_extension(chunk: &str) -> bool {
    let last = chunk.rsplit('/').next().unwrap_or(chunk);
    match last.rsplit_once('.') {
        Some((base, ext)) => {
            base.len() >= 2
                && (1..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && ext.chars().any(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

fn is_plural(word: &str) -> bool {
    // Collective nouns: a history is many commits.
    matches!(word, "history" | "log" | "people") || has_plural_ending(word)
}

fn has_plural_ending(word: &str) -> bool {
    word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
        && !matches!(
            word,
            "does" | "has" | "was" | "yes" | "this" | "its" | "whose"
        )
}

fn is_past(word: &str) -> bool {
    word.len() > 4 && word.ends_with("ed") && !word.ends_with("eed")
}

/// A light stemmer, the same for requests and tool texts: plurals, `-ing`, `-ed` and a final
/// `e` go (`repositories` → `repository`, `creating`/`created`/`create` → `creat`).
pub(crate) fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    if w.len() <= 3 {
        return w;
    }
    if let Some(base) = w.strip_suffix("ies") {
        w = format!("{base}y");
    } else if let Some(base) = w.strip_suffix("ied") {
        w = format!("{base}y");
    } else if w.ends_with("sses")
        || w.ends_with("ches")
        || w.ends_with("shes")
        || w.ends_with("xes")
    {
        w.truncate(w.len() - 2);
    } else if has_plural_ending(&w) {
        w.truncate(w.len() - 1);
    } else {
        let cut = if w.ends_with("ing") && w.len() >= 6 {
            3
        } else if is_past(&w) {
            2
        } else {
            0
        };
        if cut > 0 {
            w.truncate(w.len() - cut);
            let bytes = w.as_bytes();
            let n = bytes.len();
            if n >= 2 && bytes[n - 1] == bytes[n - 2] && !matches!(bytes[n - 1], b'l' | b's' | b'z')
            {
                w.truncate(n - 1);
            }
        }
    }
    if w.len() > 3 && w.ends_with('e') && !w.ends_with("ee") {
        w.truncate(w.len() - 1);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_spans_are_left_out_and_apostrophes_kept() {
        assert_eq!(unquoted(r#"comment "LGTM" on it"#), "comment   on it");
        assert_eq!(
            unquoted("comment 'nit: rename' on line 3"),
            "comment   on line 3"
        );
        assert_eq!(unquoted("what's in alice's repo"), "what's in alice's repo");
        assert_eq!(unquoted("say 'unbalanced"), "say 'unbalanced");
        assert_eq!(unquoted("the ‘smart’ one"), "the   one");
    }

    #[test]
    fn stems_join_forms_of_a_word() {
        let table = [
            ("repositories", "repository"),
            ("repository", "repository"),
            ("branches", "branch"),
            ("create", "creat"),
            ("creating", "creat"),
            ("created", "creat"),
            ("merged", "merg"),
            ("merge", "merg"),
            ("committed", "commit"),
            ("commits", "commit"),
            ("replies", "reply"),
            ("replied", "reply"),
            ("status", "status"),
            ("issues", "issu"),
            ("issue", "issu"),
            ("pull", "pull"),
            ("pass", "pass"),
            ("passed", "pass"),
            ("prs", "prs"),
        ];
        for (word, expected) in table {
            assert_eq!(stem(word), expected, "{word}");
        }
    }

    #[test]
    fn requests_lose_values_and_keep_forms() {
        let got =
            words(r#"Comment "I can reproduce this" on PR #12 in acme/widgets; read src/main.rs"#);
        let raws: Vec<&str> = got.iter().map(|w| w.raw.as_str()).collect();
        assert_eq!(raws, ["comment", "on", "pr", "in", "read", "file"]);
        assert!(got[2].numbered);
        assert!(!got[0].numbered);
        let merged = words("list merged pull-requests");
        assert!(merged[1].past);
        assert!(merged[3].plural);
        assert_eq!(words("a teammate's nickname")[1].raw, "teammate");
    }

    #[test]
    fn tool_names_split_into_words() {
        let raws =
            |name: &str| -> Vec<String> { name_words(name).into_iter().map(|w| w.raw).collect() };
        assert_eq!(
            raws("BITBUCKET_GET_REPOSITORIES_PIPELINES2"),
            ["bitbucket", "get", "repositories", "pipelines"]
        );
        assert_eq!(
            raws("BITBUCKET_GET_REPOSITORIES_FILEHISTORY"),
            ["bitbucket", "get", "repositories", "file", "history"]
        );
        assert_eq!(raws("BITBUCKET_GET_PULL_REQUEST_DIFFSTAT")[4], "diffstat");
    }
}
