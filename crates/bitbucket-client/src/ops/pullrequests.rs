//! Pull requests.

use reqwest::Method;
use serde_json::{Map, Value, json};
use url::Url;

use crate::error::Error;
use crate::http::{Client, Query};
use crate::models::{PullRequest, PullRequestState};
use crate::ops::AccountRef;
use crate::page::Page;
use crate::repo::RepoId;

/// A pull request to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPullRequest {
    /// Title (required).
    pub title: String,
    /// Branch to merge (required).
    pub source_branch: String,
    /// Branch to merge into; the repository's main branch when `None`.
    pub destination_branch: Option<String>,
    /// Description, as markdown.
    pub description: Option<String>,
    /// Reviewers to request.
    pub reviewers: Vec<AccountRef>,
    /// Delete the source branch once merged.
    pub close_source_branch: Option<bool>,
    /// Open as a draft.
    pub draft: Option<bool>,
}

impl NewPullRequest {
    /// A pull request from `source_branch` into the main branch.
    pub fn new(title: impl Into<String>, source_branch: impl Into<String>) -> Self {
        NewPullRequest {
            title: title.into(),
            source_branch: source_branch.into(),
            ..NewPullRequest::default()
        }
    }

    pub(crate) fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("title".into(), json!(self.title));
        body.insert(
            "source".into(),
            json!({ "branch": { "name": self.source_branch } }),
        );
        if let Some(destination) = &self.destination_branch {
            body.insert(
                "destination".into(),
                json!({ "branch": { "name": destination } }),
            );
        }
        if let Some(description) = &self.description {
            body.insert("description".into(), json!(description));
        }
        if !self.reviewers.is_empty() {
            let reviewers = self.reviewers.iter().map(AccountRef::to_json).collect();
            body.insert("reviewers".into(), Value::Array(reviewers));
        }
        if let Some(close) = self.close_source_branch {
            body.insert("close_source_branch".into(), json!(close));
        }
        if let Some(draft) = self.draft {
            body.insert("draft".into(), json!(draft));
        }
        Value::Object(body)
    }
}

/// Filters for [`Client::list_pull_requests`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPullRequestsParams {
    /// States to include, each sent as its own `state=`; Bitbucket lists only `OPEN` ones
    /// when empty.
    pub states: Vec<PullRequestState>,
    /// Filter expression.
    pub q: Option<String>,
    /// Sort field, e.g. `-updated_on`.
    pub sort: Option<String>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Items per page (Bitbucket allows up to 50 here).
    pub pagelen: Option<u32>,
}

impl Client {
    /// `POST /repositories/{workspace}/{repo_slug}/pullrequests`.
    pub async fn create_pull_request(
        &self,
        repo: &RepoId,
        pull_request: &NewPullRequest,
    ) -> Result<PullRequest, Error> {
        if pull_request.title.trim().is_empty() {
            return Err(Error::InvalidInput {
                message: "`title` must not be empty".to_owned(),
            });
        }
        if pull_request.source_branch.trim().is_empty() {
            return Err(Error::InvalidInput {
                message: "`source_branch` must not be empty".to_owned(),
            });
        }
        let url = self.endpoint(&format!("{}/pullrequests", repo.path()))?;
        self.send_json(Method::POST, url, &pull_request.body())
            .await
    }

    /// `GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}`.
    pub async fn get_pull_request(
        &self,
        repo: &RepoId,
        pull_request_id: u64,
    ) -> Result<PullRequest, Error> {
        let url = self.endpoint(&format!("{}/pullrequests/{pull_request_id}", repo.path()))?;
        self.get_json(url).await
    }

    /// `GET /repositories/{workspace}/{repo_slug}/pullrequests?state=OPEN&state=MERGED...`.
    pub async fn list_pull_requests(
        &self,
        repo: &RepoId,
        params: &ListPullRequestsParams,
    ) -> Result<Page<PullRequest>, Error> {
        self.get_json(self.pull_requests_url(repo, params)?).await
    }

    pub(crate) fn pull_requests_url(
        &self,
        repo: &RepoId,
        params: &ListPullRequestsParams,
    ) -> Result<Url, Error> {
        let mut query = Query::new();
        for state in &params.states {
            query = query.push("state", state.as_str());
        }
        let query = query
            .opt("q", params.q.as_deref())
            .opt("sort", params.sort.as_deref())
            .opt("page", params.page)
            .opt("pagelen", params.pagelen);
        self.endpoint_with(&format!("{}/pullrequests", repo.path()), query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientConfig;

    fn web() -> RepoId {
        RepoId::new("acme", "web").unwrap()
    }

    #[test]
    fn new_pull_request_body() {
        assert_eq!(
            NewPullRequest::new("Add login", "feature/login").body(),
            json!({"title": "Add login", "source": {"branch": {"name": "feature/login"}}})
        );
        let pr = NewPullRequest {
            title: "Add login".into(),
            source_branch: "feature/login".into(),
            destination_branch: Some("develop".into()),
            description: Some("Adds it".into()),
            reviewers: vec![
                AccountRef::Uuid("{u1}".into()),
                AccountRef::AccountId("557058:a".into()),
            ],
            close_source_branch: Some(true),
            draft: Some(false),
        };
        assert_eq!(
            pr.body(),
            json!({
                "title": "Add login",
                "source": {"branch": {"name": "feature/login"}},
                "destination": {"branch": {"name": "develop"}},
                "description": "Adds it",
                "reviewers": [{"uuid": "{u1}"}, {"account_id": "557058:a"}],
                "close_source_branch": true,
                "draft": false
            })
        );
    }

    #[test]
    fn list_repeats_state() {
        let client = Client::new(ClientConfig::new("http://127.0.0.1:7990/2.0")).unwrap();
        let url = client
            .pull_requests_url(
                &web(),
                &ListPullRequestsParams {
                    states: vec![PullRequestState::Open, PullRequestState::Merged],
                    pagelen: Some(50),
                    page: Some(2),
                    ..ListPullRequestsParams::default()
                },
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:7990/2.0/repositories/acme/web/pullrequests?state=OPEN&state=MERGED&page=2&pagelen=50"
        );
    }

    #[test]
    fn pull_request_deserializes() {
        let pr: PullRequest = serde_json::from_str(
            r#"{"id":3,"title":"T","description":"D","state":"OPEN","author":{"display_name":"Ann"},
            "source":{"branch":{"name":"feature/x"},"commit":{"hash":"abc"},"repository":{"full_name":"a/b"}},
            "destination":{"branch":{"name":"main"},"commit":null},"reviewers":null,"participants":[],
            "close_source_branch":false,"draft":true,"links":{"html":{"href":"https://bitbucket.org/a/b/pull-requests/3"}}}"#,
        )
        .unwrap();
        assert_eq!(pr.id, 3);
        assert_eq!(pr.state, Some(PullRequestState::Open));
        let source = pr.source.unwrap();
        assert_eq!(source.branch_name(), Some("feature/x"));
        assert_eq!(source.commit.unwrap().hash, "abc");
        assert_eq!(pr.destination.unwrap().branch_name(), Some("main"));
        assert!(pr.reviewers.is_empty());
        assert_eq!(pr.draft, Some(true));
    }
}
