//! The sandbox's readers of request bodies: `POST /src`'s multipart and urlencoded forms (with
//! meta fields in the query string too) and the JSON body every other write takes.
//!
//! The input is `content type\nquery string\nbody`; the body may be any bytes. A content type
//! or query that no HTTP request could carry is skipped: hyper refuses it before us.

#![no_main]

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Request;
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
});

fn request(content_type: &str, query: &str, body: &[u8]) -> Option<Request> {
    let mut builder = Request::post(format!("/2.0/repositories/acme/widgets/src?{query}"));
    if !content_type.is_empty() {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Body::from(body.to_vec())).ok()
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let content_type = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default();
    let Some(form) = request(&content_type, &query, body) else {
        return;
    };
    let Some(json) = request(&content_type, &query, body) else {
        return;
    };
    RUNTIME.block_on(async {
        // Bad input is the client's fault: a 4xx, never a 500.
        if let Err((status, message)) = bitbucket_sandbox::fuzzing::commit_form(form).await {
            assert!((400..500).contains(&status), "{status} {message}");
        }
        if let Err((status, message)) = bitbucket_sandbox::fuzzing::json_body(json).await {
            assert!((400..500).contains(&status), "{status} {message}");
        }
    });
});
