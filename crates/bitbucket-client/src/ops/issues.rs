//! Issues and issue comments.
//!
//! Bitbucket Cloud retired the issue tracker in August 2026; these calls then answer 404 or
//! 410, which [`Error::hint`](crate::Error::hint) explains.

use reqwest::Method;
use reqwest::header::LOCATION;
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::http::{ApiRequest, Client};
use crate::models::{Content, Issue, IssueComment, IssueKind, IssuePriority, IssueState};
use crate::ops::{AccountRef, list_query, raw_content};
use crate::page::{ListParams, Page};
use crate::repo::RepoId;

/// An issue to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewIssue {
    /// Title (required).
    pub title: String,
    /// Body, as markdown.
    pub content: Option<String>,
    /// Kind; Bitbucket defaults to `bug`.
    pub kind: Option<IssueKind>,
    /// Priority; Bitbucket defaults to `major`.
    pub priority: Option<IssuePriority>,
    /// Assignee.
    pub assignee: Option<AccountRef>,
}

impl NewIssue {
    /// An issue with just a title.
    pub fn new(title: impl Into<String>) -> Self {
        NewIssue {
            title: title.into(),
            ..NewIssue::default()
        }
    }

    pub(crate) fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("title".into(), json!(self.title));
        if let Some(content) = &self.content {
            body.insert("content".into(), raw_content(content));
        }
        if let Some(kind) = &self.kind {
            body.insert("kind".into(), json!(kind.as_str()));
        }
        if let Some(priority) = &self.priority {
            body.insert("priority".into(), json!(priority.as_str()));
        }
        if let Some(assignee) = &self.assignee {
            body.insert("assignee".into(), assignee.to_json());
        }
        Value::Object(body)
    }
}

/// A partial update of an issue: only fields that are set are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueUpdate {
    /// New title.
    pub title: Option<String>,
    /// New body, as markdown.
    pub content: Option<String>,
    /// New state.
    pub state: Option<IssueState>,
    /// New kind.
    pub kind: Option<IssueKind>,
    /// New priority.
    pub priority: Option<IssuePriority>,
    /// `Some(Some(..))` assigns, `Some(None)` unassigns (sends `null`), `None` leaves as is.
    pub assignee: Option<Option<AccountRef>>,
}

impl IssueUpdate {
    /// True when nothing would be changed.
    pub fn is_empty(&self) -> bool {
        self == &IssueUpdate::default()
    }

    pub(crate) fn body(&self) -> Value {
        let mut body = Map::new();
        if let Some(title) = &self.title {
            body.insert("title".into(), json!(title));
        }
        if let Some(content) = &self.content {
            body.insert("content".into(), raw_content(content));
        }
        if let Some(state) = &self.state {
            body.insert("state".into(), json!(state.as_str()));
        }
        if let Some(kind) = &self.kind {
            body.insert("kind".into(), json!(kind.as_str()));
        }
        if let Some(priority) = &self.priority {
            body.insert("priority".into(), json!(priority.as_str()));
        }
        match &self.assignee {
            Some(Some(assignee)) => {
                body.insert("assignee".into(), assignee.to_json());
            }
            Some(None) => {
                body.insert("assignee".into(), Value::Null);
            }
            None => {}
        }
        Value::Object(body)
    }
}

impl Client {
    /// `POST /repositories/{workspace}/{repo_slug}/issues`.
    pub async fn create_issue(&self, repo: &RepoId, issue: &NewIssue) -> Result<Issue, Error> {
        if issue.title.trim().is_empty() {
            return Err(Error::InvalidInput {
                message: "`title` must not be empty".to_owned(),
            });
        }
        let url = self.endpoint(&format!("{}/issues", repo.path()))?;
        self.send_json(Method::POST, url, &issue.body()).await
    }

    /// `GET /repositories/{workspace}/{repo_slug}/issues/{issue_id}`.
    pub async fn get_issue(&self, repo: &RepoId, issue_id: u64) -> Result<Issue, Error> {
        let url = self.endpoint(&format!("{}/issues/{issue_id}", repo.path()))?;
        self.get_json(url).await
    }

    /// `GET /repositories/{workspace}/{repo_slug}/issues`.
    pub async fn list_issues(
        &self,
        repo: &RepoId,
        params: &ListParams,
    ) -> Result<Page<Issue>, Error> {
        let path = format!("{}/issues", repo.path());
        self.get_json(self.endpoint_with(&path, list_query(params))?)
            .await
    }

    /// `PUT /repositories/{workspace}/{repo_slug}/issues/{issue_id}` with only the fields set
    /// in `update`; an empty update is refused rather than sent.
    pub async fn update_issue(
        &self,
        repo: &RepoId,
        issue_id: u64,
        update: &IssueUpdate,
    ) -> Result<Issue, Error> {
        if update.is_empty() {
            return Err(Error::InvalidInput {
                message: "the issue update sets no field".to_owned(),
            });
        }
        let url = self.endpoint(&format!("{}/issues/{issue_id}", repo.path()))?;
        self.send_json(Method::PUT, url, &update.body()).await
    }

