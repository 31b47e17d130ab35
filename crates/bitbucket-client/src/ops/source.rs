//! Reading files and directories of a repository (`/src`).
//!
//! Without a revision, the repository's main branch is used: its name comes from one extra
//! `GET /repositories/{workspace}/{repo_slug}` (`mainbranch.name`). That keeps every call on
//! the explicit `src/{commit}/{path}` form, unlike `GET .../src`, which only redirects to
//! the root listing. A branch name containing `/` cannot be told apart from the path that
//! follows it, so such names are resolved to their head commit first (one more GET).

use reqwest::Method;
use reqwest::header::CONTENT_DISPOSITION;
use serde_json::Value;
use url::Url;

use crate::error::Error;
use crate::http::{Accept, ApiRequest, Client, Query};
use crate::models::{FileContent, Source, TreeEntry};
use crate::page::Page;
use crate::path::{file_path, segment};
use crate::repo::RepoId;

/// Options for [`Client::list_directory`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryParams {
    /// Also list subdirectories, breadth first, down to this depth.
    pub max_depth: Option<u32>,
    /// Filter expression, e.g. `type = "commit_file"`.
    pub q: Option<String>,
    /// Sort field.
    pub sort: Option<String>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Items per page.
    pub pagelen: Option<u32>,
}

