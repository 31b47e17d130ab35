//! The toolkit through its public surface, against an in-process sandbox.

mod bad_input;
mod branches;
mod catalogue;
mod docs;
mod insights;
mod issues;
mod lockdown;
mod pull_requests;
mod repositories;
mod reviews;
mod snippets;
mod support;
mod texts;
mod workspaces;
