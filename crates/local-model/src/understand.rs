//! From a request to a tool and its arguments: which tool the words point at, and the values
//! the words give for its arguments. What the words leave out is the planner's business.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::catalogue::{Catalogue, Kind, RefRole, Tool};
use crate::lexicon;
use crate::text::Utterance;

/// Names already seen in the conversation, which tell a workspace from a branch.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub workspaces: Vec<String>,
    pub branches: Vec<String>,
    /// Repository slugs named, created or listed (those deleted are taken out).
    pub repositories: Vec<String>,
}

impl Known {
    fn is_workspace(&self, word: &str) -> bool {
        self.workspaces.iter().any(|w| w.eq_ignore_ascii_case(word))
    }

    pub fn is_repository(&self, word: &str) -> bool {
        self.repositories
            .iter()
            .any(|r| r.eq_ignore_ascii_case(word))
    }

    fn is_branch(&self, word: &str) -> bool {
        lexicon::is_common_branch(word)
            || self.branches.iter().any(|b| b.eq_ignore_ascii_case(word))
    }
}

/// A thing named in a request.
#[derive(Debug, Clone)]
struct NounMention {
    noun: String,
    plural: bool,
    /// Named only as where something is (`in acme/widgets`), never what the request is about.
    context: bool,
    /// The word's position in the request.
    at: usize,
}

/// Picks the tool a request asks for; `None` when no tool fits.
pub fn choose_tool<'c>(u: &Utterance, catalogue: &'c Catalogue) -> Option<&'c Tool> {
    choose_tool_with(u, catalogue, None)
}

