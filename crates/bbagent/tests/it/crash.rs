//! Crash safety: the sandbox killed with SIGKILL in the middle of concurrent writes restarts on
//! the same folder with every acknowledged write there, nothing half written, issue ids in
//! sequence and every git repository sound.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::{Running, command, files_under, serve};

const REPO: &str = "/repositories/acme/widgets";
/// Writers at once, and the acknowledged writes to wait for before the kill.
const WRITERS: usize = 6;
const ACKED_BEFORE_KILL: usize = 40;

/// A running `bbagent sandbox` on `dir/data` and its base URL.
fn start(dir: &Path) -> (Running, String) {
    let mut cmd = command(dir);
    cmd.args(["sandbox", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .stderr(Stdio::null());
    serve(cmd)
}

/// Waits until `count` acknowledged writes, then kills `server` with SIGKILL (writes are in
/// flight: nothing gets a chance to finish) and waits for the writers to notice.
async fn kill_amid(
    server: &mut Running,
    count: &AtomicUsize,
    at_least: usize,
    writers: Vec<tokio::task::JoinHandle<()>>,
) {
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while count.load(Ordering::SeqCst) < at_least {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    server.0.kill().expect("kill");
    server.0.wait().expect("wait");
    assert!(
        waited.is_ok(),
        "the writers made too little progress to test a crash"
    );
    for writer in writers {
        writer.await.expect("writer");
    }
}

/// What the sandbox answered 2xx to, in full: it must survive the crash.
#[derive(Debug, Default)]
struct Acked {
    /// (id, title)
    issues: Vec<(u64, String)>,
    /// (issue, comment id, text)
    issue_comments: Vec<(u64, u64, String)>,
    branches: Vec<String>,
    /// (commit, path, content)
    commits: Vec<(String, String, String)>,
    /// (comment id, text)
    pr_comments: Vec<(u64, String)>,
}

struct Writer {
    http: reqwest::Client,
    base: String,
}

impl Writer {
    async fn send(&self, method: Method, path: &str, body: Value) -> Option<Response> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth("demo@example.com", Some("sandbox-token"))
            .json(&body)
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(response)
    }

    /// A JSON answer read in full, or nothing (refused, or cut off by the kill).
    async fn json(&self, path: &str, body: Value) -> Option<Value> {
        self.send(Method::POST, path, body).await?.json().await.ok()
    }

    /// `POST /src` as a form, as Bitbucket takes it; the new commit's hash.
    async fn commit(&self, branch: &str, path: &str, content: &str) -> Option<String> {
        let mut form = reqwest::Url::parse("form:/").expect("url");
        form.query_pairs_mut()
            .append_pair("message", &format!("Write {path}"))
            .append_pair("branch", branch)
            .append_pair(path, content);
        let response = self
            .http
            .post(format!("{}{REPO}/src", self.base))
            .basic_auth("demo@example.com", Some("sandbox-token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.query().unwrap_or_default().to_owned())
            .send()
            .await
            .ok()?;
        if response.status() != StatusCode::CREATED {
            return None;
        }
        let location = response
            .headers()
            .get("location")?
            .to_str()
            .ok()?
            .to_owned();
        response.bytes().await.ok()?;
        location.rsplit('/').next().map(str::to_owned)
    }
}

/// One writer's loop: issues, comments, branches, file commits and PR comments in turn,
/// until the sandbox stops answering.
async fn write_until_killed(
    k: usize,
    writer: Writer,
    acked: Arc<Mutex<Acked>>,
    count: Arc<AtomicUsize>,
) {
    let branch = format!("crash/w{k}");
    let mut failures = 0;
    for n in 0.. {
        let done = match n % 5 {
            0 => {
                let title = format!("crash issue w{k}-{n}");
                match writer
                    .json(&format!("{REPO}/issues"), json!({"title": title}))
                    .await
                {
                    Some(issue) => {
                        let id = issue["id"].as_u64().expect("issue id");
                        acked.lock().await.issues.push((id, title));
                        true
                    }
                    None => false,
                }
            }
            1 => {
                let text = format!("crash comment w{k}-{n}");
                let body = json!({"content": {"raw": text}});
                match writer
                    .json(&format!("{REPO}/issues/1/comments"), body)
                    .await
                {
                    Some(comment) => {
                        let id = comment["id"].as_u64().expect("comment id");
                        acked.lock().await.issue_comments.push((1, id, text));
                        true
                    }
                    None => false,
                }
            }
            2 => {
                let name = format!("crash/b{k}-{n}");
                let body = json!({"name": name, "target": {"hash": "main"}});
                match writer.json(&format!("{REPO}/refs/branches"), body).await {
                    Some(_) => {
                        acked.lock().await.branches.push(name);
                        true
                    }
                    None => false,
                }
            }
            3 => {
                let (path, content) = (format!("crash/w{k}-{n}.txt"), format!("written {n}\n"));
                match writer.commit(&branch, &path, &content).await {
                    Some(hash) => {
                        acked.lock().await.commits.push((hash, path, content));
                        true
                    }
                    None => false,
                }
            }
            _ => {
                let text = format!("crash review w{k}-{n}");
                let body = json!({"content": {"raw": text}});
                match writer
                    .json(&format!("{REPO}/pullrequests/1/comments"), body)
                    .await
                {
                    Some(comment) => {
                        let id = comment["id"].as_u64().expect("comment id");
                        acked.lock().await.pr_comments.push((id, text));
                        true
                    }
                    None => false,
                }
            }
        };
        if done {
            count.fetch_add(1, Ordering::SeqCst);
            failures = 0;
        } else {
            failures += 1;
            // Refused writes happen (two writers' commits on one branch never do, but a
            // write can lose a race); the sandbox being gone shows as a run of failures.
            if failures > 20 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Every bare git repository under `dir`: the folders named `*.git` that hold a `HEAD`.
fn repositories(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.ends_with("HEAD"))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .filter(|d| d.extension().is_some_and(|e| e == "git"))
        .collect()
}

async fn get(http: &reqwest::Client, base: &str, path: &str) -> (StatusCode, Value) {
    let response = http
        .get(format!("{base}{path}"))
        .basic_auth("demo@example.com", Some("sandbox-token"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_killed_mid_write_restarts_with_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, base) = start(dir.path());
    let acked = Arc::new(Mutex::new(Acked::default()));
    let count = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|k| {
            let writer = Writer {
                http: reqwest::Client::new(),
                base: base.clone(),
            };
            tokio::spawn(write_until_killed(k, writer, acked.clone(), count.clone()))
        })
        .collect();
    kill_amid(&mut server, &count, ACKED_BEFORE_KILL, writers).await;
    let acked = std::mem::take(&mut *acked.lock().await);
    eprintln!(
        "acknowledged before the kill: {} issues, {} issue comments, {} branches, {} commits, {} PR comments",
        acked.issues.len(),
        acked.issue_comments.len(),
        acked.branches.len(),
        acked.commits.len(),
        acked.pr_comments.len()
    );
    assert!(
        !acked.issues.is_empty() && !acked.commits.is_empty() && !acked.branches.is_empty(),
        "each kind of write was acknowledged at least once: {acked:?}"
    );

    // The same folder: the dead process's lock does not keep it busy.
    let (server, base) = start(dir.path());
    let http = reqwest::Client::new();
    for (id, title) in &acked.issues {
        let (status, issue) = get(&http, &base, &format!("{REPO}/issues/{id}")).await;
        assert_eq!(status, StatusCode::OK, "acknowledged issue #{id} is lost");
        assert_eq!(issue["title"], json!(title));
    }
    for (issue, id, text) in &acked.issue_comments {
        let (status, comment) = get(
            &http,
            &base,
            &format!("{REPO}/issues/{issue}/comments/{id}"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "acknowledged issue comment {id} is lost"
        );
        assert_eq!(comment["content"]["raw"], json!(text));
    }
    for (id, text) in &acked.pr_comments {
        let (status, comment) = get(
            &http,
            &base,
            &format!("{REPO}/pullrequests/1/comments/{id}"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "acknowledged PR comment {id} is lost"
        );
        assert_eq!(comment["content"]["raw"], json!(text));
    }
    for name in &acked.branches {
        let (status, _) = get(&http, &base, &format!("{REPO}/refs/branches/{name}")).await;
        assert_eq!(status, StatusCode::OK, "acknowledged branch {name} is lost");
    }
    for (hash, path, content) in &acked.commits {
        let (status, file) = get(&http, &base, &format!("{REPO}/src/{hash}/{path}")).await;
        assert_eq!(status, StatusCode::OK, "acknowledged commit {hash} is lost");
        assert_eq!(file, Value::String(content.clone()));
    }

    // Issue ids run 1..=n with no gap, every issue whole; the next one is n + 1.
    let mut ids = Vec::new();
    let mut next = Some(format!("{base}{REPO}/issues?pagelen=100&sort=id"));
    while let Some(url) = next {
        let page: Value = http
            .get(&url)
            .basic_auth("demo@example.com", Some("sandbox-token"))
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        for issue in page["values"].as_array().expect("values") {
            assert!(
                issue["title"].as_str().is_some_and(|t| !t.is_empty()),
                "half-written issue: {issue}"
            );
            ids.push(issue["id"].as_u64().expect("id"));
        }
        next = page["next"].as_str().map(str::to_owned);
    }
    ids.sort_unstable();
    let n = ids.len() as u64;
    assert_eq!(ids, (1..=n).collect::<Vec<_>>(), "issue ids in sequence");
    let writer = Writer {
        http: http.clone(),
        base: base.clone(),
    };
    let issue = writer
        .json(
            &format!("{REPO}/issues"),
            json!({"title": "after the crash"}),
        )
        .await
        .expect("writes work after the restart");
    assert_eq!(issue["id"], json!(n + 1));

    drop(server);
    let repos = repositories(&dir.path().join("data"));
    assert!(!repos.is_empty(), "no repositories under the data folder");
    for repo in repos {
        let fsck = std::process::Command::new("git")
            .args(["fsck", "--full", "--no-progress"])
            .current_dir(&repo)
            .output()
            .expect("git fsck runs");
        assert!(
            fsck.status.success(),
            "git fsck {}: {}",
            repo.display(),
            String::from_utf8_lossy(&fsck.stderr)
        );
    }
}

/// The router's database likewise: sessions and connection links acknowledged before a
/// SIGKILL are there after the restart, and their links still open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_killed_mid_write_restarts_with_every_acknowledged_session() {
    let world = crate::support::World::start().await;
    let dir = world.dir.path();
    let created = command(dir)
        .args([
            "router",
            "keys",
            "create",
            "--name",
            "crash",
            "--data-dir",
            "router",
        ])
        .output()
        .expect("keys create");
    assert!(
        created.status.success(),
        "{}",
        crate::support::stderr(&created)
    );
    let key = crate::support::stdout(&created).trim().to_owned();
    let start_router = || {
        let mut cmd = command(dir);
        world.env(&mut cmd);
        cmd.args(["router", "--listen", "127.0.0.1:0", "--data-dir", "router"])
            .stderr(Stdio::null());
        serve(cmd)
    };
    let (mut router, url) = start_router();
    let api = format!("{url}/api/v3.1/tool_router/session");
    let count = Arc::new(AtomicUsize::new(0));
    // (session id, user id, link URL)
    let acked = Arc::new(Mutex::new(Vec::<(String, String, String)>::new()));
    let writers: Vec<_> = (0..4)
        .map(|k| {
            let (api, key) = (api.clone(), key.clone());
            let (acked, count) = (acked.clone(), count.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut failures = 0;
                for n in 0.. {
                    let user = format!("u{k}-{n}");
                    let session = async {
                        let session: Value = http
                            .post(&api)
                            .header("x-api-key", &key)
                            .json(&json!({"user_id": user, "toolkits": {"enable": ["bitbucket"]}}))
                            .send()
                            .await
                            .ok()?
                            .error_for_status()
                            .ok()?
                            .json()
                            .await
                            .ok()?;
                        let id = session["session_id"].as_str()?.to_owned();
                        let link: Value = http
                            .post(format!("{api}/{id}/link"))
                            .header("x-api-key", &key)
                            .json(&json!({"toolkit": "bitbucket"}))
                            .send()
                            .await
                            .ok()?
                            .error_for_status()
                            .ok()?
                            .json()
                            .await
                            .ok()?;
                        Some((id, link["redirect_url"].as_str()?.to_owned()))
                    }
                    .await;
                    match session {
                        Some((id, link)) => {
                            acked.lock().await.push((id, user, link));
                            count.fetch_add(1, Ordering::SeqCst);
                            failures = 0;
                        }
                        None => {
                            failures += 1;
                            if failures > 20 {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect();
    kill_amid(&mut router, &count, 20, writers).await;
    let acked = std::mem::take(&mut *acked.lock().await);

    let (_router, url) = start_router();
    let api = format!("{url}/api/v3.1/tool_router/session");
    let http = reqwest::Client::new();
    for (id, user, link) in &acked {
        let session: Value = http
            .get(format!("{api}/{id}"))
            .header("x-api-key", &key)
            .send()
            .await
            .expect("get")
            .error_for_status()
            .unwrap_or_else(|e| panic!("acknowledged session {id} is lost: {e}"))
            .json()
            .await
            .expect("json");
        assert_eq!(session["config"]["user_id"], json!(user), "{session}");
        // The link was made on the old port; its path opens on the new one.
        let path = link
            .split_once("/link/")
            .map(|(_, token)| token)
            .expect("link path");
        let page = http
            .get(format!("{url}/link/{path}"))
            .send()
            .await
            .expect("link page");
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "the link of session {id} is lost"
        );
    }
}
