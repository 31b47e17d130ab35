//! What every request shares (storage, connections, the public URL) and a loaded session.

use std::sync::Arc;
use std::time::Duration;

use crate::config::SessionConfig;
use crate::connections::Connections;
use crate::store::{SessionRow, Store, StoreError};

/// State shared by the REST API, the MCP endpoint and the link page.
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub connections: Connections,
    /// The router's origin as clients see it, without a trailing slash.
    pub public_url: String,
    /// How long an auth link stays usable.
    pub link_ttl: Duration,
    /// How long `COMPOSIO_WAIT_FOR_CONNECTIONS` waits at most.
    pub wait_timeout: Duration,
    /// Tool calls per user and per API key's project.
    pub limiter: crate::limits::Limiter,
}

/// A session with its parsed configuration, for one request.
#[derive(Debug, Clone)]
pub struct SessionCtx {
    pub shared: Arc<Shared>,
    pub session: SessionRow,
    pub config: SessionConfig,
}

impl SessionCtx {
    /// The session `id` of `project_id`; `None` when it does not exist in that project.
    pub async fn load(
        shared: &Arc<Shared>,
        project_id: &str,
        id: &str,
    ) -> Result<Option<Self>, StoreError> {
        let Some(session) = shared.store.session(project_id, id).await? else {
            return Ok(None);
        };
        let config: SessionConfig = serde_json::from_value(session.config.clone())
            .map_err(|e| StoreError::Corrupt(format!("session `{id}` config: {e}")))?;
        Ok(Some(Self {
            shared: Arc::clone(shared),
            session,
            config,
        }))
    }

    /// The session's MCP URL.
    pub fn mcp_url(&self) -> String {
        mcp_url(&self.shared.public_url, &self.session.id)
    }
}

/// `{public_url}/tool_router/{id}/mcp`.
pub fn mcp_url(public_url: &str, id: &str) -> String {
    format!("{public_url}/tool_router/{id}/mcp")
}

/// Seconds since the epoch as RFC 3339 (UTC).
pub fn iso(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
