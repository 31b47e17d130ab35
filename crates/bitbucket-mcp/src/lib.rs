//! The Bitbucket toolkit served over MCP, on stdio and on Streamable HTTP.
//!
//! [`BitbucketMcp`] is the rmcp `ServerHandler`: it lists the toolkit's catalogue (narrowed by
//! [`ServerOptions`]) and runs calls through the toolkit. Destructive tools follow a
//! [`DestructivePolicy`]; under `Confirm` the user is asked through MCP elicitation, in the way
//! each protocol era allows. [`http::serve`] adds the HTTP safety layer (Origin and Host
//! checks, API key, body limit) around rmcp's Streamable HTTP service, with [`endpoint`]'s
//! session limits and JSON-RPC errors, served within [`http_serve::Limits`].

pub mod confirm;
pub mod endpoint;
pub mod http;
mod server;

pub use bitbucket_toolkit::DestructivePolicy;
pub use server::{BitbucketMcp, OptionsError, ServerOptions, to_mcp_tool};

/// The unit tests count live heap bytes, to show that sessions leave nothing behind.
#[cfg(test)]
#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Serves `handler` on this process's stdin and stdout until the client closes them.
pub async fn serve_stdio(handler: BitbucketMcp) -> Result<(), std::io::Error> {
    use rmcp::ServiceExt as _;
    let running = handler.serve(rmcp::transport::stdio()).await.map_err(|e| {
        std::io::Error::other(format!("MCP session over stdio failed to start: {e}"))
    })?;
    running.waiting().await.map_err(|e| {
        std::io::Error::other(format!("MCP session over stdio ended abnormally: {e}"))
    })?;
    Ok(())
}
