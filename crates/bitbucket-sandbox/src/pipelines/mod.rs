//! Running pipelines for real: each step's `script` runs with `sh` in a fresh checkout of the
//! commit, one step after the other, with a time limit, its output recorded as the step's log.
//!
//! Running is off unless the sandbox is started with it on ([`crate::SandboxConfig::run_pipelines`]):
//! a step runs the repository's own commands on this machine, as whoever started the sandbox.
//! When it is off a run is still recorded, checked and planned, and completes at once with
//! result `ERROR` saying why its steps did not run.
//!
//! A run waits for one of [`CONCURRENT_RUNS`] slots (PENDING), then moves through IN_PROGRESS
//! to COMPLETED with SUCCESSFUL, FAILED, ERROR or STOPPED; before a `trigger: manual` step it
//! pauses (PAUSED, shown as IN_PROGRESS with stage PAUSED) until stopped. A step that names a `deployment`
//! records a deployment to that environment and gets its variables. Each run also keeps a build
//! status on its commit, as Bitbucket Pipelines does. A sandbox stopped mid-run marks what was
//! running as ERROR when it starts again: nothing is left pending forever.

pub mod config;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::api::repo_id;
use crate::error::ApiResult;
use crate::state::{SharedState, new_uuid, now};
use crate::store::{PipelineRow, StatusRow, StepRow, VarScope};

/// Runs at once; the others wait, PENDING.
pub const CONCURRENT_RUNS: usize = 2;
/// The most of a step's output kept; past it the log says it was cut.
pub const MAX_LOG_BYTES: usize = 1 << 20;
/// How often a running step's new output reaches its log.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Why a run's steps did not run when running is off.
pub const NOT_RUN_MESSAGE: &str = "This sandbox does not run pipeline steps: they run the \
    repository's commands on this machine. Start it with `bbagent sandbox --run-pipelines` to run them.";

/// The runner's settings and its runs in flight.
#[derive(Debug)]
pub struct Runner {
    /// Whether steps run at all.
    pub enabled: bool,
    /// The longest a step may run, whatever its `max-time` says.
    pub step_limit: Duration,
    /// Where checkouts go, one folder per step, removed when it ends.
    work_dir: PathBuf,
    slots: Semaphore,
    stops: Mutex<HashMap<i64, CancellationToken>>,
}

impl Runner {
    pub fn new(enabled: bool, step_limit: Duration, work_dir: PathBuf) -> Self {
        Self {
            enabled,
            step_limit,
            work_dir,
            slots: Semaphore::new(CONCURRENT_RUNS),
            stops: Mutex::default(),
        }
    }

    /// Asks a run to stop; false when it is not running here.
    pub fn stop(&self, pipeline_id: i64) -> bool {
        let stops = self
            .stops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stops
            .get(&pipeline_id)
            .map(CancellationToken::cancel)
            .is_some()
    }

    fn token(&self, pipeline_id: i64) -> CancellationToken {
        let mut stops = self
            .stops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stops.entry(pipeline_id).or_default().clone()
    }

    fn forget(&self, pipeline_id: i64) {
        let mut stops = self
            .stops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stops.remove(&pipeline_id);
    }
}

/// Marks the runs an earlier process left unfinished as ERROR; called at start.
pub async fn fail_interrupted(state: &SharedState) -> ApiResult<()> {
    let time = now();
    for pipeline in state.store.unfinished_pipelines().await? {
        let mut write = state.store.write().await?;
        for step in state.store.steps(pipeline.id).await? {
            if step.state == "IN_PROGRESS" {
                write
                    .set_step_state(
                        step.id,
                        "COMPLETED",
                        Some("ERROR"),
                        Some(INTERRUPTED),
                        &time,
                    )
                    .await?;
                write.finish_deployment(&step.uuid, "FAILED", &time).await?;
            }
        }
        write
            .complete_pipeline(pipeline.id, "ERROR", Some(INTERRUPTED), &time)
            .await?;
        write.commit().await?;
    }
    Ok(())
}

const INTERRUPTED: &str = "The sandbox stopped while this ran.";

/// Completes a run that no task runs any more with `result`, its pending steps NOT_RUN.
pub(crate) async fn complete(
    state: &SharedState,
    id: i64,
    result: &str,
    message: Option<&str>,
) -> ApiResult<()> {
    let mut write = state.store.write().await?;
    write.complete_pipeline(id, result, message, &now()).await?;
    write.commit().await?;
    Ok(())
}

