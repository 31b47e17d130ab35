//! Asking the user before a tool runs: the [`Approver`] the application provides (a REPL asks
//! y/n, `ask --yes` approves everything, `ask` without it refuses), and the gate that asks one
//! question at a time and announces it on the event stream first.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::event::AgentEvent;

/// What the user is asked to approve.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    /// The tool call id.
    pub id: String,
    pub name: String,
    pub arguments: Value,
    /// Why approval is needed, e.g. "`X` is marked destructive" or the MCP server's question.
    pub reason: String,
}

/// The user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalDecision {
    Approve,
    /// The user said no; the model is told, with the reason when there is one.
    Deny {
        reason: Option<String>,
    },
    /// Refused by policy without asking anyone (`ask` without `--yes`, or no approver); the
    /// model is told why, and the caller can tell its user that nobody declined anything.
    Refuse {
        reason: String,
    },
}

/// Decides whether a tool call may run. The agent asks one question at a time, after the
/// matching [`AgentEvent::ApprovalRequired`] was delivered to the stream's consumer.
pub trait Approver: Send + Sync {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, ApprovalDecision>;
}

/// Approves everything (`ask --yes`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApproveAll;

impl Approver for ApproveAll {
    fn decide<'a>(&'a self, _request: &'a ApprovalRequest) -> BoxFuture<'a, ApprovalDecision> {
        Box::pin(std::future::ready(ApprovalDecision::Approve))
    }
}

/// Refuses everything without asking anyone, with a reason the model reads (e.g. "rerun with
/// `--yes` to allow it").
#[derive(Debug, Clone, Default)]
pub struct DenyAll {
    reason: Option<String>,
}

impl DenyAll {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn because(reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
        }
    }
}

impl Approver for DenyAll {
    fn decide<'a>(&'a self, _request: &'a ApprovalRequest) -> BoxFuture<'a, ApprovalDecision> {
        Box::pin(std::future::ready(ApprovalDecision::Refuse {
            reason: self
                .reason
                .clone()
                .unwrap_or_else(|| "nothing may run that needs approval".to_owned()),
        }))
    }
}

/// An approver from an async closure, e.g. one that prompts on the terminal.
pub struct FnApprover<F>(F);

/// Wraps `f(request) -> impl Future<Output = ApprovalDecision>` as an [`Approver`].
pub fn approver_fn<F, Fut>(f: F) -> FnApprover<F>
where
    F: Fn(ApprovalRequest) -> Fut + Send + Sync,
    Fut: Future<Output = ApprovalDecision> + Send + 'static,
{
    FnApprover(f)
}

impl<F, Fut> Approver for FnApprover<F>
where
    F: Fn(ApprovalRequest) -> Fut + Send + Sync,
    Fut: Future<Output = ApprovalDecision> + Send + 'static,
{
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, ApprovalDecision> {
        Box::pin((self.0)(request.clone()))
    }
}

/// An event for the stream's consumer; `ack` fires once the consumer asked for the next item,
/// that is, once it has handled this one.
pub(crate) struct Notice {
    pub event: AgentEvent,
    pub ack: Option<oneshot::Sender<()>>,
}

/// Serialises questions and announces each on the event stream before asking.
pub(crate) struct Gate {
    approver: Arc<dyn Approver>,
    one_at_a_time: Mutex<()>,
    notices: Option<mpsc::UnboundedSender<Notice>>,
}

impl Gate {
    pub fn new(
        approver: Arc<dyn Approver>,
        notices: Option<mpsc::UnboundedSender<Notice>>,
    ) -> Self {
        Self {
            approver,
            one_at_a_time: Mutex::new(()),
            notices,
        }
    }

    pub async fn ask(&self, request: ApprovalRequest) -> ApprovalDecision {
        let _turn = self.one_at_a_time.lock().await;
        if let Some(notices) = &self.notices {
            let (ack, shown) = oneshot::channel();
            let event = AgentEvent::ApprovalRequired {
                id: request.id.clone(),
                name: request.name.clone(),
                arguments: request.arguments.clone(),
                reason: request.reason.clone(),
            };
            if notices
                .send(Notice {
                    event,
                    ack: Some(ack),
                })
                .is_ok()
            {
                // An error means the run is being dropped; asking then is harmless.
                let _ = shown.await;
            }
        }
        self.approver.decide(&request).await
    }
}
