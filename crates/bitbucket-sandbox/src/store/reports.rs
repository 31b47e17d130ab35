//! Code Insights: reports that CI tools put on commits, and the annotations in them.

use sqlx::sqlite::SqliteRow;

use super::{Store, Write, col};

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: i64,
    pub commit_hash: String,
    pub uuid: String,
    pub external_id: String,
    pub title: String,
    pub details: String,
    pub report_type: String,
    pub result: Option<String>,
    pub reporter: Option<String>,
    pub link: Option<String>,
    pub logo_url: Option<String>,
    pub remote_link_enabled: bool,
    /// The `data` array, as JSON.
    pub data: String,
    pub created_on: String,
    pub updated_on: String,
}

impl ReportRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            commit_hash: col(row, "commit_hash")?,
            uuid: col(row, "uuid")?,
            external_id: col(row, "external_id")?,
            title: col(row, "title")?,
            details: col(row, "details")?,
            report_type: col(row, "report_type")?,
            result: col(row, "result")?,
            reporter: col(row, "reporter")?,
            link: col(row, "link")?,
            logo_url: col(row, "logo_url")?,
            remote_link_enabled: col::<i64>(row, "remote_link_enabled")? != 0,
            data: col(row, "data")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct AnnotationRow {
    pub id: i64,
    pub uuid: String,
    pub external_id: String,
    pub annotation_type: String,
    pub summary: String,
    pub details: Option<String>,
    pub path: Option<String>,
    pub line: Option<i64>,
    pub result: Option<String>,
    pub severity: Option<String>,
    pub link: Option<String>,
    pub created_on: String,
    pub updated_on: String,
}

impl AnnotationRow {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: col(row, "id")?,
            uuid: col(row, "uuid")?,
            external_id: col(row, "external_id")?,
            annotation_type: col(row, "annotation_type")?,
            summary: col(row, "summary")?,
            details: col(row, "details")?,
            path: col(row, "path")?,
            line: col(row, "line")?,
            result: col(row, "result")?,
            severity: col(row, "severity")?,
            link: col(row, "link")?,
            created_on: col(row, "created_on")?,
            updated_on: col(row, "updated_on")?,
        })
    }
}

impl Store {
    /// A commit's reports, oldest first.
    pub async fn reports(&self, repo_id: i64, hash: &str) -> Result<Vec<ReportRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT * FROM commit_reports WHERE repo_id = ? AND commit_hash = ? ORDER BY id",
        )
        .bind(repo_id)
        .bind(hash)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ReportRow::from_row).collect()
    }

    /// The report of a commit with this external id or uuid (with its braces).
    pub async fn report(
        &self,
        repo_id: i64,
        hash: &str,
        id: &str,
    ) -> Result<Option<ReportRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT * FROM commit_reports WHERE repo_id = ? AND commit_hash = ?
               AND (external_id = ?3 OR uuid = ?3)",
        )
        .bind(repo_id)
        .bind(hash)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ReportRow::from_row).transpose()
    }

    /// A report's annotations, oldest first.
    pub async fn annotations(&self, report_id: i64) -> Result<Vec<AnnotationRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM report_annotations WHERE report_id = ? ORDER BY id")
            .bind(report_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(AnnotationRow::from_row).collect()
    }

    /// The annotation of a report with this external id or uuid.
    pub async fn annotation(
        &self,
        report_id: i64,
        id: &str,
    ) -> Result<Option<AnnotationRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT * FROM report_annotations WHERE report_id = ?1
               AND (external_id = ?2 OR uuid = ?2)",
        )
        .bind(report_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(AnnotationRow::from_row).transpose()
    }
}

impl Write<'_> {
    /// Creates the report, or replaces the one with the same external id on that commit
    /// (keeping its uuid, creation time and annotations). Returns the stored row.
    pub async fn put_report(
        &mut self,
        repo_id: i64,
        report: &ReportRow,
    ) -> Result<ReportRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO commit_reports (repo_id, commit_hash, uuid, external_id, title, details,
                report_type, result, reporter, link, logo_url, remote_link_enabled, data,
                created_on, updated_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
             ON CONFLICT (repo_id, commit_hash, external_id) DO UPDATE SET title = ?5,
                details = ?6, report_type = ?7, result = ?8, reporter = ?9, link = ?10,
                logo_url = ?11, remote_link_enabled = ?12, data = ?13, updated_on = ?14
             RETURNING *",
        )
        .bind(repo_id)
        .bind(&report.commit_hash)
        .bind(&report.uuid)
        .bind(&report.external_id)
        .bind(&report.title)
        .bind(&report.details)
        .bind(&report.report_type)
        .bind(&report.result)
        .bind(&report.reporter)
        .bind(&report.link)
        .bind(&report.logo_url)
        .bind(i64::from(report.remote_link_enabled))
        .bind(&report.data)
        .bind(&report.updated_on)
        .fetch_one(&mut *self.tx)
        .await?;
        ReportRow::from_row(&row)
    }

    /// Deletes a report and its annotations.
    pub async fn delete_report(&mut self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM commit_reports WHERE id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// How many annotations a report has.
    pub async fn annotation_count(&mut self, report_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM report_annotations WHERE report_id = ?")
            .bind(report_id)
            .fetch_one(&mut *self.tx)
            .await
    }

    /// Creates the annotation, or replaces the one with the same external id in the report
    /// (keeping its uuid and creation time). Returns the stored row.
    pub async fn put_annotation(
        &mut self,
        report_id: i64,
        annotation: &AnnotationRow,
    ) -> Result<AnnotationRow, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO report_annotations (report_id, uuid, external_id, annotation_type,
                summary, details, path, line, result, severity, link, created_on, updated_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
             ON CONFLICT (report_id, external_id) DO UPDATE SET annotation_type = ?4,
                summary = ?5, details = ?6, path = ?7, line = ?8, result = ?9, severity = ?10,
                link = ?11, updated_on = ?12
             RETURNING *",
        )
        .bind(report_id)
        .bind(&annotation.uuid)
        .bind(&annotation.external_id)
        .bind(&annotation.annotation_type)
        .bind(&annotation.summary)
        .bind(&annotation.details)
        .bind(&annotation.path)
        .bind(annotation.line)
        .bind(&annotation.result)
        .bind(&annotation.severity)
        .bind(&annotation.link)
        .bind(&annotation.updated_on)
        .fetch_one(&mut *self.tx)
        .await?;
        AnnotationRow::from_row(&row)
    }

    pub async fn delete_annotation(&mut self, id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM report_annotations WHERE id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
