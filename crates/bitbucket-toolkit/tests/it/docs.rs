//! `docs/tools.md` is generated from the catalogue: this test fails when the file is stale and
//! rewrites it when `BBAGENT_UPDATE_DOCS=1` is set. Each tool's endpoint must be an operation of
//! the official spec that the sandbox answers.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use bitbucket_toolkit::{ToolSpec, Toolkit, Toolset};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{path}"))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn composio() -> BTreeSet<String> {
    read("reference/bitbucket/composio-catalog-20260429.txt")
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("BITBUCKET_"))
        .map(str::to_owned)
        .collect()
}

fn hints(spec: &ToolSpec) -> &'static str {
    let a = spec.annotations;
    match (a.read_only, a.destructive, a.idempotent) {
        (true, _, _) => "read",
        (false, true, _) => "destructive",
        (false, false, true) => "write, idempotent",
        (false, false, false) => "write",
    }
}

fn render() -> String {
    let catalogue = Toolkit::catalogue();
    let composio = composio();
    let ours: BTreeSet<&str> = catalogue.iter().map(|s| s.name).collect();
    let same = catalogue
        .iter()
        .filter(|s| composio.contains(s.name))
        .count();
    let mut out = String::new();
    let _ = writeln!(out, "# Tools\n");
    let _ = writeln!(
        out,
        "Generated from the toolkit's catalogue by `crates/bitbucket-toolkit/tests/it/docs.rs`, \
         which fails in CI when this file is stale; regenerate it with \
         `BBAGENT_UPDATE_DOCS=1 cargo nextest run --workspace -E 'test(/docs::/)'`.\n"
    );
    let _ = writeln!(
        out,
        "{} tools in {} toolsets; {same} answer to the name Composio's catalogue (20260429, {} \
         tools) gives them, the others are ours. Hints are the MCP annotations (`read` is \
         read-only; `destructive` tools ask the user first). Each endpoint is an operation of \
         the official spec that the sandbox answers.\n",
        catalogue.len(),
        Toolset::ALL.len(),
        composio.len()
    );
    for toolset in Toolset::ALL {
        let _ = writeln!(out, "## `{toolset}`\n");
        let _ = writeln!(out, "| tool | title | hints | endpoint | Composio |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for spec in catalogue.iter().filter(|s| s.toolset == toolset) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | `{}` | {} |",
                spec.name,
                spec.title,
                hints(spec),
                spec.endpoint,
                if composio.contains(spec.name) {
                    "same name"
                } else {
                    "ours"
                }
            );
        }
        out.push('\n');
    }
    let missing: Vec<&String> = composio
        .iter()
        .filter(|n| !ours.contains(n.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "## Composio's tools not here under their name ({} of {})\n",
        missing.len(),
        composio.len()
    );
    let _ = writeln!(
        out,
        "Some are done by another tool under another name (`reference/bitbucket/catalogue-map.md` \
         maps each to the spec and to what we have); the rest are still to build.\n"
    );
    for name in missing {
        let _ = writeln!(out, "- `{name}`");
    }
    out
}

#[test]
fn docs_tools_md_is_current() {
    let rendered = render();
    let path = format!("{ROOT}/docs/tools.md");
    if std::env::var_os("BBAGENT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &rendered).expect("write docs/tools.md");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == rendered,
        "docs/tools.md is stale: regenerate it with \
         `BBAGENT_UPDATE_DOCS=1 cargo nextest run --workspace -E 'test(/docs::/)'`"
    );
}

#[test]
fn every_endpoint_is_a_spec_operation_the_sandbox_answers() {
    let spec: serde_json::Value =
        serde_json::from_str(&read("reference/bitbucket/openapi-cloud.json")).expect("spec");
    let answered: BTreeSet<String> = read("tests/schemathesis/operations.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.trim_start_matches('!').trim().to_owned())
        .collect();
    for tool in Toolkit::catalogue() {
        let (method, path) = tool
            .endpoint
            .split_once(' ')
            .unwrap_or_else(|| panic!("{}: `{}` is no `METHOD /path`", tool.name, tool.endpoint));
        assert!(
            spec["paths"][path][method.to_lowercase()].is_object(),
            "{}: `{}` is not in the spec",
            tool.name,
            tool.endpoint
        );
        assert!(
            answered.contains(tool.endpoint),
            "{}: the sandbox does not answer `{}`",
            tool.name,
            tool.endpoint
        );
    }
}
