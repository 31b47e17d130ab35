//! Choosing a model by name, and where keys and endpoints come from.

use std::collections::HashMap;

use agent::{History, ModelOptions, ModelSpec, Provider, build_model};
use llm_script::{ScriptedLlm, ServerConfig, Turn};
use secrecy::SecretString;

#[test]
fn specs_parse_or_say_what_is_wrong() {
    let cases = [
        ("openai:gpt-5", Ok((Provider::OpenAi, "gpt-5"))),
        (
            "anthropic:claude-sonnet-4-5",
            Ok((Provider::Anthropic, "claude-sonnet-4-5")),
        ),
        ("openai:llama3.1:8b", Ok((Provider::OpenAi, "llama3.1:8b"))),
        (
            " OpenAI:qwen3-coder-max ",
            Ok((Provider::OpenAi, "qwen3-coder-max")),
        ),
        (
            "gpt-5",
            Err(
                "invalid model `gpt-5`: expected `provider:model`, e.g. `openai:gpt-5` or `anthropic:claude-sonnet-4-5`",
            ),
        ),
        (
            "openai:",
            Err(
                "invalid model `openai:`: expected `provider:model`, e.g. `openai:gpt-5` or `anthropic:claude-sonnet-4-5`",
            ),
        ),
        (
            "gemini:pro",
            Err(
                "unknown model provider `gemini` in `gemini:pro`: expected `openai` or `anthropic`",
            ),
        ),
    ];
    for (input, expected) in cases {
        let parsed = ModelSpec::parse(input);
        match expected {
            Ok((provider, model)) => {
                let spec = parsed.unwrap();
                assert_eq!(
                    (spec.provider, spec.model.as_str()),
                    (provider, model),
                    "{input}"
                );
            }
            Err(message) => assert_eq!(parsed.unwrap_err().to_string(), message, "{input}"),
        }
    }
}

#[test]
fn keys_and_base_urls_come_from_the_environment_unless_given() {
    let vars: HashMap<&str, &str> = [
        ("OPENAI_API_KEY", "sk-env"),
        ("OPENAI_BASE_URL", "http://localhost:11434/v1"),
        ("ANTHROPIC_API_KEY", ""),
    ]
    .into();
    let get = |name: &str| vars.get(name).map(|v| (*v).to_owned());
    let openai = ModelOptions::default().with_vars(Provider::OpenAi, get);
    assert_eq!(
        openai.base_url.as_deref(),
        Some("http://localhost:11434/v1")
    );
    assert!(openai.api_key.is_some());
    let explicit = ModelOptions::default()
        .with_base_url("http://vllm:8000/v1")
        .with_vars(Provider::OpenAi, get);
    assert_eq!(
        explicit.base_url.as_deref(),
        Some("http://vllm:8000/v1"),
        "an explicit URL wins"
    );
    let anthropic = ModelOptions::default().with_vars(Provider::Anthropic, get);
    assert!(anthropic.api_key.is_none(), "an empty variable is no key");
    assert!(
        !format!("{openai:?}").contains("sk-env"),
        "keys are redacted in Debug"
    );

    let cases = [
        (
            "anthropic:claude-sonnet-4-5",
            ModelOptions::default(),
            Some("no API key for `anthropic:claude-sonnet-4-5`: set `ANTHROPIC_API_KEY`"),
        ),
        (
            "openai:gpt-5",
            ModelOptions::default(),
            Some("no API key for `openai:gpt-5`: set `OPENAI_API_KEY`"),
        ),
        (
            "openai:llama3.1:8b",
            ModelOptions::default().with_base_url("http://localhost:11434/v1"),
            None,
        ),
        (
            "openai:gpt-5",
            ModelOptions::default()
                .with_base_url("ftp://example.com")
                .with_api_key(SecretString::from("k".to_owned())),
            Some(
                "invalid base URL `ftp://example.com` for `openai:gpt-5`: expected an `http://` or `https://` URL",
            ),
        ),
    ];
    for (spec, options, expected) in cases {
        let built = build_model(&ModelSpec::parse(spec).unwrap(), options);
        match expected {
            Some(message) => assert_eq!(
                built.err().map(|e| e.to_string()).as_deref(),
                Some(message),
                "{spec}"
            ),
            None => assert_eq!(
                built.map(|m| m.name().to_owned()).ok().as_deref(),
                Some(spec)
            ),
        }
    }
}

#[tokio::test]
async fn a_keyless_openai_compatible_server_gets_a_dummy_key() {
    let llm =
        ScriptedLlm::start_with(ServerConfig::new(llm_script::Provider::OpenAi).with_api_key(None))
            .await
            .unwrap();
    llm.push_turn(Turn::text("Hello from a local model."));
    let model = build_model(
        &ModelSpec::parse("openai:qwen3-coder-max").unwrap(),
        ModelOptions::default().with_base_url(format!("{}/", llm.base_url())),
    )
    .unwrap();
    let result = agent::Agent::new(model)
        .run("hi", &mut History::new())
        .await
        .unwrap();
    assert_eq!(result.output, "Hello from a local model.");
    let request = &llm.requests()[0];
    assert_eq!(
        request.path, "/v1/chat/completions",
        "Chat Completions, not the Responses API"
    );
    assert_eq!(request.header("authorization"), Some("Bearer none"));
    assert_eq!(
        request.model(),
        Some("qwen3-coder-max"),
        "the name is sent as written"
    );
    assert!(request.body.get("reasoning_effort").is_none());
}
