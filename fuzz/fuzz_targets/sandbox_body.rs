//! The sandbox's readers of request bodies: `POST /src`'s multipart and urlencoded forms (with
//! meta fields in the query string too) and the JSON body every other write takes.
//!
//! The input is `content type\nquery string\nbody`; the body may be any bytes.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
});

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let content_type = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default().to_vec();
    RUNTIME.block_on(async {
        if let Err(refusal) =
            bitbucket_sandbox::fuzzing::commit_form(&query, &content_type, body.clone()).await
        {
            // Bad input is the client's fault: a 4xx, never a 500.
            assert!(refusal.starts_with('4'), "{refusal}");
        }
        if let Err(refusal) = bitbucket_sandbox::fuzzing::json_body(&content_type, body).await {
            assert!(refusal.starts_with('4'), "{refusal}");
        }
    });
});
