//! Code review: what a pull request changes (diff, files, commits), the conversation on it
//! (comments, tasks), the reviewers' decisions (approve, request changes), its build statuses,
//! and how it ends (merge or decline).
//!
//! The diff and file-change outputs are shared with the commits toolset, which shows the same
//! things for any two commits.

pub(crate) mod changes;
pub(crate) mod comments;
pub(crate) mod decisions;
pub(crate) mod statuses;
pub(crate) mod tasks;

use std::fmt::Write as _;

use bitbucket_client::DiffStat;
use schemars::JsonSchema;
use serde::Serialize;

use crate::diff::{Limits, window};
use crate::output::{Line, Render};

/// Lines of diff a call shows unless it asks for fewer.
const DIFF_LINES: usize = 400;
/// The most lines one call may ask for.
pub(crate) const MAX_DIFF_LINES: u32 = 2000;
/// Characters of diff one call shows at most, whatever the lines.
const DIFF_CHARS: usize = 60_000;

/// A window of a unified diff: the raw text and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct DiffOutput {
    /// What the diff is of, e.g. `pull request #1 of acme/widgets`.
    pub of: String,
    /// The unified diff text of the lines shown, as git writes it.
    pub diff: String,
    /// Files shown in this window (new paths).
    pub files: Vec<String>,
    /// Files in the whole diff (after any `path` filter).
    pub total_files: usize,
    /// First line shown (1-based; 0 when nothing is shown).
    pub start_line: usize,
    /// Last line shown.
    pub end_line: usize,
    /// Lines in the whole diff.
    pub total_lines: usize,
    /// The `start_line` that shows the rest; absent when this window reaches the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_start_line: Option<usize>,
}

impl DiffOutput {
    pub(crate) fn new(
        of: String,
        text: &str,
        paths: &[String],
        start_line: Option<u32>,
        max_lines: Option<u32>,
    ) -> Self {
        let limits = Limits {
            max_lines: max_lines.map_or(DIFF_LINES, |n| n as usize),
            max_chars: DIFF_CHARS,
        };
        let shown = window(text, paths, start_line.map_or(1, |n| n as usize), limits);
        DiffOutput {
            of,
            diff: shown.text,
            files: shown.files,
            total_files: shown.total_files,
            start_line: shown.start_line,
            end_line: shown.end_line,
            total_lines: shown.total_lines,
            next_start_line: shown.next_start_line,
        }
    }
}

impl Render for DiffOutput {
    fn render(&self) -> String {
        if self.total_lines == 0 {
            return format!("Diff of {}: no changes", self.of);
        }
        if self.start_line == 0 {
            return format!(
                "Diff of {}: it has {} lines; start_line is past the end (use start_line=1)",
                self.of, self.total_lines
            );
        }
        let mut text = format!(
            "Diff of {} ({} file{}), lines {}-{} of {}:\n",
            self.of,
            self.total_files,
            if self.total_files == 1 { "" } else { "s" },
            self.start_line,
            self.end_line,
            self.total_lines
        );
        text.push_str(&self.diff);
        if !self.diff.ends_with('\n') {
            text.push('\n');
        }
        match self.next_start_line {
            Some(next) => {
                let _ = write!(
                    text,
                    "[diff continues: lines {next}-{} not shown; call again with start_line={next}]",
                    self.total_lines
                );
            }
            None => text.push_str("[end of diff]"),
        }
        text
    }
}

/// What a diff does to one file.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct FileChange {
    /// Path after the change (before it, for a removed file).
    pub path: String,
    /// The path before a rename.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// `added`, `removed`, `modified` or `renamed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines_added: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines_removed: Option<u64>,
}

impl FileChange {
    pub(crate) fn from_diffstat(stat: DiffStat) -> Self {
        let path = stat.path().unwrap_or_default().to_owned();
        let old_path = stat
            .old
            .as_ref()
            .map(|old| old.path.clone())
            .filter(|old| stat.new.is_some() && *old != path);
        FileChange {
            path,
            old_path,
            status: stat.status,
            lines_added: stat.lines_added,
            lines_removed: stat.lines_removed,
        }
    }
}

impl Line for FileChange {
    fn line(&self) -> String {
        let mut line = format!(
            "{} {}",
            self.status.as_deref().unwrap_or("changed"),
            self.path
        );
        if let Some(old) = &self.old_path {
            let _ = write!(line, " (from {old})");
        }
        let _ = write!(
            line,
            " +{} -{}",
            self.lines_added.unwrap_or(0),
            self.lines_removed.unwrap_or(0)
        );
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_says_where_it_stands_and_how_to_go_on() {
        let text = "diff --git a/a b/a\n-x\n+y\ndiff --git a/b b/b\n-1\n+2\n";
        let first = DiffOutput::new("commit abc".into(), text, &[], None, Some(3));
        let rendered = first.render();
        assert!(rendered.starts_with(
            "Diff of commit abc (2 files), lines 1-3 of 6:\ndiff --git a/a b/a\n-x\n+y\n"
        ));
        assert!(
            rendered
                .ends_with("[diff continues: lines 4-6 not shown; call again with start_line=4]")
        );
        let rest = DiffOutput::new("commit abc".into(), text, &[], Some(4), Some(3));
        assert!(rest.render().ends_with("+2\n[end of diff]"));
        let empty = DiffOutput::new("commit abc".into(), "", &[], None, None);
        assert_eq!(empty.render(), "Diff of commit abc: no changes");
    }
}
