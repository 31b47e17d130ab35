//! The domain vocabulary: which words name the same thing (PR, pull request, merge request),
//! which words ask for which action, and which words carry no meaning. Tool names and
//! descriptions supply everything else: a tool called `..._LIST_PIPELINES` is found by
//! "pipelines" with no entry here.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::text::stem;

/// What a request asks to do, and what a tool does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Many things: list, browse, "which".
    List,
    /// One thing: get, show, "is it ...".
    Get,
    /// Find by content.
    Search,
    /// Make something new.
    Create,
    /// Change something that exists.
    Update,
    /// Destroy something.
    Delete,
    /// A verb of its own (approve, merge, decline, ...), by its stem.
    Other(String),
}

impl Action {
    /// Reads change nothing.
    pub fn is_read(&self) -> bool {
        matches!(self, Action::List | Action::Get | Action::Search)
    }
}

/// Concepts a word stands for, with a weight (1.0: the same thing; less: related).
pub(crate) type Concepts = &'static [(&'static str, f32)];

/// Synonym groups, keyed by the written word (tried first) or its stem.
const CONCEPTS: &[(&[&str], Concepts)] = &[
    (
        &[
            "pr",
            "prs",
            "pullrequest",
            "pullrequests",
            "mr",
            "mrs",
            "pull-request",
        ],
        &[("pr", 1.0)],
    ),
    (&["review", "reviews"], &[("review", 1.0), ("pr", 0.6)]),
    (
        &["reviewer", "reviewers"],
        &[("review", 1.0), ("member", 0.3)],
    ),
    (
        &["issue", "ticket", "bug", "defect", "incident"],
        &[("issue", 1.0)],
    ),
    (&["task", "todo"], &[("issue", 0.7), ("task", 1.0)]),
    (&["tracker"], &[("issue", 0.6), ("tracker", 1.0)]),
    (
        &["repo", "repository", "repos", "codebase"],
        &[("repository", 1.0)],
    ),
    (&["branch", "ref"], &[("branch", 1.0)]),
    (&["refs"], &[("branch", 0.8), ("tag", 0.5)]),
    (
        &[
            "comment", "reply", "respond", "response", "note", "remark", "answer",
        ],
        &[("comment", 1.0)],
    ),
    (&["feedback"], &[("comment", 0.7)]),
    (&["reminder", "followup", "message"], &[("comment", 0.8)]),
    // Pushing makes commits.
    (&["push", "pushed"], &[("commit", 0.8)]),
    (&["approve", "approval", "lgtm"], &[("approve", 1.0)]),
    (
        &["file", "readme", "changelog", "dockerfile", "makefile"],
        &[("file", 1.0), ("path", 0.3)],
    ),
    (&["files"], &[("path", 1.0), ("file", 0.6)]),
    (&["source", "code"], &[("file", 0.5), ("code", 1.0)]),
    (&["path", "paths"], &[("path", 1.0), ("file", 0.3)]),
    (
        &[
            "directory",
            "directories",
            "folder",
            "folders",
            "dir",
            "tree",
            "subdirectory",
            "subdirectories",
            "subfolder",
        ],
        &[("path", 1.0), ("directory", 1.0)],
    ),
    (
        &["commit", "history", "revision", "changeset"],
        &[("commit", 1.0)],
    ),
    (&["hash", "sha"], &[("hash", 1.0), ("commit", 0.5)]),
    (&["tag"], &[("tag", 1.0)]),
    (&["release", "version"], &[("version", 1.0), ("tag", 0.6)]),
    (&["snippet", "gist", "paste"], &[("snippet", 1.0)]),
    (&["workspace", "organization", "org"], &[("workspace", 1.0)]),
    (&["team"], &[("workspace", 1.0), ("member", 0.3)]),
    (
        &["crash", "regression", "glitch", "outage"],
        &[("issue", 0.7)],
    ),
    (
        &[
            "member",
            "people",
            "person",
            "teammate",
            "colleague",
            "collaborator",
            "contributor",
            "coworker",
        ],
        &[("member", 1.0)],
    ),
    (&["profile", "credential", "identity"], &[("user", 1.0)]),
    // Someone else's user is a member of a workspace.
    (&["user", "users"], &[("user", 1.0), ("member", 0.4)]),
    // Members have accounts too.
    (&["account"], &[("user", 0.6)]),
    (
        &["everyone", "everybody", "anyone", "anybody"],
        &[("member", 1.0)],
    ),
    (&["whoami"], &[("user", 1.0), ("me", 1.0)]),
    (&["current", "myself", "authenticated"], &[("me", 1.0)]),
    (&["me", "my", "i", "mine"], &[("me", 0.4)]),
    (&["pipeline", "ci", "cd"], &[("pipeline", 1.0)]),
    (&["build"], &[("pipeline", 0.7), ("build", 1.0)]),
    (&["diff", "patch", "diffstat"], &[("diff", 1.0)]),
    (&["author", "creator"], &[("author", 1.0)]),
    (&["status", "state"], &[("state", 1.0)]),
    // A verdict asked of a build is its status.
    (
        &["pass", "passed", "green", "red", "broken"],
        &[("state", 0.8)],
    ),
    (&["result"], &[("state", 0.6)]),
    (&["oidc", "openid", "issuer"], &[("openid", 1.0)]),
    (
        &["delete", "remove", "erase", "destroy", "purge"],
        &[("delete", 1.0)],
    ),
    (&["close", "resolve"], &[("close", 1.0)]),
    (&["rename", "retitle"], &[("title", 1.0)]),
];

