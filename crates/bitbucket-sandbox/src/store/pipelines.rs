//! Pipelines and what they use: runs and their steps (with logs), variables at workspace,
//! repository and environment level, deployment environments and deployments.

use sqlx::sqlite::SqliteRow;

use super::{Store, Write, col};

#[derive(Debug, Clone)]
pub struct PipelineRow {
    pub id: i64,
    pub repo_id: i64,
    pub uuid: String,
    pub build_number: i64,
    pub creator_id: Option<i64>,
    pub ref_type: Option<String>,
    pub ref_name: Option<String>,
    pub commit_hash: String,
    pub selector_type: String,
    pub selector_pattern: Option<String>,
    pub trigger_name: String,
    pub state: String,
    pub result: Option<String>,
    pub error_message: Option<String>,
    /// The run's variables as JSON `[{key, value, secured}]`.
    pub variables: String,
    pub created_on: String,
    pub started_on: Option<String>,
    pub completed_on: Option<String>,
}

impl PipelineRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            repo_id: col(row, "repo_id")?,
            uuid: col(row, "uuid")?,
            build_number: col(row, "build_number")?,
            creator_id: col(row, "creator_id")?,
            ref_type: col(row, "ref_type")?,
            ref_name: col(row, "ref_name")?,
            commit_hash: col(row, "commit_hash")?,
            selector_type: col(row, "selector_type")?,
            selector_pattern: col(row, "selector_pattern")?,
            trigger_name: col(row, "trigger_name")?,
            state: col(row, "state")?,
            result: col(row, "result")?,
            error_message: col(row, "error_message")?,
            variables: col(row, "variables")?,
            created_on: col(row, "created_on")?,
            started_on: col(row, "started_on")?,
            completed_on: col(row, "completed_on")?,
        })
    }
}

/// A step as read back; the log is read on its own (it can be large).
#[derive(Debug, Clone)]
pub struct StepRow {
    pub id: i64,
    pub pipeline_id: i64,
    pub uuid: String,
    pub position: i64,
    pub name: String,
    /// The script lines as JSON.
    pub script: String,
    pub deployment: Option<String>,
    pub max_time_minutes: Option<i64>,
    pub state: String,
    pub result: Option<String>,
    pub error_message: Option<String>,
    pub started_on: Option<String>,
    pub completed_on: Option<String>,
    pub log_bytes: i64,
    /// `trigger: manual`.
    pub manual: bool,
}

const STEP_COLUMNS: &str = "id, pipeline_id, uuid, position, name, script, deployment,
    max_time_minutes, state, result, error_message, started_on, completed_on, manual,
    length(CAST(log AS BLOB)) AS log_bytes";

impl StepRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            pipeline_id: col(row, "pipeline_id")?,
            uuid: col(row, "uuid")?,
            position: col(row, "position")?,
            name: col(row, "name")?,
            script: col(row, "script")?,
            deployment: col(row, "deployment")?,
            max_time_minutes: col(row, "max_time_minutes")?,
            state: col(row, "state")?,
            result: col(row, "result")?,
            error_message: col(row, "error_message")?,
            started_on: col(row, "started_on")?,
            completed_on: col(row, "completed_on")?,
            log_bytes: col(row, "log_bytes")?,
            manual: col::<i64>(row, "manual")? != 0,
        })
    }
}

/// What a new run stores: the pipeline and its steps, all pending.
#[derive(Debug, Clone)]
pub struct NewPipeline {
    pub uuid: String,
    pub creator_id: Option<i64>,
    pub ref_type: Option<String>,
    pub ref_name: Option<String>,
    pub commit_hash: String,
    pub selector_type: String,
    pub selector_pattern: Option<String>,
    pub trigger_name: String,
    pub variables: String,
    pub created_on: String,
    /// `(uuid, name, script JSON, deployment, max_time_minutes)` in order.
    pub steps: Vec<NewStep>,
}