/// Like [`choose_tool`]; `topic` is the thing the conversation is about, which "it", "that"
/// and "the first one" refer to when the request names no thing itself.
pub fn choose_tool_with<'c>(
    u: &Utterance,
    catalogue: &'c Catalogue,
    topic: Option<&str>,
) -> Option<&'c Tool> {
    let known_nouns: Vec<&str> = catalogue
        .tools
        .iter()
        .flat_map(|t| t.nouns.iter().map(String::as_str))
        .collect();
    let mut verbs: HashMap<String, f32> = HashMap::new();
    let mut nouns: Vec<NounMention> = Vec::new();
    let mut identified = false;
    let mut i = 0;
    'words: while i < u.len() {
        if u.words[i].quote.is_some() {
            i += 1;
            continue;
        }
        // After a colon comes a title or a body, not the request.
        if i > 0 && u.words[i - 1].colon {
            break;
        }
        for (phrase, verb) in lexicon::VERB_PHRASES {
            if u.phrase_at(i, phrase) {
                *verbs.entry((*verb).to_owned()).or_default() += 1.2;
                i += phrase.split(' ').count();
                continue 'words;
            }
        }
        for (phrase, noun) in lexicon::NOUN_PHRASES {
            if u.phrase_at(i, phrase) {
                if *noun == "user" || *noun == "member" {
                    *verbs.entry("get".to_owned()).or_default() += 0.5;
                    *verbs.entry("list".to_owned()).or_default() += 0.5;
                }
                nouns.push(NounMention {
                    noun: (*noun).to_owned(),
                    plural: phrase.rsplit(' ').next().is_some_and(lexicon::is_plural)
                        || *noun == "member",
                    context: false,
                    at: i,
                });
                i += phrase.split(' ').count();
                continue 'words;
            }
        }
        // "did the build pass", "the status of build lint": the build is a thing here, its
        // status, not an action.
        if matches!(u.at(i as isize), "build" | "builds")
            && matches!(
                u.at(i as isize - 1),
                "the" | "a" | "its" | "my" | "our" | "last" | "of"
            )
        {
            nouns.push(NounMention {
                noun: "status".to_owned(),
                plural: u.at(i as isize) == "builds",
                context: false,
                at: i,
            });
            i += 1;
            continue;
        }
        let word = u.at(i as isize);
        let next = u.at(i as isize + 1);
        let mut word_verbs = lexicon::verbs(word, next);
        if word == "open" {
            word_verbs = if open_is_verb(u, i) {
                &[("create", 1.0)]
            } else {
                &[]
            };
        }
        // Naming something ("a branch called x") is making it.
        if matches!(word, "called" | "named") {
            *verbs.entry("create".to_owned()).or_default() += 0.8;
        }
        // "write 'on it' on issue 2" comments; "write me a poem" does not.
        if matches!(word, "write" | "say") && u.quotes.is_empty() {
            word_verbs = &[];
        }
        // "post a build status" makes that thing; "post 'lgtm' on PR 1" comments.
        if word_verbs.iter().any(|(v, _)| *v == "comment")
            && names_what_is_written(u, i, &known_nouns)
        {
            word_verbs = &[("create", 1.0)];
        }
        // "make issue 2 a blocker", "set PR 3 to draft": changing a thing that exists.
        let identified_next = lexicon::noun(next).is_some()
            && u.at(i as isize + 2)
                .trim_start_matches('#')
                .parse::<u64>()
                .is_ok();
        if matches!(word, "make" | "turn" | "put") && identified_next {
            word_verbs = &[("update", 1.0)];
        }
        for (verb, weight) in word_verbs {
            // An action with its own tool counts as that tool's verb ("merge" → MERGE_...).
            let offered = |v: &str| catalogue.tools.iter().any(|t| t.verb == v);
            let verb = if *verb == "other" && offered(word) {
                word
            } else if *verb == "other"
                && let Some(own) = lexicon::own_verb(word).filter(|v| offered(v))
            {
                own
            } else {
                verb
            };
            *verbs.entry(verb.to_owned()).or_default() += weight;
        }
        // A word equal to a tool's own action asks for it, and is no thing ("request
        // changes": the request is the action).
        // But "on commit 4f2a9c1", "the last commit": a thing, after an article or a
        // preposition or before a hash.
        let prev = if i > 0 { u.at(i as isize - 1) } else { "" };
        let named_thing = lexicon::noun(word).is_some()
            && (matches!(
                prev,
                "the" | "a" | "this" | "that" | "on" | "of" | "in" | "to" | "latest" | "last"
            ) || looks_like_hash(next));
        if word_verbs.is_empty() && !named_thing && catalogue.tools.iter().any(|t| t.verb == word) {
            *verbs.entry(word.to_owned()).or_default() += 1.0;
            i += 1;
            continue;
        }
        let verb_use = matches!(word, "file" | "log" | "report") && !word_verbs.is_empty();
        let commenting = word_verbs.iter().any(|(v, _)| *v == "comment");
        let noun = lexicon::noun(word).map(str::to_owned).or_else(|| {
            if commenting {
                return Some("comment".to_owned());
            }
            // "change the title": a verb here, though some tool's name has the noun.
            if !word_verbs.is_empty() {
                return None;
            }
            let one = lexicon::singular(word);
            known_nouns.contains(&one.as_str()).then_some(one)
        });
        if let Some(noun) = noun.filter(|_| !verb_use) {
            nouns.push(NounMention {
                plural: lexicon::is_plural(word),
                noun,
                context: false,
                at: i,
            });
        } else if looks_like_file(&u.words[i].raw) {
            nouns.push(NounMention {
                noun: "file".to_owned(),
                plural: false,
                context: false,
                at: i,
            });
        } else if let Some((owner, _)) = word.split_once('/')
            && !lexicon::is_branch_prefix(owner)
        {
            // `acme/widgets` names a repository, usually as the place of something else.
            nouns.push(NounMention {
                noun: "repository".to_owned(),
                plural: false,
                context: true,
                at: i,
            });
        }
        if word.starts_with('#') || (word.parse::<u64>().is_ok() && i > 0) {
            identified = true;
            // A bare `#3` is an issue, as in Bitbucket's own text.
            if word.starts_with('#') && lexicon::noun(u.at(i as isize - 1)).is_none() {
                nouns.push(NounMention {
                    noun: "issue".to_owned(),
                    plural: false,
                    context: false,
                    at: i,
                });
            }
        }
        i += 1;
    }
    let refers = (0..u.len()).any(|i| {
        matches!(
            u.at(i as isize),
            "it" | "that" | "this" | "one" | "them" | "those"
        )
    });
    if nouns.is_empty()
        && refers
        && let Some(topic) = topic
    {
        nouns.push(NounMention {
            noun: topic.to_owned(),
            plural: false,
            context: false,
            at: usize::MAX,
        });
    }
    // "which files does PR 2 change": the files are the changes, not a directory listing.
    if let Some(at) = (0..u.len()).find(|&i| {
        matches!(
            u.at(i as isize),
            "change"
                | "changes"
                | "changed"
                | "touch"
                | "touches"
                | "touched"
                | "modify"
                | "modifies"
                | "modified"
        )
    }) && catalogue.tools.iter().any(|t| t.primary == "change")
        && let Some(files) = nouns.iter().position(|n| n.noun == "path")
    {
        nouns[files].noun = "change".to_owned();
        nouns.retain(|n| n.at != at);
        if lexicon::verbs(u.at(at as isize), "")
            .iter()
            .any(|(v, _)| *v == "update")
        {
            verbs.remove("update");
        }
    }
    if asks_for_verdict(u) {
        *verbs.entry("list".to_owned()).or_default() += 1.0;
        // "is PR 1 green", "did the tests pass on main": a verdict on a thing is in the
        // statuses of its builds, which the request is then about.
        if !nouns.iter().any(|n| lexicon::is_result(&n.noun)) {
            nouns.insert(
                0,
                NounMention {
                    noun: "status".to_owned(),
                    plural: true,
                    context: false,
                    at: usize::MAX,
                },
            );
        }
    }
    let names_ref = names_a_ref(u);
    merge_compounds(&mut nouns);
    let targets = targets(u, &nouns, topic, refers);
    let head = nouns.iter().find(|n| !n.context).or(nouns.first())?;
    let mut best: Option<(&Tool, f32)> = None;
    for tool in &catalogue.tools {
        let primary_mentions: Vec<&NounMention> =
            nouns.iter().filter(|n| n.noun == tool.primary).collect();
        if primary_mentions.is_empty() || !writes_to_what_was_named(tool, &targets) {
            continue;
        }
        // A write makes or changes the thing the request is about, not one it only names:
        // "post a comment on the website repo" creates no repository.
        if !tool.read_only
            && !matches!(head.noun.as_str(), "repository" | "workspace")
            && !tool.nouns.contains(&head.noun)
        {
            continue;
        }
        // Listing a directory is browsing it.
        let browse_as_list = (tool.verb == "browse")
            .then(|| verbs.get("list").map(|w| w * 0.8))
            .flatten();
        let plural = primary_mentions.iter().any(|m| m.plural);
        // "get the reports of commit x": getting many is listing them.
        let get_as_list = (tool.verb == "list" && plural)
            .then(|| verbs.get("get").copied())
            .flatten();
        // A tool that commits files changes or adds the file the request names.
        let commit_as_write = (tool.verb == "commit" && head.noun == "file")
            .then(|| verbs.get("update").or(verbs.get("create")).copied())
            .flatten();
        let mut score = match verbs
            .get(&tool.verb)
            .copied()
            .or(browse_as_list)
            .or(commit_as_write)
            .or(get_as_list)
        {
            Some(weight) => weight,
            // Asked to do something, but not this.
            None if verbs.values().any(|w| *w >= 1.0) => -2.0,
            None => 0.0,
        };
        // A read that brings the thing along ("issue with its comments") answers for it.
        let covers_head = tool.read_only && tool.covers.contains(&head.noun);
        score += if head.noun == tool.primary || covers_head {
            3.0
        } else {
            1.5
        };
        for other in tool.nouns.iter().filter(|n| **n != tool.primary) {
            // "the build on main": a branch or a hash names the commit things hang on.
            let said = nouns.iter().any(|n| &n.noun == other) || (other == "commit" && names_ref);
            score += if said { 1.0 } else { -0.4 };
        }
        if !tool.nouns.contains(&head.noun) && !covers_head {
            score -= 1.0;
        }
        // "comment 'x' on the issue": the action says what is made, wherever it stands.
        if verbs.contains_key("comment") && tool.primary == "comment" {
            score += 1.5;
        }
        let takes_one = tool
            .params
            .iter()
            .any(|p| p.required && p.identifies(&tool.primary));
        match tool.verb.as_str() {
            "list" if plural => score += 1.0,
            "get" if !plural => score += if identified { 1.0 } else { 0.5 },
            // "the findings of report x": a tool that gets one by its id is no answer to many.
            "get" if takes_one => score -= 1.0,
            _ => {}
        }
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((tool, score));
        }
    }
    best.filter(|(_, score)| *score >= 2.5)
        .map(|(tool, _)| tool)
}

