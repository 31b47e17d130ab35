//! The tool router: given what an agent wants to do, it finds the tools for it, says how to
//! use them, and serves them to the agent.
//!
//! [`search`] is pure: it ranks a tool catalogue against a use case with rules over the tools'
//! names, descriptions, arguments and annotations, with no IO, no network and no model.

pub mod search;
