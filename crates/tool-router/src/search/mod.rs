//! Tool search: which tools of a catalogue fit a use case written in plain English. Pure and
//! deterministic: data in, data out, no IO, no network, no model.
//!
//! An [`Index`] is built once from the catalogue's [`ToolInfo`]s. Each tool is read from its
//! name (`BITBUCKET_CREATE_ISSUE_COMMENT`: the action `create`, the thing `comment`, of an
//! `issue`), its title, description, argument names and descriptions, and annotations. A use
//! case is read the same way ([`query`]): its action, the thing it acts on, the things it names
//! as context, and whether it wants one thing or many. A tool's score adds up, each part
//! visible in [`Index::explain`]:
//! - the thing: the tool's head noun is the use case's target (or only context), or missing;
//! - the other nouns of the tool's name, found in the use case or not;
//! - the action: the same, a related read, or a write where a read was asked (and the reverse);
//! - one or many: a list tool for "which PRs are open", a get tool for "PR 12";
//! - the words: every concept of the use case found in the tool's texts, weighted by field
//!   (name > title > description and argument names > argument descriptions) and by rarity
//!   across the catalogue.
//!
//! Words are compared as concepts: stems, with domain synonyms ([`lexicon`]) so that "merge
//! request", "PR" and "pull request" are one thing.

mod discover;
mod lexicon;
mod query;
mod text;

use std::collections::{HashMap, HashSet};

use bitbucket_toolkit::{ToolAnnotations, ToolInfo};

pub use discover::{Discovery, ToolRef, UseCase, parse_known_fields};
pub use lexicon::Action;

use query::Analysis;

/// One result of a search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// The tool's name.
    pub name: &'static str,
    /// Higher is better; only comparable within one search.
    pub score: f32,
}

/// A part of a tool's score, for explaining a ranking.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScorePart {
    /// What was compared, e.g. `thing: issue is the target`.
    pub what: String,
    /// Its contribution.
    pub points: f32,
}

/// How much each part weighs. One place, so tuning stays visible.
mod weight {
    /// The tool's head noun is the use case's target.
    pub const TARGET: f32 = 4.0;
    /// The tool's head noun is named, but as context.
    pub const CONTEXT: f32 = 1.5;
    /// The tool acts on something the use case does not name.
    pub const THING_MISSING: f32 = -2.0;
    /// The use case names a thing as context that the tool neither acts on, nor names, nor
    /// mentions: it answers about something else.
    pub const CONTEXT_FOREIGN: f32 = -2.0;
    /// Another noun of the tool's name is named.
    pub const QUALIFIER: f32 = 1.2;
    /// Another noun of the tool's name is not named (scaled by its rarity).
    pub const QUALIFIER_MISSING: f32 = -0.8;
    /// Multiplies the action's fit (-1.5 ..= 1.0).
    pub const ACTION: f32 = 3.0;
    /// A list for "many", a get for "one".
    pub const NUMBER: f32 = 1.0;
    /// Multiplies the word matches.
    pub const WORDS: f32 = 1.0;
    /// Field weights of the word matches.
    pub const NAME: f32 = 1.0;
    pub const TITLE: f32 = 0.8;
    pub const DESCRIPTION: f32 = 0.5;
    pub const ARGUMENT: f32 = 0.6;
    pub const ARGUMENT_DESCRIPTION: f32 = 0.2;
}

/// A catalogue, read once for searching.
#[derive(Debug, Clone)]
pub struct Index {
    tools: Vec<Entry>,
    idf: HashMap<String, f32>,
    objects: HashSet<String>,
}

/// What the search knows of one tool.
#[derive(Debug, Clone)]
struct Entry {
    info: ToolInfo,
    /// The first word of the name, e.g. `bitbucket`.
    toolkit: String,
    action: Action,
    /// Lists many things (a list verb, or a get of a plural).
    many: bool,
    /// The thing acted on: the last noun of the name before `from`/`in`.
    head: Option<String>,
    /// All concepts of the head noun (`files`: a path, and files), with their weights.
    head_concepts: Vec<(String, f32)>,
    /// Other nouns of the name (`issue` in `CREATE_ISSUE_COMMENT`).
    qualifiers: Vec<String>,
    /// Nouns after `from`/`in`/`on` (`repository` in `GET_FILE_FROM_REPOSITORY`): never
    /// counted as missing.
    containers: Vec<String>,
    /// Every concept of the tool's texts, with the weight of the best field it appears in.
    fields: HashMap<String, f32>,
    /// Tools named in the description ("use BITBUCKET_UPDATE_ISSUE").
    mentions: Vec<String>,
}

