//! `llm-script serve` as a process: the base URL on the first stdout line, the script played,
//! requests recorded to a file.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use llm_script::{Provider, RecordedRequest, Script, Turn};
use serde_json::json;

#[tokio::test]
async fn serve_prints_its_url_and_plays_a_script_file() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.json");
    let record = dir.path().join("requests.jsonl");
    let turns = Script {
        turns: vec![Turn::text("Hi from the script").with_tool_call("PING", json!({"n": 1}))],
    };
    std::fs::write(&script, serde_json::to_string(&turns).unwrap()).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_llm-script"))
        .args([
            "serve",
            "--provider",
            "anthropic",
            "--api-key",
            "k-123",
            "--script",
        ])
        .arg(&script)
        .arg("--record")
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/v1"),
        "{base}"
    );

    let response = reqwest::Client::new()
        .post(format!("{base}/messages"))
        .header("x-api-key", "k-123")
        .header("anthropic-version", "2023-06-01")
        .json(&crate::support::hello(Provider::Anthropic))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply = crate::support::assemble(Provider::Anthropic, &response.text().await.unwrap());
    assert_eq!(reply.text, "Hi from the script");
    assert_eq!(reply.calls[0].1, "PING");

    let recorded: Vec<RecordedRequest> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].header("x-api-key"), Some("k-123"));
    assert_eq!(recorded[0].last_user_text().as_deref(), Some("hello"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_bad_script_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.json");
    std::fs::write(&script, r#"{"turns": [{"txt": ["typo"]}]}"#).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_llm-script"))
        .args(["serve", "--provider", "openai", "--script"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not valid") && stderr.contains("unknown field `txt`"),
        "{stderr}"
    );
}
