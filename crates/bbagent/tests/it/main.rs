//! `bbagent` as a user runs it: the real binary, its output and exit codes.

mod ask;
mod chat;
mod cli;
mod help;
mod mcp;
mod support;
