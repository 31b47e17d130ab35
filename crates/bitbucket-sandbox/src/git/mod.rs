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

mod branches;
mod checkout;
mod diff;
mod merge;
mod objects;
mod read;
mod refs;
mod repo_id;
mod write;

pub use diff::{DiffOptions, FilePatch, FileSide};
pub use merge::MergeStrategy;
pub use repo_id::RepoId;

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
    /// A merge would leave conflicts in these paths.
    #[error("the merge has conflicts in {}", paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "))]
    MergeConflict { paths: Vec<String> },
    /// A fast-forward was asked for but the branch is not an ancestor of the source.
    #[error("branch `{name}` cannot be fast-forwarded: it has commits the source lacks")]
    NotFastForward { name: String },
    /// The commit would leave the tree of an existing branch as it was.
    #[error("nothing to commit: the changes leave branch `{name}` as it is")]
    NothingChanged { name: String },
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

/// The longest branch or tag name, in bytes: with git's `.lock` suffix, a name of one component
/// still fits the usual 255-byte limit on a file name.
pub const MAX_REF_NAME_BYTES: usize = 250;

/// The most `/`-separated parts of a branch or tag name: gix creates at most 25 missing folders
/// for one ref file.
pub const MAX_REF_NAME_DEPTH: usize = 20;

/// Tells whether `name` is acceptable as a branch (or tag) name.
///
/// These are git's `check-ref-format --branch` rules for `refs/heads/<name>`: not empty; no ASCII
/// control characters, space, `~ ^ : ? * [ \`; no `..`, `@{` or `//`; no leading or trailing `/`;
/// no trailing `.`; no component starting with `.` or ending in `.lock`; no leading `-`; not
/// `HEAD`. On top of git we also reject the single character `@`, which git allows as a branch name
/// but which means `HEAD` in revision syntax and would only confuse clients, and names longer than
/// [`MAX_REF_NAME_BYTES`] or deeper than [`MAX_REF_NAME_DEPTH`]: a ref is a file, and a longer
/// name would exceed what the file system allows for a file name, a deeper one what gix creates
/// of missing folders at once, failing at write time instead of here.
pub fn is_valid_branch_name(name: &str) -> bool {
    if name.is_empty()
        || name.len() > MAX_REF_NAME_BYTES
        || name.split('/').count() > MAX_REF_NAME_DEPTH
        || name.starts_with('-')
        || name == "HEAD"
        || name == "@"
    {
        return false;
    }
    let full = format!("refs/heads/{name}");
    gix::validate::reference::branch_name(full.as_bytes().as_bstr()).is_ok()
}

/// Where and how sandbox repositories are stored: `<root>/<workspace>/<repo_slug>.git`, each a bare
/// repository named by a [`RepoId`].
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

    /// The folder of a repository.
    pub fn repo_path(&self, repo: &RepoId) -> PathBuf {
        repo.folder(&self.root)
    }

    /// Creates an empty bare repository whose `HEAD` points at `refs/heads/<main_branch>`, which
    /// stays unborn until the first commit on that branch.
    pub fn init(&self, repo: &RepoId, main_branch: &str) -> Result<(), GitError> {
        let head = branch_full_name(main_branch)?;
        let path = self.repo_path(repo);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err("could not create the workspace folder"))?;
        }
        // Creating the folder is the atomic step that decides which of two concurrent inits wins.
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(GitError::RepoExists {
                    name: repo.to_string(),
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
    pub fn delete(&self, repo: &RepoId) -> Result<(), GitError> {
        match fs::remove_dir_all(self.repo_path(repo)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Err(repo_not_found(repo)),
            Err(err) => Err(io_err("could not delete the repository folder")(err)),
        }
    }

    pub(super) fn open(&self, id: &RepoId) -> Result<gix::Repository, GitError> {
        let path = self.repo_path(id);
        if !path.is_dir() {
            return Err(repo_not_found(id));
        }
        // Isolated: only the repository's own config counts, never the server user's `~/.gitconfig`
        // or `GIT_*`.
        let mut repo = gix::open_opts(&path, gix::open::Options::isolated())
            .map_err(other(format!("could not open repository `{id}`")))?;
        repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
        Ok(repo)
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

fn repo_not_found(repo: &RepoId) -> GitError {
    GitError::NotFound {
        what: format!("repository `{repo}`"),
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
