//! What the model knows about each tool, read from the catalogue it is given at run time:
//! the action and things in the tool's name, and a role for each argument from its name, type
//! and description. Nothing here names a particular tool.

use agent::ToolDefinition;
use serde_json::Value;

use crate::lexicon;

/// What an argument is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Workspace,
    /// An existing repository's slug.
    Repo,
    /// The name of the thing the tool creates (a branch's `name`, a new repository's slug).
    NewName,
    /// A number that identifies a thing, e.g. `issue_id` → `issue`.
    Number(String),
    /// A short code that identifies a thing, e.g. a snippet's `encoded_id`.
    Key(String),
    /// A git ref, by how the request introduces it.
    Ref(RefRole),
    Title,
    Body,
    Path,
    /// One of fixed values (`state`, `priority`); `array` takes several.
    Enum {
        values: Vec<String>,
        array: bool,
    },
    Bool,
    /// Files to write, each a `path` and its new `content`.
    FileWrites,
    People {
        array: bool,
    },
    Query,
    /// A web address: a build's page, a report's link.
    Url,
    Sort,
    Paging,
    Other,
}

/// How a ref argument is introduced in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefRole {
    /// Where something new starts: "off main", "from develop", "based on main".
    Start,
    /// The branch with the changes: "from feature/x", "for my feature".
    Source,
    /// The branch to merge into: "into main", "to develop".
    Destination,
    /// The ref to read at: "on develop", "the develop branch".
    At,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    /// The schema's description, lower case (it says, e.g., what a filter defaults to).
    pub description: String,
}

impl Param {
    /// Whether this argument is the number or id of a `thing`.
    pub fn identifies(&self, thing: &str) -> bool {
        matches!(&self.kind, Kind::Number(t) | Kind::Key(t) if t == thing)
    }
}

/// One tool as the model understands it.
#[derive(Debug, Clone)]
pub struct Tool {
    pub name: String,
    /// `create`, `list`, ...: the first word of the name after its namespace.
    pub verb: String,
    /// The things in the name, singular: `["issue", "comment"]`.
    pub nouns: Vec<String>,
    /// The thing it acts on: the last noun before `from`/`in`/`of` (`comment`, `file`).
    pub primary: String,
    pub title: String,
    pub params: Vec<Param>,
    pub read_only: bool,
    /// Things a read brings along, from "with its comments" in its description.
    pub covers: Vec<String>,
}

impl Tool {
    pub fn param(&self, kind: &Kind) -> Option<&Param> {
        self.params.iter().find(|p| &p.kind == kind)
    }

    pub fn has(&self, kind: &Kind) -> bool {
        self.param(kind).is_some()
    }

