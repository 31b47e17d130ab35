//! JSON request bodies, parsed so that malformed input becomes Bitbucket's error envelope
//! instead of axum's plain-text rejection.

use axum::body::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// Parses a JSON body; an empty body counts as `{}` because Bitbucket accepts bodiless
/// POSTs where every field is optional.
pub fn parse<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    let bytes: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::bad_request(format!("Invalid request body: {e}"))
        } else {
            ApiError::bad_request("Malformed JSON in request body").with_detail(format!("{e}"))
        }
    })
}
