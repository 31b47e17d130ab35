//! Git storage for the sandbox: every Bitbucket repository is a bare git repository on disk, read
//! and written with gix.
//!
//! The API is synchronous on purpose: the HTTP layer calls it from `tokio::task::spawn_blocking`.
//! Each call opens the repository afresh, so a [`GitStore`] can be shared freely between threads
//! and always sees the latest state on disk. Reference updates go through gix ref transactions
//! (lock files plus compare-and-swap on the previous value), which makes concurrent writers safe:
//! creating the same branch twice yields exactly one winner, and committing on a branch that moved
//! in the meantime fails instead of losing the other commit.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind as GixEntryKind;
use gix::refs::transaction::{Change, PreviousValue, RefEdit, RefLog};
use gix::refs::{FullName, Target};

use objects::{
    commit_info, find_commit_info, list_dir, lookup_commit_id, lookup_entry, lookup_hash,
    to_gix_signature,
};
use refs::{
    apply_edits, create_ref, find_ref_exact, is_stale_ref_error, peel_to_commit, ref_info, set_head,
};

mod objects;
mod refs;

/// How long a ref update waits for a competing writer's lock before giving up. Ref locks are held
/// for microseconds, so this only matters under heavy contention, where failing fast (gix's default
/// is 100ms) would turn a harmless race into a spurious error.
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Bitbucket, like git, accepts abbreviated commit hashes from four hex digits on.
const MIN_SHORT_HASH_LEN: usize = 4;

/// The length of a full SHA-1 hash in hex.
const FULL_HASH_LEN: usize = 40;

/// Object cache per opened repository; it speeds up history walks which look at every commit twice.
const OBJECT_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// A failure of the git layer. Messages are lowercase and name the offending value in backticks so
/// the HTTP layer can show them to clients as they are.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The name breaks git's `check-ref-format --branch` rules (plus a few stricter ones, see
    /// [`is_valid_branch_name`]).
    #[error("`{name}` is not a valid {kind} name")]
    InvalidRefName { kind: RefKind, name: String },
    /// A branch or tag with this name exists already.
    #[error("{kind} `{name}` already exists")]
    RefExists { kind: RefKind, name: String },
    /// The name cannot coexist with an existing ref, e.g. `feature/x` when `feature` exists (git
    /// stores refs as files, so one cannot be both a file and a folder).
    #[error("{kind} `{name}` conflicts with the existing {kind} `{existing}`")]
    RefConflict {
        kind: RefKind,
        name: String,
        existing: String,
    },
    /// The branch does not point at the commit a new commit was meant to follow: the given parent
    /// is stale, or another writer moved (or created) the branch meanwhile. Bitbucket answers this
    /// with 409.
    #[error("branch `{name}` has moved: it does not point at the expected parent commit")]
    BranchMoved { name: String },
    /// A repository, commit or path that the operation needs does not exist.
    #[error("{what} not found")]
    NotFound { what: String },
    /// A file path that is malformed or would escape the tree (`..`, `.`, empty segments, NUL,
    /// backslash, `.git`).
    #[error("invalid path `{path}`")]
    InvalidPath { path: String },
    /// A workspace or repository slug that is unsafe as a folder name.
    #[error("invalid workspace or repository slug `{name}`")]
    InvalidRepoName { name: String },
    /// An author, committer or tagger whose name or email cannot be stored in a git object.
    #[error(
        "invalid identity `{value}`: names and emails must not contain `<`, `>`, NUL or line breaks"
    )]
    InvalidSignature { value: String },
    /// [`GitStore::init`] found the repository folder already present.
    #[error("repository `{name}` already exists")]
    RepoExists { name: String },
    /// A file system operation outside of gix failed.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// gix failed; `context` says what we were doing.
    #[error("{context}")]
    Other {
        context: String,
        #[source]
        source: gix::Error,
    },
}

/// Which kind of ref an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

impl std::fmt::Display for RefKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RefKind::Branch => "branch",
            RefKind::Tag => "tag",
        })
    }
}

impl RefKind {
    fn prefix(self) -> &'static str {
        match self {
            RefKind::Branch => "refs/heads/",
            RefKind::Tag => "refs/tags/",
        }
    }
}

