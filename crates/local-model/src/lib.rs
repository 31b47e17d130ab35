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
//!   replays the calls already made in this turn to decide the next one;
//! - [`router`] runs the same planner behind a tool router's search and executor meta-tools.

pub mod catalogue;
pub mod focus;
pub mod help;
pub mod lexicon;
pub mod plan;
pub mod router;
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
        match router::Router::detect(&request.tools) {
            Some(router) => router.decide(request, |direct| self.decide_direct(direct)),
            None => self.decide_direct(request),
        }
    }

    /// The next step against a catalogue of the tools themselves.
    fn decide_direct(&self, request: &ModelRequest) -> Action {
        let catalogue = Catalogue::new(&request.tools);
        let messages = &request.messages;
        let Some(user_at) = messages
            .iter()
            .rposition(|m| matches!(m, Message::User { .. }))
        else {
            return Action::Reply(help::reply("", &catalogue, None));
        };
        let Message::User { content: prompt } = &messages[user_at] else {
            return Action::Reply(help::reply("", &catalogue, None));
        };
        let earlier = &messages[..user_at];
        let mut focus = Focus::from_instructions(request.instructions.as_deref());
        focus.read_history(earlier, &catalogue);
        focus.unless_referred_to(prompt);
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
                    content: crate::text::unmarked(content),
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
                "BITBUCKET_LIST_MIRRORS",
                "Lists a repository's mirrors, with their state.",
                json!({"type": "object", "required": ["workspace", "repo_slug"], "properties": {
                    "workspace": {"type": "string"},
                    "repo_slug": {"type": "string"},
                    "status": {"type": "string", "enum": ["SYNCED", "PAUSED", "DISABLED"]},
                }}),
            )
            .with_annotations(ToolAnnotations::default().read_only(true)),
        );
        let (name, args) = call(LocalModel.decide(&request(
            tools,
            vec![Message::user("show paused mirrors in acme/website")],
        )));
        assert_eq!(name, "BITBUCKET_LIST_MIRRORS");
        assert_eq!(
            args,
            json!({"workspace": "acme", "repo_slug": "website", "status": "PAUSED"})
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
    /// A user request and one finished call made for it, as the history holds them.
    fn exchange(
        request: &str,
        name: &str,
        arguments: Value,
        content: &str,
        is_error: bool,
        structured: Option<Value>,
    ) -> Vec<Message> {
        vec![
            Message::user(request),
            Message::Assistant {
                content: String::new(),
                tool_calls: vec![ToolCall {
                    id: format!("c-{request}"),
                    name: name.into(),
                    arguments,
                }],
            },
            Message::Tool {
                call_id: format!("c-{request}"),
                name: name.into(),
                content: content.into(),
                is_error,
                structured,
            },
            Message::assistant(content),
        ]
    }

    fn reply(action: Action) -> String {
        match action {
            Action::Reply(text) => text,
            Action::Call { name, arguments } => panic!("expected a reply, got {name} {arguments}"),
        }
    }

    #[test]
    fn a_comment_on_a_pull_request_is_never_posted_on_an_issue() {
        // A server without pull request comments: the model says so instead.
        let tools = testing::definitions_before_reviews();
        let mut messages = exchange(
            "comment 'first' on issue 2",
            "BITBUCKET_CREATE_ISSUE_COMMENT",
            json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 2, "content": "first"}),
            "Added comment 1 on issue #2 of acme/widgets",
            false,
            Some(json!({"id": 1})),
        );
        messages.push(Message::user("comment 'looks good' on PR 1"));
        let text = reply(LocalModel.decide(&request(tools.clone(), messages.clone())));
        assert!(
            text.starts_with("There is no tool to comment on pull requests in this catalogue"),
            "{text}"
        );
        assert!(!text.contains("OPENAI_API_KEY"), "{text}");
        messages.pop();
        messages.extend(exchange(
            "show me PR 1",
            "BITBUCKET_GET_PULL_REQUEST",
            json!({"workspace": "acme", "repo_slug": "widgets", "pull_request_id": 1}),
            "Pull request #1",
            false,
            Some(json!({"id": 1, "title": "Add login form"})),
        ));
        messages.push(Message::user("add a comment to it saying ship it"));
        let text = reply(LocalModel.decide(&request(tools, messages)));
        assert!(text.contains("comment on pull requests"), "{text}");
    }

    #[test]
    fn a_deleted_repository_leaves_the_focus() {
        let tools = testing::definitions();
        let mut messages = exchange(
            "delete repository acme/website",
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "website"}),
            "Deleted repository acme/website",
            false,
            Some(json!({"repository": "acme/website", "deleted": true})),
        );
        messages.push(Message::user("list open issues"));
        let (name, args) = call(LocalModel.decide(&request(tools.clone(), messages.clone())));
        assert_eq!(name, "BITBUCKET_LIST_ISSUES");
        assert_eq!(args["repo_slug"], json!("widgets"), "back to the default");
        // With no default, nothing is left to go to: it asks.
        let text = reply(LocalModel.decide(&ModelRequest {
            instructions: None,
            ..request(tools, messages)
        }));
        assert!(text.contains("Which repository"), "{text}");
    }

    #[test]
    fn a_one_off_repository_does_not_replace_the_default() {
        let tools = testing::definitions();
        let mut messages = exchange(
            "show me the readme of the website repo",
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "website", "path": "README.md"}),
            "# Website",
            false,
            Some(json!({"path": "README.md"})),
        );
        messages.push(Message::user("list open pull requests"));
        let (_, args) = call(LocalModel.decide(&request(tools.clone(), messages.clone())));
        assert_eq!(args["repo_slug"], json!("widgets"));
        messages.pop();
        messages.push(Message::user("and its branches?"));
        let (name, args) = call(LocalModel.decide(&request(tools, messages)));
        assert_eq!(name, "BITBUCKET_LIST_BRANCHES");
        assert_eq!(args["repo_slug"], json!("website"));
    }

    #[test]
    fn a_file_named_after_a_listing_is_read_from_that_folder_and_ref() {
        let tools = testing::definitions();
        let mut messages = exchange(
            "what's in src on develop",
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            json!({"workspace": "acme", "repo_slug": "widgets", "path": "src", "commit": "develop"}),
            "Contents of `src`",
            false,
            Some(json!({"path": "src", "commit": "develop", "items": [
                {"path": "src/lib.rs", "type": "file"},
                {"path": "src/main.rs", "type": "file"},
            ]})),
        );
        messages.push(Message::user("show me lib.rs"));
        let (name, args) = call(LocalModel.decide(&request(tools, messages)));
        assert_eq!(name, "BITBUCKET_GET_FILE_FROM_REPOSITORY");
        assert_eq!(args["path"], json!("src/lib.rs"));
        assert_eq!(args["commit"], json!("develop"));
    }

    #[test]
    fn tool_failures_are_retold_without_tool_names() {
        let tools = testing::definitions();
        let mut messages = vec![Message::user("list branches in acme/ghost")];
        messages.push(Message::Assistant {
            content: String::new(),
            tool_calls: vec![ToolCall {
                id: "a".into(),
                name: "BITBUCKET_LIST_BRANCHES".into(),
                arguments: json!({"workspace": "acme", "repo_slug": "ghost"}),
            }],
        });
        messages.push(Message::Tool {
            call_id: "a".into(),
            name: "BITBUCKET_LIST_BRANCHES".into(),
            content: "repository `acme/ghost` not found (check the workspace and slug; BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE lists them); bitbucket said: 404 Repository acme/ghost not found".into(),
            is_error: true,
            structured: None,
        });
        let text = reply(LocalModel.decide(&request(tools.clone(), messages)));
        assert!(!text.contains("BITBUCKET_"), "{text}");
        assert!(!text.contains("bitbucket said"), "{text}");
        assert!(
            text.starts_with("Could not list branches: repository `acme/ghost` not found"),
            "{text}"
        );
        assert!(text.contains("ask me to “list repositories"), "{text}");

        let mut messages = vec![Message::user("open a PR from feature/x into main")];
        messages.push(Message::Assistant {
            content: String::new(),
            tool_calls: vec![ToolCall {
                id: "b".into(),
                name: "BITBUCKET_CREATE_PULL_REQUEST".into(),
                arguments: json!({"workspace": "acme", "repo_slug": "widgets", "source_branch": "feature/x", "destination_branch": "main", "title": "X"}),
            }],
        });
        messages.push(Message::Tool {
            call_id: "b".into(),
            name: "BITBUCKET_CREATE_PULL_REQUEST".into(),
            content: "bitbucket refused to create a pull request from `feature/x` in `acme/widgets`: 400 Bad request: There are no changes to be pulled; next step: a pull request needs commits on the source branch that the destination lacks: commit a change to the branch first, or pick a branch with changes".into(),
            is_error: true,
            structured: None,
        });
        let text = reply(LocalModel.decide(&request(tools, messages)));
        assert_eq!(
            text,
            "Could not create pull request: a pull request needs commits on the source branch \
             that the destination lacks: commit a change to the branch first, or pick a branch \
             with changes"
        );
    }
}
