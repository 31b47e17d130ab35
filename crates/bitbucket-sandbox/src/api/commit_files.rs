//! `POST /repositories/{workspace}/{repo_slug}/src`: one commit made of uploaded files, as
//! Bitbucket takes it (multipart or urlencoded form; the meta fields may also come in the
//! query string).

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{git, repo_id};
use crate::error::{ApiError, ApiResult};
use crate::git::{FileChange, Signature};
use crate::paging::Params;
use crate::state::{Access, Caller, SharedState};

/// The message Bitbucket writes when the request gives none.
const DEFAULT_MESSAGE: &str = "Edited online with Bitbucket";

/// The largest urlencoded body taken; multipart bodies have axum's default limit.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Form fields that are meta data unless written with a leading slash.
const META: &[&str] = &["message", "author", "parents", "branch", "files"];

/// What a request asks for, before any of it is checked against the repository.
#[derive(Debug, Default)]
struct Upload {
    message: Option<String>,
    author: Option<String>,
    parents: Vec<String>,
    branch: Vec<String>,
    deletes: Vec<String>,
    files: Vec<(String, Vec<u8>, bool)>,
}

impl Upload {
    /// Sorts one field: meta data by name, anything else is a file at that path.
    fn field(
        &mut self,
        name: &str,
        value: Vec<u8>,
        is_file: bool,
        executable: bool,
    ) -> ApiResult<()> {
        if is_file || !META.contains(&name) {
            let path = name.trim_start_matches('/');
            if path.is_empty() {
                return Err(
                    ApiError::bad_request("A file field needs a path as its name")
                        .with_field("files", "Empty path."),
                );
            }
            self.files.push((path.to_owned(), value, executable));
            return Ok(());
        }
        let text = String::from_utf8(value)
            .map_err(|_| ApiError::bad_request(format!("The `{name}` field is not valid UTF-8")))?;
        match name {
            "message" => self.message = Some(text),
            "author" => self.author = Some(text),
            "parents" => self.parents.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            "branch" => self.branch.push(text),
            _ => self.deletes.push(text.trim_start_matches('/').to_owned()),
        }
        Ok(())
    }
}

/// What a request asks for, checked as far as it can be without the repository.
#[derive(Debug)]
pub(crate) struct Commit {
    branch: Option<String>,
    parent: Option<String>,
    /// `None`: the caller is the author.
    author: Option<(String, String)>,
    message: String,
    deletes: Vec<String>,
    files: Vec<(String, Vec<u8>, bool)>,
}

/// Reads the meta fields of the query string and the form in the body, and checks them.
pub(crate) async fn read<S: Send + Sync>(
    params: &Params,
    request: Request,
    state: &S,
) -> ApiResult<Commit> {
    let mut upload = Upload::default();
    for (key, value) in &params.pairs {
        if META.contains(&key.as_str()) {
            upload.field(key, value.clone().into_bytes(), false, false)?;
        }
    }
    read_form(state, request, &mut upload).await?;

    if upload.branch.len() > 1 {
        return Err(ApiError::bad_request("The branch field cannot be repeated")
            .with_field("branch", "Give one branch."));
    }
    if upload.parents.len() > 1 {
        return Err(
            ApiError::bad_request("Only a single parent commit is accepted")
                .with_field("parents", "Give one SHA1."),
        );
    }
    let author = upload.author.as_deref().map(parse_author).transpose()?;
    let message = upload
        .message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_MESSAGE.to_owned());
    let branch = upload.branch.pop().map(|b| b.trim().to_owned());
    let parent = upload.parents.pop();
    if branch.is_none() && upload.files.is_empty() && upload.deletes.is_empty() {
        return Err(
            ApiError::bad_request("Nothing to commit: give files to write or delete")
                .with_field("files", "No files."),
        );
    }
    Ok(Commit {
        branch,
        parent,
        author,
        message,
        deletes: upload.deletes,
        files: upload.files,
    })
}