/// The things a request acts on beyond what it makes: "on PR 1", "to it", "on the website
/// repo". Not places (`in acme/widgets`) nor purposes (`for issue 2`).
fn targets<'n>(
    u: &Utterance,
    nouns: &'n [NounMention],
    topic: Option<&'n str>,
    refers: bool,
) -> Vec<&'n str> {
    let before = |at: usize, words: &[&str]| {
        (1..=3).any(|k| at >= k && words.contains(&u.at((at - k) as isize)))
    };
    let mut named: Vec<&str> = nouns
        .iter()
        .filter(|n| !n.context && n.at != usize::MAX)
        .filter(|n| !before(n.at, &["for"]))
        .filter(|n| {
            !matches!(n.noun.as_str(), "repository" | "workspace") || before(n.at, &["on", "to"])
        })
        .map(|n| n.noun.as_str())
        .collect();
    // "add a comment to it", or a bare "comment 'lgtm'" right after reading a pull request.
    if let Some(topic) = topic
        && (refers || !matches!(topic, "repository" | "workspace" | "user" | "member"))
        && named.iter().all(|n| *n == "comment")
    {
        named.push(topic);
    }
    named
}

/// A write to a part of something (a comment of an issue) must be to the thing the request
/// named: an issue comment is no answer to "comment on PR 1".
fn writes_to_what_was_named(tool: &Tool, targets: &[&str]) -> bool {
    if tool.read_only || tool.nouns.len() < 2 {
        return true;
    }
    let others: Vec<&&str> = targets.iter().filter(|t| **t != tool.primary).collect();
    others.is_empty() || others.iter().any(|t| tool.nouns.iter().any(|n| n == **t))
}

/// "code insights reports", "the insights report": in a compound noun the last word is the
/// head and says how many; a word right before it naming the same thing is a modifier.
fn merge_compounds(nouns: &mut Vec<NounMention>) {
    let mut k = 1;
    while k < nouns.len() {
        let (modifier, head) = (&nouns[k - 1], &nouns[k]);
        let adjacent = modifier.at.checked_add(1) == Some(head.at);
        if modifier.noun == head.noun && adjacent {
            nouns.remove(k - 1);
        } else {
            // "pipeline variables", "deployment environment": the first noun says whose.
            if adjacent && !modifier.plural && !modifier.context && !head.context {
                nouns[k - 1].context = true;
            }
            k += 1;
        }
    }
}

/// Whether the words after a writing verb at `i` ("post a failed build status") name the
/// thing written, before any `on`/`to` that says where; a comment is written otherwise.
fn names_what_is_written(u: &Utterance, i: usize, known_nouns: &[&str]) -> bool {
    (i + 1..u.len())
        .take_while(|&j| {
            // After an article a preposition starts a description: "an in progress status".
            let preposition = matches!(
                u.at(j as isize),
                "on" | "to" | "in" | "for" | "with" | "at" | "of"
            ) && !matches!(u.at(j as isize - 1), "a" | "an" | "the");
            u.words[j].quote.is_none() && !preposition
        })
        .any(|j| {
            let word = u.at(j as isize);
            let thing = lexicon::noun(word)
                .map(str::to_owned)
                .or_else(|| lexicon::compound(word, u.at(j as isize + 1)).map(str::to_owned))
                .or_else(|| {
                    let one = lexicon::singular(word);
                    known_nouns.contains(&one.as_str()).then_some(one)
                });
            thing.is_some_and(|t| t != "comment")
        })
}

/// "did the build pass", "is CI green", "what did the scan report": a question about how
/// things turned out, which the list of their results answers.
fn asks_for_verdict(u: &Utterance) -> bool {
    (0..u.len()).any(|i| {
        lexicon::is_outcome(u.at(i as isize))
            && (0..i).any(|k| lexicon::is_auxiliary(u.at(k as isize)))
    })
}

/// Whether the request names a git ref: a commit hash anywhere, or a branch after `on`,
/// `at`, `for` or `of` ("on main", "for feature/login").
fn names_a_ref(u: &Utterance) -> bool {
    (0..u.len()).any(|i| {
        let word = u.at(i as isize);
        let branch = lexicon::is_common_branch(word)
            || word
                .split_once('/')
                .is_some_and(|(prefix, _)| lexicon::is_branch_prefix(prefix));
        looks_like_hash(word)
            || (branch && i > 0 && matches!(u.at(i as isize - 1), "on" | "at" | "for" | "of"))
    })
}

/// Whether the word at `i` asks for an action ("create", "open a", "comment"), as opposed to
/// a question word or an adjective ("what", "the open issues").
pub fn is_action_word(u: &Utterance, i: usize, catalogue: &Catalogue) -> bool {
    let word = u.at(i as isize);
    match word {
        "open" => open_is_verb(u, i),
        "write" | "say" => !u.quotes.is_empty(),
        "what" | "what's" | "which" | "all" | "new" | "find" | "see" | "note" | "log" | "who" => {
            false
        }
        _ => {
            !lexicon::verbs(word, u.at(i as isize + 1)).is_empty()
                || catalogue.tools.iter().any(|t| t.verb == word)
        }
    }
}

/// Whether `open` at `i` asks to open something ("open a PR", "please open PR") rather than
/// describing a state ("the latest open issue", "open PRs").
pub fn open_is_verb(u: &Utterance, i: usize) -> bool {
    let next = u.at(i as isize + 1);
    let object = matches!(
        next,
        "a" | "an" | "new" | "up" | "pr" | "ticket" | "issue" | "bug" | "mr"
    ) || (next == "pull" && u.at(i as isize + 2) == "request");
    let prev = u.at(i as isize - 1);
    let starts = i == 0
        || matches!(
            prev,
            "please"
                | "pls"
                | "you"
                | "to"
                | "and"
                | "then"
                | "also"
                | "i"
                | "we"
                | "let's"
                | "lets"
                | "now"
                | "just"
                | "go"
                | "can"
                | "could"
        )
        || u.words.get(i.wrapping_sub(1)).is_some_and(|w| w.comma);
    object && starts
}

