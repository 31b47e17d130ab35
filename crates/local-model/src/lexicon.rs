//! The small domain lexicon: which words name which actions and things. Tool names supply the
//! rest (a tool called `..._LIST_PIPELINES` is found by "pipelines" with no entry here).

/// The canonical thing a word names, e.g. `PRs` → `pull_request`; `None` for other words.
pub fn noun(word: &str) -> Option<&'static str> {
    Some(match word {
        "branch" | "branches" => "branch",
        "pr" | "prs" | "pull_request" | "pull_requests" | "pull-request" | "pull-requests"
        | "mr" | "mrs" => "pull_request",
        "issue" | "issues" | "bug" | "bugs" | "ticket" | "tickets" | "task" | "tasks" => "issue",
        "repo" | "repos" | "repository" | "repositories" => "repository",
        "workspace" | "workspaces" => "workspace",
        "member" | "members" | "people" | "teammates" | "collaborators" => "member",
        "file" | "readme" => "file",
        // A listing of files is a directory's contents.
        "files" | "contents" => "path",
        "folder" | "folders" | "directory" | "directories" | "dir" | "path" => "path",
        "commit" | "commits" | "history" | "log" => "commit",
        "tag" | "tags" => "tag",
        "snippet" | "snippets" | "gist" | "gists" => "snippet",
        "comment" | "comments" => "comment",
        "pullrequest" | "pullrequests" => "pull_request",
        // What a diff does to each file: "which files does PR 2 change".
        "diffstat" | "diffstats" | "changes" => "change",
        // Build statuses, as CI posts them; `build_status` is how a tool's name joins them.
        "statuses" | "builds" | "checks" | "ci" | "build_status" | "build_statuses" => "status",
        // Code Insights is Bitbucket's name for the reports tools attach to a commit (a
        // security scan, a coverage run); their findings are the reports' annotations.
        "insight" | "insights" | "scan" | "scans" => "report",
        "finding" | "findings" => "annotation",
        "profile" | "account" | "whoami" | "user" | "username" | "handle" | "identity" => "user",
        // Pipelines: a run's step log, what a deployment step did, where it went, and the
        // variables steps read.
        "step_log" | "step_logs" => "log",
        "deployment" | "deployments" => "deployment",
        "environment" | "environments" | "env" | "envs" => "environment",
        "variable" | "variables" | "var" | "vars" => "variable",
        _ => return None,
    })
}

/// Multi-word names of things, tried before single words.
pub const NOUN_PHRASES: &[(&str, &str)] = &[
    ("pull requests", "pull_request"),
    ("pull request", "pull_request"),
    ("merge requests", "pull_request"),
    ("merge request", "pull_request"),
    // "the build status", not a build (an action) and a status.
    ("build statuses", "status"),
    ("build status", "status"),
    ("who am i", "user"),
    ("about me", "user"),
    ("who is in", "member"),
    ("who's in", "member"),
    ("who belongs to", "member"),
    ("who has access", "member"),
    ("who can access", "member"),
    ("main branch of", "repository"),
    ("default branch", "repository"),
    // A pipeline step's output, not the commit history.
    ("step log", "log"),
    ("the log of", "log"),
    ("pipeline log", "log"),
    ("build log", "log"),
    ("deployed to", "deployment"),
    ("deployed on", "deployment"),
    ("deployed in", "deployment"),
    // A listing of files is a directory's contents.
    ("the files", "path"),
    ("files in", "path"),
    ("contents of", "path"),
];

/// The name of a thing made of two words ("build status"), if `first second` is one.
pub fn compound(first: &str, second: &str) -> Option<&'static str> {
    let phrase = format!("{first} {second}");
    NOUN_PHRASES
        .iter()
        .find(|(p, _)| *p == phrase)
        .map(|(_, noun)| *noun)
}

/// Whether a word is a plural form (for choosing a list over a single item).
pub fn is_plural(word: &str) -> bool {
    matches!(word, "people" | "history" | "log")
        || (word.ends_with('s') && !ends_singular(word) && word.len() >= 3)
}

/// `access`, `status`: words that end in `s` and are one thing.
fn ends_singular(word: &str) -> bool {
    word.ends_with("ss") || word.ends_with("us")
}

/// `repositories` → `repository`, `branches` → `branch`, `pipelines` → `pipeline`.
pub fn singular(word: &str) -> String {
    if ends_singular(word) {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["ches", "shes", "sses", "xes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_owned();
        }
    }
    match word.strip_suffix('s') {
        Some(stem) if stem.len() > 1 => stem.to_owned(),
        _ => word.to_owned(),
    }
}

