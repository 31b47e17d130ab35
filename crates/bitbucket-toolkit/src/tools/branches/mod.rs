//! Branches and tags: listing and reading them, creating a branch from any revision, and
//! removing branches and tags or making tags.

pub(crate) mod changes;

use std::fmt::Write as _;

use bitbucket_client::{Branch, Client, Commit, ListParams, NewBranch, RepoId, Tag};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tool;
use crate::args::{PageLen, PageNumber, Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput, Render, day, field, first_line, short_hash};
use crate::spec::{ToolAnnotations, Toolset};

/// A branch or tag and the commit it points at.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct RefOutput {
    pub name: String,
    /// Full hash of the commit it points at.
    pub commit: String,
    /// Commit date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Commit author's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// First line of the commit message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl RefOutput {
    fn new(name: String, target: Option<Commit>, html: Option<&str>) -> Self {
        let target = target.unwrap_or_default();
        let author = target.author.as_ref().and_then(|author| {
            author
                .user
                .as_ref()
                .and_then(|u| u.display_name.clone())
                .or_else(|| {
                    author
                        .raw
                        .as_deref()
                        .map(|raw| raw.split('<').next().unwrap_or(raw).trim().to_owned())
                })
        });
        RefOutput {
            name,
            commit: target.hash,
            date: target.date,
            author,
            message: target.message.as_deref().map(first_line),
            html: html.map(str::to_owned),
        }
    }

    fn from_branch(branch: Branch) -> Self {
        let html = branch.links.html_href().map(str::to_owned);
        Self::new(branch.name, branch.target, html.as_deref())
    }

    pub(crate) fn from_tag(tag: Tag) -> Self {
        let html = tag.links.html_href().map(str::to_owned);
        Self::new(tag.name, tag.target, html.as_deref())
    }

    /// `3f2a1c9 (2026-01-08, Bob Builder: Add the widgets guide)`.
    fn commit_summary(&self) -> String {
        let mut summary = short_hash(&self.commit).to_owned();
        let details: Vec<String> = [
            self.date.as_deref().map(|d| day(d).to_owned()),
            match (&self.author, &self.message) {
                (Some(author), Some(message)) => Some(format!("{author}: {message}")),
                (Some(author), None) => Some(author.clone()),
                (None, Some(message)) => Some(message.clone()),
                (None, None) => None,
            },
        ]
        .into_iter()
        .flatten()
        .collect();
        if !details.is_empty() {
            let _ = write!(summary, " ({})", details.join(", "));
        }
        summary
    }
}

impl Line for RefOutput {
    fn line(&self) -> String {
        format!("{} → {}", self.name, self.commit_summary())
    }
}

impl Render for RefOutput {
    fn render(&self) -> String {
        let mut text = format!("Branch `{}` → {}", self.name, self.commit_summary());
        field(&mut text, "commit", Some(&self.commit));
        field(&mut text, "link", self.html.as_deref());
        text
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListBranchesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Bitbucket query filter, e.g. `name ~ "feature/"`.
    q: Option<String>,
    /// Sort field, `-` for descending, e.g. `-target.date` (recently updated first).
    sort: Option<String>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListBranches;

impl Tool for ListBranches {
    const NAME: &'static str = "BITBUCKET_LIST_BRANCHES";
    const TITLE: &'static str = "List branches";
    const DESCRIPTION: &'static str = "Lists a repository's branches, each with its head commit (hash, date, author, message). \
Filter with `q`, e.g. `name ~ \"feature/\"`; `sort` `-target.date` puts recently updated branches first.";
    const TOOLSET: Toolset = Toolset::Branches;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/refs/branches";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListBranchesArgs;
    type Output = ListOutput<RefOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let params = ListParams {
            q: args.q,
            sort: args.sort,
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let page = client
            .list_branches(&repo, &params)
            .await
            .or_explain(client, || {
                Context::new("list branches", Scope::repository(&repo))
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Branches of {repo}"),
            RefOutput::from_branch,
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetBranchArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Branch name, e.g. `feature/login`.
    name: Text,
}

pub(crate) struct GetBranch;

impl Tool for GetBranch {
    const NAME: &'static str = "BITBUCKET_GET_BRANCH";
    const TITLE: &'static str = "Get branch";
    const DESCRIPTION: &'static str = "Shows one branch and its head commit (hash, date, author, message). \
Use it to check that a branch exists or to get the commit it points at.";
    const TOOLSET: Toolset = Toolset::Branches;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/refs/branches/{name}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = GetBranchArgs;
    type Output = RefOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, name) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.name.as_str(),
        );
        let branch = client
            .get_branch(&repo, name)
            .await
            .or_explain(client, || {
                Context::new(format!("read branch `{name}`"), Scope::repository(&repo))
                    .item(format!("branch `{name}`"), "BITBUCKET_LIST_BRANCHES")
            })
            .await?;
        Ok(RefOutput::from_branch(branch))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBranchArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Name of the new branch, e.g. `feature/export`.
    name: Text,
    /// Where the branch starts: a branch name, tag or commit hash (default: the main branch's head). Alias: `target_hash`.
    #[serde(alias = "target_hash")]
    target: Option<Text>,
}

/// A branch just created.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CreatedBranch {
    /// `workspace/repo_slug`.
    pub repository: String,
    pub name: String,
    /// Full hash of the commit it points at.
    pub commit: String,
    /// The branch, tag or hash it was created from.
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl Render for CreatedBranch {
    fn render(&self) -> String {
        let mut text = format!(
            "Created branch `{}` at {} (from `{}`) in {}",
            self.name,
            short_hash(&self.commit),
            self.target,
            self.repository
        );
        if let Some(html) = &self.html {
            let _ = write!(text, " — {html}");
        }
        text
    }
}

pub(crate) struct CreateBranch;

impl Tool for CreateBranch {
    const NAME: &'static str = "BITBUCKET_CREATE_BRANCH";
    const TITLE: &'static str = "Create branch";
    const DESCRIPTION: &'static str = "Creates a branch pointing at `target`: a branch name, tag or commit hash (default: the head of the main branch). \
Fails if the name is taken or is not a valid git branch name.";
    const TOOLSET: Toolset = Toolset::Branches;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}/refs/branches";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateBranchArgs;
    type Output = CreatedBranch;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, name) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.name.as_str(),
        );
        let (target, hash) = match &args.target {
            Some(target) => {
                let hash = resolve_target(client, &repo, target.as_str()).await?;
                (target.0.clone(), hash)
            }
            None => main_head(client, &repo).await?,
        };
        let branch = client
            .create_branch(&repo, &NewBranch::new(name, hash.as_str()))
            .await
            .or_explain(client, || {
                Context::new(format!("create branch `{name}`"), Scope::repository(&repo)).conflict(format!(
                    "branch `{name}` already exists in `{repo}` (pick another name, or use BITBUCKET_GET_BRANCH to see where it points)"
                ))
            })
            .await?;
        let commit = branch
            .target
            .as_ref()
            .map(|t| t.hash.clone())
            .filter(|h| !h.is_empty())
            .unwrap_or(hash);
        Ok(CreatedBranch {
            repository: repo.to_string(),
            name: if branch.name.is_empty() {
                name.to_owned()
            } else {
                branch.name.clone()
            },
            commit,
            target,
            html: branch.links.html_href().map(str::to_owned),
        })
    }
}

