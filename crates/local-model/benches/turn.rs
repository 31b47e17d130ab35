//! How long the offline model takes per turn, tool time excluded: every model request of a
//! turn (the calls it plans, then its reply), over the real 25-tool catalogue and a history of
//! earlier turns. Run with `cargo bench -p local-model --bench turn` (or `./scripts/bench`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent::{Message, ModelRequest, ModelSettings, ToolAnnotations, ToolCall, ToolDefinition};
use bitbucket_toolkit::Toolkit;
use local_model::LocalModel;
use local_model::plan::Action;
use serde_json::{Value, json};

fn catalogue() -> Vec<ToolDefinition> {
    Toolkit::catalogue()
        .iter()
        .map(|spec| {
            let mut annotations = ToolAnnotations::default()
                .read_only(spec.annotations.read_only)
                .destructive(spec.annotations.destructive);
            annotations.title = Some(spec.title.to_owned());
            ToolDefinition::new(
                spec.name,
                spec.description,
                Value::Object(spec.input_schema()),
            )
            .with_annotations(annotations)
        })
        .collect()
}

/// Earlier turns: a branch created and issues listed, with their results.
fn earlier_turns() -> Vec<Message> {
    let mut messages = Vec::new();
    for turn in 0..5 {
        let id = format!("c{turn}");
        messages.push(Message::user("list open issues in acme/widgets"));
        messages.push(Message::Assistant {
            content: String::new(),
            tool_calls: vec![ToolCall {
                id: id.clone(),
                name: "BITBUCKET_LIST_ISSUES".into(),
                arguments: json!({"workspace": "acme", "repo_slug": "widgets"}),
            }],
        });
        messages.push(Message::Tool {
            call_id: id,
            name: "BITBUCKET_LIST_ISSUES".into(),
            content: "Issues of acme/widgets: #2 Add dark mode, #1 Crash when saving".into(),
            is_error: false,
            structured: Some(issues()),
        });
        messages.push(Message::assistant("Issues of acme/widgets: ..."));
    }
    messages
}

fn issues() -> Value {
    json!({"items": [
        {"id": 2, "title": "Add dark mode", "state": "open", "html": "http://x/acme/widgets/issues/2"},
        {"id": 1, "title": "Crash when saving settings", "state": "new", "html": "http://x/acme/widgets/issues/1"}
    ], "page": 1, "pagelen": 10, "has_more": false})
}

/// One turn: asks the model, feeds each planned call a canned result, until it replies.
/// Returns the model's time only.
fn turn(model: &LocalModel, tools: &[ToolDefinition], prompt: &str) -> (Duration, usize) {
    let mut messages = earlier_turns();
    messages.push(Message::user(prompt));
    let mut spent = Duration::ZERO;
    for step in 0.. {
        let request = ModelRequest {
            instructions: Some("use workspace `acme` and repository `widgets`".into()),
            messages: messages.clone(),
            tools: tools.to_vec(),
            settings: ModelSettings::default(),
        };
        let started = Instant::now();
        let action = black_box(model.decide(black_box(&request)));
        spent += started.elapsed();
        match action {
            Action::Reply(_) => return (spent, step + 1),
            Action::Call { name, arguments } => {
                let id = format!("t{step}");
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
                    content: "ok".into(),
                    is_error: false,
                    structured: Some(issues()),
                });
            }
        }
    }
    unreachable!()
}

fn main() {
    let tools = catalogue();
    let model = LocalModel::new();
    let rounds = if std::env::args().any(|a| a == "--quick") {
        20
    } else {
        400
    };
    let prompts = [
        "create a new branch feature/dark-mode off main",
        "comment \"I can reproduce this\" on the latest open issue",
        "create a branch for issue 2",
        "list open pull requests",
        "what's the weather in Paris?",
    ];
    println!(
        "offline model, time per turn (model only, {} tools, 20 earlier messages)",
        tools.len()
    );
    for prompt in prompts {
        let mut samples: Vec<Duration> = Vec::new();
        let mut requests = 0;
        for _ in 0..rounds {
            let (spent, steps) = turn(&model, &tools, prompt);
            samples.push(spent);
            requests = steps;
        }
        samples.sort();
        let median = samples[samples.len() / 2];
        let p99 = samples[samples.len() * 99 / 100];
        println!(
            "  {prompt:58} {requests} requests  median {:>7.1} µs  p99 {:>7.1} µs",
            median.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
    }
}
