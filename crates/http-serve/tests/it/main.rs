//! The limits, against a real server on loopback with short timeouts.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::{get, post};
use http_serve::{Limits, Serving, is_body_timeout};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Generous: every limit in these tests is 200 ms.
const CLOSED_WITHIN: Duration = Duration::from_secs(5);

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(800)).await;
                "done"
            }),
        )
        .route(
            "/forever",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "never"
            }),
        )
        .route(
            "/echo",
            post(|request: Request| async move {
                match axum::body::to_bytes(request.into_body(), 1024).await {
                    Ok(bytes) => (StatusCode::OK, bytes.len().to_string()),
                    Err(e) if is_body_timeout(&e) => (StatusCode::REQUEST_TIMEOUT, e.to_string()),
                    Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
                }
            }),
        )
}

async fn serve(limits: Limits) -> (SocketAddr, Serving) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serving = Serving::spawn(listener, app(), limits, CancellationToken::new());
    (addr, serving)
}

fn short() -> Limits {
    Limits::default()
        .with_header_timeout(Duration::from_millis(200))
        .with_body_timeout(Duration::from_millis(200))
}

/// Reads until the server closes the connection; what it said first, if anything.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(CLOSED_WITHIN, stream.read_to_end(&mut seen)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn half_sent_headers_are_closed_after_the_header_timeout() {
    let (addr, _serving) = serve(short()).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .expect("write");
    let said = read_until_closed(&mut stream).await;
    assert!(!said.contains("hello"), "{said}");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_too() {
    let (addr, _serving) = serve(short()).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let said = read_until_closed(&mut stream).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    assert!(said.ends_with("hello"), "{said}");
}

#[tokio::test]
async fn a_slow_body_is_refused_and_closed_after_the_body_timeout() {
    let (addr, _serving) = serve(short()).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789",
        )
        .await
        .expect("write");
    let said = read_until_closed(&mut stream).await;
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("did not arrive within 0.2s"), "{said}");
}

#[tokio::test]
async fn a_complete_body_is_read() {
    let (addr, _serving) = serve(short()).await;
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/echo"))
        .body("0123456789")
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.expect("body"), "10");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let limits = Limits::default()
        .with_header_timeout(Duration::from_secs(60))
        .with_max_connections(2);
    let (addr, _serving) = serve(limits).await;
    let held = [
        TcpStream::connect(addr).await.expect("connect"),
        TcpStream::connect(addr).await.expect("connect"),
    ];
    // Let the server take both before the third arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(addr).await.expect("connect");
    third
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut first)).await;
    assert!(
        early.is_err(),
        "a third connection was served beyond the cap of two"
    );
    drop(held);
    let mut said = Vec::new();
    tokio::time::timeout(CLOSED_WITHIN, third.read_to_end(&mut said))
        .await
        .expect("the waiting connection was not served once a slot freed")
        .expect("read");
    let said = String::from_utf8_lossy(&said);
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test]
async fn many_slow_clients_do_not_stop_the_server() {
    let limits = short().with_max_connections(4);
    let (addr, _serving) = serve(limits).await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await;
        slow.push(stream);
    }
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        reqwest::get(format!("http://{addr}/")),
    )
    .await
    .expect("the server stopped answering")
    .expect("request");
    assert_eq!(answer.text().await.expect("body"), "hello");
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let (addr, mut serving) = serve(short()).await;
    assert_eq!(
        reqwest::get(format!("http://{addr}/"))
            .await
            .expect("request")
            .status(),
        200
    );
    tokio::time::timeout(CLOSED_WITHIN, serving.shutdown())
        .await
        .expect("shutdown hung");
    assert!(reqwest::get(format!("http://{addr}/")).await.is_err());
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight_and_refuses_new_connections() {
    let (addr, mut serving) = serve(short().with_drain_timeout(Duration::from_secs(10))).await;
    let in_flight = tokio::spawn(reqwest::get(format!("http://{addr}/slow")));
    // Let the request reach the handler before shutting down.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shutdown = tokio::spawn(async move { serving.shutdown().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = TcpStream::connect(addr).await;
    assert!(
        refused.is_err(),
        "a new connection was accepted while draining"
    );
    let answer = in_flight
        .await
        .expect("task")
        .expect("the answer in flight");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.expect("body"), "done");
    tokio::time::timeout(CLOSED_WITHIN, shutdown)
        .await
        .expect("shutdown hung")
        .expect("task");
}

#[tokio::test]
async fn shutdown_closes_what_is_still_busy_after_the_drain_timeout() {
    let (addr, mut serving) = serve(short().with_drain_timeout(Duration::from_millis(300))).await;
    let in_flight = tokio::spawn(reqwest::get(format!("http://{addr}/forever")));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(CLOSED_WITHIN, serving.shutdown())
        .await
        .expect("shutdown waited beyond the drain timeout");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "shutdown did not wait for the drain timeout: {:?}",
        started.elapsed()
    );
    let cut = tokio::time::timeout(CLOSED_WITHIN, in_flight)
        .await
        .expect("the busy connection was left open")
        .expect("task");
    assert!(cut.is_err(), "{cut:?}");
}
