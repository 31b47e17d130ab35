//! Showing a unified diff to a model a window at a time.
//!
//! A diff reaches the model as git wrote it (raw unified text, never JSON-escaped line by
//! line), but a large one would flood its context. So the text is cut into windows of whole
//! files when they fit, and of lines when one file alone is larger than a window; the answer
//! always says which lines it shows and where the next window starts, so nothing is cut
//! silently.

/// The parts of a diff one call shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// The lines shown, each ending in `\n`.
    pub text: String,
    /// First line shown (1-based), or 0 when the diff is empty.
    pub start_line: usize,
    /// Last line shown (inclusive).
    pub end_line: usize,
    /// Lines in the whole (filtered) diff.
    pub total_lines: usize,
    /// The `start_line` of the next window, when there is more.
    pub next_start_line: Option<usize>,
    /// The files (new paths) whose sections the window shows, fully or in part.
    pub files: Vec<String>,
    /// Files in the whole (filtered) diff.
    pub total_files: usize,
}

/// How much one window may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_lines: usize,
    pub max_chars: usize,
}

/// One file's section of a diff: from its `diff --git` line to the next.
struct Section<'a> {
    path: String,
    lines: Vec<&'a str>,
}

/// The path a `diff --git a/x b/y` header names (the new side), or the header itself.
fn header_path(header: &str) -> String {
    let rest = header.trim_start_matches("diff --git ");
    match rest.rfind(" b/") {
        Some(at) => rest[at + 3..].to_owned(),
        None => rest.to_owned(),
    }
}

fn sections(diff: &str) -> Vec<Section<'_>> {
    let mut sections: Vec<Section<'_>> = Vec::new();
    for line in diff.split_inclusive('\n') {
        let header = line.trim_end_matches(['\n', '\r']);
        if header.starts_with("diff --git ") || sections.is_empty() {
            sections.push(Section {
                path: if header.starts_with("diff --git ") {
                    header_path(header)
                } else {
                    String::new()
                },
                lines: Vec::new(),
            });
        }
        if let Some(section) = sections.last_mut() {
            section.lines.push(line);
        }
    }
    sections
}

