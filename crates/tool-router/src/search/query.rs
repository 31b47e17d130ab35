//! Reading a use case: what it asks to do (the action), the thing it acts on (the target, as
//! against things named as context: "from my branch", "on issue 4"), whether it wants one thing
//! or many, and every meaningful word as a weighted concept.

use std::sync::OnceLock;

use super::lexicon::{self, Action, PHRASES};
use super::text::{Word, stem, words};

/// A word or phrase of a request, with its concepts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub word: Word,
    pub concepts: Vec<(String, f32)>,
    /// The action a phrase stands for ("get rid of").
    pub phrase_action: Option<Action>,
}

/// What a request says, ready for scoring.
#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    pub action: Option<Action>,
    /// How sure the action is (1.0: an imperative verb; less: a question word).
    pub action_strength: f32,
    /// Concepts of the thing acted on.
    pub target: Vec<(String, f32)>,
    /// Concepts of the other things named.
    pub context: Vec<(String, f32)>,
    /// Every meaningful concept, with its weight in the request (the highest if repeated).
    pub terms: Vec<(String, f32)>,
    /// Asks for many things: a plural, "all", "which", or a state ("merged", "open").
    pub wants_many: bool,
    /// Asks for one numbered or named thing.
    pub wants_one: bool,
}

/// Tokens of a text, phrases joined (`pull request` → `pr`).
pub(crate) fn tokens(text: &str) -> Vec<Token> {
    from_words(words(text))
}

pub(crate) fn from_words(words: Vec<Word>) -> Vec<Token> {
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for ((phrase, concepts, action), stems) in PHRASES.iter().zip(phrase_stems()) {
            let n = phrase.len();
            if i + n <= words.len()
                && phrase
                    .iter()
                    .zip(stems)
                    .zip(&words[i..i + n])
                    .all(|((p, s), w)| w.raw == *p || (w.stem == *s && !w.past))
            {
                let last = &words[i + n - 1];
                let mut word = last.clone();
                word.raw = phrase.join(" ");
                out.push(Token {
                    word,
                    concepts: concepts
                        .iter()
                        .map(|(c, w)| ((*c).to_owned(), *w))
                        .collect(),
                    phrase_action: action
                        .and_then(|verb| lexicon::verb_of(verb, None))
                        .map(|verb| verb.action),
                });
                i += n;
                continue 'outer;
            }
        }
        let word = words[i].clone();
        let concepts = lexicon::concepts(&word.raw, &word.stem);
        out.push(Token {
            word,
            concepts,
            phrase_action: None,
        });
        i += 1;
    }
    out
}

