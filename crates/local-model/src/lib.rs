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

#[cfg(test)]
mod tests {
    use agent::{ModelSettings, ToolAnnotations, ToolDefinition};
    use serde_json::{Value, json};

    use super::*;

    fn request(tools: Vec<ToolDefinition>, messages: Vec<Message>) -> ModelRequest {
        ModelRequest {
            instructions: Some("use workspace `acme` and repository `widgets`".into()),
            messages,
            tools,
            settings: ModelSettings::default(),
        }
    }

    fn call(action: Action) -> (String, Value) {
        match action {
            Action::Call { name, arguments } => (name, arguments),
            Action::Reply(text) => panic!("expected a call, got {text:?}"),
        }
    }

    #[test]
    fn a_new_tool_is_usable_from_its_catalogue_entry_alone() {
        let mut tools = testing::definitions();
        tools.push(
            ToolDefinition::new(
                "BITBUCKET_LIST_PIPELINES",
                "Lists a repository's pipeline runs, newest first, with their state.",
                json!({"type": "object", "required": ["workspace", "repo_slug"], "properties": {
                    "workspace": {"type": "string"},
                    "repo_slug": {"type": "string"},
                    "status": {"type": "string", "enum": ["PENDING", "FAILED", "SUCCESSFUL"]},
                }}),
            )
            .with_annotations(ToolAnnotations::default().read_only(true)),
        );
        let (name, args) = call(LocalModel.decide(&request(
            tools,
            vec![Message::user("show failed pipelines in acme/website")],
        )));
        assert_eq!(name, "BITBUCKET_LIST_PIPELINES");
        assert_eq!(
            args,
            json!({"workspace": "acme", "repo_slug": "website", "status": "FAILED"})
        );
    }

    #[test]
    fn a_plan_resumes_from_the_results_in_the_history() {
        let tools = testing::definitions();
        let mut messages = vec![Message::user("comment 'on it' on the latest open issue")];
        let (name, args) = call(LocalModel.decide(&request(tools.clone(), messages.clone())));
        assert_eq!(name, "BITBUCKET_LIST_ISSUES");
        messages.push(Message::Assistant {
            content: String::new(),
            tool_calls: vec![ToolCall {
                id: "a".into(),
                name,
                arguments: args,
            }],
        });
        messages.push(Message::Tool {
            call_id: "a".into(),
            name: "BITBUCKET_LIST_ISSUES".into(),
            content: "Issues ...".into(),
            is_error: false,
            structured: Some(json!({"items": [{"id": 7}, {"id": 5}]})),
        });
        let (name, args) = call(LocalModel.decide(&request(tools, messages)));
        assert_eq!(name, "BITBUCKET_CREATE_ISSUE_COMMENT");
        assert_eq!(args["issue_id"], json!(7));
        assert_eq!(args["content"], json!("on it"));
    }

    #[test]
    fn a_question_names_what_is_missing_and_the_answer_completes_it() {
        let tools = testing::definitions();
        let ask = LocalModel.decide(&ModelRequest {
            instructions: None,
            ..request(tools.clone(), vec![Message::user("delete issue 3")])
        });
        let Action::Reply(question) = ask else {
            panic!("expected a question")
        };
        assert!(
            question.contains("Which repository") && question.ends_with('?'),
            "{question}"
        );
        let (name, args) = call(LocalModel.decide(&ModelRequest {
            instructions: None,
            ..request(
                tools,
                vec![
                    Message::user("delete issue 3"),
                    Message::assistant(question),
                    Message::user("it's in acme/widgets"),
                ],
            )
        }));
        assert_eq!(name, "BITBUCKET_DELETE_ISSUE");
        assert_eq!(
            args,
            json!({"issue_id": 3, "workspace": "acme", "repo_slug": "widgets"})
        );
    }
}
