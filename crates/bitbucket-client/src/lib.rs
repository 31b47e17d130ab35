//! Typed async client for Bitbucket Cloud REST 2.0.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bitbucket_client::Error> {
//! use bitbucket_client::{Auth, Client, ClientConfig, ListParams, RepoId, RetryPolicy};
//!
//! // From `BITBUCKET_BASE_URL`, `BITBUCKET_ACCESS_TOKEN` or `BITBUCKET_EMAIL` + `BITBUCKET_API_TOKEN`.
//! let client = Client::from_env()?;
//!
//! // Or explicitly, e.g. against a local sandbox.
//! let client = Client::new(
//!     ClientConfig::new("http://127.0.0.1:7990/2.0")
//!         .with_auth(Auth::bearer("access-token"))
//!         .with_retry(RetryPolicy::fast()),
//! )?;
//! let website = RepoId::new("acme", "website")?;
//! let branches = client.list_branches(&website, &ListParams::new()).await?;
//! # let _ = branches; Ok(()) }
//! ```
//!
//! Every list call returns one [`Page`]; [`Client::next_page`] fetches the next one and
//! [`Client::paginate`] streams items across pages up to a cap.
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod http;
pub mod models;
mod ops;
mod page;
mod path;
mod repo;

pub use config::{
    Auth, AuthKind, ClientConfig, DEFAULT_BASE_URL, ENV_ACCESS_TOKEN, ENV_API_TOKEN, ENV_BASE_URL,
    ENV_EMAIL, RetryPolicy, USER_AGENT,
};
pub use error::{ApiError, Error};
pub use http::Client;
pub use models::{
    Account, Annotation, Branch, Comment, CommentRef, CommentResolution, Commit, CommitAuthor,
    CommitStatus, Content, Deployment, DiffStat, DiffStatFile, Environment, FileContent,
    InlineAnchor, Issue, IssueComment, IssueKind, IssuePriority, IssueState, Link, Links,
    Participant, Pipeline, PipelineStep, PipelineVariable, Project, PullRequest,
    PullRequestEndpoint, PullRequestState, Report, ReportData, Repository, RepositoryPermission,
    RepositoryRole, Snippet, SnippetComment, SnippetFile, Source, Tag, Task, TreeEntry, User,
    Workspace, WorkspaceAccess, WorkspaceMembership,
};
pub use ops::AccountRef;
pub use ops::changes::{CommitFiles, DiffParams, NewCommitStatus};
pub use ops::insights::{NewAnnotation, NewReport};
pub use ops::issues::{IssueUpdate, NewIssue};
pub use ops::pipelines::{PipelineSetting, PipelineTarget, StepLog, VariableScope};
pub use ops::pullrequests::{ListPullRequestsParams, NewPullRequest};
pub use ops::refs::NewBranch;
pub use ops::repositories::{ListRepositoriesParams, NewRepository};
pub use ops::review::{MergeOptions, MergeStrategy, NewComment, PullRequestUpdate};
pub use ops::source::DirectoryParams;
pub use ops::workspaces::ListWorkspacesParams;
pub use page::{ItemStream, ListParams, Page, PageParams};
pub use repo::RepoId;
pub use secrecy::SecretString;
