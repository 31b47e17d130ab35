//! What the conversation is about, read from the history alone (each turn may run in a new
//! process): the workspace, repository, branch, issue and pull request last mentioned or
//! returned by a tool, on top of the defaults the instructions name.

use std::collections::HashMap;

use agent::Message;
use serde_json::Value;

use crate::catalogue::{Catalogue, Kind, RefRole, Tool};
use crate::understand::Known;

/// One finished tool call: what was asked and what came back.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub content: String,
    pub is_error: bool,
    pub structured: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Focus {
    pub workspace: Option<String>,
    pub repo: Option<String>,
    /// The branch last named or created.
    pub branch: Option<String>,
    /// The branch this conversation created last, with its `workspace/repo`.
    pub created_branch: Option<(String, String)>,
    /// The last number seen per thing: `issue` → 2.
    pub numbers: HashMap<String, u64>,
    /// The last short id seen per thing: `snippet` → `kypj`.
    pub keys: HashMap<String, String>,
    /// The ids of the last list per thing, in its order ("the first one").
    pub listed: HashMap<String, Vec<u64>>,
    /// The thing the last tool call was about ("close it").
    pub topic: Option<String>,
    /// The paths in the last directory listing, and the ref it was read at ("show guide.md").
    pub files: Vec<String>,
    pub files_ref: Option<String>,
    /// The workspace and repository the instructions name, which a one-off request elsewhere
    /// does not replace.
    pub default_workspace: Option<String>,
    pub default_repo: Option<String>,
    pub known: Known,
}

impl Focus {
    /// Starts from the defaults in the instructions: "workspace `acme`", "repository `widgets`".
    pub fn from_instructions(instructions: Option<&str>) -> Self {
        let mut focus = Focus::default();
        if let Some(text) = instructions {
            focus.workspace = quoted_after(text, "workspace `");
            focus.repo = quoted_after(text, "repository `");
        }
        if let Some(ws) = &focus.workspace {
            focus.known.workspaces.push(ws.clone());
        }
        if let Some(repo) = &focus.repo {
            focus.known.repositories.push(repo.clone());
        }
        focus.default_workspace = focus.workspace.clone();
        focus.default_repo = focus.repo.clone();
        focus
    }

    /// Goes back to the defaults when the request does not refer to what the last turns were
    /// about: after one question about `website`, "list open issues" is about the default
    /// repository again. What was seen elsewhere (numbers, lists) goes with it.
    pub fn unless_referred_to(&mut self, request: &str) {
        if self.default_workspace.is_none() {
            return;
        }
        let away = self.workspace != self.default_workspace
            || (self.default_repo.is_some() && self.repo != self.default_repo);
        if !away || refers_back(request, self) {
            return;
        }
        self.workspace = self.default_workspace.clone();
        self.repo = self.default_repo.clone();
        self.numbers.clear();
        self.keys.clear();
        self.listed.clear();
        self.files.clear();
        self.files_ref = None;
        self.topic = None;
    }

    /// Takes in the calls and results of earlier turns.
    pub fn read_history(&mut self, messages: &[Message], catalogue: &Catalogue) {
        let mut calls: HashMap<&str, &agent::ToolCall> = HashMap::new();
        for message in messages {
            match message {
                Message::Assistant { tool_calls, .. } => {
                    for call in tool_calls {
                        calls.insert(call.id.as_str(), call);
                    }
                }
                Message::Tool {
                    call_id,
                    content,
                    is_error,
                    structured,
                    ..
                } => {
                    if let Some(call) = calls.get(call_id.as_str())
                        && let Some(tool) = catalogue.get(&call.name)
                    {
                        let outcome = Outcome {
                            content: crate::text::unmarked(content),
                            is_error: *is_error,
                            structured: structured.clone(),
                        };
                        self.note_call(tool, &call.arguments, &outcome);
                    }
                }
                _ => {}
            }
        }
    }

