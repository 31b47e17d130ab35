//! `bbagent eval discovery` as CI runs it: a line per miss and per case we cannot serve yet,
//! the summary line, and the exit code against the minimums.

use std::path::Path;

use crate::support::{run, stderr, stdout};

/// A hit, a miss (the use case clearly asks for another tool) and a case whose tool we do not
/// have.
const CASES: &str = r#"{"id": "hit", "use_case": "list the tags of the repo", "expect": ["BITBUCKET_LIST_TAGS"]}
{"id": "miss", "use_case": "delete issue 4", "expect": ["BITBUCKET_LIST_TAGS"]}

{"id": "na", "use_case": "launch the rocket", "expect": ["BITBUCKET_LAUNCH_ROCKET"], "note": "extra fields are fine"}
"#;

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("cases.jsonl");
    std::fs::write(&path, text).expect("write cases");
    path.display().to_string()
}

#[test]
fn discovery_prints_misses_not_applicable_cases_and_the_summary() {
    let dir = tempfile::tempdir().expect("dir");
    let file = write(dir.path(), CASES);
    let out = run(dir.path(), &["eval", "discovery", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "MISS miss: \"delete issue 4\": expected BITBUCKET_LIST_TAGS, first BITBUCKET_DELETE_ISSUE\n\
         N/A na: \"launch the rocket\": we have none of BITBUCKET_LAUNCH_ROCKET\n\
         top-1 1/2, top-3 1/2 (1 not applicable)\n"
    );
}

#[test]
fn discovery_fails_below_the_minimums() {
    let dir = tempfile::tempdir().expect("dir");
    let file = write(dir.path(), CASES);
    let at = |args: &[&str]| {
        let mut all = vec!["eval", "discovery", file.as_str()];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };
    let out = at(&["--min-top1", "50", "--min-top3", "50"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = at(&["--min-top1", "90"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with("top-1 1/2, top-3 1/2 (1 not applicable)\n"));
    assert!(
        stderr(&out).contains("top-1 is 1 of 2 (50.0%), below the required 90%"),
        "{}",
        stderr(&out)
    );
    let out = at(&["--min-top3", "98"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("top-3 is 1 of 2"), "{}", stderr(&out));
}

#[test]
fn discovery_refuses_bad_input_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    let cases = [
        (
            "{\"id\": \"a\", \"use_case\": \"x\"}\n",
            "cases.jsonl:1: not a discovery case",
        ),
        (
            "{\"id\": \"a\", \"use_case\": \"x\", \"expect\": []}\n",
            "`expect` lists no tool",
        ),
        ("\n\n", "no case in"),
        (
            "{\"id\": \"a\", \"use_case\": \"x\", \"expect\": [\"BITBUCKET_NOPE\"]}\n",
            "no case of",
        ),
    ];
    for (text, error) in cases {
        let file = write(dir.path(), text);
        let out = run(dir.path(), &["eval", "discovery", &file]);
        assert_eq!(out.status.code(), Some(1), "{text:?}");
        assert!(stderr(&out).contains(error), "{text:?}: {}", stderr(&out));
    }
    let file = write(dir.path(), CASES);
    let out = run(
        dir.path(),
        &["eval", "discovery", &file, "--min-top1", "120"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`--min-top1` is a percentage"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["eval", "discovery", "missing.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read missing.jsonl"),
        "{}",
        stderr(&out)
    );
}

/// `eval intents --tool-mode router`: the same conversations through a tool router of the
/// process; the calls judged are the ones the executor ran (a lookup, then the comment), and a
/// wrong expectation still fails.
#[test]
fn intents_run_in_router_mode() {
    let dir = tempfile::tempdir().expect("dir");
    let file = write(
        dir.path(),
        r#"{"id": "latest", "defaults": {"workspace": "acme", "repo_slug": "widgets"}, "turns": [{"user": "comment \"I can reproduce this\" on the latest open issue", "expect_calls": [{"tool": "BITBUCKET_LIST_ISSUES"}, {"tool": "BITBUCKET_CREATE_ISSUE_COMMENT", "args": {"issue_id": 2, "content": "I can reproduce this"}}]}]}
{"id": "wrong", "defaults": {"workspace": "acme", "repo_slug": "widgets"}, "turns": [{"user": "list open pull requests", "expect_calls": [{"tool": "BITBUCKET_DELETE_REPOSITORY"}]}]}
"#,
    );
    let out = run(
        dir.path(),
        &[
            "eval",
            "intents",
            &file,
            "--tool-mode",
            "router",
            "--min-pass-rate",
            "50",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("FAIL wrong: "), "{text}");
    assert!(!text.contains("FAIL latest"), "{text}");
    assert!(
        !text.contains("COMPOSIO_"),
        "meta-tool calls are not judged: {text}"
    );
    assert!(text.ends_with("1 passed, 1 failed\n"), "{text}");
}
