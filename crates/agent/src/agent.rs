//! The agent and its drivers: one streaming driver runs the [`RunLoop`] against the model,
//! the toolsets and the approver; the non-streaming [`Agent::run`] collects its events.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt as _};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::approval::{ApprovalDecision, ApprovalRequest, Approver, DenyAll, Gate, Notice};
use crate::error::{AgentError, HistoryError, ModelError};
use crate::event::{AgentEvent, RunResult, TokenUsage};
use crate::history::{History, ToolCall};
use crate::r#loop::{Limits, ModelTurn, Plan, RunLoop, Step};
use crate::model::{Model, ModelEvent, ModelRequest, ModelSettings};
use crate::toolset::{ToolContext, ToolDefinition, ToolOutput, Toolset};

/// How failed model requests are retried: only failures worth retrying (429, 5xx, an
/// unreachable server, a broken-off stream) that came before any text or tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The wait before the first retry; it doubles with each one.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A `retry-after` longer than this is not waited for: the error is reported instead.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How long to wait before retry number `retry` (1-based), or `None` to give up.
    pub fn delay(&self, retry: u32, error: &ModelError) -> Option<Duration> {
        if !error.is_retryable() || retry > self.max_retries {
            return None;
        }
        if let Some(after) = error.retry_after() {
            return (after <= self.max_retry_after).then_some(after);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        Some(
            self.initial_backoff
                .saturating_mul(factor)
                .min(self.max_backoff),
        )
    }
}

/// A model with tools, instructions and settings.
#[derive(Clone)]
pub struct Agent {
    model: Arc<dyn Model>,
    toolsets: Vec<Arc<dyn Toolset>>,
    instructions: Option<String>,
    settings: ModelSettings,
    limits: Limits,
    retry: RetryPolicy,
    approver: Arc<dyn Approver>,
}

impl Agent {
    /// An agent without tools, with default limits and retries, that refuses destructive
    /// tools until an approver is set.
    pub fn new(model: Arc<dyn Model>) -> Self {
        Self {
            model,
            toolsets: Vec::new(),
            instructions: None,
            settings: ModelSettings::default(),
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            approver: Arc::new(DenyAll::because("this agent has no approver")),
        }
    }

    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    pub fn with_toolset(mut self, toolset: Arc<dyn Toolset>) -> Self {
        self.toolsets.push(toolset);
        self
    }

    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_approver(mut self, approver: Arc<dyn Approver>) -> Self {
        self.approver = approver;
        self
    }

    pub fn model(&self) -> &Arc<dyn Model> {
        &self.model
    }

    /// Every tool on offer, across toolsets.
    pub async fn tools(&self) -> Result<Vec<ToolDefinition>, AgentError> {
        Ok(self.catalogue().await?.tools)
    }

    /// Runs `prompt` to the end and returns the answer. `history` gains the new messages.
    pub async fn run(
        &self,
        prompt: impl Into<String>,
        history: &mut History,
    ) -> Result<RunResult, AgentError> {
        let events = self.run_stream(prompt, history);
        futures::pin_mut!(events);
        while let Some(event) = events.next().await {
            if let AgentEvent::Done { output, usage } = event? {
                return Ok(RunResult { output, usage });
            }
        }
        Err(AgentError::Cancelled)
    }

