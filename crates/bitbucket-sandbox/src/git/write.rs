//! Writing commits: one commit per call, made of blobs and trees built with gix and a
//! compare-and-swap update of the branch.

use super::*;

impl GitStore {
    /// Makes one commit on `branch` whose tree is the parent's tree with `files` added or replaced;
    /// see [`Self::commit_changes`] for the parent and branch rules. The author is also the
    /// committer.
    #[allow(clippy::too_many_arguments)] // mirrors the fields of Bitbucket's `POST /src` form
    pub fn commit_files(
        &self,
        id: &RepoId,
        branch: &str,
        parent: Option<&str>,
        files: &[(&str, &[u8])],
        message: &str,
        author: &Signature,
    ) -> Result<CommitInfo, GitError> {
        let changes: Vec<FileChange<'_>> = files
            .iter()
            .map(|&(path, content)| FileChange::Write {
                path,
                content,
                executable: false,
            })
            .collect();
        self.commit_changes(id, branch, parent, &changes, message, author)
    }

    /// Makes one commit on `branch` applying `changes` (in order; later ones win) to the parent's
    /// tree, and creates or moves `refs/heads/<branch>` to it. Author and committer are both
    /// `author`.
    ///
    /// The parent follows Bitbucket's `POST /src` rules:
    /// - `parent: Some(hash)`: the commit goes on top of `hash`. If the branch exists it must point
    ///   at `hash`, otherwise [`GitError::BranchMoved`].
    /// - `parent: None`: on top of the branch's tip if the branch exists, else a root commit on a
    ///   new branch.
    ///
    /// The ref update is a compare-and-swap against the tip seen at the start, so of two concurrent
    /// commits on one branch, one succeeds and the other gets [`GitError::BranchMoved`] instead of
    /// silently dropping the first. A message without a trailing newline gets one, like
    /// `git commit` does.
    #[allow(clippy::too_many_arguments)] // mirrors the fields of Bitbucket's `POST /src` form
    pub fn commit_changes(
        &self,
        id: &RepoId,
        branch: &str,
        parent: Option<&str>,
        changes: &[FileChange<'_>],
        message: &str,
        author: &Signature,
    ) -> Result<CommitInfo, GitError> {
        let full_name = branch_full_name(branch)?;
        let signature = to_gix_signature(author)?;
        // Validate every path before writing anything, so a bad request leaves no stray objects
        // behind.
        let changes = changes
            .iter()
            .map(|change| match *change {
                FileChange::Write { path, .. } | FileChange::Delete { path } => {
                    write_path_components(path).map(|components| (components.join("/"), change))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut repo = self.open(id)?;
        // `try_id`, not `id`, which panics on symbolic refs; a symbolic branch (only possible if
        // made outside this API) counts as having no tip, and the update below then refuses it.
        let tip = find_ref_exact(&repo, &full_name)?.and_then(|r| r.try_id().map(|id| id.detach()));
        let parent = match parent {
            Some(hash) => {
                let id = lookup_commit_id(&repo, hash)?;
                if let Some(tip) = tip
                    && tip != id
                {
                    return Err(GitError::BranchMoved {
                        name: branch.to_owned(),
                    });
                }
                Some(id)
            }
            None => tip,
        };
        let base_tree = match parent {
            Some(id) => repo
                .find_commit(id)
                .and_then(|commit| commit.tree_id())
                .map_err(other(format!("could not read the tree of commit `{id}`")))?
                .detach(),
            None => ObjectId::empty_tree(repo.object_hash()),
        };

        let tree_id = {
            let base = repo
                .find_tree(base_tree)
                .map_err(other("could not read the parent tree"))?;
            let mut editor = base
                .edit()
                .map_err(other("could not start editing the tree"))?;
            let mut written = HashSet::new();
            for (path, change) in &changes {
                match change {
                    FileChange::Write {
                        content,
                        executable,
                        ..
                    } => {
                        let blob = repo
                            .write_blob(content)
                            .map_err(other("could not write a blob"))?
                            .detach();
                        let kind = if *executable {
                            GixEntryKind::BlobExecutable
                        } else {
                            GixEntryKind::Blob
                        };
                        editor
                            .upsert(path.as_str(), kind, blob)
                            .map_err(other(format!("could not add `{path}` to the tree")))?;
                        written.insert(path.as_str());
                    }
                    FileChange::Delete { .. } => {
                        let exists = written.contains(path.as_str())
                            || lookup_entry(
                                &repo,
                                base_tree,
                                &path.split('/').collect::<Vec<_>>(),
                            )?
                            .is_some();
                        if !exists {
                            return Err(GitError::NotFound {
                                what: format!("path `{path}`"),
                            });
                        }
                        editor
                            .remove(path.as_str())
                            .map_err(other(format!("could not remove `{path}` from the tree")))?;
                        written.remove(path.as_str());
                    }
                }
            }
            editor
                .write()
                .map_err(other("could not write the tree"))?
                .detach()
        };

        // On an existing branch a commit must change something; a new branch may start with an
        // unchanged tree (Bitbucket's way of creating a branch through `POST /src`).
        if tip.is_some() && tree_id == base_tree {
            return Err(GitError::NothingChanged {
                name: branch.to_owned(),
            });
        }

        let mut text = message.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let commit = gix::objs::Commit {
            tree: tree_id,
            parents: parent.into_iter().collect(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: text.into(),
            extra_headers: Vec::new(),
        };
        let commit_id = repo
            .write_object(&commit)
            .map_err(other("could not write the commit"))?
            .detach();

        let expected = match tip {
            Some(tip) => PreviousValue::MustExistAndMatch(Target::Object(tip)),
            None => PreviousValue::MustNotExist,
        };
        let edit = RefEdit::update(full_name, commit_id, expected, "commit");
        if let Err(err) = apply_edits(&mut repo, vec![edit]) {
            return Err(if is_stale_ref_error(&err) {
                GitError::BranchMoved {
                    name: branch.to_owned(),
                }
            } else {
                GitError::Other {
                    context: format!("could not update branch `{branch}`"),
                    source: err,
                }
            });
        }

        let commit = repo
            .find_commit(commit_id)
            .map_err(other("could not read back the new commit"))?;
        commit_info(&commit)
    }
}
