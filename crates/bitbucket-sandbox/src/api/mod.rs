//! The REST 2.0 routes, one module per resource, and the extractors they share.

mod admin;
mod comments;
pub(crate) mod commit_files;
mod deployments;
mod diffs;
mod issues;
pub mod oauth;
mod pipeline_settings;
mod pipelines;
mod pr_tasks;
mod pullrequests;
mod refs;
mod reports;
mod repositories;
mod reviews;
mod snippets;
mod source;
mod statuses;
mod users;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::middleware;
use axum::response::IntoResponse as _;
use axum::routing::{get, post};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::git::{GitError, GitStore, RepoId};
use crate::state::SharedState;
use crate::store::{RepoRow, WorkspaceRow};

/// Characters escaped when a name (a branch, a path) is put into one URL path segment.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Builds the whole application: `/2.0/...` routes, fault injection, the error envelope for
/// unknown paths and wrong methods.
pub fn router(state: SharedState) -> Router {
    let repo = "/2.0/repositories/{workspace}/{repo_slug}";
    let pr = format!("{repo}/pullrequests/{{pull_request_id}}");
    let api = Router::new()
        .route("/2.0/user", get(users::current_user))
        .route("/2.0/user/workspaces", get(users::user_workspaces))
        .route("/2.0/workspaces", get(users::workspaces_gone))
        .route("/2.0/workspaces/{workspace}", get(users::get_workspace))
        .route("/2.0/workspaces/{workspace}/members", get(users::members))
        .route("/2.0/workspaces/{workspace}/projects", get(admin::projects))
        .route("/2.0/users/{selected_user}", get(admin::user))
        .route("/2.0/hook_events", get(admin::subjects))
        .route("/2.0/hook_events/{subject_type}", get(admin::events))
        .route(
            &format!("{repo}/branching-model"),
            get(admin::branching_model),
        )
        .route(
            &format!("{repo}/effective-branching-model"),
            get(admin::effective_branching_model),
        )
        .route(
            "/2.0/workspaces/{workspace}/permissions/repositories/{repo_slug}",
            get(users::repository_permissions),
        )
        .route("/2.0/repositories/{workspace}", get(repositories::list))
        .route(
            repo,
            get(repositories::get)
                .post(repositories::create)
                .delete(repositories::delete),
        )
        .route(
            &format!("{repo}/refs/branches"),
            get(refs::list_branches).post(refs::create_branch),
        )
        .route(
            &format!("{repo}/refs/branches/{{*name}}"),
            get(refs::get_branch).delete(refs::delete_branch),
        )
        .route(
            &format!("{repo}/refs/tags"),
            get(refs::list_tags).post(refs::create_tag),
        )
        .route(
            &format!("{repo}/refs/tags/{{*name}}"),
            get(refs::get_tag).delete(refs::delete_tag),
        )
        .route(
            &format!("{repo}/pipelines"),
            get(pipelines::list).post(pipelines::run),
        )
        .route(
            &format!("{repo}/pipelines/{{pipeline}}"),
            get(pipelines::get),
        )
        .route(
            &format!("{repo}/pipelines/{{pipeline}}/stopPipeline"),
            post(pipelines::stop),
        )
        .route(
            &format!("{repo}/pipelines/{{pipeline}}/steps"),
            get(pipelines::steps),
        )
        .route(
            &format!("{repo}/pipelines/{{pipeline}}/steps/{{step}}"),
            get(pipelines::step),
        )
        .route(
            &format!("{repo}/pipelines/{{pipeline}}/steps/{{step}}/log"),
            get(pipelines::log),
        )
        .route(
            &format!("{repo}/pipelines_config"),
            get(pipelines::get_config).put(pipelines::put_config),
        )
        .route(
            &format!("{repo}/pipelines_config/variables"),
            get(pipelines::repo_variables).post(pipelines::create_repo_variable),
        )
        .route(
            &format!("{repo}/pipelines_config/variables/{{variable}}"),
            get(pipelines::get_repo_variable)
                .put(pipelines::update_repo_variable)
                .delete(pipelines::delete_repo_variable),
        )
        .route(
            &format!("{repo}/pipelines_config/schedules"),
            get(pipeline_settings::list_schedules).post(pipeline_settings::create_schedule),
        )
        .route(
            &format!("{repo}/pipelines_config/schedules/{{schedule}}"),
            get(pipeline_settings::get_schedule)
                .put(pipeline_settings::update_schedule)
                .delete(pipeline_settings::delete_schedule),
        )
        .route(
            &format!("{repo}/pipelines-config/runners"),
            get(pipeline_settings::list_runners).post(pipeline_settings::create_runner),
        )
        .route(
            &format!("{repo}/pipelines-config/runners/{{runner}}"),
            get(pipeline_settings::get_runner)
                .put(pipeline_settings::update_runner)
                .delete(pipeline_settings::delete_runner),
        )
        .route(
            &format!("{repo}/pipelines_config/ssh/known_hosts"),
            get(pipeline_settings::list_known_hosts).post(pipeline_settings::create_known_host),
        )
        .route(
            &format!("{repo}/pipelines_config/ssh/known_hosts/{{host}}"),
            get(pipeline_settings::get_known_host)
                .put(pipeline_settings::update_known_host)
                .delete(pipeline_settings::delete_known_host),
        )
        .route(
            &format!("{repo}/pipelines-config/caches"),
            get(pipeline_settings::list_caches),
        )
        .route(
            "/2.0/workspaces/{workspace}/pipelines-config/identity/oidc/.well-known/openid-configuration",
            get(pipeline_settings::openid_configuration),
        )
        .route(
            "/2.0/workspaces/{workspace}/pipelines-config/identity/oidc/keys.json",
            get(pipeline_settings::openid_keys),
        )
        .route(
            "/2.0/workspaces/{workspace}/pipelines-config/variables",
            get(pipelines::workspace_variables).post(pipelines::create_workspace_variable),
        )
        .route(
            "/2.0/workspaces/{workspace}/pipelines-config/variables/{variable}",
            get(pipelines::get_workspace_variable)
                .put(pipelines::update_workspace_variable)
                .delete(pipelines::delete_workspace_variable),
        )
        .route(
            "/2.0/teams/{owner}/pipelines_config/variables",
            get(pipelines::variables_gone).post(pipelines::variables_gone),
        )
        .route(
            "/2.0/teams/{owner}/pipelines_config/variables/{variable}",
            get(pipelines::variables_gone)
                .put(pipelines::variables_gone)
                .delete(pipelines::variables_gone),
        )
        .route(
            "/2.0/users/{owner}/pipelines_config/variables",
            get(pipelines::variables_gone).post(pipelines::variables_gone),
        )
        .route(
            "/2.0/users/{owner}/pipelines_config/variables/{variable}",
            get(pipelines::variables_gone)
                .put(pipelines::variables_gone)
                .delete(pipelines::variables_gone),
        )
        .route(
            &format!("{repo}/environments"),
            get(deployments::list_environments).post(deployments::create_environment),
        )
        .route(
            &format!("{repo}/environments/{{environment}}"),
            get(deployments::get_environment).delete(deployments::delete_environment),
        )
        .route(
            &format!("{repo}/deployments"),
            get(deployments::list_deployments),
        )
        .route(
            &format!("{repo}/deployments/{{deployment}}"),
            get(deployments::get_deployment),
        )
        .route(
            &format!("{repo}/deployments_config/environments/{{environment}}/variables"),
            get(deployments::env_variables).post(deployments::create_env_variable),
        )
        .route(
            &format!(
                "{repo}/deployments_config/environments/{{environment}}/variables/{{variable}}"
            ),
            axum::routing::put(deployments::update_env_variable)
                .delete(deployments::delete_env_variable),
        )
        .route(&format!("{repo}/diff/{{*spec}}"), get(diffs::diff))
        .route(&format!("{repo}/patch/{{*spec}}"), get(diffs::patch))
        .route(&format!("{repo}/diffstat/{{*spec}}"), get(diffs::diffstat))
        .route(
            &format!("{repo}/merge-base/{{*revspec}}"),
            get(diffs::merge_base),
        )
        .route(
            &format!("{repo}/filehistory/{{commit}}/{{*path}}"),
            get(diffs::file_history),
        )
        .route(&format!("{repo}/commits"), get(source::commits_default))
        .route(
            &format!("{repo}/commits/{{*revision}}"),
            get(source::commits),
        )
        .route(
            &format!("{repo}/commit/{{commit}}"),
            get(source::get_commit),
        )
        .route(
            &format!("{repo}/src"),
            get(source::src_root_redirect).post(commit_files::create),
        )
        .route(&format!("{repo}/src/{{commit}}"), get(source::src_root))
        .route(
            &format!("{repo}/src/{{commit}}/{{*path}}"),
            get(source::src_path),
        )
        .route(
            &format!("{repo}/issues"),
            get(issues::list).post(issues::create),
        )
        .route(
            &format!("{repo}/issues/{{issue_id}}"),
            get(issues::get).put(issues::update).delete(issues::delete),
        )
        .route(
            &format!("{repo}/issues/{{issue_id}}/comments"),
            get(issues::list_comments).post(issues::create_comment),
        )
        .route(
            &format!("{repo}/issues/{{issue_id}}/comments/{{comment_id}}"),
            get(issues::get_comment),
        )
        .route(
            &format!("{repo}/pullrequests"),
            get(pullrequests::list).post(pullrequests::create),
        )
        .route(
            &format!("{repo}/pullrequests/{{pull_request_id}}"),
            get(pullrequests::get).put(pullrequests::update),
        )
        .route(&format!("{pr}/diff"), get(reviews::diff))
        .route(&format!("{pr}/patch"), get(reviews::patch))
        .route(&format!("{pr}/diffstat"), get(reviews::diffstat))
        .route(&format!("{pr}/commits"), get(reviews::commits))
        .route(&format!("{pr}/activity"), get(reviews::activity))
        .route(&format!("{pr}/statuses"), get(statuses::pull_request))
        .route(
            &format!("{pr}/comments"),
            get(comments::list).post(comments::create),
        )
        .route(
            &format!("{pr}/comments/{{comment_id}}"),
            get(comments::get)
                .put(comments::update)
                .delete(comments::delete),
        )
        .route(
            &format!("{pr}/comments/{{comment_id}}/resolve"),
            post(comments::resolve).delete(comments::reopen),
        )
        .route(
            &format!("{pr}/tasks"),
            get(pr_tasks::list).post(pr_tasks::create),
        )
        .route(
            &format!("{pr}/tasks/{{task_id}}"),
            get(pr_tasks::get)
                .put(pr_tasks::update)
                .delete(pr_tasks::delete),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/comments"),
            get(comments::commit_list).post(comments::commit_create),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/comments/{{comment_id}}"),
            get(comments::commit_get)
                .put(comments::commit_update)
                .delete(comments::commit_delete),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/statuses"),
            get(statuses::list),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/statuses/build"),
            post(statuses::create),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/statuses/build/{{key}}"),
            get(statuses::get).put(statuses::update),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/reports"),
            get(reports::list),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/reports/{{report_id}}"),
            get(reports::get).put(reports::put).delete(reports::delete),
        )
        .route(
            &format!("{repo}/commit/{{commit}}/reports/{{report_id}}/annotations"),
            get(reports::list_annotations).post(reports::bulk),
        )
        .route(
            &format!(
                "{repo}/commit/{{commit}}/reports/{{report_id}}/annotations/{{annotation_id}}"
            ),
            get(reports::get_annotation)
                .put(reports::put_annotation)
                .delete(reports::delete_annotation),
        )
        .route(
            &format!("{pr}/approve"),
            post(reviews::approve).delete(reviews::unapprove),
        )
        .route(
            &format!("{pr}/request-changes"),
            post(reviews::request_changes).delete(reviews::unrequest_changes),
        )
        .route(&format!("{pr}/decline"), post(reviews::decline))
        .route(&format!("{pr}/merge"), post(reviews::merge))
        .route("/2.0/snippets/{workspace}", get(snippets::list))
        .route("/2.0/snippets/{workspace}/{encoded_id}", get(snippets::get))
        .route(
            "/2.0/snippets/{workspace}/{encoded_id}/comments",
            get(snippets::list_comments).post(snippets::create_comment),
        )
        .route(
            "/2.0/snippets/{workspace}/{encoded_id}/files/{*path}",
            get(snippets::file),
        )
        .route(
            "/2.0/snippets/{workspace}/{encoded_id}/{node_id}/files/{*path}",
            get(snippets::file_at),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            oauth::enforce,
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::faults::inject,
        ))
        .with_state(state.clone());
    let site = Router::new()
        .route(
            "/site/oauth2/authorize",
            get(oauth::authorize).post(oauth::decide),
        )
        .route("/site/oauth2/access_token", post(oauth::access_token))
        .with_state(state);
    Router::new().merge(site).merge(api)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("Resource not found: {}", uri.path()))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "Method {} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Strips a trailing slash before routing, as Bitbucket treats `/x/` and `/x` alike.