/// `src/main.rs`, `README.md`, `Makefile`: a word that names a file.
pub fn looks_like_file(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    if lexicon::is_known_file(&lower) {
        return true;
    }
    let last = lower.rsplit('/').next().unwrap_or(&lower);
    match last.rsplit_once('.') {
        Some((stem, ext)) => {
            (!stem.is_empty() || last.starts_with('.'))
                && (1..=8).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && ext.chars().any(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

fn slug_like(word: &str) -> bool {
    !word.is_empty()
        && !lexicon::is_stopword(word)
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@'))
        && word.chars().next().is_some_and(char::is_alphanumeric)
}

/// What a request says about a tool's arguments.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub args: Map<String, Value>,
    /// "latest", "last", "newest": the newest item of a list stands for a missing number.
    pub latest: bool,
    /// The README was asked for by that name, so its exact name may differ.
    pub readme: bool,
    /// "for issue 2": a thing the new name should come from.
    pub for_number: Option<(String, u64)>,
    /// "for the login fix": words a new name can be made of.
    pub purpose: Option<String>,
    /// "the first one", "the second issue": a position in the last list shown (0-based;
    /// `usize::MAX` for the last).
    pub ordinal: Option<usize>,
    /// "the login PR": a thing named by a word of its title or branch, and that word.
    pub title_word: Option<(String, String)>,
}

struct Scan<'a> {
    u: &'a Utterance,
    used: Vec<bool>,
    tool: &'a Tool,
    known: &'a Known,
    found: Found,
}

impl Scan<'_> {
    fn word(&self, i: usize) -> &str {
        self.u.at(i as isize)
    }

    fn raw(&self, i: usize) -> &str {
        self.u.words.get(i).map_or("", |w| w.raw.as_str())
    }

    fn free(&self, i: usize) -> bool {
        i < self.u.len() && !self.used[i] && self.u.words[i].quote.is_none()
    }

    fn set(&mut self, name: &str, value: Value) {
        self.found.args.entry(name.to_owned()).or_insert(value);
    }

    fn param_name(&self, kind: &Kind) -> Option<String> {
        self.tool.param(kind).map(|p| p.name.clone())
    }

    fn is_set(&self, kind: &Kind) -> bool {
        self.param_name(kind)
            .is_some_and(|name| self.found.args.contains_key(&name))
    }

    /// Whether the words at `i` and after spell a value of one of the tool's enumerated
    /// arguments, with or without the space: "on hold", "in progress" (`INPROGRESS`).
    fn spells_enum_value(&self, i: usize) -> bool {
        let two = format!("{} {}", self.word(i), self.word(i + 1));
        let joined = two.replace(' ', "");
        self.tool.params.iter().any(|p| match &p.kind {
            Kind::Enum { values, .. } => values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(&two) || v.eq_ignore_ascii_case(&joined)),
            _ => false,
        })
    }

    fn is_set_named(&self, name: &str) -> bool {
        self.found.args.contains_key(name)
    }

    fn wants(&self, kind: &Kind) -> Option<String> {
        self.param_name(kind)
            .filter(|name| !self.found.args.contains_key(name))
    }

    /// The name right after the word at `i`, else right before it: `snippet kypj`, `the
    /// website repo`.
    fn beside(&self, i: usize) -> Option<usize> {
        if self.free(i + 1) && slug_like(self.word(i + 1)) {
            Some(i + 1)
        } else if i > 0 && self.free(i - 1) && slug_like(self.word(i - 1)) {
            Some(i - 1)
        } else {
            None
        }
    }

    /// Sets `name` to the word at `j`, as typed, and marks it used.
    fn take(&mut self, name: &str, j: usize) {
        self.used[j] = true;
        let value = self.raw(j).to_owned();
        self.set(name, Value::String(value));
    }

    /// The name after `i`, skipping `the`: `off the develop branch` → `develop`.
    fn name_after(&self, i: usize) -> Option<usize> {
        let mut j = i + 1;
        while matches!(self.word(j), "the" | "of" | "branch" | "a") && j < i + 3 {
            j += 1;
        }
        let word = self.word(j);
        let verb = !lexicon::verbs(word, self.word(j + 1)).is_empty()
            || matches!(word, "merge" | "approve" | "decline");
        (self.free(j) && slug_like(word) && !verb).then_some(j)
    }
}

/// Reads the values a request gives for `tool`'s arguments.
pub fn extract(u: &Utterance, tool: &Tool, known: &Known) -> Found {
    let mut s = Scan {
        u,
        used: vec![false; u.len()],
        tool,
        known,
        found: Found::default(),
    };
    numbers(&mut s);
    file_writes(&mut s);
    quotes(&mut s);
    colon_text(&mut s);
    paths(&mut s);
    urls(&mut s);
    named_keys(&mut s);
    keys(&mut s);
    repo_pairs(&mut s);
    explicit_places(&mut s);
    folders(&mut s);
    new_names(&mut s);
    refs(&mut s);
    bare_places(&mut s);
    unquoted_text(&mut s);
    enums(&mut s);
    booleans(&mut s);
    people(&mut s);
    leftover_workspace(&mut s);
    s.found.latest = (0..u.len()).any(|i| lexicon::is_latest(s.word(i)));
    s.found.ordinal = (0..u.len()).find_map(|i| {
        let position = match s.word(i) {
            "first" | "1st" | "top" => 0,
            "second" | "2nd" => 1,
            "third" | "3rd" => 2,
            "fourth" | "4th" => 3,
            "fifth" | "5th" => 4,
            "last" => usize::MAX,
            _ => return None,
        };
        // "the first one", "the second issue": not "first" as in "first, do this".
        let next = s.word(i + 1);
        (next == "one" || lexicon::noun(next).is_some()).then_some(position)
    });
    purpose(&mut s);
    title_word(&mut s);
    s.found
}

/// "change README.md on feature/docs to say 'Hello'": the file and its new text, and a
/// commit message that says what changed.
fn file_writes(s: &mut Scan) {
    let Some(files) = s.wants(&Kind::FileWrites) else {
        return;
    };
    let Some(at) = (0..s.u.len()).find(|&i| s.free(i) && looks_like_file(&s.u.words[i].raw)) else {
        return;
    };
    let Some(q) = (0..s.u.len()).find_map(|i| s.u.words[i].quote) else {
        return;
    };
    let path = s.raw(at).to_owned();
    let mut content = s.u.quotes[q].clone();
    if !content.ends_with('\n') {
        content.push('\n');
    }
    s.used[at] = true;
    s.set(&files, json!([{ "path": path, "content": content }]));
    if let Some(message) = s.wants(&Kind::Body) {
        s.set(&message, json!(format!("Update {path}")));
    }
}