/// Whether a file's section is wanted: no filter, or its new or old path equals one of
/// `paths` or lies under one of them as a folder.
fn wanted(path: &str, header: &str, paths: &[String]) -> bool {
    if paths.is_empty() {
        return true;
    }
    let old_path = header
        .trim_end()
        .strip_prefix("diff --git a/")
        .and_then(|rest| rest.rfind(" b/").map(|at| &rest[..at]));
    paths.iter().any(|wanted| {
        let wanted = wanted.trim_matches('/');
        let under = |p: &str| {
            p == wanted
                || p.strip_prefix(wanted)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        under(path) || old_path.is_some_and(under)
    })
}

/// The window of `diff` (restricted to `paths` when not empty) that starts at `start_line`.
pub(crate) fn window(diff: &str, paths: &[String], start_line: usize, limits: Limits) -> Window {
    let kept: Vec<Section<'_>> = sections(diff)
        .into_iter()
        .filter(|s| wanted(&s.path, s.lines.first().copied().unwrap_or_default(), paths))
        .collect();
    let total_files = kept.iter().filter(|s| !s.path.is_empty()).count();
    // Each line with the section it belongs to.
    let lines: Vec<(usize, &str)> = kept
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.lines.iter().map(move |line| (i, *line)))
        .collect();
    let total_lines = lines.len();
    let start = start_line.max(1);
    if start > total_lines {
        return Window {
            text: String::new(),
            start_line: 0,
            end_line: 0,
            total_lines,
            next_start_line: None,
            files: Vec::new(),
            total_files,
        };
    }
    let max_lines = limits.max_lines.max(1);
    // The most lines that fit both limits (at least one, so a window always moves on).
    let mut end = start - 1;
    let mut chars = 0;
    while end < total_lines && end - (start - 1) < max_lines {
        let len = lines[end].1.chars().count();
        if end >= start && chars + len > limits.max_chars {
            break;
        }
        chars += len;
        end += 1;
    }
    // Prefer ending at a file boundary when the window would cut a file and some earlier
    // file ends inside the window.
    if end < total_lines
        && lines[end].0 == lines[end - 1].0
        && let Some(boundary) = (start..end)
            .rev()
            .find(|&at| lines[at].0 != lines[at - 1].0)
    {
        end = boundary;
    }
    let shown = &lines[start - 1..end];
    let mut files: Vec<String> = Vec::new();
    for (section, _) in shown {
        let path = &kept[*section].path;
        if !path.is_empty() && files.last() != Some(path) {
            files.push(path.clone());
        }
    }
    Window {
        text: shown.iter().map(|(_, line)| *line).collect(),
        start_line: start,
        end_line: end,
        total_lines,
        next_start_line: (end < total_lines).then_some(end + 1),
        files,
        total_files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/README.md b/README.md\n\
index 1111111..2222222 100644\n\
--- a/README.md\n\
+++ b/README.md\n\
@@ -1,2 +1,2 @@\n\
 # Widgets\n\
-old\n\
+new\n\
diff --git a/src/main.rs b/src/main.rs\n\
index 3333333..4444444 100644\n\
--- a/src/main.rs\n\
+++ b/src/main.rs\n\
@@ -1 +1,2 @@\n\
 fn main() {}\n\
+// more\n";

    fn limits(max_lines: usize) -> Limits {
        Limits {
            max_lines,
            max_chars: 100_000,
        }
    }

    #[test]
    fn a_small_diff_is_one_window() {
        let w = window(DIFF, &[], 1, limits(100));
        assert_eq!(w.text, DIFF);
        assert_eq!((w.start_line, w.end_line, w.total_lines), (1, 15, 15));
        assert_eq!(w.next_start_line, None);
        assert_eq!(w.files, ["README.md", "src/main.rs"]);
        assert_eq!(w.total_files, 2);
    }

    #[test]
    fn windows_end_at_file_boundaries_when_they_can() {
        // 10 lines would cut src/main.rs after 2 of its lines: stop after README.md instead.
        let w = window(DIFF, &[], 1, limits(10));
        assert_eq!((w.start_line, w.end_line), (1, 8));
        assert_eq!(w.next_start_line, Some(9));
        assert_eq!(w.files, ["README.md"]);
        let next = window(DIFF, &[], 9, limits(10));
        assert_eq!(
            (next.start_line, next.end_line, next.next_start_line),
            (9, 15, None)
        );
        assert!(next.text.starts_with("diff --git a/src/main.rs"));
    }

    #[test]
    fn a_file_larger_than_a_window_is_cut_by_lines_and_continued() {
        let w = window(DIFF, &[], 1, limits(3));
        assert_eq!((w.end_line, w.next_start_line), (3, Some(4)));
        let mut seen = w.text.clone();
        let mut next = w.next_start_line;
        while let Some(start) = next {
            let w = window(DIFF, &[], start, limits(3));
            seen.push_str(&w.text);
            next = w.next_start_line;
        }
        assert_eq!(seen, DIFF, "the windows together are the whole diff");
    }

    #[test]
    fn paths_filter_sections() {
        let w = window(DIFF, &["src".to_owned()], 1, limits(100));
        assert!(w.text.starts_with("diff --git a/src/main.rs"));
        assert_eq!((w.total_files, w.total_lines), (1, 7));
        let none = window(DIFF, &["docs".to_owned()], 1, limits(100));
        assert_eq!(
            (none.total_lines, none.start_line, none.text.as_str()),
            (0, 0, "")
        );
    }

    #[test]
    fn the_char_limit_cuts_by_whole_lines_but_always_moves_on() {
        let w = window(
            DIFF,
            &[],
            1,
            Limits {
                max_lines: 100,
                max_chars: 5,
            },
        );
        assert_eq!((w.start_line, w.end_line), (1, 1));
        assert_eq!(w.next_start_line, Some(2));
    }

    #[test]
    fn past_the_end_is_empty() {
        let w = window(DIFF, &[], 99, limits(10));
        assert_eq!((w.start_line, w.end_line, w.total_lines), (0, 0, 15));
        assert!(w.text.is_empty());
        assert_eq!(window("", &[], 1, limits(10)).total_lines, 0);
    }
}
