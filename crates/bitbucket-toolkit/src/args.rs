//! Argument types shared by the tools, and turning a call's JSON into a typed argument struct.
//!
//! Models send almost-right JSON: ids as strings (`"3"`), booleans as strings, enum values in
//! another case. These types accept such values where the meaning is unambiguous and refuse
//! everything else with a message that names the argument, the expected value and what came.

use std::borrow::Cow;
use std::fmt;

use bitbucket_client::RepoId;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::error::ToolError;

/// Why the arguments of a call were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid arguments for `{tool}`: {problem}")]
pub(crate) struct ArgError {
    pub tool: &'static str,
    pub problem: String,
}

/// Deserializes `arguments` into `T`, rewriting serde's messages into ones that name the
/// argument, e.g. "`pull_request_id` must be a positive integer, got `\"abc\"`".
pub(crate) fn parse<T: DeserializeOwned>(
    tool: &'static str,
    arguments: &Value,
) -> Result<T, ArgError> {
    let empty = Value::Object(serde_json::Map::new());
    let arguments = match arguments {
        // A tool without arguments is often called with `null`.
        Value::Null => &empty,
        Value::Object(_) => arguments,
        other => {
            return Err(ArgError {
                tool,
                problem: format!("arguments must be a JSON object, got `{}`", compact(other)),
            });
        }
    };
    serde_path_to_error::deserialize(arguments).map_err(|err| {
        let path: Vec<String> = err
            .path()
            .iter()
            .map(|segment| match segment {
                Segment::Seq { index } => format!("[{index}]"),
                Segment::Map { key } | Segment::Enum { variant: key } => key.clone(),
                Segment::Unknown => "?".to_owned(),
            })
            .collect();
        let value = lookup(arguments, err.path());
        ArgError {
            tool,
            problem: describe(&path, value, &err.inner().to_string()),
        }
    })
}

/// The value at `path` in the arguments, to quote it back exactly as sent.
fn lookup<'a>(arguments: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    let mut current = arguments;
    for segment in path.iter() {
        current = match segment {
            Segment::Seq { index } => current.get(index)?,
            Segment::Map { key } => current.get(key.as_str())?,
            Segment::Enum { .. } | Segment::Unknown => return None,
        };
    }
    Some(current)
}

fn join_path(path: &[String]) -> String {
    let mut out = String::new();
    for part in path {
        if !out.is_empty() && !part.starts_with('[') {
            out.push('.');
        }
        out.push_str(part);
    }
    out
}

/// Rewrites one serde message for a model.
fn describe(path: &[String], value: Option<&Value>, message: &str) -> String {
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("missing required argument {field}");
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // "unknown field `x`, expected one of `a`, `b`" / "..., there are no fields".
        return match rest.split_once(", ") {
            Some((field, "there are no fields")) => {
                format!("unknown argument {field}: this tool takes no arguments")
            }
            Some((field, expected)) => format!("unknown argument {field}; {expected}"),
            None => format!("unknown argument {rest}"),
        };
    }
    let name = join_path(path);
    let got = value
        .map(|v| format!(", got `{}`", compact(v)))
        .unwrap_or_default();
    // Our own types already phrase their complaint as "must be ...".
    if message.starts_with("must ") {
        return format!("`{name}` {message}{got}");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((_, expected)) = rest.split_once(", expected ")
        {
            return format!("`{name}` must be {}{got}", plain_expected(expected));
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant ")
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        return format!("`{name}` must be {expected}{got}");
    }
    if name.is_empty() {
        message.to_owned()
    } else {
        format!("`{name}`: {message}")
    }
}

/// Serde names some expectations after Rust types; say them in JSON terms.
fn plain_expected(expected: &str) -> &str {
    match expected {
        "a string" | "string" => "a string",
        "a sequence" => "an array",
        "a boolean" => "a boolean",
        "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" => "an integer",
        other => other,
    }
}

/// A JSON value on one line, cut short so that a huge wrong value does not flood the message.
pub(crate) fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// The repository that a tool's `workspace` and `repo_slug` arguments name, made once per
/// call. A value that cannot name one (`.` or `..`) is refused with the client's own message,
/// before anything is sent.
pub(crate) fn repo_id(workspace: &Text, repo_slug: &Text) -> Result<RepoId, ToolError> {
    RepoId::new(workspace.as_str(), repo_slug.as_str()).map_err(|source| ToolError::Bitbucket {
        message: source.to_string(),
        source,
    })
}

/// A required text argument: trimmed, and never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text(pub String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
                let text = text.trim();
                if text.is_empty() {
                    Err(E::custom("must not be empty"))
                } else {
                    Ok(Text(text.to_owned()))
                }
            }
            // Numbers are fine as names (`"2024"` as a slug is rare, but `issue` titles aren't).
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