/// "request changes on the login PR": a word right before a numbered thing that the tool
/// needs the number of, when no number was said, names it by its title or branch.
fn title_word(s: &mut Scan) {
    for i in 1..s.u.len() {
        let Some(thing) = lexicon::noun(s.word(i)) else {
            continue;
        };
        let needs = s.tool.params.iter().any(|p| {
            p.kind == Kind::Number(thing.to_owned()) && !s.found.args.contains_key(&p.name)
        });
        let word = s.word(i - 1);
        if needs
            && s.free(i - 1)
            && slug_like(word)
            && word.parse::<u64>().is_err()
            && lexicon::verbs(word, "").is_empty()
            && lexicon::noun(word).is_none()
            && !lexicon::is_latest(word)
            && !matches!(
                word,
                "open"
                    | "opened"
                    | "closed"
                    | "merged"
                    | "declined"
                    | "resolved"
                    | "new"
                    | "first"
                    | "second"
                    | "third"
                    | "next"
                    | "previous"
                    | "same"
                    | "other"
                    | "draft"
                    | "that"
                    | "this"
                    | "which"
                    | "any"
                    | "each"
                    | "every"
            )
        {
            s.found.title_word = Some((thing.to_owned(), word.to_owned()));
            return;
        }
    }
}

fn numbers(s: &mut Scan) {
    let mut found = Vec::new();
    for i in 0..s.u.len() {
        let word = s.word(i);
        let digits = word.strip_prefix('#').unwrap_or(word);
        let Ok(value) = digits.parse::<u64>() else {
            continue;
        };
        let mut back = i;
        if matches!(s.word(i.wrapping_sub(1)), "number" | "no" | "num" | "#") {
            back -= 1;
        }
        let before = s.word(back.wrapping_sub(1));
        let entity = if before == "request" && s.word(back.wrapping_sub(2)) == "pull" {
            Some("pull_request".to_owned())
        } else if before == "line" {
            Some("line".to_owned())
        } else {
            lexicon::noun(before).map(str::to_owned)
        };
        if entity.is_none() && !word.starts_with('#') && back == i {
            continue;
        }
        s.used[i] = true;
        found.push((entity, value, i));
    }
    for param in s.tool.params.clone() {
        let Kind::Number(entity) = &param.kind else {
            continue;
        };
        let pick = found
            .iter()
            .position(|(e, _, _)| e.as_deref() == Some(entity.as_str()))
            .or_else(|| found.iter().position(|(e, _, _)| e.is_none()));
        if let Some(k) = pick {
            let (_, value, _) = found.remove(k);
            s.set(&param.name, json!(value));
        }
    }
    for (entity, value, i) in found {
        if s.word(i.wrapping_sub(2)) == "for" || s.word(i.wrapping_sub(3)) == "for" {
            s.found.for_number = entity.map(|e| (e, value));
        }
    }
}

const BODY_WORDS: &[&str] = &[
    "saying",
    "says",
    "say",
    "body",
    "description",
    "content",
    "text",
    "message",
    "comment",
    "reply",
    "note",
    "with",
    "that",
];

fn quotes(s: &mut Scan) {
    for i in 0..s.u.len() {
        let Some(q) = s.u.words[i].quote else {
            continue;
        };
        let text = Value::String(s.u.quotes[q].clone());
        let before: Vec<&str> = (1..=3).map(|k| s.word(i.wrapping_sub(k))).collect();
        let said = |words: &[&str]| before.iter().any(|w| words.contains(w));
        let name_word = matches!(before[0], "called" | "named" | "branch" | "it");
        if name_word && let Some(name) = s.wants(&Kind::NewName) {
            s.set(&name, text);
        } else if said(&["titled", "title"])
            && let Some(name) = s.wants(&Kind::Title)
        {
            s.set(&name, text);
        } else if said(BODY_WORDS)
            && let Some(name) = s.wants(&Kind::Body)
        {
            s.set(&name, text);
        } else if let Some(name) = s.wants(&Kind::Title) {
            s.set(&name, text);
        } else if let Some(name) = s.wants(&Kind::Body) {
            s.set(&name, text);
        } else if let Some(name) = s.wants(&Kind::NewName) {
            s.set(&name, text);
        } else {
            continue;
        }
        s.used[i] = true;
    }
}

/// `file a bug in acme/widgets: Login fails` → the title is what follows the colon.
fn colon_text(s: &mut Scan) {
    let Some(colon) = (0..s.u.len()).find(|&i| s.u.words[i].colon && s.u.words[i].quote.is_none())
    else {
        return;
    };
    if colon + 1 >= s.u.len() || s.u.words[colon + 1..].iter().any(|w| w.quote.is_some()) {
        return;
    }
    let text = s.u.rest_from(colon + 1);
    let target = s.wants(&Kind::Title).or_else(|| s.wants(&Kind::Body));
    if let Some(name) = target {
        s.set(&name, Value::String(text));
        for used in &mut s.used[colon + 1..] {
            *used = true;
        }
    }
}

fn paths(s: &mut Scan) {
    let Some(name) = s.param_name(&Kind::Path) else {
        return;
    };
    for i in 0..s.u.len() {
        if !s.free(i) {
            continue;
        }
        let raw = s.raw(i).to_owned();
        if looks_like_file(&raw) && !raw.contains("://") {
            s.used[i] = true;
            if raw.eq_ignore_ascii_case("readme") {
                s.found.readme = true;
                s.set(&name, json!("README.md"));
            } else {
                if raw.to_lowercase().starts_with("readme") {
                    s.found.readme = true;
                }
                s.set(&name, Value::String(raw.trim_start_matches('/').to_owned()));
            }
            return;
        }
    }
    // "the docs folder", "folder src/api", "directory docs".
    for i in 0..s.u.len() {
        let word = s.word(i);
        if !matches!(word, "folder" | "directory" | "dir" | "path") {
            continue;
        }
        let candidate = if s.free(i + 1) && slug_like(s.word(i + 1)) {
            Some(i + 1)
        } else if i > 0 && s.free(i - 1) && slug_like(s.word(i - 1)) {
            Some(i - 1)
        } else {
            None
        };
        if let Some(j) = candidate {
            s.used[j] = true;
            s.used[i] = true;
            let raw = s.raw(j).trim_matches('/').to_owned();
            s.set(&name, Value::String(raw));
            return;
        }
    }
}