    /// Takes in one finished call.
    pub fn note_call(&mut self, tool: &Tool, arguments: &Value, outcome: &Outcome) {
        if !matches!(tool.primary.as_str(), "workspace" | "user") {
            self.topic = Some(tool.primary.clone());
        }
        if tool.verb == "delete" && !outcome.is_error {
            self.forget(tool, arguments);
            return;
        }
        let args = arguments.as_object();
        let arg = |name: &str| args.and_then(|a| a.get(name));
        for param in &tool.params {
            let Some(value) = arg(&param.name) else {
                continue;
            };
            let text = value
                .as_str()
                .map(str::to_owned)
                .or_else(|| value.as_u64().map(|n| n.to_string()));
            let Some(text) = text else { continue };
            match &param.kind {
                Kind::Workspace => self.set_workspace(&text),
                Kind::Repo => self.set_repo(&text),
                Kind::NewName if tool.primary == "repository" && !outcome.is_error => {
                    self.set_repo(&text);
                }
                Kind::NewName if tool.primary == "branch" && !outcome.is_error => {
                    self.note_branch(&text);
                    if let (Some(ws), Some(repo)) = (&self.workspace, &self.repo) {
                        self.created_branch = Some((text, format!("{ws}/{repo}")));
                    }
                }
                Kind::Ref(RefRole::Source) | Kind::Ref(RefRole::Start) => self.note_branch(&text),
                Kind::Number(thing) => {
                    if let Ok(n) = text.parse() {
                        self.numbers.insert(thing.clone(), n);
                    }
                }
                Kind::Key(thing) => {
                    self.keys.insert(thing.clone(), text);
                }
                _ => {}
            }
        }
        if outcome.is_error {
            return;
        }
        let Some(data) = outcome.structured.as_ref().and_then(Value::as_object) else {
            return;
        };
        if let Some((ws, repo)) = data
            .get("repository")
            .and_then(Value::as_str)
            .and_then(|full| full.split_once('/'))
        {
            self.set_workspace(ws);
            self.set_repo(repo);
        }
        if let Some(id) = data.get("id").and_then(Value::as_u64) {
            self.numbers.insert(tool.primary.clone(), id);
        }
        let ids: Vec<u64> = data
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| item.get("id").and_then(Value::as_u64))
            .collect();
        if !ids.is_empty() {
            self.listed.insert(tool.primary.clone(), ids);
        }
        if tool.primary == "path" && tool.read_only {
            self.files = data
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|i| i.get("path").and_then(Value::as_str).map(str::to_owned))
                .collect();
            self.files_ref = tool
                .params
                .iter()
                .find(|p| matches!(p.kind, Kind::Ref(_)))
                .and_then(|p| args.and_then(|a| a.get(&p.name)))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        for item in data
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match tool.primary.as_str() {
                "workspace" => {
                    if let Some(slug) = item.get("slug").and_then(Value::as_str) {
                        self.known.workspaces.push(slug.to_owned());
                    }
                }
                "branch" => {
                    if let Some(name) = item.get("name").and_then(Value::as_str) {
                        self.known.branches.push(name.to_owned());
                    }
                }
                "repository" => {
                    if let Some(name) = item.get("name").and_then(Value::as_str) {
                        self.known.repositories.push(name.to_owned());
                    }
                }
                _ => {}
            }
        }
    }

    fn set_workspace(&mut self, ws: &str) {
        if self.workspace.as_deref() != Some(ws) {
            self.known.workspaces.push(ws.to_owned());
        }
        self.workspace = Some(ws.to_owned());
    }

    fn set_repo(&mut self, repo: &str) {
        self.repo = Some(repo.to_owned());
        self.known.repositories.push(repo.to_owned());
    }

    /// A deleted thing leaves the focus: later requests must not go to it.
    fn forget(&mut self, tool: &Tool, arguments: &Value) {
        let arg = |kind: &Kind| {
            tool.param(kind)
                .and_then(|p| arguments.get(&p.name))
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
        };
        if tool.primary == "repository" {
            let (Some(ws), Some(repo)) = (arg(&Kind::Workspace), arg(&Kind::Repo)) else {
                return;
            };
            self.known.repositories.retain(|r| r != &repo);
            let place = format!("{ws}/{repo}");
            if self
                .created_branch
                .as_ref()
                .is_some_and(|(_, p)| p == &place)
            {
                self.created_branch = None;
            }
            let is_default = self.default_workspace.as_deref() == Some(ws.as_str())
                && self.default_repo.as_deref() == Some(repo.as_str());
            if self.repo.as_deref() == Some(repo.as_str()) {
                self.repo = if is_default {
                    None
                } else {
                    self.default_repo.clone()
                };
                if let Some(default) = &self.default_workspace
                    && self.repo.is_some()
                {
                    self.workspace = Some(default.clone());
                }
                self.numbers.clear();
                self.listed.clear();
                self.files.clear();
                self.topic = None;
            }
            return;
        }
        for param in &tool.params {
            match &param.kind {
                Kind::Number(thing) => {
                    let gone = arguments.get(&param.name).and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    });
                    if let Some(gone) = gone {
                        if self.numbers.get(thing) == Some(&gone) {
                            self.numbers.remove(thing);
                        }
                        if let Some(ids) = self.listed.get_mut(thing) {
                            ids.retain(|id| *id != gone);
                        }
                    }
                }
                Kind::Key(thing)
                    if arg(&param.kind).is_some_and(|k| self.keys.get(thing) == Some(&k)) =>
                {
                    self.keys.remove(thing);
                }
                _ => {}
            }
        }
    }

    fn note_branch(&mut self, name: &str) {
        self.branch = Some(name.to_owned());
        self.known.branches.push(name.to_owned());
    }
}

/// Whether a request points back at what the conversation was about: "its branches", "close
/// it", "the first one", "and the tags?", or a number seen in the last list or result.
fn refers_back(request: &str, focus: &Focus) -> bool {
    let u = crate::text::Utterance::parse(request);
    let pointing = u.words.iter().enumerate().any(|(i, w)| {
        matches!(
            w.lower.as_str(),
            "it" | "its"
                | "it's"
                | "that"
                | "this"
                | "there"
                | "them"
                | "those"
                | "these"
                | "their"
                | "same"
                | "one"
                | "ones"
                | "first"
                | "second"
                | "third"
                | "last"
                | "also"
        ) || (i == 0 && w.lower == "and")
    });
    let seen = u.words.iter().enumerate().any(|(i, w)| {
        let Ok(n) = w.lower.trim_start_matches('#').parse::<u64>() else {
            return false;
        };
        let thing = crate::lexicon::noun(u.at(i as isize - 1)).unwrap_or("issue");
        focus.numbers.get(thing) == Some(&n)
            || focus.listed.get(thing).is_some_and(|ids| ids.contains(&n))
    });
    // A repository or workspace named again by name also counts.
    let named = u.words.iter().any(|w| {
        focus
            .repo
            .as_deref()
            .is_some_and(|r| w.lower == r.to_lowercase())
            || focus
                .workspace
                .as_deref()
                .is_some_and(|ws| w.lower == ws.to_lowercase())
    });
    pointing || seen || named
}

fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let end = text[start..].find('`')?;
    let value = text[start..start + end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}
