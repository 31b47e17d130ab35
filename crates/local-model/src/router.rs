//! Router mode: when the catalogue offers a *search* tool and an *executor* tool instead of
//! the tools themselves (a tool router session), the model searches first, reads the tools
//! the search returned (names, descriptions, input schemas) from the history as its catalogue,
//! and wraps every call it plans in one executor call. Both tools are recognised by their
//! argument schemas, never by their names:
//!
//! - search: an argument that is an array of objects with a `use_case` string;
//! - executor: an argument that is an array of objects with `tool_slug` and `arguments`;
//! - connect (optional): a tool that changes something, takes a required array of strings
//!   and whose description speaks of a link; called when the search reports a toolkit with no
//!   active connection, so the reply can show the user the link.
//!
//! Nothing is kept between requests: the search results, the wrapped calls and their results
//! are all read back from the messages. The history is translated into the form a direct
//! catalogue would have given (search and connect calls dropped, executor calls unwrapped)
//! and the ordinary planner decides on it.

use std::collections::{HashMap, HashSet};

use agent::{Message, ModelRequest, ToolAnnotations, ToolCall, ToolDefinition};
use serde_json::{Map, Value, json};

use crate::plan::Action;

/// The meta-tools found in a catalogue, with the argument each one takes its list in.
#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    pub search: String,
    search_field: String,
    pub executor: String,
    executor_field: String,
    connect: Option<(String, String)>,
}