impl Index {
    /// Reads a catalogue. Tool order breaks ties, so searches are deterministic.
    pub fn new(tools: impl IntoIterator<Item = ToolInfo>) -> Self {
        let entries: Vec<Entry> = tools.into_iter().map(Entry::new).collect();
        let mut df: HashMap<String, usize> = HashMap::new();
        for entry in &entries {
            for concept in entry.fields.keys() {
                *df.entry(concept.clone()).or_default() += 1;
            }
        }
        let n = entries.len() as f32;
        let idf = df
            .into_iter()
            .map(|(concept, count)| (concept, (1.0 + n / count as f32).ln()))
            .collect();
        let mut objects: HashSet<String> = CORE_OBJECTS.iter().map(|s| (*s).to_owned()).collect();
        for entry in &entries {
            objects.extend(entry.head.iter().cloned());
            objects.extend(entry.qualifiers.iter().cloned());
            objects.extend(entry.containers.iter().cloned());
        }
        Index {
            tools: entries,
            idf,
            objects,
        }
    }

    /// The index of the whole Bitbucket toolkit.
    pub fn catalogue() -> Self {
        Self::new(
            bitbucket_toolkit::Toolkit::catalogue()
                .iter()
                .map(bitbucket_toolkit::ToolSpec::info),
        )
    }

    /// How many tools it holds.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether it holds no tool.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Whether a tool of this name is in the catalogue.
    pub fn contains(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t.info.name == name)
    }

    /// The catalogue entry of a tool.
    pub fn tool(&self, name: &str) -> Option<&ToolInfo> {
        self.entry(name).map(|e| &e.info)
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        self.tools.iter().find(|t| t.info.name == name)
    }

    /// The best `limit` tools for a use case, best first. Tools with nothing in common with
    /// it are left out, so an unrelated request finds nothing.
    pub fn search(&self, use_case: &str, limit: usize) -> Vec<Hit> {
        let analysis = self.analyze(use_case);
        if analysis.terms.is_empty() && analysis.action.is_none() {
            return Vec::new();
        }
        let mut hits: Vec<(usize, Hit)> = self
            .tools
            .iter()
            .enumerate()
            .filter_map(|(i, entry)| {
                let relevant = analysis
                    .terms
                    .iter()
                    .any(|(c, _)| entry.fields.contains_key(c));
                relevant.then(|| {
                    let score = self.score(entry, &analysis, &mut None);
                    (
                        i,
                        Hit {
                            name: entry.info.name,
                            score,
                        },
                    )
                })
            })
            .collect();
        hits.sort_by(|(ia, a), (ib, b)| b.score.total_cmp(&a.score).then(ia.cmp(ib)));
        hits.into_iter().take(limit).map(|(_, hit)| hit).collect()
    }

    /// The parts of one tool's score for a use case, to see why it ranks where it does.
    pub fn explain(&self, use_case: &str, name: &str) -> Option<Vec<ScorePart>> {
        let entry = self.entry(name)?;
        let analysis = self.analyze(use_case);
        let mut parts = Some(Vec::new());
        self.score(entry, &analysis, &mut parts);
        parts
    }

    fn analyze(&self, use_case: &str) -> Analysis {
        let mut analysis = query::analyze(use_case, &|concept| self.objects.contains(concept));
        // "add a reviewer to PR 7": when no tool creates the thing named, adding it changes
        // something that exists.
        if analysis.action == Some(Action::Create)
            && !analysis.target.is_empty()
            && !self.tools.iter().any(|t| {
                t.action == Action::Create
                    && t.head
                        .as_ref()
                        .is_some_and(|h| analysis.target.iter().any(|(c, _)| c == h))
            })
        {
            analysis.action = Some(Action::Update);
            analysis.action_strength *= 0.7;
        }
        analysis
    }

    fn idf(&self, concept: &str) -> f32 {
        self.idf.get(concept).copied().unwrap_or(0.0)
    }

    fn score(&self, entry: &Entry, q: &Analysis, parts: &mut Option<Vec<ScorePart>>) -> f32 {
        let mut total = 0.0;
        let mut add = |what: &dyn Fn() -> String, points: f32| {
            if points != 0.0 {
                total += points;
                if let Some(parts) = parts.as_mut() {
                    parts.push(ScorePart {
                        what: what(),
                        points,
                    });
                }
            }
        };
        let weight_in = |list: &[(String, f32)], concept: &str| {
            list.iter()
                .find(|(c, _)| c == concept)
                .map_or(0.0, |(_, w)| *w)
        };

        // The thing acted on.
        if let Some(head) = &entry.head {
            let best = |list: &[(String, f32)]| {
                entry
                    .head_concepts
                    .iter()
                    .map(|(c, w)| w * weight_in(list, c))
                    .fold(0.0, f32::max)
            };
            let as_target = best(&q.target);
            let as_context = best(&q.context).max(best(&q.terms));
            if as_target > 0.0 {
                add(
                    &|| format!("thing: {head} is the target"),
                    weight::TARGET * as_target,
                );
            } else if as_context > 0.0 {
                add(
                    &|| format!("thing: {head} is named"),
                    weight::CONTEXT * as_context,
                );
            } else if !q.target.is_empty() {
                add(
                    &|| format!("thing: {head} is not named"),
                    weight::THING_MISSING,
                );
            }
        }
        for qualifier in &entry.qualifiers {
            let named = weight_in(&q.terms, qualifier).max(weight_in(&q.target, qualifier));
            if named > 0.0 {
                add(
                    &|| format!("name: {qualifier} is named"),
                    weight::QUALIFIER * named,
                );
            } else {
                // At least half: a qualifier many tools share (`pipeline`, `commit`) still counts
                // when the use case leaves it out.
                let rarity = (self.idf(qualifier) / self.max_idf()).clamp(0.5, 1.0);
                add(
                    &|| format!("name: {qualifier} is not named"),
                    weight::QUALIFIER_MISSING * rarity,
                );
            }
        }

        for (concept, w) in &q.context {
            let known = entry.head_concepts.iter().any(|(c, _)| c == concept)
                || entry.qualifiers.iter().any(|c| c == concept)
                || entry.fields.contains_key(concept);
            // Every call acts as the current user, so naming them points nowhere else.
            if !known
                && !matches!(concept.as_str(), "user" | "me")
                && self.objects.contains(concept)
            {
                add(
                    &|| format!("context: {concept} is not the tool's"),
                    weight::CONTEXT_FOREIGN * w,
                );
            }
        }

        // The action.
        if let Some(action) = &q.action {
            let fit = action_fit(action, &entry.action, entry.info.annotations);
            add(
                &|| format!("action: {action:?} asked, {:?} done", entry.action),
                weight::ACTION * fit * q.action_strength.max(0.5),
            );
        } else if !entry.info.annotations.read_only {
            // A request with no verb is a question.
            add(
                &|| "action: none asked, the tool writes".to_owned(),
                -weight::ACTION * 0.3,
            );
        }
        if entry.action.is_read() && q.action.as_ref().is_none_or(Action::is_read) {
            if q.wants_many {
                let points = if entry.many { 1.0 } else { -0.3 };
                add(&|| "number: many asked".to_owned(), weight::NUMBER * points);
            } else if q.wants_one {
                let points = if entry.many { -0.3 } else { 1.0 };
                add(&|| "number: one asked".to_owned(), weight::NUMBER * points);
            }
        }

        // The words.
        for (concept, w) in &q.terms {
            if let Some(field) = entry.fields.get(concept) {
                let points = weight::WORDS * w * field * self.idf(concept);
                add(&|| format!("word: {concept}"), points);
            }
        }
        total
    }

    fn max_idf(&self) -> f32 {
        (1.0 + self.tools.len() as f32).ln().max(f32::EPSILON)
    }
}

