//! The sandbox's one error type, rendered as Bitbucket's error envelope.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// An error answer: a status and Bitbucket's `{"type":"error","error":{...}}` body.
///
/// Every failure of a handler, of request parsing (malformed JSON, bad query parameters) and
/// of routing (unknown paths) goes through this type, so a client never sees a plain-text
/// error. Internal causes are logged, not sent.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub detail: Option<String>,
    /// Boxed: rare, and large enough to bloat every `Result` otherwise.
    pub fields: Option<Box<Map<String, Value>>>,
    /// Seconds for a `Retry-After` header (429 answers).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            detail: None,
            fields: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized").with_detail(
            "Provide valid credentials: HTTP Basic with your email and API token, or a Bearer token.",
        )
    }

    /// A 500 whose cause is logged but not revealed to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Marks one request field as the culprit, as Bitbucket does for validation errors.
    pub fn with_field(mut self, field: &str, problem: impl Into<String>) -> Self {
        self.fields
            .get_or_insert_with(Box::default)
            .insert(field.to_owned(), json!([problem.into()]));
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("message".into(), Value::String(self.message.clone()));
        if let Some(detail) = &self.detail {
            error.insert("detail".into(), Value::String(detail.clone()));
        }
        if let Some(fields) = &self.fields {
            error.insert("fields".into(), Value::Object((**fields).clone()));
        }
        json!({ "type": "error", "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Bitbucket.org HTTP\""),
            );
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal(format_args!("database: {err}"))
    }
}

impl From<crate::git::GitError> for ApiError {
    fn from(err: crate::git::GitError) -> Self {
        use crate::git::GitError as G;
        match &err {
            G::InvalidRefName { .. }
            | G::InvalidPath { .. }
            | G::InvalidRepoName { .. }
            | G::InvalidSignature { .. }
            | G::NothingChanged { .. }
            | G::MergeConflict { .. }
            | G::NotFastForward { .. } => Self::bad_request(err.to_string()),
            G::NotFound { .. } => Self::not_found(err.to_string()),
            G::RefExists { .. }
            | G::RefConflict { .. }
            | G::BranchMoved { .. }
            | G::RepoExists { .. } => Self::new(StatusCode::CONFLICT, err.to_string()),
            G::Io { .. } | G::Other { .. } => {
                // The gix cause sits in `source()`; log the whole chain, send none of it.
                let mut chain = err.to_string();
                let mut cause = std::error::Error::source(&err);
                while let Some(c) = cause {
                    chain.push_str(": ");
                    chain.push_str(&c.to_string());
                    cause = c.source();
                }
                Self::internal(format_args!("git: {chain}"))
            }
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::internal(format_args!("task: {err}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
