//! The offline model's reading of a request (`local_model::LocalModel::decide`), over the real
//! tool catalogue: the first line is the system instructions (the defaults), the rest the
//! user's request. Each call it plans gets a result (a failure when the first byte is odd)
//! and it decides again, a few steps at most; every call names an offered tool with an
//! object of arguments.

#![no_main]

use std::sync::LazyLock;

use agent::{Message, ModelRequest, ModelSettings, ToolAnnotations, ToolCall, ToolDefinition};
use bitbucket_toolkit::Toolkit;
use libfuzzer_sys::fuzz_target;
use local_model::LocalModel;
use local_model::plan::Action;
use serde_json::{Value, json};

static TOOLS: LazyLock<Vec<ToolDefinition>> = LazyLock::new(|| {
    Toolkit::catalogue()
        .iter()
        .map(|spec| {
            let mut annotations = ToolAnnotations::default()
                .read_only(spec.annotations.read_only)
                .destructive(spec.annotations.destructive)
                .idempotent(spec.annotations.idempotent);
            annotations.title = Some(spec.title.to_owned());
            ToolDefinition::new(
                spec.name,
                spec.description,
                Value::Object(spec.input_schema()),
            )
            .with_annotations(annotations)
        })
        .collect()
});

/// A plain result with ids, names and links, as list tools give.
fn result() -> Value {
    json!({"items": [
        {"id": 2, "title": "Add dark mode", "state": "open", "name": "feature/dark-mode",
         "slug": "widgets", "full_name": "acme/widgets", "html": "http://x/acme/widgets/issues/2"},
    ], "page": 1, "pagelen": 10, "has_more": false})
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let failing = data.first().is_some_and(|b| b % 2 == 1);
    let (instructions, prompt) = text.split_once('\n').unwrap_or(("", text));
    let model = LocalModel::new();
    let mut messages = vec![Message::user(prompt)];
    for step in 0..4 {
        let request = ModelRequest {
            instructions: Some(instructions.to_owned()),
            messages: messages.clone(),
            tools: TOOLS.clone(),
            settings: ModelSettings::default(),
        };
        match model.decide(&request) {
            Action::Reply(_) => return,
            Action::Call { name, arguments } => {
                assert!(
                    TOOLS.iter().any(|t| t.name == name),
                    "called `{name}`, which is not offered"
                );
                assert!(arguments.is_object(), "arguments of `{name}`: {arguments}");
                let id = format!("call-{step}");
                messages.push(Message::Assistant {
                    content: String::new(),
                    tool_calls: vec![ToolCall {
                        id: id.clone(),
                        name: name.clone(),
                        arguments,
                    }],
                });
                messages.push(Message::Tool {
                    call_id: id,
                    name,
                    content: if failing {
                        "bitbucket said 404 Not Found".into()
                    } else {
                        "ok".into()
                    },
                    is_error: failing,
                    structured: (!failing).then(result),
                });
            }
        }
    }
});
