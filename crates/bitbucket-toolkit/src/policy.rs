//! Which tools a server offers and how it treats destructive ones, shared by every server
//! that exposes the toolkit (the MCP server and the tool router). Protocol-free: it reads only
//! the catalogue.

use std::fmt;
use std::str::FromStr;

use crate::{ToolSpec, Toolkit, Toolset};

/// What happens when a model calls a destructive tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DestructivePolicy {
    /// Ask the user first; refuse when the user cannot be asked.
    #[default]
    Confirm,
    /// Hide destructive tools and refuse calls to them.
    Deny,
    /// Run them without asking (for trusted automation).
    Allow,
}

impl FromStr for DestructivePolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "confirm" => Ok(Self::Confirm),
            "deny" => Ok(Self::Deny),
            "allow" => Ok(Self::Allow),
            other => Err(format!(
                "unknown destructive policy `{other}` (expected `confirm`, `deny` or `allow`)"
            )),
        }
    }
}

impl fmt::Display for DestructivePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Confirm => "confirm",
            Self::Deny => "deny",
            Self::Allow => "allow",
        })
    }
}

/// Which tools are offered, and how destructive ones are treated.
#[derive(Debug, Clone, Default)]
pub struct ToolPolicy {
    /// Hide every tool that writes.
    pub read_only: bool,
    /// Offer only these toolsets (all when `None`).
    pub toolsets: Option<Vec<Toolset>>,
    /// Offer only these tools (all when `None`); combined with `toolsets` as an intersection.
    pub tools: Option<Vec<String>>,
    pub destructive: DestructivePolicy,
}

/// A tool named in a tool filter that does not exist.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown tool `{name}` in the tool filter; known tools: {known}")]
pub struct PolicyError {
    /// The name given.
    pub name: String,
    known: String,
}

impl ToolPolicy {
    /// Checks that every tool named in `tools` exists.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for name in self.tools.iter().flatten() {
            if Toolkit::find(name).is_none() {
                return Err(PolicyError {
                    name: name.clone(),
                    known: Toolkit::catalogue()
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(())
    }

    /// Whether `spec` is offered.
    pub fn offers(&self, spec: &ToolSpec) -> bool {
        if self.read_only && !spec.annotations.read_only {
            return false;
        }
        if spec.annotations.destructive && self.destructive == DestructivePolicy::Deny {
            return false;
        }
        if let Some(toolsets) = &self.toolsets
            && !toolsets.contains(&spec.toolset)
        {
            return false;
        }
        if let Some(tools) = &self.tools
            && !tools.iter().any(|t| t == spec.name)
        {
            return false;
        }
        true
    }

    /// The offered tools, in catalogue order.
    pub fn offered(&self) -> impl Iterator<Item = &'static ToolSpec> + '_ {
        Toolkit::catalogue().iter().filter(|spec| self.offers(spec))
    }

    /// Whether calling `spec` needs the user's confirmation first.
    pub fn needs_confirmation(&self, spec: &ToolSpec) -> bool {
        spec.annotations.destructive && self.destructive == DestructivePolicy::Confirm
    }

    /// Why a catalogued tool is not offered, for a call that names it anyway.
    pub fn refusal(&self, spec: &ToolSpec) -> String {
        if self.read_only && !spec.annotations.read_only {
            format!(
                "`{}` is disabled: this server runs with `--read-only`",
                spec.name
            )
        } else if spec.annotations.destructive && self.destructive == DestructivePolicy::Deny {
            format!(
                "`{}` is disabled: this server refuses destructive tools (`--destructive deny`)",
                spec.name
            )
        } else {
            format!(
                "`{}` is not offered by this server (narrowed with `--toolsets` or `--tools`)",
                spec.name
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_and_deny_hide_tools() {
        let all = ToolPolicy::default();
        let read_only = ToolPolicy {
            read_only: true,
            ..ToolPolicy::default()
        };
        let deny = ToolPolicy {
            destructive: DestructivePolicy::Deny,
            ..ToolPolicy::default()
        };
        assert_eq!(all.offered().count(), Toolkit::catalogue().len());
        assert!(read_only.offered().all(|s| s.annotations.read_only));
        assert!(read_only.offered().count() < all.offered().count());
        assert!(deny.offered().all(|s| !s.annotations.destructive));
        let delete = Toolkit::find("BITBUCKET_DELETE_ISSUE");
        assert!(delete.is_some_and(|s| all.needs_confirmation(s) && !deny.offers(s)));
    }

    #[test]
    fn unknown_tool_in_filter_is_an_error() {
        let policy = ToolPolicy {
            tools: Some(vec!["BITBUCKET_NOPE".into()]),
            ..ToolPolicy::default()
        };
        assert!(
            policy
                .validate()
                .is_err_and(|e| e.to_string().starts_with("unknown tool `BITBUCKET_NOPE`"))
        );
    }
}
