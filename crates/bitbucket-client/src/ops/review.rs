//! The pull request lifecycle after it is opened: updates, approvals, change requests,
//! decline and merge, its diff and commits, comments, tasks and build statuses.

use reqwest::Method;
use serde_json::{Map, Value, json};
use url::Url;

use crate::error::Error;
use crate::http::{Accept, ApiRequest, Client};
use crate::models::{
    Comment, CommentResolution, Commit, CommitStatus, DiffStat, InlineAnchor, Participant,
    PullRequest, Task,
};
use crate::ops::{AccountRef, list_query, page_query, raw_content};
use crate::page::{ListParams, Page, PageParams};
use crate::repo::RepoId;

/// Changes to a pull request (`PUT`); fields left `None` stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRequestUpdate {
    /// New title.
    pub title: Option<String>,
    /// Description, as Markdown.
    pub description: Option<String>,
    /// Branch to merge into.
    pub destination_branch: Option<String>,
    /// The whole list of reviewers (replaces it).
    pub reviewers: Option<Vec<AccountRef>>,
}

impl PullRequestUpdate {
    pub(crate) fn body(&self) -> Result<Value, Error> {
        let mut body = Map::new();
        if let Some(title) = &self.title {
            if title.trim().is_empty() {
                return Err(Error::InvalidInput {
                    message: "`title` must not be empty".to_owned(),
                });
            }
            body.insert("title".into(), json!(title));
        }
        if let Some(description) = &self.description {
            body.insert("description".into(), json!(description));
        }
        if let Some(destination) = &self.destination_branch {
            body.insert(
                "destination".into(),
                json!({ "branch": { "name": destination } }),
            );
        }
        if let Some(reviewers) = &self.reviewers {
            let reviewers = reviewers.iter().map(AccountRef::to_json).collect();
            body.insert("reviewers".into(), Value::Array(reviewers));
        }
        if body.is_empty() {
            return Err(Error::InvalidInput {
                message: "nothing to update: give a title, description, destination or reviewers"
                    .to_owned(),
            });
        }
        Ok(Value::Object(body))
    }
}

/// How a pull request is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeStrategy {
    /// A merge commit with both heads as parents (Bitbucket's default).
    MergeCommit,
    /// One new commit on the destination with all the changes.
    Squash,
    /// Move the destination to the source's head; only when it is an ancestor.
    FastForward,
}

impl MergeStrategy {
    /// The name Bitbucket uses, e.g. `squash`.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeStrategy::MergeCommit => "merge_commit",
            MergeStrategy::Squash => "squash",
            MergeStrategy::FastForward => "fast_forward",
        }
    }
}

/// Options of a merge; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOptions {
    /// The repository's default strategy when `None`.
    pub strategy: Option<MergeStrategy>,
    /// The merge (or squash) commit's message.
    pub message: Option<String>,
    /// Delete the source branch afterwards.
    pub close_source_branch: Option<bool>,
}

impl MergeOptions {
    pub(crate) fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("type".into(), json!("pullrequest_merge_parameters"));
        if let Some(strategy) = self.strategy {
            body.insert("merge_strategy".into(), json!(strategy.as_str()));
        }
        if let Some(message) = &self.message {
            body.insert("message".into(), json!(message));
        }
        if let Some(close) = self.close_source_branch {
            body.insert("close_source_branch".into(), json!(close));
        }
        Value::Object(body)
    }
}

/// A comment to post: general, inline on a line of the diff, and/or a reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewComment {
    /// The text, as Markdown.
    pub text: String,
    /// Anchor it to a file and line.
    pub inline: Option<InlineAnchor>,
    /// Answer this comment.
    pub parent: Option<u64>,
}

impl NewComment {
    /// A general comment.
    pub fn new(text: impl Into<String>) -> Self {
        NewComment {
            text: text.into(),
            ..NewComment::default()
        }
    }

