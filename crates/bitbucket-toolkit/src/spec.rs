//! What the catalogue says about each tool: names, annotations, toolsets and JSON schemas.
//!
//! Schemas come from the argument and output types (schemars), then are tidied for a model:
//! everything is inlined, `null` alternatives of optional fields are dropped (a missing field
//! says the same in fewer tokens) and output schemas lose their descriptions, because only the
//! input side is read by the model when it chooses arguments.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use crate::Toolkit;
use crate::tools::RunFn;

/// One tool of the catalogue.
pub struct ToolSpec {
    /// The Composio-style name, e.g. `BITBUCKET_CREATE_BRANCH`.
    pub name: &'static str,
    /// A short human title, e.g. `Create branch`.
    pub title: &'static str,
    /// What the tool does and when to use it, written for a model.
    pub description: &'static str,
    /// The group the tool belongs to.
    pub toolset: Toolset,
    /// The Bitbucket Cloud operation it calls (`METHOD /path`, as the official spec spells it).
    pub endpoint: &'static str,
    /// Behaviour hints (read-only, destructive, idempotent, open world).
    pub annotations: ToolAnnotations,
    pub(crate) input: fn() -> Map<String, Value>,
    pub(crate) output: fn() -> Map<String, Value>,
    pub(crate) run: RunFn,
}

impl fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .field("toolset", &self.toolset)
            .field("annotations", &self.annotations)
            .finish_non_exhaustive()
    }
}

impl ToolSpec {
    /// The JSON Schema of the arguments: an object with `properties`, `required` and
    /// `additionalProperties: false`, self-contained (no `$ref`), draft 2020-12.
    pub fn input_schema(&self) -> Map<String, Value> {
        (self.input)()
    }

    /// The JSON Schema of [`ToolOutcome::structured`](crate::ToolOutcome::structured) on
    /// success; its root is an object.
    pub fn output_schema(&self) -> Map<String, Value> {
        (self.output)()
    }

    /// The arguments, read from the input schema: required ones first (in declaration order),
    /// then optional ones by name.
    pub fn arguments(&self) -> Vec<ArgumentInfo> {
        arguments_of(&self.input_schema())
    }

    /// The serializable catalogue entry, for tool search and `bbagent tools list --json`.
    pub fn info(&self) -> ToolInfo {
        ToolInfo {
            name: self.name,
            title: self.title,
            description: self.description,
            toolset: self.toolset,
            arguments: self.arguments(),
            annotations: self.annotations,
        }
    }

    /// Runs the tool; argument and Bitbucket failures are outcomes with `is_error`.
    pub(crate) async fn run(&self, toolkit: &Toolkit, arguments: Value) -> crate::ToolOutcome {
        (self.run)(toolkit, arguments).await
    }
}

/// Behaviour hints, as MCP's tool annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ToolAnnotations {
    /// Changes nothing.
    pub read_only: bool,
    /// May destroy data (only meaningful when not read-only).
    pub destructive: bool,
    /// Calling again with the same arguments has no further effect.
    pub idempotent: bool,
    /// Reaches a system outside the process (Bitbucket).
    pub open_world: bool,
}

impl ToolAnnotations {
    /// A read: changes nothing, so it is also idempotent.
    pub(crate) const READ: Self = Self {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
    };
    /// A creation: each call makes something new.
    pub(crate) const CREATE: Self = Self {
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
    };
    /// An update that sets fields to given values: repeating it changes nothing more.
    pub(crate) const UPDATE: Self = Self {
        read_only: false,
        destructive: false,
        idempotent: true,
        open_world: true,
    };
    /// A deletion: destroys data; deleting twice leaves the same state.
    pub(crate) const DELETE: Self = Self {
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: true,
    };
}