impl JsonSchema for Text {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

/// A positive integer id (issue, pull request, comment); numeric strings are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Id(pub u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Parses the integer visitors share: positive, from a number or a numeric string.
fn positive<E: de::Error>(value: Option<u64>, what: &str) -> Result<u64, E> {
    match value {
        Some(n) if n > 0 => Ok(n),
        _ => Err(E::custom(format!("must be {what}"))),
    }
}

fn number_from_str(text: &str) -> Option<u64> {
    text.trim().trim_start_matches('#').parse::<u64>().ok()
}

fn number_from_f64(n: f64) -> Option<u64> {
    // `3.0` is an integer that took a detour through a float.
    if n.fract() == 0.0 && n >= 0.0 && n <= u64::MAX as f64 {
        Some(n as u64)
    } else {
        None
    }
}

struct PositiveVisitor(&'static str);

impl Visitor<'_> for PositiveVisitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<u64, E> {
        positive(Some(n), self.0)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<u64, E> {
        positive(u64::try_from(n).ok(), self.0)
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<u64, E> {
        positive(number_from_f64(n), self.0)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
        positive(number_from_str(text), self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(PositiveVisitor("a positive integer"))
            .map(Id)
    }
}

impl JsonSchema for Id {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1 })
    }
}

/// A 1-based page number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageNumber(pub u32);

impl<'de> Deserialize<'de> for PageNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = deserializer.deserialize_any(PositiveVisitor("a positive integer"))?;
        u32::try_from(n)
            .map(PageNumber)
            .map_err(|_| de::Error::custom("must be a page number below 4294967296"))
    }
}

impl JsonSchema for PageNumber {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "PageNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1 })
    }
}

/// Items per page, from 1 to `MAX` (Bitbucket allows 100 on most lists, 50 on pull requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageLen<const MAX: u32>(pub u32);

impl<'de, const MAX: u32> Deserialize<'de> for PageLen<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = deserializer.deserialize_any(PositiveVisitor("an integer from 1"))?;
        match u32::try_from(n) {
            Ok(n) if n <= MAX => Ok(PageLen(n)),
            _ => Err(de::Error::custom(format!(
                "must be an integer from 1 to {MAX}"
            ))),
        }
    }
}

impl<const MAX: u32> JsonSchema for PageLen<MAX> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("PageLen{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": MAX })
    }
}

/// A boolean; `"true"`/`"false"` strings are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl Visitor<'_> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`true` or `false`")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Flag, E> {
                Ok(Flag(value))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Flag, E> {
                match text.trim().to_ascii_lowercase().as_str() {
                    "true" => Ok(Flag(true)),
                    "false" => Ok(Flag(false)),
                    _ => Err(E::custom("must be `true` or `false`")),
                }
            }
        }
        deserializer.deserialize_any(FlagVisitor)
    }
}

impl JsonSchema for Flag {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Flag".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "boolean" })
    }
}

/// A list of names, given as an array or as one comma-separated string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Names(pub Vec<String>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fail = || de::Error::custom("must be an array of strings");
        let names: Vec<String> = match Value::deserialize(deserializer)? {
            Value::String(text) => text.split(',').map(str::to_owned).collect(),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text),
                    _ => Err(fail()),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(fail()),
        };
        Ok(Names(
            names
                .into_iter()
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect(),
        ))
    }
}

impl JsonSchema for Names {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Names".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": { "type": "string" } })
    }
}

/// One or several values of a string enum, given as an array, a string or a comma-separated
/// string; case-insensitive. `E` lists the accepted values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OneOrMany<E: Choice>(pub Vec<E>);

/// A closed set of string values.
pub(crate) trait Choice: Sized + Clone {
    /// Every value, as Bitbucket spells it.
    const CHOICES: &'static [&'static str];
    /// The value for one of [`Self::CHOICES`].
    fn from_choice(index: usize) -> Self;
    /// The value `text` names, ignoring case and surrounding spaces.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::CHOICES
            .iter()
            .position(|choice| choice.eq_ignore_ascii_case(text))
            .map(Self::from_choice)
    }
    fn expected() -> String {
        let quoted: Vec<String> = Self::CHOICES.iter().map(|c| format!("`{c}`")).collect();
        format!("one of {}", quoted.join(", "))
    }
}

/// Deserializes one [`Choice`] value from a string.
pub(crate) struct ChoiceVisitor<E>(std::marker::PhantomData<E>);

impl<E: Choice> Visitor<'_> for ChoiceVisitor<E> {
    type Value = E;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&E::expected())
    }
    fn visit_str<Er: de::Error>(self, text: &str) -> Result<E, Er> {
        E::parse(text).ok_or_else(|| Er::custom(format!("must be {}", E::expected())))
    }
}

pub(crate) fn deserialize_choice<'de, D: Deserializer<'de>, E: Choice>(
    deserializer: D,
) -> Result<E, D::Error> {
    deserializer.deserialize_str(ChoiceVisitor(std::marker::PhantomData))
}

pub(crate) fn choice_schema<E: Choice>() -> Schema {
    json_schema!({ "type": "string", "enum": E::CHOICES })
}

