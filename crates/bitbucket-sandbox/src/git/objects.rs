//! Object helpers: hash lookup, commits, trees and signatures.

use std::collections::HashSet;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::tree::{EntryKind as GixEntryKind, EntryMode};

use super::{
    CommitInfo, EntryKind, FULL_HASH_LEN, GitError, MIN_SHORT_HASH_LEN, PathContent, Signature,
    TreeEntry, commit_not_found, other,
};

/// Resolves a full or abbreviated hash to a commit id, or fails with [`GitError::NotFound`].
pub(super) fn lookup_commit_id(repo: &gix::Repository, hash: &str) -> Result<ObjectId, GitError> {
    lookup_hash(repo, hash)?.ok_or_else(|| commit_not_found(hash))
}

/// Resolves a full or abbreviated (4+ hex digits, any case) hash to the one commit it names. `None`
/// when it is not hex, names no commit, or is ambiguous among commits (other object kinds never
/// count, as in git's commit-ish disambiguation).
pub(super) fn lookup_hash(
    repo: &gix::Repository,
    hash: &str,
) -> Result<Option<ObjectId>, GitError> {
    if !(MIN_SHORT_HASH_LEN..=FULL_HASH_LEN).contains(&hash.len())
        || !hash.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Ok(None);
    }
    let hash = hash.to_ascii_lowercase();
    let is_commit = |id: ObjectId| -> Result<bool, GitError> {
        let header = repo
            .try_find_header(id)
            .map_err(other(format!("could not read object `{id}`")))?;
        Ok(header.is_some_and(|header| header.kind() == gix::objs::Kind::Commit))
    };
    if hash.len() == FULL_HASH_LEN {
        let Ok(id) = ObjectId::from_hex(hash.as_bytes()) else {
            return Ok(None);
        };
        return Ok(is_commit(id)?.then_some(id));
    }
    let Ok(prefix) = gix::hash::Prefix::from_hex(&hash) else {
        return Ok(None);
    };
    let mut candidates = HashSet::new();
    repo.objects
        .lookup_prefix(prefix, Some(&mut candidates))
        .map_err(other(format!("could not look up hash prefix `{hash}`")))?;
    let mut commits = Vec::new();
    for id in candidates {
        if is_commit(id)? {
            commits.push(id);
        }
    }
    Ok(match commits.as_slice() {
        [id] => Some(*id),
        _ => None,
    })
}

/// The commit `id`, or `None` if there is no such object or it is not a commit.
pub(super) fn find_commit_info(
    repo: &gix::Repository,
    id: ObjectId,
) -> Result<Option<CommitInfo>, GitError> {
    let Some(object) = repo
        .try_find_object(id)
        .map_err(other(format!("could not read object `{id}`")))?
    else {
        return Ok(None);
    };
    if object.kind != gix::objs::Kind::Commit {
        return Ok(None);
    }
    commit_info(&object.into_commit()).map(Some)
}

pub(super) fn commit_info(commit: &gix::Commit<'_>) -> Result<CommitInfo, GitError> {
    let decode_err = || other(format!("could not decode commit `{}`", commit.id));
    let decoded = commit.decode().map_err(decode_err())?;
    let author = decoded.author().map_err(decode_err())?;
    let committer = decoded.committer().map_err(decode_err())?;
    Ok(CommitInfo {
        hash: commit.id.to_string(),
        message: decoded.message.to_str_lossy().into_owned(),
        author: from_gix_signature(author),
        committer: from_gix_signature(committer),
        parents: decoded.parents().map(|id| id.to_string()).collect(),
    })
}

/// Finds the entry at `components` below the tree `root`, walking one level at a time so that a
/// file or submodule in the middle of the path simply means "not found".
pub(super) fn lookup_entry(
    repo: &gix::Repository,
    root: ObjectId,
    components: &[&str],
) -> Result<Option<(EntryMode, ObjectId)>, GitError> {
    let mut tree_id = root;
    for (idx, component) in components.iter().enumerate() {
        let tree = repo
            .find_tree(tree_id)
            .map_err(other(format!("could not read tree `{tree_id}`")))?;
        let Some(entry) = tree.find_entry(*component) else {
            return Ok(None);
        };
        let (mode, oid) = (entry.mode(), entry.object_id());
        if idx + 1 == components.len() {
            return Ok(Some((mode, oid)));
        }
        if !mode.is_tree() {
            return Ok(None);
        }
        tree_id = oid;
    }
    Ok(None)
}

/// Lists the folder `tree_id` found at `path` (`""` for the root), in git tree order.
pub(super) fn list_dir(
    repo: &gix::Repository,
    tree_id: ObjectId,
    path: String,
) -> Result<PathContent, GitError> {
    let tree = repo
        .find_tree(tree_id)
        .map_err(other(format!("could not read folder `{path}`")))?;
    let mut entries = Vec::new();
    for entry in tree.iter() {
        let entry = entry.map_err(other(format!("could not decode folder `{path}`")))?;
        let name = entry.filename().to_str_lossy();
        let full = if path.is_empty() {
            name.into_owned()
        } else {
            format!("{path}/{name}")
        };
        let oid = entry.object_id();
        let mode = entry.mode();
        let (kind, size) = match mode.kind() {
            GixEntryKind::Tree => (EntryKind::Dir, None),
            GixEntryKind::Commit => (EntryKind::Submodule, None),
            GixEntryKind::Link => (EntryKind::Link, Some(blob_size(repo, oid)?)),
            GixEntryKind::Blob | GixEntryKind::BlobExecutable => {
                (EntryKind::File, Some(blob_size(repo, oid)?))
            }
        };
        entries.push(TreeEntry {
            path: full,
            kind,
            size,
            oid: oid.to_string(),
            executable: mode.kind() == GixEntryKind::BlobExecutable,
        });
    }
    Ok(PathContent::Dir { path, entries })
}

fn blob_size(repo: &gix::Repository, id: ObjectId) -> Result<u64, GitError> {
    repo.find_header(id)
        .map(|header| header.size())
        .map_err(other(format!("could not read blob `{id}`")))
}

/// Checks a signature for characters git's object format cannot hold (gix would reject them too,
/// but with a less helpful error) and converts it with a `+0000` offset.
pub(super) fn to_gix_signature(signature: &Signature) -> Result<gix::actor::Signature, GitError> {
    for value in [&signature.name, &signature.email] {
        if value.contains(['<', '>', '\n', '\r', '\0']) {
            return Err(GitError::InvalidSignature {
                value: value.clone(),
            });
        }
    }
    Ok(gix::actor::Signature {
        name: signature.name.as_str().into(),
        email: signature.email.as_str().into(),
        time: gix::date::Time {
            seconds: signature.time,
            offset: 0,
        },
    })
}

pub(super) fn from_gix_signature(signature: gix::actor::SignatureRef<'_>) -> Signature {
    Signature {
        name: signature.name.to_str_lossy().into_owned(),
        email: signature.email.to_str_lossy().into_owned(),
        // Lenient on purpose: a malformed date in some imported object should not make the whole
        // listing fail.
        time: signature.seconds(),
    }
}
