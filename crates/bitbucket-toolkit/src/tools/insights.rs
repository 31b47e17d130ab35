//! What CI says about a commit beyond pass or fail: one build status by key (and posting one),
//! and Code Insights reports (a scan, a test run, coverage) with their annotations, the
//! findings on a file and line.

use bitbucket_client::{
    Annotation, Client, ListParams, NewAnnotation, NewCommitStatus, NewReport, RepoId, Report,
    ReportData,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::args::{ArgError, PageLen, PageNumber, Text, choice, repo_id};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{Line, ListOutput, Paging, Render, field, short_hash};
use crate::spec::{ToolAnnotations, Toolset};
use crate::tools::Tool;
use crate::tools::reviews::statuses::StatusOutput;

fn of(repo: &RepoId, commit: &str) -> String {
    format!("commit {} of {repo}", short_hash(commit))
}

fn commit_context(action: String, repo: &RepoId, commit: &str) -> Context {
    Context::new(action, Scope::repository(repo))
        .item(format!("commit `{commit}`"), "BITBUCKET_LIST_COMMITS")
}

fn report_context(action: &str, repo: &RepoId, commit: &str, report: &str) -> Context {
    Context::new(
        format!("{action} report `{report}` of commit `{commit}`"),
        Scope::repository(repo),
    )
    .item(
        format!("commit `{commit}` or its report `{report}`"),
        "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS",
    )
}

fn annotation_context(
    action: &str,
    repo: &RepoId,
    commit: &str,
    report: &str,
    annotation: &str,
) -> Context {
    Context::new(
        format!("{action} annotation `{annotation}` of report `{report}`"),
        Scope::repository(repo),
    )
    .item(
        format!("report `{report}` on commit `{commit}` or its annotation `{annotation}`"),
        "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT",
    )
}

impl Render for StatusOutput {
    fn render(&self) -> String {
        format!("Build {}", self.line())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildStatusArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// The build's key, e.g. `ci/build`.
    key: Text,
}

pub(crate) struct GetCommitBuildStatus;

impl Tool for GetCommitBuildStatus {
    const NAME: &'static str = "BITBUCKET_GET_COMMIT_BUILD_STATUS";
    const TITLE: &'static str = "Get commit build status";
    const DESCRIPTION: &'static str = "One build status of a commit, by its key (all of them: BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES).";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build/{key}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = BuildStatusArgs;
    type Output = StatusOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, key) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
            args.key.as_str(),
        );
        let status = client
            .get_commit_status(&repo, commit, key)
            .await
            .or_explain(client, || {
                Context::new(
                    format!("read build `{key}` of commit `{commit}`"),
                    Scope::repository(&repo),
                )
                .item(
                    format!("commit `{commit}` or its build `{key}`"),
                    "BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES",
                )
            })
            .await?;
        Ok(StatusOutput::from_status(status))
    }
}

choice!(BuildState {
    Successful => "SUCCESSFUL",
    Failed => "FAILED",
    InProgress => "INPROGRESS",
    Stopped => "STOPPED",
});

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewBuildStatusArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// The build's key; the same key replaces its status.
    key: Text,
    /// The build's state.
    state: BuildState,
    /// The build's page.
    url: Text,
    /// Name to show, e.g. `Build #42`.
    name: Option<Text>,
    /// E.g. `4 tests failed`.
    description: Option<Text>,
}

pub(crate) struct CreateCommitBuildStatus;

impl Tool for CreateCommitBuildStatus {
    const NAME: &'static str = "BITBUCKET_CREATE_COMMIT_BUILD_STATUS";
    const TITLE: &'static str = "Post build status";
    const DESCRIPTION: &'static str =
        "Posts a build status on a commit, as CI does; a status with the same key is replaced.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = NewBuildStatusArgs;
    type Output = StatusOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
        );
        let new = NewCommitStatus {
            key: args.key.0,
            state: args.state.as_str().to_owned(),
            url: args.url.0,
            name: args.name.map(|n| n.0),
            description: args.description.map(|d| d.0),
        };
        let status = client
            .create_commit_status(&repo, commit, &new)
            .await
            .or_explain(client, || {
                commit_context(
                    format!("post build `{}` on commit `{commit}`", new.key),
                    &repo,
                    commit,
                )
            })
            .await?;
        Ok(StatusOutput::from_status(status))
    }
}

