//! Comments on pull requests: list, get, create (inline on a line of the diff, or in reply),
//! update, delete, resolve and reopen. Markdown in `content.raw` is rendered to HTML.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::issues::created;
use super::pullrequests::load;
use super::{P, git, parse_id};
use crate::body;
use crate::error::{ApiError, ApiResult};
use crate::git::DiffOptions;
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, now};
use crate::store::{NewPrComment, PrCommentRow, PullRequestRow, RepoRow, UserRow, WorkspaceRow};

/// Markdown to HTML, with raw HTML in the source escaped rather than passed through.
pub fn markdown_html(raw: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser =
        Parser::new_ext(raw, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| {
            match event {
                Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
                other => other,
            }
        });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

fn comment_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    pr: &PullRequestRow,
    c: &PrCommentRow,
    users: &[UserRow],
) -> Value {
    let base = s.api_url(&format!(
        "/repositories/{}/{}/pullrequests/{}",
        ws.slug, repo.slug, pr.id
    ));
    let author = users.iter().find(|u| u.id == c.user_id);
    let mut v = json!({
        "type": "pullrequest_comment",
        "id": c.id,
        "content": {
            "raw": c.content,
            "markup": "markdown",
            "html": markdown_html(&c.content),
        },
        "created_on": c.created_on,
        "updated_on": c.updated_on,
        "deleted": c.deleted,
        "pullrequest": {
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "links": { "self": { "href": base } },
        },
        "links": {
            "self": { "href": format!("{base}/comments/{}", c.id) },
            "html": { "href": s.html_url(&format!("/{}/{}/pull-requests/{}#comment-{}", ws.slug, repo.slug, pr.id, c.id)) },
        },
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if let Some(u) = author {
        obj.insert("user".into(), render::user(s, u));
    }
    if let Some(parent) = c.parent_id {
        obj.insert(
            "parent".into(),
            json!({ "id": parent, "links": { "self": { "href": format!("{base}/comments/{parent}") } } }),
        );
    }
    if let Some(path) = &c.inline_path {
        let mut inline = json!({ "path": path });
        if let Some(o) = inline.as_object_mut() {
            if let Some(from) = c.inline_from {
                o.insert("from".into(), json!(from));
            }
            if let Some(to) = c.inline_to {
                o.insert("to".into(), json!(to));
            }
        }
        obj.insert("inline".into(), inline);
    }
    if let (Some(by), Some(on)) = (c.resolved_by, &c.resolved_on) {
        let mut resolution = json!({ "type": "comment_resolution", "created_on": on });
        if let (Some(u), Some(r)) = (
            users.iter().find(|u| u.id == by),
            resolution.as_object_mut(),
        ) {
            r.insert("user".into(), render::user(s, u));
        }
        obj.insert("resolution".into(), resolution);
    }
    v
}

async fn context(
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

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr) = context(&state, &caller, &workspace, &slug, &id, Access::Read).await?;
    let users = state.all_users().await?;
    let items = state
        .store
        .pr_comments(repo.id, pr.id)
        .await?
        .iter()
        .map(|c| comment_value(&state, &ws, &repo, &pr, c, &users))
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

async fn one(
    state: &SharedState,
    repo: &RepoRow,
    pr: &PullRequestRow,
    comment_id: &str,
) -> ApiResult<PrCommentRow> {
    let id = parse_id(comment_id, "comment id")?;
    state
        .store
        .pr_comment(repo.id, pr.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Comment {id} does not exist")))
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr) = context(&state, &caller, &workspace, &slug, &id, Access::Read).await?;
    let c = one(&state, &repo, &pr, &comment_id).await?;
    let users = state.all_users().await?;
    Ok(Json(comment_value(&state, &ws, &repo, &pr, &c, &users)))
}

#[derive(Debug, Deserialize)]
pub struct Content {
    raw: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Inline {
    path: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Parent {
    id: i64,
}

#[derive(Debug, Deserialize)]
pub struct CommentInput {
    content: Option<Content>,
    inline: Option<Inline>,
    parent: Option<Parent>,
}

fn required_content(input: Option<Content>) -> ApiResult<String> {
    input
        .and_then(|c| c.raw)
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("content.raw: This field is required.")
                .with_field("content", "This field is required.")
        })
}

/// The old and new line numbers the pull request's diff shows for `path`, or `None` when
/// the diff does not touch it.
async fn shown_lines(
    state: &SharedState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    pr: &PullRequestRow,
    path: &str,
) -> ApiResult<Option<(HashSet<i64>, HashSet<i64>)>> {
    let (w, r) = (ws.slug.clone(), repo.slug.clone());
    let (src_branch, dst_branch) = (pr.source_branch.clone(), pr.destination_branch.clone());
    let (src_commit, dst_commit) = (pr.source_commit.clone(), pr.destination_commit.clone());
    let open = pr.state == "OPEN";
    let options = DiffOptions {
        paths: vec![path.to_owned()],
        ..DiffOptions::default()
    };
    let want = path.to_owned();
    let files = git(&State(state.clone()), move |g| {
        let tip = |branch: &str, recorded: String| -> Result<String, crate::git::GitError> {
            Ok(match open {
                true => g
                    .branch(&w, &r, branch)?
                    .map(|b| b.target.hash)
                    .unwrap_or(recorded),
                false => recorded,
            })
        };
        let src = tip(&src_branch, src_commit)?;
        let dst = tip(&dst_branch, dst_commit)?;
        let base = g.merge_base(&w, &r, &src, &dst)?.unwrap_or(dst);
        g.diff(&w, &r, Some(&base), &src, &options)
    })
    .await?;
    let Some(file) = files.into_iter().find(|f| {
        f.new.as_ref().map(|s| s.path.as_str()) == Some(want.as_str())
            || f.old.as_ref().map(|s| s.path.as_str()) == Some(want.as_str())
    }) else {
        return Ok(None);
    };
    let (mut old, mut new) = (HashSet::new(), HashSet::new());
    let (mut o, mut n) = (0i64, 0i64);
    for line in file.text.lines() {
        if let Some(header) = line.strip_prefix("@@ -") {
            let mut parts = header.split([' ', ',', '+']).filter(|p| !p.is_empty());
            o = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0);
            let mut rest = header.split('+').nth(1).unwrap_or("").split([',', ' ']);
            n = rest.next().and_then(|x| x.parse().ok()).unwrap_or(0);
            continue;
        }
        match line.as_bytes().first() {
            Some(b' ') => {
                old.insert(o);
                new.insert(n);
                o += 1;
                n += 1;
            }
            Some(b'-') if !line.starts_with("---") => {
                old.insert(o);
                o += 1;
            }
            Some(b'+') if !line.starts_with("+++") => {
                new.insert(n);
                n += 1;
            }
            _ => {}
        }
    }
    Ok(Some((old, new)))
}

pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let input: CommentInput = body::parse(&raw)?;
    let (ws, repo, pr) = context(&state, &caller, &workspace, &slug, &id, Access::Read).await?;
    let user = caller.require()?.clone();
    let content = required_content(input.content)?;
    let inline = match &input.inline {
        None => None,
        Some(inline) => {
            let path = inline
                .path
                .as_deref()
                .map(|p| p.trim_matches('/'))
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    ApiError::bad_request("inline.path: This field is required.")
                        .with_field("inline", "Give the path of a file in the diff.")
                })?
                .to_owned();
            if inline.from.is_none() && inline.to.is_none() {
                return Err(ApiError::bad_request("inline: give `from` or `to`")
                    .with_field("inline", "Give `from` (old line) or `to` (new line)."));
            }
            let (old, new) = shown_lines(&state, &ws, &repo, &pr, &path)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "The file '{path}' is not part of the diff of pull request #{}",
                        pr.id
                    ))
                    .with_field("inline", "Not in the diff.")
                })?;
            let outside = inline.to.is_some_and(|to| !new.contains(&to))
                || inline.from.is_some_and(|from| !old.contains(&from));
            if outside {
                return Err(ApiError::bad_request(format!(
                    "The line is outside the diff of '{path}' in pull request #{}",
                    pr.id
                ))
                .with_field("inline", "Anchor outside the diff."));
            }
            Some((path, inline.from, inline.to))
        }
    };
    let ts = now();
    let mut write = state.store.write().await?;
    if let Some(parent) = &input.parent {
        let found = state.store.pr_comment(repo.id, pr.id, parent.id).await?;
        if found.is_none() {
            return Err(ApiError::bad_request(format!(
                "Parent comment {} not found on this pull request",
                parent.id
            ))
            .with_field("parent", "No such comment."));
        }
    }
    let stored = write
        .insert_pr_comment(&NewPrComment {
            repo_id: repo.id,
            pr_id: pr.id,
            user_id: user.id,
            content: &content,
            parent_id: input.parent.as_ref().map(|p| p.id),
            inline: inline.as_ref().map(|(p, f, t)| (p.as_str(), *f, *t)),
            created_on: &ts,
        })
        .await?;
    write.commit().await?;
    let users = state.all_users().await?;
    Ok(created(comment_value(
        &state, &ws, &repo, &pr, &stored, &users,
    )))
}

