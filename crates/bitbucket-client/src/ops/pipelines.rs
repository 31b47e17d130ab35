//! Pipelines: running, reading and stopping runs, their steps and logs; variables of a
//! repository, workspace or deployment environment; environments and deployments.

use reqwest::Method;
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::{Accept, ApiRequest, Client};
use crate::models::{Deployment, Environment, Pipeline, PipelineStep, PipelineVariable};
use crate::ops::list_query;
use crate::page::{ListParams, Page};
use crate::path::segment;
use crate::repo::RepoId;

/// What a run runs: a branch or tag (its head, or a commit on it), or a commit, and which
/// pipeline of the file (`default`, the ref's own, or a `custom` one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineTarget {
    /// A branch name (or a tag with `tag: true`).
    pub ref_name: Option<String>,
    /// `ref_name` is a tag.
    pub tag: bool,
    /// A commit; with a ref, that commit is run as the ref's.
    pub commit: Option<String>,
    /// A `custom` pipeline's name.
    pub custom: Option<String>,
}

impl PipelineTarget {
    fn to_json(&self) -> Result<Value, Error> {
        let mut target = match (&self.ref_name, &self.commit) {
            (Some(name), _) => json!({
                "type": "pipeline_ref_target",
                "ref_type": if self.tag { "tag" } else { "branch" },
                "ref_name": name,
            }),
            (None, Some(_)) => json!({ "type": "pipeline_commit_target" }),
            (None, None) => {
                return Err(Error::InvalidInput {
                    message: "a pipeline runs on a branch, a tag or a commit; name one".into(),
                });
            }
        };
        if let Some(commit) = &self.commit {
            target["commit"] = json!({ "type": "commit", "hash": commit });
        }
        if let Some(custom) = &self.custom {
            target["selector"] = json!({ "type": "custom", "pattern": custom });
        }
        Ok(target)
    }
}

/// Whose variables: a repository's, a workspace's, or one of a repository's deployment
/// environments'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableScope {
    /// A repository's.
    Repository(RepoId),
    /// A workspace's (its slug).
    Workspace(String),
    /// A deployment environment's (the repository, and the environment's uuid).
    Environment(RepoId, String),
}

/// A step's log, or its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLog {
    /// The log, or its end.
    pub text: String,
    /// The whole log's size in bytes, when only its end was read.
    pub total_bytes: Option<u64>,
}

impl Client {
    fn pipeline_url(&self, repo: &RepoId, pipeline: &str, rest: &str) -> Result<url::Url, Error> {
        self.endpoint(&format!(
            "{}/pipelines/{}{rest}",
            repo.path(),
            segment("pipeline", pipeline)?
        ))
    }

    /// `GET .../pipelines`, optionally of one branch and in one state or with one result
    /// (`FAILED`, `IN_PROGRESS`, ...).
    pub async fn list_pipelines(
        &self,
        repo: &RepoId,
        branch: Option<&str>,
        status: Option<&str>,
        params: &ListParams,
    ) -> Result<Page<Pipeline>, Error> {
        let mut url = self.endpoint(&format!("{}/pipelines", repo.path()))?;
        list_query(params).apply(&mut url);
        if let Some(branch) = branch {
            url.query_pairs_mut().append_pair("target.branch", branch);
        }
        if let Some(status) = status {
            url.query_pairs_mut().append_pair("status", status);
        }
        self.get_json(url).await
    }

    /// `GET .../pipelines/{uuid or build number}`.
    pub async fn get_pipeline(&self, repo: &RepoId, pipeline: &str) -> Result<Pipeline, Error> {
        self.get_json(self.pipeline_url(repo, pipeline, "")?).await
    }

    /// `POST .../pipelines`: runs a pipeline, with run-only `variables` (key, value, secured).
    pub async fn run_pipeline(
        &self,
        repo: &RepoId,
        target: &PipelineTarget,
        variables: &[(String, String, bool)],
    ) -> Result<Pipeline, Error> {
        let url = self.endpoint(&format!("{}/pipelines", repo.path()))?;
        let variables: Vec<Value> = variables
            .iter()
            .map(|(key, value, secured)| json!({ "key": key, "value": value, "secured": secured }))
            .collect();
        let body = json!({ "target": target.to_json()?, "variables": variables });
        self.send_json(Method::POST, url, &body).await
    }

    /// `POST .../pipelines/{uuid}/stopPipeline`.
    pub async fn stop_pipeline(&self, repo: &RepoId, pipeline: &str) -> Result<(), Error> {
        let url = self.pipeline_url(repo, pipeline, "/stopPipeline")?;
        self.execute(&ApiRequest::new(Method::POST, url))
            .await
            .map(drop)
    }