/// `files in docs`, `docs/`: a folder named where a repository could also stand, when the
/// repository is known otherwise and the word is not one.
fn folders(s: &mut Scan) {
    if s.tool.primary != "path" {
        return;
    }
    let Some(name) = s.wants(&Kind::Path) else {
        return;
    };
    for i in 0..s.u.len() {
        let raw = s.raw(i);
        if s.free(i) && raw.len() > 1 && raw.ends_with('/') && !raw.contains("://") {
            let path = raw.trim_matches('/').to_owned();
            s.used[i] = true;
            s.set(&name, Value::String(path));
            return;
        }
    }
    let repo_known = s.is_set(&Kind::Repo) || !s.known.repositories.is_empty();
    if !repo_known {
        return;
    }
    for i in 0..s.u.len() {
        if !matches!(s.word(i), "in" | "under" | "inside" | "within" | "of") {
            continue;
        }
        let Some(j) = s.name_after(i) else {
            continue;
        };
        let value = s.word(j);
        let place = s.known.is_repository(value)
            || s.known.is_workspace(value)
            || s.known.is_branch(value)
            || matches!(
                s.word(j + 1),
                "repo" | "repository" | "workspace" | "branch"
            );
        if place || value.contains('/') || value.parse::<u64>().is_ok() || looks_like_file(s.raw(j))
        {
            continue;
        }
        s.used[j] = true;
        let path = s.raw(j).to_owned();
        s.set(&name, Value::String(path));
        return;
    }
}

/// `snippet kypj`, `the kypj snippet`: short ids named next to their thing.
fn keys(s: &mut Scan) {
    let params: Vec<(String, String)> = s
        .tool
        .params
        .iter()
        .filter_map(|p| match &p.kind {
            Kind::Key(thing) => Some((p.name.clone(), thing.clone())),
            _ => None,
        })
        .collect();
    for (name, thing) in params {
        if s.is_set_named(&name) {
            continue;
        }
        for i in 0..s.u.len() {
            if !names_thing(s.word(i), &thing) {
                continue;
            }
            // In "the build status" the word before is part of the thing's name, no id.
            // Nor is a word naming the thing again ("insights reports").
            let candidate = s.beside(i).filter(|&j| {
                (j > i || lexicon::compound(s.word(j), s.word(i)).is_none())
                    && !names_thing(s.word(j), &thing)
            });
            if let Some(j) = candidate {
                // The thing's word is spent too: "of report scan-1" names no repository.
                s.used[i] = true;
                s.take(&name, j);
                break;
            }
        }
    }
}

/// Whether `word` names `thing`: `snippets` and `gist` name a snippet.
fn names_thing(word: &str, thing: &str) -> bool {
    lexicon::noun(word).is_some_and(|n| n == thing)
        || lexicon::singular(word) == thing
        || stands_for_compound(word, thing)
}

/// "build ci/build": the first word of a two-word name ("build status") can stand for it.
fn stands_for_compound(word: &str, thing: &str) -> bool {
    !lexicon::is_stopword(word)
        && lexicon::NOUN_PHRASES.iter().any(|(phrase, noun)| {
            *noun == thing
                && phrase.split_once(' ').is_some_and(|(first, second)| {
                    // The second word names the thing too: "default branch" is no branch.
                    let second_names =
                        lexicon::noun(second) == Some(thing) || lexicon::singular(second) == thing;
                    first == word && !second.contains(' ') && second_names
                })
        })
}

/// `key lint`, `with key lint`: an id named by its argument's own name.
fn named_keys(s: &mut Scan) {
    let names: Vec<String> = s
        .tool
        .params
        .iter()
        .filter(|p| matches!(p.kind, Kind::Key(_)))
        .map(|p| p.name.clone())
        .collect();
    for name in names {
        let phrase = name.replace('_', " ");
        let Some(i) = (0..s.u.len()).find(|&i| s.free(i) && s.u.phrase_at(i, &phrase)) else {
            continue;
        };
        let j = i + phrase.split(' ').count();
        if s.free(j) && slug_like(s.word(j)) {
            for used in &mut s.used[i..j] {
                *used = true;
            }
            s.take(&name, j);
        }
    }
}

/// `url https://ci.example/7`: a web address goes to the argument that takes one.
fn urls(s: &mut Scan) {
    let Some(name) = s.wants(&Kind::Url) else {
        return;
    };
    if let Some(j) = (0..s.u.len()).find(|&j| s.free(j) && s.raw(j).contains("://")) {
        s.take(&name, j);
    }
}

const PLACE_WORDS: &[&str] = &[
    "in",
    "of",
    "at",
    "inside",
    "within",
    "for",
    "about",
    "repo",
    "repository",
    "to",
    "on",
];

fn repo_pairs(s: &mut Scan) {
    let ws = s.param_name(&Kind::Workspace);
    let repo = s.param_name(&Kind::Repo);
    if ws.is_none() && repo.is_none() {
        return;
    }
    for i in 0..s.u.len() {
        if !s.free(i) {
            continue;
        }
        let raw = s.raw(i).to_owned();
        let Some((owner, name)) = raw.split_once('/') else {
            continue;
        };
        if name.contains('/')
            || !slug_like(&owner.to_lowercase())
            || !slug_like(&name.to_lowercase())
        {
            continue;
        }
        let owner_lower = owner.to_lowercase();
        let before = s.word(i.wrapping_sub(1));
        let after = s.word(i + 1);
        let takes_from = s.tool.params.iter().any(|p| {
            matches!(
                p.kind,
                Kind::Ref(RefRole::Source) | Kind::Ref(RefRole::Start)
            )
        });
        let placed = PLACE_WORDS.contains(&before)
            || (before == "from" && !takes_from)
            || matches!(after, "repo" | "repository")
            || (before == "the" && matches!(after, "repo" | "repository" | ""));
        let is_pair = s.known.is_workspace(&owner_lower)
            || (!lexicon::is_branch_prefix(&owner_lower) && placed);
        if !is_pair {
            continue;
        }
        s.used[i] = true;
        if let Some(ws) = &ws {
            s.set(ws, Value::String(owner.to_owned()));
        }
        if let Some(repo) = &repo {
            s.set(repo, Value::String(name.to_owned()));
        }
        return;
    }
}

/// `workspace acme`, `the acme workspace`, `the website repo`, `repository widgets`.
fn explicit_places(s: &mut Scan) {
    for i in 0..s.u.len() {
        let word = s.word(i).to_owned();
        let kind = match word.as_str() {
            "workspace" => Kind::Workspace,
            "repo" | "repository" => Kind::Repo,
            _ => continue,
        };
        let Some(name) = s.wants(&kind) else {
            continue;
        };
        // `called`/`named` are stopwords, so "repository called x" names a new one, not this.
        if let Some(j) = s.beside(i) {
            s.used[i] = true;
            s.take(&name, j);
        }
    }
}