/// Nouns that name things even before a tool acts on them, so that a request naming one is
/// read right whatever the catalogue holds.
const CORE_OBJECTS: &[&str] = &[
    "pr",
    "issue",
    "repository",
    "branch",
    "comment",
    "file",
    "path",
    "commit",
    "tag",
    "snippet",
    "workspace",
    "member",
    "user",
    "pipeline",
    "diff",
    "project",
    "deployment",
    "review",
];

/// How well what a tool does fits what was asked, from -1.5 (a deletion for a question) to 1.0.
fn action_fit(asked: &Action, done: &Action, annotations: ToolAnnotations) -> f32 {
    use Action::*;
    if asked == done {
        return 1.0;
    }
    match (asked, done) {
        (List | Get | Search, List | Get | Search) => 0.45,
        (List | Get | Search, Delete) => -1.5,
        (List | Get | Search, _) => -1.0,
        (Delete, List | Get | Search) => -1.0,
        (Delete, _) => -0.8,
        (_, Delete) => -1.2,
        (Create, Update) | (Update, Create) => -0.3,
        (Create | Update, List | Get | Search) => -0.6,
        (Update, Other(_)) if !annotations.read_only => 0.2,
        (Create, Other(_)) => -0.3,
        (Other(_), Update) => 0.0,
        (Other(_), List | Get | Search) => -0.6,
        (Other(_), _) => -0.5,
        _ => -0.5,
    }
}

