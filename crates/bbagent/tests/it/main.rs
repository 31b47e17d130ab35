//! `bbagent` as a user runs it: the real binary, its output and exit codes.

mod ask;
mod chat;
mod cli;
mod crash;
mod eval;
mod help;
mod load;
mod mcp;
mod pty;
mod pty_ask;
mod pty_chat;
mod pty_local;
mod pty_terminal;
mod router;
mod router_agent;
mod secrets;
mod shared;
mod shutdown;
mod support;
mod untrusted;