/// Multi-word names, matched on stems before single words, with the verb a phrase stands for.
pub(crate) const PHRASES: &[(&[&str], Concepts, Option<&str>)] = &[
    (&["pull", "request"], &[("pr", 1.0)], None),
    (&["merge", "request"], &[("pr", 1.0)], None),
    (&["change", "request"], &[("pr", 1.0)], None),
    (&["code", "review"], &[("pr", 1.0), ("review", 1.0)], None),
    (
        &["who", "am", "i"],
        &[("user", 1.0), ("me", 1.0)],
        Some("get"),
    ),
    (&["logged", "in"], &[("user", 0.6), ("me", 1.0)], None),
    (&["sign", "in"], &[("user", 0.6), ("me", 1.0)], None),
    (
        &["issue", "tracker"],
        &[("issue", 1.0), ("tracker", 1.0)],
        None,
    ),
    (&["bug", "report"], &[("issue", 1.0)], None),
    (&["get", "rid", "of"], &[], Some("delete")),
    (&["ask", "for"], &[], Some("create")),
    (&["follow", "up"], &[("comment", 1.0)], Some("create")),
    (
        &["remove", "my", "approval"],
        &[("approve", 1.0)],
        Some("unapprove"),
    ),
    (
        &["remove", "approval"],
        &[("approve", 1.0)],
        Some("unapprove"),
    ),
    (
        &["withdraw", "my", "approval"],
        &[("approve", 1.0)],
        Some("unapprove"),
    ),
    (
        &["withdraw", "approval"],
        &[("approve", 1.0)],
        Some("unapprove"),
    ),
    (
        &["revoke", "approval"],
        &[("approve", 1.0)],
        Some("unapprove"),
    ),
    (&["tear", "down"], &[], Some("delete")),
    (&["shut", "down"], &[], Some("delete")),
    (&["commit", "message"], &[("commit", 1.0)], None),
    (&["source", "code"], &[("file", 1.0), ("code", 0.5)], None),
    (&["an", "update"], &[("comment", 0.9)], None),
    (&["status", "update"], &[("comment", 0.9)], None),
    (&["feature", "request"], &[("issue", 1.0)], None),
    (&["enhancement"], &[("issue", 1.0)], None),
    (&["proposal"], &[("issue", 0.8)], None),
    // "who can I assign this to": people are asked for.
    (&["who", "can"], &[("member", 1.0)], Some("list")),
    (&["who", "should"], &[("member", 1.0)], Some("list")),
    (&["who", "has", "access"], &[("member", 1.0)], Some("list")),
    (&["who", "is", "on"], &[("member", 1.0)], Some("list")),
    (&["who", "on"], &[("member", 1.0)], Some("list")),
    (&["who", "is", "in"], &[("member", 1.0)], Some("list")),
    (&["who", "in"], &[("member", 1.0)], Some("list")),
    (&["who", "are", "in"], &[("member", 1.0)], Some("list")),
    (&["set", "up"], &[], Some("create")),
    (&["spin", "up"], &[], Some("create")),
    (&["look", "up"], &[], Some("get")),
    (&["sign", "off"], &[("approve", 1.0)], Some("approve")),
    (&["thumbs", "up"], &[("approve", 1.0)], Some("approve")),
    (
        &["what", "changed"],
        &[("commit", 0.8), ("change", 1.0)],
        Some("list"),
    ),
    (&["git", "log"], &[("commit", 1.0)], Some("list")),
    (&["who", "changed"], &[("commit", 1.0)], Some("list")),
    (&["commit", "log"], &[("commit", 1.0)], Some("list")),
    // A repository's main branch is one of its properties, not a branch to act on.
    (&["default", "branch"], &[("mainbranch", 1.0)], None),
    (&["main", "branch"], &[("mainbranch", 1.0)], None),
];