impl Router {
    /// The router's meta-tools, when the catalogue is a router session's.
    pub fn detect(tools: &[ToolDefinition]) -> Option<Router> {
        let search = tools
            .iter()
            .find_map(|t| array_of_objects_with(t, &["use_case"]).map(|f| (t.name.clone(), f)))?;
        let executor = tools.iter().find_map(|t| {
            array_of_objects_with(t, &["tool_slug", "arguments"]).map(|f| (t.name.clone(), f))
        })?;
        let connect = tools.iter().find_map(|t| {
            let speaks_of_link = t
                .description
                .as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().contains("link"));
            if t.annotations.read_only == Some(true) || !speaks_of_link {
                return None;
            }
            required_string_array(t).map(|f| (t.name.clone(), f))
        });
        Some(Router {
            search: search.0,
            search_field: search.1,
            executor: executor.0,
            executor_field: executor.1,
            connect,
        })
    }

    /// The next step in router mode. `direct` decides on a request with a direct catalogue.
    pub fn decide(
        &self,
        request: &ModelRequest,
        direct: impl Fn(&ModelRequest) -> Action,
    ) -> Action {
        let messages = &request.messages;
        let calls = calls_by_id(messages);
        let user_at = messages
            .iter()
            .rposition(|m| matches!(m, Message::User { .. }));
        let (prompt, turn_start) = match user_at.map(|at| (&messages[at], at)) {
            Some((Message::User { content }, at)) => (content.as_str(), at + 1),
            _ => ("", messages.len()),
        };
        let turn = &messages[turn_start..];
        let called_this_turn = |name: &str| {
            turn.iter().any(|m| match m {
                Message::Assistant { tool_calls, .. } => tool_calls.iter().any(|c| c.name == name),
                _ => false,
            })
        };
        if user_at.is_some() && !prompt.trim().is_empty() && !called_this_turn(&self.search) {
            return Action::Call {
                name: self.search.clone(),
                arguments: json!({ self.search_field.as_str(): search_queries(prompt) }),
            };
        }
        if let Some((connect, field)) = &self.connect {
            let results = results_of(turn, &calls, connect);
            if let Some(url) = results
                .iter()
                .find_map(|r| find_string_field(r, "redirect_url"))
            {
                return Action::Reply(format!(
                    "Your Bitbucket account is not connected yet. Open this link to connect it: {url}\n\
                     Then try again.\n"
                ));
            }
            if results.is_empty() {
                let missing = disconnected_toolkits(&results_of(turn, &calls, &self.search));
                if !missing.is_empty() {
                    return Action::Call {
                        name: connect.clone(),
                        arguments: json!({ field.as_str(): missing }),
                    };
                }
            }
        }
        let tools = self.catalogue(messages, &calls);
        let translated = ModelRequest {
            instructions: request.instructions.clone(),
            messages: self.translate(messages, &calls),
            tools,
            settings: request.settings.clone(),
        };
        match direct(&translated) {
            Action::Call { name, arguments } => Action::Call {
                name: self.executor.clone(),
                arguments: json!({
                    self.executor_field.as_str(): [{"tool_slug": name, "arguments": arguments}]
                }),
            },
            reply => reply,
        }
    }

    /// The tools every search in the history returned, the latest entry for a name winning.
    fn catalogue(
        &self,
        messages: &[Message],
        calls: &HashMap<&str, &ToolCall>,
    ) -> Vec<ToolDefinition> {
        let mut tools: Vec<ToolDefinition> = Vec::new();
        for result in results_of(messages, calls, &self.search) {
            for definition in tools_in(&result) {
                match tools.iter_mut().find(|t| t.name == definition.name) {
                    Some(slot) => *slot = definition,
                    None => tools.push(definition),
                }
            }
        }
        tools
    }

    /// The history as a direct catalogue would have made it.
    fn translate(&self, messages: &[Message], calls: &HashMap<&str, &ToolCall>) -> Vec<Message> {
        let hidden: HashSet<&str> = [
            Some(self.search.as_str()),
            self.connect.as_ref().map(|c| c.0.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut out = Vec::with_capacity(messages.len());
        for message in messages {
            match message {
                Message::Assistant {
                    content,
                    tool_calls,
                } => {
                    let mut inner = Vec::new();
                    for call in tool_calls {
                        if hidden.contains(call.name.as_str()) {
                            continue;
                        }
                        if call.name == self.executor {
                            for (i, (slug, arguments)) in self.wrapped(call).into_iter().enumerate()
                            {
                                inner.push(ToolCall {
                                    id: inner_id(&call.id, i),
                                    name: slug,
                                    arguments,
                                });
                            }
                        } else {
                            inner.push(call.clone());
                        }
                    }
                    if !content.is_empty() || !inner.is_empty() {
                        out.push(Message::Assistant {
                            content: content.clone(),
                            tool_calls: inner,
                        });
                    }
                }
                Message::Tool {
                    call_id,
                    name,
                    content,
                    is_error,
                    structured,
                } => {
                    let call = calls.get(call_id.as_str());
                    let called = call.map_or(name.as_str(), |c| c.name.as_str());
                    if hidden.contains(called) {
                        continue;
                    }
                    match call.filter(|c| c.name == self.executor) {
                        Some(call) => {
                            let data = structured
                                .clone()
                                .or_else(|| serde_json::from_str(content).ok());
                            for (i, (slug, _)) in self.wrapped(call).into_iter().enumerate() {
                                let (content, is_error, structured) =
                                    unwrap_result(data.as_ref(), i, &slug, content, *is_error);
                                out.push(Message::Tool {
                                    call_id: inner_id(&call.id, i),
                                    name: slug,
                                    content,
                                    is_error,
                                    structured,
                                });
                            }
                        }
                        None => out.push(message.clone()),
                    }
                }
                other => out.push(other.clone()),
            }
        }
        out
    }

    /// The calls an executor call wraps, as (tool name, arguments).
    fn wrapped(&self, call: &ToolCall) -> Vec<(String, Value)> {
        call.arguments
            .get(&self.executor_field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let slug = item.get("tool_slug")?.as_str()?.to_owned();
                let arguments = item.get("arguments").cloned().unwrap_or_else(|| json!({}));
                Some((slug, arguments))
            })
            .collect()
    }
}

