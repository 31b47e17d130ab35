//! Changes to a repository and how to read them: one commit and its comments, diffs and
//! patches between commits, a file's history, writing files as a commit, build statuses, and
//! removing branches and tags.

use reqwest::Method;
use reqwest::header::LOCATION;
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::http::{ApiRequest, Client, Query};
use crate::models::{Comment, Commit, CommitStatus, DiffStat, Tag, TreeEntry};
use crate::ops::review::NewComment;
use crate::ops::{list_query, page_query};
use crate::page::{ListParams, Page, PageParams};
use crate::path::{file_path, segment};
use crate::repo::RepoId;

/// Options of a diff or a diffstat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffParams {
    /// Lines of context around each change (git's default, 3, when `None`).
    pub context: Option<u32>,
    /// Only these paths.
    pub paths: Vec<String>,
    /// Ignore changes in whitespace.
    pub ignore_whitespace: bool,
}

impl DiffParams {
    fn query(&self) -> Query {
        let mut query = Query::new().opt("context", self.context);
        for path in &self.paths {
            query = query.push("path", path.as_str());
        }
        if self.ignore_whitespace {
            query = query.push("ignore_whitespace", "true");
        }
        query
    }
}

/// Files to write (and remove) as one commit, `POST .../src`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitFiles {
    /// The commit message (Bitbucket writes a default one when `None`).
    pub message: Option<String>,
    /// `Name <email>`; the current user when `None`.
    pub author: Option<String>,
    /// The branch to commit on; made when it does not exist (from `parents`, else the main
    /// branch); the main branch when `None`.
    pub branch: Option<String>,
    /// The commit the new one follows; Bitbucket refuses the write when the branch has moved
    /// past it.
    pub parents: Option<String>,
    /// Path and new content of each file to write.
    pub files: Vec<(String, String)>,
    /// Paths to delete.
    pub delete: Vec<String>,
}

impl CommitFiles {
    fn form(&self) -> Result<Vec<(String, String)>, Error> {
        if self.files.is_empty() && self.delete.is_empty() {
            return Err(Error::InvalidInput {
                message: "nothing to commit: give files to write or paths to delete".to_owned(),
            });
        }
        let mut form = Vec::new();
        let text = |name: &str, value: &Option<String>, form: &mut Vec<(String, String)>| {
            if let Some(value) = value {
                form.push((name.to_owned(), value.clone()));
            }
        };
        text("message", &self.message, &mut form);
        text("author", &self.author, &mut form);
        text("branch", &self.branch, &mut form);
        text("parents", &self.parents, &mut form);
        for (path, content) in &self.files {
            let path = file_path(path)?;
            if path.is_empty() {
                return Err(Error::InvalidInput {
                    message: "a file to write needs a path".to_owned(),
                });
            }
            // A form field named like one of the options would be read as that option.
            if matches!(
                path.as_str(),
                "message" | "author" | "branch" | "parents" | "files"
            ) {
                form.push((format!("/{path}"), content.clone()));
            } else {
                form.push((path, content.clone()));
            }
        }
        for path in &self.delete {
            form.push(("files".to_owned(), file_path(path)?));
        }
        Ok(form)
    }
}

/// A build status to post for a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCommitStatus {
    /// The build's key, unique per commit, e.g. `ci/build`.
    pub key: String,
    /// `INPROGRESS`, `SUCCESSFUL`, `FAILED` or `STOPPED`.
    pub state: String,
    /// The build's page.
    pub url: String,
    /// Name to show, e.g. `Build #42`.
    pub name: Option<String>,
    /// What happened, e.g. `4 tests failed`.
    pub description: Option<String>,
}

impl Client {
    fn repo_url(&self, repo: &RepoId, rest: &str) -> Result<url::Url, Error> {
        self.endpoint(&format!("{}{rest}", repo.path()))
    }

    /// `GET .../commit/{commit}`.
    pub async fn get_commit(&self, repo: &RepoId, commit: &str) -> Result<Commit, Error> {
        let url = self.repo_url(repo, &format!("/commit/{}", segment("commit", commit)?))?;
        self.get_json(url).await
    }

    /// `GET .../diff/{spec}`: the unified diff of `spec` (`a..b`, or one commit against its
    /// first parent), as text.
    pub async fn diff(
        &self,
        repo: &RepoId,
        spec: &str,
        params: &DiffParams,
    ) -> Result<String, Error> {
        let mut url = self.repo_url(repo, &format!("/diff/{}", segment("spec", spec)?))?;
        params.query().apply(&mut url);
        self.get_text(url).await
    }