/// The groups of tools, to offer only some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Toolset {
    /// Repositories, their files and commits.
    Repositories,
    /// Branches and tags.
    Branches,
    /// Pull requests: listing, reading, opening.
    PullRequests,
    /// Code review: diffs, comments, tasks, approvals, build statuses, merge and decline.
    Reviews,
    /// Commits: one commit, its diff and changes, file history, build statuses, and writing
    /// files as a commit.
    Commits,
    /// CI: one build status by key and posting one, Code Insights reports and their
    /// annotations.
    Ci,
    /// Pipelines: runs, steps and their logs, variables, deployment environments and
    /// deployments.
    Pipelines,
    /// How repositories are set up: webhook events, the branching model.
    Admin,
    /// Issues and issue comments.
    Issues,
    /// Snippets and snippet comments.
    Snippets,
    /// The authenticated user.
    Users,
    /// Workspaces and their members.
    Workspaces,
}

impl Toolset {
    /// Every toolset, in catalogue order.
    pub const ALL: [Toolset; 12] = [
        Toolset::Repositories,
        Toolset::Branches,
        Toolset::PullRequests,
        Toolset::Reviews,
        Toolset::Commits,
        Toolset::Ci,
        Toolset::Pipelines,
        Toolset::Admin,
        Toolset::Issues,
        Toolset::Snippets,
        Toolset::Users,
        Toolset::Workspaces,
    ];

    /// The name used in flags and JSON, e.g. `pull_requests`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Toolset::Repositories => "repositories",
            Toolset::Branches => "branches",
            Toolset::PullRequests => "pull_requests",
            Toolset::Reviews => "reviews",
            Toolset::Commits => "commits",
            Toolset::Ci => "ci",
            Toolset::Pipelines => "pipelines",
            Toolset::Admin => "admin",
            Toolset::Issues => "issues",
            Toolset::Snippets => "snippets",
            Toolset::Users => "users",
            Toolset::Workspaces => "workspaces",
        }
    }
}

impl fmt::Display for Toolset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A toolset name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown toolset `{name}`; expected one of {}", Toolset::ALL.map(|t| format!("`{t}`")).join(", "))]
pub struct UnknownToolset {
    /// The name given.
    pub name: String,
}

impl FromStr for Toolset {
    type Err = UnknownToolset;

    /// Case-insensitive; `-` is accepted for `_` (`pull-requests`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        Toolset::ALL
            .into_iter()
            .find(|toolset| toolset.as_str() == wanted)
            .ok_or_else(|| UnknownToolset {
                name: text.to_owned(),
            })
    }
}

/// A catalogue entry without schemas, for tool search and listings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolInfo {
    /// Tool name.
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// Description for a model.
    pub description: &'static str,
    /// Group.
    pub toolset: Toolset,
    /// Arguments, required first.
    pub arguments: Vec<ArgumentInfo>,
    /// Behaviour hints.
    pub annotations: ToolAnnotations,
}

/// One argument of a tool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArgumentInfo {
    /// Argument name, e.g. `repo_slug`.
    pub name: String,
    /// JSON type: `string`, `integer`, `boolean`, `array`, or alternatives such as
    /// `string|array`.
    pub r#type: String,
    /// Whether the call fails without it.
    pub required: bool,
    /// What it means, with examples.
    pub description: String,
}

