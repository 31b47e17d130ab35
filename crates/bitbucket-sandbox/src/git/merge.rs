//! Merging a source commit into a destination branch, as Bitbucket merges pull requests: a
//! merge commit, a squash or a fast-forward. Trees are merged by gix (three-way, with rename
//! tracking); a conflict refuses the merge and writes no ref.

use gix::merge::blob::builtin_driver::text::Labels;
use gix::merge::tree::TreatAsUnresolved;

use super::*;

/// How a pull request is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeStrategy {
    /// A new commit with the destination and the source as parents (`git merge --no-ff`).
    MergeCommit,
    /// A new commit with the merged tree and only the destination as parent
    /// (`git merge --squash` then `git commit`).
    Squash,
    /// The destination moves to the source; refused unless it is an ancestor of the source
    /// (`git merge --ff-only`).
    FastForward,
}

impl GitStore {
    /// Merges commit `source` into branch `destination` and moves the branch (compare-and-swap
    /// against the tip it started from). Returns the branch's new tip.
    #[allow(clippy::too_many_arguments)] // the fields of Bitbucket's merge request, plus the repository
    pub fn merge(
        &self,
        id: &RepoId,
        destination: &str,
        source: &str,
        strategy: MergeStrategy,
        message: &str,
        committer: &Signature,
    ) -> Result<CommitInfo, GitError> {
        let full_name = branch_full_name(destination)?;
        let signature = to_gix_signature(committer)?;
        let mut repo = self.open(id)?;
        let tip = find_ref_exact(&repo, &full_name)?
            .and_then(|r| r.try_id().map(|id| id.detach()))
            .ok_or_else(|| GitError::NotFound {
                what: format!("branch `{destination}`"),
            })?;
        let source = lookup_commit_id(&repo, source)?;
        let base = repo
            .merge_base(tip, source)
            .map_err(other("could not compute the merge base"))?
            .map(|id| id.detach());
        if base == Some(source) {
            return Err(GitError::NothingChanged {
                name: destination.to_owned(),
            });
        }
        let new_tip = if strategy == MergeStrategy::FastForward {
            if base != Some(tip) {
                return Err(GitError::NotFastForward {
                    name: destination.to_owned(),
                });
            }
            source
        } else {
            let tree_of = |id: ObjectId| -> Result<ObjectId, GitError> {
                Ok(repo
                    .find_commit(id)
                    .and_then(|c| c.tree_id())
                    .map_err(other(format!("could not read the tree of commit `{id}`")))?
                    .detach())
            };
            let base_tree = match base {
                Some(id) => tree_of(id)?,
                None => ObjectId::empty_tree(repo.object_hash()),
            };
            let options = repo
                .tree_merge_options()
                .map_err(other("could not read the merge options"))?;
            let labels = Labels {
                ancestor: None,
                current: None,
                other: None,
            };
            let mut outcome = repo
                .merge_trees(base_tree, tree_of(tip)?, tree_of(source)?, labels, options)
                .map_err(other("could not merge the trees"))?;
            if outcome.has_unresolved_conflicts(TreatAsUnresolved::git()) {
                let mut paths: Vec<String> = outcome
                    .conflicts
                    .iter()
                    .filter(|c| c.is_unresolved(TreatAsUnresolved::git()))
                    .map(|c| c.ours.location().to_string())
                    .collect();
                paths.sort();
                paths.dedup();
                return Err(GitError::MergeConflict { paths });
            }
            let tree = outcome
                .tree
                .write()
                .map_err(other("could not write the merged tree"))?
                .detach();
            let parents = match strategy {
                MergeStrategy::MergeCommit => vec![tip, source],
                _ => vec![tip],
            };
            let mut text = message.to_owned();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            let commit = gix::objs::Commit {
                tree,
                parents: parents.into(),
                author: signature.clone(),
                committer: signature,
                encoding: None,
                message: text.into(),
                extra_headers: Vec::new(),
            };
            repo.write_object(&commit)
                .map_err(other("could not write the merge commit"))?
                .detach()
        };
        let edit = RefEdit::update(
            full_name,
            new_tip,
            PreviousValue::MustExistAndMatch(Target::Object(tip)),
            "merge",
        );
        if let Err(err) = apply_edits(&mut repo, vec![edit]) {
            return Err(if is_stale_ref_error(&err) {
                GitError::BranchMoved {
                    name: destination.to_owned(),
                }
            } else {
                GitError::Other {
                    context: format!("could not update branch `{destination}`"),
                    source: err,
                }
            });
        }
        let commit = repo
            .find_commit(new_tip)
            .map_err(other("could not read back the new tip"))?;
        commit_info(&commit)
    }
}