/// How strongly a word asks for an action, and in which position it must stand.
pub(crate) struct Verb {
    pub action: Action,
    pub strength: f32,
    /// Only counts as the request's verb at the start of a clause ("open a PR", not "the open
    /// PRs"); other words are verbs wherever they stand.
    pub clause_start: bool,
    /// The thing the verb itself makes, when nothing else is named as its object ("tell the
    /// reporter" makes a comment).
    pub thing: Option<&'static str>,
}

fn verb(action: Action, strength: f32, clause_start: bool) -> Option<Verb> {
    Some(Verb {
        action,
        strength,
        clause_start,
        thing: None,
    })
}

/// The action a word asks for, given the word after it; `None` for other words.
pub(crate) fn verb_of(word: &str, next: Option<&str>) -> Option<Verb> {
    let article_next = matches!(next, Some("a" | "an" | "new" | "up" | "another"));
    match word {
        "create" | "add" | "make" | "submit" | "init" | "initialize" | "cut" | "propose"
        | "draft" | "generate" | "start" | "begin" => verb(Action::Create, 1.0, false),
        // "write on issue 15 that ...": with nothing else named, what is written is a comment.
        "leave" | "post" | "write" | "say" => Some(Verb {
            action: Action::Create,
            strength: 1.0,
            clause_start: false,
            thing: Some("comment"),
        }),
        // "I found a bug: ...": a report.
        "found" | "noticed" | "spotted" | "hit" | "encountered" if article_next => {
            verb(Action::Create, 0.8, false)
        }
        "comment" | "reply" | "respond" | "answer" => Some(Verb {
            action: Action::Create,
            strength: 0.9,
            clause_start: true,
            thing: Some("comment"),
        }),
        // "give issue 4 to carol" hands it over.
        "give" | "hand" if matches!(next, Some("issue" | "ticket" | "bug" | "task" | "pr")) => {
            verb(Action::Update, 1.0, false)
        }
        "new" => verb(Action::Create, 0.5, false),
        // "I need a hotfix branch", "track a feature request".
        "need" | "want" | "track" if article_next => verb(Action::Create, 0.8, false),
        // Telling someone else is writing to them; "tell me" is a question.
        "tell" | "notify" | "inform" | "ping" | "ask" | "remind"
            if !matches!(next, Some("me" | "us" | "about" | "for")) =>
        {
            Some(Verb {
                action: Action::Create,
                strength: 1.0,
                clause_start: false,
                thing: Some("comment"),
            })
        }
        "open" if article_next => verb(Action::Create, 1.0, true),
        "open" if matches!(next, Some("the" | "this" | "that" | "my" | "our" | "file")) => {
            verb(Action::Get, 1.0, true)
        }
        "open" if matches!(next, Some("pr" | "mr" | "issue" | "ticket" | "bug")) => {
            verb(Action::Create, 1.0, true)
        }
        "file" | "log" | "report" if article_next => verb(Action::Create, 1.0, true),
        "raise" if article_next => verb(Action::Create, 1.0, false),
        "branch" if matches!(next, Some("off" | "from" | "out")) => verb(Action::Create, 1.0, true),
        "list" | "enumerate" | "browse" | "ls" => verb(Action::List, 1.0, false),
        "which" | "any" => verb(Action::List, 0.6, false),
        "find" | "locate" => verb(Action::List, 0.8, false),
        "search" | "grep" => verb(Action::Search, 1.0, false),
        "get" | "show" | "display" | "view" | "read" | "fetch" | "see" | "inspect" | "describe"
        | "tell" | "print" | "cat" | "retrieve" | "lookup" | "check" | "look" => {
            verb(Action::Get, 1.0, false)
        }
        // "give my LGTM": a light verb; the noun says what is done.
        "give" => verb(Action::Get, 0.6, false),
        "what" | "who" | "whose" | "when" | "how" => verb(Action::Get, 0.6, false),
        "is" | "are" | "does" | "do" | "has" | "have" | "was" | "were" | "can" => {
            verb(Action::Get, 0.5, true)
        }
        "update" | "change" | "edit" | "modify" | "set" | "rename" | "retitle" | "close"
        | "reopen" | "resolve" | "mark" | "assign" | "reassign" | "unassign" | "move"
        | "prioritize" | "reprioritize" | "escalate" | "bump" | "lower" | "label" | "triage"
        | "transition" | "raise" | "tweak" | "adjust" | "switch" => {
            verb(Action::Update, 1.0, false)
        }
        "delete" | "remove" | "drop" | "destroy" | "erase" | "purge" | "trash" | "nuke"
        | "wipe" | "decommission" => verb(Action::Delete, 1.0, false),
        "approve" | "lgtm" => verb(Action::Other(stem("approve")), 1.0, false),
        // "commit a fix"; "commit history" is a thing.
        "commit"
            if matches!(
                next,
                Some("a" | "an" | "the" | "my" | "this" | "these" | "those" | "changes" | "all")
            ) =>
        {
            verb(Action::Other(stem("commit")), 1.0, false)
        }
        "merge" | "land" => verb(Action::Other(stem("merge")), 1.0, false),
        "decline" | "reject" => verb(Action::Other(stem("decline")), 1.0, false),
        "unapprove" | "fork" | "watch" | "unwatch" | "vote" | "revert" | "rerun" | "trigger"
        | "run" | "stop" | "cancel" | "request" => verb(Action::Other(stem(word)), 1.0, false),
        _ => None,
    }
}

