//! Diffs between two commits' trees, printed as `git diff` prints them (line diff by gix's
//! imara-diff, Myers with git's indent heuristic; hunk headers with git's default function
//! context; `\ No newline at end of file`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use gix::diff::blob::InternedInput;
use gix::diff::blob::{Algorithm, Diff};
use gix::objs::tree::EntryKind as GixEntryKind;

use super::*;

/// How to print a diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Unchanged lines around each hunk (`git diff -U<n>`).
    pub context: u32,
    /// Compare lines with all whitespace removed (`git diff -w`).
    pub ignore_whitespace: bool,
    /// Only these paths (files, or folders and everything in them); empty for all.
    pub paths: Vec<String>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            context: 3,
            ignore_whitespace: false,
            paths: Vec::new(),
        }
    }
}

/// One side of a changed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSide {
    pub path: String,
    pub oid: String,
    pub executable: bool,
    pub link: bool,
}

/// One file's change: the sides (`None` for added or removed), its text in `git diff`
/// format and the numbers of lines added and removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePatch {
    pub old: Option<FileSide>,
    pub new: Option<FileSide>,
    pub text: String,
    pub lines_added: u32,
    pub lines_removed: u32,
    pub binary: bool,
}

type Flat = BTreeMap<String, (ObjectId, GixEntryKind)>;

impl GitStore {
    /// The changes from commit `old` (or the empty tree) to commit `new`, file by file in
    /// path order.
    pub fn diff(
        &self,
        id: &RepoId,
        old: Option<&str>,
        new: &str,
        options: &DiffOptions,
    ) -> Result<Vec<FilePatch>, GitError> {
        let repo = self.open(id)?;
        let tree_of = |hash: &str| -> Result<ObjectId, GitError> {
            let id = lookup_commit_id(&repo, hash)?;
            Ok(repo
                .find_commit(id)
                .and_then(|c| c.tree_id())
                .map_err(other(format!("could not read the tree of commit `{id}`")))?
                .detach())
        };
        let mut before = Flat::new();
        if let Some(old) = old {
            flatten(&repo, tree_of(old)?, "", &mut before)?;
        }
        let mut after = Flat::new();
        flatten(&repo, tree_of(new)?, "", &mut after)?;
        let wanted = |path: &str| {
            options.paths.is_empty()
                || options.paths.iter().any(|p| {
                    let p = p.trim_matches('/');
                    path == p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
                })
        };
        let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
        paths.sort();
        paths.dedup();
        let mut out = Vec::new();
        for path in paths.into_iter().filter(|p| wanted(p)) {
            let old = before.get(path).copied();
            let new = after.get(path).copied();
            if old == new {
                continue;
            }
            out.push(file_patch(&repo, path, old, new, options)?);
        }
        Ok(out)
    }

    /// The first parent of a commit, `None` for a root commit.
    pub fn first_parent(&self, id: &RepoId, hash: &str) -> Result<Option<String>, GitError> {
        Ok(self
            .commit(id, hash)?
            .ok_or_else(|| commit_not_found(hash))?
            .parents
            .into_iter()
            .next())
    }
}

/// Every non-folder entry under `tree_id`, by full path. Submodules count as entries.
fn flatten(
    repo: &gix::Repository,
    tree_id: ObjectId,
    prefix: &str,
    out: &mut Flat,
) -> Result<(), GitError> {
    let tree = repo
        .find_tree(tree_id)
        .map_err(other(format!("could not read tree `{tree_id}`")))?;
    for entry in tree.iter() {
        let entry = entry.map_err(other(format!("could not decode tree `{tree_id}`")))?;
        let name = entry.filename().to_str_lossy();
        let path = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.mode().kind();
        if kind == GixEntryKind::Tree {
            flatten(repo, entry.object_id(), &path, out)?;
        } else {
            out.insert(path, (entry.object_id(), kind));
        }
    }
    Ok(())
}

fn mode(kind: GixEntryKind) -> &'static str {
    match kind {
        GixEntryKind::BlobExecutable => "100755",
        GixEntryKind::Link => "120000",
        GixEntryKind::Commit => "160000",
        GixEntryKind::Tree => "040000",
        GixEntryKind::Blob => "100644",
    }
}

