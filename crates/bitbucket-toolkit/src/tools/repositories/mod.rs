//! Repositories: listing, reading, creating and deleting them, browsing their files and
//! reading their history.

use std::fmt::Write as _;

use bitbucket_client::{
    Client, Commit, DirectoryParams, FileContent, ListRepositoriesParams, NewRepository,
    PageParams, Repository, RepositoryRole, Source, TreeEntry,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tool;
use crate::args::{Flag, PageLen, PageNumber, Text, choice, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{
    Line, ListOutput, Paging, Render, day, field, first_line, render_list, short_hash,
};
use crate::spec::{ToolAnnotations, Toolset};

/// Text files up to this size are returned whole; longer ones are cut (64 KiB, about 16k
/// tokens, is already more than a model should read in one go).
pub(crate) const MAX_FILE_BYTES: usize = 64 * 1024;

/// A repository as a model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct RepositoryOutput {
    /// `workspace/repo_slug`.
    pub full_name: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    /// Project key, e.g. `CORE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_issues: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    /// Web page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl RepositoryOutput {
    pub fn from_repository(repository: Repository) -> Self {
        let non_empty = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
        RepositoryOutput {
            main_branch: repository.mainbranch_name().map(str::to_owned),
            html: repository.links.html_href().map(str::to_owned),
            full_name: repository.full_name,
            name: repository.name,
            description: non_empty(repository.description),
            is_private: repository.is_private,
            project: repository.project.and_then(|p| p.key),
            has_issues: repository.has_issues,
            language: non_empty(repository.language),
            created_on: repository.created_on,
            updated_on: repository.updated_on,
        }
    }

    /// `(private, project CORE, main branch main, issues on, rust)`.
    fn facts(&self) -> String {
        let mut facts = Vec::new();
        match self.is_private {
            Some(true) => facts.push("private".to_owned()),
            Some(false) => facts.push("public".to_owned()),
            None => {}
        }
        if let Some(project) = &self.project {
            facts.push(format!("project {project}"));
        }
        match &self.main_branch {
            Some(branch) => facts.push(format!("main branch `{branch}`")),
            None => facts.push("empty".to_owned()),
        }
        match self.has_issues {
            Some(true) => facts.push("issues on".to_owned()),
            Some(false) => facts.push("issues off".to_owned()),
            None => {}
        }
        if let Some(language) = &self.language {
            facts.push(language.clone());
        }
        facts.join(", ")
    }
}

impl Render for RepositoryOutput {
    fn render(&self) -> String {
        let mut text = format!("{} ({})", self.full_name, self.facts());
        if let Some(description) = &self.description {
            let _ = write!(text, " — {description}");
        }
        field(&mut text, "updated", self.updated_on.as_deref());
        field(&mut text, "link", self.html.as_deref());
        text
    }
}

impl Line for RepositoryOutput {
    fn line(&self) -> String {
        let mut line = format!("{} ({})", self.full_name, self.facts());
        if let Some(description) = &self.description {
            let _ = write!(line, " — {description}");
        }
        line
    }
}

choice!(Role {
    Member => "member",
    Contributor => "contributor",
    Admin => "admin",
    Owner => "owner",
});

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListRepositoriesArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Only repositories where you have this role.
    role: Option<Role>,
    /// Bitbucket query filter, e.g. `name ~ "web"` or `project.key = "CORE"`.
    q: Option<String>,
    /// Sort field, `-` for descending, e.g. `-updated_on`.
    sort: Option<String>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListRepositories;

impl Tool for ListRepositories {
    const NAME: &'static str = "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE";
    const TITLE: &'static str = "List repositories in workspace";
    const DESCRIPTION: &'static str = "Lists the repositories of a workspace with their privacy, project, main branch and description. \
Use it to find a repository's slug; filter with `q` (e.g. `name ~ \"web\"`) and sort with `sort` (e.g. `-updated_on` for recently changed first).";
    const TOOLSET: Toolset = Toolset::Repositories;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListRepositoriesArgs;
    type Output = ListOutput<RepositoryOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let params = ListRepositoriesParams {
            role: args.role.map(|role| RepositoryRole::from(role.as_str())),
            q: args.q,
            sort: args.sort,
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let page = client
            .list_repositories(args.workspace.as_str(), &params)
            .await
            .or_explain(client, || {
                Context::new(
                    "list repositories",
                    Scope::Workspace(args.workspace.to_string()),
                )
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Repositories in {}", args.workspace),
            RepositoryOutput::from_repository,
        ))
    }
}

/// The repository a tool acts on.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepositoryArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
}

