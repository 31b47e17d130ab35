//! Pipelines: runs, their steps, variables, deployment environments and deployments.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Extra, null_default};

/// A run of a repository's `bitbucket-pipelines.yml` (`pipeline`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pipeline {
    /// Its id, in braces.
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    /// Its number in the repository: #1, #2, ...
    pub build_number: Option<u64>,
    /// What it ran: `{type, ref_type, ref_name, commit: {hash}, selector: {type, pattern}}`.
    pub target: Value,
    /// `{name: PENDING | IN_PROGRESS | COMPLETED, result: {name: SUCCESSFUL | FAILED | ERROR |
    /// STOPPED, error: {message}}}`.
    pub state: Value,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Completion time (ISO 8601).
    pub completed_on: Option<String>,
    /// Seconds it ran.
    pub duration_in_seconds: Option<u64>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Pipeline {
    /// `PENDING`, `IN_PROGRESS` or `COMPLETED`.
    pub fn state_name(&self) -> &str {
        self.state["name"].as_str().unwrap_or_default()
    }

    /// `SUCCESSFUL`, `FAILED`, `ERROR` or `STOPPED` once completed.
    pub fn result_name(&self) -> Option<&str> {
        self.state["result"]["name"].as_str()
    }
}

/// One step of a run (`pipeline_step`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipelineStep {
    /// Its id, in braces.
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    /// Its name in the file.
    pub name: Option<String>,
    /// The same shape as a run's state; a step not run ends `NOT_RUN`.
    pub state: Value,
    /// When it started (ISO 8601).
    pub started_on: Option<String>,
    /// When it ended (ISO 8601).
    pub completed_on: Option<String>,
    /// Seconds it ran.
    pub duration_in_seconds: Option<u64>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PipelineStep {
    /// `PENDING`, `IN_PROGRESS` or `COMPLETED`.
    pub fn state_name(&self) -> &str {
        self.state["name"].as_str().unwrap_or_default()
    }

    /// `SUCCESSFUL`, `FAILED`, `ERROR`, `STOPPED` or `NOT_RUN` once completed.
    pub fn result_name(&self) -> Option<&str> {
        self.state["result"]["name"].as_str()
    }
}

/// A pipeline variable of a workspace, repository or deployment environment. A secured
/// variable's value never comes back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PipelineVariable {
    /// Its id, in braces.
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    /// Its name, as scripts read it: `$KEY`.
    #[serde(deserialize_with = "null_default")]
    pub key: String,
    /// `None` for a secured variable.
    pub value: Option<String>,
    /// Whether its value is write-only (and masked in logs).
    pub secured: bool,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A deployment environment (`deployment_environment`): Test, Staging, Production, ...
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    /// Its id, in braces.
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    /// Its name, e.g. `Production`.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// `{name: Test | Staging | Production}`.
    pub environment_type: Value,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A deployment of a release (a commit) to an environment (`deployment`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Deployment {
    /// Its id, in braces.
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    /// `{name: IN_PROGRESS | COMPLETED | UNDEPLOYED, status: {name: SUCCESSFUL | FAILED |
    /// STOPPED}, deployer, start_date, completion_date}`.
    pub state: Value,
    /// `{uuid, name}`.
    pub environment: Value,
    /// `{name, commit: {hash}, created_on}`.
    pub release: Value,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}
