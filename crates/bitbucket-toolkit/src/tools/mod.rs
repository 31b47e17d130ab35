//! The catalogue: one type per tool, implementing [`Tool`], grouped by toolset.
//!
//! A tool is its argument type (which gives the input schema and the validation), its output
//! type (which gives the output schema and the text rendering) and one async function over the
//! client. [`spec`] turns that into a [`ToolSpec`] entry of the static catalogue.

use std::future::Future;
use std::pin::Pin;

use bitbucket_client::{Client, RepoId};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ToolError;
use crate::lockdown::Writers;
use crate::output::Render;
use crate::spec::{ToolAnnotations, ToolSpec, Toolset, input_schema_of, output_schema_of};
use crate::{ToolOutcome, Toolkit, args};

pub(crate) mod admin;
pub(crate) mod branches;
pub(crate) mod commits;
pub(crate) mod insights;
pub(crate) mod issues;
pub(crate) mod pipelines;
pub(crate) mod pull_requests;
pub(crate) mod repositories;
pub(crate) mod reviews;
pub(crate) mod snippets;
pub(crate) mod users;
pub(crate) mod workspaces;

/// The boxed future of one call, so that every tool fits one function pointer type.
pub(crate) type RunFn =
    for<'a> fn(&'a Toolkit, Value) -> Pin<Box<dyn Future<Output = ToolOutcome> + Send + 'a>>;

/// One tool: metadata, argument and output types, and what it does.
pub(crate) trait Tool {
    const NAME: &'static str;
    const TITLE: &'static str;
    const DESCRIPTION: &'static str;
    const TOOLSET: Toolset;
    /// The Bitbucket Cloud operation it calls, as the official spec spells it, e.g.
    /// `GET /repositories/{workspace}/{repo_slug}/refs/branches`.
    const ENDPOINT: &'static str;
    const ANNOTATIONS: ToolAnnotations;
    type Args: DeserializeOwned + JsonSchema + Send;
    type Output: Serialize + JsonSchema + Render + Send;

    fn run(
        client: &Client,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, ToolError>> + Send;

    /// Lockdown: the repository whose people's words the output shows; `None` (the default)
    /// for output that shows nobody's words. See [`crate::lockdown`].
    fn content_repo(_args: &Self::Args) -> Option<RepoId> {
        None
    }

    /// Lockdown: withholds the words of the authors `writers` does not trust.
    fn withhold(_output: &mut Self::Output, _writers: &Writers) {}
}

/// The catalogue entry of `T`.
pub(crate) const fn spec<T: Tool>() -> ToolSpec {
    ToolSpec {
        name: T::NAME,
        title: T::TITLE,
        description: T::DESCRIPTION,
        toolset: T::TOOLSET,
        endpoint: T::ENDPOINT,
        annotations: T::ANNOTATIONS,
        input: input_schema_of::<T::Args>,
        output: output_schema_of::<T::Output>,
        run: invoke::<T>,
    }
}

/// Validates the arguments, runs the tool and turns the result into an outcome.
fn invoke<T: Tool>(
    toolkit: &Toolkit,
    arguments: Value,
) -> Pin<Box<dyn Future<Output = ToolOutcome> + Send + '_>> {
    Box::pin(async move {
        let args = match args::parse::<T::Args>(T::NAME, &arguments) {
            Ok(args) => args,
            Err(err) => return ToolOutcome::failure(err.to_string()),
        };
        let guarded = if toolkit.lockdown() {
            T::content_repo(&args)
        } else {
            None
        };
        let mut output = match T::run(toolkit.client(), args).await {
            Ok(output) => output,
            Err(err) => {
                let mut outcome = ToolOutcome::failure(err.to_string());
                outcome.status = err.status();
                return outcome;
            }
        };
        if let Some(repo) = guarded {
            match Writers::of(toolkit.client(), &repo).await {
                Ok(writers) => T::withhold(&mut output, &writers),
                Err(err) => return ToolOutcome::failure(err.to_string()),
            }
        }
        ToolOutcome::success(&output)
    })
}

