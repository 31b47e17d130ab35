//! A session's configuration: parsed once from the REST request (Composio's v3.1 shapes),
//! stored as JSON, and rendered back in the shape the SDK reads. Unknown fields are refused
//! with their name; features this router does not offer (the workbench, bash, custom tools,
//! several accounts, instant tools, proxy execution) are refused with a clear message.

use std::collections::BTreeMap;

use bitbucket_toolkit::{DestructivePolicy, ToolPolicy, ToolSpec, Toolkit};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::connections::TOOLKIT;

/// An MCP annotation hint usable in `tags`.
const TAGS: [&str; 6] = [
    "readOnlyHint",
    "destructiveHint",
    "idempotentHint",
    "openWorldHint",
    "createHint",
    "updateHint",
];

/// A bad session request: the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn bad(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

/// Enable or disable lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Filter {
    #[default]
    All,
    Enable(Vec<String>),
    Disable(Vec<String>),
}

/// Tag filter: a tool must have one of `enabled` (when not empty) and none of `disabled`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter {
    pub enabled: Vec<String>,
    pub disabled: Vec<String>,
}

/// Per-toolkit tool filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToolFilter {
    List(Filter),
    Tags(TagFilter),
}

/// Which app tools are listed directly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preload {
    #[default]
    None,
    Tools(Vec<String>),
    All,
}

/// The stored configuration of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionConfig {
    pub toolkits: Filter,
    pub tools: BTreeMap<String, ToolFilter>,
    pub tags: Option<TagFilter>,
    pub manage_connections: bool,
    pub callback_url: Option<String>,
    pub wait_for_connections: bool,
    pub connection_removal: bool,
    pub preload: Preload,
    pub search: bool,
    pub multi_execute: bool,
    /// Tool slugs, toolkit slugs or tags whose calls need the user's approval, besides
    /// destructive tools (which always do).
    pub require_approval: Vec<String>,
    /// Lockdown for this session (`experimental.lockdown`): results withhold what people
    /// without write access to a repository wrote (see `Toolkit::with_lockdown`).
    #[serde(default)]
    pub lockdown: bool,
    /// What a call that needs approval does when the MCP client cannot be asked (it declared
    /// no elicitation): refused (`deny`, the default) or run unasked (`allow`), as
    /// `experimental.no_elicitation_support_fallback` says.
    #[serde(default)]
    pub elicitation_fallback: ElicitationFallback,
}

/// `experimental.no_elicitation_support_fallback`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElicitationFallback {
    #[default]
    Deny,
    Allow,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            toolkits: Filter::All,
            tools: BTreeMap::new(),
            tags: None,
            manage_connections: true,
            callback_url: None,
            wait_for_connections: true,
            connection_removal: true,
            preload: Preload::None,
            search: true,
            multi_execute: true,
            require_approval: Vec::new(),
            lockdown: false,
            elicitation_fallback: ElicitationFallback::Deny,
        }
    }
}

/// The top-level fields of a create request (`user_id` is read by the caller).
const CREATE_FIELDS: [&str; 18] = [
    "user_id",
    "toolkits",
    "tools",
    "tags",
    "manage_connections",
    "preload",
    "session_preset",
    "search",
    "execute",
    "workbench",
    "experimental",
    "auth_configs",
    "connected_accounts",
    "multi_account",
    "instant",
    "proxy_execute",
    "hooks",
    "require_approval",
];