/// Starts a stored run in the background (or completes it at once when running is off).
pub async fn start(state: SharedState, pipeline: PipelineRow) -> ApiResult<()> {
    if !state.pipelines.enabled {
        return complete(&state, pipeline.id, "ERROR", Some(NOT_RUN_MESSAGE)).await;
    }
    let token = state.pipelines.token(pipeline.id);
    tokio::spawn(async move {
        let id = pipeline.id;
        if let Err(error) = run(&state, pipeline, &token).await {
            tracing::error!(%error.message, pipeline = id, "pipeline run failed");
            let message = format!("The sandbox could not run this pipeline: {}", error.message);
            let _ = complete(&state, id, "ERROR", Some(&message)).await;
        }
        state.pipelines.forget(id);
    });
    Ok(())
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Successful,
    Failed,
    Error(String),
    Stopped,
}

impl Outcome {
    fn result(&self) -> &'static str {
        match self {
            Self::Successful => "SUCCESSFUL",
            Self::Failed => "FAILED",
            Self::Error(_) => "ERROR",
            Self::Stopped => "STOPPED",
        }
    }
}

async fn run(
    state: &SharedState,
    pipeline: PipelineRow,
    stop: &CancellationToken,
) -> ApiResult<()> {
    let _slot = tokio::select! {
        slot = state.pipelines.slots.acquire() => slot.ok(),
        () = stop.cancelled() => None,
    };
    // Stopped while it waited: the loop below runs no step and records STOPPED.
    let repo = state.store.repo_by_id(pipeline.repo_id).await?;
    let Some(repo) = repo else { return Ok(()) };
    let ws = state.workspace_by_id(repo.workspace_id).await?;
    let git_id = repo_id(&ws, &repo)?;
    let started = now();
    {
        let mut write = state.store.write().await?;
        write
            .set_pipeline_state(pipeline.id, "IN_PROGRESS", None, None, &started)
            .await?;
        write
            .put_status(
                repo.id,
                &build_status(state, &ws.slug, &repo.slug, &pipeline, "INPROGRESS"),
            )
            .await?;
        write.commit().await?;
    }
    let mut outcome = Outcome::Successful;
    for step in state.store.steps(pipeline.id).await? {
        if stop.is_cancelled() {
            outcome = Outcome::Stopped;
            break;
        }
        // A manual step: the run waits, paused, until someone stops it (the API has no call
        // to trigger a step).
        if step.manual {
            let mut write = state.store.write().await?;
            write
                .set_pipeline_state(pipeline.id, "PAUSED", None, None, &now())
                .await?;
            write.commit().await?;
            return Ok(());
        }
        let result = run_step(
            state,
            &pipeline,
            (&ws.slug, &repo.slug, repo.id, ws.id),
            &git_id,
            &step,
            stop,
        )
        .await?;
        if result != Outcome::Successful {
            outcome = result;
            break;
        }
    }
    let time = now();
    let (result, error) = match &outcome {
        Outcome::Error(message) => ("ERROR", Some(message.as_str())),
        other => (other.result(), None),
    };
    let status = match outcome {
        Outcome::Successful => "SUCCESSFUL",
        Outcome::Stopped => "STOPPED",
        _ => "FAILED",
    };
    let mut write = state.store.write().await?;
    write
        .complete_pipeline(pipeline.id, result, error, &time)
        .await?;
    write
        .put_status(
            repo.id,
            &build_status(state, &ws.slug, &repo.slug, &pipeline, status),
        )
        .await?;
    write.commit().await?;
    Ok(())
}

/// The build status a run keeps on its commit, keyed by its uuid.
pub(crate) fn build_status(
    state: &SharedState,
    ws: &str,
    slug: &str,
    p: &PipelineRow,
    st: &str,
) -> StatusRow {
    let target = p
        .ref_name
        .clone()
        .unwrap_or_else(|| p.commit_hash.chars().take(12).collect());
    StatusRow {
        commit_hash: p.commit_hash.clone(),
        key: p.uuid.clone(),
        state: st.to_owned(),
        name: format!("Pipeline #{} for {target}", p.build_number),
        description: match st {
            "INPROGRESS" => "In progress".into(),
            "SUCCESSFUL" => "Successful".into(),
            "STOPPED" => "Stopped".into(),
            _ => "Failed".into(),
        },
        url: state.html_url(&format!(
            "/{ws}/{slug}/pipelines/results/{}",
            p.build_number
        )),
        refname: p.ref_name.clone(),
        created_on: String::new(),
        updated_on: now(),
    }
}