    /// `GET .../pipelines/{uuid}/steps`.
    pub async fn list_pipeline_steps(
        &self,
        repo: &RepoId,
        pipeline: &str,
        params: &ListParams,
    ) -> Result<Page<PipelineStep>, Error> {
        let mut url = self.pipeline_url(repo, pipeline, "/steps")?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../steps/{step}/log`: the whole log, or its last `tail_bytes` bytes (a `Range`
    /// request; an empty log is empty text).
    pub async fn get_step_log(
        &self,
        repo: &RepoId,
        pipeline: &str,
        step: &str,
        tail_bytes: Option<u64>,
    ) -> Result<StepLog, Error> {
        let rest = format!("/steps/{}/log", segment("step", step)?);
        let url = self.pipeline_url(repo, pipeline, &rest)?;
        let mut request = ApiRequest::new(Method::GET, url).accept(Accept::Any);
        if let Some(n) = tail_bytes {
            request = request.range(format!("bytes=-{}", n.max(1)));
        }
        let response = match self.execute(&request).await {
            Ok(response) => response,
            Err(e) if e.status() == Some(416) => {
                return Ok(StepLog {
                    text: String::new(),
                    total_bytes: Some(0),
                });
            }
            Err(e) => return Err(e),
        };
        let total_bytes = response
            .headers
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit('/').next())
            .and_then(|n| n.parse().ok());
        Ok(StepLog {
            text: String::from_utf8_lossy(&response.body).into_owned(),
            total_bytes,
        })
    }

    fn variables_url(&self, scope: &VariableScope, rest: &str) -> Result<url::Url, Error> {
        let base = match scope {
            VariableScope::Repository(repo) => {
                format!("{}/pipelines_config/variables", repo.path())
            }
            VariableScope::Workspace(ws) => format!(
                "/workspaces/{}/pipelines-config/variables",
                segment("workspace", ws)?
            ),
            VariableScope::Environment(repo, env) => format!(
                "{}/deployments_config/environments/{}/variables",
                repo.path(),
                segment("environment", env)?
            ),
        };
        self.endpoint(&format!("{base}{rest}"))
    }

    /// The variables of a repository, workspace or environment.
    pub async fn list_variables(
        &self,
        scope: &VariableScope,
        params: &ListParams,
    ) -> Result<Page<PipelineVariable>, Error> {
        let mut url = self.variables_url(scope, "")?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// Creates a variable.
    pub async fn create_variable(
        &self,
        scope: &VariableScope,
        key: &str,
        value: &str,
        secured: bool,
    ) -> Result<PipelineVariable, Error> {
        let url = self.variables_url(scope, "")?;
        let body = json!({ "key": key, "value": value, "secured": secured });
        self.send_json(Method::POST, url, &body).await
    }

    /// Changes a variable's value (and key, when given).
    pub async fn update_variable(
        &self,
        scope: &VariableScope,
        uuid: &str,
        key: Option<&str>,
        value: &str,
    ) -> Result<PipelineVariable, Error> {
        let url = self.variables_url(scope, &format!("/{}", segment("variable", uuid)?))?;
        let mut body = json!({ "value": value });
        if let Some(key) = key {
            body["key"] = json!(key);
        }
        self.send_json(Method::PUT, url, &body).await
    }

    /// Deletes a variable.
    pub async fn delete_variable(&self, scope: &VariableScope, uuid: &str) -> Result<(), Error> {
        self.delete(self.variables_url(scope, &format!("/{}", segment("variable", uuid)?))?)
            .await
    }

    /// `GET .../environments`.
    pub async fn list_environments(
        &self,
        repo: &RepoId,
        params: &ListParams,
    ) -> Result<Page<Environment>, Error> {
        let mut url = self.endpoint(&format!("{}/environments", repo.path()))?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../environments/{uuid}` (the sandbox also takes the name).
    pub async fn get_environment(&self, repo: &RepoId, env: &str) -> Result<Environment, Error> {
        let url = self.endpoint(&format!(
            "{}/environments/{}",
            repo.path(),
            segment("environment", env)?
        ))?;
        self.get_json(url).await
    }

    /// `GET .../deployments`, newest first.
    pub async fn list_deployments(
        &self,
        repo: &RepoId,
        params: &ListParams,
    ) -> Result<Page<Deployment>, Error> {
        let mut url = self.endpoint(&format!("{}/deployments", repo.path()))?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// One page of a repository's pipeline settings: `pipelines_config/schedules`,
    /// `pipelines-config/runners`, `pipelines_config/ssh/known_hosts` or
    /// `pipelines-config/caches`, as Bitbucket sends them.
    pub async fn list_pipeline_settings(
        &self,
        repo: &RepoId,
        setting: PipelineSetting,
        params: &ListParams,
    ) -> Result<Page<Value>, Error> {
        let mut url = self.endpoint(&format!("{}/{}", repo.path(), setting.path()))?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// Adds a schedule, runner or known host (`body` as Bitbucket takes it).
    pub async fn create_pipeline_setting(
        &self,
        repo: &RepoId,
        setting: PipelineSetting,
        body: &Value,
    ) -> Result<Value, Error> {
        let url = self.endpoint(&format!("{}/{}", repo.path(), setting.path()))?;
        self.send_json(Method::POST, url, body).await
    }

    /// A workspace's OpenID Connect discovery document, for cloud providers to trust the
    /// tokens its pipelines get.
    pub async fn get_openid_configuration(&self, workspace: &str) -> Result<Value, Error> {
        let url = self.endpoint(&format!(
            "/workspaces/{}/pipelines-config/identity/oidc/.well-known/openid-configuration",
            segment("workspace", workspace)?
        ))?;
        self.get_json(url).await
    }
}

/// Which of a repository's pipeline settings to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineSetting {
    /// Cron schedules that run a branch's pipeline.
    Schedules,
    /// Self-hosted runners.
    Runners,
    /// The SSH hosts steps trust.
    KnownHosts,
    /// Dependency caches steps saved.
    Caches,
}

impl PipelineSetting {
    fn path(self) -> &'static str {
        match self {
            PipelineSetting::Schedules => "pipelines_config/schedules",
            PipelineSetting::Runners => "pipelines-config/runners",
            PipelineSetting::KnownHosts => "pipelines_config/ssh/known_hosts",
            PipelineSetting::Caches => "pipelines-config/caches",
        }
    }
}
