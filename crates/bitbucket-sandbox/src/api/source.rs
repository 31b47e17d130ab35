//! Files, directories and commits: `src` and `commits`, read from the git repository.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::{P, SEGMENT, git, repo_id};
use crate::error::{ApiError, ApiResult};
use crate::git::{CommitInfo, EntryKind, PathContent};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::render;
use crate::state::{Access, AppState, Caller, SharedState};
use crate::store::{RepoRow, WorkspaceRow};

/// The most commits one listing walks; a sandbox repository is far smaller.
const LOG_LIMIT: usize = 10_000;

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

fn enc_path(path: &str) -> String {
    path.split('/').map(enc).collect::<Vec<_>>().join("/")
}

async fn resolve(
    state: &State<SharedState>,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    rev: &str,
) -> ApiResult<Option<CommitInfo>> {
    let (id, rev) = (repo_id(ws, repo)?, rev.to_owned());
    git(state, move |g| g.resolve(&id, &rev)).await
}

async fn commit_list(
    state: State<SharedState>,
    caller: Caller,
    workspace: String,
    slug: String,
    revision: Option<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    // Like `git log`: the revision and every `include`, minus everything reachable from any
    // `exclude`; with neither a revision nor an include, every branch and tag (`--all`).
    let mut includes: Vec<String> = revision.into_iter().collect();
    includes.extend(params.get_all("include").into_iter().map(str::to_owned));
    let mut starts = Vec::new();
    for rev in &includes {
        let commit = resolve(&state, &ws, &repo, rev)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("Commit or branch \"{rev}\" not found")))?;
        starts.push(commit.hash);
    }
    let mut excludes = Vec::new();
    for rev in params.get_all("exclude") {
        let commit = resolve(&state, &ws, &repo, rev)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("Commit or branch \"{rev}\" not found")))?;
        excludes.push(commit.hash);
    }
    let id = repo_id(&ws, &repo)?;
    let all_refs = includes.is_empty();
    let commits = git(&state, move |g| {
        if all_refs {
            for reference in g.branches(&id)?.into_iter().chain(g.tags(&id)?) {
                starts.push(reference.target.hash);
            }
        }
        let mut hidden = std::collections::HashSet::new();
        for exclude in &excludes {
            for c in g.log(&id, exclude, None, LOG_LIMIT, 0)? {
                hidden.insert(c.hash);
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for start in &starts {
            for c in g.log(&id, start, None, LOG_LIMIT, 0)? {
                if !hidden.contains(&c.hash) && seen.insert(c.hash.clone()) {
                    out.push(c);
                }
            }
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.committer.time));
        Ok(out)
    })
    .await?;
    let users = state.all_users().await?;
    let items = commits
        .iter()
        .map(|c| {
            let mut v = render::commit(&state, &ws, &repo, c);
            render::link_commit_authors(&mut v, &users, &state);
            v
        })
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn commits_default(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    commit_list(state, caller, workspace, slug, None, params).await
}

pub async fn commits(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, revision)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    commit_list(state, caller, workspace, slug, Some(revision), params).await
}

pub async fn get_commit(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, rev)): P<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let commit = resolve(&state, &ws, &repo, &rev)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Commit \"{rev}\" not found")))?;
    let users = state.all_users().await?;
    let mut v = render::commit(&state, &ws, &repo, &commit);
    render::link_commit_authors(&mut v, &users, &state);
    Ok(Json(v))
}

/// `GET /src` redirects to the main branch's head, as Bitbucket does.
pub async fn src_root_redirect(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug)): P<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let head = resolve(&state, &ws, &repo, &repo.mainbranch)
        .await?
        .ok_or_else(|| ApiError::not_found("Repository is empty"))?;
    let query = params
        .pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut target = state.api_url(&format!(
        "/repositories/{}/{}/src/{}/",
        ws.slug, repo.slug, head.hash
    ));
    if !query.is_empty() {
        target = format!("{target}?{query}");
    }
    Ok(Redirect::to(&target).into_response())
}

pub async fn src_root(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    src(
        state,
        caller,
        workspace,
        slug,
        commit,
        String::new(),
        params,
    )
    .await
}

pub async fn src_path(
    state: State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, path)): P<(String, String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    src(state, caller, workspace, slug, commit, path, params).await
}

/// Rejects paths that try to leave the tree; they never reach git.
fn check_path(path: &str) -> ApiResult<()> {
    let bad = path.contains('\0')
        || path.contains('\\')
        || path.split('/').any(|seg| seg == ".." || seg == ".");
    if bad {
        Err(ApiError::bad_request(format!("Invalid path '{path}'"))
            .with_detail("Paths are relative to the repository root and may not contain `.` or `..` segments."))
    } else {
        Ok(())
    }
}