    /// Runs `prompt`, reporting what happens as it happens.
    ///
    /// The stream ends after [`AgentEvent::Done`] or after its one `Err` item. `history` gains
    /// the new messages turn by turn (and is saved after each, if it has a file). Dropping the
    /// stream cancels the run and leaves `history` consistent: tool calls that did not finish
    /// get a "cancelled" result, and a half-received answer is not kept. The prompt is kept
    /// only once the model answered it, so a run that fails or is cancelled before the first
    /// answer leaves `history` as it was.
    pub fn run_stream<'a>(
        &'a self,
        prompt: impl Into<String>,
        history: &'a mut History,
    ) -> impl Stream<Item = Result<AgentEvent, AgentError>> + Send + 'a {
        self.run_stream_with_cancel(prompt, history, CancellationToken::new())
    }

    /// [`Agent::run_stream`] that also stops when `cancel` fires, ending with
    /// `Err(AgentError::Cancelled)` after saving the history.
    pub fn run_stream_with_cancel<'a>(
        &'a self,
        prompt: impl Into<String>,
        history: &'a mut History,
        cancel: CancellationToken,
    ) -> impl Stream<Item = Result<AgentEvent, AgentError>> + Send + 'a {
        let prompt = prompt.into();
        async_stream::stream! {
            let run = RunLoop::new(history.messages().to_vec(), prompt, self.limits);
            let mut commit = Commit { history, run, open: true };
            let (notices, mut notices_rx) = mpsc::unbounded_channel::<Notice>();
            let gate = Arc::new(Gate::new(self.approver.clone(), Some(notices)));
            let mut step = commit.run.start();
            loop {
                match step {
                    Step::CallModel => {
                        let catalogue = tokio::select! {
                            biased;
                            () = cancel.cancelled() => None,
                            listed = self.catalogue() => Some(listed),
                        };
                        let catalogue = match catalogue {
                            None => {
                                yield Err(commit.cancel());
                                return;
                            }
                            Some(Err(e)) => {
                                commit.close();
                                yield Err(e);
                                return;
                            }
                            Some(Ok(c)) => c,
                        };
                        let request = ModelRequest {
                            instructions: self.instructions.clone(),
                            messages: commit.run.messages().to_vec(),
                            tools: catalogue.tools.clone(),
                            settings: self.settings.clone(),
                        };
                        let mut attempt: u32 = 0;
                        let turn = loop {
                            attempt += 1;
                            let mut answer = self.model.stream(request.clone());
                            let mut turn = ModelTurn { requests: attempt, ..ModelTurn::default() };
                            let mut produced = false;
                            let mut failure = None;
                            loop {
                                let next = tokio::select! {
                                    biased;
                                    () = cancel.cancelled() => None,
                                    next = answer.next() => Some(next),
                                };
                                let Some(next) = next else {
                                    yield Err(commit.cancel());
                                    return;
                                };
                                match next {
                                    None => break,
                                    Some(Ok(ModelEvent::TextDelta(text))) => {
                                        produced = true;
                                        turn.text.push_str(&text);
                                        yield Ok(AgentEvent::TextDelta { text });
                                    }
                                    Some(Ok(ModelEvent::ToolCall(call))) => {
                                        produced = true;
                                        turn.tool_calls.push(call);
                                    }
                                    Some(Ok(ModelEvent::Usage(usage))) => {
                                        turn.usage = TokenUsage {
                                            input_tokens: turn.usage.input_tokens + usage.input_tokens,
                                            output_tokens: turn.usage.output_tokens + usage.output_tokens,
                                        };
                                    }
                                    Some(Ok(ModelEvent::Finished(_))) => {}
                                    Some(Err(e)) => {
                                        failure = Some(e);
                                        break;
                                    }
                                }
                            }
                            let Some(error) = failure else { break turn };
                            let delay = if produced { None } else { self.retry.delay(attempt, &error) };
                            let Some(delay) = delay else {
                                commit.close();
                                yield Err(AgentError::Model(error));
                                return;
                            };
                            yield Ok(AgentEvent::Retrying { attempt, delay, error: error.to_string() });
                            let waited = tokio::select! {
                                biased;
                                () = cancel.cancelled() => false,
                                () = tokio::time::sleep(delay) => true,
                            };
                            if !waited {
                                yield Err(commit.cancel());
                                return;
                            }
                        };
                        step = commit.run.on_model_turn(turn, &catalogue.tools);
                        yield Ok(AgentEvent::Usage(commit.run.usage()));

                        if let Step::CallTools(planned) = step {
                            for p in &planned {
                                yield Ok(AgentEvent::ToolCallStarted {
                                    id: p.call.id.clone(),
                                    name: p.call.name.clone(),
                                    arguments: p.call.arguments.clone(),
                                });
                            }
                            let mut running = FuturesUnordered::new();
                            for p in planned {
                                match p.plan {
                                    Plan::Answer(output) => {
                                        // Recorded before it is reported: the consumer may
                                        // drop the run as soon as it sees the result.
                                        let event = result_event(&p.call, &output);
                                        commit.run.on_tool_output(&p.call.id, output);
                                        yield Ok(event);
                                    }
                                    Plan::Run => running.push(self.execute(p.call, None, &catalogue, gate.clone())),
                                    Plan::AskFirst { reason } => {
                                        running.push(self.execute(p.call, Some(reason), &catalogue, gate.clone()));
                                    }
                                }
                            }
                            while !running.is_empty() {
                                let wake = tokio::select! {
                                    biased;
                                    () = cancel.cancelled() => Wake::Cancelled,
                                    Some(notice) = notices_rx.recv() => Wake::Notice(notice),
                                    Some((call, output)) = running.next() => Wake::Finished(call, output),
                                };
                                match wake {
                                    Wake::Cancelled => {
                                        yield Err(commit.cancel());
                                        return;
                                    }
                                    Wake::Notice(notice) => {
                                        yield Ok(notice.event);
                                        // Code after `yield` runs once the consumer is back
                                        // for more, that is, once it has seen the notice.
                                        if let Some(ack) = notice.ack {
                                            let _ = ack.send(());
                                        }
                                    }
                                    Wake::Finished(call, output) => {
                                        let event = result_event(&call, &output);
                                        commit.run.on_tool_output(&call.id, output);
                                        yield Ok(event);
                                    }
                                }
                            }
                            drop(running);
                            step = commit.run.after_tools();
                            if let Err(e) = commit.save() {
                                commit.close();
                                yield Err(e.into());
                                return;
                            }
                        }
                    }
                    Step::Done { output } => {
                        let saved = commit.save();
                        commit.close();
                        match saved {
                            Ok(()) => yield Ok(AgentEvent::Done { output, usage: commit.run.usage() }),
                            Err(e) => yield Err(e.into()),
                        }
                        return;
                    }
                    Step::Stop(limit) => {
                        let saved = commit.save();
                        commit.close();
                        match saved {
                            Ok(()) => yield Err(limit.into()),
                            Err(e) => yield Err(e.into()),
                        }
                        return;
                    }
                    Step::CallTools(_) => {
                        // Only `on_model_turn` plans tools, and it is handled above.
                        step = commit.run.after_tools();
                    }
                }
            }
        }
    }

    /// Asks first if needed, then runs the call in the toolset that offers it.
    async fn execute(
        &self,
        call: ToolCall,
        approval: Option<String>,
        catalogue: &Catalogue,
        gate: Arc<Gate>,
    ) -> (ToolCall, ToolOutput) {
        let approved = match approval {
            None => false,
            Some(reason) => {
                let request = ApprovalRequest {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                    reason,
                };
                match gate.ask(request).await {
                    ApprovalDecision::Approve => true,
                    ApprovalDecision::Deny { reason } => {
                        let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
                        let output = ToolOutput::error(format!(
                            "the user denied running `{}`{why}; it was not run",
                            call.name
                        ));
                        return (call, output);
                    }
                    ApprovalDecision::Refuse { reason } => {
                        let output = ToolOutput::error(format!(
                            "`{}` was not run: no one was asked to approve it ({reason})",
                            call.name
                        ));
                        return (call, output);
                    }
                }
            }
        };
        let Some(toolset) = catalogue
            .owner(&call.name)
            .and_then(|i| self.toolsets.get(i))
        else {
            let output = ToolOutput::error(format!("unknown tool `{}`", call.name));
            return (call, output);
        };
        let context = ToolContext::in_run(call.clone(), approved, gate);
        let output = toolset.call(&call, context).await;
        (call, output)
    }

    async fn catalogue(&self) -> Result<Catalogue, AgentError> {
        let mut catalogue = Catalogue::default();
        for (index, toolset) in self.toolsets.iter().enumerate() {
            for tool in toolset.tools().await? {
                if let Some(first) = catalogue.owner(&tool.name) {
                    return Err(AgentError::DuplicateTool {
                        name: tool.name,
                        first: self
                            .toolsets
                            .get(first)
                            .map(|t| t.name().to_owned())
                            .unwrap_or_default(),
                        second: toolset.name().to_owned(),
                    });
                }
                catalogue.tools.push(tool);
                catalogue.owners.push(index);
            }
        }
        Ok(catalogue)
    }
}

