//! Reviewing pull requests: their diff, diffstat, patch and commits; approvals and change
//! requests; declining and merging (a real git merge that moves the destination branch).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::Value;

use super::pullrequests::{load, pr_value};
use super::{P, SEGMENT, git, parse_id, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::git::{MergeStrategy, Signature};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, now};
use crate::store::{PullRequestRow, RepoRow, WorkspaceRow};

/// The most commits a pull request's `commits` lists.
const COMMIT_LIMIT: usize = 10_000;

/// The commits a pull request compares: its source and destination, at their branches' tips
/// while it is open, else as recorded when it closed.
async fn tips(
    state: &SharedState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    pr: &PullRequestRow,
) -> ApiResult<(String, String)> {
    if pr.state != "OPEN" {
        return Ok((pr.source_commit.clone(), pr.destination_commit.clone()));
    }
    let (id, s, d) = (
        repo_id(ws, repo)?,
        pr.source_branch.clone(),
        pr.destination_branch.clone(),
    );
    let (src, dst) = git(&State(state.clone()), move |g| {
        Ok((g.branch(&id, &s)?, g.branch(&id, &d)?))
    })
    .await?;
    let gone = |b: &str| ApiError::not_found(format!("Branch \"{b}\" of the pull request is gone"));
    Ok((
        src.ok_or_else(|| gone(&pr.source_branch))?.target.hash,
        dst.ok_or_else(|| gone(&pr.destination_branch))?.target.hash,
    ))
}

async fn read_pr(
    state: &SharedState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
    id: &str,
    need: Access,
) -> ApiResult<(WorkspaceRow, RepoRow, PullRequestRow)> {
    let (ws, repo) = state.repo(caller, workspace, slug, need).await?;
    let pr = load(state, &repo, parse_id(id, "pull request id")?).await?;
    Ok((ws, repo, pr))
}