/// The variables a step sees, later ones winning: workspace, repository, the deployment
/// environment's, the run's own, then Bitbucket's `BITBUCKET_*`. Also the secured values, which
/// the log masks.
async fn environment(
    state: &SharedState,
    pipeline: &PipelineRow,
    (ws_slug, slug, repo_id, ws_id): (&str, &str, i64, i64),
    step: &StepRow,
    deploy_env: Option<i64>,
    checkout: &std::path::Path,
) -> ApiResult<(Vec<(String, String)>, Vec<(String, String)>)> {
    let mut vars: Vec<(String, String, bool)> = Vec::new();
    let mut scopes = vec![VarScope::Workspace(ws_id), VarScope::Repository(repo_id)];
    scopes.extend(deploy_env.map(VarScope::Environment));
    for scope in scopes {
        for v in state.store.variables(scope).await? {
            vars.push((v.key, v.value, v.secured));
        }
    }
    let own: Vec<Value> = serde_json::from_str(&pipeline.variables).unwrap_or_default();
    for v in own {
        if let (Some(key), Some(value)) = (v["key"].as_str(), v["value"].as_str()) {
            vars.push((
                key.to_owned(),
                value.to_owned(),
                v["secured"].as_bool().unwrap_or(false),
            ));
        }
    }
    let mut env: Vec<(String, String)> = Vec::new();
    let mut secrets = Vec::new();
    for (key, value, secured) in vars {
        env.retain(|(k, _)| *k != key);
        if secured && !value.is_empty() {
            secrets.push((value.clone(), format!("${key}")));
        }
        env.push((key, value));
    }
    let builtin = [
        ("BITBUCKET_BUILD_NUMBER", pipeline.build_number.to_string()),
        ("BITBUCKET_COMMIT", pipeline.commit_hash.clone()),
        ("BITBUCKET_WORKSPACE", ws_slug.to_owned()),
        ("BITBUCKET_REPO_SLUG", slug.to_owned()),
        ("BITBUCKET_REPO_FULL_NAME", format!("{ws_slug}/{slug}")),
        ("BITBUCKET_PIPELINE_UUID", pipeline.uuid.clone()),
        ("BITBUCKET_STEP_UUID", step.uuid.clone()),
        ("BITBUCKET_CLONE_DIR", checkout.display().to_string()),
        ("CI", "true".to_owned()),
    ];
    for (k, v) in builtin {
        env.push((k.to_owned(), v));
    }
    match (pipeline.ref_type.as_deref(), &pipeline.ref_name) {
        (Some("branch"), Some(name)) => env.push(("BITBUCKET_BRANCH".into(), name.clone())),
        (Some("tag"), Some(name)) => env.push(("BITBUCKET_TAG".into(), name.clone())),
        _ => {}
    }
    if let Some(name) = &step.deployment {
        env.push((
            "BITBUCKET_DEPLOYMENT_ENVIRONMENT".into(),
            name.to_lowercase(),
        ));
    }
    // Longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|(value, _): &(String, String)| std::cmp::Reverse(value.len()));
    Ok((env, secrets))
}

