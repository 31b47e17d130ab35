//! Reads of how a workspace and its repositories are set up: a workspace's projects, a user's
//! public profile, the webhook events one can subscribe to, and a repository's branching model
//! (Bitbucket's default one: development tracks the main branch, no production branch, and
//! `feature/`, `bugfix/`, `release/` and `hotfix/` branches).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{P, git, repo_id};
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, Caller, SharedState};

pub async fn projects(
    State(state): State<SharedState>,
    caller: Caller,
    params: Params,
    P(workspace): P<String>,
) -> ApiResult<Json<Value>> {
    let ws = state.workspace(&caller, &workspace).await?;
    let items = state
        .store
        .projects_in(ws.id)
        .await?
        .iter()
        .map(|p| render::project(&state, &ws, p))
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

/// `GET /users/{selected_user}`: a user by username, `{uuid}` or account id.
pub async fn user(
    State(state): State<SharedState>,
    caller: Caller,
    P(selected): P<String>,
) -> ApiResult<Json<Value>> {
    caller.require()?;
    let user = state
        .find_user(&selected)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No user '{selected}'.")))?;
    Ok(Json(render::user(&state, &user)))
}

/// The events a webhook can subscribe to, by subject, as Bitbucket lists them.
const REPOSITORY_EVENTS: &[(&str, &str, &str, &str)] = &[
    (
        "repo:push",
        "Repository",
        "Push",
        "Whenever a repository push occurs",
    ),
    (
        "repo:fork",
        "Repository",
        "Fork",
        "Whenever a repository fork occurs",
    ),
    (
        "repo:updated",
        "Repository",
        "Updated",
        "Whenever a repository is updated",
    ),
    (
        "repo:commit_comment_created",
        "Repository",
        "Commit comment created",
        "Whenever a commit comment is created",
    ),
    (
        "repo:commit_status_created",
        "Repository",
        "Build status created",
        "Whenever a build status is created",
    ),
    (
        "repo:commit_status_updated",
        "Repository",
        "Build status updated",
        "Whenever a build status is updated",
    ),
    (
        "issue:created",
        "Issue",
        "Created",
        "Whenever an issue is created",
    ),
    (
        "issue:updated",
        "Issue",
        "Updated",
        "Whenever an issue is updated",
    ),
    (
        "issue:comment_created",
        "Issue",
        "Comment created",
        "Whenever an issue comment is created",
    ),
    (
        "pullrequest:created",
        "Pull Request",
        "Created",
        "Whenever a pull request is created",
    ),
    (
        "pullrequest:updated",
        "Pull Request",
        "Updated",
        "Whenever a pull request is updated",
    ),
    (
        "pullrequest:approved",
        "Pull Request",
        "Approved",
        "When someone has approved a pull request",
    ),
    (
        "pullrequest:unapproved",
        "Pull Request",
        "Approval removed",
        "When someone has removed an approval from a pull request",
    ),
    (
        "pullrequest:changes_request_created",
        "Pull Request",
        "Changes requested",
        "When someone has requested changes on a pull request",
    ),
    (
        "pullrequest:changes_request_removed",
        "Pull Request",
        "Changes request removed",
        "When someone has removed a changes request from a pull request",
    ),
    (
        "pullrequest:fulfilled",
        "Pull Request",
        "Merged",
        "Whenever a pull request is merged",
    ),
    (
        "pullrequest:rejected",
        "Pull Request",
        "Declined",
        "Whenever a pull request is declined",
    ),
    (
        "pullrequest:comment_created",
        "Pull Request",
        "Comment created",
        "Whenever a pull request comment is created",
    ),
    (
        "pullrequest:comment_updated",
        "Pull Request",
        "Comment updated",
        "Whenever a pull request comment is updated",
    ),
    (
        "pullrequest:comment_deleted",
        "Pull Request",
        "Comment deleted",
        "Whenever a pull request comment is deleted",
    ),
    (
        "pullrequest:comment_resolved",
        "Pull Request",
        "Comment resolved",
        "Whenever a pull request comment is resolved",
    ),
    (
        "pullrequest:comment_reopened",
        "Pull Request",
        "Comment reopened",
        "Whenever a pull request comment is reopened",
    ),
];

const WORKSPACE_EVENTS: &[(&str, &str, &str, &str)] = &[
    (
        "repo:created",
        "Repository",
        "Created",
        "Whenever a repository is created",
    ),
    (
        "repo:deleted",
        "Repository",
        "Deleted",
        "Whenever a repository is deleted",
    ),
    (
        "project:updated",
        "Project",
        "Updated",
        "Whenever a project is updated",
    ),
];

/// `GET /hook_events`: the subjects with events.
pub async fn subjects(State(state): State<SharedState>) -> Json<Value> {
    let link = |subject: &str| json!({ "href": state.api_url(&format!("/hook_events/{subject}")) });
    Json(json!({
        "repository": { "events": link("repository") },
        "workspace": { "events": link("workspace") },
    }))
}

/// `GET /hook_events/{subject_type}`: `repository` or `workspace` (which also gets every
/// repository's events).
pub async fn events(
    State(state): State<SharedState>,
    params: Params,
    P(subject): P<String>,
) -> ApiResult<Json<Value>> {
    let events: Vec<&(&str, &str, &str, &str)> = match subject.as_str() {
        "repository" => REPOSITORY_EVENTS.iter().collect(),
        "workspace" => REPOSITORY_EVENTS.iter().chain(WORKSPACE_EVENTS).collect(),
        other => {
            return Err(ApiError::not_found(format!(
                "No events for subject type '{other}': it is `repository` or `workspace`."
            )));
        }
    };
    let items = events
        .into_iter()
        .map(|(event, category, label, description)| {
            json!({ "event": event, "category": category, "label": label, "description": description })
        })
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

async fn model(
    state: &SharedState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
    kind: &str,
) -> ApiResult<Value> {
    let (ws, repo) = state.repo(caller, workspace, slug, Access::Read).await?;
    let (id, main) = (repo_id(&ws, &repo)?, repo.mainbranch.clone());
    let branch = git(&State(state.clone()), move |g| g.branch(&id, &main)).await?;
    let mut development = json!({ "name": repo.mainbranch, "use_mainbranch": true });
    if let Some(branch) = &branch {
        development["branch"] = render::branch(state, &ws, &repo, branch);
    }
    let branch_types: Vec<Value> = ["feature", "bugfix", "release", "hotfix"]
        .iter()
        .map(|kind| json!({ "kind": kind, "prefix": format!("{kind}/") }))
        .collect();
    let path = format!("/repositories/{}/{}/{kind}", ws.slug, repo.slug);
    Ok(json!({
        "type": if kind == "branching-model" { "branching_model" } else { "effective_repo_branching_model" },
        "development": development,
        "branch_types": branch_types,
        "links": { "self": { "href": state.api_url(&path) } },
    }))
}

pub async fn branching_model(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        model(&state, &caller, &workspace, &slug, "branching-model").await?,
    ))
}

pub async fn effective_branching_model(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        model(
            &state,
            &caller,
            &workspace,
            &slug,
            "effective-branching-model",
        )
        .await?,
    ))
}