fn blob(repo: &gix::Repository, id: ObjectId, kind: GixEntryKind) -> Result<Vec<u8>, GitError> {
    if kind == GixEntryKind::Commit {
        return Ok(format!("Subproject commit {id}\n").into_bytes());
    }
    Ok(repo
        .find_object(id)
        .map_err(other(format!("could not read blob `{id}`")))?
        .detach()
        .data)
}

/// Git's test for binary content: a NUL in the first 8000 bytes.
fn is_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8000).any(|b| *b == 0)
}

fn file_patch(
    repo: &gix::Repository,
    path: &str,
    old: Option<(ObjectId, GixEntryKind)>,
    new: Option<(ObjectId, GixEntryKind)>,
    options: &DiffOptions,
) -> Result<FilePatch, GitError> {
    let side = |(oid, kind): (ObjectId, GixEntryKind)| FileSide {
        path: path.to_owned(),
        oid: oid.to_string(),
        executable: kind == GixEntryKind::BlobExecutable,
        link: kind == GixEntryKind::Link,
    };
    let short = |id: Option<ObjectId>| match id {
        Some(id) => id.to_hex_with_len(7).to_string(),
        None => "0000000".to_owned(),
    };
    let mut text = format!("diff --git a/{path} b/{path}\n");
    match (old, new) {
        (None, Some((id, kind))) => {
            let _ = write!(
                text,
                "new file mode {}\nindex {}..{}\n",
                mode(kind),
                short(None),
                short(Some(id))
            );
        }
        (Some((id, kind)), None) => {
            let _ = write!(
                text,
                "deleted file mode {}\nindex {}..{}\n",
                mode(kind),
                short(Some(id)),
                short(None)
            );
        }
        (Some((a, ka)), Some((b, kb))) if ka != kb => {
            let _ = write!(text, "old mode {}\nnew mode {}\n", mode(ka), mode(kb));
            if a != b {
                let _ = writeln!(text, "index {}..{}", short(Some(a)), short(Some(b)));
            }
        }
        (Some((a, ka)), Some((b, _))) => {
            let _ = writeln!(
                text,
                "index {}..{} {}",
                short(Some(a)),
                short(Some(b)),
                mode(ka)
            );
        }
        (None, None) => {}
    }
    let before = match old {
        Some((id, kind)) => blob(repo, id, kind)?,
        None => Vec::new(),
    };
    let after = match new {
        Some((id, kind)) => blob(repo, id, kind)?,
        None => Vec::new(),
    };
    let same_content = old.map(|o| o.0) == new.map(|n| n.0);
    let mut patch = FilePatch {
        old: old.map(side),
        new: new.map(side),
        text: String::new(),
        lines_added: 0,
        lines_removed: 0,
        binary: false,
    };
    if !same_content {
        if is_binary(&before) || is_binary(&after) {
            let a = if old.is_some() {
                format!("a/{path}")
            } else {
                "/dev/null".into()
            };
            let b = if new.is_some() {
                format!("b/{path}")
            } else {
                "/dev/null".into()
            };
            let _ = writeln!(text, "Binary files {a} and {b} differ");
            patch.binary = true;
        } else {
            let hunks = unified(&before, &after, options, &mut patch);
            if !hunks.is_empty() {
                let a = if old.is_some() {
                    format!("a/{path}")
                } else {
                    "/dev/null".into()
                };
                let b = if new.is_some() {
                    format!("b/{path}")
                } else {
                    "/dev/null".into()
                };
                let _ = write!(text, "--- {a}\n+++ {b}\n{hunks}");
            }
        }
    }
    patch.text = text;
    Ok(patch)
}

/// Splits into lines, each with its newline (the last one may have none).
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|b| *b == b'\n').collect()
}