    pub(crate) fn body(&self) -> Result<Value, Error> {
        if self.text.trim().is_empty() {
            return Err(Error::InvalidInput {
                message: "the comment must not be empty".to_owned(),
            });
        }
        let mut body = Map::new();
        body.insert("content".into(), raw_content(&self.text));
        if let Some(inline) = &self.inline {
            if inline.path.trim().is_empty() || (inline.from.is_none() && inline.to.is_none()) {
                return Err(Error::InvalidInput {
                    message: "an inline comment needs a `path` and a line (`to` in the new version, or `from` in the old)".to_owned(),
                });
            }
            body.insert("inline".into(), json!(inline));
        }
        if let Some(parent) = self.parent {
            body.insert("parent".into(), json!({ "id": parent }));
        }
        Ok(Value::Object(body))
    }
}

impl Client {
    fn pull_request_url(&self, repo: &RepoId, id: u64, rest: &str) -> Result<Url, Error> {
        self.endpoint(&format!("{}/pullrequests/{id}{rest}", repo.path()))
    }

    /// `PUT .../pullrequests/{id}`: title, description, destination or reviewers.
    pub async fn update_pull_request(
        &self,
        repo: &RepoId,
        id: u64,
        update: &PullRequestUpdate,
    ) -> Result<PullRequest, Error> {
        let body = update.body()?;
        let url = self.pull_request_url(repo, id, "")?;
        self.send_json(Method::PUT, url, &body).await
    }

    /// `POST .../pullrequests/{id}/approve`: approves as the current user.
    pub async fn approve_pull_request(&self, repo: &RepoId, id: u64) -> Result<Participant, Error> {
        let url = self.pull_request_url(repo, id, "/approve")?;
        self.fetch(ApiRequest::new(Method::POST, url)).await
    }

    /// `DELETE .../pullrequests/{id}/approve`: withdraws the current user's approval.
    pub async fn unapprove_pull_request(&self, repo: &RepoId, id: u64) -> Result<(), Error> {
        let url = self.pull_request_url(repo, id, "/approve")?;
        self.delete(url).await
    }

    /// `POST .../pullrequests/{id}/request-changes`.
    pub async fn request_pull_request_changes(
        &self,
        repo: &RepoId,
        id: u64,
    ) -> Result<Participant, Error> {
        let url = self.pull_request_url(repo, id, "/request-changes")?;
        self.fetch(ApiRequest::new(Method::POST, url)).await
    }

    /// `DELETE .../pullrequests/{id}/request-changes`: withdraws the current user's request.
    pub async fn remove_pull_request_change_request(
        &self,
        repo: &RepoId,
        id: u64,
    ) -> Result<(), Error> {
        let url = self.pull_request_url(repo, id, "/request-changes")?;
        self.delete(url).await
    }

    /// `POST .../pullrequests/{id}/decline`.
    pub async fn decline_pull_request(&self, repo: &RepoId, id: u64) -> Result<PullRequest, Error> {
        let url = self.pull_request_url(repo, id, "/decline")?;
        self.fetch(ApiRequest::new(Method::POST, url)).await
    }

    /// `POST .../pullrequests/{id}/merge`.
    pub async fn merge_pull_request(
        &self,
        repo: &RepoId,
        id: u64,
        options: &MergeOptions,
    ) -> Result<PullRequest, Error> {
        let url = self.pull_request_url(repo, id, "/merge")?;
        self.send_json(Method::POST, url, &options.body()).await
    }

    /// `GET .../pullrequests/{id}/diff`: the unified diff, as text.
    pub async fn pull_request_diff(&self, repo: &RepoId, id: u64) -> Result<String, Error> {
        let url = self.pull_request_url(repo, id, "/diff")?;
        self.get_text(url).await
    }

