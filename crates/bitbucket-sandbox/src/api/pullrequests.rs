//! Pull requests between branches of one repository.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::issues::created;
use super::{P, git, parse_id, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PR_PAGELEN, Params, paginate};
use crate::render::{self, PullRequestContext};
use crate::state::{Access, AppState, Caller, SharedState, now};
use crate::store::{NewPullRequest, PullRequestRow, RepoRow, Thread, UserRow, WorkspaceRow};

pub const STATES: &[&str] = &["OPEN", "MERGED", "DECLINED", "SUPERSEDED"];

pub(super) async fn pr_value(
    state: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    pr: &PullRequestRow,
    users: &[UserRow],
) -> ApiResult<Value> {
    let reviewer_ids = state.store.reviewers(repo.id, pr.id).await?;
    let reviewers: Vec<UserRow> = users
        .iter()
        .filter(|u| reviewer_ids.contains(&u.id))
        .cloned()
        .collect();
    let reviews: Vec<(UserRow, crate::store::ParticipantRow)> = state
        .store
        .participants(repo.id, pr.id)
        .await?
        .into_iter()
        .filter_map(|p| {
            let user = users.iter().find(|u| u.id == p.user_id)?.clone();
            Some((user, p))
        })
        .collect();
    let author = users
        .iter()
        .find(|u| u.id == pr.author_id)
        .ok_or_else(|| ApiError::internal(format_args!("author {} vanished", pr.author_id)))?;
    Ok(render::pull_request(
        state,
        ws,
        repo,
        pr,
        &PullRequestContext {
            author,
            reviewers: &reviewers,
            reviews: &reviews,
            comment_count: state
                .store
                .code_comment_count(repo.id, Thread::PullRequest(pr.id))
                .await?,
            task_count: state.store.pr_open_task_count(repo.id, pr.id).await?,
            closed_by: pr
                .closed_by
                .and_then(|id| users.iter().find(|u| u.id == id)),
        },
    ))
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let mut wanted: Vec<String> = Vec::new();
    for s in params.get_all("state") {
        let upper = s.trim().to_ascii_uppercase();
        if !STATES.contains(&upper.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Invalid state '{s}': expected one of {}",
                STATES.join(", ")
            ))
            .with_field("state", format!("'{s}' is not a valid choice.")));
        }
        wanted.push(upper);
    }
    if wanted.is_empty() {
        wanted.push("OPEN".into());
    }
    let prs = state.store.pull_requests(repo.id).await?;
    let users = state.all_users().await?;
    let mut items = Vec::new();
    for pr in &prs {
        if wanted.contains(&pr.state) {
            items.push(pr_value(&state, &ws, &repo, pr, &users).await?);
        }
    }
    Ok(Json(paginate(
        &state.origin,
        &params,
        items,
        MAX_PR_PAGELEN,
    )?))
}

