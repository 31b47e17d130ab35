//! What to say when no tool fits a request: a short answer to small talk, else what was asked
//! in the user's words ("there is no tool to comment on pull requests") and the nearest things
//! the catalogue does offer for the thing or the action that was typed.

use crate::catalogue::{Catalogue, Tool};
use crate::lexicon;
use crate::text::Utterance;

/// The reply to a request that no tool fits; `topic` is what "it" refers to.
pub fn reply(request: &str, catalogue: &Catalogue, topic: Option<&str>) -> String {
    let u = Utterance::parse(request);
    if let Some(answer) = small_talk(&u) {
        return answer.to_owned();
    }
    let things = things(&u, catalogue, topic);
    let action = action(&u, catalogue);
    // The thing acted on: when commenting, what the comment is on.
    let commenting = is_commenting(&u);
    let thing = things
        .iter()
        .find(|t| !(commenting && t.as_str() == "comment"))
        .cloned()
        .or_else(|| action.as_ref().and_then(|(i, _)| object_after(&u, *i)));
    let asked = match (&action, &thing) {
        (Some(_), Some(thing)) if commenting => Some(format!("comment on {}", plural(thing))),
        (Some((_, word)), Some(thing)) => Some(format!("{word} {}", plural(thing))),
        _ => None,
    };
    let mut text = match &asked {
        Some(asked) => {
            format!("There is no tool to {asked} in this catalogue, so I did nothing.")
        }
        None => "I'm the offline model: I couldn't map that one to a Bitbucket action, so I did nothing.".to_owned(),
    };
    let for_thing: Vec<&Tool> = thing
        .as_deref()
        .map(|t| tools_about(catalogue, t))
        .unwrap_or_default();
    if let Some(thing) = thing.as_deref().filter(|_| !for_thing.is_empty()) {
        text.push_str(&format!(
            " For {} I can: {}.",
            plural(thing),
            titles(&for_thing)
        ));
        return text;
    }
    let verb = action
        .as_ref()
        .and_then(|(i, _)| tool_verb(&u, *i, catalogue));
    let for_verb: Vec<&Tool> = verb
        .map(|v| catalogue.tools.iter().filter(|t| t.verb == v).collect())
        .unwrap_or_default();
    if let Some((_, word)) = action.as_ref().filter(|_| !for_verb.is_empty()) {
        text.push_str(&format!(" What I can {word}: {}.", titles(&for_verb)));
        return text;
    }
    let mut kinds: Vec<String> = Vec::new();
    for tool in &catalogue.tools {
        let kind = plural(&tool.primary);
        if !kinds.contains(&kind) && !matches!(tool.primary.as_str(), "user" | "path") {
            kinds.push(kind);
        }
    }
    if !kinds.is_empty() {
        text.push_str(&format!(
            " I can work with {} (`/tools` lists the {} tools), in plain requests such as “list open pull requests”.",
            kinds.join(", "),
            catalogue.tools.len()
        ));
    }
    text
}

/// "thanks!", "hello", "ok": a short answer, and no action.
fn small_talk(u: &Utterance) -> Option<&'static str> {
    if u.words.is_empty() || u.len() > 6 || !u.quotes.is_empty() {
        return None;
    }
    let all = |set: &[&str]| u.words.iter().all(|w| set.contains(&w.lower.as_str()));
    let any = |set: &[&str]| u.words.iter().any(|w| set.contains(&w.lower.as_str()));
    const THANKS: &[&str] = &["thanks", "thank", "thx", "ty", "cheers", "appreciated"];
    const HELLO: &[&str] = &["hi", "hello", "hey", "morning", "evening", "yo"];
    const BYE: &[&str] = &["bye", "goodbye", "later", "cya"];
    const OK: &[&str] = &[
        "ok", "okay", "cool", "great", "nice", "perfect", "awesome", "got", "it", "good", "sounds",
        "fine", "alright", "lol", "wow",
    ];
    const FILLER: &[&str] = &[
        "you", "so", "much", "a", "lot", "there", "again", "very", "for", "that", "the", "help",
        "all", "now", "for", "see", "and", "bot", "agent",
    ];
    let known: Vec<&str> = [THANKS, HELLO, BYE, OK, FILLER].concat();
    if !all(&known) {
        return None;
    }
    if any(THANKS) {
        Some("You're welcome.")
    } else if any(HELLO) {
        Some("Hello. Tell me what to do in Bitbucket, e.g. “list open pull requests”.")
    } else if any(BYE) {
        Some("Bye.")
    } else if any(OK) {
        Some("OK.")
    } else {
        None
    }
}

