//! Starting sandboxes and talking to them.

use bitbucket_sandbox::{Sandbox, SandboxConfig};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tempfile::TempDir;

pub struct Running {
    pub sandbox: Sandbox,
    pub dir: TempDir,
    pub http: reqwest::Client,
}

pub async fn start() -> Running {
    start_with(|config| config).await
}

/// A sandbox with settings of the test's own.
pub async fn start_with(settings: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(settings(SandboxConfig::new(dir.path())))
        .await
        .expect("sandbox starts");
    Running {
        sandbox,
        dir,
        http: reqwest::Client::new(),
    }
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// A request as the demo user (HTTP Basic with email and API token).
    pub fn demo(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .basic_auth("demo@example.com", Some("sandbox-token"))
    }

    pub fn as_user(&self, method: Method, path: &str, bearer: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(bearer)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.demo(Method::GET, path).send().await.expect("request");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("json body")
    }

    /// Commits files (path, content) on `branch` through `POST src`, as the demo user.
    pub async fn commit(&self, repo: &str, branch: &str, files: &[(&str, &str)]) {
        let mut form = vec![("message", "test commit"), ("branch", branch)];
        form.extend_from_slice(files);
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .demo(Method::POST, &format!("{repo}/src"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 201, "commit on {branch}");
    }

    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .demo(method, path)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body ({e}): {text}"))
        };
        (status, value)
    }
}

/// Asserts Bitbucket's error envelope and returns its message.
pub fn error_message(body: &Value) -> String {
    assert_eq!(body["type"], "error", "not an error envelope: {body}");
    body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error without message: {body}"))
        .to_owned()
}

impl Running {
    /// Sends a GET with the path exactly as given, bypassing URL normalisation (which would
    /// resolve `..` before it ever left the client).
    pub async fn raw_get(&self, path: &str) -> (u16, Value) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(self.sandbox.addr())
            .await
            .expect("connect");
        let request = format!(
            "GET /2.0{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer sandbox-token\r\nConnection: close\r\n\r\n",
            self.sandbox.addr()
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        let text = String::from_utf8_lossy(&response);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        (
            status,
            serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
        )
    }
}