    pub fn named(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

const CONNECTORS: &[&str] = &["from", "in", "of", "for", "to", "on", "by", "with", "into"];
const MODIFIERS: &[&str] = &["current", "my", "all", "new"];

/// All the tools on offer.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub tools: Vec<Tool>,
}

impl Catalogue {
    pub fn new(definitions: &[ToolDefinition]) -> Self {
        Catalogue {
            tools: definitions.iter().map(read_tool).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// The tool that does `verb` to `noun` (`list` + `issue` → the issue list).
    pub fn find(&self, verb: &str, noun: &str) -> Option<&Tool> {
        self.tools
            .iter()
            .filter(|t| t.verb == verb && t.primary == noun)
            .min_by_key(|t| t.nouns.len())
    }
}

fn read_tool(definition: &ToolDefinition) -> Tool {
    let mut words: Vec<String> = definition
        .name
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        // Composio numbers a second tool on one path: `..._PIPELINES2` is about pipelines.
        .map(|w| {
            let bare = w.trim_end_matches(|c: char| c.is_ascii_digit());
            if bare.is_empty() { w } else { bare }.to_lowercase()
        })
        .collect();
    // `BITBUCKET_CREATE_BRANCH`: the first word is a namespace unless it is the action.
    if words.len() > 2 && lexicon::verbs(&words[0], "").is_empty() && !is_tool_verb(&words[0]) {
        words.remove(0);
    }
    let verb = words.first().cloned().unwrap_or_default();
    let mut nouns = Vec::new();
    let mut primary = None;
    let mut i = 1;
    while i < words.len() {
        let word = words[i].as_str();
        if CONNECTORS.contains(&word) {
            if primary.is_none() {
                primary = nouns.last().cloned();
            }
            i += 1;
            continue;
        }
        if MODIFIERS.contains(&word) || word.chars().all(|c| c.is_ascii_digit()) {
            i += 1;
            continue;
        }
        let joined = words
            .get(i + 1)
            .map(|next| format!("{word}_{next}"))
            .and_then(|pair| lexicon::noun(&pair).map(|n| (n, 2)));
        let (noun, used) = match joined {
            Some((noun, used)) => (noun.to_owned(), used),
            None => (
                lexicon::noun(word).map_or_else(|| lexicon::singular(word), str::to_owned),
                1,
            ),
        };
        nouns.push(noun);
        i += used;
    }
    // A tool that writes files (`COMMIT_FILES`) writes files, not a directory listing.
    if definition.annotations.read_only != Some(true) {
        for noun in &mut nouns {
            if noun == "path" {
                "file".clone_into(noun);
            }
        }
        if primary.as_deref() == Some("path") {
            primary = Some("file".to_owned());
        }
    }
    let primary = primary
        .or_else(|| nouns.last().cloned())
        .unwrap_or_default();
    let schema = &definition.input_schema;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let params: Vec<Param> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .map(|(name, prop)| Param {
                    kind: kind_of(name, prop, &verb, &primary, &nouns),
                    required: required.contains(&name.as_str()),
                    description: prop
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_lowercase(),
                    name: name.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    // `GET_PULL_REQUEST_COMMITS` answers with many: it is a list whatever its verb says. But
    // `GET_..._REPORTS_ANNOTATIONS` takes the id of one annotation: it gets that one.
    let names_one = params.iter().any(|p| p.required && p.identifies(&primary));
    let verb = if verb == "get" && words.last().is_some_and(|w| lexicon::is_plural(w)) && !names_one
    {
        "list".to_owned()
    } else {
        verb
    };
    Tool {
        name: definition.name.clone(),
        title: definition
            .annotations
            .title
            .clone()
            .unwrap_or_else(|| words.join(" ")),
        covers: definition
            .description
            .as_deref()
            .map(brought_along)
            .unwrap_or_default(),
        verb,
        nouns,
        primary,
        params,
        read_only: definition.annotations.read_only == Some(true),
    }
}

/// "Shows one issue with its comments": the things after "with its" in the first sentence.
fn brought_along(description: &str) -> Vec<String> {
    let sentence = description
        .split(['.', ':'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let words: Vec<&str> = sentence.split_whitespace().collect();
    words
        .windows(3)
        .filter(|w| w[0] == "with" && matches!(w[1], "its" | "their"))
        .filter_map(|w| lexicon::noun(w[2].trim_matches(',')))
        .map(str::to_owned)
        .collect()
}

fn is_tool_verb(word: &str) -> bool {
    matches!(
        word,
        "merge" | "approve" | "decline" | "unapprove" | "browse" | "search" | "fork" | "watch"
    )
}

fn kind_of(name: &str, prop: &Value, verb: &str, primary: &str, nouns: &[String]) -> Kind {
    let ty = prop.get("type").and_then(Value::as_str).unwrap_or("");
    let description = prop
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let array = ty == "array";
    let values: Vec<String> = prop
        .get("enum")
        .or_else(|| prop.get("items").and_then(|i| i.get("enum")))
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let creates = verb == "create";
    match name {
        "workspace" | "workspace_slug" | "owner" => Kind::Workspace,
        "repo_slug" | "repository" | "repo" | "repo_name" if creates && primary == "repository" => {
            Kind::NewName
        }
        "repo_slug" | "repository" | "repo" | "repo_name" => Kind::Repo,
        "name" | "branch_name" | "tag_name" if creates => Kind::NewName,
        "name" if primary == "branch" || primary == "tag" => Kind::NewName,
        "target" | "target_hash" | "start_point" | "base" | "from" => Kind::Ref(RefRole::Start),
        "source_branch" | "source" | "head" => Kind::Ref(RefRole::Source),
        "destination_branch" | "destination" | "target_branch" | "into" => {
            Kind::Ref(RefRole::Destination)
        }
        "branch" | "commit" | "ref" | "revision" | "at" => Kind::Ref(RefRole::At),
        "title" | "summary" | "subject" => Kind::Title,
        "content" | "description" | "body" | "message" | "text" | "raw" => Kind::Body,
        "path" | "file" | "file_path" | "filename" | "filepath" => Kind::Path,
        "q" | "query" | "filter" => Kind::Query,
        "sort" | "order_by" => Kind::Sort,
        "page" | "pagelen" | "per_page" | "limit" | "cursor" => Kind::Paging,
        "reviewers" | "assignee" | "assignees" | "reviewer" | "author" | "user" => {
            Kind::People { array }
        }
        _ if !values.is_empty() => Kind::Enum { values, array },
        _ if ty == "boolean" => Kind::Bool,
        // A line of a file, as in "on line 3 of src/main.rs".
        "line" if ty == "integer" => Kind::Number("line".to_owned()),
        "files" if array && prop.pointer("/items/properties/content").is_some() => Kind::FileWrites,
        _ if name.ends_with("_id") && ty == "integer" => {
            let thing = &name[..name.len() - 3];
            Kind::Number(lexicon::noun(thing).map_or_else(|| thing.to_owned(), str::to_owned))
        }
        "url" | "link" | "href" => Kind::Url,
        _ if name.ends_with("_url") => Kind::Url,
        // Whose profile: a user named by username ("user alice").
        "selected_user" | "username" if ty == "string" => Kind::Key("user".to_owned()),
        // A build status's `key` ("ci/build") is the id it is known by.
        "key" if ty == "string" => Kind::Key(primary.to_owned()),
        _ if name.ends_with("id") && ty == "string" => Kind::Key(
            named_owner(name, nouns).unwrap_or_else(|| primary_owner(primary, &description)),
        ),
        _ => Kind::Other,
    }
}

/// Whose id an id is by its name, when the tool's name has that thing: `report_id` of
/// `..._REPORTS_ANNOTATIONS` names the report, not the annotation.
fn named_owner(name: &str, nouns: &[String]) -> Option<String> {
    let thing = name.strip_suffix("_id")?;
    let thing = lexicon::noun(thing).map_or_else(|| lexicon::singular(thing), str::to_owned);
    nouns.contains(&thing).then_some(thing)
}

/// Whose id a string id is: a snippet comment's `encoded_id` names the snippet.
fn primary_owner(primary: &str, description: &str) -> String {
    ["snippet", "repository", "workspace", "pipeline", "project"]
        .into_iter()
        .find(|noun| description.contains(noun))
        .map_or_else(|| primary.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use agent::ToolAnnotations;
    use serde_json::json;

    use super::*;

    fn tool(name: &str, schema: Value) -> Tool {
        read_tool(
            &ToolDefinition::new(name, "", schema)
                .with_annotations(ToolAnnotations::default().read_only(true)),
        )
    }

    #[test]
    fn names_give_the_action_and_the_thing() {
        let cases = [
            (
                "BITBUCKET_CREATE_BRANCH",
                "create",
                "branch",
                vec!["branch"],
            ),
            (
                "BITBUCKET_CREATE_ISSUE_COMMENT",
                "create",
                "comment",
                vec!["issue", "comment"],
            ),
            (
                "BITBUCKET_GET_FILE_FROM_REPOSITORY",
                "get",
                "file",
                vec!["file", "repository"],
            ),
            (
                "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
                "list",
                "repository",
                vec!["repository", "workspace"],
            ),
            (
                "BITBUCKET_LIST_WORKSPACE_MEMBERS",
                "list",
                "member",
                vec!["workspace", "member"],
            ),
            ("BITBUCKET_GET_CURRENT_USER", "get", "user", vec!["user"]),
            (
                "BITBUCKET_LIST_PULL_REQUESTS",
                "list",
                "pull_request",
                vec!["pull_request"],
            ),
            (
                "BITBUCKET_LIST_PIPELINES",
                "list",
                "pipeline",
                vec!["pipeline"],
            ),
            (
                "BITBUCKET_GET_COMMIT_BUILD_STATUS",
                "get",
                "status",
                vec!["commit", "status"],
            ),
            (
                "merge_pull_request",
                "merge",
                "pull_request",
                vec!["pull_request"],
            ),
        ];
        for (name, verb, primary, nouns) in cases {
            let t = tool(name, json!({"type": "object"}));
            assert_eq!(
                (t.verb.as_str(), t.primary.as_str()),
                (verb, primary),
                "{name}"
            );
            assert_eq!(t.nouns, nouns, "{name}");
        }
    }

    #[test]
    fn arguments_get_roles_from_name_type_and_description() {
        let t = tool(
            "BITBUCKET_UPDATE_ISSUE",
            json!({"type": "object", "required": ["workspace", "issue_id"], "properties": {
                "workspace": {"type": "string"},
                "repo_slug": {"type": "string"},
                "issue_id": {"type": "integer"},
                "state": {"type": "string", "enum": ["open", "closed"]},
                "is_draft": {"type": "boolean"},
                "encoded_id": {"type": "string", "description": "The snippet's id"},
                "source_branch": {"type": "string"},
            }}),
        );
        let kinds: Vec<(&str, &Kind)> = t
            .params
            .iter()
            .map(|p| (p.name.as_str(), &p.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("workspace", &Kind::Workspace),
                ("repo_slug", &Kind::Repo),
                ("issue_id", &Kind::Number("issue".into())),
                (
                    "state",
                    &Kind::Enum {
                        values: vec!["open".into(), "closed".into()],
                        array: false
                    }
                ),
                ("is_draft", &Kind::Bool),
                ("encoded_id", &Kind::Key("snippet".into())),
                ("source_branch", &Kind::Ref(RefRole::Source)),
            ]
        );
        assert!(t.params[0].required && !t.params[1].required);
        // An id names the thing it says, when the tool's name has it; a `key` and a `url`
        // have roles of their own.
        let annotation = tool(
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            json!({"type": "object", "required": ["report_id", "annotation_id"], "properties": {
                "report_id": {"type": "string"},
                "annotation_id": {"type": "string"},
                "key": {"type": "string"},
                "url": {"type": "string"},
            }}),
        );
        let kinds: Vec<&Kind> = annotation.params.iter().map(|p| &p.kind).collect();
        assert_eq!(
            kinds,
            [
                &Kind::Key("report".into()),
                &Kind::Key("annotation".into()),
                &Kind::Key("annotation".into()),
                &Kind::Url,
            ]
        );
        // It takes the id of one annotation: it gets one, though its name ends in a plural.
        assert_eq!(annotation.verb, "get");
        let create = tool(
            "BITBUCKET_CREATE_REPOSITORY",
            json!({"type": "object", "properties": {"repo_slug": {"type": "string"}}}),
        );
        assert_eq!(create.params[0].kind, Kind::NewName);
    }
}