fn result_event(call: &ToolCall, output: &ToolOutput) -> AgentEvent {
    AgentEvent::ToolResult {
        id: call.id.clone(),
        name: call.name.clone(),
        is_error: output.is_error,
        content: output.content.clone(),
    }
}

enum Wake {
    Cancelled,
    Notice(Notice),
    Finished(ToolCall, ToolOutput),
}

/// The tools on offer for one model request, and which toolset offers each.
#[derive(Default)]
struct Catalogue {
    tools: Vec<ToolDefinition>,
    owners: Vec<usize>,
}

impl Catalogue {
    fn owner(&self, name: &str) -> Option<usize> {
        let i = self.tools.iter().position(|t| t.name == name)?;
        self.owners.get(i).copied()
    }
}

/// Hands the run's finished messages to the history. If the run is dropped while still
/// open, it cancels the run first, so the history stays consistent whatever happens.
struct Commit<'h> {
    history: &'h mut History,
    run: RunLoop,
    open: bool,
}

impl Commit<'_> {
    fn save(&mut self) -> Result<(), HistoryError> {
        let ready = self.run.take_commit();
        if ready.is_empty() {
            return Ok(());
        }
        self.history.extend(ready);
        self.history.save()
    }

    fn close(&mut self) {
        self.open = false;
    }

    /// Cancels the run, keeps what is consistent, and returns the error to report.
    fn cancel(&mut self) -> AgentError {
        self.run.cancel();
        let saved = self.save();
        self.close();
        match saved {
            Ok(()) => AgentError::Cancelled,
            Err(e) => e.into(),
        }
    }
}

impl Drop for Commit<'_> {
    fn drop(&mut self) {
        if self.open {
            self.run.cancel();
            if let Err(e) = self.save() {
                tracing::warn!(error = %e, "could not save the conversation of a cancelled run");
            }
        }
    }
}
