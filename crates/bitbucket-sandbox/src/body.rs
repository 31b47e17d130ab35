//! JSON request bodies, parsed so that malformed input becomes Bitbucket's error envelope
//! instead of axum's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// The body of a request to an endpoint that takes JSON. Bitbucket checks the content type of
/// such a body: one sent as a form, as XML or as plain text is refused with 415 rather than
/// read as JSON. An empty body needs no content type (bodiless POSTs are common).
#[derive(Debug)]
pub struct JsonBody(Bytes);

impl JsonBody {
    /// The body as `T`; see [`parse`].
    pub fn parse<T: DeserializeOwned>(&self) -> ApiResult<T> {
        parse(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<Self> {
        let declared = declares_json(request.headers());
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        match declared {
            Ok(()) => Ok(Self(bytes)),
            Err(_) if is_blank(&bytes) => Ok(Self(bytes)),
            Err(given) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported content type '{given}': this endpoint takes application/json"),
            )
            .with_detail("Send the body as JSON with `Content-Type: application/json`.")),
        }
    }
}

/// Whether the request says its body is JSON (`application/json`, or a `+json` type, with any
/// parameters); else the content type it gave, shortened for an error message.
fn declares_json(headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("(none)".to_owned());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        return Ok(());
    }
    Err(text.chars().take(100).collect())
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Parses a JSON body; an empty body counts as `{}` because Bitbucket accepts bodiless
/// POSTs where every field is optional.
fn parse<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    let bytes: &[u8] = if is_blank(body) { b"{}" } else { body };
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::bad_request(format!("Invalid request body: {e}"))
        } else {
            ApiError::bad_request("Malformed JSON in request body").with_detail(format!("{e}"))
        }
    })
}