/// The actions a word asks for, with a weight: `fetch` → get; `show` → get or list.
pub fn verbs(word: &str, next: &str) -> &'static [(&'static str, f32)] {
    match word {
        "create" | "make" | "add" | "start" | "submit" | "init" | "setup" | "cut" => {
            &[("create", 1.0)]
        }
        "spin" if next == "up" => &[("create", 1.0)],
        // "raise a bug" creates; "raise the priority" changes.
        "raise" if matches!(next, "a" | "an" | "new") => &[("create", 1.0)],
        "raise" | "lower" | "bump" | "increase" | "decrease" | "escalate" | "downgrade" => {
            &[("update", 1.0)]
        }
        "new" => &[("create", 0.6)],
        // "open a PR" creates one; "open PRs" are a state.
        "open"
            if matches!(
                next,
                "a" | "an" | "new" | "up" | "pr" | "ticket" | "issue" | "bug" | "mr"
            ) =>
        {
            &[("create", 1.0)]
        }
        // "file a bug", "log an issue", "report a bug".
        "file" | "log" | "report" if matches!(next, "a" | "an" | "new") => &[("create", 1.0)],
        "branch" if matches!(next, "off" | "from" | "out") => &[("create", 1.0)],
        "comment" | "reply" | "respond" | "post" | "note" | "write" | "say" => {
            &[("create", 1.0), ("comment", 1.0)]
        }
        "list" | "enumerate" | "all" => &[("list", 1.0)],
        "which" => &[("list", 0.8), ("get", 0.5)],
        "show" | "display" | "see" | "what" | "what's" | "whats" | "give" | "find" => {
            &[("get", 0.8), ("list", 0.8)]
        }
        "get" | "fetch" | "grab" | "read" | "view" | "print" | "cat" | "describe" | "tell"
        | "check" | "status" | "details" | "info" | "pull" | "load" | "who" => &[("get", 1.0)],
        "update" | "change" | "set" | "edit" | "modify" | "rename" | "retitle" | "close"
        | "reopen" | "re-open" | "resolve" | "mark" | "assign" | "reassign" | "unassign"
        | "move" | "prioritize" | "reprioritize" | "put" | "flag" | "label" => &[("update", 1.0)],
        "delete" | "remove" | "drop" | "destroy" | "erase" | "trash" | "purge" | "nuke" => {
            &[("delete", 1.0)]
        }
        "browse" | "explore" | "ls" => &[("browse", 1.0)],
        // Actions people ask for that a tool may or may not offer; with no such tool, the
        // request is not mistaken for a read.
        "merge" | "approve" | "unapprove" | "decline" | "fork" | "archive" | "revert"
        | "rebase" | "deploy" | "run" | "trigger" | "build" | "push" | "watch" | "star"
        | "transfer" | "rerun" | "re-run" | "retrigger" | "restart" | "cancel" | "abort"
        | "halt" | "stop" => &[("other", 1.0)],
        _ => &[],
    }
}

/// The action a word asks for when a tool offers it under another name: "rerun" a pipeline is
/// to run it again, "cancel" one is to stop it.
pub fn own_verb(word: &str) -> Option<&'static str> {
    Some(match word {
        "rerun" | "re-run" | "retrigger" | "re-trigger" | "trigger" | "restart" => "run",
        "cancel" | "abort" | "halt" | "kill" => "stop",
        _ => return None,
    })
}

/// Words that say how something turned out: "did the build pass", "what did the scan report".
/// Asked with "did"/"is", they ask for a verdict, which every build or report of a thing
/// gives together.
pub fn is_outcome(word: &str) -> bool {
    matches!(
        word,
        "pass"
            | "passed"
            | "passing"
            | "fail"
            | "failed"
            | "failing"
            | "succeed"
            | "succeeded"
            | "break"
            | "broke"
            | "broken"
            | "green"
            | "report"
            | "find"
    )
}

/// Things that are themselves how something turned out: a build's status, a report, a
/// pipeline run. A verdict on anything else is read from its build statuses.
pub fn is_result(noun: &str) -> bool {
    matches!(noun, "status" | "report" | "annotation" | "pipeline")
}

/// Words that ask a yes/no or what-happened question ("did", "is"), before an outcome.
pub fn is_auxiliary(word: &str) -> bool {
    matches!(
        word,
        "did" | "does" | "do" | "is" | "are" | "was" | "were" | "has" | "have"
    )
}

/// Multi-word action phrases.
pub const VERB_PHRASES: &[(&str, &str)] = &[
    ("what's in", "browse"),
    ("what is in", "browse"),
    ("whats in", "browse"),
    ("contents of", "browse"),
    ("look in", "browse"),
    ("inside the", "browse"),
    ("get rid of", "delete"),
    ("tell me about", "get"),
];