/// The things a request names, in order, and what "it" stands for.
fn things(u: &Utterance, catalogue: &Catalogue, topic: Option<&str>) -> Vec<String> {
    let known: Vec<&str> = catalogue
        .tools
        .iter()
        .flat_map(|t| t.nouns.iter().map(String::as_str))
        .collect();
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    'words: while i < u.len() {
        for (phrase, noun) in lexicon::NOUN_PHRASES {
            if u.phrase_at(i, phrase) {
                found.push((*noun).to_owned());
                i += phrase.split(' ').count();
                continue 'words;
            }
        }
        let word = u.at(i as isize);
        if u.words[i].quote.is_none() {
            let noun = lexicon::noun(word).map(str::to_owned).or_else(|| {
                let one = lexicon::singular(word);
                known.contains(&one.as_str()).then_some(one)
            });
            if let Some(noun) = noun
                && !found.contains(&noun)
            {
                found.push(noun);
            }
        }
        i += 1;
    }
    let refers = u
        .words
        .iter()
        .any(|w| matches!(w.lower.as_str(), "it" | "this" | "that" | "them"));
    if let Some(topic) = topic
        && refers
        && found.iter().all(|t| t == "comment")
    {
        found.push(topic.to_owned());
    }
    found
}

fn is_commenting(u: &Utterance) -> bool {
    u.words
        .iter()
        .any(|w| w.quote.is_none() && matches!(w.lower.as_str(), "comment" | "comments" | "reply"))
}

/// The word that asks for something, as typed: `approve`, `close`, `restart`. An unknown word
/// counts only where a command starts ("restart the pipeline", "please restart ..."), so
/// "what's the weather" has none.
fn action(u: &Utterance, catalogue: &Catalogue) -> Option<(usize, String)> {
    let filler = |w: &str| {
        matches!(
            w,
            "please"
                | "pls"
                | "kindly"
                | "can"
                | "could"
                | "would"
                | "will"
                | "you"
                | "i"
                | "we"
                | "let's"
                | "lets"
                | "just"
                | "now"
                | "then"
                | "also"
                | "and"
                | "want"
                | "need"
                | "to"
                | "go"
                | "ahead"
        )
    };
    let known = |i: usize| {
        let word = u.at(i as isize);
        u.words[i].quote.is_none()
            && (catalogue.tools.iter().any(|t| t.verb == word)
                || lexicon::verbs(word, u.at(i as isize + 1))
                    .iter()
                    .any(|(v, _)| !matches!(*v, "get" | "list")))
    };
    let head = (0..u.len()).find(|&i| !filler(u.at(i as isize)))?;
    let word = u.at(head as isize);
    let imperative = u.words[head].quote.is_none()
        && word.chars().all(|c| c.is_ascii_alphabetic())
        && lexicon::noun(word).is_none()
        && !lexicon::is_stopword(word)
        && !matches!(
            word,
            "what"
                | "what's"
                | "whats"
                | "which"
                | "who"
                | "how"
                | "why"
                | "when"
                | "where"
                | "show"
                | "list"
                | "get"
                | "is"
                | "are"
                | "do"
                | "does"
        );
    if known(head) || imperative {
        return Some((head, word.to_owned()));
    }
    (head..u.len())
        .find(|&i| known(i))
        .map(|i| (i, u.at(i as isize).to_owned()))
}

