//! The scripted LLM server through plain HTTP, as a client library would see it.

mod binary;
mod support;
mod wire;