/// A Code Insights report.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct ReportOutput {
    /// Its id, chosen by its creator, e.g. `scanner-001`.
    pub report_id: String,
    pub title: String,
    /// `SECURITY`, `COVERAGE`, `TEST` or `BUG`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_type: Option<String>,
    /// `PASSED`, `FAILED` or `PENDING`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Figures, e.g. `{"title": "Coverage", "type": "PERCENTAGE", "value": 81.5}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
}

impl ReportOutput {
    fn from_report(report: Report) -> Self {
        ReportOutput {
            report_id: report.external_id.unwrap_or(report.uuid),
            title: report.title,
            report_type: report.report_type,
            result: report.result,
            details: report.details,
            reporter: report.reporter,
            link: report.link,
            data: report
                .data
                .into_iter()
                .filter_map(|d| serde_json::to_value(d).ok())
                .collect(),
            updated_on: report.updated_on.or(report.created_on),
        }
    }

    fn figures(&self) -> String {
        self.data
            .iter()
            .map(|d| {
                let value = match &d["value"] {
                    Value::String(s) => s.clone(),
                    Value::Object(link) => link
                        .get("href")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    other => other.to_string(),
                };
                let unit = if d["type"] == "PERCENTAGE" { "%" } else { "" };
                format!("{}: {value}{unit}", d["title"].as_str().unwrap_or("?"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Line for ReportOutput {
    fn line(&self) -> String {
        let mut line = format!(
            "`{}` {} [{}]",
            self.report_id,
            self.title,
            self.result.as_deref().unwrap_or("no result")
        );
        if let Some(kind) = &self.report_type {
            line.push_str(&format!(" {kind}"));
        }
        if let Some(details) = &self.details {
            line.push_str(&format!(": {details}"));
        }
        if !self.data.is_empty() {
            line.push_str(&format!(" ({})", self.figures()));
        }
        line
    }
}

impl Render for ReportOutput {
    fn render(&self) -> String {
        format!("Report {}", self.line())
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListReportsArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// Page number (see `next_page`).
    page: Option<PageNumber>,
    /// Items per page, max 100.
    pagelen: Option<PageLen<100>>,
}

pub(crate) struct ListReports;

impl Tool for ListReports {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS";
    const TITLE: &'static str = "List commit reports";
    const DESCRIPTION: &'static str = "Lists the Code Insights reports on a commit (security scans, tests, coverage, bugs) with their result and figures.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/commit/{commit}/reports";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ListReportsArgs;
    type Output = ListOutput<ReportOutput>;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
        );
        let mut params = ListParams::new();
        params.page = args.page.map(|p| p.0);
        params.pagelen = args.pagelen.map(|p| p.0);
        let page = client
            .list_reports(&repo, commit, &params)
            .await
            .or_explain(client, || {
                commit_context(
                    format!("list the reports of commit `{commit}`"),
                    &repo,
                    commit,
                )
            })
            .await?;
        Ok(ListOutput::new(
            page,
            params.page,
            format!("Reports on {}", of(&repo, commit)),
            ReportOutput::from_report,
        ))
    }
}

/// An annotation: one finding of a report.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct AnnotationOutput {
    /// Its id in the report, chosen by its creator.
    pub annotation_id: String,
    /// `VULNERABILITY`, `CODE_SMELL` or `BUG`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation_type: Option<String>,
    pub summary: String,
    /// `CRITICAL`, `HIGH`, `MEDIUM` or `LOW`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// `PASSED`, `FAILED`, `SKIPPED` or `IGNORED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl AnnotationOutput {
    fn from_annotation(annotation: Annotation) -> Self {
        AnnotationOutput {
            annotation_id: annotation.external_id.unwrap_or(annotation.uuid),
            annotation_type: annotation.annotation_type,
            summary: annotation.summary,
            severity: annotation.severity,
            result: annotation.result,
            path: annotation.path,
            line: annotation.line,
            details: annotation.details,
            link: annotation.link,
        }
    }
}

impl Line for AnnotationOutput {
    fn line(&self) -> String {
        let mut line = format!("`{}`", self.annotation_id);
        for tag in [&self.severity, &self.annotation_type, &self.result]
            .into_iter()
            .flatten()
        {
            line.push_str(&format!(" {tag}"));
        }
        match (&self.path, self.line) {
            (Some(path), Some(n)) => line.push_str(&format!(" {path}:{n}")),
            (Some(path), None) => line.push_str(&format!(" {path}")),
            _ => {}
        }
        line.push_str(&format!(": {}", self.summary));
        line
    }
}

impl Render for AnnotationOutput {
    fn render(&self) -> String {
        let mut text = format!("Annotation {}", self.line());
        field(&mut text, "Details", self.details.as_ref());
        field(&mut text, "Link", self.link.as_ref());
        text
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// The report's id (or uuid), e.g. `scanner-001`.
    report_id: Text,
    /// Page of its annotations (see `next_page`).
    page: Option<PageNumber>,
}

/// A report with a page of its annotations.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct ReportWithAnnotations {
    pub report: ReportOutput,
    /// Its findings, 100 a page.
    pub annotations: Vec<AnnotationOutput>,
    #[serde(flatten)]
    pub paging: Paging,
}

impl Render for ReportWithAnnotations {
    fn render(&self) -> String {
        let list = crate::output::render_list("Annotations", &self.annotations, &self.paging);
        format!("{}\n{list}", self.report.render())
    }
}

pub(crate) struct GetReport;

impl Tool for GetReport {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT";
    const TITLE: &'static str = "Get commit report";
    const DESCRIPTION: &'static str = "A commit's Code Insights report with its findings (annotations by file and line), 100 a page.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str =
        "GET /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = ReportArgs;
    type Output = ReportWithAnnotations;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
            args.report_id.as_str(),
        );
        let report = client
            .get_report(&repo, commit, id)
            .await
            .or_explain(client, || report_context("read", &repo, commit, id))
            .await?;
        let mut params = ListParams::new().pagelen(100);
        params.page = args.page.map(|p| p.0);
        let page = client
            .list_annotations(&repo, commit, id, &params)
            .await
            .or_explain(client, || {
                report_context("read the annotations of", &repo, commit, id)
            })
            .await?;
        let annotations = ListOutput::new(
            page,
            params.page,
            String::new(),
            AnnotationOutput::from_annotation,
        );
        Ok(ReportWithAnnotations {
            report: ReportOutput::from_report(report),
            annotations: annotations.items,
            paging: annotations.paging,
        })
    }
}

choice!(ReportType {
    Security => "SECURITY",
    Coverage => "COVERAGE",
    Test => "TEST",
    Bug => "BUG",
});

choice!(ReportResult {
    Passed => "PASSED",
    Failed => "FAILED",
    Pending => "PENDING",
});

// A figure shown with a report (no doc comment: it would repeat in the schema).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataArg {
    title: Text,
    /// BOOLEAN, NUMBER, PERCENTAGE, TEXT, LINK ({text, href}), DATE or DURATION (ms).
    #[serde(rename = "type")]
    kind: Option<Text>,
    value: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutReportArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// Your id for it, e.g. `scan-1`; the same id replaces it.
    report_id: Text,
    /// E.g. `Security scan`.
    title: Text,
    /// E.g. `2 new vulnerabilities`.
    details: Text,
    /// What it reports.
    report_type: ReportType,
    /// Its outcome.
    result: Option<ReportResult>,
    /// The report in the tool that made it.
    link: Option<Text>,
    /// Up to 10 figures.
    data: Option<Vec<DataArg>>,
}

pub(crate) struct PutReport;

impl Tool for PutReport {
    const NAME: &'static str = "BITBUCKET_UPDATE_INSIGHTS_PROJECTS_REPOS_COMMITS_REPORTS";
    const TITLE: &'static str = "Create or replace commit report";
    const DESCRIPTION: &'static str = "Publishes or replaces a test, coverage, security or bug report on a commit (Code Insights; calls Cloud's PUT …/reports/{id}).";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str =
        "PUT /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = PutReportArgs;
    type Output = ReportOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
        );
        let id = args.report_id.as_str();
        let data = args.data.unwrap_or_default();
        if data.len() > 10 {
            return Err(ArgError {
                tool: Self::NAME,
                problem: format!("`data` holds at most 10 figures, not {}", data.len()),
            }
            .into());
        }
        let new = NewReport {
            title: args.title.0,
            details: args.details.0,
            report_type: args.report_type.as_str().to_owned(),
            result: args.result.map(|r| r.as_str().to_owned()),
            reporter: None,
            link: args.link.map(|l| l.0),
            data: data
                .into_iter()
                .map(|d| ReportData {
                    title: d.title.0,
                    kind: d.kind.map(|k| k.0.to_ascii_uppercase()),
                    value: d.value,
                })
                .collect(),
        };
        let report = client
            .put_report(&repo, commit, id, &new)
            .await
            .or_explain(client, || report_context("write", &repo, commit, id))
            .await?;
        Ok(ReportOutput::from_report(report))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportIdArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// The report's id (or uuid), e.g. `scanner-001`.
    report_id: Text,
}

