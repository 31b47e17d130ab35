//! Workspaces, memberships and projects.

use serde::{Deserialize, Serialize};

use super::{Account, Extra, Links, null_default};

/// A workspace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workspace {
    /// `workspace` or `workspace_base`.
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    /// UUID in braces.
    pub uuid: Option<String>,
    /// URL slug, used in paths.
    #[serde(deserialize_with = "null_default")]
    pub slug: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether the workspace is private.
    pub is_private: Option<bool>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Links (`html`, `self`, `avatar`, ...).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The caller's access to a workspace, from `GET /user/workspaces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkspaceAccess {
    /// `workspace_access`.
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    /// Whether the caller administers the workspace.
    pub administrator: Option<bool>,
    /// The workspace.
    pub workspace: Option<Workspace>,
    /// Links.
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A member of a workspace, from `GET /workspaces/{workspace}/members`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkspaceMembership {
    /// `workspace_membership`.
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    /// The member.
    pub user: Option<Account>,
    /// The workspace.
    pub workspace: Option<Workspace>,
    /// `owner`, `collaborator` or `member`, when returned.
    pub permission: Option<String>,
    /// Links.
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A project grouping repositories in a workspace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    /// UUID in braces.
    pub uuid: Option<String>,
    /// Project key, e.g. `WEB`.
    pub key: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Whether the project is private.
    pub is_private: Option<bool>,
    /// Owning account.
    pub owner: Option<Account>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Links (`html`, `avatar`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A user's effective permission on a repository, from
/// `GET /workspaces/{workspace}/permissions/repositories/{repo_slug}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepositoryPermission {
    /// `repository_permission`.
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    /// `admin`, `write`, `read` or `none`.
    pub permission: Option<String>,
    /// Whose permission it is.
    pub user: Option<Account>,
}

impl RepositoryPermission {
    /// True for `write` and `admin`.
    pub fn can_write(&self) -> bool {
        matches!(self.permission.as_deref(), Some("write" | "admin"))
    }
}
