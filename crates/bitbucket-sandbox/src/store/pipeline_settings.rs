//! A repository's pipeline settings: schedules, runners and SSH known hosts.

use sqlx::sqlite::SqliteRow;

use super::{Store, Write, col};

#[derive(Debug, Clone)]
pub struct ScheduleRow {
    pub id: i64,
    pub uuid: String,
    pub ref_name: String,
    pub selector_type: String,
    pub selector_pattern: String,
    pub cron_pattern: String,
    pub enabled: bool,
    pub created_on: String,
    pub updated_on: String,
}

impl ScheduleRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            ref_name: col(row, "ref_name")?,
            selector_type: col(row, "selector_type")?,
            selector_pattern: col(row, "selector_pattern")?,
            cron_pattern: col(row, "cron_pattern")?,
            enabled: col::<i64>(row, "enabled")? != 0,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct RunnerRow {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    /// JSON array.
    pub labels: String,
    pub status: String,
    pub created_on: String,
    pub updated_on: String,
}

impl RunnerRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            name: col(row, "name")?,
            labels: col(row, "labels")?,
            status: col(row, "status")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct KnownHostRow {
    pub id: i64,
    pub uuid: String,
    pub hostname: String,
    pub key_type: String,
    pub key: String,
}

impl KnownHostRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            hostname: col(row, "hostname")?,
            key_type: col(row, "key_type")?,
            key: col(row, "key")?,
        })
    }
}

/// The three tables, by name, for the queries they share.
#[derive(Debug, Clone, Copy)]
pub enum Setting {
    Schedule,
    Runner,
    KnownHost,
}

impl Setting {
    const fn table(self) -> &'static str {
        match self {
            Setting::Schedule => "pipeline_schedules",
            Setting::Runner => "pipeline_runners",
            Setting::KnownHost => "pipeline_known_hosts",
        }
    }
}

impl Store {
    pub async fn schedules(&self, repo_id: i64) -> Result<Vec<ScheduleRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM pipeline_schedules WHERE repo_id = ? ORDER BY id")
            .bind(repo_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ScheduleRow::from_row).collect()
    }

    pub async fn schedule(
        &self,
        repo_id: i64,
        uuid: &str,
    ) -> Result<Option<ScheduleRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM pipeline_schedules WHERE repo_id = ? AND uuid = ?")
            .bind(repo_id)
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ScheduleRow::from_row).transpose()
    }

    pub async fn runners(&self, repo_id: i64) -> Result<Vec<RunnerRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM pipeline_runners WHERE repo_id = ? ORDER BY id")
            .bind(repo_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(RunnerRow::from_row).collect()
    }

    pub async fn runner(&self, repo_id: i64, uuid: &str) -> Result<Option<RunnerRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM pipeline_runners WHERE repo_id = ? AND uuid = ?")
            .bind(repo_id)
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(RunnerRow::from_row).transpose()
    }

    pub async fn known_hosts(&self, repo_id: i64) -> Result<Vec<KnownHostRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM pipeline_known_hosts WHERE repo_id = ? ORDER BY id")
            .bind(repo_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(KnownHostRow::from_row).collect()
    }

    pub async fn known_host(
        &self,
        repo_id: i64,
        uuid: &str,
    ) -> Result<Option<KnownHostRow>, sqlx::Error> {
        let row = sqlx::query("SELECT * FROM pipeline_known_hosts WHERE repo_id = ? AND uuid = ?")
            .bind(repo_id)
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(KnownHostRow::from_row).transpose()
    }
}

impl Write<'_> {
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_schedule(
        &mut self,
        repo_id: i64,
        uuid: &str,
        ref_name: &str,
        selector: (&str, &str),
        cron_pattern: &str,
        enabled: bool,
        time: &str,
    ) -> Result<ScheduleRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO pipeline_schedules (repo_id, uuid, ref_name, selector_type,
                selector_pattern, cron_pattern, enabled, created_on, updated_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING *",
        )
        .bind(repo_id)
        .bind(uuid)
        .bind(ref_name)
        .bind(selector.0)
        .bind(selector.1)
        .bind(cron_pattern)
        .bind(i64::from(enabled))
        .bind(time)
        .fetch_one(&mut *self.tx)
        .await?;
        ScheduleRow::from_row(&row)
    }

    pub async fn set_schedule_enabled(
        &mut self,
        id: i64,
        enabled: bool,
        time: &str,
    ) -> Result<ScheduleRow, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE pipeline_schedules SET enabled = ?, updated_on = ? WHERE id = ? RETURNING *",
        )
        .bind(i64::from(enabled))
        .bind(time)
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?;
        ScheduleRow::from_row(&row)
    }

    pub async fn insert_runner(
        &mut self,
        repo_id: i64,
        uuid: &str,
        name: &str,
        labels: &str,
        time: &str,
    ) -> Result<RunnerRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO pipeline_runners (repo_id, uuid, name, labels, created_on, updated_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING *",
        )
        .bind(repo_id)
        .bind(uuid)
        .bind(name)
        .bind(labels)
        .bind(time)
        .fetch_one(&mut *self.tx)
        .await?;
        RunnerRow::from_row(&row)
    }

    pub async fn update_runner(
        &mut self,
        id: i64,
        name: &str,
        labels: &str,
        time: &str,
    ) -> Result<RunnerRow, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE pipeline_runners SET name = ?, labels = ?, updated_on = ? WHERE id = ?
             RETURNING *",
        )
        .bind(name)
        .bind(labels)
        .bind(time)
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?;
        RunnerRow::from_row(&row)
    }

    /// Adds a known host; `None` when the repository has one for that host name.
    pub async fn insert_known_host(
        &mut self,
        repo_id: i64,
        uuid: &str,
        hostname: &str,
        (key_type, key): (&str, &str),
    ) -> Result<Option<KnownHostRow>, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO pipeline_known_hosts (repo_id, uuid, hostname, key_type, key)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (repo_id, hostname) DO NOTHING RETURNING *",
        )
        .bind(repo_id)
        .bind(uuid)
        .bind(hostname)
        .bind(key_type)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(KnownHostRow::from_row).transpose()
    }

    pub async fn update_known_host(
        &mut self,
        id: i64,
        hostname: &str,
        (key_type, key): (&str, &str),
    ) -> Result<Option<KnownHostRow>, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE OR IGNORE pipeline_known_hosts SET hostname = ?, key_type = ?, key = ?
             WHERE id = ? RETURNING *",
        )
        .bind(hostname)
        .bind(key_type)
        .bind(key)
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(KnownHostRow::from_row).transpose()
    }

    /// Deletes a schedule, runner or known host by row id.
    pub async fn delete_setting(&mut self, setting: Setting, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE id = ?",
            setting.table()
        )))
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