/// Words that are never names of things.
pub fn is_stopword(word: &str) -> bool {
    matches!(
        word,
        "a" | "an"
            | "the"
            | "this"
            | "that"
            | "these"
            | "those"
            | "my"
            | "our"
            | "your"
            | "its"
            | "it"
            | "me"
            | "i"
            | "we"
            | "you"
            | "to"
            | "in"
            | "on"
            | "of"
            | "off"
            | "from"
            | "for"
            | "into"
            | "onto"
            | "at"
            | "by"
            | "with"
            | "and"
            | "or"
            | "as"
            | "is"
            | "are"
            | "be"
            | "it's"
            | "new"
            | "called"
            | "named"
            | "titled"
            | "based"
            | "please"
            | "one"
            | "some"
            | "any"
            | "all"
            | "there"
            | "here"
            | "up"
            | "out"
            | "now"
            | "then"
            | "saying"
            | "that's"
            | "same"
            | "current"
            | "main's"
            | "latest"
            | "last"
            | "newest"
            | "recent"
            | "first"
            | "about"
            | "which"
            | "what"
            | "do"
            | "does"
            | "can"
            | "could"
            | "would"
            | "should"
            | "will"
            | "have"
            | "has"
            | "repo"
            | "repository"
            | "branch"
            | "workspace"
            | "issue"
            | "pr"
            | "pull"
            | "request"
            | "snippet"
            | "file"
            | "folder"
            | "directory"
            | "private"
            | "public"
            | "open"
            | "closed"
            | "merged"
            | "declined"
            | "name"
            | "via"
            | "using"
            | "against"
            | "so"
            | "just"
    )
}

/// Words that usually start a branch name, so `feature/login` is a branch, not `owner/repo`.
pub fn is_branch_prefix(word: &str) -> bool {
    matches!(
        word,
        "feature"
            | "features"
            | "feat"
            | "bugfix"
            | "bug"
            | "fix"
            | "hotfix"
            | "release"
            | "releases"
            | "chore"
            | "topic"
            | "issue"
            | "experiment"
            | "dev"
            | "wip"
            | "refactor"
            | "docs"
            | "test"
            | "tests"
            | "ci"
            | "spike"
            | "users"
            | "user"
    )
}

/// Branch names common enough to be recognised without having been seen.
pub fn is_common_branch(word: &str) -> bool {
    matches!(
        word,
        "main"
            | "master"
            | "develop"
            | "development"
            | "dev"
            | "trunk"
            | "staging"
            | "production"
            | "prod"
            | "next"
            | "stable"
            | "default"
    )
}

/// Words that stand for a value of an enumerated argument: `close` → `closed`.
pub fn enum_synonyms(word: &str) -> &'static [&'static str] {
    match word {
        "close" | "closed" | "closing" => &["closed"],
        "reopen" | "re-open" | "reopened" | "re-opened" | "reopening" => &["open"],
        "resolve" | "resolved" | "fixed" | "done" => &["resolved"],
        "hold" => &["on hold"],
        "wontfix" | "won't" => &["wontfix"],
        "feature" | "improvement" => &["enhancement"],
        "todo" | "chore" => &["task"],
        "urgent" => &["critical"],
        "bug" | "bugs" => &["bug"],
        _ => &[],
    }
}

/// The states a person means by a word when filtering a list: an "open" issue is any not yet
/// dealt with, whether triaged (`open`) or not (`new`).
pub fn unfinished_states(word: &str) -> &'static [&'static str] {
    match word {
        "open" | "active" | "outstanding" => &["new", "open"],
        "unresolved" | "pending" | "remaining" => &["new", "open", "on hold"],
        _ => &[],
    }
}

/// Opposites for yes/no arguments: a `is_private` argument is false for "public".
pub fn antonym(word: &str) -> Option<&'static str> {
    Some(match word {
        "private" => "public",
        "draft" => "ready",
        _ => return None,
    })
}

/// Words that ask for the newest item of a list.
pub fn is_latest(word: &str) -> bool {
    matches!(word, "latest" | "last" | "newest" | "recent" | "youngest")
}

/// Bare file names that have no extension but are files.
pub fn is_known_file(word: &str) -> bool {
    matches!(
        word,
        "makefile"
            | "dockerfile"
            | "license"
            | "licence"
            | "readme"
            | "changelog"
            | "contributing"
            | "jenkinsfile"
            | "procfile"
            | "gemfile"
            | "codeowners"
            | "authors"
            | "notice"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_become_singular() {
        for (plural, one) in [
            ("repositories", "repository"),
            ("branches", "branch"),
            ("pipelines", "pipeline"),
            ("issues", "issue"),
            ("access", "access"),
            ("status", "status"),
            ("tag", "tag"),
        ] {
            assert_eq!(singular(plural), one);
        }
        assert!(is_plural("branches") && is_plural("prs") && !is_plural("status"));
    }

    #[test]
    fn words_name_things_and_actions() {
        assert_eq!(noun("PRs".to_lowercase().as_str()), Some("pull_request"));
        assert_eq!(noun("readme"), Some("file"));
        assert_eq!(noun("weather"), None);
        assert_eq!(verbs("open", "a"), &[("create", 1.0)]);
        assert!(verbs("open", "issues").is_empty());
        assert_eq!(verbs("branch", "off"), &[("create", 1.0)]);
        assert_eq!(compound("build", "status"), Some("status"));
        assert_eq!(noun("insights"), Some("report"));
    }
}
