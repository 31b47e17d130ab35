//! The conversation as a person reads it (`/history` in the chat): who said what, and one
//! line per tool call with its outcome, never the raw JSON of the history file.

use agent::Message;

use super::{arguments_summary, short, tool_words};

/// The transcript of `messages`: `you:` and `bbagent:` turns, tool calls between them.
pub fn transcript(messages: &[Message]) -> String {
    let mut out = String::new();
    for message in messages {
        match message {
            // The instructions are the program's, not the conversation's.
            Message::System { .. } => {}
            Message::User { content } => push_turn(&mut out, "you", content),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                for call in tool_calls {
                    let outcome = messages.iter().find_map(|m| match m {
                        Message::Tool {
                            call_id,
                            is_error,
                            content,
                            ..
                        } if *call_id == call.id => Some((*is_error, content.as_str())),
                        _ => None,
                    });
                    let summary = arguments_summary(&call.arguments);
                    let mut line = tool_words(&call.name);
                    if !summary.is_empty() {
                        line.push_str(&format!(" · {summary}"));
                    }
                    let line = match outcome {
                        Some((false, _)) => format!("  ✓ {line}\n"),
                        Some((true, error)) => format!(
                            "  ✗ {line}: {}\n",
                            short(error.lines().next().unwrap_or("").trim(), 160)
                        ),
                        None => format!("  … {line} (no result)\n"),
                    };
                    out.push_str(&line);
                }
                if !content.trim().is_empty() {
                    push_turn(&mut out, "bbagent", content);
                }
            }
            Message::Tool { .. } => {}
        }
    }
    if out.is_empty() {
        out.push_str("(the conversation is empty)\n");
    }
    out
}

fn push_turn(out: &mut String, who: &str, text: &str) {
    let mut lines = text.trim().lines();
    out.push_str(&format!("{who}: {}\n", lines.next().unwrap_or("")));
    let indent = " ".repeat(who.len() + 2);
    for line in lines {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{indent}{line}\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use agent::ToolCall;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_conversation_reads_as_turns_with_tool_lines() {
        let messages = vec![
            Message::system("You are bbagent."),
            Message::user("create a branch x off main"),
            Message::Assistant {
                content: String::new(),
                tool_calls: vec![
                    ToolCall {
                        id: "1".into(),
                        name: "BITBUCKET_CREATE_BRANCH".into(),
                        arguments: json!({"workspace": "acme", "repo_slug": "widgets", "name": "x", "target": "main"}),
                    },
                    ToolCall {
                        id: "2".into(),
                        name: "BITBUCKET_DELETE_BRANCH".into(),
                        arguments: json!({"workspace": "acme", "repo_slug": "widgets", "name": "y"}),
                    },
                ],
            },
            Message::Tool {
                call_id: "1".into(),
                name: "BITBUCKET_CREATE_BRANCH".into(),
                content: "{\"name\":\"x\"}".into(),
                is_error: false,
                structured: None,
            },
            Message::Tool {
                call_id: "2".into(),
                name: "BITBUCKET_DELETE_BRANCH".into(),
                content: "the user denied running it\nsecond line".into(),
                is_error: true,
                structured: None,
            },
            Message::assistant("Created branch **x**.\n\nIt points at main."),
        ];
        assert_eq!(
            transcript(&messages),
            "you: create a branch x off main\n\
             \x20 ✓ create branch · acme/widgets · x · main\n\
             \x20 ✗ delete branch · acme/widgets · y: the user denied running it\n\
             bbagent: Created branch **x**.\n\
             \n\
             \x20        It points at main.\n"
        );
    }

    #[test]
    fn an_empty_conversation_says_so() {
        assert_eq!(
            transcript(&[Message::system("x")]),
            "(the conversation is empty)\n"
        );
    }
}