pub(crate) struct GetRepository;

impl Tool for GetRepository {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORY";
    const TITLE: &'static str = "Get repository";
    const DESCRIPTION: &'static str = "Shows one repository: privacy, project, main branch, whether its issue tracker is on, language, description, last update and link. \
Use it to learn the main branch before reading files or opening a pull request.";
    const TOOLSET: Toolset = Toolset::Repositories;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = RepositoryArgs;
    type Output = RepositoryOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let repository = client
            .get_repository(&repo)
            .await
            .or_explain(client, || {
                Context::new("read the repository", Scope::repository(&repo)).repository_itself()
            })
            .await?;
        Ok(RepositoryOutput::from_repository(repository))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRepositoryArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Slug of the new repository: lowercase letters, digits, `-`, `_`, `.`; e.g. `billing-api`.
    repo_slug: Text,
    /// Private (default `true`); `false` makes it public.
    is_private: Option<Flag>,
    /// One-line description.
    description: Option<String>,
    /// Key of the project to put it in, e.g. `CORE` (default: the workspace's default project).
    project_key: Option<Text>,
    /// Turn the issue tracker on (default `false`).
    has_issues: Option<Flag>,
}

pub(crate) struct CreateRepository;

impl Tool for CreateRepository {
    const NAME: &'static str = "BITBUCKET_CREATE_REPOSITORY";
    const TITLE: &'static str = "Create repository";
    const DESCRIPTION: &'static str = "Creates a new, empty git repository (private unless `is_private` is false). \
It has no commits or branches until code is pushed, so branch, file and pull request tools fail on it at first.";
    const TOOLSET: Toolset = Toolset::Repositories;
    const ENDPOINT: &'static str = "POST /repositories/{workspace}/{repo_slug}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateRepositoryArgs;
    type Output = RepositoryOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let request = NewRepository {
            description: args.description,
            is_private: Some(args.is_private.is_none_or(|f| f.0)),
            project_key: args.project_key.map(|k| k.0),
            has_issues: args.has_issues.map(|f| f.0),
            ..NewRepository::default()
        };
        let repository = client.create_repository(&repo, &request).await.or_explain(client, || Context::new(
                    format!("create repository `{}`", repo.slug()),
                    Scope::Workspace(repo.workspace().to_owned()),
                )
                .conflict(format!(
                    "repository `{repo}` already exists (pick another slug, or use BITBUCKET_GET_REPOSITORY to inspect it)"
                ))).await?;
        Ok(RepositoryOutput::from_repository(repository))
    }
}

/// What was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct DeletedRepository {
    /// `workspace/repo_slug`.
    pub repository: String,
    pub deleted: bool,
}

impl Render for DeletedRepository {
    fn render(&self) -> String {
        format!("Deleted repository `{}`", self.repository)
    }
}

pub(crate) struct DeleteRepository;

impl Tool for DeleteRepository {
    const NAME: &'static str = "BITBUCKET_DELETE_REPOSITORY";
    const TITLE: &'static str = "Delete repository";
    const DESCRIPTION: &'static str = "Permanently deletes a repository with its code, branches, pull requests and issues; this cannot be undone. \
Only call it when the user explicitly asked to delete this repository.";
    const TOOLSET: Toolset = Toolset::Repositories;
    const ENDPOINT: &'static str = "DELETE /repositories/{workspace}/{repo_slug}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = RepositoryArgs;
    type Output = DeletedRepository;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        client
            .delete_repository(&repo)
            .await
            .or_explain(client, || {
                Context::new("delete the repository", Scope::repository(&repo)).repository_itself()
            })
            .await?;
        Ok(DeletedRepository {
            repository: repo.to_string(),
            deleted: true,
        })
    }
}

