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

/// The `--toolsets` help names every toolset, so a new one cannot be left out of it.
#[test]
fn the_toolsets_help_names_every_toolset() {
    let dir = tempfile::tempdir().expect("dir");
    for args in [&["mcp", "--help"][..]] {
        let out = run(dir.path(), args);
        let text = stdout(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let start = text.find("--toolsets").expect("a --toolsets option");
        let help = &text[start..];
        let list = help
            .split_once("(comma-separated): ")
            .and_then(|(_, rest)| rest.split(" --").next())
            .expect("a list of toolsets");
        let named: Vec<&str> = list.split(", ").map(|t| t.trim_end_matches('.')).collect();
        for toolset in bitbucket_toolkit::Toolset::ALL {
            assert!(
                named.contains(&toolset.as_str()),
                "{args:?}: `--toolsets` does not name `{toolset}`: {list}"
            );
        }
    }
}
