//! Reading a request: words (with their original spelling), quoted spans, and small helpers
//! to look around a word.

/// One word of a request, with quotes taken out and edge punctuation trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// As typed, e.g. `README.md`.
    pub raw: String,
    /// Lower case, e.g. `readme.md`.
    pub lower: String,
    /// The index of the quoted span this word stands for, if it is one.
    pub quote: Option<usize>,
    /// The word ended with `:` (what follows is a title or a body).
    pub colon: bool,
    /// The word ended with `,` or `;` (a new request may follow).
    pub comma: bool,
}

/// A request split into words and quoted spans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utterance {
    pub words: Vec<Word>,
    /// The text of each quoted span, in order.
    pub quotes: Vec<String>,
}

const OPENING: &[(char, char)] = &[
    ('"', '"'),
    ('\u{201c}', '\u{201d}'),
    ('\u{2018}', '\u{2019}'),
    ('`', '`'),
    ('\'', '\''),
];

impl Utterance {
    pub fn parse(text: &str) -> Self {
        // `feature/x -> main` reads as "feature/x into main".
        // `\u{1}` marks quoted spans below, so the request's own control characters go.
        let text = &text
            .replace(|c: char| c.is_control(), " ")
            .replace("->", " into ")
            .replace('\u{2192}', " into ");
        let mut quotes = Vec::new();
        let mut plain = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let opener = OPENING.iter().find(|(open, _)| *open == c);
            // An apostrophe opens a quote only at a word's start ("don't" is a word).
            let at_word_start = i == 0 || !chars[i - 1].is_alphanumeric();
            if let Some(&(_, close)) = opener
                && (c != '\'' || at_word_start)
                && let Some(end) = find_close(&chars, i + 1, close)
            {
                let inner: String = chars[i + 1..end].iter().collect();
                plain.push_str(&format!(" \u{1}{}\u{1} ", quotes.len()));
                quotes.push(inner.trim().to_owned());
                i = end + 1;
                continue;
            }
            plain.push(c);
            i += 1;
        }
        let words = plain
            .split_whitespace()
            .filter_map(|token| {
                if let Some((index, quoted)) = token
                    .strip_prefix('\u{1}')
                    .and_then(|t| t.strip_suffix('\u{1}'))
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|index| Some((index, quotes.get(index)?)))
                {
                    return Some(Word {
                        raw: quoted.clone(),
                        lower: quoted.to_lowercase(),
                        quote: Some(index),
                        colon: false,
                        comma: false,
                    });
                }
                let trimmed = token
                    .trim_start_matches(['(', '[', '{', '<', ',', ';', ':', '!', '?'])
                    .trim_end_matches([
                        ')', ']', '}', '>', ',', ';', ':', '!', '?', '.', '\'', '"',
                    ]);
                // A possessive `'s` goes (`bob's repo`); a contraction stays (`what's`).
                let contraction = matches!(
                    trimmed.to_lowercase().as_str(),
                    "what's"
                        | "that's"
                        | "it's"
                        | "who's"
                        | "where's"
                        | "here's"
                        | "there's"
                        | "let's"
                        | "how's"
                );
                let trimmed = match trimmed.strip_suffix("'s") {
                    Some(owner) if !contraction => owner,
                    _ => trimmed,
                };
                (!trimmed.is_empty()).then(|| Word {
                    raw: trimmed.to_owned(),
                    lower: trimmed.to_lowercase(),
                    quote: None,
                    colon: token.ends_with(':'),
                    comma: token
                        .trim_end_matches(['.', '!', '?'])
                        .ends_with([',', ';']),
                })
            })
            .collect();
        Utterance { words, quotes }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The lower-case word at `i`, or `""` past either end.
    pub fn at(&self, i: isize) -> &str {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.words.get(i))
            .filter(|w| w.quote.is_none())
            .map_or("", |w| w.lower.as_str())
    }

    /// Whether the words starting at `i` are `phrase` (space-separated, lower case).
    pub fn phrase_at(&self, i: usize, phrase: &str) -> bool {
        phrase
            .split(' ')
            .enumerate()
            .all(|(k, part)| self.at((i + k) as isize) == part)
    }

    /// Where `phrase` starts, if it occurs.
    pub fn find(&self, phrase: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.phrase_at(i, phrase))
    }

    pub fn has(&self, phrase: &str) -> bool {
        self.find(phrase).is_some()
    }

    /// The words from `start` on, as typed, up to the end.
    pub fn rest_from(&self, start: usize) -> String {
        self.words[start.min(self.len())..]
            .iter()
            .map(|w| w.raw.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn find_close(chars: &[char], from: usize, close: char) -> Option<usize> {
    let end = (from..chars.len()).find(|&j| chars[j] == close)?;
    if end == from {
        return None;
    }
    // A closing apostrophe must end a word ("it's" inside a quote is not its end).
    if close == '\'' || close == '\u{2019}' {
        let next = chars.get(end + 1);
        if next.is_some_and(|c| c.is_alphanumeric()) {
            return find_close(chars, end + 1, close).or(None);
        }
    }
    Some(end)
}

/// `feature/dark-mode` → `Dark mode`: a branch name read as words.
pub fn humanize(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    let words = last.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name.to_owned(),
    }
}

/// `Add dark mode!` → `add-dark-mode`: words made safe for a branch name.
pub fn slug(text: &str, max_words: usize) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(max_words)
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// A tool result without the data block that marks Bitbucket content as untrusted
/// (`<data id="…" …>` … `</data id="…">`, as the server's instructions describe it): the
/// model reads what is inside as data, and shows people the text itself.
pub fn unmarked(content: &str) -> String {
    let Some(rest) = content.strip_prefix("<data id=\"") else {
        return content.to_owned();
    };
    let Some((id, rest)) = rest.split_once('"') else {
        return content.to_owned();
    };
    let Some((_, body)) = rest.split_once('\n') else {
        return content.to_owned();
    };
    match body.strip_suffix(&format!("\n</data id=\"{id}\">")) {
        Some(body) => body.replace("‹/data", "</data").replace("‹data", "<data"),
        None => content.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        Utterance::parse(text)
            .words
            .into_iter()
            .map(|w| w.raw)
            .collect()
    }

    #[test]
    fn quotes_of_every_kind_are_taken_whole() {
        let cases: &[(&str, &[&str])] = &[
            (
                r#"comment "I can reproduce this" on it"#,
                &["I can reproduce this"],
            ),
            (
                "rename issue 2 to 'Support dark mode'",
                &["Support dark mode"],
            ),
            ("titled \u{201c}Release 1.0\u{201d}", &["Release 1.0"]),
            ("say `hi` and 'bye'", &["hi", "bye"]),
            ("what's the status of bob's PR?", &[]),
            ("comment 'it's fixed' on issue 1", &["it's fixed"]),
            (r#"an "unclosed quote"#, &[]),
            // Control characters are not taken for the quote markers used inside.
            ("comment \u{1}9\u{1} on issue 2", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(Utterance::parse(text).quotes, *expected, "{text}");
        }
    }

    #[test]
    fn words_lose_edge_punctuation_but_keep_names_whole() {
        assert_eq!(
            words("could you branch off develop, and call it feature/export?"),
            [
                "could",
                "you",
                "branch",
                "off",
                "develop",
                "and",
                "call",
                "it",
                "feature/export"
            ]
        );
        assert_eq!(words("show me README.md."), ["show", "me", "README.md"]);
        assert_eq!(words("(see #3)!"), ["see", "#3"]);
        assert_eq!(
            words("what's in bob's repo"),
            ["what's", "in", "bob", "repo"]
        );
    }

    #[test]
    fn phrases_are_found_by_words() {
        let u = Utterance::parse("Who is in workspace acme?");
        assert_eq!(u.find("who is in"), Some(0));
        assert!(u.phrase_at(3, "workspace acme"));
        assert!(!u.has("who am i"));
        assert_eq!(u.at(-1), "");
        assert_eq!(u.at(99), "");
    }

    #[test]
    fn names_become_words_and_words_become_names() {
        assert_eq!(humanize("feature/dark-mode"), "Dark mode");
        assert_eq!(humanize("issue-2-add_dark-mode"), "Issue 2 add dark mode");
        assert_eq!(slug("Add dark mode!", 6), "add-dark-mode");
        assert_eq!(
            slug("Crash when saving settings on Linux boxes", 4),
            "crash-when-saving-settings"
        );
    }
}