    /// `DELETE /repositories/{workspace}/{repo_slug}/issues/{issue_id}`.
    pub async fn delete_issue(&self, repo: &RepoId, issue_id: u64) -> Result<(), Error> {
        let url = self.endpoint(&format!("{}/issues/{issue_id}", repo.path()))?;
        self.delete(url).await
    }

    /// `GET /repositories/{workspace}/{repo_slug}/issues/{issue_id}/comments`: one page of an
    /// issue's comments, oldest first unless `params.sort` says otherwise.
    pub async fn list_issue_comments(
        &self,
        repo: &RepoId,
        issue_id: u64,
        params: &ListParams,
    ) -> Result<Page<IssueComment>, Error> {
        let path = format!("{}/issues/{issue_id}/comments", repo.path());
        self.get_json(self.endpoint_with(&path, list_query(params))?)
            .await
    }

    /// `POST /repositories/{workspace}/{repo_slug}/issues/{issue_id}/comments` with
    /// `{"content": {"raw": content}}`.
    pub async fn create_issue_comment(
        &self,
        repo: &RepoId,
        issue_id: u64,
        content: &str,
    ) -> Result<IssueComment, Error> {
        let url = self.endpoint(&format!("{}/issues/{issue_id}/comments", repo.path()))?;
        let request = ApiRequest::new(Method::POST, url)
            .json_body(&json!({ "content": raw_content(content) }))?;
        let response = self.execute(&request).await?;
        if !response.body.iter().all(u8::is_ascii_whitespace) {
            return self.decode(&request, &response);
        }
        // The spec documents this 201 without a body; fall back to what is known, with the
        // id taken from `Location` (`.../comments/{id}`).
        let id = response
            .headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|location| location.trim_end_matches('/').rsplit('/').next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_default();
        Ok(IssueComment {
            id,
            content: Some(Content {
                raw: Some(content.to_owned()),
                ..Content::default()
            }),
            ..IssueComment::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_issue_body_sends_only_set_fields() {
        assert_eq!(NewIssue::new("Broken").body(), json!({"title": "Broken"}));
        let issue = NewIssue {
            title: "Broken".into(),
            content: Some("It *fails*".into()),
            kind: Some(IssueKind::Bug),
            priority: Some(IssuePriority::Critical),
            assignee: Some(AccountRef::AccountId("557058:x".into())),
        };
        assert_eq!(
            issue.body(),
            json!({
                "title": "Broken",
                "content": {"raw": "It *fails*"},
                "kind": "bug",
                "priority": "critical",
                "assignee": {"account_id": "557058:x"}
            })
        );
    }

    #[test]
    fn issue_update_is_partial() {
        assert!(IssueUpdate::default().is_empty());
        assert_eq!(IssueUpdate::default().body(), json!({}));
        let update = IssueUpdate {
            state: Some(IssueState::OnHold),
            ..IssueUpdate::default()
        };
        assert!(!update.is_empty());
        assert_eq!(update.body(), json!({"state": "on hold"}));
        let update = IssueUpdate {
            title: Some("T".into()),
            content: Some("C".into()),
            kind: Some(IssueKind::Task),
            priority: Some(IssuePriority::Minor),
            assignee: Some(None),
            ..IssueUpdate::default()
        };
        assert_eq!(
            update.body(),
            json!({"title": "T", "content": {"raw": "C"}, "kind": "task", "priority": "minor", "assignee": null})
        );
        let update = IssueUpdate {
            assignee: Some(Some(AccountRef::Uuid("{u}".into()))),
            ..IssueUpdate::default()
        };
        assert_eq!(update.body(), json!({"assignee": {"uuid": "{u}"}}));
    }

    #[test]
    fn issue_deserializes_with_nulls() {
        let issue: Issue = serde_json::from_str(
            r#"{"id":7,"title":"Crash","content":{"raw":"boom","markup":"markdown","html":"<p>boom</p>"},
            "state":"new","kind":"bug","priority":"major","assignee":null,"reporter":{"display_name":"Ann"},
            "milestone":null,"votes":0,"created_on":"2024-01-01T00:00:00+00:00",
            "links":{"html":{"href":"https://bitbucket.org/a/b/issues/7"}}}"#,
        )
        .unwrap();
        assert_eq!(issue.id, 7);
        assert_eq!(issue.content_raw(), Some("boom"));
        assert_eq!(issue.state, Some(IssueState::New));
        assert_eq!(issue.assignee, None);
        assert_eq!(
            issue.links.html_href(),
            Some("https://bitbucket.org/a/b/issues/7")
        );
        assert!(issue.extra.contains_key("milestone"));
    }
}
