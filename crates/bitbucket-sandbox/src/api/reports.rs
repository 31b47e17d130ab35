//! Code Insights: reports CI tools put on commits (a title, a result, up to 10 data fields) and
//! their annotations (findings on a file and line), as Bitbucket keeps them: a report is named
//! by the external id its creator chose (or its uuid), `PUT` creates or replaces it, and
//! annotations are uploaded up to 100 per `POST`, at most 1000 per report.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::statuses::commit_hash;
use super::{P, no_content};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::paging::{MAX_PAGELEN, Params, paginate};
use crate::state::{Access, Caller, SharedState, new_uuid, now};
use crate::store::{AnnotationRow, RepoRow, ReportRow};

const REPORT_TYPES: &[&str] = &["SECURITY", "COVERAGE", "TEST", "BUG"];
const REPORT_RESULTS: &[&str] = &["PASSED", "FAILED", "PENDING"];
const DATA_TYPES: &[&str] = &[
    "BOOLEAN",
    "DATE",
    "DURATION",
    "LINK",
    "NUMBER",
    "PERCENTAGE",
    "TEXT",
];
const ANNOTATION_TYPES: &[&str] = &["VULNERABILITY", "CODE_SMELL", "BUG"];
const ANNOTATION_RESULTS: &[&str] = &["PASSED", "FAILED", "SKIPPED", "IGNORED"];
const SEVERITIES: &[&str] = &["CRITICAL", "HIGH", "MEDIUM", "LOW"];
/// Data fields per report.
const MAX_DATA: usize = 10;
/// Annotations per `POST`, and per report.
const MAX_BULK: usize = 100;
const MAX_ANNOTATIONS: i64 = 1000;

fn report_value(report: &ReportRow) -> Value {
    let data: Value = serde_json::from_str(&report.data).unwrap_or_else(|_| json!([]));
    let mut v = json!({
        "type": "report",
        "uuid": report.uuid,
        "external_id": report.external_id,
        "commit_hash": report.commit_hash,
        "title": report.title,
        "details": report.details,
        "report_type": report.report_type,
        "remote_link_enabled": report.remote_link_enabled,
        "data": data,
        "created_on": report.created_on,
        "updated_on": report.updated_on,
    });
    if let Some(obj) = v.as_object_mut() {
        for (name, value) in [
            ("result", &report.result),
            ("reporter", &report.reporter),
            ("link", &report.link),
            ("logo_url", &report.logo_url),
        ] {
            if let Some(value) = value {
                obj.insert(name.into(), json!(value));
            }
        }
    }
    v
}

fn annotation_value(annotation: &AnnotationRow) -> Value {
    let mut v = json!({
        "type": "report_annotation",
        "uuid": annotation.uuid,
        "external_id": annotation.external_id,
        "annotation_type": annotation.annotation_type,
        "summary": annotation.summary,
        "created_on": annotation.created_on,
        "updated_on": annotation.updated_on,
    });
    if let Some(obj) = v.as_object_mut() {
        for (name, value) in [
            ("details", &annotation.details),
            ("path", &annotation.path),
            ("result", &annotation.result),
            ("severity", &annotation.severity),
            ("link", &annotation.link),
        ] {
            if let Some(value) = value {
                obj.insert(name.into(), json!(value));
            }
        }
        if let Some(line) = annotation.line {
            obj.insert("line".into(), json!(line));
        }
    }
    v
}

/// `field` must be one of `allowed`.
fn one_of(field: &str, value: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "{field}: '{value}' is not a valid choice; expected one of {}",
        allowed.join(", ")
    ))
    .with_field(field, "Not a valid choice."))
}

fn required(field: &str, value: Option<String>) -> ApiResult<String> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!("{field}: This field is required."))
                .with_field(field, "This field is required.")
        })
}

/// An absolute http(s) URL, as the spec's `format: uri` fields need.
fn uri(field: &str, value: Option<String>) -> ApiResult<Option<String>> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match url::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(value)),
        _ => Err(
            ApiError::bad_request(format!("{field}: '{value}' is not a valid http(s) URL"))
                .with_field(field, "Enter a valid URL."),
        ),
    }
}

