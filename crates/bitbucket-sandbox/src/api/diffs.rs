//! Comparing commits: `diff`, `patch`, `diffstat`, `merge-base` and `filehistory`, all
//! computed from git's own trees.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::source::{file_entry, short_commit};
use super::{P, git, repo_id};
use crate::error::{ApiError, ApiResult};
use crate::git::{CommitInfo, DiffOptions, FilePatch, FileSide};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState};
use crate::store::{RepoRow, WorkspaceRow};

/// The most unchanged lines around a hunk a caller may ask for.
const MAX_CONTEXT: u32 = 10_000;

/// The most commits `filehistory` looks for.
const HISTORY_LIMIT: usize = 1_000;

/// What a spec names: the commit holding the changes, and the one it is compared with
/// (`None` for a root commit, compared with the empty tree).
struct Range {
    new: CommitInfo,
    old: Option<String>,
}

async fn resolve(
    state: &SharedState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    rev: &str,
) -> ApiResult<CommitInfo> {
    let (id, rev_owned) = (repo_id(ws, repo)?, rev.to_owned());
    git(&State(state.clone()), move |g| g.resolve(&id, &rev_owned))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Commit not found: \"{rev}\"")))
}

/// One side of a spec, without the `{workspace}/{repo}:` prefix Bitbucket's own pull request
/// diff links put before each commit (`acme/widgets:1a2b3c%0D4d5e6f`). Git refs cannot hold
/// a `:`, so one always starts such a prefix; it must name this repository, since comparing
/// with a fork is not supported.
fn side<'a>(ws: &WorkspaceRow, repo: &RepoRow, side: &'a str) -> ApiResult<&'a str> {
    let Some((owner, rev)) = side.split_once(':') else {
        return Ok(side);
    };
    let this = format!("{}/{}", ws.slug, repo.slug);
    if !owner.eq_ignore_ascii_case(&this) {
        return Err(ApiError::not_found(format!(
            "Repository '{owner}' in the spec is not '{this}': comparing across repositories is not supported"
        )));
    }
    Ok(rev)
}

/// Reads `a..b` (the changes of `a` compared with `b`; with `topic`, compared with their
/// merge base) or one commit (compared with its first parent). A carriage return (`%0D`)
/// separates the two commits as `..` does, and each may carry its repository
/// (`{workspace}/{repo}:{commit}`): the form of the links Bitbucket redirects a pull
/// request's diff to, which some clients build themselves.
async fn range(
    state: &SharedState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    spec: &str,
    topic: bool,
) -> ApiResult<Range> {
    let bad = || {
        ApiError::bad_request(format!("Invalid spec '{spec}'")).with_detail(
            "Give one commit, or two separated by `..` (the changes first, then the commit to compare them with).",
        )
    };
    if spec.contains("...") {
        return Err(bad());
    }
    match spec.split_once('\r').or_else(|| spec.split_once("..")) {
        Some((a, b)) => {
            let (a, b) = (side(ws, repo, a)?, side(ws, repo, b)?);
            if a.is_empty() || b.is_empty() {
                return Err(bad());
            }
            let new = resolve(state, ws, repo, a).await?;
            let old = resolve(state, ws, repo, b).await?;
            let old = if topic {
                let (id, x, y) = (repo_id(ws, repo)?, new.hash.clone(), old.hash.clone());
                git(&State(state.clone()), move |g| g.merge_base(&id, &x, &y))
                    .await?
                    .unwrap_or(old.hash)
            } else {
                old.hash
            };
            Ok(Range {
                new,
                old: Some(old),
            })
        }
        None => {
            let spec = side(ws, repo, spec)?;
            if spec.is_empty() {
                return Err(bad());
            }
            let new = resolve(state, ws, repo, spec).await?;
            let old = new.parents.first().cloned();
            Ok(Range { new, old })
        }
    }
}

fn flag(params: &Params, name: &str, default: bool) -> ApiResult<bool> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ApiError::bad_request(format!(
                "Invalid {name} '{v}': expected true or false"
            ))),
        },
    }
}

fn options(params: &Params) -> ApiResult<DiffOptions> {
    let context = match params.get("context") {
        None => 3,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_CONTEXT)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid context '{raw}': expected a number from 0 to {MAX_CONTEXT}"
                ))
            })?,
    };
    Ok(DiffOptions {
        context,
        ignore_whitespace: flag(params, "ignore_whitespace", false)?,
        paths: params
            .get_all("path")
            .into_iter()
            .map(str::to_owned)
            .collect(),
    })
}

async fn patches(
    state: &SharedState,
    caller: &Caller,
    workspace: &str,
    slug: &str,
    spec: &str,
    params: &Params,
) -> ApiResult<(WorkspaceRow, RepoRow, Range)> {
    let (ws, repo) = state.repo(caller, workspace, slug, Access::Read).await?;
    let range = range(state, &ws, &repo, spec, flag(params, "topic", true)?).await?;
    Ok((ws, repo, range))
}

/// What to answer with: the unified diff, the patch, or the diffstat page.
#[derive(Debug, Clone, Copy)]
enum Output {
    Diff,
    Patch,
    Diffstat,
}