/// Every tool, grouped by toolset in [`Toolset::ALL`] order; reads come before writes.
pub(crate) static CATALOGUE: &[ToolSpec] = &[
    spec::<repositories::ListRepositories>(),
    spec::<repositories::GetRepository>(),
    spec::<repositories::CreateRepository>(),
    spec::<repositories::DeleteRepository>(),
    spec::<repositories::BrowsePath>(),
    spec::<repositories::GetFile>(),
    spec::<repositories::ListCommits>(),
    spec::<branches::ListBranches>(),
    spec::<branches::GetBranch>(),
    spec::<branches::CreateBranch>(),
    spec::<branches::ListTags>(),
    spec::<branches::changes::CreateTag>(),
    spec::<branches::changes::DeleteBranch>(),
    spec::<branches::changes::DeleteTag>(),
    spec::<pull_requests::ListPullRequests>(),
    spec::<pull_requests::GetPullRequest>(),
    spec::<pull_requests::CreatePullRequest>(),
    spec::<pull_requests::update::UpdatePullRequest>(),
    spec::<reviews::changes::GetPullRequestDiff>(),
    spec::<reviews::changes::GetPullRequestDiffstat>(),
    spec::<reviews::changes::GetPullRequestCommits>(),
    spec::<reviews::comments::ListPullRequestComments>(),
    spec::<reviews::comments::GetPullRequestComment>(),
    spec::<reviews::tasks::ListPullRequestTasks>(),
    spec::<reviews::statuses::GetPullRequestStatuses>(),
    spec::<reviews::comments::CreatePullRequestComment>(),
    spec::<reviews::comments::UpdatePullRequestComment>(),
    spec::<reviews::comments::ResolvePullRequestComment>(),
    spec::<reviews::tasks::CreatePullRequestTask>(),
    spec::<reviews::tasks::UpdatePullRequestTask>(),
    spec::<reviews::decisions::ApprovePullRequest>(),
    spec::<reviews::decisions::UnapprovePullRequest>(),
    spec::<reviews::decisions::RequestPullRequestChanges>(),
    spec::<reviews::decisions::RemovePullRequestChangeRequest>(),
    spec::<reviews::comments::DeletePullRequestComment>(),
    spec::<reviews::tasks::DeletePullRequestTask>(),
    spec::<reviews::decisions::DeclinePullRequest>(),
    spec::<reviews::decisions::MergePullRequest>(),
    spec::<commits::GetCommit>(),
    spec::<commits::GetCommitDiff>(),
    spec::<commits::GetCommitChanges>(),
    spec::<commits::GetFileHistory>(),
    spec::<reviews::statuses::GetCommitStatuses>(),
    spec::<commits::comments::ListCommitComments>(),
    spec::<commits::comments::GetCommitComment>(),
    spec::<commits::CommitFilesTool>(),
    spec::<commits::comments::CreateCommitComment>(),
    spec::<commits::comments::UpdateCommitComment>(),
    spec::<commits::comments::DeleteCommitComment>(),
    spec::<insights::GetCommitBuildStatus>(),
    spec::<insights::ListReports>(),
    spec::<insights::GetReport>(),
    spec::<insights::GetAnnotation>(),
    spec::<insights::CreateCommitBuildStatus>(),
    spec::<insights::PutReport>(),
    spec::<insights::CreateAnnotations>(),
    spec::<insights::UpdateAnnotation>(),
    spec::<insights::DeleteAnnotation>(),
    spec::<insights::DeleteReport>(),
    spec::<pipelines::ListPipelines>(),
    spec::<pipelines::GetPipeline>(),
    spec::<pipelines::ListSteps>(),
    spec::<pipelines::GetStepLog>(),
    spec::<pipelines::variables::ListRepoVariables>(),
    spec::<pipelines::deployments::ListEnvironments>(),
    spec::<pipelines::deployments::GetEnvironment>(),
    spec::<pipelines::deployments::ListDeployments>(),
    spec::<pipelines::deployments::ListEnvironmentVariables>(),
    spec::<pipelines::settings::ListSchedules>(),
    spec::<pipelines::settings::ListRunners>(),
    spec::<pipelines::settings::ListKnownHosts>(),
    spec::<pipelines::settings::ListCaches>(),
    spec::<pipelines::settings::GetOpenIdConfiguration>(),
    spec::<pipelines::RunPipeline>(),
    spec::<pipelines::variables::CreateRepoVariable>(),
    spec::<pipelines::variables::CreateTeamVariable>(),
    spec::<pipelines::variables::CreateUserVariable>(),
    spec::<pipelines::variables::UpdateTeamVariable>(),
    spec::<pipelines::variables::UpdateUserVariable>(),
    spec::<pipelines::StopPipeline>(),
    spec::<pipelines::variables::DeleteUserVariable>(),
    spec::<admin::GetHookEvents>(),
    spec::<admin::GetBranchingModel>(),
    spec::<admin::GetEffectiveBranchingModel>(),
    spec::<issues::ListIssues>(),
    spec::<issues::GetIssue>(),
    spec::<issues::CreateIssue>(),
    spec::<issues::UpdateIssue>(),
    spec::<issues::DeleteIssue>(),
    spec::<issues::CreateIssueComment>(),
    spec::<snippets::GetSnippet>(),
    spec::<snippets::CreateSnippetComment>(),
    spec::<users::GetCurrentUser>(),
    spec::<users::GetUser>(),
    spec::<workspaces::ListWorkspaces>(),
    spec::<workspaces::ListWorkspaceMembers>(),
    spec::<workspaces::GetWorkspace>(),
    spec::<workspaces::ListProjects>(),
];