/// The action of a tool's name verb (`LIST`, `GET`, `BROWSE`, `APPROVE`, ...).
pub(crate) fn tool_verb(word: &str) -> Option<Action> {
    Some(match word {
        "list" | "browse" | "enumerate" => Action::List,
        "get" | "read" | "show" | "fetch" | "describe" => Action::Get,
        "search" | "find" => Action::Search,
        "create" | "add" | "open" | "post" => Action::Create,
        "update" | "edit" | "set" | "change" | "modify" | "resolve" | "close" | "reopen" => {
            Action::Update
        }
        "delete" | "remove" => Action::Delete,
        "approve" | "unapprove" | "merge" | "decline" | "request" | "fork" | "watch" | "commit"
        | "unwatch" | "vote" | "revert" | "run" | "trigger" | "stop" | "cancel" => {
            Action::Other(stem(word))
        }
        _ => return None,
    })
}

/// Words that carry no meaning for search, and the prepositions that mark a noun as context
/// ("from my branch") rather than the thing acted on.
pub(crate) fn is_stopword(word: &str) -> bool {
    is_preposition(word)
        || matches!(
            word,
            "a" | "an"
                | "the"
                | "this"
                | "that"
                | "these"
                | "those"
                | "our"
                | "your"
                | "their"
                | "its"
                | "it"
                | "we"
                | "you"
                | "they"
                | "and"
                | "or"
                | "but"
                | "is"
                | "are"
                | "be"
                | "been"
                | "was"
                | "were"
                | "am"
                | "do"
                | "does"
                | "did"
                | "has"
                | "have"
                | "had"
                | "can"
                | "could"
                | "would"
                | "should"
                | "will"
                | "please"
                | "some"
                | "there"
                | "here"
                | "up"
                | "out"
                | "now"
                | "then"
                | "so"
                | "if"
                | "not"
                | "no"
                | "still"
                | "just"
                | "also"
                | "want"
                | "need"
                | "like"
                | "let"
                | "lets"
                | "help"
                | "e"
                | "g"
                | "eg"
                | "ie"
                | "etc"
                | "one"
                | "only"
                | "unless"
                | "use"
                | "it's"
                | "dont"
                | "whether"
                | "otherwise"
                | "instead"
                | "each"
                | "them"
                | "him"
                | "her"
                | "his"
        )
}