#[derive(Debug, Clone)]
pub struct NewStep {
    pub uuid: String,
    pub name: String,
    pub script: String,
    pub deployment: Option<String>,
    pub max_time_minutes: Option<i64>,
    pub manual: bool,
}

/// Where a variable belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarScope {
    Workspace(i64),
    Repository(i64),
    Environment(i64),
}

impl VarScope {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Self::Workspace(id) => ("workspace", id),
            Self::Repository(id) => ("repository", id),
            Self::Environment(id) => ("environment", id),
        }
    }
}

#[derive(Debug, Clone)]
pub struct VariableRow {
    pub id: i64,
    pub uuid: String,
    pub key: String,
    pub value: String,
    pub secured: bool,
}

impl VariableRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            key: col(row, "key")?,
            value: col(row, "value")?,
            secured: col::<i64>(row, "secured")? != 0,
        })
    }
}

#[derive(Debug, Clone)]
pub struct EnvironmentRow {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub environment_type: String,
    pub rank: i64,
}

impl EnvironmentRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            name: col(row, "name")?,
            environment_type: col(row, "environment_type")?,
            rank: col(row, "rank")?,
        })
    }
}

/// A deployment with the names of its environment and pipeline.
#[derive(Debug, Clone)]
pub struct DeploymentRow {
    pub id: i64,
    pub uuid: String,
    pub environment_uuid: String,
    pub environment_name: String,
    pub pipeline_uuid: Option<String>,
    pub step_uuid: Option<String>,
    pub commit_hash: String,
    pub release_name: String,
    pub deployer_id: Option<i64>,
    pub state: String,
    pub status: Option<String>,
    pub created_on: String,
    pub completed_on: Option<String>,
}

const DEPLOYMENT_SELECT: &str = "SELECT d.*, e.uuid AS environment_uuid,
    e.name AS environment_name, p.uuid AS pipeline_uuid
    FROM deployments d JOIN environments e ON e.id = d.environment_id
    LEFT JOIN pipelines p ON p.id = d.pipeline_id";

impl DeploymentRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            environment_uuid: col(row, "environment_uuid")?,
            environment_name: col(row, "environment_name")?,
            pipeline_uuid: col(row, "pipeline_uuid")?,
            step_uuid: col(row, "step_uuid")?,
            commit_hash: col(row, "commit_hash")?,
            release_name: col(row, "release_name")?,
            deployer_id: col(row, "deployer_id")?,
            state: col(row, "state")?,
            status: col(row, "status")?,
            created_on: col(row, "created_on")?,
            completed_on: col(row, "completed_on")?,
        })
    }
}

/// The environments every repository starts with, as Bitbucket creates them.
pub const DEFAULT_ENVIRONMENTS: [(&str, &str); 3] = [
    ("Test", "Test"),
    ("Staging", "Staging"),
    ("Production", "Production"),
];

impl Store {
    /// Whether pipelines are enabled for a repository (they are until someone turns them off).
    pub async fn pipelines_enabled(&self, repo_id: i64) -> Result<bool, sqlx::Error> {
        let enabled: Option<i64> =
            sqlx::query_scalar("SELECT enabled FROM pipelines_config WHERE repo_id = ?")
                .bind(repo_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(enabled.is_none_or(|e| e != 0))
    }

    /// A repository's runs, newest first.
    pub async fn pipelines(&self, repo_id: i64) -> Result<Vec<PipelineRow>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT * FROM pipelines WHERE repo_id = ? ORDER BY build_number DESC")
                .bind(repo_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(PipelineRow::from_row).collect()
    }

    /// A run by uuid (with braces) or build number.
    pub async fn pipeline(
        &self,
        repo_id: i64,
        key: &str,
    ) -> Result<Option<PipelineRow>, sqlx::Error> {
        let number = key.parse::<i64>().unwrap_or(-1);
        let row = sqlx::query(
            "SELECT * FROM pipelines WHERE repo_id = ?1 AND (uuid = ?2 OR build_number = ?3)",
        )
        .bind(repo_id)
        .bind(key)
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(PipelineRow::from_row).transpose()
    }

    pub async fn pipeline_by_id(&self, id: i64) -> Result<Option<PipelineRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM pipelines WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(PipelineRow::from_row).transpose()
    }