/// Reads a request. `is_object` says whether a concept names a kind of thing some tool acts
/// on (it comes from the catalogue, so new tools bring their own nouns).
pub(crate) fn analyze(text: &str, is_object: &dyn Fn(&str) -> bool) -> Analysis {
    let tokens = tokens(text);
    let raw = |i: usize| tokens.get(i).map(|t| t.word.raw.as_str());

    // The action: the strongest verb, the earliest among equals.
    // A weak synonym ("my" for the current user) does not name a thing.
    // A past participle ("merged", "reported") is a state or a verb, unless the vocabulary
    // says it names a thing ("pushed": commits).
    let names_thing = |t: &Token| {
        t.concepts
            .first()
            .is_some_and(|(c, w)| *w >= 0.5 && is_object(c) && (!t.word.past || *c != t.word.stem))
    };
    let mut action: Option<(usize, Action, f32)> = None;
    let mut question = false;
    let mut action_thing: Option<&'static str> = None;
    // "every repo", "all tickets": many, whatever the verb.
    let mut state_word = tokens.iter().any(|t| {
        matches!(
            t.word.raw.as_str(),
            "all" | "every" | "each" | "everyone" | "everybody"
        )
    });
    for (i, token) in tokens.iter().enumerate() {
        let verb = if let Some(act) = &token.phrase_action {
            Some(lexicon::Verb {
                action: act.clone(),
                strength: 1.0,
                clause_start: false,
                thing: None,
            })
        } else if let Some(verb) = token
            .word
            .past
            .then(|| lexicon::verb_of(&token.word.raw, raw(i + 1)))
            .flatten()
        {
            Some(verb)
        } else if token.word.past {
            // "merged pull requests": a state, not an order; "when was it updated" neither.
            let next_names_thing = tokens.get(i + 1).is_some_and(|t| {
                t.concepts
                    .first()
                    .is_some_and(|(c, w)| *w >= 0.5 && is_object(c))
            });
            state_word |= next_names_thing;
            None
        } else if let Some(verb) = open_to_read(&tokens, i, &names_thing) {
            Some(verb)
        } else if token.word.raw == "let"
            && !matches!(raw(i + 1), Some("me" | "us"))
            && tokens[i..].iter().any(|t| t.word.raw == "know")
        {
            // "let the reporter know": tell them.
            Some(lexicon::Verb {
                action: Action::Create,
                strength: 1.0,
                clause_start: false,
                thing: Some("comment"),
            })
        } else {
            let next = tokens.get(i + 1).map(|t| {
                if t.word.plural {
                    "" // "open PRs" is a state, not "open a PR"
                } else {
                    t.word.raw.as_str()
                }
            });
            lexicon::verb_of(&token.word.raw, next)
        };
        let Some(verb) = verb else {
            state_word |= token.word.raw == "open";
            continue;
        };
        if verb.clause_start && i > 0 && !raw(i - 1).is_some_and(lexicon::opens_clause) {
            if token.word.raw == "open" {
                state_word = true;
            }
            continue;
        }
        // "find a name to add as reviewer": a verb after `to` says what for, when a verb came
        // before it.
        // In a question ("who can I assign this to"), later verbs are not orders.
        let strength = if action.is_some() && i > 0 && raw(i - 1) == Some("to") || question {
            verb.strength * 0.6
        } else {
            verb.strength
        };
        if i == 0 && is_question_word(&token.word.raw) {
            question = true;
        }
        if action.as_ref().is_none_or(|(_, _, best)| strength > *best) {
            action = Some((i, verb.action, strength));
            action_thing = verb.thing;
        }
    }

    // A token names a thing when its first concept is a kind of thing; a verb that is also a
    // thing ("comment", "reply") names one too.
    let action_at = action.as_ref().map(|(i, _, _)| *i);
    let nounish = |i: usize, t: &Token| {
        let w = t.word.raw.as_str();
        if lexicon::is_stopword(w) || (t.phrase_action.is_some() && t.concepts.is_empty()) {
            return false;
        }
        Some(i) != action_at && !lexicon::is_generic_verb(w)
    };

    // Noun runs ("the release tags"): the last thing in a run is its head.
    struct Run {
        start: usize,
        head: Option<usize>,
        after_preposition: bool,
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !nounish(i, &tokens[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut head = None;
        while i < tokens.len() && nounish(i, &tokens[i]) {
            // "repo notes", "branch hotfix": after a kind of thing, a word that only stands
            // in for another thing ("notes" for comments) is that thing's name.
            let kind_before = i > start
                && tokens[i - 1].concepts.first().is_some_and(|(c, _)| {
                    matches!(
                        c.as_str(),
                        "repository" | "branch" | "tag" | "workspace" | "project" | "snippet"
                    )
                });
            let stands_in = tokens[i]
                .concepts
                .first()
                .is_some_and(|(c, _)| *c != tokens[i].word.stem);
            if names_thing(&tokens[i]) && !(kind_before && stands_in) {
                head = Some(i);
            }
            i += 1;
        }
        // After a preposition ("from my branch"), or a possessive pointing back ("its
        // status"), a noun is context, not the thing acted on.
        let after_preposition = start > 0
            && matches!(tokens[start - 1].word.raw.as_str(), "its" | "their")
            || tokens[..start]
                .iter()
                .rev()
                .find(|t| !is_determiner(&t.word.raw))
                .is_some_and(|t| lexicon::is_preposition(&t.word.raw));
        runs.push(Run {
            start,
            head,
            after_preposition,
        });
    }
    // The thing after the verb; else the verb itself when it names one ("comment on issue 4",
    // "reply to the bug"); else the first thing not named as context; else any thing. What is
    // created is new: "submit my branch for review" creates a review, not "my branch".
    let from = action_at.unwrap_or(0);
    let creates = matches!(action, Some((_, Action::Create, _)));
    let existing = |r: &Run| {
        let possessive = |i: usize| {
            matches!(
                tokens[i].word.raw.as_str(),
                "my" | "our" | "your" | "their" | "existing"
            )
        };
        creates && (possessive(r.start) || (r.start > 0 && possessive(r.start - 1)))
    };
    // "which branch does PR 9 merge into": PR 9 is looked at; the branch is what is asked of it.
    let starts: Vec<(usize, Option<usize>)> = runs.iter().map(|r| (r.start, r.head)).collect();
    let subject = question_subject(&tokens, &starts);
    let phrase_thing =
        action_at.filter(|i| tokens[*i].phrase_action.is_some() && names_thing(&tokens[*i]));
    let target = subject
        .or(phrase_thing)
        .or_else(|| {
            runs.iter()
                .find(|r| {
                    r.head.is_some() && !r.after_preposition && r.start >= from && !existing(r)
                })
                .and_then(|r| r.head)
        })
        // The verb's own thing, marked as lying past the tokens.
        .or_else(|| action_thing.map(|_| usize::MAX))
        .or_else(|| {
            runs.iter()
                .find(|r| creates && r.head.is_some() && r.start >= from && !existing(r))
                .and_then(|r| r.head)
        })
        .or_else(|| {
            runs.iter()
                .find(|r| r.head.is_some() && !r.after_preposition)
                .or_else(|| runs.iter().find(|r| r.head.is_some()))
                .and_then(|r| r.head)
        });

    let mut analysis = Analysis {
        action_strength: action.as_ref().map_or(0.0, |(_, _, s)| *s),
        action: action.map(|(_, a, _)| a),
        ..Analysis::default()
    };
    // "which commit does the develop branch point at" asks about one branch.
    if subject.is_some_and(|i| !tokens[i].word.plural) && analysis.action == Some(Action::List) {
        analysis.action = Some(Action::Get);
    }
    for (i, token) in tokens.iter().enumerate() {
        let w = token.word.raw.as_str();
        if lexicon::is_stopword(w) || lexicon::is_generic_verb(w) {
            continue;
        }
        let weight = if Some(i) == target {
            1.0
        } else if names_thing(token) {
            0.6
        } else {
            0.4
        };
        for (concept, w) in &token.concepts {
            add(&mut analysis.terms, concept, weight * w);
            if Some(i) == target {
                add(&mut analysis.target, concept, *w);
            } else if names_thing(token) && is_object(concept) {
                add(&mut analysis.context, concept, *w);
            }
        }
    }
    if let (Some(thing), Some(usize::MAX)) = (action_thing, target) {
        add(&mut analysis.target, thing, 1.0);
        add(&mut analysis.terms, thing, 1.0);
    }
    // "which files does PR 1 change": the files a change touches are what a diff lists (not
    // "change README.md", where the change is the action).
    let at = |words: &[&str]| {
        tokens
            .iter()
            .position(|t| words.contains(&t.word.raw.as_str()))
    };
    let files_at = at(&["files"]);
    let change_at = at(&[
        "change", "changes", "changed", "touch", "touches", "touched", "modify", "modifies",
        "modified",
    ]);
    if let (Some(files), Some(change)) = (files_at, change_at)
        && files < change
        && action_at != Some(change)
    {
        add(&mut analysis.target, "diff", 1.0);
        add(&mut analysis.terms, "diff", 1.0);
        if analysis.action == Some(Action::Update) {
            analysis.action = Some(Action::Get);
        }
    }
    let target_token = target.and_then(|i| tokens.get(i));
    let numbered = target_token.is_some_and(|t| t.word.numbered);
    let plural = target_token.is_some_and(|t| t.word.plural);
    let explicit_list =
        matches!(analysis.action, Some(Action::List)) && analysis.action_strength >= 0.6;
    analysis.wants_one = numbered
        || (matches!(analysis.action, Some(Action::Get))
            && analysis.action_strength >= 1.0
            && target_token.is_some_and(|t| !t.word.plural));
    analysis.wants_many = !numbered && (plural || explicit_list || state_word);
    if analysis.wants_many {
        analysis.wants_one = false;
        // "show the open PRs": showing many is listing.
        if analysis.action == Some(Action::Get) {
            analysis.action = Some(Action::List);
        }
    }
    analysis
}

/// The stems of each phrase's words, computed once.
fn phrase_stems() -> &'static [Vec<String>] {
    static STEMS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    STEMS.get_or_init(|| {
        PHRASES
            .iter()
            .map(|(words, _, _)| words.iter().map(|w| stem(w)).collect())
            .collect()
    })
}

/// "open snippet kypj", "open PR 4": opening one named thing at the start of a clause reads
/// it ("open a PR" and "open PRs" are left to the vocabulary).
fn open_to_read(
    tokens: &[Token],
    i: usize,
    names_thing: &dyn Fn(&Token) -> bool,
) -> Option<lexicon::Verb> {
    if tokens[i].word.raw != "open" || (i > 0 && !lexicon::opens_clause(&tokens[i - 1].word.raw)) {
        return None;
    }
    let next = tokens.get(i + 1)?;
    let creatable = lexicon::verb_of("open", Some(&next.word.raw)).is_some();
    let reads = names_thing(next) && !next.word.plural && (next.word.numbered || !creatable);
    reads.then_some(lexicon::Verb {
        action: Action::Get,
        strength: 1.0,
        clause_start: true,
        thing: None,
    })
}

/// In "which X does Y ...", the head of Y, when Y names a thing.
fn question_subject(tokens: &[Token], runs: &[(usize, Option<usize>)]) -> Option<usize> {
    let first = tokens.first()?;
    if !matches!(first.word.raw.as_str(), "which" | "what") {
        return None;
    }
    let (asked_start, _) = runs.first().filter(|(start, _)| *start == 1)?;
    let aux = tokens
        .iter()
        .enumerate()
        .skip(asked_start + 1)
        .find(|(_, t)| {
            matches!(
                t.word.raw.as_str(),
                "does" | "do" | "did" | "is" | "are" | "was" | "were" | "has" | "have"
            )
        })
        .map(|(i, _)| i)?;
    let (start, head) = runs
        .iter()
        .find(|(start, _)| *start > aux)
        .filter(|(start, _)| {
            tokens[aux + 1..*start]
                .iter()
                .all(|t| is_determiner(&t.word.raw))
        })?;
    // "which repos does the team have": what Y has is listed, so X stays the target.
    let owns = tokens[*start..].iter().any(|t| {
        matches!(
            t.word.raw.as_str(),
            "have"
                | "has"
                | "own"
                | "owns"
                | "contain"
                | "contains"
                | "hold"
                | "holds"
                | "include"
                | "includes"
        )
    });
    if owns { None } else { *head }
}

fn is_question_word(word: &str) -> bool {
    matches!(
        word,
        "who"
            | "what"
            | "which"
            | "whose"
            | "when"
            | "where"
            | "how"
            | "why"
            | "who can"
            | "who should"
    )
}

fn add(list: &mut Vec<(String, f32)>, concept: &str, weight: f32) {
    match list.iter_mut().find(|(c, _)| c == concept) {
        Some((_, w)) => *w = w.max(weight),
        None => list.push((concept.to_owned(), weight)),
    }
}

fn is_determiner(word: &str) -> bool {
    matches!(
        word,
        "a" | "an"
            | "the"
            | "my"
            | "our"
            | "your"
            | "their"
            | "its"
            | "this"
            | "that"
            | "these"
            | "those"
            | "some"
            | "every"
            | "all"
            | "latest"
            | "last"
            | "newest"
            | "oldest"
            | "first"
            | "new"
            | "open"
            | "current"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(concept: &str) -> bool {
        matches!(
            concept,
            "pr" | "issue"
                | "branch"
                | "comment"
                | "repository"
                | "tag"
                | "file"
                | "path"
                | "member"
                | "user"
                | "commit"
                | "workspace"
        )
    }

    fn first_target(text: &str) -> Option<String> {
        analyze(text, &object)
            .target
            .first()
            .map(|(c, _)| c.clone())
    }

    #[test]
    fn the_target_is_what_is_acted_on_not_the_context() {
        let table = [
            ("open a pull request from my feature branch into main", "pr"),
            ("create a new branch off main in a repository", "branch"),
            ("comment on the latest open issue", "comment"),
            ("reply to a bug report with a note", "comment"),
            ("get details of pull request #12", "pr"),
            ("show the release tags of a repo", "tag"),
            ("change the priority of an issue to critical", "issue"),
            ("who am I logged in as", "user"),
        ];
        for (text, target) in table {
            assert_eq!(first_target(text).as_deref(), Some(target), "{text}");
        }
    }

    #[test]
    fn actions_read_verbs_in_their_place() {
        let table = [
            ("open a PR for review", Some(Action::Create)),
            ("which pull requests are still open", Some(Action::List)),
            ("comment on the latest open issue", Some(Action::Create)),
            ("list merged pull requests", Some(Action::List)),
            ("get rid of issue 3", Some(Action::Delete)),
            ("close issue 4 as resolved", Some(Action::Update)),
            ("LGTM PR 4", Some(Action::Other("approv".into()))),
            ("file a new bug report", Some(Action::Create)),
            ("what changed recently on main", Some(Action::List)),
        ];
        for (text, action) in table {
            assert_eq!(analyze(text, &object).action, action, "{text}");
        }
    }

    #[test]
    fn one_or_many() {
        let a = analyze("get details of pull request #12", &object);
        assert!(a.wants_one && !a.wants_many);
        let a = analyze("which pull requests are still open", &object);
        assert!(a.wants_many && !a.wants_one);
        let a = analyze("list merged pull requests", &object);
        assert!(a.wants_many);
    }
}
