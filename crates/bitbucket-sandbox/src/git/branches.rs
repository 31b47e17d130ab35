//! Branches and tags as the API sees them: list, get, create, delete, and the main branch.

use super::*;

impl GitStore {
    /// All branches, sorted by name (byte order). Branches not pointing at a commit are skipped.
    pub fn branches(&self, id: &RepoId) -> Result<Vec<RefInfo>, GitError> {
        self.list_refs(id, RefKind::Branch)
    }

    /// All tags, sorted by name (byte order), annotated tags peeled to their commit. Tags not
    /// (eventually) pointing at a commit are skipped.
    pub fn tags(&self, id: &RepoId) -> Result<Vec<RefInfo>, GitError> {
        self.list_refs(id, RefKind::Tag)
    }

    /// The branch `name`, or `None` if it does not exist (or the name is invalid, so it cannot
    /// exist).
    pub fn branch(&self, id: &RepoId, name: &str) -> Result<Option<RefInfo>, GitError> {
        self.get_ref(id, RefKind::Branch, name)
    }

    /// The tag `name`, or `None` if it does not exist (or the name is invalid, so it cannot exist).
    pub fn tag(&self, id: &RepoId, name: &str) -> Result<Option<RefInfo>, GitError> {
        self.get_ref(id, RefKind::Tag, name)
    }

    /// Creates branch `name` at the commit `target` (a full or unique abbreviated hash).
    ///
    /// Fails with [`GitError::InvalidRefName`], [`GitError::RefExists`] (also when it exists with
    /// the same target, and atomically so: of several concurrent creations exactly one succeeds),
    /// [`GitError::RefConflict`] or [`GitError::NotFound`] for an unknown commit.
    pub fn create_branch(
        &self,
        id: &RepoId,
        name: &str,
        target: &str,
    ) -> Result<RefInfo, GitError> {
        let full_name = branch_full_name(name)?;
        let mut repo = self.open(id)?;
        let commit_id = lookup_commit_id(&repo, target)?;
        create_ref(&mut repo, RefKind::Branch, name, full_name, commit_id)?;
        let target = find_commit_info(&repo, commit_id)?.ok_or_else(|| commit_not_found(target))?;
        Ok(RefInfo {
            name: name.to_owned(),
            target,
            annotation: None,
        })
    }

    /// Deletes branch `name`; `Ok(false)` if it did not exist. Deleting the main branch is allowed
    /// here (it leaves `HEAD` unborn), so the HTTP layer must refuse that itself, as Bitbucket
    /// does.
    pub fn delete_branch(&self, id: &RepoId, name: &str) -> Result<bool, GitError> {
        self.delete_ref(id, RefKind::Branch, name)
    }

    /// Deletes tag `name`; `Ok(false)` if it did not exist.
    pub fn delete_tag(&self, id: &RepoId, name: &str) -> Result<bool, GitError> {
        self.delete_ref(id, RefKind::Tag, name)
    }

    /// Creates tag `name` at the commit `target` (a full or unique abbreviated hash): lightweight
    /// when `message` is `None`, otherwise an annotated tag object by `tagger` (a trailing newline
    /// is added to the message like `git tag -m` does). Tag names follow the branch name rules.
    /// Errors as for [`Self::create_branch`].
    pub fn create_tag(
        &self,
        id: &RepoId,
        name: &str,
        target: &str,
        message: Option<&str>,
        tagger: &Signature,
    ) -> Result<RefInfo, GitError> {
        if !is_valid_branch_name(name) {
            return Err(GitError::InvalidRefName {
                kind: RefKind::Tag,
                name: name.to_owned(),
            });
        }
        let full_name = FullName::try_from(format!("refs/tags/{name}")).map_err(|_| {
            GitError::InvalidRefName {
                kind: RefKind::Tag,
                name: name.to_owned(),
            }
        })?;
        let tagger = to_gix_signature(tagger)?;
        let mut repo = self.open(id)?;
        let commit_id = lookup_commit_id(&repo, target)?;
        let ref_target = match message {
            None => commit_id,
            Some(message) => {
                let mut text = message.to_owned();
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                let tag = gix::objs::Tag {
                    target: commit_id,
                    target_kind: gix::objs::Kind::Commit,
                    name: name.into(),
                    tagger: Some(tagger),
                    message: text.into(),
                    signature: None,
                };
                repo.write_object(&tag)
                    .map_err(other("could not write the tag object"))?
                    .detach()
            }
        };
        create_ref(&mut repo, RefKind::Tag, name, full_name, ref_target)?;
        ref_info(&repo, RefKind::Tag, name.to_owned(), ref_target)?
            .ok_or_else(|| commit_not_found(target))
    }