/// An author, committer or tagger. Times are unix seconds in UTC; written objects use the `+0000`
/// offset, and the offset of objects read back is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    pub time: i64,
}

impl Signature {
    pub fn new(name: impl Into<String>, email: impl Into<String>, time: i64) -> Self {
        Self {
            name: name.into(),
            email: email.into(),
            time,
        }
    }
}

/// A commit as the API layer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full 40-hex hash.
    pub hash: String,
    /// The raw message, usually ending in a newline (written messages get one appended, like
    /// `git commit` does).
    pub message: String,
    pub author: Signature,
    pub committer: Signature,
    /// Parent hashes in order; the first parent is the one the commit was made on top of.
    pub parents: Vec<String>,
}

/// A branch or tag and the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefInfo {
    /// The short name, without `refs/heads/` or `refs/tags/`.
    pub name: String,
    /// The commit the ref points at; annotated tags are peeled.
    pub target: CommitInfo,
    /// The tag object of an annotated tag; `None` for branches and lightweight tags.
    pub annotation: Option<TagAnnotation>,
}

/// What an annotated tag object adds on top of the commit it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagAnnotation {
    /// Hash of the tag object itself.
    pub hash: String,
    pub message: String,
    pub tagger: Option<Signature>,
}

/// One change of [`GitStore::commit_changes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange<'a> {
    /// Add or replace the file at `path` (nested paths create folders as needed).
    Write {
        path: &'a str,
        content: &'a [u8],
        executable: bool,
    },
    /// Remove the file or the whole folder at `path`; it must exist in the parent commit.
    Delete { path: &'a str },
}

/// The kind of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A gitlink (`160000`); its commit lives in another repository.
    Submodule,
    /// A symbolic link; its blob holds the link target.
    Link,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Full path from the repository root, e.g. `src/main.rs`.
    pub path: String,
    pub kind: EntryKind,
    /// Blob size in bytes for files and links, `None` for folders and submodules.
    pub size: Option<u64>,
    /// Hash of the blob, tree or (for submodules) commit.
    pub oid: String,
    /// Whether a file has the executable bit (`100755`).
    pub executable: bool,
}

/// What [`GitStore::read_path`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathContent {
    /// A file or symbolic link (then `bytes` is the link target).
    File {
        path: String,
        size: u64,
        oid: String,
        bytes: Vec<u8>,
        executable: bool,
        symlink: bool,
    },
    /// A folder; `path` is `""` for the root. Entries come in git tree order: byte order of the
    /// names, where a folder sorts as if its name ended in `/` (so `a.txt` < `a/` < `a0`). Folders
    /// are not grouped first.
    Dir {
        path: String,
        entries: Vec<TreeEntry>,
    },
    /// A submodule; its content is not in this repository.
    Submodule { path: String, oid: String },
    /// Nothing at this path in that commit.
    NotFound,
}

/// Tells whether `name` is acceptable as a branch (or tag) name.
///
/// These are git's `check-ref-format --branch` rules for `refs/heads/<name>`: not empty; no ASCII
/// control characters, space, `~ ^ : ? * [ \`; no `..`, `@{` or `//`; no leading or trailing `/`;
/// no trailing `.`; no component starting with `.` or ending in `.lock`; no leading `-`; not
/// `HEAD`. On top of git we also reject the single character `@`, which git allows as a branch name
/// but which means `HEAD` in revision syntax and would only confuse clients.
pub fn is_valid_branch_name(name: &str) -> bool {
    if name.is_empty() || name.starts_with('-') || name == "HEAD" || name == "@" {
        return false;
    }
    let full = format!("refs/heads/{name}");
    gix::validate::reference::branch_name(full.as_bytes().as_bstr()).is_ok()
}

/// Where and how sandbox repositories are stored: `<root>/<workspace>/<repo_slug>.git`, each a bare
/// repository.
#[derive(Debug, Clone)]
pub struct GitStore {
    root: PathBuf,
}

