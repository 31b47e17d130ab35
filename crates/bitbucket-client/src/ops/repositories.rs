//! Repositories.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::http::{Client, Query};
use crate::models::{Repository, RepositoryRole};
use crate::page::Page;
use crate::path::segment;
use crate::repo::RepoId;

/// A repository to create; it is always a git repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRepository {
    /// Display name; Bitbucket derives it from the slug when `None`.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Private (Bitbucket's default) or public.
    pub is_private: Option<bool>,
    /// Key of the project to put it in; the workspace's default project when `None`.
    pub project_key: Option<String>,
    /// Enable the issue tracker.
    pub has_issues: Option<bool>,
    /// Enable the wiki.
    pub has_wiki: Option<bool>,
    /// Main language, e.g. `rust`.
    pub language: Option<String>,
    /// `allow_forks`, `no_public_forks` or `no_forks`.
    pub fork_policy: Option<String>,
}

impl NewRepository {
    pub(crate) fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("scm".into(), json!("git"));
        if let Some(name) = &self.name {
            body.insert("name".into(), json!(name));
        }
        if let Some(description) = &self.description {
            body.insert("description".into(), json!(description));
        }
        if let Some(is_private) = self.is_private {
            body.insert("is_private".into(), json!(is_private));
        }
        if let Some(key) = &self.project_key {
            body.insert("project".into(), json!({ "key": key }));
        }
        if let Some(has_issues) = self.has_issues {
            body.insert("has_issues".into(), json!(has_issues));
        }
        if let Some(has_wiki) = self.has_wiki {
            body.insert("has_wiki".into(), json!(has_wiki));
        }
        if let Some(language) = &self.language {
            body.insert("language".into(), json!(language));
        }
        if let Some(fork_policy) = &self.fork_policy {
            body.insert("fork_policy".into(), json!(fork_policy));
        }
        Value::Object(body)
    }
}

/// Filters for [`Client::list_repositories`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRepositoriesParams {
    /// Only repositories where the caller has this role.
    pub role: Option<RepositoryRole>,
    /// Filter expression, e.g. `name ~ "web"`.
    pub q: Option<String>,
    /// Sort field, e.g. `-updated_on`.
    pub sort: Option<String>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Items per page.
    pub pagelen: Option<u32>,
}

impl Client {
    /// `POST /repositories/{workspace}/{repo_slug}`.
    pub async fn create_repository(
        &self,
        repo: &RepoId,
        repository: &NewRepository,
    ) -> Result<Repository, Error> {
        let url = self.endpoint(repo.path())?;
        self.send_json(Method::POST, url, &repository.body()).await
    }

    /// `GET /repositories/{workspace}/{repo_slug}`.
    pub async fn get_repository(&self, repo: &RepoId) -> Result<Repository, Error> {
        self.get_json(self.endpoint(repo.path())?).await
    }

    /// `DELETE /repositories/{workspace}/{repo_slug}`. This cannot be undone.
    pub async fn delete_repository(&self, repo: &RepoId) -> Result<(), Error> {
        self.delete(self.endpoint(repo.path())?).await
    }

    /// `GET /repositories/{workspace}`.
    pub async fn list_repositories(
        &self,
        workspace: &str,
        params: &ListRepositoriesParams,
    ) -> Result<Page<Repository>, Error> {
        let path = format!("/repositories/{}", segment("workspace", workspace)?);
        let query = Query::new()
            .opt("role", params.role.as_ref().map(RepositoryRole::as_str))
            .opt("q", params.q.as_deref())
            .opt("sort", params.sort.as_deref())
            .opt("page", params.page)
            .opt("pagelen", params.pagelen);
        self.get_json(self.endpoint_with(&path, query)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_repository_body() {
        assert_eq!(NewRepository::default().body(), json!({"scm": "git"}));
        let repo = NewRepository {
            description: Some("Site".into()),
            is_private: Some(true),
            project_key: Some("WEB".into()),
            has_issues: Some(false),
            ..NewRepository::default()
        };
        assert_eq!(
            repo.body(),
            json!({"scm": "git", "description": "Site", "is_private": true, "project": {"key": "WEB"}, "has_issues": false})
        );
    }

    #[test]
    fn repository_deserializes() {
        let repo: Repository = serde_json::from_str(
            r#"{"type":"repository","full_name":"acme/website","name":"website","slug":"website","is_private":true,
            "mainbranch":{"type":"branch","name":"main"},"has_issues":false,"size":1234,"project":{"key":"WEB","name":"Web"},
            "workspace":{"slug":"acme","type":"workspace"},"owner":{"display_name":"Acme","type":"team"},
            "links":{"html":{"href":"https://bitbucket.org/acme/website"},"clone":[{"name":"https","href":"https://bitbucket.org/acme/website.git"}]},
            "description":"","language":null,"parent":null,"override_settings":{"x":true}}"#,
        )
        .unwrap();
        assert_eq!(repo.full_name, "acme/website");
        assert_eq!(repo.mainbranch_name(), Some("main"));
        assert_eq!(repo.is_private, Some(true));
        assert_eq!(repo.has_issues, Some(false));
        assert_eq!(repo.project.unwrap().key.as_deref(), Some("WEB"));
        assert_eq!(
            repo.links.html_href(),
            Some("https://bitbucket.org/acme/website")
        );
        assert_eq!(repo.links.clone[0].name.as_deref(), Some("https"));
        assert!(repo.extra.contains_key("override_settings"));
        let empty: Repository = serde_json::from_str(r#"{"mainbranch":null}"#).unwrap();
        assert_eq!(empty.mainbranch_name(), None);
    }
}