/// The main branch's name and head commit.
pub(crate) async fn main_head(
    client: &Client,
    repo: &RepoId,
) -> Result<(String, String), ToolError> {
    let scope = Scope::repository(repo);
    let repository = client
        .get_repository(repo)
        .await
        .or_explain(client, || {
            Context::new("read the repository", scope.clone()).repository_itself()
        })
        .await?;
    let Some(main) = repository.mainbranch_name().map(str::to_owned) else {
        return Err(ToolError::Refused(format!(
            "`{repo}` has no main branch (it may be empty); pass `target`"
        )));
    };
    match client.get_branch(repo, &main).await {
        Ok(branch) => match branch.target {
            Some(commit) if !commit.hash.is_empty() => Ok((main, commit.hash)),
            _ => Err(ToolError::Refused(format!(
                "the main branch `{main}` of `{repo}` has no commit yet; push one first or pass `target`"
            ))),
        },
        Err(err) if err.is_not_found() => Err(ToolError::Refused(format!(
            "the main branch `{main}` of `{repo}` does not exist yet (the repository is empty); push a commit first or pass `target`"
        ))),
        Err(err) => {
            let context = Context::new(format!("read branch `{main}`"), scope);
            Err(context.explain(client, err).await)
        }
    }
}

/// Resolves a branch name, tag name or hash to a commit hash: Bitbucket Cloud takes only a
/// hash as a new branch's target.
async fn resolve_target(client: &Client, repo: &RepoId, target: &str) -> Result<String, ToolError> {
    let scope = Scope::repository(repo);
    match client.get_branch(repo, target).await {
        Ok(branch) => {
            if let Some(commit) = branch.target.filter(|c| !c.hash.is_empty()) {
                return Ok(commit.hash);
            }
        }
        Err(err) if err.is_not_found() => {}
        Err(err) => {
            let context = Context::new(format!("read branch `{target}`"), scope);
            return Err(context.explain(client, err).await);
        }
    }
    let query = format!(
        "name = \"{}\"",
        target.replace('\\', "\\\\").replace('"', "\\\"")
    );
    match client
        .list_tags(repo, &ListParams::new().q(query).pagelen(10))
        .await
    {
        Ok(page) => {
            if let Some(commit) = page
                .values
                .into_iter()
                .find(|tag| tag.name == target)
                .and_then(|tag| tag.target)
                .filter(|c| !c.hash.is_empty())
            {
                return Ok(commit.hash);
            }
        }
        // A missing repository is worth saying now; anything else falls through to the hash.
        Err(err) if err.is_not_found() => {
            let context = Context::new("list tags", scope);
            return Err(context.explain(client, err).await);
        }
        Err(_) => {}
    }
    let looks_like_hash =
        (4..=40).contains(&target.len()) && target.bytes().all(|b| b.is_ascii_hexdigit());
    if looks_like_hash {
        Ok(target.to_owned())
    } else {
        Err(ToolError::Refused(format!(
            "target `{target}` is not a branch, tag or commit hash in `{repo}` \
             (BITBUCKET_LIST_BRANCHES and BITBUCKET_LIST_TAGS list them)"
        )))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListTagsArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListTags;

impl Tool for ListTags {
    const NAME: &'static str = "BITBUCKET_LIST_TAGS";
    const TITLE: &'static str = "List tags";
    const DESCRIPTION: &'static str = "Lists a repository's tags, each with the commit it points at. \
A tag name works as `commit` in file tools and as `target` of BITBUCKET_CREATE_BRANCH.";
    const TOOLSET: Toolset = Toolset::Branches;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/refs/tags";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListTagsArgs;
    type Output = ListOutput<RefOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let params = ListParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
            ..ListParams::default()
        };
        let page = client
            .list_tags(&repo, &params)
            .await
            .or_explain(client, || {
                Context::new("list tags", Scope::repository(&repo))
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Tags of {repo}"),
            RefOutput::from_tag,
        ))
    }
}