/// Decides whether an answer of `src/{commit}/{path}` is a directory listing.
///
/// Content type alone cannot tell: a file's type follows its name, so `data.json` is served
/// as `application/json` too. A listing is JSON shaped like `paginated_treeentries` whose
/// entries are all `commit_file`/`commit_directory`; files come as attachments.
pub(crate) fn parse_listing(
    content_type: Option<&str>,
    content_disposition: Option<&str>,
    body: &[u8],
) -> Option<Page<TreeEntry>> {
    if content_disposition.is_some_and(|value| value.to_ascii_lowercase().contains("attachment")) {
        return None;
    }
    if !content_type.is_some_and(|value| value.to_ascii_lowercase().contains("json")) {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let values = object.get("values")?.as_array()?;
    let paginated = ["page", "pagelen", "size", "next"]
        .iter()
        .any(|key| object.contains_key(*key));
    let entries = values.iter().all(|entry| {
        matches!(
            entry.get("type").and_then(Value::as_str),
            Some(TreeEntry::FILE | TreeEntry::DIRECTORY)
        )
    });
    if !paginated || !entries {
        return None;
    }
    serde_json::from_value(value).ok()
}

impl Client {
    /// The revision to read at: `revision` when given (a branch name with `/` resolved to its
    /// head commit), else the repository's main branch.
    pub async fn resolve_revision(
        &self,
        repo: &RepoId,
        revision: Option<&str>,
    ) -> Result<String, Error> {
        let name = match revision.map(str::trim).filter(|text| !text.is_empty()) {
            Some(revision) => revision.to_owned(),
            None => {
                let repository = self.get_repository(repo).await?;
                match repository.mainbranch_name() {
                    Some(name) => name.to_owned(),
                    None => {
                        return Err(Error::NoMainBranch {
                            repository: repo.to_string(),
                        });
                    }
                }
            }
        };
        if !name.contains('/') {
            return Ok(name);
        }
        match self.get_branch(repo, &name).await {
            Ok(branch) => match branch.target {
                Some(target) if !target.hash.is_empty() => Ok(target.hash),
                _ => Ok(name),
            },
            // Not a branch (e.g. a tag with `/`): let the src call decide.
            Err(err) if err.is_not_found() => Ok(name),
            Err(err) => Err(err),
        }
    }

    fn src_url(
        &self,
        repo: &RepoId,
        revision: &str,
        path: &str,
        directory: bool,
        query: Query,
    ) -> Result<Url, Error> {
        let path = file_path(path)?;
        let mut text = format!(
            "{}/src/{}/{}",
            repo.path(),
            segment("revision", revision)?,
            path
        );
        // A directory listing needs the trailing slash (the root one in particular).
        if directory && !path.is_empty() {
            text.push('/');
        }
        self.endpoint_with(&text, query)
    }

    /// `GET /repositories/{workspace}/{repo_slug}/src/{revision}/{path}`: a file's raw bytes,
    /// or the first page of a directory's listing (an empty `path` is the root directory).
    pub async fn get_file(
        &self,
        repo: &RepoId,
        revision: Option<&str>,
        path: &str,
    ) -> Result<Source, Error> {
        let revision = self.resolve_revision(repo, revision).await?;
        let directory = file_path(path)?.is_empty();
        let url = self.src_url(repo, &revision, path, directory, Query::new())?;
        let request = ApiRequest::new(Method::GET, url).accept(Accept::Any);
        let response = self.execute(&request).await?;
        let content_type = response.content_type();
        let disposition = response
            .headers
            .get(CONTENT_DISPOSITION)
            .and_then(|value| value.to_str().ok());
        if let Some(listing) = parse_listing(content_type.as_deref(), disposition, &response.body) {
            return Ok(Source::Directory(listing));
        }
        if directory {
            // The root is always a directory; a non-listing answer means a broken server.
            return self.decode(&request, &response).map(Source::Directory);
        }
        Ok(Source::File(FileContent {
            path: path.trim_matches('/').to_owned(),
            revision,
            content_type,
            size: u64::try_from(response.body.len()).unwrap_or(u64::MAX),
            bytes: response.body,
        }))
    }

    /// `GET .../src/{revision}/{path}?format=meta`: the `commit_file` or `commit_directory`
    /// description of a path, without its contents.
    pub async fn get_file_meta(
        &self,
        repo: &RepoId,
        revision: Option<&str>,
        path: &str,
    ) -> Result<TreeEntry, Error> {
        let revision = self.resolve_revision(repo, revision).await?;
        let directory = file_path(path)?.is_empty();
        let query = Query::new().push("format", "meta");
        let url = self.src_url(repo, &revision, path, directory, query)?;
        self.get_json(url).await
    }

    /// `GET .../src/{revision}/{path}/`: one page of a directory listing; an empty `path`
    /// lists the root. Follow `next` with [`Client::next_page`] or [`Client::paginate`].
    pub async fn list_directory(
        &self,
        repo: &RepoId,
        revision: Option<&str>,
        path: &str,
        params: &DirectoryParams,
    ) -> Result<Page<TreeEntry>, Error> {
        let revision = self.resolve_revision(repo, revision).await?;
        let query = Query::new()
            .opt("max_depth", params.max_depth)
            .opt("q", params.q.as_deref())
            .opt("sort", params.sort.as_deref())
            .opt("page", params.page)
            .opt("pagelen", params.pagelen);
        let url = self.src_url(repo, &revision, path, true, query)?;
        self.get_json(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientConfig;

    fn web() -> RepoId {
        RepoId::new("acme", "web").unwrap()
    }

    const LISTING: &str = r#"{"pagelen":10,"page":1,"size":2,"values":[
        {"path":"tests/test_project","type":"commit_directory","commit":{"type":"commit","hash":"eefd5ef"},
         "links":{"self":{"href":"https://api/x/"}}},
        {"path":"tests/__init__.py","type":"commit_file","attributes":[],"size":0,"commit":{"hash":"eefd5ef"}}]}"#;

    #[test]
    fn listing_is_recognised() {
        let page = parse_listing(Some("application/json"), None, LISTING.as_bytes()).unwrap();
        assert_eq!(page.values.len(), 2);
        assert!(page.values[0].is_directory());
        assert!(page.values[1].is_file());
        assert_eq!(page.values[1].size, Some(0));
        assert_eq!(page.values[0].commit.as_ref().unwrap().hash, "eefd5ef");
        let empty = parse_listing(
            Some("application/json; charset=utf-8"),
            None,
            br#"{"pagelen":10,"values":[],"page":1}"#,
        );
        assert_eq!(empty.unwrap().values.len(), 0);
    }

    #[test]
    fn files_are_not_mistaken_for_listings() {
        assert!(parse_listing(Some("text/plain"), None, LISTING.as_bytes()).is_none());
        assert!(parse_listing(None, None, LISTING.as_bytes()).is_none());
        assert!(
            parse_listing(
                Some("application/json"),
                Some("attachment; filename=\"x.json\""),
                LISTING.as_bytes()
            )
            .is_none()
        );
        for json_file in [
            r#"{"name":"package","version":"1.0.0"}"#,
            r#"{"values":[1,2],"page":1}"#,
            r#"{"values":[{"type":"user"}],"page":1}"#,
            r#"{"values":[]}"#,
            r#"[1,2,3]"#,
            "not json",
        ] {
            assert!(
                parse_listing(Some("application/json"), None, json_file.as_bytes()).is_none(),
                "{json_file}"
            );
        }
    }

    #[test]
    fn meta_entries_deserialize() {
        let entry: TreeEntry = serde_json::from_str(
            r#"{"path":"tests/__init__.py","commit":{"type":"commit","hash":"eefd5ef"},"attributes":"binary","type":"commit_file","size":0,"mimetype":null}"#,
        )
        .unwrap();
        assert!(entry.is_file());
        assert_eq!(entry.attributes, vec!["binary"]);
    }

    #[test]
    fn src_urls() {
        let client = Client::new(ClientConfig::new("http://127.0.0.1:7990/2.0")).unwrap();
        let base = "http://127.0.0.1:7990/2.0/repositories/acme/web/src";
        let url = |revision: &str, path: &str, directory: bool| {
            client
                .src_url(&web(), revision, path, directory, Query::new())
                .unwrap()
                .to_string()
        };
        assert_eq!(url("main", "", true), format!("{base}/main/"));
        assert_eq!(url("main", "", false), format!("{base}/main/"));
        assert_eq!(
            url("abc123", "docs/my file.md", false),
            format!("{base}/abc123/docs/my%20file.md")
        );
        assert_eq!(
            url("abc123", "/docs/", true),
            format!("{base}/abc123/docs/")
        );
        assert_eq!(url("rel/1.0", "a", false), format!("{base}/rel%2F1.0/a"));
        let meta = client
            .src_url(
                &web(),
                "main",
                "a.txt",
                false,
                Query::new().push("format", "meta"),
            )
            .unwrap();
        assert_eq!(meta.as_str(), format!("{base}/main/a.txt?format=meta"));
        assert!(
            client
                .src_url(&web(), "main", "../x", false, Query::new())
                .is_err()
        );
    }
}