pub(super) async fn load(state: &AppState, repo: &RepoRow, id: i64) -> ApiResult<PullRequestRow> {
    state
        .store
        .pull_request(repo.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Pull request #{id} does not exist")))
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let pr = load(&state, &repo, parse_id(&id, "pull request id")?).await?;
    let users = state.all_users().await?;
    Ok(Json(pr_value(&state, &ws, &repo, &pr, &users).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct Endpoint {
    branch: Option<BranchName>,
}

#[derive(Debug, Deserialize)]
pub struct BranchName {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PrInput {
    title: Option<String>,
    description: Option<String>,
    source: Option<Endpoint>,
    destination: Option<Endpoint>,
    reviewers: Option<Vec<Value>>,
    close_source_branch: Option<bool>,
    draft: Option<bool>,
}

fn endpoint_branch(e: &Option<Endpoint>) -> Option<String> {
    e.as_ref()
        .and_then(|e| e.branch.as_ref())
        .and_then(|b| b.name.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

async fn reviewer_ids(
    state: &AppState,
    ws: &WorkspaceRow,
    author: &UserRow,
    reviewers: &[Value],
) -> ApiResult<Vec<i64>> {
    let mut ids = Vec::new();
    for r in reviewers {
        let key = match r {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => ["uuid", "account_id", "username", "nickname"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .map(str::to_owned),
            _ => None,
        }
        .ok_or_else(|| {
            ApiError::bad_request(
                "Malformed reviewers list: give each reviewer's uuid or account_id",
            )
            .with_field("reviewers", "Malformed reviewers list.")
        })?;
        let user = state.find_user(&key).await?.ok_or_else(|| {
            ApiError::bad_request(format!("Reviewer '{key}' not found"))
                .with_field("reviewers", "Unknown user.")
        })?;
        if user.id == author.id {
            return Err(ApiError::bad_request(format!(
                "{} is the author and cannot be included as a reviewer.",
                user.display_name
            ))
            .with_field("reviewers", "The author cannot review."));
        }
        if state.permission(ws.id, &user).await?.is_none() {
            return Err(ApiError::bad_request(format!(
                "Reviewer '{key}' is not a member of the workspace '{}'",
                ws.slug
            ))
            .with_field("reviewers", "Not a member."));
        }
        if !ids.contains(&user.id) {
            ids.push(user.id);
        }
    }
    Ok(ids)
}

pub async fn create(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let input: PrInput = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let author = caller.require()?.clone();
    let title = input.title.as_deref().map(str::trim).unwrap_or("");
    if title.is_empty() {
        return Err(ApiError::bad_request("title: This field is required.")
            .with_field("title", "This field is required."));
    }
    let source = endpoint_branch(&input.source).ok_or_else(|| {
        ApiError::bad_request("source: This field is required.").with_field(
            "source",
            "Give the source branch as {\"branch\": {\"name\": ...}}.",
        )
    })?;
    let destination =
        endpoint_branch(&input.destination).unwrap_or_else(|| repo.mainbranch.clone());
    let (id, s, d) = (repo_id(&ws, &repo)?, source.clone(), destination.clone());
    let (src_ref, dst_ref) = git(&state, move |g| {
        Ok((g.branch(&id, &s)?, g.branch(&id, &d)?))
    })
    .await?;
    let src_ref = src_ref.ok_or_else(|| {
        ApiError::bad_request(format!(
            "Source branch \"{source}\" not found in {}/{}",
            ws.slug, repo.slug
        ))
        .with_field("source", "No such branch.")
    })?;
    let dst_ref = dst_ref.ok_or_else(|| {
        ApiError::bad_request(format!(
            "Destination branch \"{destination}\" not found in {}/{}",
            ws.slug, repo.slug
        ))
        .with_field("destination", "No such branch.")
    })?;
    if source == destination {
        return Err(
            ApiError::bad_request("Source and destination branches must be different")
                .with_field("destination", "Same as the source."),
        );
    }
    let id = repo_id(&ws, &repo)?;
    let (sh, dh) = (src_ref.target.hash.clone(), dst_ref.target.hash.clone());
    let merged = git(&state, move |g| g.is_ancestor(&id, &sh, &dh)).await?;
    if merged {
        return Err(
            ApiError::bad_request("There are no changes to be pulled").with_detail(format!(
                "Every commit of \"{source}\" is already on \"{destination}\"."
            )),
        );
    }
    let reviewers = reviewer_ids(
        &state,
        &ws,
        &author,
        input.reviewers.as_deref().unwrap_or(&[]),
    )
    .await?;
    let ts = now();
    let mut write = state.store.write().await?;
    if let Some(existing) = write
        .open_pull_request_between(repo.id, &source, &destination)
        .await?
    {
        return Err(ApiError::bad_request(format!(
            "Only one pull request may be open for a given source and target branch: #{existing} already is"
        )));
    }
    let pr = write
        .insert_pull_request(
            &NewPullRequest {
                repo_id: repo.id,
                title,
                description: input.description.as_deref().unwrap_or(""),
                author_id: author.id,
                source_branch: &source,
                source_commit: &src_ref.target.hash,
                destination_branch: &destination,
                destination_commit: &dst_ref.target.hash,
                close_source_branch: input.close_source_branch.unwrap_or(false),
                draft: input.draft.unwrap_or(false),
                created_on: &ts,
            },
            &reviewers,
        )
        .await?;
    write.commit().await?;
    let users = state.all_users().await?;
    Ok(created(pr_value(&state, &ws, &repo, &pr, &users).await?))
}

pub async fn update(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: PrInput = raw.parse()?;
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let id = parse_id(&id, "pull request id")?;
    let mut pr = load(&state, &repo, id).await?;
    if pr.state != "OPEN" {
        return Err(ApiError::bad_request(format!(
            "Pull request #{id} is {} and can no longer be changed",
            pr.state
        )));
    }
    if let Some(title) = &input.title {
        if title.trim().is_empty() {
            return Err(ApiError::bad_request("title: This field may not be blank.")
                .with_field("title", "This field may not be blank."));
        }
        pr.title = title.trim().to_owned();
    }
    if let Some(description) = input.description {
        pr.description = description;
    }
    if let Some(destination) = endpoint_branch(&input.destination) {
        let (id, d) = (repo_id(&ws, &repo)?, destination.clone());
        let found = git(&state, move |g| g.branch(&id, &d))
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(format!("Destination branch \"{destination}\" not found"))
                    .with_field("destination", "No such branch.")
            })?;
        pr.destination_branch = destination;
        pr.destination_commit = found.target.hash;
    }
    if let Some(close) = input.close_source_branch {
        pr.close_source_branch = close;
    }
    if let Some(draft) = input.draft {
        pr.draft = draft;
    }
    let author = state.user_by_id(pr.author_id).await?;
    let reviewers = match &input.reviewers {
        Some(list) => Some(reviewer_ids(&state, &ws, &author, list).await?),
        None => None,
    };
    pr.updated_on = now();
    let mut write = state.store.write().await?;
    write
        .update_pull_request(repo.id, &pr, reviewers.as_deref())
        .await?;
    write.commit().await?;
    let users = state.all_users().await?;
    Ok(Json(pr_value(&state, &ws, &repo, &pr, &users).await?))
}
