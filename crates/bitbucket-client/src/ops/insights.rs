//! Code Insights and build statuses one at a time: reports on commits (`PUT` creates or
//! replaces one by the id its creator chose), their annotations, and one build status by key.

use reqwest::Method;
use serde::Serialize;

use crate::error::Error;
use crate::http::Client;
use crate::models::{Annotation, CommitStatus, Report, ReportData};
use crate::ops::list_query;
use crate::page::{ListParams, Page};
use crate::path::segment;
use crate::repo::RepoId;

/// A report to create or replace (`PUT .../reports/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewReport {
    /// Its title, e.g. `Security scan`.
    pub title: String,
    /// What the report is about, e.g. "2 new vulnerabilities".
    pub details: String,
    /// `SECURITY`, `COVERAGE`, `TEST` or `BUG`.
    pub report_type: String,
    /// `PASSED`, `FAILED` or `PENDING`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The tool or company that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    /// The finding in its tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Up to 10 figures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<ReportData>,
}

/// An annotation to create or replace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewAnnotation {
    /// Its id within the report, chosen by its creator; needed in bulk uploads, taken from the
    /// path by `put_annotation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// `VULNERABILITY`, `CODE_SMELL` or `BUG`.
    pub annotation_type: String,
    /// The message shown to people.
    pub summary: String,
    /// What it says in a sentence or two.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The file it is on, from the repository root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The line it is on, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// `PASSED`, `FAILED`, `SKIPPED` or `IGNORED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// `CRITICAL`, `HIGH`, `MEDIUM` or `LOW`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The finding in its tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Client {
    fn commit_url(&self, repo: &RepoId, commit: &str, rest: &str) -> Result<url::Url, Error> {
        self.endpoint(&format!(
            "{}/commit/{}{rest}",
            repo.path(),
            segment("commit", commit)?
        ))
    }

    fn report_url(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
        rest: &str,
    ) -> Result<url::Url, Error> {
        self.commit_url(
            repo,
            commit,
            &format!("/reports/{}{rest}", segment("report_id", report)?),
        )
    }

    /// `GET .../commit/{commit}/statuses/build/{key}`: one build status.
    pub async fn get_commit_status(
        &self,
        repo: &RepoId,
        commit: &str,
        key: &str,
    ) -> Result<CommitStatus, Error> {
        let url = self.commit_url(
            repo,
            commit,
            &format!("/statuses/build/{}", segment("key", key)?),
        )?;
        self.get_json(url).await
    }

    /// `GET .../commit/{commit}/reports`.
    pub async fn list_reports(
        &self,
        repo: &RepoId,
        commit: &str,
        params: &ListParams,
    ) -> Result<Page<Report>, Error> {
        let mut url = self.commit_url(repo, commit, "/reports")?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../commit/{commit}/reports/{report}`, by external id or uuid.
    pub async fn get_report(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
    ) -> Result<Report, Error> {
        self.get_json(self.report_url(repo, commit, report, "")?)
            .await
    }

    /// `PUT .../commit/{commit}/reports/{report}`: creates the report with that external id,
    /// or replaces it.
    pub async fn put_report(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
        new: &NewReport,
    ) -> Result<Report, Error> {
        let url = self.report_url(repo, commit, report, "")?;
        self.send_json(Method::PUT, url, new).await
    }

    /// `DELETE .../commit/{commit}/reports/{report}`, with its annotations.
    pub async fn delete_report(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
    ) -> Result<(), Error> {
        self.delete(self.report_url(repo, commit, report, "")?)
            .await
    }

    /// `GET .../reports/{report}/annotations`.
    pub async fn list_annotations(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
        params: &ListParams,
    ) -> Result<Page<Annotation>, Error> {
        let mut url = self.report_url(repo, commit, report, "/annotations")?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../reports/{report}/annotations/{annotation}`.
    pub async fn get_annotation(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
        annotation: &str,
    ) -> Result<Annotation, Error> {
        let rest = format!("/annotations/{}", segment("annotation_id", annotation)?);
        self.get_json(self.report_url(repo, commit, report, &rest)?)
            .await
    }

    /// `POST .../reports/{report}/annotations`: creates or replaces up to 100 annotations
    /// (each needs its `external_id`), all or none.
    pub async fn put_annotations(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
        annotations: &[NewAnnotation],
    ) -> Result<Vec<Annotation>, Error> {
        if annotations.is_empty() || annotations.len() > 100 {
            return Err(Error::InvalidInput {
                message: format!(
                    "upload between 1 and 100 annotations at a time, not {}",
                    annotations.len()
                ),
            });
        }
        if let Some(n) = annotations.iter().position(|a| {
            a.external_id
                .as_deref()
                .is_none_or(|id| id.trim().is_empty())
        }) {
            return Err(Error::InvalidInput {
                message: format!("annotation {n} has no `external_id`"),
            });
        }
        let url = self.report_url(repo, commit, report, "/annotations")?;
        self.send_json(Method::POST, url, annotations).await
    }

    /// `PUT .../reports/{report}/annotations/{annotation}`: creates or replaces one.
    pub async fn put_annotation(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
        annotation: &str,
        new: &NewAnnotation,
    ) -> Result<Annotation, Error> {
        let rest = format!("/annotations/{}", segment("annotation_id", annotation)?);
        let url = self.report_url(repo, commit, report, &rest)?;
        self.send_json(Method::PUT, url, new).await
    }

    /// `DELETE .../reports/{report}/annotations/{annotation}`.
    pub async fn delete_annotation(
        &self,
        repo: &RepoId,
        commit: &str,
        report: &str,
        annotation: &str,
    ) -> Result<(), Error> {
        let rest = format!("/annotations/{}", segment("annotation_id", annotation)?);
        self.delete(self.report_url(repo, commit, report, &rest)?)
            .await
    }
}