impl GitStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a repository. It does not validate the names; every other method does before
    /// touching disk.
    pub fn repo_path(&self, workspace: &str, slug: &str) -> PathBuf {
        self.root.join(workspace).join(format!("{slug}.git"))
    }

    /// Creates an empty bare repository whose `HEAD` points at `refs/heads/<main_branch>`, which
    /// stays unborn until the first commit on that branch.
    pub fn init(&self, workspace: &str, slug: &str, main_branch: &str) -> Result<(), GitError> {
        check_slug(workspace)?;
        check_slug(slug)?;
        let head = branch_full_name(main_branch)?;
        let path = self.repo_path(workspace, slug);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err("could not create the workspace folder"))?;
        }
        // Creating the folder is the atomic step that decides which of two concurrent inits wins.
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(GitError::RepoExists {
                    name: format!("{workspace}/{slug}"),
                });
            }
            Err(err) => return Err(io_err("could not create the repository folder")(err)),
        }
        let result = init_bare(&path).and_then(|repo| set_head(repo, head));
        if result.is_err() {
            // Leave no half-initialised repository behind; a retry would otherwise report
            // `RepoExists`.
            let _ = fs::remove_dir_all(&path);
        }
        result
    }

    /// Removes the repository folder and everything in it.
    pub fn delete(&self, workspace: &str, slug: &str) -> Result<(), GitError> {
        check_slug(workspace)?;
        check_slug(slug)?;
        match fs::remove_dir_all(self.repo_path(workspace, slug)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Err(repo_not_found(workspace, slug))
            }
            Err(err) => Err(io_err("could not delete the repository folder")(err)),
        }
    }

    /// Makes one commit on `branch` whose tree is the parent's tree with `files` added or replaced;
    /// see [`Self::commit_changes`] for the parent and branch rules. The author is also the
    /// committer.
    #[allow(clippy::too_many_arguments)] // mirrors the fields of Bitbucket's `POST /src` form
    pub fn commit_files(
        &self,
        workspace: &str,
        slug: &str,
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
        self.commit_changes(workspace, slug, branch, parent, &changes, message, author)
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
        workspace: &str,
        slug: &str,
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

        let mut repo = self.open(workspace, slug)?;
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

    /// Resolves a branch name, tag name, full hash or unique abbreviated hash (at least four hex
    /// digits) to a commit. Like Bitbucket, a branch wins over a tag, and a tag over a hash.
    /// Returns `Ok(None)` when nothing matches, including when an abbreviated hash matches several
    /// commits; hashes of non-commit objects do not match.
    pub fn resolve(
        &self,
        workspace: &str,
        slug: &str,
        rev: &str,
    ) -> Result<Option<CommitInfo>, GitError> {
        let repo = self.open(workspace, slug)?;
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

    /// All branches, sorted by name (byte order). Branches not pointing at a commit are skipped.
    pub fn branches(&self, workspace: &str, slug: &str) -> Result<Vec<RefInfo>, GitError> {
        self.list_refs(workspace, slug, RefKind::Branch)
    }

    /// All tags, sorted by name (byte order), annotated tags peeled to their commit. Tags not
    /// (eventually) pointing at a commit are skipped.
    pub fn tags(&self, workspace: &str, slug: &str) -> Result<Vec<RefInfo>, GitError> {
        self.list_refs(workspace, slug, RefKind::Tag)
    }

    /// The branch `name`, or `None` if it does not exist (or the name is invalid, so it cannot
    /// exist).
    pub fn branch(
        &self,
        workspace: &str,
        slug: &str,
        name: &str,
    ) -> Result<Option<RefInfo>, GitError> {
        self.get_ref(workspace, slug, RefKind::Branch, name)
    }

    /// The tag `name`, or `None` if it does not exist (or the name is invalid, so it cannot exist).
    pub fn tag(
        &self,
        workspace: &str,
        slug: &str,
        name: &str,
    ) -> Result<Option<RefInfo>, GitError> {
        self.get_ref(workspace, slug, RefKind::Tag, name)
    }

    /// Creates branch `name` at the commit `target` (a full or unique abbreviated hash).
    ///
    /// Fails with [`GitError::InvalidRefName`], [`GitError::RefExists`] (also when it exists with
    /// the same target, and atomically so: of several concurrent creations exactly one succeeds),
    /// [`GitError::RefConflict`] or [`GitError::NotFound`] for an unknown commit.
    pub fn create_branch(
        &self,
        workspace: &str,
        slug: &str,
        name: &str,
        target: &str,
    ) -> Result<RefInfo, GitError> {
        let full_name = branch_full_name(name)?;
        let mut repo = self.open(workspace, slug)?;
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
    pub fn delete_branch(&self, workspace: &str, slug: &str, name: &str) -> Result<bool, GitError> {
        self.delete_ref(workspace, slug, RefKind::Branch, name)
    }

    /// Deletes tag `name`; `Ok(false)` if it did not exist.
    pub fn delete_tag(&self, workspace: &str, slug: &str, name: &str) -> Result<bool, GitError> {
        self.delete_ref(workspace, slug, RefKind::Tag, name)
    }

    /// Creates tag `name` at the commit `target` (a full or unique abbreviated hash): lightweight
    /// when `message` is `None`, otherwise an annotated tag object by `tagger` (a trailing newline
    /// is added to the message like `git tag -m` does). Tag names follow the branch name rules.
    /// Errors as for [`Self::create_branch`].
    pub fn create_tag(
        &self,
        workspace: &str,
        slug: &str,
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
        let mut repo = self.open(workspace, slug)?;
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
    pub fn set_main_branch(&self, workspace: &str, slug: &str, name: &str) -> Result<(), GitError> {
        let full_name = branch_full_name(name)?;
        let repo = self.open(workspace, slug)?;
        set_head(repo, full_name)
    }

    /// The branch name `HEAD` points at, whether or not that branch exists yet.
    pub fn main_branch(&self, workspace: &str, slug: &str) -> Result<String, GitError> {
        let repo = self.open(workspace, slug)?;
        let head = repo.head_name().map_err(other("could not read `HEAD`"))?;
        head.as_ref()
            .and_then(|name| name.as_bstr().strip_prefix(b"refs/heads/"))
            .map(|name| name.to_str_lossy().into_owned())
            .ok_or_else(|| GitError::NotFound {
                what: "main branch".to_owned(),
            })
    }

    /// Reads `path` in the tree of `commit` (a full or unique abbreviated hash).
    ///
    /// `""` and `"/"` mean the root folder; leading and trailing slashes are ignored. Paths with
    /// empty, `.` or `..` segments, NUL or backslashes are rejected with [`GitError::InvalidPath`]:
    /// lookups only ever walk down the commit's own tree. An unknown commit is
    /// [`GitError::NotFound`], a missing path [`PathContent::NotFound`].
    pub fn read_path(
        &self,
        workspace: &str,
        slug: &str,
        commit: &str,
        path: &str,
    ) -> Result<PathContent, GitError> {
        let components = read_path_components(path)?;
        let repo = self.open(workspace, slug)?;
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
        workspace: &str,
        slug: &str,
        start: &str,
        exclude: Option<&str>,
        limit: usize,
        skip: usize,
    ) -> Result<Vec<CommitInfo>, GitError> {
        let repo = self.open(workspace, slug)?;
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
    pub fn commit(
        &self,
        workspace: &str,
        slug: &str,
        hash: &str,
    ) -> Result<Option<CommitInfo>, GitError> {
        let repo = self.open(workspace, slug)?;
        match lookup_hash(&repo, hash)? {
            Some(id) => find_commit_info(&repo, id),
            None => Ok(None),
        }
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor, as in
    /// `git merge-base --is-ancestor`).
    pub fn is_ancestor(
        &self,
        workspace: &str,
        slug: &str,
        ancestor: &str,
        descendant: &str,
    ) -> Result<bool, GitError> {
        let repo = self.open(workspace, slug)?;
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
        workspace: &str,
        slug: &str,
        one: &str,
        two: &str,
    ) -> Result<Option<String>, GitError> {
        let repo = self.open(workspace, slug)?;
        let one = lookup_commit_id(&repo, one)?;
        let two = lookup_commit_id(&repo, two)?;
        let base = repo
            .merge_base(one, two)
            .map_err(other("could not compute the merge base"))?;
        Ok(base.map(|id| id.to_string()))
    }

    fn open(&self, workspace: &str, slug: &str) -> Result<gix::Repository, GitError> {
        check_slug(workspace)?;
        check_slug(slug)?;
        let path = self.repo_path(workspace, slug);
        if !path.is_dir() {
            return Err(repo_not_found(workspace, slug));
        }
        // Isolated: only the repository's own config counts, never the server user's `~/.gitconfig`
        // or `GIT_*`.
        let mut repo = gix::open_opts(&path, gix::open::Options::isolated()).map_err(other(
            format!("could not open repository `{workspace}/{slug}`"),
        ))?;
        repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
        Ok(repo)
    }

    fn list_refs(
        &self,
        workspace: &str,
        slug: &str,
        kind: RefKind,
    ) -> Result<Vec<RefInfo>, GitError> {
        let repo = self.open(workspace, slug)?;
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

    fn get_ref(
        &self,
        workspace: &str,
        slug: &str,
        kind: RefKind,
        name: &str,
    ) -> Result<Option<RefInfo>, GitError> {
        let repo = self.open(workspace, slug)?;
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

    fn delete_ref(
        &self,
        workspace: &str,
        slug: &str,
        kind: RefKind,
        name: &str,
    ) -> Result<bool, GitError> {
        let mut repo = self.open(workspace, slug)?;
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

fn init_bare(path: &Path) -> Result<gix::Repository, GitError> {
    let repo = gix::ThreadSafeRepository::init_opts(
        path,
        gix::create::Kind::Bare,
        gix::create::Options::default(),
        gix::open::Options::isolated(),
    )
    .map_err(other("could not initialise the repository"))?;
    Ok(repo.to_thread_local())
}

/// Splits a path given to [`GitStore::read_path`] into its components after trimming slashes.
fn read_path_components(path: &str) -> Result<Vec<&str>, GitError> {
    let invalid = || GitError::InvalidPath {
        path: path.to_owned(),
    };
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    if trimmed.contains(['\0', '\\']) {
        return Err(invalid());
    }
    let components: Vec<&str> = trimmed.split('/').collect();
    if components
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err(invalid());
    }
    Ok(components)
}

/// Validates a path to write: like [`read_path_components`], but it must name something below the
/// root, and every component must pass git's own checks for names that are unsafe to check out
/// (`.git` and its NTFS/HFS disguises, control characters), so nothing written here could harm a
/// client cloning the repository.
fn write_path_components(path: &str) -> Result<Vec<&str>, GitError> {
    let invalid = || GitError::InvalidPath {
        path: path.to_owned(),
    };
    let components = read_path_components(path)?;
    if components.is_empty() {
        return Err(invalid());
    }
    let options = gix::validate::path::component::Options {
        protect_windows: false,
        protect_hfs: true,
        protect_ntfs: true,
    };
    for component in &components {
        if component.bytes().any(|b| b.is_ascii_control()) {
            return Err(invalid());
        }
        gix::validate::path::component(component.as_bytes().as_bstr(), None, options)
            .map_err(|_| invalid())?;
    }
    Ok(components)
}

/// `refs/heads/<name>` for a name that passes [`is_valid_branch_name`].
fn branch_full_name(name: &str) -> Result<FullName, GitError> {
    let invalid = || GitError::InvalidRefName {
        kind: RefKind::Branch,
        name: name.to_owned(),
    };
    if !is_valid_branch_name(name) {
        return Err(invalid());
    }
    FullName::try_from(format!("refs/heads/{name}")).map_err(|_| invalid())
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

fn repo_not_found(workspace: &str, slug: &str) -> GitError {
    GitError::NotFound {
        what: format!("repository `{workspace}/{slug}`"),
    }
}

fn commit_not_found(hash: &str) -> GitError {
    GitError::NotFound {
        what: format!("commit `{hash}`"),
    }
}

fn other(context: impl Into<String>) -> impl FnOnce(gix::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Other { context, source }
}

fn io_err(context: &'static str) -> impl FnOnce(io::Error) -> GitError {
    move |source| GitError::Io {
        context: context.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests;