/// An entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct PathEntry {
    /// Path from the repository root, e.g. `src/main.rs`.
    pub path: String,
    /// `file` or `directory`.
    pub r#type: String,
    /// Size in bytes (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl PathEntry {
    fn from_entry(entry: TreeEntry) -> Self {
        let kind = if entry.is_directory() {
            "directory"
        } else if entry.attributes.iter().any(|a| a == "subrepository") {
            "submodule"
        } else {
            "file"
        };
        PathEntry {
            path: entry.path,
            r#type: kind.to_owned(),
            size: entry.size,
        }
    }
}

impl Line for PathEntry {
    fn line(&self) -> String {
        match (self.r#type.as_str(), self.size) {
            ("directory", _) => format!("{}/", self.path),
            ("file", Some(size)) => format!("{} ({size} bytes)", self.path),
            (kind, _) => format!("{} ({kind})", self.path),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BrowseArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Directory from the repository root, e.g. `src` (default: the root).
    path: Option<String>,
    /// Branch, tag or commit hash to read at (default: the main branch).
    commit: Option<Text>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

/// One page of a directory listing.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct BrowseOutput {
    /// The directory listed (empty for the root).
    pub path: String,
    /// The branch, tag or commit read.
    pub commit: String,
    pub items: Vec<PathEntry>,
    #[serde(flatten)]
    pub paging: Paging,
}

impl Render for BrowseOutput {
    fn render(&self) -> String {
        let shown = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        render_list(
            &format!("Contents of `{shown}` at `{}`", self.commit),
            &self.items,
            &self.paging,
        )
    }
}

pub(crate) struct BrowsePath;

impl Tool for BrowsePath {
    const NAME: &'static str = "BITBUCKET_BROWSE_REPOSITORY_PATH";
    const TITLE: &'static str = "Browse repository path";
    const DESCRIPTION: &'static str = "Lists the files and subdirectories of a directory in a repository (default: the root) at a branch, tag or commit (default: the main branch). \
Use it to find the paths to read with BITBUCKET_GET_FILE_FROM_REPOSITORY.";
    const TOOLSET: Toolset = Toolset::Repositories;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/src/{commit}/{path}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = BrowseArgs;
    type Output = BrowseOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let path = args
            .path
            .unwrap_or_default()
            .trim()
            .trim_matches('/')
            .to_owned();
        let context = Context::new(
            format!("list `{}`", if path.is_empty() { "/" } else { &path }),
            Scope::repository(&repo),
        )
        .item(
            format!("path `{path}` ({})", display_revision(args.commit.as_ref())),
            "BITBUCKET_BROWSE_REPOSITORY_PATH on the parent directory",
        );
        let revision = client
            .resolve_revision(&repo, args.commit.as_ref().map(Text::as_str))
            .await
            .or_explain(client, || context.clone())
            .await?;
        let params = DirectoryParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
            ..DirectoryParams::default()
        };
        let page = match client
            .list_directory(&repo, Some(&revision), &path, &params)
            .await
        {
            Ok(page) => page,
            // A file's bytes are not a listing.
            Err(bitbucket_client::Error::Decode { .. }) => {
                return Err(ToolError::Refused(format!(
                    "`{path}` is a file, not a directory; read it with BITBUCKET_GET_FILE_FROM_REPOSITORY"
                )));
            }
            Err(err) => return Err(context.explain(client, err).await),
        };
        let paging = Paging::of(&page, params.page);
        Ok(BrowseOutput {
            path,
            commit: args.commit.map(|c| c.0).unwrap_or(revision),
            items: page.values.into_iter().map(PathEntry::from_entry).collect(),
            paging,
        })
    }
}

/// `at `develop`` or `on the main branch`, for messages.
fn display_revision(commit: Option<&Text>) -> String {
    commit.map_or_else(|| "on the main branch".to_owned(), |c| format!("at `{c}`"))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetFileArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// File path from the repository root, e.g. `src/main.rs`.
    path: Text,
    /// Branch, tag or commit hash to read at (default: the main branch).
    commit: Option<Text>,
}

