//! Repositories.

use serde::{Deserialize, Serialize};

use super::{Account, Branch, Extra, Links, Project, Workspace, null_default};

/// A repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Repository {
    /// UUID in braces.
    pub uuid: Option<String>,
    /// Display name.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// URL slug.
    pub slug: Option<String>,
    /// `workspace/repo_slug`.
    #[serde(deserialize_with = "null_default")]
    pub full_name: String,
    /// Description.
    pub description: Option<String>,
    /// Whether the repository is private.
    pub is_private: Option<bool>,
    /// Always `git` today.
    pub scm: Option<String>,
    /// Owning account.
    pub owner: Option<Account>,
    /// Workspace holding the repository.
    pub workspace: Option<Workspace>,
    /// Project holding the repository.
    pub project: Option<Project>,
    /// Main (default) branch; only `name` is filled in.
    pub mainbranch: Option<Branch>,
    /// Whether the issue tracker is enabled.
    pub has_issues: Option<bool>,
    /// Whether the wiki is enabled.
    pub has_wiki: Option<bool>,
    /// Main language.
    pub language: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// `allow_forks`, `no_public_forks` or `no_forks`.
    pub fork_policy: Option<String>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Repository this one was forked from.
    pub parent: Option<Box<Repository>>,
    /// Links (`html`, `self`, `clone`, `pullrequests`, ...).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Repository {
    /// The main branch's name, if the repository has one.
    pub fn mainbranch_name(&self) -> Option<&str> {
        self.mainbranch
            .as_ref()
            .map(|branch| branch.name.as_str())
            .filter(|name| !name.is_empty())
    }
}

string_enum! {
    /// The caller's role, to filter `GET /repositories/{workspace}` by.
    pub enum RepositoryRole {
        /// Repositories the caller can read.
        Member => "member",
        /// Repositories the caller can write to.
        Contributor => "contributor",
        /// Repositories the caller administers.
        Admin => "admin",
        /// Repositories the caller owns.
        Owner => "owner",
    }
}