    /// `GET .../patch/{spec}`: the changes as a series of patches, as text.
    pub async fn patch(&self, repo: &RepoId, spec: &str) -> Result<String, Error> {
        let url = self.repo_url(repo, &format!("/patch/{}", segment("spec", spec)?))?;
        self.get_text(url).await
    }

    /// `GET .../diffstat/{spec}`: what `spec` changes, file by file.
    pub async fn diffstat(
        &self,
        repo: &RepoId,
        spec: &str,
        params: &DiffParams,
        page: &PageParams,
    ) -> Result<Page<DiffStat>, Error> {
        let mut url = self.repo_url(repo, &format!("/diffstat/{}", segment("spec", spec)?))?;
        params.query().apply(&mut url);
        page_query(page).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../merge-base/{a..b}`: the best common ancestor of two commits.
    pub async fn merge_base(&self, repo: &RepoId, spec: &str) -> Result<Commit, Error> {
        let url = self.repo_url(repo, &format!("/merge-base/{}", segment("spec", spec)?))?;
        self.get_json(url).await
    }

    /// `GET .../filehistory/{commit}/{path}`: the versions of a file, newest first.
    pub async fn file_history(
        &self,
        repo: &RepoId,
        commit: &str,
        path: &str,
        params: &PageParams,
    ) -> Result<Page<TreeEntry>, Error> {
        let path = file_path(path)?;
        if path.is_empty() {
            return Err(Error::InvalidInput {
                message: "`path` must name a file".to_owned(),
            });
        }
        let url = self.repo_url(
            repo,
            &format!("/filehistory/{}/{path}", segment("commit", commit)?),
        )?;
        let mut url = url;
        page_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `POST .../src`: writes and removes files as one commit. Returns the new commit's hash
    /// (from `Location`).
    pub async fn commit_files(&self, repo: &RepoId, commit: &CommitFiles) -> Result<String, Error> {
        let form = commit.form()?;
        let url = self.repo_url(repo, "/src")?;
        let request = ApiRequest::new(Method::POST, url).form_body(&form);
        let response = self.execute(&request).await?;
        let location = response
            .headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        match location.trim_end_matches('/').rsplit('/').next() {
            Some(hash) if !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
                Ok(hash.to_owned())
            }
            _ => Err(Error::Decode {
                method: "POST".to_owned(),
                path: self.path_of(&request.url),
                message: format!("the answer names no commit (Location: `{location}`)"),
            }),
        }
    }

    /// `POST .../commit/{commit}/statuses/build`: creates or updates a build status.
    pub async fn create_commit_status(
        &self,
        repo: &RepoId,
        commit: &str,
        status: &NewCommitStatus,
    ) -> Result<CommitStatus, Error> {
        if status.key.trim().is_empty() || status.url.trim().is_empty() {
            return Err(Error::InvalidInput {
                message: "a build status needs a `key` and a `url`".to_owned(),
            });
        }
        let mut body = Map::new();
        body.insert("key".into(), json!(status.key));
        body.insert("state".into(), json!(status.state));
        body.insert("url".into(), json!(status.url));
        if let Some(name) = &status.name {
            body.insert("name".into(), json!(name));
        }
        if let Some(description) = &status.description {
            body.insert("description".into(), json!(description));
        }
        let url = self.repo_url(
            repo,
            &format!("/commit/{}/statuses/build", segment("commit", commit)?),
        )?;
        self.send_json(Method::POST, url, &Value::Object(body))
            .await
    }

    /// `GET .../commit/{commit}/statuses`.
    pub async fn list_commit_statuses(
        &self,
        repo: &RepoId,
        commit: &str,
        params: &ListParams,
    ) -> Result<Page<CommitStatus>, Error> {
        let mut url = self.repo_url(
            repo,
            &format!("/commit/{}/statuses", segment("commit", commit)?),
        )?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    fn commit_comments_url(
        &self,
        repo: &RepoId,
        commit: &str,
        comment_id: Option<u64>,
    ) -> Result<url::Url, Error> {
        let one = comment_id.map(|id| format!("/{id}")).unwrap_or_default();
        self.repo_url(
            repo,
            &format!("/commit/{}/comments{one}", segment("commit", commit)?),
        )
    }

    /// `GET .../commit/{commit}/comments`.
    pub async fn list_commit_comments(
        &self,
        repo: &RepoId,
        commit: &str,
        params: &ListParams,
    ) -> Result<Page<Comment>, Error> {
        let mut url = self.commit_comments_url(repo, commit, None)?;
        list_query(params).apply(&mut url);
        self.get_json(url).await
    }

    /// `GET .../commit/{commit}/comments/{comment_id}`.
    pub async fn get_commit_comment(
        &self,
        repo: &RepoId,
        commit: &str,
        comment_id: u64,
    ) -> Result<Comment, Error> {
        let url = self.commit_comments_url(repo, commit, Some(comment_id))?;
        self.get_json(url).await
    }

    /// `POST .../commit/{commit}/comments`: general, inline on a line of the commit's diff
    /// with its first parent, or a reply.
    pub async fn create_commit_comment(
        &self,
        repo: &RepoId,
        commit: &str,
        comment: &NewComment,
    ) -> Result<Comment, Error> {
        let body = comment.body()?;
        let url = self.commit_comments_url(repo, commit, None)?;
        self.send_json(Method::POST, url, &body).await
    }

    /// `PUT .../commit/{commit}/comments/{comment_id}`: replaces the text.
    pub async fn update_commit_comment(
        &self,
        repo: &RepoId,
        commit: &str,
        comment_id: u64,
        text: &str,
    ) -> Result<Comment, Error> {
        let body = NewComment::new(text).body()?;
        let url = self.commit_comments_url(repo, commit, Some(comment_id))?;
        self.send_json(Method::PUT, url, &body).await
    }

    /// `DELETE .../commit/{commit}/comments/{comment_id}`.
    pub async fn delete_commit_comment(
        &self,
        repo: &RepoId,
        commit: &str,
        comment_id: u64,
    ) -> Result<(), Error> {
        let url = self.commit_comments_url(repo, commit, Some(comment_id))?;
        self.delete(url).await
    }

    /// `DELETE .../refs/branches/{name}`.
    pub async fn delete_branch(&self, repo: &RepoId, name: &str) -> Result<(), Error> {
        self.delete(self.branch_url(repo, name)?).await
    }

    /// `POST .../refs/tags`: a tag `name` at `target` (a branch or a commit).
    pub async fn create_tag(
        &self,
        repo: &RepoId,
        name: &str,
        target: &str,
        message: Option<&str>,
    ) -> Result<Tag, Error> {
        let mut body = json!({ "name": name, "target": { "hash": target } });
        if let Some(message) = message {
            body["message"] = json!(message);
        }
        let url = self.repo_url(repo, "/refs/tags")?;
        self.send_json(Method::POST, url, &body).await
    }

    /// `DELETE .../refs/tags/{name}`.
    pub async fn delete_tag(&self, repo: &RepoId, name: &str) -> Result<(), Error> {
        let url = self.repo_url(repo, &format!("/refs/tags/{}", segment("name", name)?))?;
        self.delete(url).await
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
    fn a_commit_form_names_files_by_path_and_refuses_nothing_to_do() {
        let commit = CommitFiles {
            message: Some("Fix the README".into()),
            branch: Some("feature/docs".into()),
            files: vec![
                ("README.md".into(), "# Widgets\n".into()),
                ("message".into(), "a file called message".into()),
            ],
            delete: vec!["old/notes.txt".into()],
            ..CommitFiles::default()
        };
        assert_eq!(
            commit.form().unwrap(),
            [
                ("message", "Fix the README"),
                ("branch", "feature/docs"),
                ("README.md", "# Widgets\n"),
                ("/message", "a file called message"),
                ("files", "old/notes.txt"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert!(CommitFiles::default().form().is_err());
        let traversal = CommitFiles {
            files: vec![("../etc/passwd".into(), "x".into())],
            ..CommitFiles::default()
        };
        assert!(traversal.form().is_err());
    }

    #[test]
    fn diff_options_become_the_query() {
        let client = Client::new(ClientConfig::new("http://127.0.0.1:7990/2.0")).unwrap();
        let mut url = client.repo_url(&web(), "/diff/main..feature").unwrap();
        DiffParams {
            context: Some(5),
            paths: vec!["src/a.rs".into(), "b.md".into()],
            ignore_whitespace: true,
        }
        .query()
        .apply(&mut url);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:7990/2.0/repositories/acme/web/diff/main..feature?context=5&path=src%2Fa.rs&path=b.md&ignore_whitespace=true"
        );
    }
}