async fn src(
    state: State<SharedState>,
    caller: Caller,
    workspace: String,
    slug: String,
    commit: String,
    path: String,
    params: Params,
) -> ApiResult<Response> {
    check_path(&commit)?;
    check_path(&path)?;
    let (ws, repo) = state.repo(&caller, &workspace, &slug, Access::Read).await?;
    let (target, path) = match resolve(&state, &ws, &repo, &commit).await? {
        Some(target) => (target, path),
        None => resolve_slashed(&state, &ws, &repo, &commit, &path)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!("Commit or branch \"{commit}\" not found"))
            })?,
    };
    let path = path.trim_matches('/').to_owned();
    let (id, hash, p) = (repo_id(&ws, &repo)?, target.hash.clone(), path.clone());
    let content = git(&state, move |g| g.read_path(&id, &hash, &p)).await?;
    let meta = params.get("format") == Some("meta");
    if let Some(format) = params.get("format")
        && !meta
    {
        return Err(ApiError::bad_request(format!(
            "Unsupported format '{format}': expected 'meta'"
        )));
    }
    let commit_value = short_commit(&state, &ws, &repo, &target.hash);
    match content {
        PathContent::Submodule { path, .. } => {
            let mut v = file_entry(&state, &ws, &repo, &target.hash, &path, None, &commit_value);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("attributes".into(), json!("subrepository"));
            }
            Ok(Json(v).into_response())
        }
        PathContent::NotFound => Err(ApiError::not_found(format!(
            "No such file or directory: {path}"
        ))),
        PathContent::File {
            bytes,
            size,
            executable,
            ..
        } if !meta => {
            let mime = if is_binary(&bytes) {
                "application/octet-stream".to_owned()
            } else {
                format!("{}; charset=utf-8", text_mime(&path))
            };
            let mut response = (StatusCode::OK, bytes).into_response();
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&mime) {
                headers.insert(header::CONTENT_TYPE, v);
            }
            headers.insert("x-file-size", HeaderValue::from(size));
            if executable {
                headers.insert("x-file-executable", HeaderValue::from_static("true"));
            }
            Ok(response)
        }
        PathContent::File {
            bytes,
            size,
            executable,
            ..
        } => {
            let mut v = file_entry(
                &state,
                &ws,
                &repo,
                &target.hash,
                &path,
                Some(size),
                &commit_value,
            );
            let attribute = if executable {
                Some("executable")
            } else if is_binary(&bytes) {
                Some("binary")
            } else {
                None
            };
            if let (Some(a), Some(obj)) = (attribute, v.as_object_mut()) {
                obj.insert("attributes".into(), json!(a));
            }
            Ok(Json(v).into_response())
        }
        PathContent::Dir { .. } if meta => Ok(Json(dir_entry(
            &state,
            &ws,
            &repo,
            &target.hash,
            &path,
            &commit_value,
        ))
        .into_response()),
        PathContent::Dir { entries, .. } => {
            let items = entries
                .iter()
                .map(|e| match e.kind {
                    EntryKind::Dir => {
                        dir_entry(&state, &ws, &repo, &target.hash, &e.path, &commit_value)
                    }
                    _ => {
                        let mut v = file_entry(
                            &state,
                            &ws,
                            &repo,
                            &target.hash,
                            &e.path,
                            e.size,
                            &commit_value,
                        );
                        let attribute = match e.kind {
                            EntryKind::Link => Some("link"),
                            EntryKind::Submodule => Some("subrepository"),
                            _ => None,
                        };
                        if let (Some(a), Some(obj)) = (attribute, v.as_object_mut()) {
                            obj.insert("attributes".into(), json!(a));
                        }
                        v
                    }
                })
                .collect();
            Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?).into_response())
        }
    }
}

/// A branch named like `feature/login` arrives split across the commit and path segments;
/// find the longest prefix of the path that names a ref.
async fn resolve_slashed(
    state: &State<SharedState>,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    commit: &str,
    path: &str,
) -> ApiResult<Option<(CommitInfo, String)>> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for split in (1..=segments.len()).rev() {
        let candidate = format!("{commit}/{}", segments[..split].join("/"));
        if let Some(found) = resolve(state, ws, repo, &candidate).await? {
            return Ok(Some((found, segments[split..].join("/"))));
        }
    }
    Ok(None)
}

pub(super) fn short_commit(s: &AppState, ws: &WorkspaceRow, repo: &RepoRow, hash: &str) -> Value {
    json!({
        "type": "commit",
        "hash": hash,
        "links": {
            "self": { "href": s.api_url(&format!("/repositories/{}/{}/commit/{hash}", ws.slug, repo.slug)) },
            "html": { "href": s.html_url(&format!("/{}/{}/commits/{hash}", ws.slug, repo.slug)) },
        },
    })
}

fn src_url(s: &AppState, ws: &WorkspaceRow, repo: &RepoRow, hash: &str, path: &str) -> String {
    s.api_url(&format!(
        "/repositories/{}/{}/src/{hash}/{}",
        ws.slug,
        repo.slug,
        enc_path(path)
    ))
}

pub(super) fn file_entry(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    hash: &str,
    path: &str,
    size: Option<u64>,
    commit: &Value,
) -> Value {
    let url = src_url(s, ws, repo, hash, path);
    let mut v = json!({
        "type": "commit_file",
        "path": path,
        "escaped_path": path,
        "commit": commit,
        "links": {
            "self": { "href": url },
            "meta": { "href": format!("{url}?format=meta") },
            "history": { "href": s.api_url(&format!("/repositories/{}/{}/filehistory/{hash}/{}", ws.slug, repo.slug, enc_path(path))) },
        },
    });
    if let (Some(size), Some(obj)) = (size, v.as_object_mut()) {
        obj.insert("size".into(), json!(size));
        obj.insert("mimetype".into(), json!(text_mime(path)));
    }
    v
}

fn dir_entry(
    s: &AppState,
    ws: &WorkspaceRow,
    repo: &RepoRow,
    hash: &str,
    path: &str,
    commit: &Value,
) -> Value {
    let url = format!(
        "{}/",
        src_url(s, ws, repo, hash, path).trim_end_matches('/')
    );
    json!({
        "type": "commit_directory",
        "path": path,
        "commit": commit,
        "links": {
            "self": { "href": url },
            "meta": { "href": format!("{url}?format=meta") },
        },
    })
}

fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8000).any(|b| *b == 0) || std::str::from_utf8(bytes).is_err()
}

fn text_mime(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("md" | "markdown") => "text/markdown",
        Some("html" | "htm") => "text/html",
        Some("json") => "application/json",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        _ => "text/plain",
    }
}
