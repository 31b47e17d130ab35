//! A conversation saved after each turn and loaded to resume: the model sees the earlier turns.

use std::sync::Arc;

use agent::History;
use llm_script::{Entry, Turn};
use serde_json::json;

use crate::support::{Calls, PROVIDERS, agent, llm, local_tools};

#[tokio::test]
async fn a_saved_conversation_resumes_where_it_stopped() {
    for provider in PROVIDERS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conversations").join("chat.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let llm = llm(provider).await;
        llm.push_turn(Turn::default().with_tool_call_id(
            "w1",
            "get_weather",
            json!({"city": "Oslo"}),
        ));
        llm.push_turn(Turn::text("Sunny in Oslo."));
        let agent = agent(&llm).with_toolset(Arc::new(local_tools(&Calls::default())));

        let mut history = History::open(&path).unwrap();
        agent.run("Weather in Oslo?", &mut history).await.unwrap();
        let saved = std::fs::read_to_string(&path).unwrap();
        assert!(saved.starts_with("{\n  \"version\": 1,"), "{saved}");

        // A new process: load the file and go on.
        let mut resumed = History::load(&path).unwrap();
        assert_eq!(resumed, history);
        llm.push_turn(Turn::text("Rain tomorrow."));
        agent.run("And tomorrow?", &mut resumed).await.unwrap();
        let transcript = llm.requests().last().unwrap().transcript();
        assert_eq!(
            transcript,
            vec![
                Entry::System {
                    text: "You drive Bitbucket.".into()
                },
                Entry::User {
                    text: "Weather in Oslo?".into()
                },
                Entry::Assistant {
                    text: String::new(),
                    tool_calls: vec![llm_script::SeenCall {
                        id: "w1".into(),
                        name: "get_weather".into(),
                        arguments: json!({"city": "Oslo"})
                    }],
                },
                Entry::ToolResult {
                    call_id: "w1".into(),
                    content: r#"{"city":"Oslo","sky":"sunny"}"#.into(),
                    is_error: false
                },
                Entry::Assistant {
                    text: "Sunny in Oslo.".into(),
                    tool_calls: vec![]
                },
                Entry::User {
                    text: "And tomorrow?".into()
                },
            ],
            "{provider}"
        );
        assert_eq!(
            History::load(&path).unwrap().len(),
            6,
            "{provider}: the second run was saved too"
        );
    }
}