/// The search's queries: the request itself, then a lookup of each thing it names (to show
/// one, to list them, to change one), so the planner has the read-only tools it fills gaps with (an issue's
/// title for a branch name, the latest open issue).
fn search_queries(prompt: &str) -> Vec<Value> {
    let lower = prompt.to_lowercase();
    let mut things: Vec<&str> = crate::lexicon::NOUN_PHRASES
        .iter()
        .filter(|(phrase, _)| lower.contains(phrase))
        .map(|(_, thing)| *thing)
        .collect();
    for word in lower.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')) {
        if let Some(thing) = crate::lexicon::noun(word)
            && !things.contains(&thing)
        {
            things.push(thing);
        }
    }
    // `owner/name` names a repository, `#3` an issue, with no noun said.
    for token in lower.split_whitespace() {
        let token = token.trim_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '/'));
        let thing = if token.len() > 1
            && token.starts_with('#')
            && token[1..].chars().all(|c| c.is_ascii_digit())
        {
            Some("issue")
        } else if let Some((owner, name)) = token.split_once('/')
            && !owner.is_empty()
            && !name.is_empty()
            && !name.contains('/')
            && !crate::lexicon::is_branch_prefix(owner)
        {
            Some("repository")
        } else {
            None
        };
        if let Some(thing) = thing
            && !things.contains(&thing)
        {
            things.push(thing);
        }
    }
    let mut queries = vec![json!({"use_case": prompt})];
    for thing in things {
        let thing = thing.replace('_', " ");
        queries.push(json!({"use_case": format!("get one {thing}")}));
        queries.push(json!({"use_case": format!("list all {thing}")}));
        queries.push(json!({"use_case": format!("update one {thing}")}));
    }
    queries
}

fn inner_id(id: &str, index: usize) -> String {
    if index == 0 {
        id.to_owned()
    } else {
        format!("{id}#{index}")
    }
}

/// The `index`-th call's own result out of an executor's answer: its data when it succeeded,
/// its error when it failed. An answer in an unknown shape is passed on as it is.
fn unwrap_result(
    data: Option<&Value>,
    index: usize,
    slug: &str,
    content: &str,
    is_error: bool,
) -> (String, bool, Option<Value>) {
    let results = data
        .map(|d| d.get("data").unwrap_or(d))
        .and_then(|d| d.get("results"))
        .and_then(Value::as_array);
    let Some(results) = results else {
        let error = data
            .and_then(|d| d.get("error"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        return match error {
            Some(error) => (error, true, None),
            None => (content.to_owned(), is_error, data.cloned()),
        };
    };
    let entry = results
        .iter()
        .find(|r| r.get("index").and_then(Value::as_u64) == Some(index as u64))
        .or_else(|| {
            results
                .iter()
                .find(|r| r.get("tool_slug").and_then(Value::as_str) == Some(slug))
        })
        .or_else(|| results.get(index));
    let Some(entry) = entry else {
        return (
            format!("the executor returned no result for `{slug}`"),
            true,
            None,
        );
    };
    let response = entry.get("response").filter(|r| !r.is_null());
    let succeeded = response
        .and_then(|r| r.get("successful"))
        .and_then(Value::as_bool)
        .unwrap_or(response.is_some());
    if succeeded && let Some(response) = response {
        let data = response.get("data").cloned().unwrap_or(Value::Null);
        return (render(&data), false, Some(data));
    }
    let error = entry
        .get("error")
        .and_then(Value::as_str)
        .or_else(|| {
            response
                .and_then(|r| r.get("error"))
                .and_then(Value::as_str)
        })
        .unwrap_or("the tool failed")
        .to_owned();
    (error, true, None)
}

/// Each tool call in the messages, by id.
fn calls_by_id(messages: &[Message]) -> HashMap<&str, &ToolCall> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Assistant { tool_calls, .. } => Some(tool_calls),
            _ => None,
        })
        .flatten()
        .map(|c| (c.id.as_str(), c))
        .collect()
}

