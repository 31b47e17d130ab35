//! Tool arguments, through `bitbucket_toolkit::Toolkit::call`: the input is `TOOL_NAME\n`
//! followed by the arguments as JSON. The client points at a closed loopback port, so
//! arguments that pass every check end in a refused connection, never in a request elsewhere.
//! Only an unknown name is an `Err`; everything else is an outcome, a failure with a message.

#![no_main]

use std::sync::LazyLock;

use bitbucket_client::{Client, ClientConfig, RetryPolicy};
use bitbucket_toolkit::Toolkit;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokio::runtime::Runtime;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
});

static TOOLKIT: LazyLock<Toolkit> = LazyLock::new(|| {
    let _entered = RUNTIME.enter();
    // Port 1 on loopback refuses connections at once.
    let config = ClientConfig::new("http://127.0.0.1:1/2.0").with_retry(RetryPolicy::none());
    Toolkit::new(Client::new(config).expect("a client for loopback"))
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, arguments) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(arguments) = serde_json::from_str::<Value>(arguments) else {
        return;
    };
    let known = Toolkit::find(name).is_some();
    match RUNTIME.block_on(TOOLKIT.call(name, arguments)) {
        Ok(outcome) => {
            assert!(known, "`{name}` is no tool but ran");
            if outcome.is_error {
                assert!(!outcome.text.trim().is_empty(), "a failure says why");
                assert!(outcome.structured.is_none());
            }
        }
        Err(unknown) => {
            assert!(!known, "`{name}` is a tool but was refused as unknown");
            assert!(unknown.to_string().starts_with("unknown tool `"));
        }
    }
});
