//! Code Insights: reports CI tools put on commits, and their annotations.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Extra, null_default};

/// A report on a commit (`report`): a scan, a test run or a coverage measure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// Bitbucket's id, in braces.
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    /// The id its creator chose, e.g. `scanner-001`.
    pub external_id: Option<String>,
    /// Its title, e.g. `Security scan`.
    #[serde(deserialize_with = "null_default")]
    pub title: String,
    /// What it says in a sentence or two.
    pub details: Option<String>,
    /// `SECURITY`, `COVERAGE`, `TEST` or `BUG`.
    pub report_type: Option<String>,
    /// `PASSED`, `FAILED` or `PENDING`.
    pub result: Option<String>,
    /// The tool or company that made it.
    pub reporter: Option<String>,
    /// The report in its tool.
    pub link: Option<String>,
    /// A logo to show with it.
    pub logo_url: Option<String>,
    /// Up to 10 figures shown with the report.
    #[serde(deserialize_with = "null_default")]
    pub data: Vec<ReportData>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One figure of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportData {
    /// What the figure is, e.g. `Duration`.
    #[serde(deserialize_with = "null_default")]
    pub title: String,
    /// `BOOLEAN`, `DATE` (ms since the epoch), `DURATION` (ms), `LINK` (`{text, href}`),
    /// `NUMBER`, `PERCENTAGE` or `TEXT`; none means a plain boolean, number or string.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The value, as its `type` says.
    pub value: Value,
}

/// A finding of a report (`report_annotation`), on a file and line or on the whole commit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Annotation {
    /// Bitbucket's id, in braces.
    #[serde(deserialize_with = "null_default")]
    pub uuid: String,
    /// The id its creator chose, unique in the report.
    pub external_id: Option<String>,
    /// `VULNERABILITY`, `CODE_SMELL` or `BUG`.
    pub annotation_type: Option<String>,
    /// The message shown to people.
    #[serde(deserialize_with = "null_default")]
    pub summary: String,
    /// What it says in a sentence or two.
    pub details: Option<String>,
    /// The file it is on, from the repository root.
    pub path: Option<String>,
    /// The line it is on, from 1.
    pub line: Option<u64>,
    /// `PASSED`, `FAILED`, `SKIPPED` or `IGNORED`.
    pub result: Option<String>,
    /// `CRITICAL`, `HIGH`, `MEDIUM` or `LOW`.
    pub severity: Option<String>,
    /// The finding in its tool.
    pub link: Option<String>,
    /// Creation time (ISO 8601).
    pub created_on: Option<String>,
    /// Last update time (ISO 8601).
    pub updated_on: Option<String>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}
