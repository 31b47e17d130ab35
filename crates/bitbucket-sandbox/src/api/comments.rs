//! Comments on code, a pull request's or a commit's: list, get, create (inline on a line of
//! the diff, or in reply), update and delete; a pull request's comments also resolve and
//! reopen. Markdown in `content.raw` is rendered to HTML.
//!
//! Both kinds share every rule here; only what they are on differs ([`On`]): its URLs, the
//! diff an inline anchor must fall in (a pull request's from the merge base, a commit's from
//! its first parent) and the table they live in ([`Thread`]).

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::issues::created;
use super::pullrequests::load;
use super::{P, git, parse_id, repo_id};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::git::{CommitInfo, DiffOptions};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState, now};
use crate::store::{
    CodeCommentRow, NewCodeComment, PullRequestRow, RepoRow, Thread, UserRow, WorkspaceRow,
};

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

/// What comments are on: a pull request or a commit, in a repository the caller may read.
enum Subject {
    PullRequest(PullRequestRow),
    Commit(CommitInfo),
}

struct On {
    ws: WorkspaceRow,
    repo: RepoRow,
    subject: Subject,
}

impl On {
    fn thread(&self) -> Thread<'_> {
        match &self.subject {
            Subject::PullRequest(pr) => Thread::PullRequest(pr.id),
            Subject::Commit(c) => Thread::Commit(&c.hash),
        }
    }

    /// The subject's API URL, under which its comments live.
    fn api_url(&self, s: &AppState) -> String {
        let repo = format!("/repositories/{}/{}", self.ws.slug, self.repo.slug);
        s.api_url(&match &self.subject {
            Subject::PullRequest(pr) => format!("{repo}/pullrequests/{}", pr.id),
            Subject::Commit(c) => format!("{repo}/commit/{}", c.hash),
        })
    }

    fn html_url(&self, s: &AppState) -> String {
        let repo = format!("/{}/{}", self.ws.slug, self.repo.slug);
        s.html_url(&match &self.subject {
            Subject::PullRequest(pr) => format!("{repo}/pull-requests/{}", pr.id),
            Subject::Commit(c) => format!("{repo}/commits/{}", c.hash),
        })
    }

    /// The comment's `type`.
    fn kind(&self) -> &'static str {
        match self.subject {
            Subject::PullRequest(_) => "pullrequest_comment",
            Subject::Commit(_) => "commit_comment",
        }
    }

    /// How error messages name the subject.
    fn name(&self) -> String {
        match &self.subject {
            Subject::PullRequest(pr) => format!("pull request #{}", pr.id),
            Subject::Commit(c) => format!("commit {}", &c.hash[..c.hash.len().min(12)]),
        }
    }

    /// The subject as a comment shows it: its field name and short form.
    fn reference(&self, s: &AppState) -> (&'static str, Value) {
        let links = json!({
            "self": { "href": self.api_url(s) },
            "html": { "href": self.html_url(s) },
        });
        match &self.subject {
            Subject::PullRequest(pr) => (
                "pullrequest",
                json!({ "type": "pullrequest", "id": pr.id, "title": pr.title, "links": links }),
            ),
            Subject::Commit(c) => (
                "commit",
                json!({ "type": "commit", "hash": c.hash, "links": links }),
            ),
        }
    }

    /// The two commits whose diff inline comments anchor in: a pull request's merge base and
    /// source (the branches' heads while it is open, the recorded commits after), or a
    /// commit's first parent (none for a root commit) and itself.
    async fn diff_range(&self, state: &SharedState) -> ApiResult<(Option<String>, String)> {
        let pr = match &self.subject {
            Subject::Commit(c) => return Ok((c.parents.first().cloned(), c.hash.clone())),
            Subject::PullRequest(pr) => pr.clone(),
        };
        let id = repo_id(&self.ws, &self.repo)?;
        let (base, head) = git(&State(state.clone()), move |g| {
            let tip = |branch: &str, recorded: &str| -> Result<String, crate::git::GitError> {
                Ok(match pr.state.as_str() {
                    "OPEN" => g
                        .branch(&id, branch)?
                        .map(|b| b.target.hash)
                        .unwrap_or_else(|| recorded.to_owned()),
                    _ => recorded.to_owned(),
                })
            };
            let src = tip(&pr.source_branch, &pr.source_commit)?;
            let dst = tip(&pr.destination_branch, &pr.destination_commit)?;
            let base = g.merge_base(&id, &src, &dst)?.unwrap_or(dst);
            Ok((base, src))
        })
        .await?;
        Ok((Some(base), head))
    }
}