impl Entry {
    fn new(info: ToolInfo) -> Self {
        let mut name_words = text::name_words(info.name);
        let toolkit = name_words
            .first()
            .map(|w| w.raw.clone())
            .unwrap_or_default();
        // `BITBUCKET_LIST_...`: the first word is the toolkit when a verb follows it.
        if name_words.len() > 1 && lexicon::tool_verb(&name_words[1].raw).is_some() {
            name_words.remove(0);
        }
        let tokens = query::from_words(name_words);
        let verb = tokens.first().and_then(|t| lexicon::tool_verb(&t.word.raw));
        let nouns = if verb.is_some() {
            &tokens[1..]
        } else {
            &tokens[..]
        };
        let mut head_at = None;
        let mut container_from = nouns.len();
        for (i, token) in nouns.iter().enumerate() {
            if lexicon::is_preposition(&token.word.raw) {
                container_from = container_from.min(i);
            } else if i < container_from {
                head_at = Some(i);
            }
        }
        // The main concept of a name word: the first of its synonym group.
        let primary = |t: &query::Token| t.concepts.first().map(|(c, _)| c.clone());
        let mut head = head_at.and_then(|i| primary(&nouns[i]));
        // Related concepts of the head count half: `versions` are tags only a little.
        let mut head_concepts: Vec<(String, f32)> = head_at
            .map(|i| {
                nouns[i]
                    .concepts
                    .iter()
                    .enumerate()
                    .map(|(k, (c, w))| (c.clone(), if k == 0 { *w } else { w * 0.5 }))
                    .collect()
            })
            .unwrap_or_default();
        // A tool that writes `FILES` writes files; only a read of them lists a directory.
        if !info.annotations.read_only && head.as_deref() == Some("path") {
            head = Some("file".to_owned());
            head_concepts.insert(0, ("file".to_owned(), 1.0));
        }
        let head_plural = head_at.is_some_and(|i| nouns[i].word.plural);
        let mut qualifiers = Vec::new();
        let mut containers = Vec::new();
        for (i, token) in nouns.iter().enumerate() {
            if Some(i) == head_at || lexicon::is_stopword(&token.word.raw) {
                continue;
            }
            if let Some(concept) = primary(token) {
                let list = if i > container_from {
                    &mut containers
                } else {
                    &mut qualifiers
                };
                if !list.contains(&concept) && head.as_ref() != Some(&concept) {
                    list.push(concept);
                }
            }
        }
        let annotations = info.annotations;
        let action = verb.unwrap_or(if annotations.read_only {
            if head_plural {
                Action::List
            } else {
                Action::Get
            }
        } else if annotations.destructive {
            Action::Delete
        } else {
            Action::Update
        });
        let many = action == Action::List || (action == Action::Get && head_plural);

        let mut fields: HashMap<String, f32> = HashMap::new();
        let mut note = |text_tokens: Vec<query::Token>, field: f32| {
            for token in text_tokens {
                if lexicon::is_stopword(&token.word.raw)
                    || lexicon::is_generic_verb(&token.word.raw)
                {
                    continue;
                }
                for (concept, w) in token.concepts {
                    let value = field * w;
                    let slot = fields.entry(concept).or_insert(0.0);
                    *slot = slot.max(value);
                }
            }
        };
        note(tokens.clone(), weight::NAME);
        note(query::tokens(info.title), weight::TITLE);
        let (description, mentions) = without_tool_names(info.description);
        note(query::tokens(&description), weight::DESCRIPTION);
        for argument in &info.arguments {
            note(
                query::tokens(&argument.name.replace('_', " ")),
                weight::ARGUMENT,
            );
            let (text, _) = without_tool_names(&argument.description);
            note(query::tokens(&text), weight::ARGUMENT_DESCRIPTION);
        }
        Entry {
            info,
            toolkit,
            action,
            many,
            head,
            head_concepts,
            qualifiers,
            containers,
            fields,
            mentions,
        }
    }
}

/// A text without the tool names it mentions (`use BITBUCKET_UPDATE_ISSUE`), and those names:
/// a pointer to another tool says nothing about this one.
fn without_tool_names(text: &str) -> (String, Vec<String>) {
    let mut mentions = Vec::new();
    let kept: Vec<&str> = text
        .split_whitespace()
        .filter(|chunk| {
            let name = chunk.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
            let is_name = name.len() > 3
                && name.contains('_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_name && !mentions.iter().any(|m: &String| m == name) {
                mentions.push(name.to_owned());
            }
            !is_name
        })
        .collect();
    (kept.join(" "), mentions)
}

#[cfg(test)]
mod tests;
