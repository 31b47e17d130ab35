//! The pieces both providers share: SSE frames written with pauses, stalls, and error replies.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

/// One SSE frame, written as one or two writes.
#[derive(Debug, Clone)]
pub struct Frame {
    text: String,
    split: bool,
    /// Carries text or tool-call arguments (what `stall_after` counts).
    content: bool,
}

impl Frame {
    pub fn data(v: &Value) -> Self {
        Self::raw(&format!("data: {v}\n\n"))
    }

    pub fn event(name: &str, v: &Value) -> Self {
        Self::raw(&format!("event: {name}\ndata: {v}\n\n"))
    }

    pub fn raw(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            split: false,
            content: false,
        }
    }

    /// Marks a frame that carries text or tool-call arguments.
    pub fn content(mut self) -> Self {
        self.content = true;
        self
    }

    /// Writes the frame in two halves, as a slow network would deliver it.
    pub fn split_across_writes(mut self) -> Self {
        self.split = true;
        self
    }

    fn writes(self) -> Vec<Bytes> {
        if !self.split {
            return vec![Bytes::from(self.text)];
        }
        let mut mid = self.text.len() / 2;
        while !self.text.is_char_boundary(mid) {
            mid -= 1;
        }
        let (a, b) = self.text.split_at(mid);
        vec![Bytes::from(a.to_owned()), Bytes::from(b.to_owned())]
    }
}

/// Splits a string into three pieces at character boundaries (some may be empty).
pub fn split_in_three(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let third = chars.len() / 3;
    let cuts = [0, third, 2 * third, chars.len()];
    cuts.windows(2)
        .map(|w| chars[w[0]..w[1]].iter().collect())
        .filter(|p: &String| !p.is_empty())
        .collect()
}

/// An error answer in the provider's format.
#[derive(Debug, Clone)]
pub struct ErrorReply {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl IntoResponse for ErrorReply {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body.to_string(),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// How a stream is played.
pub struct Playback {
    pub delay: Duration,
    /// Content frames to send before stalling; `None` sends everything.
    pub stall_after: Option<usize>,
    /// Counts streams the client dropped before their end.
    pub abandoned: Arc<AtomicUsize>,
}

/// Counts the stream as abandoned if it is dropped before its last write.
struct EndGuard {
    finished: bool,
    abandoned: Arc<AtomicUsize>,
}

impl EndGuard {
    fn disarm(&mut self) {
        self.finished = true;
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

pub fn sse(frames: Vec<Frame>, playback: Playback) -> Response {
    let total = frames.len();
    let send = match playback.stall_after {
        None => total,
        // Everything before the first content frame past the limit.
        Some(limit) => {
            let mut seen = 0;
            frames
                .iter()
                .position(|f| {
                    seen += usize::from(f.content);
                    f.content && seen > limit
                })
                .unwrap_or(total)
        }
    };
    let stalls = send < total;
    let writes: Vec<Bytes> = frames
        .into_iter()
        .take(send)
        .flat_map(Frame::writes)
        .collect();
    let guard = EndGuard {
        finished: false,
        abandoned: playback.abandoned,
    };
    let delay = playback.delay;
    let stream = futures::stream::unfold(
        (writes.into_iter(), guard),
        move |(mut writes, mut guard)| async move {
            match writes.next() {
                Some(bytes) => {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    Some((Ok::<_, Infallible>(bytes), (writes, guard)))
                }
                None if stalls => {
                    // Keep the connection open until the client gives up; the guard then counts it.
                    std::future::pending::<()>().await;
                    None
                }
                None => {
                    guard.disarm();
                    None
                }
            }
        },
    );
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