/// The thing after the action word, when the catalogue has no name for it: "restart the
/// pipeline" → `pipeline`.
fn object_after(u: &Utterance, action: usize) -> Option<String> {
    (action + 1..u.len())
        .map(|j| (j, u.at(j as isize)))
        .find(|(j, w)| u.words[*j].quote.is_none() && !lexicon::is_stopword(w))
        .filter(|(_, w)| w.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
        .map(|(_, w)| lexicon::singular(w))
}

/// The catalogue's own action for the word at `i`, if it has one.
fn tool_verb(u: &Utterance, i: usize, catalogue: &Catalogue) -> Option<String> {
    let word = u.at(i as isize);
    if catalogue.tools.iter().any(|t| t.verb == word) {
        return Some(word.to_owned());
    }
    lexicon::verbs(word, u.at(i as isize + 1))
        .iter()
        .map(|(v, _)| *v)
        .find(|v| catalogue.tools.iter().any(|t| t.verb == *v))
        .map(str::to_owned)
}

fn tools_about<'c>(catalogue: &'c Catalogue, thing: &str) -> Vec<&'c Tool> {
    catalogue
        .tools
        .iter()
        .filter(|t| t.nouns.iter().any(|n| n == thing))
        .collect()
}

/// `list pull requests, get pull request, create pull request`.
fn titles(tools: &[&Tool]) -> String {
    tools
        .iter()
        .map(|t| t.title.to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `pull_request` → `pull requests`, `repository` → `repositories`.
pub fn plural(thing: &str) -> String {
    let words = thing.replace('_', " ");
    if let Some(stem) = words.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if words.ends_with("ch")
        || words.ends_with("sh")
        || words.ends_with('s')
        || words.ends_with('x')
    {
        return format!("{words}es");
    }
    if matches!(words.as_str(), "user" | "member") {
        return format!("{words}s");
    }
    format!("{words}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::catalogue;

    #[test]
    fn small_talk_gets_a_short_answer() {
        let c = catalogue();
        assert_eq!(reply("thanks!", &c, None), "You're welcome.");
        assert_eq!(reply("Thank you so much", &c, None), "You're welcome.");
        assert!(reply("hello there", &c, None).starts_with("Hello."));
        assert_eq!(reply("ok", &c, None), "OK.");
    }

    #[test]
    fn a_missing_tool_is_named_in_the_users_words_with_the_nearest_tools() {
        let c = catalogue();
        let pr = reply("comment 'looks good' on PR 1", &c, None);
        assert!(
            pr.starts_with("There is no tool to comment on pull requests in this catalogue"),
            "{pr}"
        );
        assert!(
            pr.contains("For pull requests I can: list pull requests"),
            "{pr}"
        );
        assert!(!pr.contains("OPENAI_API_KEY"), "{pr}");
        let it = reply("add a comment to it", &c, Some("pull_request"));
        assert!(it.contains("comment on pull requests"), "{it}");
        let approve = reply("approve pull request 1", &c, None);
        assert!(
            approve.starts_with("There is no tool to approve pull requests"),
            "{approve}"
        );
        let branch = reply("delete the branch feature/login", &c, None);
        assert!(
            branch.starts_with("There is no tool to delete branches"),
            "{branch}"
        );
        assert!(branch.contains("create branch"), "{branch}");
        let pipeline = reply("restart the pipeline", &c, None);
        assert!(
            pipeline.starts_with("There is no tool to restart pipelines"),
            "{pipeline}"
        );
        let weather = reply("what's the weather in Paris?", &c, None);
        assert!(weather.contains("couldn't map that one"), "{weather}");
        assert!(weather.contains("pull requests"), "{weather}");
    }

    #[test]
    fn plurals_read_as_english() {
        assert_eq!(plural("pull_request"), "pull requests");
        assert_eq!(plural("repository"), "repositories");
        assert_eq!(plural("branch"), "branches");
        assert_eq!(plural("pipeline"), "pipelines");
    }
}
