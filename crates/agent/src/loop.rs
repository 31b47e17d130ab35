//! The tool-calling loop as a state machine: plain data in, plain data out, no IO.
//!
//! A driver feeds it what happened (the model's answer, each tool's output) and it says what
//! to do next: call the model, call these tools, done, or stop because a limit was reached.
//! It also owns the run's new messages and hands them out only at consistent points, so the
//! history never holds a tool call without its result nor a half-received answer.

use serde::{Deserialize, Serialize};

use crate::event::{TokenUsage, Usage};
use crate::history::{Message, ToolCall};
use crate::toolset::{ToolDefinition, ToolOutput};

/// What the tool result of a call that never finished says.
pub const CANCELLED: &str = "cancelled by the user before it finished";

/// Bounds that stop a runaway loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Model answers per run.
    pub max_steps: u32,
    /// Model requests per run, retries included.
    pub max_requests: Option<u32>,
    /// Input plus output tokens per run.
    pub max_total_tokens: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_steps: 25,
            max_requests: None,
            max_total_tokens: None,
        }
    }
}

impl Limits {
    pub fn with_max_steps(mut self, steps: u32) -> Self {
        self.max_steps = steps;
        self
    }

    pub fn with_max_requests(mut self, requests: u32) -> Self {
        self.max_requests = Some(requests);
        self
    }

    pub fn with_max_total_tokens(mut self, tokens: u64) -> Self {
        self.max_total_tokens = Some(tokens);
        self
    }
}

/// Which limit stopped a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error(
        "stopped after {max} model steps (`max_steps`) while the model was still calling tools; its last tool calls were not run"
    )]
    Steps { max: u32 },
    #[error(
        "stopped after {used} model requests, the limit (`max_requests` = {max}); the last tool calls were not run"
    )]
    Requests { used: u32, max: u32 },
    #[error(
        "stopped after using {used} tokens, over the limit (`max_total_tokens` = {max}); the last tool calls were not run"
    )]
    Tokens { used: u64, max: u64 },
}

/// One complete answer of the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelTurn {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: TokenUsage,
    /// Requests it took, retries included.
    pub requests: u32,
}

/// How a tool call is to be handled.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Run it.
    Run,
    /// Ask the user first; run it only if approved.
    AskFirst { reason: String },
    /// Do not run it; this is its result (e.g. an unknown tool).
    Answer(ToolOutput),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    pub call: ToolCall,
    pub plan: Plan,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    CallModel,
    /// Handle these calls (concurrently), feed each output to [`RunLoop::on_tool_output`],
    /// then call [`RunLoop::after_tools`].
    CallTools(Vec<PlannedCall>),
    Done {
        output: String,
    },
    Stop(LimitExceeded),
}

#[derive(Debug)]
struct Awaiting {
    calls: Vec<ToolCall>,
    outputs: Vec<Option<ToolOutput>>,
}

/// One run of the loop over a conversation.
#[derive(Debug)]
pub struct RunLoop {
    limits: Limits,
    messages: Vec<Message>,
    /// Messages before this index were handed out by `take_commit`.
    committed: usize,
    usage: Usage,
    steps: u32,
    awaiting: Option<Awaiting>,
}

impl RunLoop {
    /// Starts a run: the earlier conversation plus the user's new prompt.
    pub fn new(prior: Vec<Message>, prompt: String, limits: Limits) -> Self {
        let committed = prior.len();
        let mut messages = prior;
        messages.push(Message::User { content: prompt });
        Self {
            limits,
            messages,
            committed,
            usage: Usage::default(),
            steps: 0,
            awaiting: None,
        }
    }

    pub fn start(&self) -> Step {
        match self.check_limits() {
            Ok(()) => Step::CallModel,
            Err(limit) => Step::Stop(limit),
        }
    }

