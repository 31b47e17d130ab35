//! Repository source: tree entries, file contents and the file-or-directory result.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{Commit, Extra, Links, null_default, string_list};
use crate::page::Page;

/// An entry of a directory listing, or the `format=meta` description of a file or directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TreeEntry {
    /// `commit_file` or `commit_directory`.
    #[serde(rename = "type", deserialize_with = "null_default")]
    pub object_type: String,
    /// Path from the repository root, e.g. `src/main.rs`.
    #[serde(deserialize_with = "null_default")]
    pub path: String,
    /// Size in bytes (files only).
    pub size: Option<u64>,
    /// Commit the entry was read at.
    pub commit: Option<Commit>,
    /// File modifiers: `link`, `executable`, `subrepository`, `binary`, `lfs`.
    #[serde(deserialize_with = "string_list")]
    pub attributes: Vec<String>,
    /// Path with unusual characters escaped, when Bitbucket adds it.
    pub escaped_path: Option<String>,
    /// MIME type guessed from the name, when Bitbucket adds it.
    pub mimetype: Option<String>,
    /// Links (`self` for the contents, `meta`, `history`).
    #[serde(deserialize_with = "null_default")]
    pub links: Links,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TreeEntry {
    /// `type` of a directory entry.
    pub const DIRECTORY: &'static str = "commit_directory";
    /// `type` of a file entry.
    pub const FILE: &'static str = "commit_file";

    /// True for a directory.
    pub fn is_directory(&self) -> bool {
        self.object_type == Self::DIRECTORY
    }

    /// True for a file.
    pub fn is_file(&self) -> bool {
        self.object_type == Self::FILE
    }
}

/// Raw contents of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileContent {
    /// Path requested, from the repository root.
    pub path: String,
    /// Revision read (as passed, or the main branch it was resolved to).
    pub revision: String,
    /// `Content-Type` of the answer; Bitbucket derives it from the file name.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// The bytes as stored, without any character decoding.
    pub bytes: Bytes,
}

impl FileContent {
    /// The contents as text, when they are valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

/// What a source path holds: a file's contents or a page of a directory listing.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A file.
    File(FileContent),
    /// A directory; follow `next` for further entries.
    Directory(Page<TreeEntry>),
}

impl Source {
    /// The file, if this is one.
    pub fn into_file(self) -> Option<FileContent> {
        match self {
            Source::File(file) => Some(file),
            Source::Directory(_) => None,
        }
    }

    /// The directory listing, if this is one.
    pub fn into_directory(self) -> Option<Page<TreeEntry>> {
        match self {
            Source::Directory(page) => Some(page),
            Source::File(_) => None,
        }
    }
}