/// A report or annotation removed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct InsightDeleted {
    /// E.g. `report scanner-001 of commit 4f2a9c1 of acme/widgets`.
    pub deleted: String,
}

impl Render for InsightDeleted {
    fn render(&self) -> String {
        format!("Deleted {}", self.deleted)
    }
}

pub(crate) struct DeleteReport;

impl Tool for DeleteReport {
    const NAME: &'static str = "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORT";
    const TITLE: &'static str = "Delete commit report";
    const DESCRIPTION: &'static str =
        "Deletes a Code Insights report from a commit, with all its annotations.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str =
        "DELETE /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = ReportIdArgs;
    type Output = InsightDeleted;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
            args.report_id.as_str(),
        );
        client
            .delete_report(&repo, commit, id)
            .await
            .or_explain(client, || report_context("delete", &repo, commit, id))
            .await?;
        Ok(InsightDeleted {
            deleted: format!("report {id} of {}", of(&repo, commit)),
        })
    }
}

choice!(AnnotationType {
    Vulnerability => "VULNERABILITY",
    CodeSmell => "CODE_SMELL",
    Bug => "BUG",
});

choice!(Severity {
    Critical => "CRITICAL",
    High => "HIGH",
    Medium => "MEDIUM",
    Low => "LOW",
});