/// A pull request's diff, patch or diffstat is a redirect (302), as Bitbucket answers: to the
/// repository's `output` of the spec Bitbucket gives it, `{workspace}/{repo}:{source}%0D
/// {destination}` compared from their merge base (`topic=true`), keeping the caller's query.
async fn pr_output(
    state: SharedState,
    caller: Caller,
    (workspace, slug, id): (String, String, String),
    params: Params,
    output: &str,
) -> ApiResult<Response> {
    let (ws, repo, pr) = read_pr(&state, &caller, &workspace, &slug, &id, Access::Read).await?;
    let (source, destination) = tips(&state, &ws, &repo, &pr).await?;
    let this = format!("{}/{}", ws.slug, repo.slug);
    let query = params
        .pairs
        .iter()
        .filter(|(k, _)| k != "topic" && k != "from_pullrequest_id")
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .chain([
            format!("from_pullrequest_id={}", pr.id),
            "topic=true".into(),
        ])
        .collect::<Vec<_>>()
        .join("&");
    let target = state.api_url(&format!(
        "/repositories/{this}/{output}/{this}:{source}%0D{destination}?{query}"
    ));
    Ok((StatusCode::FOUND, [(header::LOCATION, target)]).into_response())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

pub async fn diff(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    pr_output(state, caller, path, params, "diff").await
}

pub async fn patch(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    pr_output(state, caller, path, params, "patch").await
}

pub async fn diffstat(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    pr_output(state, caller, path, params, "diffstat").await
}

/// The source's commits that the destination lacks, newest first.
pub async fn commits(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr) = read_pr(&state, &caller, &workspace, &slug, &id, Access::Read).await?;
    let (src, dst) = tips(&state, &ws, &repo, &pr).await?;
    let id = repo_id(&ws, &repo)?;
    let list = git(&State(state.clone()), move |g| {
        g.log(&id, &src, Some(&dst), COMMIT_LIMIT, 0)
    })
    .await?;
    let users = state.all_users().await?;
    let items = list
        .iter()
        .map(|c| {
            let mut v = render::commit(&state, &ws, &repo, c);
            render::link_commit_authors(&mut v, &users, &state);
            v
        })
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

/// Records the caller's review (`None` withdraws it) on an open pull request that is not
/// their own, and answers with their participant object.
async fn review(
    state: SharedState,
    caller: Caller,
    (workspace, slug, id): (String, String, String),
    review: Option<&str>,
    verb: &str,
) -> ApiResult<Json<Value>> {
    let (ws, repo, _) = read_pr(&state, &caller, &workspace, &slug, &id, Access::Read).await?;
    let user = caller.require()?.clone();
    if state.permission(ws.id, &user).await?.is_none() {
        return Err(ApiError::forbidden(format!(
            "You do not have access to the workspace '{}'.",
            ws.slug
        )));
    }
    let id = parse_id(&id, "pull request id")?;
    let mut write = state.store.write().await?;
    let pr = write
        .pull_request(repo.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Pull request #{id} does not exist")))?;
    if pr.state != "OPEN" {
        return Err(ApiError::bad_request(format!(
            "You can't {verb} a pull request that is {}.",
            pr.state.to_lowercase()
        )));
    }
    if pr.author_id == user.id && review.is_some() {
        return Err(ApiError::bad_request(format!(
            "You can't {verb} your own pull request."
        )));
    }
    let row = write
        .set_participant(repo.id, id, user.id, review, &now())
        .await?;
    write.commit().await?;
    let reviewer = state.store.reviewers(repo.id, id).await?.contains(&user.id);
    Ok(Json(render::participant(
        &state,
        &user,
        reviewer,
        Some(&row),
    )))
}

pub async fn approve(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    review(state, caller, path, Some("approved"), "approve").await
}

pub async fn unapprove(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
) -> ApiResult<Response> {
    let _participant = review(state, caller, path, None, "unapprove").await?;
    Ok(super::no_content())
}

pub async fn request_changes(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    review(
        state,
        caller,
        path,
        Some("changes_requested"),
        "request changes on",
    )
    .await
}

pub async fn unrequest_changes(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String)>,
) -> ApiResult<Response> {
    let _participant = review(state, caller, path, None, "withdraw a change request on").await?;
    Ok(super::no_content())
}

/// Closes an open pull request, keeping the commits it had.
pub async fn decline(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr) = read_pr(&state, &caller, &workspace, &slug, &id, Access::Write).await?;
    let user = caller.require()?.clone();
    let (src, dst) = tips(&state, &ws, &repo, &pr)
        .await
        .unwrap_or((pr.source_commit.clone(), pr.destination_commit.clone()));
    let mut write = state.store.write().await?;
    let mut pr = write
        .pull_request(repo.id, pr.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Pull request #{} does not exist", pr.id)))?;
    if pr.state != "OPEN" {
        return Err(ApiError::bad_request(format!(
            "You can't decline a pull request that is {}.",
            pr.state.to_lowercase()
        )));
    }
    pr.state = "DECLINED".into();
    pr.source_commit = src;
    pr.destination_commit = dst;
    pr.closed_by = Some(user.id);
    pr.updated_on = now();
    write.update_pull_request(repo.id, &pr, None).await?;
    write.commit().await?;
    finish(&state, &ws, &repo, &pr).await
}

async fn finish(
    state: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    pr: &PullRequestRow,
) -> ApiResult<Json<Value>> {
    let users = state.all_users().await?;
    Ok(Json(pr_value(state, ws, repo, pr, &users).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct MergeInput {
    message: Option<String>,
    close_source_branch: Option<bool>,
    merge_strategy: Option<String>,
}

/// Merges an open pull request into its destination with a real git merge, then marks it
/// MERGED. A conflict or an impossible fast-forward changes nothing.
pub async fn merge(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: MergeInput = raw.parse()?;
    let strategy = match input.merge_strategy.as_deref().unwrap_or("merge_commit") {
        "merge_commit" => MergeStrategy::MergeCommit,
        "squash" => MergeStrategy::Squash,
        "fast_forward" => MergeStrategy::FastForward,
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid merge_strategy '{other}': expected merge_commit, squash or fast_forward"
            ))
            .with_field("merge_strategy", "Not a valid choice."));
        }
    };
    let (ws, repo, pr) = read_pr(&state, &caller, &workspace, &slug, &id, Access::Write).await?;
    let user = caller.require()?.clone();
    // The lock covers the state check, the git merge and the state change, so a pull request
    // is merged once.
    let mut write = state.store.write().await?;
    let mut pr = write
        .pull_request(repo.id, pr.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Pull request #{} does not exist", pr.id)))?;
    if pr.state != "OPEN" {
        return Err(ApiError::bad_request(format!(
            "You can't merge a pull request that is {}.",
            pr.state.to_lowercase()
        )));
    }
    let (src, _) = tips(&state, &ws, &repo, &pr).await?;
    let message = input
        .message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| {
            format!(
                "Merged in {} (pull request #{})\n\n{}",
                pr.source_branch, pr.id, pr.title
            )
        });
    let signature = Signature::new(
        user.display_name.clone(),
        user.email.clone(),
        time::OffsetDateTime::now_utc().unix_timestamp(),
    );
    let close_source = input.close_source_branch.unwrap_or(pr.close_source_branch);
    let (id, dest, source_branch, source) = (
        repo_id(&ws, &repo)?,
        pr.destination_branch.clone(),
        pr.source_branch.clone(),
        src.clone(),
    );
    let merged = git(&State(state.clone()), move |g| {
        let merged = g.merge(&id, &dest, &source, strategy, &message, &signature)?;
        if close_source {
            g.delete_branch(&id, &source_branch)?;
        }
        Ok(merged)
    })
    .await?;
    pr.state = "MERGED".into();
    pr.source_commit = src;
    pr.merge_commit = Some(merged.hash.clone());
    pr.destination_commit = merged.hash;
    pr.close_source_branch = close_source;
    pr.closed_by = Some(user.id);
    pr.updated_on = now();
    write.update_pull_request(repo.id, &pr, None).await?;
    write.commit().await?;
    finish(&state, &ws, &repo, &pr).await
}