pub(crate) fn is_preposition(word: &str) -> bool {
    matches!(
        word,
        "of" | "on"
            | "in"
            | "into"
            | "to"
            | "from"
            | "for"
            | "off"
            | "onto"
            | "at"
            | "by"
            | "with"
            | "about"
            | "under"
            | "inside"
            | "within"
            | "across"
            | "via"
            | "through"
            | "as"
            | "against"
            | "between"
            | "per"
            | "without"
            | "including"
    )
}

/// Words after which a clause-start verb may stand ("please open a PR", "I want to open a PR").
pub(crate) fn opens_clause(word: &str) -> bool {
    matches!(
        word,
        "please"
            | "to"
            | "and"
            | "then"
            | "i"
            | "we"
            | "you"
            | "can"
            | "could"
            | "would"
            | "should"
            | "let"
            | "lets"
            | "us"
            | "me"
            | "want"
            | "need"
            | "just"
            | "also"
            | "now"
            | "go"
            | "pls"
    )
}

/// Generic verbs, handled as the action only: as words they match every tool alike.
pub(crate) fn is_generic_verb(word: &str) -> bool {
    matches!(
        word,
        "list"
            | "get"
            | "show"
            | "display"
            | "view"
            | "fetch"
            | "see"
            | "give"
            | "create"
            | "make"
            | "add"
            | "new"
            | "update"
            | "change"
            | "edit"
            | "modify"
            | "set"
            | "find"
            | "look"
            | "tell"
            | "what"
            | "which"
            | "who"
            | "whose"
            | "when"
            | "how"
            | "all"
            | "every"
            | "any"
            | "start"
            | "leave"
            | "check"
            | "read"
            | "write"
            | "post"
    )
}

/// The concepts of a word: its synonym group, else its stem alone.
pub(crate) fn concepts(raw: &str, stemmed: &str) -> Vec<(String, f32)> {
    let table = table();
    if let Some(found) = table.get(raw).or_else(|| table.get(stemmed)) {
        return found.iter().map(|(c, w)| ((*c).to_owned(), *w)).collect();
    }
    vec![(stemmed.to_owned(), 1.0)]
}

/// Whether the vocabulary knows a word (written or stemmed).
pub(crate) fn is_known(word: &str) -> bool {
    table().contains_key(word) || table().contains_key(&stem(word))
}

/// A compound of two known words, split (`filehistory` → `file`, `history`); `None` for a
/// known word or anything else.
pub(crate) fn split_compound(word: &str) -> Option<(&str, &str)> {
    if word.len() < 6 || is_known(word) || !word.is_ascii() {
        return None;
    }
    (3..=word.len() - 3)
        .map(|i| word.split_at(i))
        .find(|(a, b)| is_known(a) && is_known(b))
}

fn table() -> &'static HashMap<String, Concepts> {
    static TABLE: OnceLock<HashMap<String, Concepts>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = HashMap::new();
        for (words, concepts) in CONCEPTS {
            for word in *words {
                map.insert((*word).to_owned(), *concepts);
                map.entry(stem(word)).or_insert(*concepts);
            }
        }
        map
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_share_a_concept() {
        let first = |word: &str| concepts(word, &stem(word))[0].0.clone();
        let table = [
            ("PRs", "pr"),
            ("ticket", "issue"),
            ("bugs", "issue"),
            ("repos", "repository"),
            ("repositories", "repository"),
            ("reply", "comment"),
            ("lgtm", "approve"),
            ("folders", "path"),
            ("pipelines", "pipeline"),
            ("removing", "delete"),
            ("widgets", "widget"),
        ];
        for (word, concept) in table {
            assert_eq!(first(&word.to_lowercase()), concept, "{word}");
        }
    }

    #[test]
    fn open_creates_only_before_an_article_or_a_thing() {
        let action = |word: &str, next: Option<&str>| verb_of(word, next).map(|v| v.action);
        assert_eq!(action("open", Some("a")), Some(Action::Create));
        assert_eq!(action("open", Some("pr")), Some(Action::Create));
        assert_eq!(action("open", Some("the")), Some(Action::Get));
        assert_eq!(action("open", Some("prs")), None);
        assert_eq!(action("raise", Some("a")), Some(Action::Create));
        assert_eq!(action("raise", Some("the")), Some(Action::Update));
        assert_eq!(action("file", Some("report")), None);
    }
}