    /// The whole conversation to send to the model.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn usage(&self) -> Usage {
        self.usage
    }

    pub fn on_model_turn(&mut self, turn: ModelTurn, tools: &[ToolDefinition]) -> Step {
        self.steps += 1;
        self.usage += turn.usage;
        self.usage.requests += turn.requests;
        let calls = turn.tool_calls;
        self.messages.push(Message::Assistant {
            content: turn.text.clone(),
            tool_calls: calls.clone(),
        });
        if calls.is_empty() {
            return Step::Done { output: turn.text };
        }
        if let Err(limit) = self.check_limits() {
            let outputs = calls
                .iter()
                .map(|_| Some(ToolOutput::error(format!("not run: {limit}"))))
                .collect();
            self.awaiting = Some(Awaiting { calls, outputs });
            self.flush_results();
            return Step::Stop(limit);
        }
        let planned = calls
            .iter()
            .map(|call| PlannedCall {
                call: call.clone(),
                plan: plan(call, tools),
            })
            .collect();
        self.awaiting = Some(Awaiting {
            outputs: vec![None; calls.len()],
            calls,
        });
        Step::CallTools(planned)
    }

    /// Records the output of the call with this id (unknown ids are ignored).
    pub fn on_tool_output(&mut self, id: &str, output: ToolOutput) {
        if let Some(awaiting) = &mut self.awaiting
            && let Some(i) = awaiting.calls.iter().position(|c| c.id == id)
            && awaiting.outputs[i].is_none()
        {
            awaiting.outputs[i] = Some(output);
        }
    }

    /// All calls were handled: append their results and say what comes next.
    pub fn after_tools(&mut self) -> Step {
        self.flush_results();
        match self.check_limits() {
            Ok(()) => Step::CallModel,
            Err(limit) => Step::Stop(limit),
        }
    }

    /// Ends the run early: calls without an output get a "cancelled" result.
    pub fn cancel(&mut self) {
        self.flush_results();
    }

    /// The messages that became final since the last call: everything up to the pending tool
    /// calls, if any. Nothing before the model's first answer, so a failed or cancelled first
    /// request leaves the history as it was.
    pub fn take_commit(&mut self) -> Vec<Message> {
        if self.steps == 0 {
            return Vec::new();
        }
        let end = match &self.awaiting {
            Some(_) => self.messages.len() - 1,
            None => self.messages.len(),
        };
        let ready = self.messages[self.committed..end].to_vec();
        self.committed = end;
        ready
    }

    fn flush_results(&mut self) {
        let Some(awaiting) = self.awaiting.take() else {
            return;
        };
        for (call, output) in awaiting.calls.into_iter().zip(awaiting.outputs) {
            let output = output.unwrap_or_else(|| ToolOutput::error(CANCELLED));
            self.messages.push(Message::Tool {
                call_id: call.id,
                name: call.name,
                content: output.content,
                is_error: output.is_error,
                structured: output.structured,
            });
        }
    }

    /// Whether another model request is allowed.
    fn check_limits(&self) -> Result<(), LimitExceeded> {
        if self.steps >= self.limits.max_steps {
            return Err(LimitExceeded::Steps {
                max: self.limits.max_steps,
            });
        }
        if let Some(max) = self.limits.max_requests
            && self.usage.requests >= max
        {
            return Err(LimitExceeded::Requests {
                used: self.usage.requests,
                max,
            });
        }
        if let Some(max) = self.limits.max_total_tokens
            && self.usage.total_tokens >= max
        {
            return Err(LimitExceeded::Tokens {
                used: self.usage.total_tokens,
                max,
            });
        }
        Ok(())
    }
}