/// A file's text, or a notice instead of it, or (for a directory) its first entries.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct FileOutput {
    /// Path from the repository root.
    pub path: String,
    /// The branch, tag or commit read.
    pub commit: String,
    /// `file` or `directory`.
    pub r#type: String,
    /// Size in bytes (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The text; absent for binary files and directories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Whether `content` stops before the end of the file.
    pub truncated: bool,
    /// Why the content is missing or cut, and what to do instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The directory's first entries, when `path` is a directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<PathEntry>>,
}

impl Render for FileOutput {
    fn render(&self) -> String {
        let mut text = match self.size {
            Some(size) => format!("`{}` at `{}` ({size} bytes)", self.path, self.commit),
            None => format!("`{}` at `{}` ({})", self.path, self.commit, self.r#type),
        };
        if let Some(notice) = &self.notice {
            let _ = write!(text, "\n[{notice}]");
        }
        if let Some(entries) = &self.entries {
            for entry in entries {
                let _ = write!(text, "\n- {}", entry.line());
            }
        }
        if let Some(content) = &self.content {
            let _ = write!(text, ":\n{content}");
        }
        text
    }
}

pub(crate) struct GetFile;

impl Tool for GetFile {
    const NAME: &'static str = "BITBUCKET_GET_FILE_FROM_REPOSITORY";
    const TITLE: &'static str = "Get file from repository";
    const DESCRIPTION: &'static str = "Reads a file's text from a repository at a branch, tag or commit (default: the main branch). \
Text over 64 KiB is cut (`truncated`); binary files return a notice with their size instead of bytes. \
To find paths, use BITBUCKET_BROWSE_REPOSITORY_PATH.";
    const TOOLSET: Toolset = Toolset::Repositories;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/src/{commit}/{path}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = GetFileArgs;
    type Output = FileOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let path = args.path.as_str().trim_matches('/').to_owned();
        let revision = args.commit.as_ref().map(Text::as_str);
        let context = Context::new(format!("read `{path}`"), Scope::repository(&repo)).item(
            format!("file `{path}` ({})", display_revision(args.commit.as_ref())),
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
        );
        let source = client
            .get_file(&repo, revision, &path)
            .await
            .or_explain(client, || context.clone())
            .await?;
        Ok(match source {
            Source::File(file) => file_output(file, args.commit.map(|c| c.0)),
            Source::Directory(page) => {
                let commit = args.commit.map(|c| c.0).unwrap_or_else(|| {
                    page.values
                        .first()
                        .and_then(|e| e.commit.as_ref())
                        .map(|c| c.hash.clone())
                        .unwrap_or_else(|| "the main branch".to_owned())
                });
                let more = if page.next.is_some() {
                    "; only the first page is shown, so page through it"
                } else {
                    ""
                };
                FileOutput {
                    notice: Some(format!(
                        "`{path}` is a directory, so its entries are listed{more} with BITBUCKET_BROWSE_REPOSITORY_PATH"
                    )),
                    path,
                    commit,
                    r#type: "directory".to_owned(),
                    size: None,
                    content: None,
                    truncated: false,
                    entries: Some(page.values.into_iter().map(PathEntry::from_entry).collect()),
                }
            }
        })
    }
}

