//! Commit history.

use crate::error::Error;
use crate::http::Client;
use crate::models::Commit;
use crate::ops::page_query;
use crate::page::{Page, PageParams};
use crate::path::segment;
use crate::repo::RepoId;

impl Client {
    /// `GET /repositories/{workspace}/{repo_slug}/commits/{revision}`: commits reachable from
    /// `revision` (a branch, tag or hash), newest first; without a revision,
    /// `GET .../commits` lists those of every branch.
    pub async fn list_commits(
        &self,
        repo: &RepoId,
        revision: Option<&str>,
        params: &PageParams,
    ) -> Result<Page<Commit>, Error> {
        let mut path = format!("{}/commits", repo.path());
        if let Some(revision) = revision {
            path.push('/');
            path.push_str(&segment("revision", revision)?);
        }
        self.get_json(self.endpoint_with(&path, page_query(params))?)
            .await
    }
}