impl<'de, E: Choice> Deserialize<'de> for OneOrMany<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let fail = || de::Error::custom(format!("must be {} (or an array of them)", E::expected()));
        let texts: Vec<&str> = match &value {
            Value::String(text) => text.split(',').collect(),
            Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().ok_or_else(fail))
                .collect::<Result<_, _>>()?,
            _ => return Err(fail()),
        };
        let mut values = Vec::new();
        for text in texts.into_iter().filter(|t| !t.trim().is_empty()) {
            values.push(E::parse(text).ok_or_else(fail)?);
        }
        if values.is_empty() {
            return Err(fail());
        }
        Ok(OneOrMany(values))
    }
}

impl<E: Choice> JsonSchema for OneOrMany<E> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "OneOrMany".into()
    }
    fn schema_id() -> Cow<'static, str> {
        format!("OneOrMany<{}>", E::CHOICES.join(",")).into()
    }
    // An array in the schema (a single string is accepted too, but saying so would repeat the
    // whole `enum` in the schema for every model to read).
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": { "type": "string", "enum": E::CHOICES } })
    }
}

/// Declares a [`Choice`] enum that deserializes case-insensitively and has an `enum` schema.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $name { $($variant),+ }

        impl $crate::args::Choice for $name {
            const CHOICES: &'static [&'static str] = &[$($text),+];
            fn from_choice(index: usize) -> Self {
                const ALL: &[$name] = &[$($name::$variant),+];
                ALL[index]
            }
        }

        impl $name {
            #[allow(dead_code, reason = "not every choice is shown back to the model")]
            pub(crate) fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::args::deserialize_choice(deserializer)
            }
        }

        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $crate::args::choice_schema::<$name>()
            }
        }
    };
}
pub(crate) use choice;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    choice!(Colour { Red => "red", DarkBlue => "dark blue" });

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "fields are only deserialized")]
    struct Probe {
        id: Id,
        name: Option<Text>,
        flag: Option<Flag>,
        colour: Option<Colour>,
        colours: Option<OneOrMany<Colour>>,
        pagelen: Option<PageLen<50>>,
    }

    fn problem(arguments: Value) -> String {
        parse::<Probe>("TOOL", &arguments).unwrap_err().problem
    }

    #[test]
    fn lenient_values_are_accepted() {
        let probe: Probe = parse(
            "TOOL",
            &json!({"id": "3", "name": "  x ", "flag": "TRUE", "colour": "Dark Blue", "colours": "red,DARK BLUE", "pagelen": 50.0}),
        )
        .unwrap();
        assert_eq!(probe.id, Id(3));
        assert_eq!(probe.name, Some(Text("x".into())));
        assert_eq!(probe.flag, Some(Flag(true)));
        assert_eq!(probe.colour, Some(Colour::DarkBlue));
        assert_eq!(
            probe.colours,
            Some(OneOrMany(vec![Colour::Red, Colour::DarkBlue]))
        );
        assert_eq!(probe.pagelen, Some(PageLen(50)));
        let probe: Probe = parse("TOOL", &json!({"id": 7, "colours": ["RED"]})).unwrap();
        assert_eq!(probe.id, Id(7));
    }

    #[test]
    fn messages_name_the_argument_and_the_value() {
        assert_eq!(
            problem(json!({"id": "abc"})),
            "`id` must be a positive integer, got `\"abc\"`"
        );
        assert_eq!(
            problem(json!({"id": -2})),
            "`id` must be a positive integer, got `-2`"
        );
        assert_eq!(
            problem(json!({"id": 0})),
            "`id` must be a positive integer, got `0`"
        );
        assert_eq!(problem(json!({})), "missing required argument `id`");
        assert!(
            problem(json!({"id": 1, "nope": 1}))
                .starts_with("unknown argument `nope`; expected one of `id`"),
            "{}",
            problem(json!({"id": 1, "nope": 1}))
        );
        assert_eq!(
            problem(json!({"id": 1, "name": "  "})),
            "`name` must not be empty, got `\"  \"`"
        );
        assert_eq!(
            problem(json!({"id": 1, "flag": 3})),
            "`flag` must be `true` or `false`, got `3`"
        );
        assert_eq!(
            problem(json!({"id": 1, "colour": "green"})),
            "`colour` must be one of `red`, `dark blue`, got `\"green\"`"
        );
        assert_eq!(
            problem(json!({"id": 1, "colours": ["red", 1]})),
            "`colours` must be one of `red`, `dark blue` (or an array of them), got `[\"red\",1]`"
        );
        assert_eq!(
            problem(json!({"id": 1, "pagelen": 51})),
            "`pagelen` must be an integer from 1 to 50, got `51`"
        );
        assert_eq!(
            parse::<Probe>("TOOL", &json!([1])).unwrap_err().to_string(),
            "invalid arguments for `TOOL`: arguments must be a JSON object, got `[1]`"
        );
    }
}