/// The repository and full commit hash a path names, checked for `access`.
async fn on_commit(
    state: &SharedState,
    caller: &Caller,
    (workspace, slug, commit): (&str, &str, &str),
    access: Access,
) -> ApiResult<(RepoRow, String)> {
    let (ws, repo) = state.repo(caller, workspace, slug, access).await?;
    let hash = commit_hash(state, &ws, &repo, commit).await?;
    Ok((repo, hash))
}

async fn find_report(
    state: &SharedState,
    repo: &RepoRow,
    hash: &str,
    id: &str,
) -> ApiResult<ReportRow> {
    state
        .store
        .report(repo.id, hash, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No report '{id}' on commit {hash}")))
}

#[derive(Debug, Deserialize)]
struct DataInput {
    title: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<Value>,
}

/// The `data` fields, checked as Bitbucket reads them: each value fits its type.
fn data(fields: Option<Vec<DataInput>>) -> ApiResult<String> {
    let fields = fields.unwrap_or_default();
    if fields.len() > MAX_DATA {
        return Err(ApiError::bad_request(format!(
            "data: a report has at most {MAX_DATA} data fields, got {}",
            fields.len()
        ))
        .with_field("data", "Too many data fields."));
    }
    let mut out = Vec::with_capacity(fields.len());
    for (n, field) in fields.into_iter().enumerate() {
        let title = required(&format!("data[{n}].title"), field.title)?;
        let value = field.value.unwrap_or(Value::Null);
        let fits = match field.kind.as_deref() {
            None => value.is_boolean() || value.is_number() || value.is_string(),
            Some(kind) => {
                one_of(&format!("data[{n}].type"), kind, DATA_TYPES)?;
                match kind {
                    "BOOLEAN" => value.is_boolean(),
                    "DATE" | "DURATION" | "NUMBER" => value.is_number(),
                    "PERCENTAGE" => value.as_f64().is_some_and(|p| (0.0..=100.0).contains(&p)),
                    "LINK" => value["href"].as_str().is_some() && value["text"].as_str().is_some(),
                    _ => value.is_string(),
                }
            }
        };
        if !fits {
            let kind = field.kind.as_deref().unwrap_or("(none)");
            return Err(ApiError::bad_request(format!(
                "data[{n}].value: {value} does not fit type {kind}"
            ))
            .with_field(&format!("data[{n}].value"), "Invalid value for its type."));
        }
        let mut item = Map::new();
        item.insert("title".into(), json!(title));
        if let Some(kind) = field.kind {
            item.insert("type".into(), json!(kind));
        }
        item.insert("value".into(), value);
        out.push(Value::Object(item));
    }
    Ok(Value::Array(out).to_string())
}

#[derive(Debug, Default, Deserialize)]
struct ReportInput {
    title: Option<String>,
    details: Option<String>,
    report_type: Option<String>,
    result: Option<String>,
    reporter: Option<String>,
    link: Option<String>,
    logo_url: Option<String>,
    remote_link_enabled: Option<bool>,
    data: Option<Vec<DataInput>>,
}

/// `PUT commit/{commit}/reports/{reportId}`: creates the report with that external id, or
/// replaces the one with that external id or uuid.
pub async fn put(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id)): P<(String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: ReportInput = raw.parse()?;
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Write).await?;
    let report_type = required("report_type", input.report_type)?;
    one_of("report_type", &report_type, REPORT_TYPES)?;
    if let Some(result) = &input.result {
        one_of("result", result, REPORT_RESULTS)?;
    }
    let existing = state.store.report(repo.id, &hash, &id).await?;
    let external_id = match &existing {
        Some(report) => report.external_id.clone(),
        None if id.starts_with('{') => {
            return Err(ApiError::not_found(format!(
                "No report '{id}' on commit {hash}: a new report is named by an id of your own, not a uuid"
            )));
        }
        None => id.trim().to_owned(),
    };
    if external_id.is_empty() {
        return Err(ApiError::bad_request("reportId: give the report an id"));
    }
    let row = ReportRow {
        id: 0,
        commit_hash: hash,
        uuid: existing.as_ref().map_or_else(new_uuid, |r| r.uuid.clone()),
        external_id,
        title: required("title", input.title)?,
        details: required("details", input.details)?,
        report_type,
        result: input.result,
        reporter: input.reporter.filter(|r| !r.trim().is_empty()),
        link: uri("link", input.link)?,
        logo_url: uri("logo_url", input.logo_url)?,
        remote_link_enabled: input.remote_link_enabled.unwrap_or(false),
        data: data(input.data)?,
        created_on: String::new(),
        updated_on: now(),
    };
    let mut write = state.store.write().await?;
    let stored = write.put_report(repo.id, &row).await?;
    write.commit().await?;
    Ok(Json(report_value(&stored)))
}

