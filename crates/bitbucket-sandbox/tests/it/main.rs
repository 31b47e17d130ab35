//! Integration tests of the sandbox through its HTTP surface, as a client sees it.

mod admin;
mod commit_comments;
mod commit_files;
mod concurrency;
mod contract;
mod diffs;
mod errors;
mod oauth;
mod persistence;
mod pipelines;
mod pr_comments;
mod pr_tasks;
mod reports;
mod reviews;
mod statuses;
mod support;
mod writes;