/// The results (as data) of the calls to `tool` in `messages`, in order.
fn results_of(messages: &[Message], calls: &HashMap<&str, &ToolCall>, tool: &str) -> Vec<Value> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Tool {
                call_id,
                content,
                structured,
                ..
            } if calls.get(call_id.as_str()).is_some_and(|c| c.name == tool) => structured
                .clone()
                .or_else(|| serde_json::from_str(content).ok()),
            _ => None,
        })
        .collect()
}

/// The tools a search result describes: entries with an input schema, under `tool_schemas`
/// (an object by slug or a list), wherever the answer nests them.
fn tools_in(result: &Value) -> Vec<ToolDefinition> {
    let data = result.get("data").unwrap_or(result);
    let entries: Vec<(Option<&String>, &Value)> = match data.get("tool_schemas") {
        Some(Value::Object(by_slug)) => by_slug.iter().map(|(k, v)| (Some(k), v)).collect(),
        Some(Value::Array(list)) => list.iter().map(|v| (None, v)).collect(),
        _ => Vec::new(),
    };
    let mut entries: Vec<(String, &Value)> = entries
        .into_iter()
        .filter_map(|(key, entry)| {
            let name = entry
                .get("tool_slug")
                .and_then(Value::as_str)
                .or(key.map(String::as_str))?;
            Some((name.to_owned(), entry))
        })
        .collect();
    // Primary tools first, in the search's order, then the rest.
    let mut order: Vec<&str> = Vec::new();
    for result in data
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for key in ["primary_tool_slugs", "related_tool_slugs"] {
            for slug in result
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(slug) = slug.as_str()
                    && !order.contains(&slug)
                {
                    order.push(slug);
                }
            }
        }
    }
    entries.sort_by_key(|(name, _)| order.iter().position(|o| o == name).unwrap_or(usize::MAX));
    entries
        .into_iter()
        .filter_map(|(name, entry)| {
            let schema = entry.get("input_schema").filter(|s| s.is_object())?.clone();
            let description = entry
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let tags: Vec<&str> = entry
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut annotations = ToolAnnotations::default();
            if tags.contains(&"readOnlyHint") {
                annotations = annotations.read_only(true);
            }
            if tags.contains(&"destructiveHint") {
                annotations = annotations.destructive(true);
            }
            if tags.contains(&"idempotentHint") {
                annotations = annotations.idempotent(true);
            }
            Some(ToolDefinition::new(name, description, schema).with_annotations(annotations))
        })
        .collect()
}

/// The toolkits a search result reports without an active connection.
fn disconnected_toolkits(results: &[Value]) -> Vec<String> {
    let mut missing = Vec::new();
    for result in results {
        let data = result.get("data").unwrap_or(result);
        for status in data
            .get("toolkit_connection_statuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if status.get("has_active_connection").and_then(Value::as_bool) == Some(false)
                && let Some(toolkit) = status.get("toolkit").and_then(Value::as_str)
                && !missing.iter().any(|m| m == toolkit)
            {
                missing.push(toolkit.to_owned());
            }
        }
    }
    missing
}

/// The first string value of a field with this name, anywhere in the value.
fn find_string_field(value: &Value, field: &str) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(|v| find_string_field(v, field))),
        Value::Array(items) => items.iter().find_map(|v| find_string_field(v, field)),
        _ => None,
    }
}

fn properties(tool: &ToolDefinition) -> Option<&Map<String, Value>> {
    tool.input_schema.get("properties")?.as_object()
}

/// The argument of `tool` that is an array of objects having all of `fields`.
fn array_of_objects_with(tool: &ToolDefinition, fields: &[&str]) -> Option<String> {
    properties(tool)?.iter().find_map(|(name, schema)| {
        let items = schema.get("items")?;
        let item_props = items.get("properties")?.as_object()?;
        let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
        (is_array && fields.iter().all(|f| item_props.contains_key(*f))).then(|| name.clone())
    })
}

