//! [`RepoId`], the name of a stored repository: a workspace and a slug, both checked once to be
//! safe as folder names.

use std::fmt;
use std::path::{Path, PathBuf};

use super::GitError;

/// A repository as the git storage names it, e.g. `acme/widgets`, stored at
/// `<root>/acme/widgets.git`.
///
/// The sandbox has its own id rather than the client's `bitbucket_client::RepoId`: the sandbox
/// must not depend on the client (see ARCHITECTURE.md), and its rule is a different one. The
/// client accepts any value it can percent-encode into a URL; here both names become folders
/// on disk, so only ASCII letters, digits, `-`, `_` and `.` are allowed, without a leading `.`
/// (so never `.`, `..` or a hidden folder). Every [`GitStore`](super::GitStore) method takes a
/// `&RepoId`, so none can reach the disk with an unchecked name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    workspace: String,
    slug: String,
}

impl RepoId {
    /// The repository `slug` of `workspace`; a name that is unsafe as a folder name is a
    /// [`GitError::InvalidRepoName`].
    pub fn new(workspace: impl Into<String>, slug: impl Into<String>) -> Result<Self, GitError> {
        let (workspace, slug) = (workspace.into(), slug.into());
        check_slug(&workspace)?;
        check_slug(&slug)?;
        Ok(RepoId { workspace, slug })
    }

    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// The repository's folder under `root`: `<root>/<workspace>/<slug>.git`.
    pub(super) fn folder(&self, root: &Path) -> PathBuf {
        root.join(&self.workspace)
            .join(format!("{}.git", self.slug))
    }
}

/// `workspace/slug`.
impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.workspace, self.slug)
    }
}

/// Workspace and repository slugs become folder names, so only a conservative character set is
/// allowed and nothing that could be `.`, `..` or hidden.
fn check_slug(name: &str) -> Result<(), GitError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(GitError::InvalidRepoName {
            name: name.to_owned(),
        })
    }
}
