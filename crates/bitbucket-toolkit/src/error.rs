//! Turning argument problems and Bitbucket failures into messages a model can act on.
//!
//! Bitbucket's own message always comes through, but on its own it rarely says what to do:
//! a 404 on `/issues` may mean a missing repository, a disabled tracker or a missing issue.
//! So a 404 is diagnosed with one more read (does the repository exist, is its tracker on)
//! and the message names the thing that is missing and the tool that lists what exists.

use bitbucket_client::{Client, Error, RepoId};

use crate::args::ArgError;

/// A tool call that ran and failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToolError {
    /// The arguments did not fit the tool.
    #[error(transparent)]
    Args(#[from] ArgError),
    /// Bitbucket (or the way to it) failed; `message` is already explained for the tool.
    #[error("{message}")]
    Bitbucket {
        message: String,
        #[source]
        source: Error,
    },
    /// The toolkit refused before asking Bitbucket, e.g. an update that changes nothing.
    #[error("{0}")]
    Refused(String),
}

/// Where a call acted, for messages: a workspace, a repository or a snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// No particular resource (the current user).
    Account,
    Workspace(String),
    Repository(RepoId),
    Snippet {
        workspace: String,
        id: String,
    },
}

impl ToolError {
    /// Bitbucket's HTTP status, when Bitbucket answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ToolError::Bitbucket { source, .. } => source.status(),
            ToolError::Args(_) | ToolError::Refused(_) => None,
        }
    }
}

impl Scope {
    pub fn repository(repo: &RepoId) -> Self {
        Scope::Repository(repo.clone())
    }

    fn label(&self) -> String {
        match self {
            Scope::Account => "your account".to_owned(),
            Scope::Workspace(workspace) => format!("`{workspace}`"),
            Scope::Repository(repo) => format!("`{repo}`"),
            Scope::Snippet { workspace, id } => format!("snippet `{workspace}/{id}`"),
        }
    }
}

/// What a call was doing, so that a failure can be explained for this tool.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// What was being done, e.g. "create branch `feature/x`".
    pub action: String,
    pub scope: Scope,
    /// The specific thing that may be missing and the tool that lists what exists,
    /// e.g. ("issue #9", "BITBUCKET_LIST_ISSUES").
    pub item: Option<(String, &'static str)>,
    /// The call goes through the issue tracker, which may be disabled.
    pub issues: bool,
    /// The call itself read the repository, so a 404 needs no diagnosis.
    pub is_repository: bool,
    /// The message when Bitbucket says the thing to create already exists.
    pub conflict: Option<String>,
    /// A known refusal (words in Bitbucket's message) and the next step to take.
    pub refusal: Option<(&'static str, &'static str)>,
}

impl Context {
    pub fn new(action: impl Into<String>, scope: Scope) -> Self {
        Context {
            action: action.into(),
            scope,
            item: None,
            issues: false,
            is_repository: false,
            conflict: None,
            refusal: None,
        }
    }

    /// When Bitbucket's refusal says `words` (case-insensitively), the message ends with
    /// `next`, the step that gets past it.
    pub fn refusal(mut self, words: &'static str, next: &'static str) -> Self {
        self.refusal = Some((words, next));
        self
    }

    pub fn item(mut self, label: impl Into<String>, list_tool: &'static str) -> Self {
        self.item = Some((label.into(), list_tool));
        self
    }

    pub fn issues(mut self) -> Self {
        self.issues = true;
        self
    }

    pub fn repository_itself(mut self) -> Self {
        self.is_repository = true;
        self
    }

    pub fn conflict(mut self, message: impl Into<String>) -> Self {
        self.conflict = Some(message.into());
        self
    }

    /// Explains `err` for this call; may read the repository once to tell apart why a 404
    /// happened.
    pub async fn explain(&self, client: &Client, err: Error) -> ToolError {
        let message = self.message(client, &err).await;
        ToolError::Bitbucket {
            message,
            source: err,
        }
    }