fn arguments_of(schema: &Map<String, Value>) -> Vec<ArgumentInfo> {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let info = |name: &str, property: &Value| ArgumentInfo {
        name: name.to_owned(),
        r#type: type_of(property),
        required: required.contains(&name),
        description: property
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    let mut arguments: Vec<ArgumentInfo> = required
        .iter()
        .filter_map(|name| properties.get(*name).map(|p| info(name, p)))
        .collect();
    arguments.extend(
        properties
            .iter()
            .filter(|(name, _)| !required.contains(&name.as_str()))
            .map(|(name, property)| info(name, property)),
    );
    arguments
}

/// The JSON type(s) a property accepts, `|`-joined when there are several.
fn type_of(property: &Value) -> String {
    fn collect<'a>(schema: &'a Value, types: &mut Vec<&'a str>) {
        match schema.get("type") {
            Some(Value::String(name)) => types.push(name),
            Some(Value::Array(names)) => types.extend(names.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    let mut types: Vec<&str> = Vec::new();
    collect(property, &mut types);
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = property.get(key) {
            for branch in branches {
                collect(branch, &mut types);
            }
        }
    }
    let mut unique: Vec<&str> = Vec::new();
    for name in types {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        "any".to_owned()
    } else {
        unique.join("|")
    }
}

/// The tidied input schema of an argument type.
pub(crate) fn input_schema_of<T: JsonSchema>() -> Map<String, Value> {
    let schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>();
    let mut schema = schema.to_value();
    tidy(&mut schema, Side::Input);
    finish_root(schema)
}

/// The tidied output schema of a result type.
pub(crate) fn output_schema_of<T: JsonSchema>() -> Map<String, Value> {
    let schema = SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>();
    let mut schema = schema.to_value();
    tidy(&mut schema, Side::Output);
    finish_root(schema)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Input,
    Output,
}

/// Drops what a model does not need: the meta-schema URI, the Rust type name, and the type's
/// own doc comment (the tool description says it better).
fn finish_root(schema: Value) -> Map<String, Value> {
    let mut root = match schema {
        Value::Object(map) => map,
        // Every argument and output type is a struct, so this is never reached; an empty
        // object schema is still a valid answer.
        _ => Map::new(),
    };
    root.remove("$schema");
    root.remove("title");
    root.remove("description");
    root.entry("type")
        .or_insert_with(|| Value::String("object".to_owned()));
    if !root.contains_key("properties") {
        root.insert("properties".to_owned(), Value::Object(Map::new()));
    }
    root
}

/// Walks a schema and simplifies every subschema in place.
fn tidy(schema: &mut Value, side: Side) {
    let Value::Object(map) = schema else {
        return;
    };
    // `"type": ["string", "null"]` → `"type": "string"`.
    if let Some(Value::Array(types)) = map.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let single = types.remove(0);
            map.insert("type".to_owned(), single);
        }
    }
    // `"enum": ["a", null]` (an optional enum) → `"enum": ["a"]`.
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    // `"anyOf": [X, {"type": "null"}]` → X, keeping the outer description; X's own keys are
    // tidied by the second pass.
    if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
        branches.retain(|branch| branch.get("type").and_then(Value::as_str) != Some("null"));
        if branches.len() == 1 {
            let only = branches.remove(0);
            map.remove("anyOf");
            if let Value::Object(inner) = only {
                for (key, value) in inner {
                    map.entry(key).or_insert(value);
                }
            }
            return tidy(schema, side);
        }
    }
    // `format` values such as `uint32` are not JSON Schema formats; they only cost tokens.
    map.remove("format");
    if side == Side::Output {
        // Output schemas guard the shape; the names say what fields mean.
        for noise in ["description", "default", "title", "minimum"] {
            map.remove(noise);
        }
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            // Names of properties are not schemas, but their values are.
            "properties" | "$defs" | "definitions" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(|child| tidy(child, side));
                }
            }
            "items" | "additionalProperties" | "not" => tidy(value, side),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(children) = value {
                    children.iter_mut().for_each(|child| tidy(child, side));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_are_read_from_alternatives() {
        assert_eq!(type_of(&json!({"type": "string"})), "string");
        assert_eq!(
            type_of(&json!({"anyOf": [{"type": "string"}, {"type": "array"}]})),
            "string|array"
        );
        assert_eq!(type_of(&json!({"enum": ["a"]})), "any");
    }

    #[test]
    fn null_alternatives_are_dropped() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": ["integer", "null"], "format": "uint32"},
                "b": {"description": "B.", "anyOf": [{"type": "string", "enum": ["x"]}, {"type": "null"}]},
                "c": {"type": ["string", "null"], "enum": ["y", null]}
            }
        });
        tidy(&mut schema, Side::Input);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "integer"},
                    "b": {"description": "B.", "type": "string", "enum": ["x"]},
                    "c": {"type": "string", "enum": ["y"]}
                }
            })
        );
    }

    #[test]
    fn toolsets_parse_leniently() {
        assert_eq!(
            "pull-requests".parse::<Toolset>(),
            Ok(Toolset::PullRequests)
        );
        assert_eq!("Issues".parse::<Toolset>(), Ok(Toolset::Issues));
        let err = "pulls".parse::<Toolset>().unwrap_err().to_string();
        assert!(err.contains("`pull_requests`"), "{err}");
        for toolset in Toolset::ALL {
            assert_eq!(toolset.as_str().parse::<Toolset>(), Ok(toolset));
        }
    }
}
