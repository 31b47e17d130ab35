//! The offline model: `local`. It needs no network and no weights. It reads the tool
//! catalogue it is offered (names, argument names, types, enums and annotations) and a small
//! domain lexicon, turns a plain-English Bitbucket request into tool calls, and answers with
//! what the tools returned. It is deterministic: the same conversation gives the same calls.
//!
//! It is an [`agent::Model`] like any other, so it runs in the same loop, through the same
//! MCP toolset and approval gate. Everything it knows about earlier turns comes from the
//! messages it is given (each turn may run in a new process):
//!
//! - [`focus`] reads the workspace, repository, branch, issue and pull request last mentioned
//!   or returned, over the defaults the instructions name;
//! - [`understand`] picks the tool a request asks for and reads argument values from it;
//! - [`plan`] fills what is missing (the latest open issue, the README's real name, a branch
//!   name from an issue's title), asks one question when something cannot be found, and
//!   replays the calls already made in this turn to decide the next one.

pub mod catalogue;
pub mod focus;
pub mod lexicon;
pub mod plan;
pub mod text;
pub mod understand;

#[cfg(test)]
mod testing;

use std::collections::HashMap;

use agent::model::FinishReason;
use agent::{Message, Model, ModelError, ModelEvent, ModelRequest, TokenUsage, ToolCall};
use futures::stream::{self, BoxStream, StreamExt as _};

use crate::catalogue::Catalogue;
use crate::focus::{Focus, Outcome};
use crate::plan::{Action, Planner};

/// The name users choose it by.
pub const NAME: &str = "local";

/// The offline model.
#[derive(Debug, Clone, Default)]
pub struct LocalModel;

impl LocalModel {
    pub fn new() -> Self {
        LocalModel
    }

    /// The next step for a request: a tool call or the reply. Pure and synchronous.
    pub fn decide(&self, request: &ModelRequest) -> Action {
        let catalogue = Catalogue::new(&request.tools);
        let messages = &request.messages;
        let Some(user_at) = messages
            .iter()
            .rposition(|m| matches!(m, Message::User { .. }))
        else {
            return Action::Reply(plan::help(&catalogue));
        };
        let Message::User { content: prompt } = &messages[user_at] else {
            return Action::Reply(plan::help(&catalogue));
        };
        let earlier = &messages[..user_at];
        let mut focus = Focus::from_instructions(request.instructions.as_deref());
        focus.read_history(earlier, &catalogue);
        // The question our previous answer asked, if it ended with one.
        let pending = earlier.iter().rev().find_map(|m| match m {
            Message::Assistant {
                content,
                tool_calls,
            } if tool_calls.is_empty() => Some(content.as_str()),
            Message::User { .. } => Some(""),
            _ => None,
        });
        let done = this_turn(&messages[user_at + 1..]);
        Planner::new(&catalogue, focus, &done).run(prompt, pending.filter(|p| !p.is_empty()))
    }
}

/// The calls made since the user's message, each with its result.
fn this_turn(messages: &[Message]) -> Vec<(String, serde_json::Value, Outcome)> {
    let mut results: HashMap<&str, Outcome> = HashMap::new();
    for message in messages {
        if let Message::Tool {
            call_id,
            content,
            is_error,
            structured,
            ..
        } = message
        {
            results.insert(
                call_id.as_str(),
                Outcome {
                    content: content.clone(),
                    is_error: *is_error,
                    structured: structured.clone(),
                },
            );
        }
    }
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Assistant { tool_calls, .. } => Some(tool_calls),
            _ => None,
        })
        .flatten()
        .filter_map(|call| {
            let outcome = results.get(call.id.as_str())?.clone();
            Some((call.name.clone(), call.arguments.clone(), outcome))
        })
        .collect()
}

impl Model for LocalModel {
    fn name(&self) -> &str {
        NAME
    }

    fn stream(&self, request: ModelRequest) -> BoxStream<'static, Result<ModelEvent, ModelError>> {
        let step = request
            .messages
            .iter()
            .filter(|m| matches!(m, Message::Assistant { .. }))
            .count();
        let events: Vec<Result<ModelEvent, ModelError>> = match self.decide(&request) {
            Action::Call { name, arguments } => vec![
                Ok(ModelEvent::ToolCall(ToolCall {
                    id: format!("local-{step}"),
                    name,
                    arguments,
                })),
                Ok(ModelEvent::Usage(TokenUsage::default())),
                Ok(ModelEvent::Finished(FinishReason::ToolCalls)),
            ],
            Action::Reply(text) => {
                let mut events: Vec<_> = text
                    .split_inclusive('\n')
                    .map(|line| Ok(ModelEvent::TextDelta(line.to_owned())))
                    .collect();
                events.push(Ok(ModelEvent::Usage(TokenUsage::default())));
                events.push(Ok(ModelEvent::Finished(FinishReason::Stop)));
                events
            }
        };
        stream::iter(events).boxed()
    }
}