/// Turns raw file bytes into text, a cut text, or a notice for binary content.
fn file_output(file: FileContent, commit: Option<String>) -> FileOutput {
    let size = file.size;
    let kind = file
        .content_type
        .as_deref()
        .and_then(|t| t.split(';').next())
        .unwrap_or("unknown type")
        .trim()
        .to_owned();
    let mut output = FileOutput {
        path: file.path.clone(),
        commit: commit.unwrap_or_else(|| file.revision.clone()),
        r#type: "file".to_owned(),
        size: Some(size),
        content: None,
        truncated: false,
        notice: None,
        entries: None,
    };
    let head = &file.bytes[..file.bytes.len().min(MAX_FILE_BYTES)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        // A cut in the middle of a character is not binary content.
        Err(err) if err.error_len().is_none() && head.len() < file.bytes.len() => {
            std::str::from_utf8(&head[..err.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    // Content types follow file names and say little; valid UTF-8 without NUL is text.
    match text {
        Some(text) if !text.contains('\0') => {
            let cut = head.len() < file.bytes.len();
            let text = if cut {
                // End on a whole line when one is near.
                match text.rfind('\n') {
                    Some(end) if end > text.len() / 2 => &text[..=end],
                    _ => text,
                }
            } else {
                text
            };
            if cut {
                output.notice = Some(format!(
                    "truncated: showing the first {} of {size} bytes; the rest is not shown",
                    text.len()
                ));
            }
            output.truncated = cut;
            output.content = Some(text.to_owned());
        }
        _ => {
            output.notice = Some(format!(
                "binary file ({kind}, {size} bytes): its bytes are not shown; open it in Bitbucket's web interface, or use BITBUCKET_BROWSE_REPOSITORY_PATH to find text files"
            ));
        }
    }
    output
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListCommitsArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Branch, tag or commit hash whose history to list (default: the main branch).
    branch: Option<Text>,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

/// A commit in a history listing.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommitOutput {
    /// Full hash.
    pub hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Author name (the Bitbucket account's display name when linked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// First line of the message.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl CommitOutput {
    pub(crate) fn from_commit(commit: Commit) -> Self {
        let author = commit.author.as_ref().and_then(|author| {
            author
                .user
                .as_ref()
                .and_then(|u| u.display_name.clone())
                .or_else(|| {
                    // `Name <email>`: the name is enough, and emails stay out of transcripts.
                    author
                        .raw
                        .as_deref()
                        .map(|raw| raw.split('<').next().unwrap_or(raw).trim().to_owned())
                })
        });
        CommitOutput {
            html: commit.links.html_href().map(str::to_owned),
            message: first_line(commit.message.as_deref().unwrap_or_default()),
            hash: commit.hash,
            date: commit.date,
            author,
        }
    }
}

impl Line for CommitOutput {
    fn line(&self) -> String {
        format!(
            "{} {} {}: {}",
            short_hash(&self.hash),
            self.date.as_deref().map(day).unwrap_or("?"),
            self.author.as_deref().unwrap_or("unknown"),
            self.message
        )
    }
}

/// One page of history.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommitsOutput {
    /// The branch, tag or commit listed.
    pub branch: String,
    pub items: Vec<CommitOutput>,
    #[serde(flatten)]
    pub paging: Paging,
}

impl Render for CommitsOutput {
    fn render(&self) -> String {
        render_list(
            &format!("Commits on `{}`, newest first", self.branch),
            &self.items,
            &self.paging,
        )
    }
}

pub(crate) struct ListCommits;

impl Tool for ListCommits {
    const NAME: &'static str = "BITBUCKET_LIST_COMMITS";
    const TITLE: &'static str = "List commits";
    const DESCRIPTION: &'static str = "Lists the history of a branch, tag or commit (default: the main branch), newest first: hash, date, author and message summary. \
Use it to see what changed recently or to find a commit hash.";
    const TOOLSET: Toolset = Toolset::Repositories;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/commits/{revision}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListCommitsArgs;
    type Output = CommitsOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let mut context = Context::new("list commits", Scope::repository(&repo));
        if let Some(branch) = &args.branch {
            context = context.item(
                format!("branch, tag or commit `{branch}`"),
                "BITBUCKET_LIST_BRANCHES",
            );
        }
        let branch = match &args.branch {
            Some(branch) => branch.0.clone(),
            None => {
                client
                    .resolve_revision(&repo, None)
                    .await
                    .or_explain(client, || context.clone())
                    .await?
            }
        };
        let params = PageParams {
            page: args.page.map(|p| p.0),
            pagelen: args.pagelen.map(|p| p.0),
        };
        let page = client
            .list_commits(&repo, Some(&branch), &params)
            .await
            .or_explain(client, || context.clone())
            .await?;
        let paging = Paging::of(&page, params.page);
        Ok(CommitsOutput {
            branch,
            items: page
                .values
                .into_iter()
                .map(CommitOutput::from_commit)
                .collect(),
            paging,
        })
    }
}