choice!(AnnotationResult {
    Passed => "PASSED",
    Failed => "FAILED",
    Skipped => "SKIPPED",
    Ignored => "IGNORED",
});

// A finding to upload (no doc comment: it would repeat in the schema).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnnotationArg {
    // Nested fields go undocumented: the tool's description and names say enough, and each
    // doc would be paid for in every tools/list.
    annotation_id: Text,
    annotation_type: AnnotationType,
    summary: Text,
    severity: Option<Severity>,
    path: Option<Text>,
    line: Option<u64>,
    result: Option<AnnotationResult>,
}

impl AnnotationArg {
    fn into_new(
        self,
        with_id: bool,
        details: Option<Text>,
        link: Option<Text>,
    ) -> (String, NewAnnotation) {
        let id = self.annotation_id.0;
        let new = NewAnnotation {
            external_id: with_id.then(|| id.clone()),
            annotation_type: self.annotation_type.as_str().to_owned(),
            summary: self.summary.0,
            details: details.map(|d| d.0),
            path: self.path.map(|p| p.0),
            line: self.line,
            result: self.result.map(|r| r.as_str().to_owned()),
            severity: self.severity.map(|s| s.as_str().to_owned()),
            link: link.map(|l| l.0),
        };
        (id, new)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAnnotationsArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// The report's id, e.g. `scanner-001`.
    report_id: Text,
    /// 1 to 100 findings, each with your `annotation_id` (the same id replaces it).
    annotations: Vec<AnnotationArg>,
}

/// Annotations stored.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct AnnotationsStored {
    /// E.g. `report scanner-001 of commit 4f2a9c1 of acme/widgets`.
    pub report: String,
    pub annotations: Vec<AnnotationOutput>,
}

impl Render for AnnotationsStored {
    fn render(&self) -> String {
        let mut text = format!(
            "Stored {} annotation(s) in {}:",
            self.annotations.len(),
            self.report
        );
        for annotation in &self.annotations {
            text.push_str(&format!("\n- {}", annotation.line()));
        }
        text
    }
}

pub(crate) struct CreateAnnotations;