    /// `GET .../pullrequests/{id}/diffstat`: what it changes, file by file.
    pub async fn pull_request_diffstat(
        &self,
        repo: &RepoId,
        id: u64,
        params: &PageParams,
    ) -> Result<Page<DiffStat>, Error> {
        let mut url = self.pull_request_url(repo, id, "/diffstat")?;
        page_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../pullrequests/{id}/commits`: the commits it would merge, newest first.
    pub async fn pull_request_commits(
        &self,
        repo: &RepoId,
        id: u64,
        params: &PageParams,
    ) -> Result<Page<Commit>, Error> {
        let mut url = self.pull_request_url(repo, id, "/commits")?;
        page_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../pullrequests/{id}/statuses`: the build statuses of its commits.
    pub async fn pull_request_statuses(
        &self,
        repo: &RepoId,
        id: u64,
        params: &ListParams,
    ) -> Result<Page<CommitStatus>, Error> {
        let mut url = self.pull_request_url(repo, id, "/statuses")?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../pullrequests/{id}/comments`.
    pub async fn list_pull_request_comments(
        &self,
        repo: &RepoId,
        id: u64,
        params: &ListParams,
    ) -> Result<Page<Comment>, Error> {
        let mut url = self.pull_request_url(repo, id, "/comments")?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../pullrequests/{id}/comments/{comment_id}`.
    pub async fn get_pull_request_comment(
        &self,
        repo: &RepoId,
        id: u64,
        comment_id: u64,
    ) -> Result<Comment, Error> {
        let url = self.pull_request_url(repo, id, &format!("/comments/{comment_id}"))?;
        self.get_json(url).await
    }

    /// `POST .../pullrequests/{id}/comments`.
    pub async fn create_pull_request_comment(
        &self,
        repo: &RepoId,
        id: u64,
        comment: &NewComment,
    ) -> Result<Comment, Error> {
        let body = comment.body()?;
        let url = self.pull_request_url(repo, id, "/comments")?;
        self.send_json(Method::POST, url, &body).await
    }

    /// `PUT .../pullrequests/{id}/comments/{comment_id}`: replaces the text.
    pub async fn update_pull_request_comment(
        &self,
        repo: &RepoId,
        id: u64,
        comment_id: u64,
        text: &str,
    ) -> Result<Comment, Error> {
        let body = NewComment::new(text).body()?;
        let url = self.pull_request_url(repo, id, &format!("/comments/{comment_id}"))?;
        self.send_json(Method::PUT, url, &body).await
    }

    /// `DELETE .../pullrequests/{id}/comments/{comment_id}`.
    pub async fn delete_pull_request_comment(
        &self,
        repo: &RepoId,
        id: u64,
        comment_id: u64,
    ) -> Result<(), Error> {
        let url = self.pull_request_url(repo, id, &format!("/comments/{comment_id}"))?;
        self.delete(url).await
    }

    /// `POST .../pullrequests/{id}/comments/{comment_id}/resolve`.
    pub async fn resolve_pull_request_comment(
        &self,
        repo: &RepoId,
        id: u64,
        comment_id: u64,
    ) -> Result<CommentResolution, Error> {
        let url = self.pull_request_url(repo, id, &format!("/comments/{comment_id}/resolve"))?;
        self.fetch(ApiRequest::new(Method::POST, url)).await
    }

    /// `DELETE .../pullrequests/{id}/comments/{comment_id}/resolve`: opens it again.
    pub async fn reopen_pull_request_comment(
        &self,
        repo: &RepoId,
        id: u64,
        comment_id: u64,
    ) -> Result<(), Error> {
        let url = self.pull_request_url(repo, id, &format!("/comments/{comment_id}/resolve"))?;
        self.delete(url).await
    }

    /// `GET .../pullrequests/{id}/tasks`.
    pub async fn list_pull_request_tasks(
        &self,
        repo: &RepoId,
        id: u64,
        params: &ListParams,
    ) -> Result<Page<Task>, Error> {
        let mut url = self.pull_request_url(repo, id, "/tasks")?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `POST .../pullrequests/{id}/tasks`, optionally on a comment.
    pub async fn create_pull_request_task(
        &self,
        repo: &RepoId,
        id: u64,
        text: &str,
        comment_id: Option<u64>,
    ) -> Result<Task, Error> {
        if text.trim().is_empty() {
            return Err(Error::InvalidInput {
                message: "the task must not be empty".to_owned(),
            });
        }
        let mut body = json!({ "content": raw_content(text) });
        if let Some(comment) = comment_id {
            body["comment"] = json!({ "id": comment });
        }
        let url = self.pull_request_url(repo, id, "/tasks")?;
        self.send_json(Method::POST, url, &body).await
    }

    /// `PUT .../pullrequests/{id}/tasks/{task_id}`: resolves or reopens it, or changes its text.
    pub async fn update_pull_request_task(
        &self,
        repo: &RepoId,
        id: u64,
        task_id: u64,
        resolved: Option<bool>,
        text: Option<&str>,
    ) -> Result<Task, Error> {
        let mut body = Map::new();
        if let Some(resolved) = resolved {
            let state = if resolved { "RESOLVED" } else { "UNRESOLVED" };
            body.insert("state".into(), json!(state));
        }
        if let Some(text) = text {
            body.insert("content".into(), raw_content(text));
        }
        if body.is_empty() {
            return Err(Error::InvalidInput {
                message: "nothing to update: give a state or a text".to_owned(),
            });
        }
        let url = self.pull_request_url(repo, id, &format!("/tasks/{task_id}"))?;
        self.send_json(Method::PUT, url, &Value::Object(body)).await
    }

    /// `DELETE .../pullrequests/{id}/tasks/{task_id}`.
    pub async fn delete_pull_request_task(
        &self,
        repo: &RepoId,
        id: u64,
        task_id: u64,
    ) -> Result<(), Error> {
        let url = self.pull_request_url(repo, id, &format!("/tasks/{task_id}"))?;
        self.delete(url).await
    }

    /// A text answer (diffs, patches), as UTF-8 with invalid bytes replaced.
    pub(crate) async fn get_text(&self, url: Url) -> Result<String, Error> {
        let request = ApiRequest::new(Method::GET, url).accept(Accept::Any);
        let response = self.execute(&request).await?;
        Ok(String::from_utf8_lossy(&response.body).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_options_body() {
        assert_eq!(
            MergeOptions::default().body(),
            json!({"type": "pullrequest_merge_parameters"})
        );
        let squash = MergeOptions {
            strategy: Some(MergeStrategy::Squash),
            message: Some("Add login".into()),
            close_source_branch: Some(true),
        };
        assert_eq!(
            squash.body(),
            json!({"type": "pullrequest_merge_parameters", "merge_strategy": "squash",
                   "message": "Add login", "close_source_branch": true})
        );
    }

    #[test]
    fn comment_bodies_and_their_refusals() {
        assert_eq!(
            NewComment::new("LGTM").body().unwrap(),
            json!({"content": {"raw": "LGTM"}})
        );
        let inline = NewComment {
            text: "nit: rename".into(),
            inline: Some(InlineAnchor {
                path: "src/main.rs".into(),
                from: None,
                to: Some(3),
            }),
            parent: Some(7),
        };
        assert_eq!(
            inline.body().unwrap(),
            json!({"content": {"raw": "nit: rename"}, "inline": {"path": "src/main.rs", "to": 3},
                   "parent": {"id": 7}})
        );
        assert!(NewComment::new("  ").body().is_err());
        let lineless = NewComment {
            inline: Some(InlineAnchor {
                path: "a.rs".into(),
                ..InlineAnchor::default()
            }),
            ..NewComment::new("x")
        };
        assert!(lineless.body().is_err());
    }

    #[test]
    fn updates_send_only_what_changes() {
        let update = PullRequestUpdate {
            title: Some("New title".into()),
            reviewers: Some(vec![AccountRef::Uuid("{u}".into())]),
            ..PullRequestUpdate::default()
        };
        assert_eq!(
            update.body().unwrap(),
            json!({"title": "New title", "reviewers": [{"uuid": "{u}"}]})
        );
        assert!(PullRequestUpdate::default().body().is_err());
        let blank = PullRequestUpdate {
            title: Some(" ".into()),
            ..PullRequestUpdate::default()
        };
        assert!(blank.body().is_err());
    }
}