    /// Runs some earlier process left pending or running (a paused run waits on purpose).
    pub async fn unfinished_pipelines(&self) -> Result<Vec<PipelineRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM pipelines WHERE state IN ('PENDING', 'IN_PROGRESS')")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(PipelineRow::from_row).collect()
    }

    pub async fn steps(&self, pipeline_id: i64) -> Result<Vec<StepRow>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STEP_COLUMNS} FROM pipeline_steps WHERE pipeline_id = ? ORDER BY position"
        )))
        .bind(pipeline_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(StepRow::from_row).collect()
    }

    pub async fn step(&self, pipeline_id: i64, uuid: &str) -> Result<Option<StepRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STEP_COLUMNS} FROM pipeline_steps WHERE pipeline_id = ? AND uuid = ?"
        )))
        .bind(pipeline_id)
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(StepRow::from_row).transpose()
    }

    /// A step's whole log.
    pub async fn step_log(&self, step_id: i64) -> Result<String, sqlx::Error> {
        sqlx::query_scalar("SELECT log FROM pipeline_steps WHERE id = ?")
            .bind(step_id)
            .fetch_one(&self.pool)
            .await
    }

    pub async fn variables(&self, scope: VarScope) -> Result<Vec<VariableRow>, sqlx::Error> {
        let (scope, owner) = scope.parts();
        let rows = sqlx::query(
            "SELECT * FROM pipeline_variables WHERE scope = ? AND owner_id = ? ORDER BY key",
        )
        .bind(scope)
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(VariableRow::from_row).collect()
    }

    pub async fn variable(
        &self,
        scope: VarScope,
        uuid: &str,
    ) -> Result<Option<VariableRow>, sqlx::Error> {
        let (scope, owner) = scope.parts();
        let row = sqlx::query(
            "SELECT * FROM pipeline_variables WHERE scope = ? AND owner_id = ? AND uuid = ?",
        )
        .bind(scope)
        .bind(owner)
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(VariableRow::from_row).transpose()
    }

    pub async fn environments(&self, repo_id: i64) -> Result<Vec<EnvironmentRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM environments WHERE repo_id = ? ORDER BY rank, id")
            .bind(repo_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(EnvironmentRow::from_row).collect()
    }

    /// An environment by uuid or (case-insensitive) name.
    pub async fn environment(
        &self,
        repo_id: i64,
        key: &str,
    ) -> Result<Option<EnvironmentRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT * FROM environments WHERE repo_id = ?1
               AND (uuid = ?2 OR lower(name) = lower(?2)) ORDER BY uuid = ?2 DESC LIMIT 1",
        )
        .bind(repo_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(EnvironmentRow::from_row).transpose()
    }

    /// A repository's deployments, newest first.
    pub async fn deployments(&self, repo_id: i64) -> Result<Vec<DeploymentRow>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE e.repo_id = ? ORDER BY d.id DESC"
        )))
        .bind(repo_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(DeploymentRow::from_row).collect()
    }

    pub async fn deployment(
        &self,
        repo_id: i64,
        uuid: &str,
    ) -> Result<Option<DeploymentRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE e.repo_id = ? AND d.uuid = ?"
        )))
        .bind(repo_id)
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(DeploymentRow::from_row).transpose()
    }
}