async fn on_pull_request(
    state: &SharedState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
    id: &str,
) -> ApiResult<On> {
    let (ws, repo) = state.repo(caller, workspace, slug, Access::Read).await?;
    let pr = load(state, &repo, parse_id(id, "pull request id")?).await?;
    Ok(On {
        ws,
        repo,
        subject: Subject::PullRequest(pr),
    })
}

async fn on_commit(
    state: &SharedState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
    commit: &str,
) -> ApiResult<On> {
    let (ws, repo) = state.repo(caller, workspace, slug, Access::Read).await?;
    let (id, rev) = (repo_id(&ws, &repo)?, commit.to_owned());
    let info = git(&State(state.clone()), move |g| g.resolve(&id, &rev))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Commit \"{commit}\" not found")))?;
    Ok(On {
        ws,
        repo,
        subject: Subject::Commit(info),
    })
}

fn comment_value(s: &AppState, on: &On, c: &CodeCommentRow, users: &[UserRow]) -> Value {
    let base = on.api_url(s);
    let (field, reference) = on.reference(s);
    let mut v = json!({
        "type": on.kind(),
        "id": c.id,
        "content": {
            "raw": c.content,
            "markup": "markdown",
            "html": markdown_html(&c.content),
        },
        "created_on": c.created_on,
        "updated_on": c.updated_on,
        "deleted": c.deleted,
        "links": {
            "self": { "href": format!("{base}/comments/{}", c.id) },
            "html": { "href": format!("{}#comment-{}", on.html_url(s), c.id) },
        },
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    obj.insert(field.into(), reference);
    if let Some(u) = users.iter().find(|u| u.id == c.user_id) {
        obj.insert("user".into(), render::user(s, u));
    }
    if let Some(parent) = c.parent_id {
        obj.insert(
            "parent".into(),
            json!({
                "type": on.kind(),
                "id": parent,
                "links": { "self": { "href": format!("{base}/comments/{parent}") } },
            }),
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

async fn list_on(state: &SharedState, on: &On, params: &Params) -> ApiResult<Json<Value>> {
    let users = state.all_users().await?;
    let items = state
        .store
        .code_comments(on.repo.id, on.thread())
        .await?
        .iter()
        .map(|c| comment_value(state, on, c, &users))
        .collect();
    Ok(Json(paginate(&state.origin, params, items, MAX_PAGELEN)?))
}

async fn one(state: &SharedState, on: &On, comment_id: &str) -> ApiResult<CodeCommentRow> {
    let id = parse_id(comment_id, "comment id")?;
    state
        .store
        .code_comment(on.repo.id, on.thread(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Comment {id} does not exist")))
}

async fn get_on(state: &SharedState, on: &On, comment_id: &str) -> ApiResult<Json<Value>> {
    let c = one(state, on, comment_id).await?;
    let users = state.all_users().await?;
    Ok(Json(comment_value(state, on, &c, &users)))
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

/// The old and new line numbers the subject's diff shows for `path`, or `None` when the
/// diff does not touch it.
async fn shown_lines(
    state: &SharedState,
    on: &On,
    path: &str,
) -> ApiResult<Option<(HashSet<i64>, HashSet<i64>)>> {
    let (old, new) = on.diff_range(state).await?;
    let id = repo_id(&on.ws, &on.repo)?;
    let options = DiffOptions {
        paths: vec![path.to_owned()],
        ..DiffOptions::default()
    };
    let files = git(&State(state.clone()), move |g| {
        g.diff(&id, old.as_deref(), &new, &options)
    })
    .await?;
    let Some(file) = files.into_iter().find(|f| {
        f.new.as_ref().map(|s| s.path.as_str()) == Some(path)
            || f.old.as_ref().map(|s| s.path.as_str()) == Some(path)
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

/// Checks an inline anchor against the subject's diff: a path the diff touches, and a line
/// it shows on the side given (`from` old, `to` new).
async fn checked_anchor(
    state: &SharedState,
    on: &On,
    inline: &Inline,
) -> ApiResult<(String, Option<i64>, Option<i64>)> {
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
    let (old, new) = shown_lines(state, on, &path).await?.ok_or_else(|| {
        ApiError::bad_request(format!(
            "The file '{path}' is not part of the diff of {}",
            on.name()
        ))
        .with_field("inline", "Not in the diff.")
    })?;
    let outside = inline.to.is_some_and(|to| !new.contains(&to))
        || inline.from.is_some_and(|from| !old.contains(&from));
    if outside {
        return Err(ApiError::bad_request(format!(
            "The line is outside the diff of '{path}' in {}",
            on.name()
        ))
        .with_field("inline", "Anchor outside the diff."));
    }
    Ok((path, inline.from, inline.to))
}

async fn create_on(
    state: &SharedState,
    caller: &Caller,
    on: &On,
    raw: &JsonBody,
) -> ApiResult<Response> {
    let input: CommentInput = raw.parse()?;
    let user = caller.require()?.clone();
    let content = required_content(input.content)?;
    let inline = match &input.inline {
        None => None,
        Some(inline) => Some(checked_anchor(state, on, inline).await?),
    };
    let ts = now();
    let mut write = state.store.write().await?;
    if let Some(parent) = &input.parent {
        let found = state
            .store
            .code_comment(on.repo.id, on.thread(), parent.id)
            .await?;
        if found.is_none() {
            return Err(ApiError::bad_request(format!(
                "Parent comment {} not found on {}",
                parent.id,
                on.name()
            ))
            .with_field("parent", "No such comment."));
        }
    }
    let stored = write
        .insert_code_comment(&NewCodeComment {
            repo_id: on.repo.id,
            thread: on.thread(),
            user_id: user.id,
            content: &content,
            parent_id: input.parent.as_ref().map(|p| p.id),
            inline: inline.as_ref().map(|(p, f, t)| (p.as_str(), *f, *t)),
            created_on: &ts,
        })
        .await?;
    write.commit().await?;
    let users = state.all_users().await?;
    Ok(created(comment_value(state, on, &stored, &users)))
}

/// Loads a comment for a change by its author (or, for resolving, anyone with access).
async fn change(
    state: &SharedState,
    caller: &Caller,
    on: &On,
    comment_id: &str,
    own_only: bool,
) -> ApiResult<(CodeCommentRow, UserRow)> {
    let user = caller.require()?.clone();
    let c = one(state, on, comment_id).await?;
    if c.deleted {
        return Err(ApiError::not_found(format!("Comment {} was deleted", c.id)));
    }
    if own_only && c.user_id != user.id {
        return Err(ApiError::forbidden(
            "You can only change your own comments.",
        ));
    }
    Ok((c, user))
}

async fn save(state: &SharedState, on: &On, c: &CodeCommentRow) -> ApiResult<()> {
    let mut write = state.store.write().await?;
    write.update_code_comment(on.thread(), c).await?;
    write.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct UpdateInput {
    content: Option<Content>,
}

async fn update_on(
    state: &SharedState,
    caller: &Caller,
    on: &On,
    comment_id: &str,
    raw: &JsonBody,
) -> ApiResult<Value> {
    let input: UpdateInput = raw.parse()?;
    let content = required_content(input.content)?;
    let (mut c, _) = change(state, caller, on, comment_id, true).await?;
    c.content = content;
    c.updated_on = now();
    save(state, on, &c).await?;
    let users = state.all_users().await?;
    Ok(comment_value(state, on, &c, &users))
}

async fn delete_on(
    state: &SharedState,
    caller: &Caller,
    on: &On,
    comment_id: &str,
) -> ApiResult<Response> {
    let (mut c, _) = change(state, caller, on, comment_id, true).await?;
    c.deleted = true;
    c.updated_on = now();
    save(state, on, &c).await?;
    Ok(super::no_content())
}

// --- pull request comments: `.../pullrequests/{id}/comments[/{comment_id}[/resolve]]` ---

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let on = on_pull_request(&state, &caller, &workspace, &slug, &id).await?;
    list_on(&state, &on, &params).await
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let on = on_pull_request(&state, &caller, &workspace, &slug, &id).await?;
    get_on(&state, &on, &comment_id).await
}

pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let on = on_pull_request(&state, &caller, &workspace, &slug, &id).await?;
    create_on(&state, &caller, &on, &raw).await
}

pub async fn update(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, comment_id)): P<(String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let on = on_pull_request(&state, &caller, &workspace, &slug, &id).await?;
    Ok(Json(
        update_on(&state, &caller, &on, &comment_id, &raw).await?,
    ))
}

pub async fn delete(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let on = on_pull_request(&state, &caller, &workspace, &slug, &id).await?;
    delete_on(&state, &caller, &on, &comment_id).await
}

pub async fn resolve(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let on = on_pull_request(&state, &caller, &workspace, &slug, &id).await?;
    let (mut c, user) = change(&state, &caller, &on, &comment_id, false).await?;
    if c.parent_id.is_some() {
        return Err(ApiError::bad_request(
            "Only a top-level comment can be resolved",
        ));
    }
    if c.resolved_by.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Comment {} is already resolved", c.id),
        ));
    }
    c.resolved_by = Some(user.id);
    c.resolved_on = Some(now());
    save(&state, &on, &c).await?;
    let users = state.all_users().await?;
    let v = comment_value(&state, &on, &c, &users);
    Ok(Json(v["resolution"].clone()))
}

pub async fn reopen(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, id, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let on = on_pull_request(&state, &caller, &workspace, &slug, &id).await?;
    let (mut c, _) = change(&state, &caller, &on, &comment_id, false).await?;
    if c.resolved_by.is_none() {
        return Err(ApiError::not_found(format!(
            "Comment {} is not resolved",
            c.id
        )));
    }
    c.resolved_by = None;
    c.resolved_on = None;
    save(&state, &on, &c).await?;
    Ok(super::no_content())
}

// --- commit comments: `.../commit/{commit}/comments[/{comment_id}]` ---

pub async fn commit_list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let on = on_commit(&state, &caller, &workspace, &slug, &commit).await?;
    list_on(&state, &on, &params).await
}

pub async fn commit_get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let on = on_commit(&state, &caller, &workspace, &slug, &commit).await?;
    get_on(&state, &on, &comment_id).await
}

pub async fn commit_create(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit)): P<(String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let on = on_commit(&state, &caller, &workspace, &slug, &commit).await?;
    create_on(&state, &caller, &on, &raw).await
}

/// The spec answers an edit of a commit comment with 201, unlike a pull request comment's 200.
pub async fn commit_update(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, comment_id)): P<(String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Response> {
    let on = on_commit(&state, &caller, &workspace, &slug, &commit).await?;
    let v = update_on(&state, &caller, &on, &comment_id, &raw).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub async fn commit_delete(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, comment_id)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let on = on_commit(&state, &caller, &workspace, &slug, &commit).await?;
    delete_on(&state, &caller, &on, &comment_id).await
}
