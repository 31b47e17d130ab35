//! Ref helpers: exact lookups, transactions, and the ref-to-commit views.

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::refs::transaction::{Change, PreviousValue, RefEdit};
use gix::refs::{FullName, Target};

use super::objects::{commit_info, from_gix_signature};
use super::{GitError, LOCK_TIMEOUT, RefInfo, RefKind, TagAnnotation, other};

/// Points `HEAD` at `branch`, which may not exist yet.
pub(super) fn set_head(mut repo: gix::Repository, branch: FullName) -> Result<(), GitError> {
    let head = FullName::try_from("HEAD").map_err(|err| GitError::Other {
        context: "could not name `HEAD`".to_owned(),
        source: gix::Error::from_error(err),
    })?;
    let edit = RefEdit::update(head, Target::Symbolic(branch), PreviousValue::Any, "");
    apply_edits(&mut repo, vec![edit]).map_err(other("could not update `HEAD`"))?;
    Ok(())
}

/// Runs a ref transaction with a patient lock timeout and without reflogs: Bitbucket has no reflog
/// to show, and git itself keeps none in bare repositories.
pub(super) fn apply_edits(
    repo: &mut gix::Repository,
    edits: Vec<RefEdit>,
) -> gix::Result<Vec<RefEdit>> {
    repo.refs.write_reflog = gix::refs::store::WriteReflog::Disable;
    let fail = gix::lock::acquire::Fail::AfterDurationWithBackoff(LOCK_TIMEOUT);
    repo.refs
        .transaction()
        .prepare(edits, fail, fail)?
        .commit(None::<gix::actor::SignatureRef<'_>>)
}

/// Creates `full_name` pointing at `target`, failing if it exists in any form.
pub(super) fn create_ref(
    repo: &mut gix::Repository,
    kind: RefKind,
    name: &str,
    full_name: FullName,
    target: ObjectId,
) -> Result<(), GitError> {
    check_ref_conflicts(repo, kind, name)?;
    let edit = RefEdit::update(
        full_name.clone(),
        target,
        PreviousValue::MustNotExist,
        "create",
    );
    let exists = || GitError::RefExists {
        kind,
        name: name.to_owned(),
    };
    match apply_edits(repo, vec![edit]) {
        // gix accepts `MustNotExist` when the ref exists with the very value we write (the edit is
        // then a no-op) and reports what it found under the lock as the previous value. Treat that
        // as "exists" so that exactly one of several identical concurrent creations wins.
        Ok(edits) => {
            let existed = edits.iter().any(|edit| {
                edit.name == full_name
                    && matches!(
                        edit.change,
                        Change::Update {
                            expected: PreviousValue::MustExistAndMatch(_),
                            ..
                        }
                    )
            });
            if existed { Err(exists()) } else { Ok(()) }
        }
        Err(err) if is_stale_ref_error(&err) => Err(exists()),
        Err(err) => Err(GitError::Other {
            context: format!("could not create {kind} `{name}`"),
            source: err,
        }),
    }
}

/// Refs are files, so `a` and `a/b` cannot both exist. Checking up front gives a clear error
/// instead of an I/O error from the lock file; a concurrent creation slipping in between still
/// fails safely inside gix.
fn check_ref_conflicts(repo: &gix::Repository, kind: RefKind, name: &str) -> Result<(), GitError> {
    let conflict = |existing: &str| GitError::RefConflict {
        kind,
        name: name.to_owned(),
        existing: existing.to_owned(),
    };
    for (idx, _) in name.match_indices('/') {
        let prefix = &name[..idx];
        if let Ok(full_name) = FullName::try_from(format!("{}{prefix}", kind.prefix()))
            && find_ref_exact(repo, &full_name)?.is_some()
        {
            return Err(conflict(prefix));
        }
    }
    let platform = repo.references().map_err(other("could not list refs"))?;
    let below = format!("{}{name}/", kind.prefix());
    let iter = match kind {
        RefKind::Branch => platform.local_branches(),
        RefKind::Tag => platform.tags(),
    }
    .map_err(other("could not list refs"))?;
    for reference in iter {
        let reference = reference.map_err(other("could not read a ref"))?;
        let full = reference.name().as_bstr();
        if full.starts_with(below.as_bytes())
            && let Some(short) = full.strip_prefix(kind.prefix().as_bytes())
        {
            return Err(conflict(&short.to_str_lossy()));
        }
    }
    Ok(())
}

/// Whether a ref transaction failed because the ref's current value was not the expected one.
pub(super) fn is_stale_ref_error(err: &gix::Error) -> bool {
    use gix::refs::file::transaction::prepare::{MustNotExist, ReferenceOutOfDate};
    err.downcast_any_ref::<MustNotExist>().is_some()
        || err.downcast_any_ref::<ReferenceOutOfDate>().is_some()
}

/// Looks up exactly `full_name`. gix's lookup takes partial names and would also try e.g.
/// `refs/tags/refs/heads/x` when `refs/heads/x` is missing, so the name of the result is checked.
pub(super) fn find_ref_exact<'repo>(
    repo: &'repo gix::Repository,
    full_name: &FullName,
) -> Result<Option<gix::Reference<'repo>>, GitError> {
    let found = repo
        .try_find_reference(full_name.as_bstr())
        .map_err(other(format!("could not read ref `{full_name}`")))?;
    Ok(found.filter(|reference| reference.name() == full_name.as_ref()))
}

/// Follows `reference` through symbolic refs and tag objects; `None` if it ends at a non-commit.
pub(super) fn peel_to_commit<'repo>(
    repo: &'repo gix::Repository,
    mut reference: gix::Reference<'repo>,
) -> Result<Option<gix::Commit<'repo>>, GitError> {
    let id = reference.peel_to_id().map_err(other(format!(
        "could not peel ref `{}`",
        reference.name().as_bstr()
    )))?;
    let object = repo
        .find_object(id)
        .map_err(other(format!("could not read object `{id}`")))?;
    Ok((object.kind == gix::objs::Kind::Commit).then(|| object.into_commit()))
}

/// Builds the [`RefInfo`] for a ref whose direct target is `id` (a commit, or a tag object for
/// annotated tags).
pub(super) fn ref_info(
    repo: &gix::Repository,
    kind: RefKind,
    name: String,
    id: ObjectId,
) -> Result<Option<RefInfo>, GitError> {
    let object = repo
        .find_object(id)
        .map_err(other(format!("could not read object `{id}`")))?;
    let (commit_object, annotation) = match object.kind {
        gix::objs::Kind::Commit => (object, None),
        gix::objs::Kind::Tag if kind == RefKind::Tag => {
            let tag = object.into_tag();
            let decoded = tag
                .decode()
                .map_err(other(format!("could not decode tag `{name}`")))?;
            let tagger = decoded
                .tagger()
                .map_err(other(format!("could not decode tag `{name}`")))?;
            let annotation = TagAnnotation {
                hash: id.to_string(),
                message: decoded.message.to_str_lossy().into_owned(),
                tagger: tagger.map(from_gix_signature),
            };
            let peeled = repo
                .find_object(id)
                .and_then(|object| object.peel_tags_to_end())
                .map_err(other(format!("could not peel tag `{name}`")))?;
            (peeled, Some(annotation))
        }
        _ => return Ok(None),
    };
    if commit_object.kind != gix::objs::Kind::Commit {
        return Ok(None);
    }
    let target = commit_info(&commit_object.into_commit())?;
    Ok(Some(RefInfo {
        name,
        target,
        annotation,
    }))
}