pub async fn get(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id)): P<(String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Read).await?;
    let report = find_report(&state, &repo, &hash, &id).await?;
    Ok(Json(report_value(&report)))
}

pub async fn list(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit)): P<(String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Read).await?;
    let items = state
        .store
        .reports(repo.id, &hash)
        .await?
        .iter()
        .map(report_value)
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

/// `DELETE commit/{commit}/reports/{reportId}`, with its annotations.
pub async fn delete(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Write).await?;
    let report = find_report(&state, &repo, &hash, &id).await?;
    let mut write = state.store.write().await?;
    write.delete_report(report.id).await?;
    write.commit().await?;
    Ok(no_content())
}

#[derive(Debug, Default, Deserialize)]
struct AnnotationInput {
    external_id: Option<String>,
    annotation_type: Option<String>,
    summary: Option<String>,
    details: Option<String>,
    path: Option<String>,
    line: Option<i64>,
    result: Option<String>,
    severity: Option<String>,
    link: Option<String>,
}

/// An annotation to store, checked; `external_id` when the path does not give one.
fn annotation_row(
    input: AnnotationInput,
    external_id: Option<String>,
    existing: Option<&AnnotationRow>,
    at: &str,
) -> ApiResult<AnnotationRow> {
    let external_id = match external_id {
        Some(id) => id,
        None => required(&format!("{at}external_id"), input.external_id)?,
    };
    let annotation_type = required(&format!("{at}annotation_type"), input.annotation_type)?;
    one_of(
        &format!("{at}annotation_type"),
        &annotation_type,
        ANNOTATION_TYPES,
    )?;
    if let Some(result) = &input.result {
        one_of(&format!("{at}result"), result, ANNOTATION_RESULTS)?;
    }
    if let Some(severity) = &input.severity {
        one_of(&format!("{at}severity"), severity, SEVERITIES)?;
    }
    if let Some(line) = input.line
        && line < 1
    {
        return Err(ApiError::bad_request(format!(
            "{at}line: {line} is no line number; lines start at 1"
        ))
        .with_field(&format!("{at}line"), "Ensure this value is at least 1."));
    }
    Ok(AnnotationRow {
        id: 0,
        uuid: existing.map_or_else(new_uuid, |a| a.uuid.clone()),
        external_id,
        annotation_type,
        summary: required(&format!("{at}summary"), input.summary)?,
        details: input.details.filter(|d| !d.trim().is_empty()),
        path: input
            .path
            .map(|p| p.trim().trim_start_matches('/').to_owned())
            .filter(|p| !p.is_empty()),
        line: input.line,
        result: input.result,
        severity: input.severity,
        link: uri(&format!("{at}link"), input.link)?,
        created_on: String::new(),
        updated_on: now(),
    })
}

/// Stores `rows` in `report` at once, or none if the report would hold more than 1000.
async fn store_annotations(
    state: &SharedState,
    report: &ReportRow,
    rows: Vec<AnnotationRow>,
) -> ApiResult<Vec<AnnotationRow>> {
    let mut write = state.store.write().await?;
    let mut stored = Vec::with_capacity(rows.len());
    for row in &rows {
        stored.push(write.put_annotation(report.id, row).await?);
    }
    let count = write.annotation_count(report.id).await?;
    if count > MAX_ANNOTATIONS {
        // Dropping the transaction undoes the writes.
        return Err(ApiError::bad_request(format!(
            "A report has at most {MAX_ANNOTATIONS} annotations; this would make {count}"
        )));
    }
    write.commit().await?;
    Ok(stored)
}