/// Computes the diff of `range` and answers in the form `output` asks for.
async fn respond(
    state: &SharedState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    range: Range,
    params: &Params,
    output: Output,
) -> ApiResult<Response> {
    let options = options(params)?;
    let (id, old, new) = (
        repo_id(ws, repo)?,
        range.old.clone(),
        range.new.hash.clone(),
    );
    let files = git(&State(state.clone()), move |g| {
        g.diff(&id, old.as_deref(), &new, &options)
    })
    .await?;
    Ok(match output {
        Output::Diff => text(files.into_iter().map(|f| f.text).collect()),
        Output::Patch => text(patch_text(&range.new, files)),
        Output::Diffstat => {
            Json(diffstat_page(state, ws, repo, &range, &files, params)?).into_response()
        }
    })
}

fn text(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

pub async fn diff(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, spec)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let (ws, repo, range) = patches(&state, &caller, &workspace, &slug, &spec, &params).await?;
    respond(&state, &ws, &repo, range, &params, Output::Diff).await
}

/// A `git format-patch` style patch: the commit's header, then its diff.
pub async fn patch(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, spec)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let (ws, repo, range) = patches(&state, &caller, &workspace, &slug, &spec, &params).await?;
    respond(&state, &ws, &repo, range, &params, Output::Patch).await
}

fn patch_text(c: &CommitInfo, files: Vec<FilePatch>) -> String {
    let mut message = c.message.trim_end().lines();
    let subject = message.next().unwrap_or("");
    let body: Vec<&str> = message.collect();
    let date = time::OffsetDateTime::from_unix_timestamp(c.author.time)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default();
    let mut out = format!(
        "From {} Mon Sep 17 00:00:00 2001\nFrom: {} <{}>\nDate: {date}\nSubject: [PATCH] {subject}\n",
        c.hash, c.author.name, c.author.email
    );
    let body = body.join("\n");
    if !body.trim().is_empty() {
        out.push_str(&body);
        out.push('\n');
    }
    out.push_str("\n---\n\n");
    for f in files {
        out.push_str(&f.text);
    }
    out
}

fn side_value(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    hash: Option<&str>,
    side: Option<&FileSide>,
) -> Value {
    match (side, hash) {
        (Some(side), Some(hash)) => {
            let commit = short_commit(s, ws, repo, hash);
            let mut v = file_entry(s, ws, repo, hash, &side.path, None, &commit);
            if let Some(obj) = v.as_object_mut() {
                obj.remove("commit");
                let attribute = if side.link {
                    Some("link")
                } else if side.executable {
                    Some("executable")
                } else {
                    None
                };
                if let Some(a) = attribute {
                    obj.insert("attributes".into(), json!([a]));
                }
            }
            v
        }
        _ => Value::Null,
    }
}

pub async fn diffstat(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, spec)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let (ws, repo, range) = patches(&state, &caller, &workspace, &slug, &spec, &params).await?;
    respond(&state, &ws, &repo, range, &params, Output::Diffstat).await
}

fn diffstat_page(
    state: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    range: &Range,
    files: &[FilePatch],
    params: &Params,
) -> ApiResult<Value> {
    let items = files
        .iter()
        .map(|f| {
            let status = match (&f.old, &f.new) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "modified",
            };
            let mut v = json!({
                "type": "diffstat",
                "status": status,
                "lines_added": f.lines_added,
                "lines_removed": f.lines_removed,
            });
            // An added file has no `old` and a removed one no `new`: the keys are left out.
            let old = side_value(state, ws, repo, range.old.as_deref(), f.old.as_ref());
            let new = side_value(state, ws, repo, Some(&range.new.hash), f.new.as_ref());
            if let Some(obj) = v.as_object_mut() {
                for (key, side) in [("old", old), ("new", new)] {
                    if !side.is_null() {
                        obj.insert(key.into(), side);
                    }
                }
            }
            v
        })
        .collect();
    paginate(&state.origin, params, items, MAX_PAGELEN)
}

pub async fn merge_base(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, spec)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let (a, b) = spec
        .split_once("..")
        .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.starts_with('.'))
        .ok_or_else(|| {
            ApiError::bad_request(format!("Invalid revspec '{spec}'"))
                .with_detail("Give two commits separated by `..`.")
        })?;
    let one = resolve(&state, &ws, &repo, a).await?;
    let two = resolve(&state, &ws, &repo, b).await?;
    let id = repo_id(&ws, &repo)?;
    let base = git(&State(state.clone()), move |g| {
        match g.merge_base(&id, &one.hash, &two.hash)? {
            Some(hash) => g.commit(&id, &hash),
            None => Ok(None),
        }
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("No common ancestor for '{spec}'")))?;
    let users = state.all_users().await?;
    let mut v = render::commit(&state, &ws, &repo, &base);
    render::link_commit_authors(&mut v, &users, &state);
    Ok(Json(v))
}

pub async fn file_history(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, path)): P<(String, String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let start = resolve(&state, &ws, &repo, &commit).await?;
    let path = path.trim_matches('/').to_owned();
    let (id, hash, p) = (repo_id(&ws, &repo)?, start.hash.clone(), path.clone());
    let history = git(&State(state.clone()), move |g| {
        g.file_history(&id, &hash, &p, HISTORY_LIMIT)
    })
    .await?;
    if history.is_empty() {
        return Err(ApiError::not_found(format!(
            "No such file or directory: {path}"
        )));
    }
    let users = state.all_users().await?;
    let items = history
        .iter()
        .map(|(c, size)| {
            let mut commit = render::commit(&state, &ws, &repo, c);
            render::link_commit_authors(&mut commit, &users, &state);
            file_entry(&state, &ws, &repo, &c.hash, &path, *size, &commit)
        })
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}