/// The hunks of a unified diff, as `git diff` prints them after the `+++` line.
fn unified(before: &[u8], after: &[u8], options: &DiffOptions, patch: &mut FilePatch) -> String {
    let old_lines = lines(before);
    let new_lines = lines(after);
    let key = |line: &[u8]| -> Vec<u8> {
        if options.ignore_whitespace {
            line.iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect()
        } else {
            line.to_vec()
        }
    };
    let mut input: InternedInput<Vec<u8>> = InternedInput::default();
    input.update_before(old_lines.iter().map(|l| key(l)));
    input.update_after(new_lines.iter().map(|l| key(l)));
    let mut diff = Diff::compute(Algorithm::Myers, &input);
    diff.postprocess_lines(&input);
    let changes: Vec<(std::ops::Range<u32>, std::ops::Range<u32>)> =
        diff.hunks().map(|h| (h.before, h.after)).collect();
    let context = options.context;
    let mut out = String::new();
    let mut i = 0;
    while i < changes.len() {
        // Join changes whose contexts touch or overlap, as git does.
        let mut j = i;
        while j + 1 < changes.len() && changes[j + 1].0.start - changes[j].0.end <= 2 * context {
            j += 1;
        }
        let start_old = changes[i].0.start.saturating_sub(context);
        let start_new = changes[i]
            .1
            .start
            .saturating_sub(changes[i].0.start - start_old);
        let end_old = (changes[j].0.end + context).min(old_lines.len() as u32);
        let end_new = (changes[j].1.end + (end_old - changes[j].0.end)).min(new_lines.len() as u32);
        let len_old = end_old - start_old;
        let len_new = end_new - start_new;
        let _ = write!(
            out,
            "@@ -{} +{} @@",
            range(start_old, len_old),
            range(start_new, len_new)
        );
        if let Some(f) = function_context(&old_lines[..start_old as usize]) {
            let _ = write!(out, " {f}");
        }
        out.push('\n');
        // Context lines come from the new side, as git prints them (they differ from the
        // old side only in whitespace, and only when whitespace is ignored).
        let mut pos = start_old;
        let mut pos_new = start_new;
        for (b, a) in &changes[i..=j] {
            let same = (b.start - pos) as usize;
            for line in &new_lines[pos_new as usize..pos_new as usize + same] {
                push_line(&mut out, ' ', line);
            }
            for line in &old_lines[b.start as usize..b.end as usize] {
                push_line(&mut out, '-', line);
                patch.lines_removed += 1;
            }
            for line in &new_lines[a.start as usize..a.end as usize] {
                push_line(&mut out, '+', line);
                patch.lines_added += 1;
            }
            pos = b.end;
            pos_new = a.end;
        }
        for line in &new_lines[pos_new as usize..end_new as usize] {
            push_line(&mut out, ' ', line);
        }
        i = j + 1;
    }
    out
}

/// `start,len` of a hunk header, 1-based, with git's shortcuts (`n` for one line; the line
/// before for none).
fn range(start: u32, len: u32) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn push_line(out: &mut String, sign: char, line: &[u8]) {
    out.push(sign);
    out.push_str(&String::from_utf8_lossy(line));
    if !line.ends_with(b"\n") {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// Git's default function context: the nearest line above the hunk that starts with a
/// letter, `_` or `$`, without trailing whitespace, at most 80 bytes.
fn function_context(above: &[&[u8]]) -> Option<String> {
    let line = above.iter().rev().find(|l| {
        l.first()
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c == b'$')
    })?;
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end();
    let mut end = text.len().min(80);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

impl GitStore {
    /// Commits reachable from `start` that changed `path` (added, modified or removed it),
    /// newest first, at most `limit`. A merge counts only when the path differs from every
    /// parent, as in `git log -- <path>`. Each commit comes with the size of the file there
    /// (`None` where the commit removed it).
    pub fn file_history(
        &self,
        id: &RepoId,
        start: &str,
        path: &str,
        limit: usize,
    ) -> Result<Vec<(CommitInfo, Option<u64>)>, GitError> {
        let components = read_path_components(path)?;
        let commits = self.log(id, start, None, limit.max(1) * 50, 0)?;
        let repo = self.open(id)?;
        let entry_at = |hash: &str| -> Result<Option<ObjectId>, GitError> {
            let id = lookup_commit_id(&repo, hash)?;
            let tree = repo
                .find_commit(id)
                .and_then(|c| c.tree_id())
                .map_err(other(format!("could not read the tree of commit `{id}`")))?
                .detach();
            Ok(lookup_entry(&repo, tree, &components)?.map(|(_, oid)| oid))
        };
        let mut out = Vec::new();
        for commit in commits {
            let here = entry_at(&commit.hash)?;
            let mut parents = Vec::new();
            for parent in &commit.parents {
                parents.push(entry_at(parent)?);
            }
            let changed = if parents.is_empty() {
                here.is_some()
            } else {
                parents.iter().all(|p| *p != here)
            };
            if changed {
                let size = match here {
                    Some(id) => Some(
                        repo.find_header(id)
                            .map(|h| h.size())
                            .map_err(other(format!("could not read blob `{id}`")))?,
                    ),
                    None => None,
                };
                out.push((commit, size));
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}
