//! The real Bitbucket catalogue, as a model is offered it, for tests.

use agent::{ToolAnnotations, ToolDefinition};
use bitbucket_toolkit::Toolkit;
use serde_json::Value;

use crate::catalogue::Catalogue;

pub fn definitions() -> Vec<ToolDefinition> {
    Toolkit::catalogue()
        .iter()
        .map(|spec| {
            let mut annotations = ToolAnnotations::default()
                .read_only(spec.annotations.read_only)
                .destructive(spec.annotations.destructive)
                .idempotent(spec.annotations.idempotent);
            annotations.title = Some(spec.title.to_owned());
            ToolDefinition::new(
                spec.name,
                spec.description,
                Value::Object(spec.input_schema()),
            )
            .with_annotations(annotations)
        })
        .collect()
}

pub fn catalogue() -> Catalogue {
    Catalogue::new(&definitions())
}