fn new_names(s: &mut Scan) {
    let Some(name) = s.wants(&Kind::NewName) else {
        return;
    };
    let thing_words: Vec<&str> = match s.tool.primary.as_str() {
        "branch" => vec!["branch"],
        "repository" => vec!["repo", "repository"],
        "tag" => vec!["tag"],
        other => vec![other],
    };
    for i in 0..s.u.len() {
        let word = s.word(i);
        let j = if matches!(word, "called" | "named") {
            i + 1
        } else if matches!(word, "call" | "name") && s.word(i + 1) == "it" {
            i + 2
        } else if thing_words.contains(&word) && !matches!(s.word(i + 1), "called" | "named") {
            i + 1
        } else {
            continue;
        };
        if s.free(j) && slug_like(s.word(j)) && !s.known.is_workspace(s.word(j)) {
            s.take(&name, j);
            return;
        }
    }
}

fn refs(s: &mut Scan) {
    let roles: Vec<(RefRole, String)> = s
        .tool
        .params
        .iter()
        .filter_map(|p| match p.kind {
            Kind::Ref(role) => Some((role, p.name.clone())),
            _ => None,
        })
        .collect();
    for (role, name) in roles {
        // A commit hash names the commit, wherever it stands ("on line 3 in commit 4f2a9c1").
        let mut picked = (role == RefRole::At)
            .then(|| (0..s.u.len()).find(|&i| s.free(i) && looks_like_hash(s.word(i))))
            .flatten();
        for i in (0..s.u.len()).take_while(|_| picked.is_none()) {
            let word = s.word(i);
            let next = s.word(i + 1);
            let candidate = match role {
                RefRole::Start => match word {
                    "off" | "from" => s.name_after(i),
                    "on" if matches!(next, "top") => s.name_after(i + 2),
                    "based" if next == "on" => s.name_after(i + 1),
                    "at" => s.name_after(i),
                    _ => None,
                },
                RefRole::Source => match word {
                    "from" | "source" => s.name_after(i),
                    "merge" => s.name_after(i),
                    // "feature/x into main": the name before `into`.
                    "into" | "onto" | "to"
                        if i > 0
                            && s.free(i - 1)
                            && slug_like(s.word(i - 1))
                            && (s.word(i - 1).contains('/')
                                || s.known.is_branch(s.word(i - 1))) =>
                    {
                        Some(i - 1)
                    }
                    _ => None,
                },
                RefRole::Destination => match word {
                    "into" | "to" | "onto" | "against" | "targeting" | "destination" | "target" => {
                        s.name_after(i)
                    }
                    _ => None,
                },
                RefRole::At => match word {
                    "on" | "at" => s.name_after(i),
                    "branch" if s.free(i + 1) && slug_like(next) => Some(i + 1),
                    "branch" if i > 0 && s.free(i - 1) && slug_like(s.word(i - 1)) => Some(i - 1),
                    "from" | "in" | "of" | "for" => s
                        .name_after(i)
                        .filter(|&j| s.known.is_branch(s.word(j)) || s.word(j + 1) == "branch"),
                    _ => None,
                },
            };
            let Some(j) = candidate else {
                continue;
            };
            let value = s.word(j);
            // In "from acme/widgets" or "in acme" the name is a place, not a branch.
            let pairish = value.split_once('/').is_some_and(|(owner, _)| {
                s.known.is_workspace(owner)
                    || (!lexicon::is_branch_prefix(owner) && !s.known.is_branch(value))
            });
            let place = s.known.is_workspace(value) && !s.known.is_branch(value);
            let numberish = value.parse::<u64>().is_ok();
            if pairish || place || numberish || looks_like_file(s.raw(j)) {
                continue;
            }
            // For a source, a word only known as a branch or written like one counts.
            if role == RefRole::Source
                && !(s.known.is_branch(value) || value.contains('/') || s.word(j + 1) == "branch")
                && s.tool.has(&Kind::Repo)
                && !s.is_set(&Kind::Repo)
            {
                continue;
            }
            picked = Some(j);
            break;
        }
        if let Some(j) = picked {
            s.take(&name, j);
        }
    }
}

/// `in widgets`, `from widgets in acme`, `of acme`: places named without saying what they are.
fn bare_places(s: &mut Scan) {
    for i in 0..s.u.len() {
        let word = s.word(i);
        if !matches!(
            word,
            "in" | "from" | "of" | "for" | "at" | "inside" | "within"
        ) {
            continue;
        }
        // "an in progress build": a state, not a place.
        if s.spells_enum_value(i) {
            continue;
        }
        let Some(j) = s.name_after(i) else {
            continue;
        };
        let value = s.word(j).to_owned();
        if value.contains('/') || looks_like_file(s.raw(j)) || value.parse::<u64>().is_ok() {
            continue;
        }
        // "in commit 4f2a9c1", "of PR 2": a thing with its id, not a place.
        let id = s.word(j + 1);
        if lexicon::noun(&value).is_some()
            && (looks_like_hash(id) || id.trim_start_matches('#').parse::<u64>().is_ok())
        {
            continue;
        }
        if s.known.is_branch(&value) && !s.known.is_workspace(&value) {
            continue;
        }
        let as_workspace = s.known.is_workspace(&value)
            || s.is_set(&Kind::Repo)
            || (!s.tool.has(&Kind::Repo) && word != "for");
        let target = if as_workspace {
            s.wants(&Kind::Workspace)
        } else if word == "for" {
            None
        } else {
            s.wants(&Kind::Repo)
        };
        if let Some(name) = target {
            s.take(&name, j);
        }
    }
}