fn plan(call: &ToolCall, tools: &[ToolDefinition]) -> Plan {
    let Some(tool) = tools.iter().find(|t| t.name == call.name) else {
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        let known = if names.is_empty() {
            "no tools are available".to_owned()
        } else {
            format!("the available tools are: {}", names.join(", "))
        };
        return Plan::Answer(ToolOutput::error(format!(
            "unknown tool `{}`; {known}",
            call.name
        )));
    };
    if tool.needs_approval() {
        Plan::AskFirst {
            reason: format!("`{}` is marked destructive", tool.name),
        }
    } else {
        Plan::Run
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::history::History;
    use crate::toolset::ToolAnnotations;

    fn tools() -> Vec<ToolDefinition> {
        vec![
            ToolDefinition::new("read", "reads", json!({"type": "object"})),
            ToolDefinition::new("delete", "deletes", json!({"type": "object"}))
                .with_annotations(ToolAnnotations::default().destructive(true)),
        ]
    }

    fn call(id: &str, name: &str) -> ToolCall {
        ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: json!({}),
        }
    }

    fn turn(text: &str, calls: &[(&str, &str)], tokens: u64) -> ModelTurn {
        ModelTurn {
            text: text.into(),
            tool_calls: calls.iter().map(|(id, name)| call(id, name)).collect(),
            usage: TokenUsage {
                input_tokens: tokens,
                output_tokens: 0,
            },
            requests: 1,
        }
    }

    fn tool_message(id: &str, name: &str, content: &str, is_error: bool) -> Message {
        Message::Tool {
            call_id: id.into(),
            name: name.into(),
            content: content.into(),
            is_error,
            structured: None,
        }
    }

    #[test]
    fn a_plain_answer_is_done_and_committed_with_its_prompt() {
        let prior = vec![Message::user("earlier"), Message::assistant("reply")];
        let mut run = RunLoop::new(prior, "hi".into(), Limits::default());
        assert_eq!(run.start(), Step::CallModel);
        assert_eq!(
            run.take_commit(),
            Vec::<Message>::new(),
            "nothing before the first answer"
        );
        let step = run.on_model_turn(turn("hello", &[], 10), &tools());
        assert_eq!(
            step,
            Step::Done {
                output: "hello".into()
            }
        );
        assert_eq!(
            run.take_commit(),
            vec![Message::user("hi"), Message::assistant("hello")]
        );
        assert_eq!(run.usage().total_tokens, 10);
        assert_eq!(run.usage().requests, 1);
    }

    #[test]
    fn tool_calls_are_planned_and_results_kept_in_call_order() {
        let mut run = RunLoop::new(Vec::new(), "go".into(), Limits::default());
        let step = run.on_model_turn(
            turn(
                "working",
                &[("1", "read"), ("2", "nope"), ("3", "delete")],
                5,
            ),
            &tools(),
        );
        let Step::CallTools(planned) = step else {
            panic!("expected tool calls, got {step:?}");
        };
        let plans: Vec<(&str, &Plan)> = planned
            .iter()
            .map(|p| (p.call.id.as_str(), &p.plan))
            .collect();
        assert_eq!(
            plans,
            vec![
                ("1", &Plan::Run),
                (
                    "2",
                    &Plan::Answer(ToolOutput::error(
                        "unknown tool `nope`; the available tools are: read, delete"
                    ))
                ),
                (
                    "3",
                    &Plan::AskFirst {
                        reason: "`delete` is marked destructive".into()
                    }
                ),
            ]
        );
        // While calls are pending only the prompt is final.
        assert_eq!(run.take_commit(), vec![Message::user("go")]);
        run.on_tool_output("3", ToolOutput::text("deleted"));
        run.on_tool_output("2", ToolOutput::error("unknown"));
        run.on_tool_output("1", ToolOutput::text("read it"));
        run.on_tool_output("1", ToolOutput::text("ignored: already answered"));
        assert_eq!(run.after_tools(), Step::CallModel);
        let committed = run.take_commit();
        assert_eq!(
            committed[1..],
            [
                tool_message("1", "read", "read it", false),
                tool_message("2", "nope", "unknown", true),
                tool_message("3", "delete", "deleted", false),
            ]
        );
        assert!(
            History::from_messages(run.messages().to_vec())
                .check()
                .is_ok()
        );
    }

    #[test]
    fn cancelling_answers_every_unfinished_call() {
        let mut run = RunLoop::new(Vec::new(), "go".into(), Limits::default());
        run.on_model_turn(turn("", &[("a", "read"), ("b", "read")], 1), &tools());
        run.on_tool_output("b", ToolOutput::text("done"));
        run.cancel();
        let messages = run.take_commit();
        assert_eq!(
            messages[2..],
            [
                tool_message("a", "read", CANCELLED, true),
                tool_message("b", "read", "done", false)
            ]
        );
        assert!(History::from_messages(messages).check().is_ok());
    }

    #[test]
    fn limits_stop_the_loop_before_more_tools_run() {
        struct Case {
            limits: Limits,
            /// Tokens each model turn reports; every turn calls a tool.
            tokens: u64,
            requests_per_turn: u32,
            expected_turns: u32,
            expected: LimitExceeded,
        }
        let cases = [
            Case {
                limits: Limits::default().with_max_steps(3),
                tokens: 1,
                requests_per_turn: 1,
                expected_turns: 3,
                expected: LimitExceeded::Steps { max: 3 },
            },
            Case {
                limits: Limits::default().with_max_total_tokens(250),
                tokens: 100,
                requests_per_turn: 1,
                expected_turns: 3,
                expected: LimitExceeded::Tokens {
                    used: 300,
                    max: 250,
                },
            },
            Case {
                limits: Limits::default().with_max_requests(4),
                tokens: 1,
                requests_per_turn: 2,
                expected_turns: 2,
                expected: LimitExceeded::Requests { used: 4, max: 4 },
            },
        ];
        for case in cases {
            let mut run = RunLoop::new(Vec::new(), "loop".into(), case.limits);
            let mut step = run.start();
            let mut turns = 0;
            while step == Step::CallModel {
                turns += 1;
                let mut t = turn("again", &[(&format!("c{turns}"), "read")], case.tokens);
                t.requests = case.requests_per_turn;
                step = run.on_model_turn(t, &tools());
                if let Step::CallTools(planned) = &step {
                    for p in planned {
                        run.on_tool_output(&p.call.id, ToolOutput::text("ok"));
                    }
                    step = run.after_tools();
                }
            }
            assert_eq!(step, Step::Stop(case.expected.clone()), "{:?}", case.limits);
            assert_eq!(turns, case.expected_turns, "{:?}", case.limits);
            let history = History::from_messages(run.take_commit());
            assert!(history.check().is_ok(), "{:?}", case.limits);
            let Some(Message::Tool {
                content, is_error, ..
            }) = history.messages().last()
            else {
                panic!("the last call should have a result");
            };
            assert!(
                *is_error && content.starts_with("not run: stopped after"),
                "{content}"
            );
        }
    }

    #[test]
    fn a_zero_step_limit_stops_before_the_first_request() {
        let run = RunLoop::new(Vec::new(), "x".into(), Limits::default().with_max_steps(0));
        assert_eq!(run.start(), Step::Stop(LimitExceeded::Steps { max: 0 }));
    }
}