#[allow(clippy::too_many_lines)]
async fn run_step(
    state: &SharedState,
    pipeline: &PipelineRow,
    names @ (_, _, repo_id, _): (&str, &str, i64, i64),
    git_id: &crate::git::RepoId,
    step: &StepRow,
    stop: &CancellationToken,
) -> ApiResult<Outcome> {
    let started = now();
    let mut deploy_env = None;
    {
        let mut write = state.store.write().await?;
        write
            .set_step_state(step.id, "IN_PROGRESS", None, None, &started)
            .await?;
        if let Some(name) = &step.deployment {
            write
                .ensure_environments(repo_id, [new_uuid(), new_uuid(), new_uuid()])
                .await?;
            write.commit().await?;
            let Some(env) = state.store.environment(repo_id, name).await? else {
                let message = format!(
                    "Step `{}` deploys to `{name}`, which is not an environment of this repository.",
                    step.name
                );
                return finish_step(
                    state,
                    step,
                    &Outcome::Error(message.clone()),
                    Some(&message),
                )
                .await;
            };
            deploy_env = Some(env.id);
            let mut write = state.store.write().await?;
            write
                .insert_deployment(
                    &new_uuid(),
                    env.id,
                    pipeline.id,
                    &step.uuid,
                    &pipeline.commit_hash,
                    &format!("#{}", pipeline.build_number),
                    pipeline.creator_id,
                    &started,
                )
                .await?;
            write.commit().await?;
        } else {
            write.commit().await?;
        }
    }

    let folder = state
        .pipelines
        .work_dir
        .join(pipeline.uuid.trim_matches(['{', '}']))
        .join(step.position.to_string());
    let checkout = folder.join("build");
    let (git_state, commit, dest) = (
        state.clone(),
        pipeline.commit_hash.clone(),
        checkout.clone(),
    );
    let parent = folder.clone();
    let git_id = git_id.clone();
    let checked_out = tokio::task::spawn_blocking(move || {
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir_all(&parent).map_err(|e| e.to_string())?;
        git_state
            .git
            .checkout(&git_id, &commit, &dest)
            .map_err(|e| e.to_string())
    })
    .await;
    if let Err(message) = checked_out.map_err(|e| e.to_string()).and_then(|r| r) {
        let message = format!("Could not check out {}: {message}", pipeline.commit_hash);
        let _ = tokio::fs::remove_dir_all(&folder).await;
        return finish_step(
            state,
            step,
            &Outcome::Error(message.clone()),
            Some(&message),
        )
        .await;
    }

    let (env, secrets) = environment(state, pipeline, names, step, deploy_env, &checkout).await?;
    let script: Vec<String> = serde_json::from_str(&step.script).unwrap_or_default();
    let script_path = folder.join("script.sh");
    if let Err(e) = tokio::fs::write(&script_path, shell_script(&script)).await {
        let message = format!("Could not write the step's script: {e}");
        let _ = tokio::fs::remove_dir_all(&folder).await;
        return finish_step(
            state,
            step,
            &Outcome::Error(message.clone()),
            Some(&message),
        )
        .await;
    }
    let minutes = step.max_time_minutes.and_then(|m| u64::try_from(m).ok());
    let limit = minutes
        .map(|m| Duration::from_secs(m.saturating_mul(60)))
        .map_or(state.pipelines.step_limit, |d| {
            d.min(state.pipelines.step_limit)
        });

    let mut command = Command::new("sh");
    command
        .arg(&script_path)
        .current_dir(&checkout)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", &folder)
        .env("LANG", "C.UTF-8")
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let message = format!("Could not start `sh`: {e}");
            let _ = tokio::fs::remove_dir_all(&folder).await;
            return finish_step(
                state,
                step,
                &Outcome::Error(message.clone()),
                Some(&message),
            )
            .await;
        }
    };
    let group = child.id();
    let mut log = LogWriter::new(state, step.id, secrets);
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    let mut ended: Option<Outcome> = None;
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    if let Some(stdout) = child.stdout.take() {
        let mut lines = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    log.flush().await?;
                    continue;
                }
                read = lines.read_until(b'\n', &mut line) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        log.push(&String::from_utf8_lossy(&line)).await?;
                        line.clear();
                    }
                },
                () = &mut deadline => {
                    ended = Some(Outcome::Error(format!(
                        "Step `{}` exceeded its time limit of {} and was stopped.",
                        step.name, human(limit)
                    )));
                    break;
                }
                () = stop.cancelled() => {
                    ended = Some(Outcome::Stopped);
                    break;
                }
            }
        }
    }
    if ended.is_some() {
        kill_group(group).await;
        let _ = child.kill().await;
    }
    let status = tokio::select! {
        status = child.wait() => status.ok(),
        () = &mut deadline, if ended.is_none() => {
            ended = Some(Outcome::Error(format!(
                "Step `{}` exceeded its time limit of {} and was stopped.",
                step.name, human(limit)
            )));
            kill_group(group).await;
            let _ = child.kill().await;
            None
        }
        () = stop.cancelled(), if ended.is_none() => {
            ended = Some(Outcome::Stopped);
            kill_group(group).await;
            let _ = child.kill().await;
            None
        }
    };
    let outcome = match ended {
        Some(outcome) => outcome,
        None => match status.and_then(|s| s.code()) {
            Some(0) => Outcome::Successful,
            _ => Outcome::Failed,
        },
    };
    match &outcome {
        Outcome::Failed => {
            let code = status
                .and_then(|s| s.code())
                .map_or_else(|| "a signal".into(), |c| c.to_string());
            log.push(&format!("\nThe step's script exited with {code}.\n"))
                .await?;
        }
        Outcome::Stopped => log.push("\nStopped.\n").await?,
        Outcome::Error(message) => log.push(&format!("\n{message}\n")).await?,
        Outcome::Successful => {}
    }
    log.flush().await?;
    let _ = tokio::fs::remove_dir_all(&folder).await;
    let error = match &outcome {
        Outcome::Error(message) => Some(message.clone()),
        _ => None,
    };
    finish_step(state, step, &outcome, error.as_deref()).await
}