pub async fn create(
    State(state): State<SharedState>,
    caller: Caller,
    super::P((workspace, slug)): super::P<(String, String)>,
    params: Params,
    request: Request,
) -> ApiResult<Response> {
    let (ws, repo) = state
        .repo(&caller, &workspace, &slug, Access::Write)
        .await?;
    let user = caller.require()?.clone();
    let Commit {
        branch: given_branch,
        parent,
        author,
        message,
        deletes,
        files,
    } = read(&params, request, &state).await?;
    let author = author.unwrap_or_else(|| (user.display_name.clone(), user.email.clone()));

    let id = repo_id(&ws, &repo)?;
    let main = repo.mainbranch.clone();
    let time = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = Signature::new(author.0, author.1, time);
    let commit = git(&State(state.clone()), move |g| {
        let branch = given_branch.unwrap_or_else(|| main.clone());
        let exists = g.branch(&id, &branch)?.is_some();
        // A new branch starts from the given parent, else from the main branch's tip (or as
        // the root commit of an empty repository).
        let parent = match parent {
            Some(p) => Some(p),
            None if !exists => g.branch(&id, &main)?.map(|b| b.target.hash),
            None => None,
        };
        let mut changes: Vec<FileChange<'_>> = deletes
            .iter()
            .filter(|d| !files.iter().any(|(p, _, _)| p == *d))
            .map(|path| FileChange::Delete { path })
            .collect();
        changes.extend(
            files
                .iter()
                .map(|(path, content, executable)| FileChange::Write {
                    path,
                    content,
                    executable: *executable,
                }),
        );
        g.commit_changes(
            &id,
            &branch,
            parent.as_deref(),
            &changes,
            &message,
            &signature,
        )
    })
    .await?;

    let location = state.api_url(&format!(
        "/repositories/{}/{}/commit/{}",
        ws.slug, repo.slug, commit.hash
    ));
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Reads a multipart or urlencoded body into `upload`; an empty body adds nothing.
async fn read_form<S: Send + Sync>(
    state: &S,
    request: Request,
    upload: &mut Upload,
) -> ApiResult<()> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, state).await.map_err(|e| {
            ApiError::bad_request(format!("Malformed multipart body: {}", e.body_text()))
        })?;
        while let Some(field) = form.next_field().await.map_err(|e| {
            ApiError::bad_request(format!("Malformed multipart body: {}", e.body_text()))
        })? {
            let disposition = field
                .headers()
                .get(header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let is_file = field.file_name().is_some();
            let executable = disposition.contains("executable");
            if disposition.contains("\"link\"") {
                return Err(ApiError::bad_request(
                    "Symbolic links cannot be uploaded to the sandbox",
                ));
            }
            let name = field
                .name()
                .map(str::to_owned)
                .ok_or_else(|| ApiError::bad_request("A multipart field has no name"))?;
            let bytes = field.bytes().await.map_err(|e| {
                ApiError::bad_request(format!("Malformed multipart body: {}", e.body_text()))
            })?;
            upload.field(&name, bytes.to_vec(), is_file, executable)?;
        }
        return Ok(());
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|e| ApiError::bad_request(format!("Could not read the body: {e}")))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if !content_type.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Unsupported content type '{content_type}': send multipart/form-data or application/x-www-form-urlencoded"
            ),
        ));
    }
    for (key, value) in url::form_urlencoded::parse(&body) {
        upload.field(&key, value.into_owned().into_bytes(), false, false)?;
    }
    Ok(())
}

/// Splits `Name <email>`.
fn parse_author(raw: &str) -> ApiResult<(String, String)> {
    let bad = || {
        ApiError::bad_request(format!("Invalid author '{raw}': expected `Name <email>`"))
            .with_field("author", "Expected `Name <email>`.")
    };
    let raw = raw.trim();
    let (name, rest) = raw.split_once('<').ok_or_else(bad)?;
    let email = rest.strip_suffix('>').ok_or_else(bad)?.trim();
    let name = name.trim();
    if name.is_empty() || email.is_empty() || email.contains(['<', '>']) {
        return Err(bad());
    }
    Ok((name.to_owned(), email.to_owned()))
}