/// A required argument of `tool` that is an array of strings.
fn required_string_array(tool: &ToolDefinition) -> Option<String> {
    let props = properties(tool)?;
    let required = tool.input_schema.get("required")?.as_array()?;
    required.iter().filter_map(Value::as_str).find_map(|name| {
        let schema = props.get(name)?;
        let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
        let of_strings = schema
            .get("items")
            .and_then(|i| i.get("type"))
            .and_then(Value::as_str)
            == Some("string");
        (is_array && of_strings).then(|| name.to_owned())
    })
}

/// A result's data as short text for a person: the executor passes data, not the tool's own
/// text. Plain fields as `name: value`, a list as a line per item, a text body after them.
pub fn render(data: &Value) -> String {
    let Value::Object(object) = data else {
        return match data {
            Value::String(s) => s.clone(),
            Value::Null => "Done.".to_owned(),
            other => other.to_string(),
        };
    };
    if object.len() == 1
        && let Some(Value::String(text)) = object.get("text")
    {
        return text.clone();
    }
    let mut lines = Vec::new();
    let mut body = None;
    for (key, value) in object {
        match value {
            Value::String(s) if key == "content" || s.contains('\n') => body = Some(s.as_str()),
            Value::Array(items) => {
                lines.push(format!("{}: {}", key.replace('_', " "), items.len()));
                lines.extend(
                    items
                        .iter()
                        .take(50)
                        .map(|item| format!("- {}", label(item))),
                );
            }
            Value::Object(_) => {
                let inner = label(value);
                if !inner.is_empty() {
                    lines.push(format!("{}: {inner}", key.replace('_', " ")));
                }
            }
            Value::Null => {}
            scalar => lines.push(format!(
                "{}: {}",
                key.replace('_', " "),
                scalar_text(scalar)
            )),
        }
    }
    if let Some(body) = body {
        lines.push(String::new());
        lines.push(body.trim_end().to_owned());
    }
    if lines.is_empty() {
        "Done.".to_owned()
    } else {
        lines.join("\n")
    }
}