impl Tool for CreateAnnotations {
    const NAME: &'static str = "BITBUCKET_CREATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS";
    const TITLE: &'static str = "Add report annotations";
    const DESCRIPTION: &'static str = "Adds findings to a Code Insights report, on a file and line or on the whole commit; an existing id is replaced. All or none are stored.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str =
        "POST /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}/annotations";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateAnnotationsArgs;
    type Output = AnnotationsStored;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, id) = (
            repo_id(&args.workspace, &args.repo_slug)?,
            args.commit.as_str(),
            args.report_id.as_str(),
        );
        if args.annotations.is_empty() || args.annotations.len() > 100 {
            return Err(ArgError {
                tool: Self::NAME,
                problem: format!(
                    "`annotations` takes 1 to 100 findings, not {}",
                    args.annotations.len()
                ),
            }
            .into());
        }
        let new: Vec<NewAnnotation> = args
            .annotations
            .into_iter()
            .map(|a| a.into_new(true, None, None).1)
            .collect();
        let stored = client
            .put_annotations(&repo, commit, id, &new)
            .await
            .or_explain(client, || {
                report_context("add annotations to", &repo, commit, id)
            })
            .await?;
        Ok(AnnotationsStored {
            report: format!("report {id} of {}", of(&repo, commit)),
            annotations: stored
                .into_iter()
                .map(AnnotationOutput::from_annotation)
                .collect(),
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnnotationIdArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// The report's id, e.g. `scanner-001`.
    report_id: Text,
    /// The annotation's id (or uuid).
    annotation_id: Text,
}

impl AnnotationIdArgs {
    fn parts(&self) -> Result<(RepoId, &str, &str, &str), ToolError> {
        Ok((
            repo_id(&self.workspace, &self.repo_slug)?,
            self.commit.as_str(),
            self.report_id.as_str(),
            self.annotation_id.as_str(),
        ))
    }
}

pub(crate) struct GetAnnotation;

impl Tool for GetAnnotation {
    const NAME: &'static str = "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS";
    const TITLE: &'static str = "Get report annotation";
    const DESCRIPTION: &'static str = "One annotation of a Code Insights report, with its details and link. BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT lists them all.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str = "GET /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}/annotations/{annotationId}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = AnnotationIdArgs;
    type Output = AnnotationOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, report, id) = args.parts()?;
        let annotation = client
            .get_annotation(&repo, commit, report, id)
            .await
            .or_explain(client, || {
                annotation_context("read", &repo, commit, report, id)
            })
            .await?;
        Ok(AnnotationOutput::from_annotation(annotation))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PutAnnotationArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// Repository slug, e.g. `widgets`.
    repo_slug: Text,
    /// Commit hash or branch, e.g. `main`.
    commit: Text,
    /// The report's id, e.g. `scan-1`.
    report_id: Text,
    /// Your id for it; the same id replaces it.
    annotation_id: Text,
    /// What it is.
    annotation_type: AnnotationType,
    /// The message.
    summary: Text,
    /// How bad.
    severity: Option<Severity>,
    /// File path.
    path: Option<Text>,
    /// Line, from 1.
    line: Option<u64>,
    /// Its outcome.
    result: Option<AnnotationResult>,
    /// More text.
    details: Option<Text>,
    /// The finding in its tool.
    link: Option<Text>,
}

pub(crate) struct UpdateAnnotation;

impl Tool for UpdateAnnotation {
    const NAME: &'static str = "BITBUCKET_UPDATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS";
    const TITLE: &'static str = "Create or replace report annotation";
    const DESCRIPTION: &'static str =
        "Creates or replaces one annotation (finding) of a Code Insights report by its id.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str = "PUT /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}/annotations/{annotationId}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::UPDATE;
    type Args = PutAnnotationArgs;
    type Output = AnnotationOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let repo = repo_id(&args.workspace, &args.repo_slug)?;
        let (commit, report) = (args.commit.0, args.report_id.0);
        let (id, new) = AnnotationArg {
            annotation_id: args.annotation_id,
            annotation_type: args.annotation_type,
            summary: args.summary,
            severity: args.severity,
            path: args.path,
            line: args.line,
            result: args.result,
        }
        .into_new(false, args.details, args.link);
        let annotation = client
            .put_annotation(&repo, &commit, &report, &id, &new)
            .await
            .or_explain(client, || {
                annotation_context("write", &repo, &commit, &report, &id)
            })
            .await?;
        Ok(AnnotationOutput::from_annotation(annotation))
    }
}

pub(crate) struct DeleteAnnotation;

impl Tool for DeleteAnnotation {
    const NAME: &'static str = "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS";
    const TITLE: &'static str = "Delete report annotation";
    const DESCRIPTION: &'static str = "Deletes one annotation from a Code Insights report.";
    const TOOLSET: Toolset = Toolset::Ci;
    const ENDPOINT: &'static str = "DELETE /repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}/annotations/{annotationId}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::DELETE;
    type Args = AnnotationIdArgs;
    type Output = InsightDeleted;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (repo, commit, report, id) = args.parts()?;
        client
            .delete_annotation(&repo, commit, report, id)
            .await
            .or_explain(client, || {
                annotation_context("delete", &repo, commit, report, id)
            })
            .await?;
        Ok(InsightDeleted {
            deleted: format!(
                "annotation {id} of report {report} of {}",
                of(&repo, commit)
            ),
        })
    }
}