async fn finish_step(
    state: &SharedState,
    step: &StepRow,
    outcome: &Outcome,
    error: Option<&str>,
) -> ApiResult<Outcome> {
    let time = now();
    let mut write = state.store.write().await?;
    write
        .set_step_state(step.id, "COMPLETED", Some(outcome.result()), error, &time)
        .await?;
    let deployment = match outcome {
        Outcome::Successful => "SUCCESSFUL",
        Outcome::Stopped => "STOPPED",
        _ => "FAILED",
    };
    write
        .finish_deployment(&step.uuid, deployment, &time)
        .await?;
    write.commit().await?;
    Ok(outcome.clone())
}

/// Kills a step's whole process group (its `sh` and whatever that started), so that nothing it
/// left behind holds the log open. `kill(1)` does it without `unsafe`.
async fn kill_group(group: Option<u32>) {
    if let Some(group) = group {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
}

fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

/// The step's script for `sh`: stop at the first failing command, as Bitbucket does, and print
/// each command as `+ command` before its output.
pub fn shell_script(lines: &[String]) -> String {
    let mut out = String::from("exec 2>&1\nset -e\n");
    for line in lines {
        let shown = line.trim_end().replace('\'', r"'\''");
        out.push_str(&format!("printf '%s\\n' '+ {shown}'\n{line}\n"));
    }
    out
}

/// Appends output to a step's log a few times a second, masking secured values and stopping
/// at [`MAX_LOG_BYTES`].
struct LogWriter<'a> {
    state: &'a SharedState,
    step_id: i64,
    secrets: Vec<(String, String)>,
    pending: String,
    written: usize,
    cut: bool,
    last: Instant,
}

impl<'a> LogWriter<'a> {
    fn new(state: &'a SharedState, step_id: i64, secrets: Vec<(String, String)>) -> Self {
        Self {
            state,
            step_id,
            secrets,
            pending: String::new(),
            written: 0,
            cut: false,
            last: Instant::now(),
        }
    }

    async fn push(&mut self, text: &str) -> ApiResult<()> {
        if self.cut {
            return Ok(());
        }
        let mut text = text.to_owned();
        for (secret, name) in &self.secrets {
            text = text.replace(secret.as_str(), name);
        }
        if self.written + self.pending.len() + text.len() > MAX_LOG_BYTES {
            self.pending.push_str(&format!(
                "\n[the log is cut here: the sandbox keeps {} KiB of a step's output]\n",
                MAX_LOG_BYTES / 1024
            ));
            self.cut = true;
            return self.flush().await;
        }
        self.pending.push_str(&text);
        if self.last.elapsed() >= FLUSH_EVERY || self.pending.len() >= 16 * 1024 {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> ApiResult<()> {
        self.last = Instant::now();
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut write = self.state.store.write().await?;
        write.append_step_log(self.step_id, &self.pending).await?;
        write.commit().await?;
        self.written += self.pending.len();
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_echoes_each_command_and_stops_at_the_first_failure() {
        let script = shell_script(&["echo 'a b'".into(), "false".into(), "echo never".into()]);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text, "+ echo 'a b'\na b\n+ false\n");
        assert_eq!(out.status.code(), Some(1));
    }
}
