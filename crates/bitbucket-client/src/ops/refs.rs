//! Branches and tags.

use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::error::Error;
use crate::http::Client;
use crate::models::{Branch, Tag};
use crate::ops::list_query;
use crate::page::{ListParams, Page};
use crate::path::segment;
use crate::repo::RepoId;

/// A branch to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewBranch {
    /// Name of the new branch, e.g. `feature/login`.
    pub name: String,
    /// Where it starts: a branch name or a full or short commit hash, passed on as given.
    pub target: String,
}

impl NewBranch {
    /// A branch `name` starting at `target`.
    pub fn new(name: impl Into<String>, target: impl Into<String>) -> Self {
        NewBranch {
            name: name.into(),
            target: target.into(),
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "name": self.name, "target": { "hash": self.target } })
    }
}

impl Client {
    /// `POST /repositories/{workspace}/{repo_slug}/refs/branches`.
    pub async fn create_branch(&self, repo: &RepoId, branch: &NewBranch) -> Result<Branch, Error> {
        let url = self.endpoint(&format!("{}/refs/branches", repo.path()))?;
        self.send_json(Method::POST, url, &branch.body()).await
    }

    /// `GET /repositories/{workspace}/{repo_slug}/refs/branches`.
    pub async fn list_branches(
        &self,
        repo: &RepoId,
        params: &ListParams,
    ) -> Result<Page<Branch>, Error> {
        let path = format!("{}/refs/branches", repo.path());
        self.get_json(self.endpoint_with(&path, list_query(params))?)
            .await
    }

    /// `GET /repositories/{workspace}/{repo_slug}/refs/branches/{name}`; a `/` in the name is
    /// sent as `%2F`.
    pub async fn get_branch(&self, repo: &RepoId, name: &str) -> Result<Branch, Error> {
        self.get_json(self.branch_url(repo, name)?).await
    }

    pub(crate) fn branch_url(&self, repo: &RepoId, name: &str) -> Result<Url, Error> {
        self.endpoint(&format!(
            "{}/refs/branches/{}",
            repo.path(),
            segment("name", name)?
        ))
    }

    /// `GET /repositories/{workspace}/{repo_slug}/refs/tags`.
    pub async fn list_tags(&self, repo: &RepoId, params: &ListParams) -> Result<Page<Tag>, Error> {
        let path = format!("{}/refs/tags", repo.path());
        self.get_json(self.endpoint_with(&path, list_query(params))?)
            .await
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
    fn new_branch_body() {
        assert_eq!(
            NewBranch::new("feature/x", "main").body(),
            json!({"name": "feature/x", "target": {"hash": "main"}})
        );
    }

    #[test]
    fn branch_names_stay_one_segment() {
        let client = Client::new(ClientConfig::new("http://127.0.0.1:7990/2.0")).unwrap();
        let url = client.branch_url(&web(), "feature/login page").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:7990/2.0/repositories/acme/web/refs/branches/feature%2Flogin%20page"
        );
    }

    #[test]
    fn branch_example_deserializes() {
        let branch: Branch = serde_json::from_str(
            r#"{"name":"master","links":{"html":{"href":"https://bitbucket.org/atlassian/aui/branch/master"}},
            "default_merge_strategy":"squash","merge_strategies":["merge_commit","squash"],"type":"branch",
            "target":{"hash":"e7d158ff","repository":{"type":"repository","name":"aui","full_name":"atlassian/aui","uuid":"{585074de}"},
            "author":{"raw":"bot <bot@example.com>","type":"author","user":{"display_name":"bot","uuid":"{250a}","type":"user","account_id":"5d53"}},
            "parents":[{"hash":"eab868a3","type":"commit","links":{"self":{"href":"x"}}}],
            "date":"2021-04-12T06:44:38+00:00","message":"Merged in x\n","type":"commit"}}"#,
        )
        .unwrap();
        assert_eq!(branch.name, "master");
        assert_eq!(
            branch.links.html_href(),
            Some("https://bitbucket.org/atlassian/aui/branch/master")
        );
        let target = branch.target.unwrap();
        assert_eq!(target.hash, "e7d158ff");
        assert_eq!(target.parents[0].hash, "eab868a3");
        assert_eq!(
            target.author.unwrap().user.unwrap().account_id.as_deref(),
            Some("5d53")
        );
        assert_eq!(target.repository.unwrap().full_name, "atlassian/aui");
    }
}
