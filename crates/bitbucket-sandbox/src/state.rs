//! Shared server state and the lookups every handler needs: who is calling, and which
//! workspace or repository they may see.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ApiError, ApiResult};
use crate::faults::Faults;
use crate::git::GitStore;
use crate::store::{RepoRow, Store, UserRow, WorkspaceRow};

/// Everything a request handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub git: GitStore,
    /// `scheme://host:port` of this server, used to build `links`.
    pub origin: String,
    pub faults: Faults,
    /// Requests seen, faults included; tests use it to count a client's attempts.
    pub requests: AtomicU64,
    /// How long an OAuth access token lives.
    pub oauth_token_ttl: std::time::Duration,
    /// OAuth consent pages waiting for a decision.
    pub oauth_tickets: crate::api::oauth::Tickets,
    /// Pipeline runs: whether steps run, and the runs in flight.
    pub pipelines: crate::pipelines::Runner,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn api_url(&self, path: &str) -> String {
        format!("{}/2.0{path}", self.origin)
    }

    pub fn html_url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    pub async fn user_by_id(&self, id: i64) -> ApiResult<UserRow> {
        self.store
            .user_by_id(id)
            .await?
            .ok_or_else(|| ApiError::internal(format_args!("user {id} vanished")))
    }

    pub async fn all_users(&self) -> ApiResult<Vec<UserRow>> {
        Ok(self.store.all_users().await?)
    }

    /// Finds a user by username, `{uuid}`, account id or email.
    pub async fn find_user(&self, key: &str) -> ApiResult<Option<UserRow>> {
        Ok(self.store.find_user(key).await?)
    }

    pub async fn workspace_by_id(&self, id: i64) -> ApiResult<WorkspaceRow> {
        self.store
            .workspace_by_id(id)
            .await?
            .ok_or_else(|| ApiError::internal(format_args!("workspace {id} vanished")))
    }

    /// The caller's permission in a workspace (`owner`, `collaborator` or `member`).
    pub async fn permission(&self, workspace_id: i64, user: &UserRow) -> ApiResult<Option<String>> {
        Ok(self.store.permission(workspace_id, user.id).await?)
    }

    /// Resolves a workspace by slug or `{uuid}` and checks that the caller may see it.
    pub async fn workspace(&self, caller: &Caller, key: &str) -> ApiResult<WorkspaceRow> {
        let Some(workspace) = self.store.workspace_by_key(key).await? else {
            return Err(ApiError::not_found(format!(
                "No workspace with identifier '{key}'."
            )));
        };
        let user = caller.require()?;
        if self.permission(workspace.id, user).await?.is_none() {
            return Err(not_a_member(&workspace.slug));
        }
        Ok(workspace)
    }

    /// Resolves `workspace/repo_slug` and checks the caller's access for `need`.
    pub async fn repo(
        &self,
        caller: &Caller,
        workspace: &str,
        slug: &str,
        need: Access,
    ) -> ApiResult<(WorkspaceRow, RepoRow)> {
        let Some(repo) = self.store.repo_by_key(workspace, slug).await? else {
            return Err(ApiError::not_found(format!(
                "Repository {workspace}/{slug} not found"
            )));
        };
        let ws = self.workspace_by_id(repo.workspace_id).await?;
        let public_read = !repo.is_private && need == Access::Read;
        if public_read {
            return Ok((ws, repo));
        }
        let user = caller.require()?;
        let Some(permission) = self.permission(ws.id, user).await? else {
            return Err(not_a_member(&ws.slug));
        };
        if need == Access::Admin && permission != "owner" {
            return Err(ApiError::forbidden(format!(
                "You need admin access to {}/{} to do this.",
                ws.slug, repo.slug
            )));
        }
        Ok((ws, repo))
    }
}

fn not_a_member(workspace: &str) -> ApiError {
    ApiError::forbidden(format!(
        "You do not have access to the workspace '{workspace}'."
    ))
    .with_detail("Only members of a workspace can see its private resources.")
}

/// What a request needs to do with a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Admin,
}

/// The authenticated user, if any. Wrong credentials are rejected while extracting, so a
/// handler only ever sees a valid user or an anonymous caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<UserRow>);

impl Caller {
    pub fn require(&self) -> ApiResult<&UserRow> {
        self.0.as_ref().ok_or_else(ApiError::unauthorized)
    }
}

impl FromRequestParts<SharedState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> ApiResult<Self> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let header = header.to_str().map_err(|_| ApiError::unauthorized())?;
        let (scheme, value) = header.split_once(' ').ok_or_else(ApiError::unauthorized)?;
        let value = value.trim();
        let user = if let Some(crate::api::oauth::OAuthUser(user)) = parts.extensions.get() {
            Some(user.clone())
        } else if scheme.eq_ignore_ascii_case("bearer") {
            state.store.user_by_token(value).await?
        } else if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value)
                .map_err(|_| ApiError::unauthorized())?;
            let decoded = String::from_utf8(decoded).map_err(|_| ApiError::unauthorized())?;
            let (login, token) = decoded.split_once(':').ok_or_else(ApiError::unauthorized)?;
            state.store.user_by_login(login, token).await?
        } else {
            None
        };
        match user {
            Some(user) => Ok(Caller(Some(user))),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// Now, in Bitbucket's timestamp format (`2026-01-10T09:00:00.123456+00:00`).
pub fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Formats a unix time (seconds) as Bitbucket does for commit dates.
pub fn unix_timestamp(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| {
            let t = t.to_offset(time::UtcOffset::UTC);
            t.format(&Rfc3339).unwrap_or_else(|_| timestamp(t))
        })
        .unwrap_or_else(|_| "1970-01-01T00:00:00+00:00".into())
}

pub fn new_uuid() -> String {
    format!("{{{}}}", uuid::Uuid::new_v4())
}
