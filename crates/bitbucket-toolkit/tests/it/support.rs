//! Starting a sandbox with a toolkit on it, and calling tools with checks built in.

use bitbucket_client::{Auth, Client, ClientConfig, RepoId, RetryPolicy};
use bitbucket_sandbox::git::{self, GitStore, Signature};
use bitbucket_sandbox::{DEMO_EMAIL, DEMO_TOKEN, Sandbox, SandboxConfig};
use bitbucket_toolkit::{ToolOutcome, Toolkit};
use serde_json::Value;
use tempfile::TempDir;

pub struct Env {
    /// Kept so the server runs as long as the test.
    pub _sandbox: Sandbox,
    pub dir: TempDir,
    pub client: Client,
    pub toolkit: Toolkit,
}

pub async fn start() -> Env {
    start_with(|dir| SandboxConfig::new(dir)).await
}

/// A sandbox that runs pipeline steps.
pub async fn start_running_pipelines() -> Env {
    start_with(|dir| SandboxConfig::new(dir).with_run_pipelines(true)).await
}

async fn start_with(config: impl FnOnce(&std::path::Path) -> SandboxConfig) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(config(dir.path()))
        .await
        .expect("sandbox starts");
    let client = Client::new(
        ClientConfig::new(sandbox.base_url())
            .with_auth(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN))
            .with_retry(RetryPolicy::none()),
    )
    .expect("client");
    let toolkit = Toolkit::new(client.clone());
    Env {
        _sandbox: sandbox,
        dir,
        client,
        toolkit,
    }
}

impl Env {
    /// Calls a tool that must succeed; its structured result must match the output schema and
    /// its text must not be empty.
    pub async fn ok(&self, tool: &str, arguments: Value) -> ToolOutcome {
        let outcome = self.call(tool, arguments.clone()).await;
        assert!(
            !outcome.is_error,
            "{tool} {arguments} failed: {}",
            outcome.text
        );
        let structured = outcome
            .structured
            .as_ref()
            .unwrap_or_else(|| panic!("{tool}: no structured result"));
        assert_valid_output(tool, structured);
        assert!(!outcome.text.trim().is_empty(), "{tool}: empty text");
        outcome
    }

    /// Calls a tool that must fail; returns its message.
    pub async fn err(&self, tool: &str, arguments: Value) -> String {
        let outcome = self.call(tool, arguments.clone()).await;
        assert!(
            outcome.is_error,
            "{tool} {arguments} should fail, got: {}",
            outcome.text
        );
        assert_eq!(outcome.structured, None, "{tool}: failures carry no result");
        assert_house_style(&outcome.text);
        outcome.text
    }

    pub async fn call(&self, tool: &str, arguments: Value) -> ToolOutcome {
        self.toolkit
            .call(tool, arguments)
            .await
            .unwrap_or_else(|unknown| panic!("{unknown}"))
    }

    /// Requests the sandbox has received so far.
    pub fn requests(&self) -> u64 {
        self._sandbox.request_count()
    }

    /// The sandbox's git repositories, to add fixtures the REST API cannot make.
    pub fn git(&self) -> GitStore {
        GitStore::new(self.dir.path().join("repos"))
    }

    /// Commits `files` on a new branch `branch` of `acme/widgets`, on top of `main`.
    pub fn commit_on_new_branch(&self, branch: &str, files: &[(&str, &[u8])]) -> String {
        let git = self.git();
        let widgets = git::RepoId::new("acme", "widgets").expect("valid id");
        let main = git
            .branch(&widgets, "main")
            .expect("read main")
            .expect("main exists");
        git.commit_files(
            &widgets,
            branch,
            Some(&main.target.hash),
            files,
            "Add fixtures",
            &Signature::new("Demo User", DEMO_EMAIL, 1_767_600_000),
        )
        .expect("commit")
        .hash
    }
}

/// Validates a structured result against its tool's output schema.
pub fn assert_valid_output(tool: &str, structured: &Value) {
    let spec = Toolkit::find(tool).expect("known tool");
    let schema = Value::Object(spec.output_schema());
    let validator = jsonschema::validator_for(&schema).expect("output schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(structured)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{tool}: result does not match the output schema: {errors:?}\n{structured:#}"
    );
}

/// Messages are lowercase and have no trailing period.
pub fn assert_house_style(message: &str) {
    let first = message.chars().next().expect("a message");
    assert!(
        !first.is_uppercase(),
        "message should start lowercase: {message}"
    );
    assert!(
        !message.ends_with('.'),
        "message should not end with a period: {message}"
    );
}

/// The id of a repository in the sandbox.
pub fn repo(workspace: &str, slug: &str) -> RepoId {
    RepoId::new(workspace, slug).expect("valid repository id")
}
