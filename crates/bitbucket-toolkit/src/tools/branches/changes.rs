//! Removing branches, and making and removing tags.

use bitbucket_client::Client;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{RefOutput, resolve_target};
use crate::args::{Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Render, short_hash};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Its name, e.g. `feature/old`.
    name: Text,
}

/// A branch or tag removed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct DeletedRef {
    /// `acme/widgets`.
    pub repository: String,
    /// `branch` or `tag`.
    pub kind: &'static str,
    pub name: String,
    pub deleted: bool,
}

impl Render for DeletedRef {
    fn render(&self) -> String {
        format!(
            "Deleted {} `{}` in {}",
            self.kind, self.name, self.repository
        )
    }
}

pub(crate) struct DeleteBranch;

impl Tool for DeleteBranch {
    const NAME: &'static str = "BITBUCKET_DELETE_BRANCH";
    const TITLE: &'static str = "Delete branch";
    const DESCRIPTION: &'static str = "Deletes a branch (not the main branch). Its commits stay reachable from other branches and merged pull requests.";
    const TOOLSET: Toolset = Toolset::Branches;
    const ENDPOINT: &'static str =
        "DELETE /repositories/{workspace}/{repo_slug}/refs/branches/{name}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = RefArgs;
    type Output = DeletedRef;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, name) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.name.as_str(),
        );
        client
            .delete_branch(&repo, name)
            .await
            .or_explain(client, || {
                Context::new(format!("delete branch `{name}`"), Scope::repository(&repo))
                    .item(format!("branch `{name}`"), "BITBUCKET_LIST_BRANCHES")
            })
            .await?;
        Ok(DeletedRef {
            repository: repo.to_string(),
            kind: "branch",
            name: name.to_owned(),
            deleted: true,
        })
    }
}

pub(crate) struct DeleteTag;

impl Tool for DeleteTag {
    const NAME: &'static str = "BITBUCKET_DELETE_TAG";
    const TITLE: &'static str = "Delete tag";
    const DESCRIPTION: &'static str = "Deletes a tag; the commit it pointed at stays.";
    const TOOLSET: Toolset = Toolset::Branches;
    const ENDPOINT: &'static str = "DELETE /repositories/{workspace}/{repo_slug}/refs/tags/{name}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = RefArgs;
    type Output = DeletedRef;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, name) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.name.as_str(),
        );
        client
            .delete_tag(&repo, name)
            .await
            .or_explain(client, || {
                Context::new(format!("delete tag `{name}`"), Scope::repository(&repo))
                    .item(format!("tag `{name}`"), "BITBUCKET_LIST_TAGS")
            })
            .await?;
        Ok(DeletedRef {
            repository: repo.to_string(),
            kind: "tag",
            name: name.to_owned(),
            deleted: true,
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTagArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Name of the new tag, e.g. `v1.2.0`.
    name: Text,
    /// What to tag: a branch name, tag or commit hash (default: the main branch's head).
    target: Option<Text>,
    /// Message, for an annotated tag.
    message: Option<String>,
}

/// A tag just created.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CreatedTag {
    #[serde(flatten)]
    pub tag: RefOutput,
    /// `acme/widgets`.
    pub repository: String,
}

impl Render for CreatedTag {
    fn render(&self) -> String {
        format!(
            "Created tag `{}` at {} in {}",
            self.tag.name,
            short_hash(&self.tag.commit),
            self.repository
        )
    }
}

pub(crate) struct CreateTag;

impl Tool for CreateTag {
    const NAME: &'static str = "BITBUCKET_CREATE_TAG";
    const TITLE: &'static str = "Create tag";
    const DESCRIPTION: &'static str = "Tags a commit, given as a branch name, tag or hash (default: the head of the main branch).";
    const TOOLSET: Toolset = Toolset::Branches;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}/refs/tags";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateTagArgs;
    type Output = CreatedTag;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, name) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.name.as_str(),
        );
        let target = match &args.target {
            Some(target) => resolve_target(client, &repo, target.as_str()).await?,
            None => super::main_head(client, &repo).await?.1,
        };
        let message = args.message.as_deref().filter(|m| !m.trim().is_empty());
        let tag = client
            .create_tag(&repo, name, &target, message)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("create tag `{name}`"),
                    Scope::repository(&repo),
                )
                .conflict(format!(
                    "tag `{name}` already exists in `{repo}` (pick another name; BITBUCKET_LIST_TAGS lists them)"
                ))
            })
            .await?;
        Ok(CreatedTag {
            tag: RefOutput::from_tag(tag),
            repository: repo.to_string(),
        })
    }
}
