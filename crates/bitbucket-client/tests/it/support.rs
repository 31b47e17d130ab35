//! Starting a seeded sandbox and building clients for it.

use std::time::Duration;

use bitbucket_client::{Auth, Client, ClientConfig, Error, RepoId, RetryPolicy};
use bitbucket_sandbox::{ALICE_TOKEN, BOB_TOKEN, DEMO_EMAIL, DEMO_TOKEN, Sandbox, SandboxConfig};
use tempfile::TempDir;

/// Wrong tokens used by the tests; like the real ones, they must never appear in an error.
pub const WRONG_API_TOKEN: &str = "wrong-api-token-5f3a9c";
pub const WRONG_BEARER: &str = "wrong-bearer-token-8e21d7";

/// A running sandbox with the seed data, and the folder it keeps its data in.
///
/// Fields drop in order: the server stops before its folder is removed.
pub struct Env {
    pub sandbox: Sandbox,
    _dir: TempDir,
}

/// The id of a seeded repository.
pub fn repo(workspace: &str, slug: &str) -> RepoId {
    RepoId::new(workspace, slug).expect("valid repository id")
}

pub async fn start() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("sandbox starts");
    Env { sandbox, _dir: dir }
}

impl Env {
    /// A client with `auth` and `retry`, and default timeouts.
    pub fn client_with(&self, auth: Auth, retry: RetryPolicy) -> Client {
        Client::new(
            ClientConfig::new(self.sandbox.base_url())
                .with_auth(auth)
                .with_retry(retry),
        )
        .expect("client builds")
    }

    /// The demo user (workspace owner) with an API token, sent as HTTP Basic.
    pub fn demo(&self) -> Client {
        self.client_with(Auth::api_token(DEMO_EMAIL, DEMO_TOKEN), RetryPolicy::fast())
    }

    /// A user by access token, sent as Bearer.
    pub fn bearer(&self, token: &str) -> Client {
        self.client_with(Auth::bearer(token), RetryPolicy::fast())
    }

    pub fn alice(&self) -> Client {
        self.bearer(ALICE_TOKEN)
    }

    pub fn bob(&self) -> Client {
        self.bearer(BOB_TOKEN)
    }

    pub fn anonymous(&self) -> Client {
        self.client_with(Auth::Anonymous, RetryPolicy::fast())
    }

    /// Requests the sandbox has received so far, faulted ones included.
    pub fn requests(&self) -> u64 {
        self.sandbox.request_count()
    }
}

/// A retry policy generous enough to ride out a 20% fault rate, with millisecond waits.
pub fn patient() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(10)
        .with_base_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(50))
}

/// The API error inside `err`, failing the test with the whole error otherwise.
pub fn api(err: &Error) -> &bitbucket_client::ApiError {
    err.api()
        .unwrap_or_else(|| panic!("expected an api error, got {err:?}"))
}

/// Asserts that neither `Display` nor `Debug` of `err` reveals a credential.
pub fn assert_no_secret(err: &Error) {
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{DEMO_EMAIL}:{DEMO_TOKEN}"));
    let text = format!("{err} {err:?} {err:#?}");
    for secret in [
        DEMO_TOKEN,
        ALICE_TOKEN,
        BOB_TOKEN,
        WRONG_API_TOKEN,
        WRONG_BEARER,
        basic.as_str(),
    ] {
        assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
    }
}
