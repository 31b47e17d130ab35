//! The meta-tools' view of [`crate::search`]: the session's allowed tools in, catalogue
//! entries out.

use std::sync::OnceLock;

use bitbucket_toolkit::{ToolSpec, Toolkit};

use crate::search::{Index, UseCase, parse_known_fields};

/// What search found for one use case.
#[derive(Debug, Default)]
pub struct Found {
    pub primary: Vec<&'static ToolSpec>,
    pub related: Vec<&'static ToolSpec>,
    pub plan: Vec<String>,
    pub pitfalls: Vec<String>,
    pub reasoning: String,
}

/// The index over the whole catalogue, built once.
fn full_index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(Index::catalogue)
}

/// Searches the tools in `allowed` for `use_case`.
pub fn find(use_case: &str, known_fields: Option<&str>, allowed: &[&'static ToolSpec]) -> Found {
    let query = UseCase {
        use_case: use_case.to_owned(),
        known_fields: known_fields.map(parse_known_fields).unwrap_or_default(),
    };
    let narrowed;
    let index = if allowed.len() == Toolkit::catalogue().len() {
        full_index()
    } else {
        narrowed = Index::new(allowed.iter().map(|spec| spec.info()));
        &narrowed
    };
    let discovery = index.discover(&query);
    let specs = |refs: &[crate::search::ToolRef]| -> Vec<&'static ToolSpec> {
        refs.iter()
            .filter_map(|r| allowed.iter().copied().find(|spec| spec.name == r.name))
            .collect()
    };
    Found {
        primary: specs(&discovery.primary),
        related: specs(&discovery.related),
        reasoning: discovery
            .primary
            .iter()
            .map(|r| format!("{}: {}", r.name, r.why))
            .collect::<Vec<_>>()
            .join("; "),
        plan: discovery.plan,
        pitfalls: discovery.pitfalls,
    }
}
