//! Commits: one commit in full, what it (or a range) changes, the history of a file, and
//! writing files as a new commit.

pub(crate) mod comments;

use bitbucket_client::{Client, CommitFiles, DiffParams, PageParams, RepoId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::args::{Names, PageLen, PageNumber, Text, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{ListOutput, Render, field, short_hash};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;
use crate::tools::repositories::CommitOutput;
use crate::tools::reviews::{DiffOutput, FileChange, MAX_DIFF_LINES};

fn commit_context(action: &str, repo: &RepoId, commit: &str) -> Context {
    Context::new(format!("{action} `{commit}`"), Scope::repository(repo))
        .item(
            format!("commit or branch `{commit}`"),
            "BITBUCKET_LIST_COMMITS",
        )
        .refusal(
            "spec",
            "name one commit, branch or tag in `commit` and optionally another in `base`",
        )
}

/// A commit in full.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommitDetail {
    pub hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The whole message.
    pub message: String,
    /// Parent hashes (two or more for a merge).
    pub parents: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl Render for CommitDetail {
    fn render(&self) -> String {
        let mut text = format!("Commit {}", self.hash);
        field(&mut text, "author", self.author.as_deref());
        field(&mut text, "date", self.date.as_deref());
        if !self.parents.is_empty() {
            let parents: Vec<&str> = self.parents.iter().map(|p| short_hash(p)).collect();
            field(&mut text, "parents", Some(parents.join(", ")));
        }
        field(&mut text, "link", self.html.as_deref());
        text.push_str("\nmessage:\n");
        text.push_str(self.message.trim_end());
        text
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash, branch or tag, e.g. `4f2a9c1` or `main`.
    commit: Text,
}

pub(crate) struct GetCommit;

impl Tool for GetCommit {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_COMMIT";
    const TITLE: &'static str = "Get commit";
    const DESCRIPTION: &'static str = "Shows one commit: full hash, author, date, parents and the whole message. \
For what it changes, use BITBUCKET_GET_COMMIT_CHANGES or BITBUCKET_GET_COMMIT_DIFF.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/commit/{commit}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = CommitArgs;
    type Output = CommitDetail;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
        );
        let found = client
            .get_commit(&repo, commit)
            .await
            .or_explain(client, || commit_context("read commit", &repo, commit))
            .await?;
        let summary = CommitOutput::from_commit(found.clone());
        Ok(CommitDetail {
            hash: found.hash,
            date: found.date,
            author: summary.author,
            message: found.message.unwrap_or_default(),
            parents: found.parents.into_iter().map(|p| p.hash).collect(),
            html: summary.html,
        })
    }
}

/// `commit`, or `commit..base`: what `commit` changes compared with `base`.
fn spec(commit: &Text, base: Option<&Text>) -> String {
    match base {
        Some(base) => format!("{commit}..{base}"),
        None => commit.0.clone(),
    }
}

fn described(commit: &Text, base: Option<&Text>, repo: &RepoId) -> String {
    match base {
        Some(base) => format!("`{commit}` compared with `{base}` in {repo}"),
        None => format!("commit `{commit}` of {repo}"),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitDiffArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash, branch or tag whose changes to show, e.g. `4f2a9c1`.
    commit: Text,
    /// Compare with this commit, branch or tag instead of the commit's parent, e.g. `main`.
    base: Option<Text>,
    /// Only these files or folders, e.g. `["src/main.rs"]`.
    path: Option<Names>,
    /// First line of the diff to show (see `next_start_line`; default 1).
    start_line: Option<PageNumber>,
    /// Most lines to show (default 400).
    max_lines: Option<PageLen<MAX_DIFF_LINES>>,
}

pub(crate) struct GetCommitDiff;

impl Tool for GetCommitDiff {
    const NAME: &'static str = "BITBUCKET_GET_COMMIT_DIFF";
    const TITLE: &'static str = "Get commit diff";
    const DESCRIPTION: &'static str = "Shows what a commit changes (against its parent, or against `base`) as a unified diff (git's own text), a window at a time; \
the answer gives the `start_line` for the rest.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/diff/{spec}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = CommitDiffArgs;
    type Output = DiffOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let paths = args.path.unwrap_or_default().0;
        let params = DiffParams {
            paths: paths.clone(),
            ..DiffParams::default()
        };
        let text = client
            .diff(&repo, &spec(&args.commit, args.base.as_ref()), &params)
            .await
            .or_explain(client, || {
                commit_context("read the diff of", &repo, args.commit.as_str())
            })
            .await?;
        Ok(DiffOutput::new(
            described(&args.commit, args.base.as_ref(), &repo),
            &text,
            &paths,
            args.start_line.map(|n| n.0),
            args.max_lines.map(|n| n.0),
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitChangesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash, branch or tag whose changes to list, e.g. `4f2a9c1`.
    commit: Text,
    /// Compare with this commit, branch or tag instead of the commit's parent, e.g. `main`.
    base: Option<Text>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct GetCommitChanges;

impl Tool for GetCommitChanges {
    const NAME: &'static str = "BITBUCKET_GET_COMMIT_CHANGES";
    const TITLE: &'static str = "List files changed by a commit";
    const DESCRIPTION: &'static str = "Lists the files a commit changes (against its parent, or against `base`): status and lines added and removed.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/diffstat/{spec}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = CommitChangesArgs;
    type Output = ListOutput<FileChange>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let page_params = PageParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let page = client
            .diffstat(
                &repo,
                &spec(&args.commit, args.base.as_ref()),
                &DiffParams::default(),
                &page_params,
            )
            .await
            .or_explain(client, || {
                commit_context("read the changes of", &repo, args.commit.as_str())
            })
            .await?;
        Ok(ListOutput::new(
            page,
            page_params.page,
            format!(
                "Files changed by {}",
                described(&args.commit, args.base.as_ref(), &repo)
            ),
            FileChange::from_diffstat,
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileHistoryArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// File path, e.g. `src/main.rs`.
    path: Text,
    /// Branch, tag or commit to start from (default: the main branch).
    commit: Option<Text>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct GetFileHistory;

impl Tool for GetFileHistory {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_FILEHISTORY";
    const TITLE: &'static str = "Get file history";
    const DESCRIPTION: &'static str = "Lists the commits that changed a file, newest first: hash, date, author and message summary.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/filehistory/{commit}/{path}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = FileHistoryArgs;
    type Output = ListOutput<CommitOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, path) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.path.as_str().trim_start_matches('/'),
        );
        let context = || {
            Context::new(
                format!("read the history of `{path}`"),
                Scope::repository(&repo),
            )
            .item(format!("file `{path}`"), "BITBUCKET_BROWSE_REPOSITORY_PATH")
        };
        let revision = client
            .resolve_revision(&repo, args.commit.as_ref().map(Text::as_str))
            .await
            .or_explain(client, context)
            .await?;
        let params = PageParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let page = client
            .file_history(&repo, &revision, path, &params)
            .await
            .or_explain(client, context)
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("History of `{path}` from `{revision}` in {repo}, newest first"),
            |entry| CommitOutput::from_commit(entry.commit.unwrap_or_default()),
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommitFilesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Branch to commit on, e.g. `feature/docs`; created from the main branch when new.
    branch: Text,
    /// Commit message, e.g. `Fix the README`.
    message: Text,
    /// Files to write, each with its whole new content, e.g. `[{"path": "README.md", "content": "# Widgets\n"}]`.
    files: Option<Vec<FileWrite>>,
    /// Paths of files to delete.
    delete: Option<Names>,
    /// The commit you expect at the branch's head; refused if the branch has moved since.
    parent: Option<Text>,
}

/// A file to write.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileWrite {
    /// Path in the repository, e.g. `docs/guide.md`.
    path: Text,
    /// The whole new content.
    content: String,
}

/// A commit just made.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommittedFiles {
    /// The new commit's hash.
    pub commit: String,
    pub branch: String,
    /// `acme/widgets`.
    pub repository: String,
    /// Paths written.
    pub written: Vec<String>,
    /// Paths deleted.
    pub deleted: Vec<String>,
}

impl Render for CommittedFiles {
    fn render(&self) -> String {
        let mut text = format!(
            "Committed {} on `{}` in {}",
            short_hash(&self.commit),
            self.branch,
            self.repository
        );
        if !self.written.is_empty() {
            field(&mut text, "wrote", Some(self.written.join(", ")));
        }
        if !self.deleted.is_empty() {
            field(&mut text, "deleted", Some(self.deleted.join(", ")));
        }
        text
    }
}

pub(crate) struct CommitFilesTool;

impl Tool for CommitFilesTool {
    const NAME: &'static str = "BITBUCKET_COMMIT_FILES";
    const TITLE: &'static str = "Commit files";
    const DESCRIPTION: &'static str = "Writes whole files (and deletes others) as one new commit on a branch, creating the branch from the main branch if it does not exist. \
Read a file first (BITBUCKET_GET_FILE_FROM_REPOSITORY) to change part of it.";
    const TOOLSET: Toolset = Toolset::Commits;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}/src";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CommitFilesArgs;
    type Output = CommittedFiles;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, branch) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.branch.as_str(),
        );
        let files: Vec<(String, String)> = args
            .files
            .unwrap_or_default()
            .into_iter()
            .map(|file| (file.path.0, file.content))
            .collect();
        let delete = args.delete.unwrap_or_default().0;
        if files.is_empty() && delete.is_empty() {
            return Err(ToolError::Refused(
                "nothing to commit: give `files` to write (each a `path` and its `content`) or paths to `delete`"
                    .to_owned(),
            ));
        }
        let request = CommitFiles {
            message: Some(args.message.0.clone()),
            author: None,
            branch: Some(branch.to_owned()),
            parents: args.parent.map(|p| p.0),
            files,
            delete,
        };
        let commit = client
            .commit_files(&repo, &request)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("commit to `{branch}`"),
                    Scope::repository(&repo),
                )
                .refusal(
                    "parents",
                    "the branch has moved since: read its head (BITBUCKET_GET_BRANCH) and the files again, then commit with that `parent`",
                )
            })
            .await?;
        Ok(CommittedFiles {
            commit,
            branch: branch.to_owned(),
            repository: repo.to_string(),
            written: request.files.into_iter().map(|(path, _)| path).collect(),
            deleted: request.delete,
        })
    }
}