/// Loads a comment for a change by its author (or, for resolving, anyone with access).
async fn change(
    state: &SharedState,
    caller: &Caller,
    (workspace, slug, id, comment_id): (String, String, String, String),
    own_only: bool,
) -> ApiResult<(WorkspaceRow, RepoRow, PullRequestRow, PrCommentRow, UserRow)> {
    let (ws, repo, pr) = context(state, caller, &workspace, &slug, &id, Access::Read).await?;
    let user = caller.require()?.clone();
    let c = one(state, &repo, &pr, &comment_id).await?;
    if c.deleted {
        return Err(ApiError::not_found(format!("Comment {} was deleted", c.id)));
    }
    if own_only && c.user_id != user.id {
        return Err(ApiError::forbidden(
            "You can only change your own comments.",
        ));
    }
    Ok((ws, repo, pr, c, user))
}

async fn save(state: &SharedState, c: &PrCommentRow) -> ApiResult<()> {
    let mut write = state.store.write().await?;
    write.update_pr_comment(c).await?;
    write.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct UpdateInput {
    content: Option<Content>,
}

pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let input: UpdateInput = body::parse(&raw)?;
    let content = required_content(input.content)?;
    let (ws, repo, pr, mut c, _) = change(&state, &caller, path, true).await?;
    c.content = content;
    c.updated_on = now();
    save(&state, &c).await?;
    let users = state.all_users().await?;
    Ok(Json(comment_value(&state, &ws, &repo, &pr, &c, &users)))
}

