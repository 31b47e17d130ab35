//! Provider failures become one-line messages; the retryable ones are retried within limits.

use std::time::{Duration, Instant};

use agent::{Agent, AgentEvent, History, Message, ModelOptions, RetryPolicy, build_model};
use llm_script::{Failure, Provider, Turn};
use secrecy::SecretString;

use crate::support::{PROVIDERS, agent, collect, llm, spec, summary};

fn server_error(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAi => {
            "The server had an error while processing your request. Sorry about that!"
        }
        Provider::Anthropic => "Internal server error",
    }
}

fn key_var(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAi => "OPENAI_API_KEY",
        Provider::Anthropic => "ANTHROPIC_API_KEY",
    }
}

#[tokio::test]
async fn failures_that_retrying_cannot_fix_are_reported_at_once() {
    for provider in PROVIDERS {
        let context = match provider {
            Provider::OpenAi => {
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages."
            }
            Provider::Anthropic => "prompt is too long: 210311 tokens > 200000 maximum",
        };
        let rate = match provider {
            Provider::OpenAi => {
                "Rate limit reached for gpt-5 in organization org-scripted on tokens per min (TPM): Limit 30000, Used 30000, Requested 500. Please try again in 1s."
            }
            Provider::Anthropic => {
                "This request would exceed the rate limit for your organization of 30,000 input tokens per minute."
            }
        };
        let cases = [
            (
                Failure::Unauthorized,
                format!(
                    "{{service}} rejected the key (401): check `{}`",
                    key_var(provider)
                ),
            ),
            (
                Failure::ContextTooLong,
                format!(
                    "the conversation no longer fits the context window of `{}`: {context}",
                    spec(provider)
                ),
            ),
            (
                Failure::RateLimited {
                    retry_after_secs: 3600,
                },
                format!("{{service}} is rate limiting requests (429), retry after 3600s: {rate}"),
            ),
        ];
        for (failure, expected) in cases {
            let llm = llm(provider).await;
            llm.push_turn(Turn::failure(failure.clone()));
            let mut history =
                History::from_messages(vec![Message::user("before"), Message::assistant("after")]);
            let before = history.clone();
            let error = agent(&llm).run("hi", &mut history).await.unwrap_err();
            let service = format!("the model server at `{}`", llm.base_url());
            assert_eq!(
                error.to_string(),
                expected.replace("{service}", &service),
                "{provider} {failure:?}"
            );
            assert_eq!(
                llm.requests().len(),
                1,
                "{provider} {failure:?}: not retried"
            );
            assert_eq!(
                history, before,
                "{provider} {failure:?}: the prompt without an answer is not kept"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_key_names_the_variable_to_check() {
    for provider in PROVIDERS {
        let llm = llm(provider).await;
        let options = ModelOptions::default()
            .with_base_url(llm.base_url())
            .with_api_key(SecretString::from("sk-wrong-key-123456".to_owned()));
        let agent = Agent::new(build_model(&spec(provider), options).unwrap());
        let error = agent
            .run("hi", &mut History::new())
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "the model server at `{}` rejected the key (401): check `{}`",
                llm.base_url(),
                key_var(provider)
            )
        );
        assert!(
            !error.contains("sk-wrong"),
            "the key never reaches a message"
        );
    }
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_time_the_provider_asks() {
    for provider in PROVIDERS {
        let llm = llm(provider).await;
        llm.push_turn(Turn::failure(Failure::RateLimited {
            retry_after_secs: 1,
        }));
        llm.push_turn(Turn::text("Made it."));
        let agent = agent(&llm);
        let started = Instant::now();
        let (events, error) = collect(agent.run_stream("hi", &mut History::new())).await;
        assert!(error.is_none(), "{error:?}");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{provider}: retry-after was honoured"
        );
        let retry = events.iter().find_map(|e| match e {
            AgentEvent::Retrying { attempt, delay, .. } => Some((*attempt, *delay)),
            _ => None,
        });
        assert_eq!(retry, Some((1, Duration::from_secs(1))), "{provider}");
        let Some(AgentEvent::Done { output, usage }) = events.last() else {
            panic!("{events:?}")
        };
        assert_eq!(
            (output.as_str(), usage.requests),
            ("Made it.", 2),
            "{provider}"
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    for provider in PROVIDERS {
        for failures in [2, 4] {
            let llm = llm(provider).await;
            for _ in 0..failures {
                llm.push_turn(Turn::failure(Failure::ServerError));
            }
            llm.push_turn(Turn::text("Recovered."));
            let (events, error) = collect(agent(&llm).run_stream("hi", &mut History::new())).await;
            let retries = events
                .iter()
                .filter(|e| matches!(e, AgentEvent::Retrying { .. }))
                .count();
            if failures <= 3 {
                assert!(error.is_none(), "{provider}: {error:?}");
                assert_eq!(retries, failures, "{provider}");
                assert_eq!(
                    summary(&events).last().map(String::as_str),
                    Some("done: Recovered.")
                );
            } else {
                let message = error.expect("gives up").to_string();
                assert_eq!(
                    message,
                    format!(
                        "the model server at `{}` failed (500): {}",
                        llm.base_url(),
                        server_error(provider)
                    )
                );
                assert_eq!(
                    retries, 3,
                    "{provider}: the default policy retries three times"
                );
                assert_eq!(llm.requests().len(), 4);
            }
        }
    }
}

#[tokio::test]
async fn an_answer_broken_off_after_text_is_not_retried_nor_kept() {
    for provider in PROVIDERS {
        let llm = llm(provider).await;
        llm.push_turn(Turn::failure(Failure::MidStream));
        llm.push_turn(Turn::text("never requested"));
        let mut history = History::new();
        let (events, error) = collect(agent(&llm).run_stream("hi", &mut history)).await;
        assert_eq!(summary(&events), vec!["text: Partial "], "{provider}");
        let cause = match provider {
            Provider::OpenAi => server_error(provider),
            Provider::Anthropic => "Overloaded",
        };
        assert_eq!(
            error.unwrap().to_string(),
            format!(
                "the model server at `{}` broke off the answer: {cause}",
                llm.base_url()
            )
        );
        assert_eq!(
            llm.requests().len(),
            1,
            "{provider}: text was already shown, so no retry"
        );
        assert!(history.is_empty(), "{provider}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_named_after_retries() {
    // A port that was just free is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/v1");
    let options = ModelOptions::default().with_base_url(base.clone());
    let model = build_model(&spec(Provider::OpenAi), options).unwrap();
    let agent = Agent::new(model).with_retry(RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        ..RetryPolicy::default()
    });
    let (events, error) = collect(agent.run_stream("hi", &mut History::new())).await;
    assert_eq!(
        error.unwrap().to_string(),
        format!("the model server at `{base}` is unreachable: connection refused")
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Retrying { .. }))
            .count(),
        3
    );
}