pub fn normalize_path(mut request: Request) -> Request {
    let uri = request.uri();
    let path = uri.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let rebuilt = match uri.query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(new_uri) = rebuilt.parse::<Uri>() {
            *request.uri_mut() = new_uri;
        }
    }
    request
}

/// `axum::extract::Path`, with rejections rendered as the error envelope.
pub struct P<T>(pub T);

impl<T> FromRequestParts<SharedState> for P<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> ApiResult<Self> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| P(v))
            .map_err(|e| ApiError::bad_request(format!("Invalid path: {}", e.body_text())))
    }
}

/// The git id of a repository loaded from the store, made once per request. The slugs were
/// checked when the workspace and repository were created, so this fails only on a store
/// that something else wrote.
pub fn repo_id(ws: &WorkspaceRow, repo: &RepoRow) -> ApiResult<RepoId> {
    Ok(RepoId::new(ws.slug.as_str(), repo.slug.as_str())?)
}

/// Runs git work on the blocking pool.
pub async fn git<T, F>(state: &State<SharedState>, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&GitStore) -> Result<T, GitError> + Send + 'static,
{
    let state = state.0.clone();
    Ok(tokio::task::spawn_blocking(move || f(&state.git)).await??)
}

/// Parses a numeric id from a path segment with a Bitbucket-style error.
pub fn parse_id(raw: &str, what: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid {what} '{raw}': expected a positive number"
        ))
    })
}

/// A 204 with the `Content-Type` Bitbucket sends on empty answers; some clients read the
/// header of every response and fail without one.
pub fn no_content() -> axum::response::Response {
    (
        StatusCode::NO_CONTENT,
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
    )
        .into_response()
}