pub async fn delete(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (_, _, _, mut c, _) = change(&state, &caller, path, true).await?;
    c.deleted = true;
    c.updated_on = now();
    save(&state, &c).await?;
    Ok(super::no_content())
}

pub async fn resolve(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo, pr, mut c, user) = change(&state, &caller, path, false).await?;
    if c.parent_id.is_some() {
        return Err(ApiError::bad_request(
            "Only a top-level comment can be resolved",
        ));
    }
    if c.resolved_by.is_some() {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            format!("Comment {} is already resolved", c.id),
        ));
    }
    c.resolved_by = Some(user.id);
    c.resolved_on = Some(now());
    save(&state, &c).await?;
    let users = state.all_users().await?;
    let v = comment_value(&state, &ws, &repo, &pr, &c, &users);
    Ok(Json(v["resolution"].clone()))
}

pub async fn reopen(
    State(state): State<SharedState>,
    caller: Caller,
    P(path): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (_, _, _, mut c, _) = change(&state, &caller, path, false).await?;
    if c.resolved_by.is_none() {
        return Err(ApiError::not_found(format!(
            "Comment {} is not resolved",
            c.id
        )));
    }
    c.resolved_by = None;
    c.resolved_on = None;
    save(&state, &c).await?;
    Ok(super::no_content())
}