/// One line for an item: its plain fields, the identifying ones first.
fn label(item: &Value) -> String {
    let Value::Object(object) = item else {
        return scalar_text(item);
    };
    const FIRST: [&str; 8] = [
        "id",
        "name",
        "full_name",
        "title",
        "path",
        "state",
        "display_name",
        "nickname",
    ];
    let mut parts: Vec<String> = FIRST
        .iter()
        .filter_map(|k| {
            object
                .get(*k)
                .filter(|v| is_scalar(v))
                .map(|v| format!("{k}: {}", scalar_text(v)))
        })
        .collect();
    if parts.is_empty() {
        parts = object
            .iter()
            .filter(|(_, v)| is_scalar(v))
            .take(4)
            .map(|(k, v)| format!("{k}: {}", scalar_text(v)))
            .collect();
    }
    parts.join(", ")
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.lines().next().unwrap_or_default().to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use agent::{ModelSettings, ToolAnnotations};
    use serde_json::json;

    use super::*;
    use crate::{LocalModel, testing};

    /// A router session's catalogue: the meta-tools with Composio's argument shapes, under
    /// names the model has never seen (it must recognise them by their schemas).
    fn meta_tools(with_connect: bool) -> Vec<ToolDefinition> {
        let mut tools = vec![
            ToolDefinition::new(
                "FIND_THINGS",
                "Finds the tools for a task.",
                json!({"type": "object", "required": ["queries"], "properties": {
                    "queries": {"type": "array", "items": {"type": "object", "required": ["use_case"],
                        "properties": {"use_case": {"type": "string"}, "known_fields": {"type": "string"}}}},
                    "session": {"type": "object"},
                }}),
            )
            .with_annotations(ToolAnnotations::default().read_only(true)),
            ToolDefinition::new(
                "DO_THINGS",
                "Runs tools in parallel.",
                json!({"type": "object", "required": ["tools"], "properties": {
                    "tools": {"type": "array", "items": {"type": "object", "required": ["tool_slug", "arguments"],
                        "properties": {"tool_slug": {"type": "string"}, "arguments": {"type": "object"}}}},
                    "thought": {"type": "string"},
                }}),
            ),
            ToolDefinition::new(
                "SCHEMAS",
                "Returns the input schemas of tools by slug.",
                json!({"type": "object", "required": ["tool_slugs"], "properties": {
                    "tool_slugs": {"type": "array", "items": {"type": "string"}}}}),
            )
            .with_annotations(ToolAnnotations::default().read_only(true)),
        ];
        if with_connect {
            tools.push(ToolDefinition::new(
                "CONNECT",
                "Checks the user's connection to toolkits. Otherwise the answer has a `redirect_url`: show the link to the user.",
                json!({"type": "object", "required": ["toolkits"], "properties": {
                    "toolkits": {"type": "array", "items": {"type": "string"}},
                    "reinitiate_all": {"type": "boolean"}}}),
            ));
        }
        tools
    }

    /// What the router's search answers: every tool of the real catalogue whose name has one
    /// of `words`, with its schema, and the connection status.
    fn search_result(words: &[&str], connected: bool) -> Value {
        let mut schemas = Map::new();
        let mut slugs = Vec::new();
        for d in testing::definitions() {
            if !words.iter().any(|w| d.name.contains(w)) {
                continue;
            }
            let mut tags = Vec::new();
            if d.annotations.read_only == Some(true) {
                tags.push("readOnlyHint");
            }
            if d.annotations.destructive == Some(true) {
                tags.push("destructiveHint");
            }
            slugs.push(d.name.clone());
            schemas.insert(
                d.name.clone(),
                json!({"tool_slug": d.name, "toolkit": "bitbucket", "description": d.description,
                       "input_schema": d.input_schema, "tags": tags}),
            );
        }
        json!({"data": {
            "results": [{"index": 1, "primary_tool_slugs": slugs, "related_tool_slugs": []}],
            "tool_schemas": schemas,
            "toolkit_connection_statuses": [{"toolkit": "bitbucket", "has_active_connection": connected}],
        }, "error": null, "successful": true})
    }

    fn request(tools: Vec<ToolDefinition>, messages: Vec<Message>) -> ModelRequest {
        ModelRequest {
            instructions: Some("use workspace `acme` and repository `widgets`".into()),
            messages,
            tools,
            settings: ModelSettings::default(),
        }
    }

    /// The fake Bitbucket behind both modes: a result for a tool call.
    fn bitbucket(name: &str, _arguments: &Value) -> (bool, Value) {
        if name.contains("LIST_ISSUES") {
            (
                true,
                json!({"items": [{"id": 7, "title": "Login breaks"}, {"id": 5, "title": "Old"}]}),
            )
        } else if name.contains("CREATE_BRANCH") {
            (
                true,
                json!({"name": "feature/x", "target": {"hash": "abc123"}}),
            )
        } else {
            (true, json!({"id": 1}))
        }
    }

    /// Runs one user turn to its reply. Returns the tool calls seen by Bitbucket and the reply.
    fn turn(
        tools: &[ToolDefinition],
        messages: &mut Vec<Message>,
        prompt: &str,
        search: &dyn Fn(&str) -> Value,
        connect: &dyn Fn() -> Value,
        failing: Option<&str>,
    ) -> (Vec<(String, Value)>, String) {
        messages.push(Message::user(prompt));
        let mut made = Vec::new();
        for step in 0..10 {
            match LocalModel.decide(&request(tools.to_vec(), messages.clone())) {
                Action::Reply(text) => {
                    messages.push(Message::assistant(text.clone()));
                    return (made, text);
                }
                Action::Call { name, arguments } => {
                    let id = format!("{}-{step}", messages.len());
                    let (is_error, structured, content) = if name == "FIND_THINGS" {
                        let use_case = arguments["queries"][0]["use_case"].as_str().unwrap_or("");
                        (false, search(use_case), String::new())
                    } else if name == "CONNECT" {
                        assert_eq!(arguments, json!({"toolkits": ["bitbucket"]}));
                        (false, connect(), String::new())
                    } else if name == "DO_THINGS" {
                        let inner = arguments["tools"].as_array().cloned().unwrap_or_default();
                        let results: Vec<Value> = inner
                            .iter()
                            .enumerate()
                            .map(|(i, c)| {
                                let slug = c["tool_slug"].as_str().unwrap_or("").to_owned();
                                made.push((slug.clone(), c["arguments"].clone()));
                                if failing.is_some_and(|f| slug.contains(f)) {
                                    json!({"tool_slug": slug, "index": i, "response": null,
                                           "error": "no active connection for toolkit `bitbucket`"})
                                } else {
                                    let (_, data) = bitbucket(&slug, &c["arguments"]);
                                    json!({"tool_slug": slug, "index": i, "error": null,
                                           "response": {"data": data, "error": null, "successful": true}})
                                }
                            })
                            .collect();
                        let ok = results.iter().all(|r| r["error"].is_null());
                        (
                            !ok,
                            json!({"data": {"results": results}, "successful": ok}),
                            String::new(),
                        )
                    } else {
                        made.push((name.clone(), arguments.clone()));
                        let (_, data) = bitbucket(&name, &arguments);
                        (false, data, format!("{name} done"))
                    };
                    let content = if content.is_empty() {
                        structured.to_string()
                    } else {
                        content
                    };
                    messages.push(Message::Assistant {
                        content: String::new(),
                        tool_calls: vec![ToolCall {
                            id: id.clone(),
                            name: name.clone(),
                            arguments,
                        }],
                    });
                    messages.push(Message::Tool {
                        call_id: id,
                        name,
                        content,
                        is_error,
                        structured: Some(structured),
                    });
                }
            }
        }
        panic!("no reply after 10 steps");
    }

    fn no_connect() -> Value {
        panic!("the connection tool was called")
    }

    #[test]
    fn the_meta_tools_are_recognised_by_their_schemas() {
        let router = Router::detect(&meta_tools(true)).expect("a router catalogue");
        assert_eq!(router.search, "FIND_THINGS");
        assert_eq!(router.executor, "DO_THINGS");
        assert_eq!(router.connect, Some(("CONNECT".into(), "toolkits".into())));
        assert_eq!(Router::detect(&testing::definitions()), None);
        assert_eq!(
            Router::detect(&meta_tools(false)[..1]),
            None,
            "search alone"
        );
    }

    #[test]
    fn it_searches_then_runs_the_found_tool_through_the_executor() {
        let tools = meta_tools(true);
        let mut messages = Vec::new();
        let prompt = "create a branch feature/x off main in acme/widgets";
        let first = LocalModel.decide(&request(tools.clone(), vec![Message::user(prompt)]));
        assert_eq!(
            first,
            Action::Call {
                name: "FIND_THINGS".into(),
                arguments: json!({"queries": [
                    {"use_case": prompt},
                    {"use_case": "get one branch"},
                    {"use_case": "list all branch"},
                    {"use_case": "update one branch"},
                    {"use_case": "get one repository"},
                    {"use_case": "list all repository"},
                    {"use_case": "update one repository"},
                ]}),
            }
        );
        let search = |_: &str| search_result(&["BRANCH", "PULL_REQUEST"], true);
        let (made, reply) = turn(&tools, &mut messages, prompt, &search, &no_connect, None);
        // The same call the model makes with the tools offered directly.
        let (direct, _) = turn(
            &testing::definitions(),
            &mut Vec::new(),
            prompt,
            &|_| Value::Null,
            &no_connect,
            None,
        );
        assert_eq!(made, direct);
        assert_eq!(made.len(), 1);
        assert!(made[0].0.contains("CREATE_BRANCH"), "{made:?}");
        assert_eq!(made[0].1["name"], json!("feature/x"), "{made:?}");
        assert!(
            reply.contains("feature/x") && reply.contains("abc123"),
            "{reply}"
        );
        assert!(
            !reply.contains('{'),
            "the data is told, not dumped: {reply}"
        );
    }

    #[test]
    fn lookups_and_questions_work_through_the_executor() {
        let tools = meta_tools(false);
        let search = |_: &str| search_result(&["ISSUE", "BRANCH"], true);
        let mut messages = Vec::new();
        let mut direct_messages = Vec::new();
        for prompt in [
            "comment 'on it' on the latest open issue",
            "create a new branch off main",
            "feature/login-fix",
        ] {
            let routed = turn(&tools, &mut messages, prompt, &search, &no_connect, None);
            let direct = turn(
                &testing::definitions(),
                &mut direct_messages,
                prompt,
                &|_| Value::Null,
                &no_connect,
                None,
            );
            assert_eq!(routed.0, direct.0, "{prompt}");
            if prompt.starts_with("create") {
                assert!(routed.0.is_empty());
                assert_eq!(routed.1, direct.1, "the same question");
                assert!(
                    routed.1.contains("What should the new branch be called?"),
                    "{}",
                    routed.1
                );
            }
        }
        let calls: Vec<&str> = messages
            .iter()
            .filter_map(|m| match m {
                Message::Assistant { tool_calls, .. } => {
                    tool_calls.first().map(|c| c.name.as_str())
                }
                _ => None,
            })
            .collect();
        // Every turn searched once; every Bitbucket call went through the executor.
        assert_eq!(
            calls,
            [
                "FIND_THINGS",
                "DO_THINGS",
                "DO_THINGS",
                "FIND_THINGS",
                "FIND_THINGS",
                "DO_THINGS"
            ]
        );
    }

    #[test]
    fn a_missing_connection_gets_the_link() {
        let tools = meta_tools(true);
        let search = |_: &str| search_result(&["BRANCH"], false);
        let connect = || {
            json!({"data": {"results": {"bitbucket": {"status": "initiated",
                "redirect_url": "http://127.0.0.1:8900/link/tok"}}}, "successful": true})
        };
        let (made, reply) = turn(
            &tools,
            &mut Vec::new(),
            "create a branch feature/x off main",
            &search,
            &connect,
            None,
        );
        assert!(made.is_empty(), "nothing ran: {made:?}");
        assert!(reply.contains("http://127.0.0.1:8900/link/tok"), "{reply}");
        assert!(reply.contains("try again"), "{reply}");
        // An active connection: the connection check passes and the plan runs.
        let active = || json!({"data": {"results": {"bitbucket": {"status": "active"}}}});
        let (made, _) = turn(
            &tools,
            &mut Vec::new(),
            "create a branch feature/x off main",
            &search,
            &active,
            None,
        );
        assert_eq!(made.len(), 1);
    }

    #[test]
    fn a_failed_call_is_told_from_its_own_result() {
        let tools = meta_tools(false);
        let search = |_: &str| search_result(&["BRANCH"], true);
        let (made, reply) = turn(
            &tools,
            &mut Vec::new(),
            "create a branch feature/x off main",
            &search,
            &no_connect,
            Some("CREATE_BRANCH"),
        );
        assert_eq!(made.len(), 1);
        assert!(reply.starts_with("Could not create"), "{reply}");
        assert!(reply.contains("no active connection"), "{reply}");
        assert!(!reply.contains("BITBUCKET_"), "{reply}");
    }

    #[test]
    fn data_is_rendered_for_people() {
        assert_eq!(render(&json!({"text": "hello"})), "hello");
        let text = render(&json!({"path": "README.md", "content": "# Widgets\nline"}));
        assert_eq!(text, "path: README.md\n\n# Widgets\nline");
        let text = render(&json!({"items": [{"id": 7, "title": "A"}], "page": 1}));
        assert_eq!(text, "items: 1\n- id: 7, title: A\npage: 1");
    }
}