    async fn message(&self, client: &Client, err: &Error) -> String {
        let Some(api) = err.api() else {
            return match err {
                Error::Timeout { .. }
                | Error::Transport { .. }
                | Error::RetriesExhausted { .. } => {
                    format!(
                        "could not reach bitbucket to {}: {err}; {}",
                        self.action,
                        next_step(err)
                    )
                }
                Error::Decode { .. } => format!(
                    "could not {}: bitbucket's answer was not understood: {err}",
                    self.action
                ),
                // Invalid input, missing main branch and configuration problems already say
                // what to change.
                other => other.to_string(),
            };
        };
        let said = bitbucket_said(api);
        let hint = api
            .hint
            .as_deref()
            .map(|hint| format!("; hint: {hint}"))
            .unwrap_or_default();
        match api.status {
            404 => match self.diagnose_not_found(client).await {
                Some(diagnosis) => format!("{diagnosis}; bitbucket said: {said}"),
                None => format!(
                    "could not {} in {}: not found; bitbucket said: {said}{hint}",
                    self.action,
                    self.scope.label()
                ),
            },
            400 | 409 | 422 if self.conflict.is_some() && mentions_existing(api) => {
                let conflict = self.conflict.as_deref().unwrap_or_default();
                format!("{conflict}; bitbucket said: {said}")
            }
            400 | 409 | 422 => {
                let next = self
                    .refusal
                    .filter(|(words, _)| said.to_lowercase().contains(&words.to_lowercase()))
                    .map(|(_, next)| format!("; next step: {next}"))
                    .unwrap_or_default();
                format!(
                    "bitbucket refused to {} in {}: {said}{next}",
                    self.action,
                    self.scope.label()
                )
            }
            401 => format!("bitbucket rejected the credentials: {said}{hint}"),
            403 => format!(
                "not allowed to {} in {}: {said}{hint}",
                self.action,
                self.scope.label()
            ),
            429 => format!(
                "bitbucket is rate limiting requests, so it did not {}; {} ({said})",
                self.action,
                next_step(err)
            ),
            status if status >= 500 => format!(
                "bitbucket failed ({status}) to {}; {} ({said})",
                self.action,
                next_step(err)
            ),
            status => format!(
                "could not {} in {} ({status}): {said}{hint}",
                self.action,
                self.scope.label()
            ),
        }
    }

    /// Says what is missing: the workspace, the repository, the issue tracker or the item.
    async fn diagnose_not_found(&self, client: &Client) -> Option<String> {
        match &self.scope {
            Scope::Account => None,
            Scope::Workspace(workspace) => Some(format!(
                "workspace `{workspace}` not found, or you are not a member of it \
                 (BITBUCKET_LIST_WORKSPACES lists yours)"
            )),
            Scope::Snippet { workspace, id } => Some(format!(
                "snippet `{id}` not found in workspace `{workspace}` (the id is the short code \
                 in the snippet's URL, e.g. `kypj`)"
            )),
            Scope::Repository(repo) => {
                let missing_repository = format!(
                    "repository `{repo}` not found (check the workspace and slug; \
                     BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE lists them)"
                );
                if self.is_repository {
                    return Some(missing_repository);
                }
                match client.get_repository(repo).await {
                    Err(err) if err.is_not_found() => Some(missing_repository),
                    Err(_) => None,
                    Ok(repository) if self.issues && repository.has_issues == Some(false) => {
                        Some(format!(
                            "the issue tracker is disabled for `{repo}` (an admin can \
                             enable it in the repository settings)"
                        ))
                    }
                    Ok(_) => self.item.as_ref().map(|(label, list_tool)| {
                        format!("{label} not found in `{repo}` ({list_tool} lists them)")
                    }),
                }
            }
        }
    }
}

/// What to do after a failure that may pass: wait and try again, unless the request may have
/// been done anyway (a write that reached Bitbucket), when repeating it blindly could do it
/// twice.
fn next_step(err: &Error) -> String {
    if err.may_have_taken_effect() {
        return "it may have been done anyway, so check before trying again, or it may be done \
                twice"
            .to_owned();
    }
    match err.retry_after() {
        Some(wait) if wait.as_secs() > 0 => format!("try again in {}s", wait.as_secs()),
        _ => "try again in a few seconds".to_owned(),
    }
}

/// The tail that every tool shares: a client call's failure, explained for the tool.
///
/// ```ignore
/// let pr = client.get_pull_request(&repo, id).await.or_explain(client, || Context::new(..)).await?;
/// ```
/// The context is built only on failure.
pub(crate) trait Explain<T> {
    fn or_explain(
        self,
        client: &Client,
        context: impl FnOnce() -> Context + Send,
    ) -> impl Future<Output = Result<T, ToolError>> + Send;
}

impl<T: Send> Explain<T> for Result<T, Error> {
    async fn or_explain(
        self,
        client: &Client,
        context: impl FnOnce() -> Context + Send,
    ) -> Result<T, ToolError> {
        match self {
            Ok(value) => Ok(value),
            Err(err) => Err(context().explain(client, err).await),
        }
    }
}

/// Bitbucket's message, detail and field errors on one line, without trailing periods.
fn bitbucket_said(api: &bitbucket_client::ApiError) -> String {
    let mut said = format!("{} {}", api.status, trim_period(&api.message));
    if let Some(detail) = &api.detail
        && detail != &api.message
    {
        said.push_str(": ");
        said.push_str(trim_period(detail));
    }
    for (field, messages) in &api.fields {
        said.push_str(&format!(
            "; `{field}`: {}",
            trim_period(&messages.join(", "))
        ));
    }
    said
}

fn trim_period(text: &str) -> &str {
    let text = text.trim();
    text.strip_suffix('.').unwrap_or(text)
}

/// Whether a validation failure says that the thing already exists.
fn mentions_existing(api: &bitbucket_client::ApiError) -> bool {
    let says = |text: &str| {
        let text = text.to_ascii_lowercase();
        text.contains("already exist") || text.contains("already_exist")
    };
    says(&api.message)
        || api.detail.as_deref().is_some_and(says)
        || api.fields.values().flatten().any(|m| says(m))
}