/// `POST …/reports/{reportId}/annotations`: up to 100 annotations, each created or replaced
/// by its external id; all or none are stored.
pub async fn bulk(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id)): P<(String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let inputs: Vec<AnnotationInput> = raw.parse()?;
    if inputs.is_empty() || inputs.len() > MAX_BULK {
        return Err(ApiError::bad_request(format!(
            "Send between 1 and {MAX_BULK} annotations as a JSON array, got {}",
            inputs.len()
        )));
    }
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Write).await?;
    let report = find_report(&state, &repo, &hash, &id).await?;
    let mut rows: Vec<AnnotationRow> = Vec::with_capacity(inputs.len());
    for (n, input) in inputs.into_iter().enumerate() {
        let at = format!("[{n}].");
        let external = required(&format!("{at}external_id"), input.external_id.clone())?;
        if rows.iter().any(|r| r.external_id == external) {
            return Err(ApiError::bad_request(format!(
                "{at}external_id: '{external}' appears twice in this upload"
            )));
        }
        let existing = state.store.annotation(report.id, &external).await?;
        rows.push(annotation_row(
            input,
            Some(external),
            existing.as_ref(),
            &at,
        )?);
    }
    let stored = store_annotations(&state, &report, rows).await?;
    Ok(Json(Value::Array(
        stored.iter().map(annotation_value).collect(),
    )))
}

/// `PUT …/annotations/{annotationId}`: creates or replaces one annotation.
pub async fn put_annotation(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id, annotation_id)): P<(String, String, String, String, String)>,
    raw: JsonBody,
) -> ApiResult<Json<Value>> {
    let input: AnnotationInput = raw.parse()?;
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Write).await?;
    let report = find_report(&state, &repo, &hash, &id).await?;
    let existing = state.store.annotation(report.id, &annotation_id).await?;
    let external_id = match &existing {
        Some(annotation) => annotation.external_id.clone(),
        None if annotation_id.starts_with('{') => {
            return Err(ApiError::not_found(format!(
                "No annotation '{annotation_id}' in report '{id}'"
            )));
        }
        None => annotation_id.trim().to_owned(),
    };
    let row = annotation_row(input, Some(external_id), existing.as_ref(), "")?;
    let stored = store_annotations(&state, &report, vec![row]).await?;
    Ok(Json(
        stored.first().map(annotation_value).unwrap_or_default(),
    ))
}

async fn find_annotation(
    state: &SharedState,
    report: &ReportRow,
    id: &str,
) -> ApiResult<AnnotationRow> {
    state.store.annotation(report.id, id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "No annotation '{id}' in report '{}'",
            report.external_id
        ))
    })
}

pub async fn get_annotation(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id, annotation_id)): P<(String, String, String, String, String)>,
) -> ApiResult<Json<Value>> {
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Read).await?;
    let report = find_report(&state, &repo, &hash, &id).await?;
    let annotation = find_annotation(&state, &report, &annotation_id).await?;
    Ok(Json(annotation_value(&annotation)))
}

pub async fn list_annotations(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id)): P<(String, String, String, String)>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Read).await?;
    let report = find_report(&state, &repo, &hash, &id).await?;
    let items = state
        .store
        .annotations(report.id)
        .await?
        .iter()
        .map(annotation_value)
        .collect();
    Ok(Json(paginate(&state.origin, &params, items, MAX_PAGELEN)?))
}

pub async fn delete_annotation(
    State(state): State<SharedState>,
    caller: Caller,
    P((workspace, slug, commit, id, annotation_id)): P<(String, String, String, String, String)>,
) -> ApiResult<Response> {
    let (repo, hash) =
        on_commit(&state, &caller, (&workspace, &slug, &commit), Access::Write).await?;
    let report = find_report(&state, &repo, &hash, &id).await?;
    let annotation = find_annotation(&state, &report, &annotation_id).await?;
    let mut write = state.store.write().await?;
    write.delete_annotation(annotation.id).await?;
    write.commit().await?;
    Ok(no_content())
}
