//! Reading history and trees: resolving revisions, files and folders, logs and ancestry.

use super::*;

impl GitStore {
    /// Resolves a branch name, tag name, full hash or unique abbreviated hash (at least four hex
    /// digits) to a commit. Like Bitbucket, a branch wins over a tag, and a tag over a hash.
    /// Returns `Ok(None)` when nothing matches, including when an abbreviated hash matches several
    /// commits; hashes of non-commit objects do not match.
    pub fn resolve(&self, id: &RepoId, rev: &str) -> Result<Option<CommitInfo>, GitError> {
        let repo = self.open(id)?;
        for kind in [RefKind::Branch, RefKind::Tag] {
            // A name that cannot be a ref is not an error here: it may still be a hash.
            let Ok(full_name) = FullName::try_from(format!("{}{rev}", kind.prefix())) else {
                continue;
            };
            if let Some(reference) = find_ref_exact(&repo, &full_name)?
                && let Some(commit) = peel_to_commit(&repo, reference)?
            {
                return commit_info(&commit).map(Some);
            }
        }
        match lookup_hash(&repo, rev)? {
            Some(id) => find_commit_info(&repo, id),
            None => Ok(None),
        }
    }

    /// Reads `path` in the tree of `commit` (a full or unique abbreviated hash).
    ///
    /// `""` and `"/"` mean the root folder; leading and trailing slashes are ignored. Paths with
    /// empty, `.` or `..` segments, NUL or backslashes are rejected with [`GitError::InvalidPath`]:
    /// lookups only ever walk down the commit's own tree. An unknown commit is
    /// [`GitError::NotFound`], a missing path [`PathContent::NotFound`].
    pub fn read_path(
        &self,
        id: &RepoId,
        commit: &str,
        path: &str,
    ) -> Result<PathContent, GitError> {
        let components = read_path_components(path)?;
        let repo = self.open(id)?;
        let commit_id = lookup_commit_id(&repo, commit)?;
        let root = repo
            .find_commit(commit_id)
            .and_then(|commit| commit.tree_id())
            .map_err(other(format!(
                "could not read the tree of commit `{commit_id}`"
            )))?
            .detach();
        let joined = components.join("/");
        if components.is_empty() {
            return list_dir(&repo, root, joined);
        }
        let Some((mode, oid)) = lookup_entry(&repo, root, &components)? else {
            return Ok(PathContent::NotFound);
        };
        match mode.kind() {
            GixEntryKind::Tree => list_dir(&repo, oid, joined),
            GixEntryKind::Commit => Ok(PathContent::Submodule {
                path: joined,
                oid: oid.to_string(),
            }),
            kind @ (GixEntryKind::Blob | GixEntryKind::BlobExecutable | GixEntryKind::Link) => {
                let blob = repo
                    .find_blob(oid)
                    .map_err(other(format!("could not read `{joined}`")))?;
                let bytes = blob.data.clone();
                Ok(PathContent::File {
                    path: joined,
                    size: bytes.len() as u64,
                    oid: oid.to_string(),
                    bytes,
                    executable: kind == GixEntryKind::BlobExecutable,
                    symlink: kind == GixEntryKind::Link,
                })
            }
        }
    }

    /// Commits reachable from `start` but not from `exclude` (like `git log start ^exclude`),
    /// newest commit time first, after skipping `skip` of them and returning at most `limit`. Both
    /// are full or unique abbreviated hashes.
    pub fn log(
        &self,
        id: &RepoId,
        start: &str,
        exclude: Option<&str>,
        limit: usize,
        skip: usize,
    ) -> Result<Vec<CommitInfo>, GitError> {
        let repo = self.open(id)?;
        let start = lookup_commit_id(&repo, start)?;
        let hidden = exclude
            .map(|hash| lookup_commit_id(&repo, hash))
            .transpose()?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let walk = repo
            .rev_walk([start])
            .with_hidden(hidden)
            .sorting(gix::revision::walk::Sorting::ByCommitTime(
                gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
            ))
            .all()
            .map_err(other("could not start walking the history"))?;
        let mut commits = Vec::new();
        // Not `Iterator::skip`, which would silently drop errors met while skipping.
        let mut skipped = 0;
        for info in walk {
            let info = info.map_err(other("could not walk the history"))?;
            if skipped < skip {
                skipped += 1;
                continue;
            }
            let commit = repo
                .find_commit(info.id)
                .map_err(other(format!("could not read commit `{}`", info.id)))?;
            commits.push(commit_info(&commit)?);
            if commits.len() == limit {
                break;
            }
        }
        Ok(commits)
    }

    /// The commit `hash` (full or unique abbreviated), or `None` if there is no such commit.
    pub fn commit(&self, id: &RepoId, hash: &str) -> Result<Option<CommitInfo>, GitError> {
        let repo = self.open(id)?;
        match lookup_hash(&repo, hash)? {
            Some(id) => find_commit_info(&repo, id),
            None => Ok(None),
        }
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor, as in
    /// `git merge-base --is-ancestor`).
    pub fn is_ancestor(
        &self,
        id: &RepoId,
        ancestor: &str,
        descendant: &str,
    ) -> Result<bool, GitError> {
        let repo = self.open(id)?;
        let ancestor = lookup_commit_id(&repo, ancestor)?;
        let descendant = lookup_commit_id(&repo, descendant)?;
        // If `ancestor` is reachable from `descendant`, it is their only best common ancestor.
        let base = repo
            .merge_base(ancestor, descendant)
            .map_err(other("could not compute the merge base"))?;
        Ok(base.is_some_and(|base| base.detach() == ancestor))
    }

    /// The best common ancestor of two commits, or `None` for unrelated histories.
    pub fn merge_base(
        &self,
        id: &RepoId,
        one: &str,
        two: &str,
    ) -> Result<Option<String>, GitError> {
        let repo = self.open(id)?;
        let one = lookup_commit_id(&repo, one)?;
        let two = lookup_commit_id(&repo, two)?;
        let base = repo
            .merge_base(one, two)
            .map_err(other("could not compute the merge base"))?;
        Ok(base.map(|id| id.to_string()))
    }
}
