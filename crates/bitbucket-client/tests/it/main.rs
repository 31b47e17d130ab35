//! Integration tests of the client against an in-process Bitbucket sandbox: every operation,
//! pagination across pages, every error class, and retries under injected faults.

mod errors;
mod insights;
mod operations;
mod pagination;
mod retries;
mod review;
mod support;
