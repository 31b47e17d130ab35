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
        focus
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
                            content: content.clone(),
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
                Kind::Repo => self.repo = Some(text),
                Kind::NewName if tool.primary == "repository" && !outcome.is_error => {
                    self.repo = Some(text);
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
            self.repo = Some(repo.to_owned());
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

    fn note_branch(&mut self, name: &str) {
        self.branch = Some(name.to_owned());
        self.known.branches.push(name.to_owned());
    }
}

fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let end = text[start..].find('`')?;
    let value = text[start..start + end].trim();
    (!value.is_empty()).then(|| value.to_owned())
}