/// The pull request's activity, newest first: its current state as an `update` at its last
/// change, its opening, and each standing approval or change request.
pub async fn activity(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr) = read_pr(&state, &caller, &workspace, &slug, &id, Access::Read).await?;
    let users = state.all_users().await?;
    let full = pr_value(&state, &ws, &repo, &pr, &users).await?;
    let short = serde_json::json!({
        "type": "pullrequest",
        "id": pr.id,
        "title": pr.title,
        "links": full["links"].clone(),
    });
    let update = |state_name: &str, date: &str| {
        serde_json::json!({
            "pull_request": short,
            "update": {
                "state": state_name,
                "title": pr.title,
                "description": pr.description,
                "reason": "",
                "author": full["author"].clone(),
                "date": date,
                "source": full["source"].clone(),
                "destination": full["destination"].clone(),
            },
        })
    };
    let mut items: Vec<(String, Value)> =
        vec![(pr.created_on.clone(), update("OPEN", &pr.created_on))];
    if pr.state != "OPEN" {
        items.push((pr.updated_on.clone(), update(&pr.state, &pr.updated_on)));
    }
    for p in state.store.participants(repo.id, pr.id).await? {
        let Some(kind) = p.state.as_deref().map(|s| {
            if s == "approved" {
                "approval"
            } else {
                "changes_requested"
            }
        }) else {
            continue;
        };
        let Some(user) = users.iter().find(|u| u.id == p.user_id) else {
            continue;
        };
        let entry = serde_json::json!({
            "pull_request": short,
            kind: {
                "date": p.participated_on,
                "user": render::user(&state, user),
                "pullrequest": short,
            },
        });
        items.push((p.participated_on.clone(), entry));
    }
    items.sort_by(|a, b| b.0.cmp(&a.0));
    let items = items.into_iter().map(|(_, v)| v).collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}