fn enums(s: &mut Scan) {
    let params: Vec<(String, Vec<String>, bool, bool)> = s
        .tool
        .params
        .iter()
        .filter_map(|p| match &p.kind {
            Kind::Enum { values, array } => Some((
                p.name.clone(),
                values.clone(),
                *array,
                p.description.contains("default"),
            )),
            _ => None,
        })
        .collect();
    // A filter must not be silently narrower than what was asked: "open" to a person is
    // every state not yet dealt with, "all" is every state.
    let filtering = s.tool.read_only;
    let every = (0..s.u.len()).any(|i| {
        matches!(
            s.word(i),
            "all" | "every" | "including" | "include" | "incl"
        ) || (s.word(i) == "any" && matches!(s.word(i + 1), "state" | "status"))
    });
    let adding = (0..s.u.len()).any(|i| matches!(s.word(i), "including" | "include" | "incl"))
        || s.u.has("as well as");
    for (name, values, array, narrowed_by_default) in params {
        let mut chosen: Vec<String> = Vec::new();
        for i in 0..s.u.len() {
            if !s.free(i) {
                continue;
            }
            let word = s.word(i);
            if word == "open" && open_is_verb(s.u, i) {
                continue;
            }
            let two = format!("{word} {}", s.word(i + 1));
            // "in progress" for `INPROGRESS`.
            let joined = two.replace(' ', "");
            let mut candidates: Vec<&str> = vec![word, two.as_str(), joined.as_str()];
            candidates.extend(lexicon::enum_synonyms(word));
            let is = |value: &String, c: &&str| {
                value.eq_ignore_ascii_case(c) || value.eq_ignore_ascii_case(&lexicon::singular(c))
            };
            let mut hits: Vec<&String> = values
                .iter()
                .filter(|value| candidates.iter().any(|c| is(value, c)))
                .take(1)
                .collect();
            let wider = lexicon::unfinished_states(word);
            if filtering && array && !wider.is_empty() {
                let all: Vec<&String> = values
                    .iter()
                    .filter(|value| wider.iter().any(|c| is(value, c)))
                    .collect();
                if !all.is_empty() {
                    hits = all;
                }
            }
            for value in hits {
                if !chosen.contains(value) {
                    chosen.push(value.clone());
                }
                s.used[i] = true;
            }
        }
        if filtering && array && narrowed_by_default && every && (chosen.is_empty() || adding) {
            chosen = values.clone();
        }
        if chosen.is_empty() {
            continue;
        }
        let value = if array {
            json!(chosen)
        } else {
            json!(chosen[0])
        };
        s.set(&name, value);
    }
}

fn booleans(s: &mut Scan) {
    let params: Vec<String> = s
        .tool
        .params
        .iter()
        .filter(|p| p.kind == Kind::Bool)
        .map(|p| p.name.clone())
        .collect();
    for name in params {
        let key = name
            .trim_start_matches("is_")
            .trim_start_matches("has_")
            .replace('_', " ");
        if s.u.has(&key) {
            s.set(&name, json!(true));
        } else if let Some(opposite) = lexicon::antonym(&key)
            && s.u.has(opposite)
        {
            s.set(&name, json!(false));
        }
    }
}

fn people(s: &mut Scan) {
    let params: Vec<(String, bool)> = s
        .tool
        .params
        .iter()
        .filter_map(|p| match p.kind {
            Kind::People { array } => Some((p.name.clone(), array)),
            _ => None,
        })
        .collect();
    for (name, array) in params {
        let reviewers = name.starts_with("review");
        let mut who = Vec::new();
        for i in 0..s.u.len() {
            let word = s.word(i);
            let start = if !reviewers && matches!(word, "assign" | "reassign") {
                (i + 1..(i + 5).min(s.u.len()))
                    .find(|&j| s.word(j) == "to")
                    .map(|j| j + 1)
            } else if reviewers && matches!(word, "reviewer" | "reviewers" | "reviewed") {
                Some(if s.word(i + 1) == "by" { i + 2 } else { i + 1 })
            } else {
                None
            };
            let Some(mut j) = start else {
                continue;
            };
            while s.free(j) {
                let person = s.raw(j).trim_start_matches('@').to_owned();
                if !slug_like(&person.to_lowercase()) {
                    break;
                }
                s.used[j] = true;
                who.push(person);
                if !matches!(s.word(j + 1), "and" | "&") {
                    break;
                }
                j += 2;
            }
        }
        if who.is_empty() {
            continue;
        }
        let value = if array { json!(who) } else { json!(who[0]) };
        s.set(&name, value);
    }
}

/// `what repos does acme have`: a workspace-only tool takes the one word nothing explains.
fn leftover_workspace(s: &mut Scan) {
    if s.tool.has(&Kind::Repo) {
        return;
    }
    let Some(name) = s.wants(&Kind::Workspace) else {
        return;
    };
    let leftovers: Vec<usize> = (0..s.u.len())
        .filter(|&i| {
            let word = s.word(i);
            s.free(i)
                && slug_like(word)
                && !word.contains('/')
                && lexicon::noun(word).is_none()
                && lexicon::verbs(word, "").is_empty()
                && !matches!(
                    word,
                    "have"
                        | "has"
                        | "had"
                        | "does"
                        | "did"
                        | "am"
                        | "was"
                        | "were"
                        | "logged"
                        | "access"
                        | "see"
                        | "show"
                        | "me"
                        | "there"
                        | "any"
                )
                && lexicon::singular(word) != s.tool.primary
        })
        .collect();
    if let [i] = leftovers[..] {
        s.used[i] = true;
        let value = s.raw(i).to_owned();
        s.set(&name, Value::String(value));
    }
}

/// `saying that a fix is coming`, `titled Login broken`: text without quotes runs to the end.
fn unquoted_text(s: &mut Scan) {
    for i in 0..s.u.len() {
        let word = s.word(i);
        let kind = match word {
            "saying" | "says" => Kind::Body,
            "titled" => Kind::Title,
            _ => continue,
        };
        let target = s.wants(&kind);
        let mut start = i + 1;
        if s.word(start) == "that" {
            start += 1;
        }
        let end = (start..s.u.len())
            .find(|&j| !s.free(j))
            .unwrap_or(s.u.len());
        if start >= end {
            continue;
        }
        let text = (start..end).map(|j| s.raw(j)).collect::<Vec<_>>().join(" ");
        // Words of a text are not arguments, whether or not this tool takes the text.
        for used in &mut s.used[start..end] {
            *used = true;
        }
        if let Some(name) = target {
            s.set(&name, Value::String(text));
        }
    }
}

/// `for the login fix` → `login fix`, the words a branch name can be made from.
fn purpose(s: &mut Scan) {
    if s.found.for_number.is_some() {
        return;
    }
    let Some(i) = (0..s.u.len()).find(|&i| s.word(i) == "for" && s.free(i + 1)) else {
        return;
    };
    let words: Vec<&str> = (i + 1..s.u.len())
        .take_while(|&j| s.free(j) && !matches!(s.word(j), "in" | "off" | "from" | "on" | "and"))
        .map(|j| s.word(j))
        .filter(|w| {
            !matches!(
                *w,
                "the" | "a" | "an" | "my" | "our" | "it" | "this" | "that"
            )
        })
        .collect();
    if !words.is_empty() && words.len() <= 6 {
        s.found.purpose = Some(words.join(" "));
    }
}

/// `4f2a9c1`: a commit hash, 7 to 40 hex digits with at least one digit among them.
fn looks_like_hash(word: &str) -> bool {
    (7..=40).contains(&word.len())
        && word.bytes().all(|b| b.is_ascii_hexdigit())
        && word.bytes().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