impl Write<'_> {
    pub async fn set_pipelines_enabled(
        &mut self,
        repo_id: i64,
        enabled: bool,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO pipelines_config (repo_id, enabled) VALUES (?1, ?2)
             ON CONFLICT (repo_id) DO UPDATE SET enabled = ?2",
        )
        .bind(repo_id)
        .bind(i64::from(enabled))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Stores a pending run with the repository's next build number, and its pending steps.
    pub async fn insert_pipeline(
        &mut self,
        repo_id: i64,
        new: &NewPipeline,
    ) -> Result<PipelineRow, sqlx::Error> {
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO pipelines_config (repo_id, next_build_number) VALUES (?1, 2)
             ON CONFLICT (repo_id) DO UPDATE SET next_build_number = next_build_number + 1
             RETURNING next_build_number - 1",
        )
        .bind(repo_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO pipelines (repo_id, uuid, build_number, creator_id, ref_type, ref_name,
                commit_hash, selector_type, selector_pattern, trigger_name, state, variables,
                created_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?) RETURNING *",
        )
        .bind(repo_id)
        .bind(&new.uuid)
        .bind(number)
        .bind(new.creator_id)
        .bind(&new.ref_type)
        .bind(&new.ref_name)
        .bind(&new.commit_hash)
        .bind(&new.selector_type)
        .bind(&new.selector_pattern)
        .bind(&new.trigger_name)
        .bind(&new.variables)
        .bind(&new.created_on)
        .fetch_one(&mut *self.tx)
        .await?;
        let pipeline = PipelineRow::from_row(&row)?;
        for (position, step) in new.steps.iter().enumerate() {
            sqlx::query(
                "INSERT INTO pipeline_steps (pipeline_id, uuid, position, name, script,
                    deployment, max_time_minutes, manual, state)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PENDING')",
            )
            .bind(pipeline.id)
            .bind(&step.uuid)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(&step.name)
            .bind(&step.script)
            .bind(&step.deployment)
            .bind(step.max_time_minutes)
            .bind(i64::from(step.manual))
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(pipeline)
    }

    /// Moves a run to `state` (with `result` and `error` when completed); `time` is its start
    /// for IN_PROGRESS and its end for COMPLETED.
    pub async fn set_pipeline_state(
        &mut self,
        id: i64,
        state: &str,
        result: Option<&str>,
        error: Option<&str>,
        time: &str,
    ) -> Result<(), sqlx::Error> {
        self.set_state("pipelines", id, (state, result, error), time)
            .await
    }

    /// The same for a step.
    pub async fn set_step_state(
        &mut self,
        id: i64,
        state: &str,
        result: Option<&str>,
        error: Option<&str>,
        time: &str,
    ) -> Result<(), sqlx::Error> {
        self.set_state("pipeline_steps", id, (state, result, error), time)
            .await
    }

    /// Runs and steps keep their state in the same columns.
    async fn set_state(
        &mut self,
        table: &'static str,
        id: i64,
        (state, result, error): (&str, Option<&str>, Option<&str>),
        time: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET state = ?2, result = ?3, error_message = ?4,
                started_on = CASE WHEN ?2 = 'IN_PROGRESS' THEN ?5 ELSE started_on END,
                completed_on = CASE WHEN ?2 = 'COMPLETED' THEN ?5 ELSE completed_on END
             WHERE id = ?1"
        )))
        .bind(id)
        .bind(state)
        .bind(result)
        .bind(error)
        .bind(time)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Completes a run with `result` (and `error`), its pending steps NOT_RUN.
    pub async fn complete_pipeline(
        &mut self,
        id: i64,
        result: &str,
        error: Option<&str>,
        time: &str,
    ) -> Result<(), sqlx::Error> {
        self.skip_pending_steps(id).await?;
        self.set_pipeline_state(id, "COMPLETED", Some(result), error, time)
            .await
    }

    /// Completes every step of a run still pending with `NOT_RUN`.
    pub async fn skip_pending_steps(&mut self, pipeline_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE pipeline_steps SET state = 'COMPLETED', result = 'NOT_RUN'
             WHERE pipeline_id = ? AND state = 'PENDING'",
        )
        .bind(pipeline_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn append_step_log(&mut self, step_id: i64, text: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE pipeline_steps SET log = log || ? WHERE id = ?")
            .bind(text)
            .bind(step_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Creates a variable; `None` when the key is taken in that scope.
    pub async fn insert_variable(
        &mut self,
        scope: VarScope,
        uuid: &str,
        key: &str,
        value: &str,
        secured: bool,
    ) -> Result<Option<VariableRow>, sqlx::Error> {
        let (scope, owner) = scope.parts();
        let row = sqlx::query(
            "INSERT INTO pipeline_variables (uuid, scope, owner_id, key, value, secured)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, owner_id, key) DO NOTHING RETURNING *",
        )
        .bind(uuid)
        .bind(scope)
        .bind(owner)
        .bind(key)
        .bind(value)
        .bind(i64::from(secured))
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(VariableRow::from_row).transpose()
    }

    /// Replaces a variable's key, value and secured flag; `None` when the new key is taken.
    pub async fn update_variable(
        &mut self,
        id: i64,
        key: &str,
        value: &str,
        secured: bool,
    ) -> Result<Option<VariableRow>, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE OR IGNORE pipeline_variables SET key = ?, value = ?, secured = ?
             WHERE id = ? RETURNING *",
        )
        .bind(key)
        .bind(value)
        .bind(i64::from(secured))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(VariableRow::from_row).transpose()
    }

    pub async fn delete_variable(&mut self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM pipeline_variables WHERE id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Gives a repository Bitbucket's three environments if it has none yet.
    pub async fn ensure_environments(
        &mut self,
        repo_id: i64,
        uuids: [String; 3],
    ) -> Result<(), sqlx::Error> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM environments WHERE repo_id = ?")
            .bind(repo_id)
            .fetch_one(&mut *self.tx)
            .await?;
        if count > 0 {
            return Ok(());
        }
        for ((rank, (name, kind)), uuid) in DEFAULT_ENVIRONMENTS.iter().enumerate().zip(uuids) {
            self.insert_environment(repo_id, &uuid, name, kind, i64::try_from(rank).unwrap_or(0))
                .await?;
        }
        Ok(())
    }

    /// Creates an environment; `None` when the repository has one of that name.
    pub async fn insert_environment(
        &mut self,
        repo_id: i64,
        uuid: &str,
        name: &str,
        kind: &str,
        rank: i64,
    ) -> Result<Option<EnvironmentRow>, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO environments (repo_id, uuid, name, environment_type, rank)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo_id, name) DO NOTHING RETURNING *",
        )
        .bind(repo_id)
        .bind(uuid)
        .bind(name)
        .bind(kind)
        .bind(rank)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(EnvironmentRow::from_row).transpose()
    }

    pub async fn delete_environment(&mut self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM environments WHERE id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Records a deployment in progress.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_deployment(
        &mut self,
        uuid: &str,
        environment_id: i64,
        pipeline_id: i64,
        step_uuid: &str,
        commit_hash: &str,
        release_name: &str,
        deployer_id: Option<i64>,
        time: &str,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO deployments (uuid, environment_id, pipeline_id, step_uuid, commit_hash,
                release_name, deployer_id, state, created_on)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'IN_PROGRESS', ?) RETURNING id",
        )
        .bind(uuid)
        .bind(environment_id)
        .bind(pipeline_id)
        .bind(step_uuid)
        .bind(commit_hash)
        .bind(release_name)
        .bind(deployer_id)
        .bind(time)
        .fetch_one(&mut *self.tx)
        .await
    }

    /// Completes the deployment a step made, with the step's result.
    pub async fn finish_deployment(
        &mut self,
        step_uuid: &str,
        status: &str,
        time: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE deployments SET state = 'COMPLETED', status = ?, completed_on = ?
             WHERE step_uuid = ? AND state = 'IN_PROGRESS'",
        )
        .bind(status)
        .bind(time)
        .bind(step_uuid)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