    /// Points `HEAD` at `refs/heads/<name>`. The branch need not exist (an empty repository has
    /// none); callers that want Bitbucket's "main branch must exist" rule check [`Self::branch`]
    /// first.
    pub fn set_main_branch(&self, id: &RepoId, name: &str) -> Result<(), GitError> {
        let full_name = branch_full_name(name)?;
        let repo = self.open(id)?;
        set_head(repo, full_name)
    }

    /// The branch name `HEAD` points at, whether or not that branch exists yet.
    pub fn main_branch(&self, id: &RepoId) -> Result<String, GitError> {
        let repo = self.open(id)?;
        let head = repo.head_name().map_err(other("could not read `HEAD`"))?;
        head.as_ref()
            .and_then(|name| name.as_bstr().strip_prefix(b"refs/heads/"))
            .map(|name| name.to_str_lossy().into_owned())
            .ok_or_else(|| GitError::NotFound {
                what: "main branch".to_owned(),
            })
    }

    pub(super) fn list_refs(&self, id: &RepoId, kind: RefKind) -> Result<Vec<RefInfo>, GitError> {
        let repo = self.open(id)?;
        let platform = repo.references().map_err(other("could not list refs"))?;
        let iter = match kind {
            RefKind::Branch => platform.local_branches(),
            RefKind::Tag => platform.tags(),
        }
        .map_err(other("could not list refs"))?;
        let mut found = Vec::new();
        for reference in iter {
            let reference = reference.map_err(other("could not read a ref"))?;
            let Some(name) = reference
                .name()
                .as_bstr()
                .strip_prefix(kind.prefix().as_bytes())
            else {
                continue;
            };
            let name = name.to_str_lossy().into_owned();
            if let Target::Object(id) = reference.inner.target {
                found.push((name, id));
            }
        }
        let mut refs = Vec::with_capacity(found.len());
        for (name, id) in found {
            if let Some(info) = ref_info(&repo, kind, name, id)? {
                refs.push(info);
            }
        }
        refs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(refs)
    }

    pub(super) fn get_ref(
        &self,
        id: &RepoId,
        kind: RefKind,
        name: &str,
    ) -> Result<Option<RefInfo>, GitError> {
        let repo = self.open(id)?;
        let Ok(full_name) = FullName::try_from(format!("{}{name}", kind.prefix())) else {
            return Ok(None);
        };
        match find_ref_exact(&repo, &full_name)? {
            Some(reference) => match reference.inner.target {
                Target::Object(id) => ref_info(&repo, kind, name.to_owned(), id),
                Target::Symbolic(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    pub(super) fn delete_ref(
        &self,
        id: &RepoId,
        kind: RefKind,
        name: &str,
    ) -> Result<bool, GitError> {
        let mut repo = self.open(id)?;
        let Ok(full_name) = FullName::try_from(format!("{}{name}", kind.prefix())) else {
            return Ok(false);
        };
        if find_ref_exact(&repo, &full_name)?.is_none() {
            return Ok(false);
        }
        let edit = RefEdit::new(
            full_name,
            Change::Delete {
                expected: PreviousValue::MustExist,
                log: RefLog::AndReference,
            },
        );
        match apply_edits(&mut repo, vec![edit]) {
            Ok(_) => Ok(true),
            // Someone else deleted it between our check and our lock.
            Err(err) if err.is_not_found() => Ok(false),
            Err(err) => Err(GitError::Other {
                context: format!("could not delete {kind} `{name}`"),
                source: err,
            }),
        }
    }
}
