//! [`RepoId`], the name of a repository: a workspace and a slug, validated and encoded once.
//!
//! Every repository operation takes a `&RepoId`, so a bad workspace or slug is refused where
//! the id is made, and no operation re-encodes the pair.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::path::segment;

/// A repository, named by its workspace and slug, e.g. `acme/widgets`.
///
/// Both values are checked as path segments when the id is made: an empty value, `.` or `..`
/// is refused (URL parsers would resolve a dot segment and send the request elsewhere), and
/// everything else is kept as given and percent-encoded into [`RepoId::path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    workspace: String,
    slug: String,
    /// `/repositories/{workspace}/{slug}`, both encoded.
    path: String,
}

impl RepoId {
    /// The repository `slug` in `workspace`; an empty value, `.` or `..` is an
    /// [`Error::InvalidInput`] naming `workspace` or `repo_slug`.
    pub fn new(workspace: impl Into<String>, slug: impl Into<String>) -> Result<Self, Error> {
        let (workspace, slug) = (workspace.into(), slug.into());
        let path = format!(
            "/repositories/{}/{}",
            segment("workspace", &workspace)?,
            segment("repo_slug", &slug)?
        );
        Ok(RepoId {
            workspace,
            slug,
            path,
        })
    }

    /// The workspace's slug or UUID, as given.
    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    /// The repository's slug, as given.
    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// `/repositories/{workspace}/{repo_slug}` with both values encoded, relative to the base
    /// URL.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
}

/// `workspace/slug`, as Bitbucket's `full_name`.
impl fmt::Display for RepoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.workspace, self.slug)
    }
}

/// Parses `workspace/slug`; the slug is everything after the first `/`, so a slug with a `/`
/// in it is refused rather than split differently.
impl FromStr for RepoId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text.split_once('/') {
            Some((workspace, slug)) if !slug.contains('/') => RepoId::new(workspace, slug),
            _ => Err(Error::InvalidInput {
                message: format!("a repository must be `workspace/slug`, got `{text}`"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_are_encoded() {
        let repo = RepoId::new("{ws}", "my repo").unwrap();
        assert_eq!(repo.path(), "/repositories/%7Bws%7D/my%20repo");
        assert_eq!(repo.workspace(), "{ws}");
        assert_eq!(repo.slug(), "my repo");
        assert_eq!(repo.to_string(), "{ws}/my repo");
        assert_eq!(
            RepoId::new("acme", "web.site").unwrap().path(),
            "/repositories/acme/web.site"
        );
    }

    #[test]
    fn refuses_empty_and_dot_segments_by_name() {
        for (workspace, slug, named) in [
            ("", "x", "`workspace` must not be empty"),
            (".", "x", "`workspace` must not be `.`"),
            ("a", "", "`repo_slug` must not be empty"),
            ("a", "..", "`repo_slug` must not be `..`"),
        ] {
            let err = RepoId::new(workspace, slug).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
            assert_eq!(err.to_string(), format!("invalid argument: {named}"));
        }
    }

    #[test]
    fn parses_workspace_and_slug() {
        let repo: RepoId = "acme/widgets".parse().unwrap();
        assert_eq!(repo, RepoId::new("acme", "widgets").unwrap());
        assert_eq!(repo.to_string(), "acme/widgets");
        for bad in ["acme", "acme/a/b", "/widgets", "acme/", "acme/.."] {
            let err = bad.parse::<RepoId>().unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err:?}");
        }
    }
}
