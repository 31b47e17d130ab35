//! `--help` is documentation; snapshots keep it deliberate.

use crate::support::{run, stdout};

#[test]
fn help_texts() {
    let dir = tempfile::tempdir().expect("dir");
    for args in [
        &["--help"][..],
        &["ask", "--help"],
        &["chat", "--help"],
        &["mcp", "--help"],
        &["tools", "--help"],
        &["tools", "list", "--help"],
        &["tools", "call", "--help"],
        &["sandbox", "--help"],
        &["router", "--help"],
        &["eval", "intents", "--help"],
        &["eval", "discovery", "--help"],
    ] {
        let out = run(dir.path(), args);
        assert!(out.status.success(), "{args:?}");
        let name = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .copied()
            .collect::<Vec<_>>()
            .join("_");
        let name = if name.is_empty() {
            "bbagent".to_owned()
        } else {
            name
        };
        insta::assert_snapshot!(format!("help_{name}"), stdout(&out));
    }
}