impl SessionConfig {
    /// Reads a create (`patch == false`) or patch request body over `self`.
    pub fn apply(&mut self, body: &Map<String, Value>, patch: bool) -> Result<(), ConfigError> {
        for key in body.keys() {
            if !CREATE_FIELDS.contains(&key.as_str()) || (patch && key == "user_id") {
                return Err(bad(format!(
                    "unknown field `{key}`; expected one of {}",
                    CREATE_FIELDS
                        .iter()
                        .filter(|f| !(patch && **f == "user_id"))
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if let Some(preset) = body.get("session_preset") {
            match preset.as_str() {
                Some("direct_tools") => {
                    self.search = false;
                    self.multi_execute = false;
                    self.manage_connections = false;
                    self.preload = Preload::All;
                }
                _ => {
                    return Err(bad(
                        "`session_preset` must be `\"direct_tools\"` (the only preset offered)",
                    ));
                }
            }
        }
        if let Some(value) = body.get("toolkits") {
            let (filter, approval) = toolkits(value)?;
            self.toolkits = filter;
            self.require_approval.extend(approval);
        }
        if let Some(value) = body.get("tools") {
            self.tools = tools(value)?;
        }
        if let Some(value) = body.get("tags") {
            self.tags = if value.is_null() {
                None
            } else {
                Some(tag_filter(value, "tags")?)
            };
        }
        if let Some(value) = body.get("manage_connections") {
            self.manage_connections(value)?;
        }
        if let Some(value) = body.get("preload") {
            self.preload = preload(value)?;
        }
        if let Some(value) = body.get("search") {
            self.search = toggle(value, "search", "enable")?.unwrap_or(self.search);
        }
        if let Some(value) = body.get("execute") {
            self.multi_execute =
                toggle(value, "execute", "enable_multi_execute")?.unwrap_or(self.multi_execute);
        }
        if let Some(value) = body.get("require_approval") {
            self.require_approval = strings(value, "require_approval")?;
        }
        if let Some(value) = body
            .get("experimental")
            .and_then(Value::as_object)
            .and_then(|experimental| experimental.get("lockdown"))
        {
            self.lockdown = value
                .as_bool()
                .ok_or_else(|| bad("`experimental.lockdown` must be true or false"))?;
        }
        if let Some(value) = body
            .get("experimental")
            .and_then(Value::as_object)
            .and_then(|experimental| experimental.get("no_elicitation_support_fallback"))
        {
            self.elicitation_fallback = match value.as_str() {
                Some("deny") => ElicitationFallback::Deny,
                Some("allow") => ElicitationFallback::Allow,
                _ if value.is_null() => ElicitationFallback::Deny,
                _ => {
                    return Err(bad(format!(
                        "`experimental.no_elicitation_support_fallback` must be \"deny\" (refuse calls that need approval when the client cannot ask the user; the default) or \"allow\" (run them unasked), not {value}"
                    )));
                }
            };
        }
        refuse_unoffered(body)?;
        Ok(())
    }

    fn manage_connections(&mut self, value: &Value) -> Result<(), ConfigError> {
        if let Some(enable) = value.as_bool() {
            self.manage_connections = enable;
            return Ok(());
        }
        let object = object(value, "manage_connections")?;
        for (key, v) in object {
            let flag = || {
                v.as_bool()
                    .map(Some)
                    .or(v.is_null().then_some(None))
                    .ok_or_else(|| bad(format!("`manage_connections.{key}` must be true or false")))
            };
            match key.as_str() {
                "enable" => self.manage_connections = flag()?.unwrap_or(true),
                "enable_wait_for_connections" => {
                    self.wait_for_connections = flag()?.unwrap_or(true);
                }
                "enable_connection_removal" => self.connection_removal = flag()?.unwrap_or(true),
                "callback_url" => {
                    self.callback_url = match v {
                        Value::Null => None,
                        Value::String(url) if url::Url::parse(url).is_ok() => Some(url.clone()),
                        _ => {
                            return Err(bad(
                                "`manage_connections.callback_url` must be an absolute URL",
                            ));
                        }
                    }
                }
                other => {
                    return Err(bad(format!(
                        "unknown field `manage_connections.{other}`; expected `enable`, `callback_url`, `enable_wait_for_connections` or `enable_connection_removal`"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether the session's filters let `spec` be used.
    pub fn allows(&self, spec: &ToolSpec) -> bool {
        let toolkit_on = match &self.toolkits {
            Filter::All => true,
            Filter::Enable(list) => list.iter().any(|t| t == TOOLKIT),
            Filter::Disable(list) => !list.iter().any(|t| t == TOOLKIT),
        };
        if !toolkit_on {
            return false;
        }
        match self.tools.get(TOOLKIT) {
            Some(ToolFilter::List(Filter::Enable(list))) => {
                return list.iter().any(|t| t == spec.name);
            }
            Some(ToolFilter::List(Filter::Disable(list)))
                if list.iter().any(|t| t == spec.name) =>
            {
                return false;
            }
            Some(ToolFilter::Tags(tags)) => return tags_allow(tags, spec),
            _ => {}
        }
        self.tags.as_ref().is_none_or(|tags| tags_allow(tags, spec))
    }

    /// The tools the session allows, as the toolkit's policy: destructive tools ask first.
    pub fn policy(&self) -> ToolPolicy {
        ToolPolicy {
            tools: Some(
                Toolkit::catalogue()
                    .iter()
                    .filter(|spec| self.allows(spec))
                    .map(|spec| spec.name.to_owned())
                    .collect(),
            ),
            destructive: DestructivePolicy::Confirm,
            ..ToolPolicy::default()
        }
    }

    /// Whether a call to `spec` needs the user's approval.
    pub fn needs_approval(&self, spec: &ToolSpec) -> bool {
        spec.annotations.destructive
            || self.require_approval.iter().any(|item| {
                item == spec.name || item == TOOLKIT || tags_of(spec).contains(&item.as_str())
            })
    }

    /// App tools listed directly in the session's MCP tool list.
    pub fn preloaded(&self) -> Vec<&'static ToolSpec> {
        let policy = self.policy();
        match &self.preload {
            Preload::None => Vec::new(),
            Preload::All => policy.offered().collect(),
            Preload::Tools(names) => policy
                .offered()
                .filter(|spec| names.iter().any(|n| n == spec.name))
                .collect(),
        }
    }

    /// The meta-tools the session offers, in Composio's order.
    pub fn meta_tools(&self) -> Vec<&'static str> {
        let mut tools = Vec::new();
        if self.search {
            tools.push(crate::meta::SEARCH_TOOLS);
            tools.push(crate::meta::GET_TOOL_SCHEMAS);
        }
        if self.manage_connections {
            tools.push(crate::meta::MANAGE_CONNECTIONS);
            if self.wait_for_connections {
                tools.push(crate::meta::WAIT_FOR_CONNECTIONS);
            }
        }
        if self.multi_execute {
            tools.push(crate::meta::MULTI_EXECUTE_TOOL);
        }
        tools
    }

    /// `config` in the SDK's response shape.
    pub fn render(&self, user_id: &str) -> Value {
        let list = |filter: &Filter| match filter {
            Filter::All => Value::Null,
            Filter::Enable(list) => json!({"enabled": list}),
            Filter::Disable(list) => json!({"disabled": list}),
        };
        let tags = |t: &TagFilter| json!({"enabled": t.enabled, "disabled": t.disabled});
        let tools: Map<String, Value> = self
            .tools
            .iter()
            .map(|(toolkit, filter)| {
                let value = match filter {
                    ToolFilter::List(filter) => list(filter),
                    ToolFilter::Tags(t) => json!({"tags": tags(t)}),
                };
                (toolkit.clone(), value)
            })
            .collect();
        let preload = match &self.preload {
            Preload::None => json!([]),
            Preload::Tools(names) => json!(names),
            Preload::All => json!("all"),
        };
        json!({
            "user_id": user_id,
            "toolkits": list(&self.toolkits),
            "tools": if tools.is_empty() { Value::Null } else { Value::Object(tools) },
            "tags": self.tags.as_ref().map(tags),
            "manage_connections": {
                "enabled": self.manage_connections,
                "callback_url": self.callback_url,
                "enable_wait_for_connections": self.wait_for_connections,
                "enable_connection_removal": self.connection_removal,
            },
            "preload": {"tools": preload},
            "search": {"enable": self.search},
            "execute": {"enable_multi_execute": self.multi_execute},
            "workbench": {"enable": false},
            "instant": false,
            "auth_configs": null,
            "connected_accounts": null,
            "multi_account": null,
        })
    }
}

/// The annotation hints of a tool, as Composio tags.
pub fn tags_of(spec: &ToolSpec) -> Vec<&'static str> {
    let a = spec.annotations;
    let mut tags = Vec::new();
    if a.read_only {
        tags.push("readOnlyHint");
    }
    if a.destructive {
        tags.push("destructiveHint");
    }
    if a.idempotent {
        tags.push("idempotentHint");
    }
    if a.open_world {
        tags.push("openWorldHint");
    }
    if !a.read_only && !a.destructive {
        tags.push(if a.idempotent {
            "updateHint"
        } else {
            "createHint"
        });
    }
    tags
}

fn tags_allow(filter: &TagFilter, spec: &ToolSpec) -> bool {
    let tags = tags_of(spec);
    (filter.enabled.is_empty() || filter.enabled.iter().any(|t| tags.contains(&t.as_str())))
        && !filter.disabled.iter().any(|t| tags.contains(&t.as_str()))
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, ConfigError> {
    value
        .as_object()
        .ok_or_else(|| bad(format!("`{field}` must be an object")))
}

fn strings(value: &Value, field: &str) -> Result<Vec<String>, ConfigError> {
    let items = value
        .as_array()
        .ok_or_else(|| bad(format!("`{field}` must be a list of strings")))?;
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("`{field}` must be a list of strings")))
        })
        .collect()
}

fn toggle(value: &Value, field: &str, key: &str) -> Result<Option<bool>, ConfigError> {
    let object = object(value, field)?;
    for k in object.keys() {
        if k != key {
            return Err(bad(format!(
                "unknown field `{field}.{k}`; expected `{key}`"
            )));
        }
    }
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(format!("`{field}.{key}` must be true or false"))),
    }
}

fn check_toolkits(list: &[String], field: &str) -> Result<(), ConfigError> {
    for toolkit in list {
        if !toolkit.eq_ignore_ascii_case(TOOLKIT) {
            return Err(bad(format!(
                "unknown toolkit `{toolkit}` in `{field}`; this router serves `{TOOLKIT}`"
            )));
        }
    }
    Ok(())
}

/// `toolkits`: a list, or `{enable}` / `{disable}`, with an optional `require_approval`.
fn toolkits(value: &Value) -> Result<(Filter, Vec<String>), ConfigError> {
    if value.is_array() {
        let list = lower(strings(value, "toolkits")?);
        check_toolkits(&list, "toolkits")?;
        return Ok((Filter::Enable(list), Vec::new()));
    }
    let object = object(value, "toolkits")?;
    let mut filter = Filter::All;
    let mut approval = Vec::new();
    for (key, v) in object {
        let field = format!("toolkits.{key}");
        match key.as_str() {
            "enable" | "disable" if filter != Filter::All => {
                return Err(bad(
                    "`toolkits` takes `enable` or `disable`, not both (they are mutually exclusive)",
                ));
            }
            "enable" => {
                let list = lower(strings(v, &field)?);
                check_toolkits(&list, &field)?;
                filter = Filter::Enable(list);
            }
            "disable" => {
                let list = lower(strings(v, &field)?);
                check_toolkits(&list, &field)?;
                filter = Filter::Disable(list);
            }
            "require_approval" => approval = strings(v, &field)?,
            other => {
                return Err(bad(format!(
                    "unknown field `toolkits.{other}`; expected `enable`, `disable` or `require_approval`"
                )));
            }
        }
    }
    Ok((filter, approval))
}

fn lower(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}

fn tool_names(value: &Value, field: &str) -> Result<Vec<String>, ConfigError> {
    let names = strings(value, field)?;
    for name in &names {
        if Toolkit::find(name).is_none() {
            let unknown = bitbucket_toolkit::UnknownTool::new(name);
            return Err(bad(format!("{unknown} (in `{field}`)")));
        }
    }
    Ok(names)
}

/// `tools`: per toolkit, a list, `{enable}`, `{disable}` or `{tags}`.
fn tools(value: &Value) -> Result<BTreeMap<String, ToolFilter>, ConfigError> {
    let mut out = BTreeMap::new();
    if value.is_null() {
        return Ok(out);
    }
    for (toolkit, config) in object(value, "tools")? {
        let toolkit = toolkit.to_ascii_lowercase();
        check_toolkits(std::slice::from_ref(&toolkit), "tools")?;
        let field = format!("tools.{toolkit}");
        let filter = if config.is_array() {
            ToolFilter::List(Filter::Enable(tool_names(config, &field)?))
        } else {
            let object = object(config, &field)?;
            let mut filter = None;
            for (key, v) in object {
                let sub = format!("{field}.{key}");
                let next = match key.as_str() {
                    "enable" => ToolFilter::List(Filter::Enable(tool_names(v, &sub)?)),
                    "disable" => ToolFilter::List(Filter::Disable(tool_names(v, &sub)?)),
                    "tags" => ToolFilter::Tags(tag_filter(v, &sub)?),
                    "require_approval" => continue,
                    other => {
                        return Err(bad(format!(
                            "unknown field `{field}.{other}`; expected `enable`, `disable`, `tags` or `require_approval`"
                        )));
                    }
                };
                if filter.replace(next).is_some() {
                    return Err(bad(format!(
                        "`{field}` takes one of `enable`, `disable` or `tags`"
                    )));
                }
            }
            filter.unwrap_or(ToolFilter::List(Filter::All))
        };
        out.insert(toolkit, filter);
    }
    Ok(out)
}

fn tag_list(value: &Value, field: &str) -> Result<Vec<String>, ConfigError> {
    let list = strings(value, field)?;
    for tag in &list {
        if !TAGS.contains(&tag.as_str()) {
            return Err(bad(format!(
                "unknown tag `{tag}` in `{field}`; expected one of {}",
                TAGS.map(|t| format!("`{t}`")).join(", ")
            )));
        }
    }
    Ok(list)
}

/// Tags: a list (enabled) or `{enable, disable}`.
fn tag_filter(value: &Value, field: &str) -> Result<TagFilter, ConfigError> {
    if value.is_array() {
        return Ok(TagFilter {
            enabled: tag_list(value, field)?,
            disabled: Vec::new(),
        });
    }
    let mut filter = TagFilter::default();
    for (key, v) in object(value, field)? {
        let sub = format!("{field}.{key}");
        match key.as_str() {
            "enable" | "enabled" => filter.enabled = tag_list(v, &sub)?,
            "disable" | "disabled" => filter.disabled = tag_list(v, &sub)?,
            "require_approval" => {
                tag_list(v, &sub)?;
            }
            other => {
                return Err(bad(format!(
                    "unknown field `{field}.{other}`; expected `enable` or `disable`"
                )));
            }
        }
    }
    Ok(filter)
}

fn preload(value: &Value) -> Result<Preload, ConfigError> {
    if value.is_null() {
        return Ok(Preload::None);
    }
    let object = object(value, "preload")?;
    for key in object.keys() {
        if key != "tools" {
            return Err(bad(format!(
                "unknown field `preload.{key}`; expected `tools`"
            )));
        }
    }
    match object.get("tools") {
        None | Some(Value::Null) => Ok(Preload::None),
        Some(Value::String(all)) if all == "all" => Ok(Preload::All),
        Some(list @ Value::Array(_)) => Ok(Preload::Tools(tool_names(list, "preload.tools")?)),
        Some(_) => Err(bad(
            "`preload.tools` must be a list of tool slugs or `\"all\"`",
        )),
    }
}

/// Features we do not offer are refused, not ignored; their "off" values are accepted.
fn refuse_unoffered(body: &Map<String, Value>) -> Result<(), ConfigError> {
    let on = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    if let Some(workbench) = body.get("workbench")
        && !workbench.is_null()
    {
        let object = object(workbench, "workbench")?;
        if object.get("enable").and_then(Value::as_bool) != Some(false) {
            return Err(bad(
                "the remote workbench (and its bash tool) is not offered by this router; send `workbench: {\"enable\": false}` or leave it out",
            ));
        }
    }
    if let Some(experimental) = body.get("experimental")
        && !experimental.is_null()
    {
        for key in object(experimental, "experimental")?.keys() {
            match key.as_str() {
                "custom_tools" | "custom_toolkits" => {
                    return Err(bad(format!(
                        "`experimental.{key}`: custom tools are not offered by this router"
                    )));
                }
                "assistive_prompt_config" | "no_elicitation_support_fallback" | "lockdown" => {}
                other => {
                    return Err(bad(format!(
                        "`experimental.{other}` is not offered by this router"
                    )));
                }
            }
        }
    }
    for key in ["auth_configs", "connected_accounts", "hooks"] {
        if let Some(v) = body.get(key)
            && !(v.is_null() || v.as_object().is_some_and(Map::is_empty))
        {
            return Err(bad(format!(
                "`{key}` is not offered by this router: each user has one connection per toolkit, made with an auth link or `bbagent router connect`"
            )));
        }
    }
    if on(body.get("multi_account"), "enable") {
        return Err(bad(
            "`multi_account` is not offered by this router: one connection per user and toolkit",
        ));
    }
    if body
        .get("instant")
        .is_some_and(|v| !(v.is_null() || v == &json!(false)))
    {
        return Err(bad("`instant` tools are not offered by this router"));
    }
    if on(body.get("proxy_execute"), "enable") {
        return Err(bad("`proxy_execute` is not offered by this router"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<SessionConfig, ConfigError> {
        let mut config = SessionConfig::default();
        config.apply(body.as_object().unwrap(), false)?;
        Ok(config)
    }

    #[test]
    fn the_sdk_create_body_is_accepted() {
        let config = parse(json!({
            "user_id": "u1",
            "toolkits": {"enable": ["bitbucket"]},
            "manage_connections": {"enable": true},
        }))
        .unwrap();
        assert_eq!(config.toolkits, Filter::Enable(vec!["bitbucket".into()]));
        assert_eq!(
            config.meta_tools(),
            [
                "COMPOSIO_SEARCH_TOOLS",
                "COMPOSIO_GET_TOOL_SCHEMAS",
                "COMPOSIO_MANAGE_CONNECTIONS",
                "COMPOSIO_WAIT_FOR_CONNECTIONS",
                "COMPOSIO_MULTI_EXECUTE_TOOL"
            ]
        );
        let rendered = config.render("u1");
        assert_eq!(rendered["preload"]["tools"], json!([]));
        assert_eq!(rendered["toolkits"], json!({"enabled": ["bitbucket"]}));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                json!({"user_id": "u", "colour": 1}),
                "unknown field `colour`",
            ),
            (
                json!({"user_id": "u", "toolkits": {"enable": ["github"]}}),
                "unknown toolkit `github`",
            ),
            (
                json!({"user_id": "u", "tools": {"bitbucket": {"enable": ["BITBUCKET_CREATE_BRANCHES"]}}}),
                "did you mean `BITBUCKET_CREATE_BRANCH`",
            ),
            (
                json!({"user_id": "u", "tags": ["shinyHint"]}),
                "unknown tag `shinyHint`",
            ),
            (
                json!({"user_id": "u", "workbench": {"enable": true}}),
                "remote workbench",
            ),
            (
                json!({"user_id": "u", "experimental": {"custom_tools": []}}),
                "custom tools",
            ),
            (
                json!({"user_id": "u", "manage_connections": {"colour": 1}}),
                "`manage_connections.colour`",
            ),
        ];
        for (body, expected) in cases {
            let err = parse(body.clone()).unwrap_err().to_string();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn filters_narrow_the_tools() {
        let read_only = parse(json!({"user_id": "u", "tags": ["readOnlyHint"]})).unwrap();
        assert!(
            read_only
                .policy()
                .offered()
                .all(|s| s.annotations.read_only)
        );
        let no_delete =
            parse(json!({"user_id": "u", "tags": {"disable": ["destructiveHint"]}})).unwrap();
        assert!(
            no_delete
                .policy()
                .offered()
                .all(|s| !s.annotations.destructive)
        );
        let two = parse(json!({"user_id": "u", "tools": {"bitbucket": ["BITBUCKET_CREATE_BRANCH", "BITBUCKET_LIST_BRANCHES"]}}))
            .unwrap();
        assert_eq!(two.policy().offered().count(), 2);
        let off = parse(json!({"user_id": "u", "toolkits": {"disable": ["bitbucket"]}})).unwrap();
        assert_eq!(off.policy().offered().count(), 0);
        let direct = parse(json!({"user_id": "u", "session_preset": "direct_tools"})).unwrap();
        assert!(direct.meta_tools().is_empty());
        assert_eq!(direct.preloaded().len(), Toolkit::catalogue().len());
    }
}
