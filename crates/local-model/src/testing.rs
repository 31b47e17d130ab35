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

/// The tools that reviewing added (pull request review, commits, branch and tag removal):
/// the catalogue without them is how an older or narrower server looks.
const REVIEW_TOOLS: &[&str] = &[
    "BITBUCKET_UPDATE_PULL_REQUEST",
    "BITBUCKET_GET_PULL_REQUEST_DIFF",
    "BITBUCKET_GET_PULL_REQUEST_DIFFSTAT",
    "BITBUCKET_GET_PULL_REQUEST_COMMITS",
    "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_COMMENTS",
    "BITBUCKET_GET_PULL_REQUEST_COMMENT",
    "BITBUCKET_LIST_PULL_REQUEST_TASKS",
    "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_STATUSES",
    "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
    "BITBUCKET_UPDATE_PULL_REQUEST_COMMENT",
    "BITBUCKET_RESOLVE_PULL_REQUEST_COMMENT",
    "BITBUCKET_CREATE_PULL_REQUEST_TASK",
    "BITBUCKET_UPDATE_PULL_REQUEST_TASK",
    "BITBUCKET_APPROVE_PULL_REQUEST",
    "BITBUCKET_UNAPPROVE_PULL_REQUEST",
    "BITBUCKET_REQUEST_PULL_REQUEST_CHANGES",
    "BITBUCKET_REMOVE_PULL_REQUEST_CHANGE_REQUEST",
    "BITBUCKET_DELETE_PULL_REQUEST_COMMENT",
    "BITBUCKET_DELETE_PULL_REQUEST_TASK",
    "BITBUCKET_DECLINE_PULL_REQUEST",
    "BITBUCKET_MERGE_PULL_REQUEST",
    "BITBUCKET_GET_REPOSITORIES_COMMIT",
    "BITBUCKET_GET_COMMIT_DIFF",
    "BITBUCKET_GET_COMMIT_CHANGES",
    "BITBUCKET_GET_REPOSITORIES_FILEHISTORY",
    "BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES",
    "BITBUCKET_GET_REPOSITORIES_COMMIT_COMMENTS",
    "BITBUCKET_GET_COMMIT_COMMENT",
    "BITBUCKET_COMMIT_FILES",
    "BITBUCKET_CREATE_COMMIT_COMMENT",
    "BITBUCKET_UPDATE_REPOSITORIES_COMMIT_COMMENTS",
    "BITBUCKET_DELETE_COMMIT_COMMENT",
    "BITBUCKET_CREATE_TAG",
    "BITBUCKET_DELETE_BRANCH",
    "BITBUCKET_DELETE_TAG",
];

/// The catalogue as it was before the review tools: what the model does when a server
/// lacks them.
pub fn definitions_before_reviews() -> Vec<ToolDefinition> {
    definitions()
        .into_iter()
        .filter(|d| !REVIEW_TOOLS.contains(&d.name.as_str()))
        .collect()
}

/// [`definitions_before_reviews`] as a catalogue.
pub fn catalogue_before_reviews() -> Catalogue {
    Catalogue::new(&definitions_before_reviews())
}
