//! MCP toolsets against the real Bitbucket MCP server (over the sandbox): Streamable HTTP with
//! an `x-api-key` header in both protocol eras, stdio, a server restart, and confirmation.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use agent::{
    AgentEvent, ApprovalDecision, ApprovalRequest, History, McpConfig, McpProtocol, McpToolset,
    ToolCall, ToolContext, Toolset as _, approver_fn,
};
use bitbucket_client::{Auth, Client, ClientConfig};
use bitbucket_mcp::http::{HttpOptions, HttpServer};
use bitbucket_mcp::{BitbucketMcp, ServerOptions};
use bitbucket_sandbox::{Sandbox, SandboxConfig};
use bitbucket_toolkit::Toolkit;
use llm_script::{Entry, Provider, Turn};
use secrecy::SecretString;
use serde_json::json;
use tempfile::TempDir;

use crate::support::{agent, collect, llm, repo, summary};

const KEY: &str = "mcp-test-key";

struct Env {
    _dir: TempDir,
    _sandbox: Sandbox,
    bitbucket: Client,
    handler: BitbucketMcp,
    server: Option<HttpServer>,
    addr: SocketAddr,
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("test setup works");
        let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
            .await
            .expect("test setup works");
        let bitbucket = Client::new(
            ClientConfig::new(sandbox.base_url())
                .with_auth(Auth::api_token("demo@example.com", "sandbox-token")),
        )
        .expect("test setup works");
        let handler = BitbucketMcp::new(Toolkit::new(bitbucket.clone()), ServerOptions::default())
            .expect("test setup works");
        let server = serve(&handler, "127.0.0.1:0".parse().expect("test setup works")).await;
        let addr = server.addr();
        Self {
            _dir: dir,
            _sandbox: sandbox,
            bitbucket,
            handler,
            server: Some(server),
            addr,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    fn config(&self, protocol: McpProtocol) -> McpConfig {
        McpConfig::http("bitbucket", self.url())
            .with_header("x-api-key", SecretString::from(KEY.to_owned()))
            .with_protocol(protocol)
    }

    /// Stops the server and starts a new one on the same address: every session is gone.
    async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        self.server = Some(serve(&self.handler, self.addr).await);
    }

    async fn branch_exists(&self, name: &str) -> bool {
        match self
            .bitbucket
            .get_branch(&repo("acme", "widgets"), name)
            .await
        {
            Ok(_) => true,
            Err(e) if e.is_not_found() => false,
            Err(e) => panic!("{e}"),
        }
    }

    async fn repo_exists(&self, slug: &str) -> bool {
        match self.bitbucket.get_repository(&repo("demo", slug)).await {
            Ok(_) => true,
            Err(e) if e.is_not_found() => false,
            Err(e) => panic!("{e}"),
        }
    }
}

async fn serve(handler: &BitbucketMcp, addr: SocketAddr) -> HttpServer {
    bitbucket_mcp::http::serve(
        handler.clone(),
        HttpOptions::new(addr).with_api_key(SecretString::from(KEY.to_owned())),
    )
    .await
    .expect("test setup works")
}

fn create_branch(name: &str) -> serde_json::Value {
    json!({"workspace": "acme", "repo_slug": "widgets", "name": name})
}

#[tokio::test]
async fn http_toolsets_work_in_both_protocol_eras() {
    let env = Env::start().await;
    let eras = [
        (McpProtocol::Sessions, "2025-11-25"),
        (McpProtocol::Stateless, "2026-07-28"),
        (McpProtocol::Auto, "2026-07-28"),
    ];
    for (protocol, version) in eras {
        let toolset = McpToolset::connect(env.config(protocol)).await.unwrap();
        assert_eq!(
            toolset.protocol_version().await.as_deref(),
            Some(version),
            "{protocol:?}"
        );
        let tools = toolset.tools().await.unwrap();
        let find = |name: &str| {
            tools
                .iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        let create = find("BITBUCKET_CREATE_BRANCH");
        assert!(
            create
                .description
                .as_deref()
                .unwrap_or_default()
                .starts_with("Creates a branch")
        );
        assert_eq!(
            create.input_schema["required"],
            json!(["workspace", "repo_slug", "name"])
        );
        assert!(!create.needs_approval(), "{protocol:?}");
        assert!(
            find("BITBUCKET_DELETE_REPOSITORY").needs_approval(),
            "{protocol:?}"
        );
        assert_eq!(
            find("BITBUCKET_LIST_BRANCHES").annotations.read_only,
            Some(true)
        );

        // The model creates a branch, then tries again and reads the error.
        let branch = format!("feature/{version}-{protocol:?}");
        let llm = llm(Provider::OpenAi).await;
        llm.push_turn(Turn::text("Creating.").with_tool_call_id(
            "c1",
            "BITBUCKET_CREATE_BRANCH",
            create_branch(&branch),
        ));
        llm.push_turn(Turn::default().with_tool_call_id(
            "c2",
            "BITBUCKET_CREATE_BRANCH",
            create_branch(&branch),
        ));
        llm.push_turn(Turn::text("The branch exists."));
        let agent = agent(&llm).with_toolset(Arc::new(toolset));
        let result = agent
            .run(format!("create {branch}"), &mut History::new())
            .await
            .unwrap();
        assert_eq!(result.output, "The branch exists.");
        assert!(env.branch_exists(&branch).await, "{protocol:?}");
        let results = llm.requests()[2].tool_results();
        let [
            Entry::ToolResult {
                content: created,
                is_error: false,
                ..
            },
            Entry::ToolResult {
                content: refused, ..
            },
        ] = results.as_slice()
        else {
            panic!("{results:?}")
        };
        assert!(
            created.starts_with("<data id=\"") && created.ends_with("\">"),
            "marked as data: {created}"
        );
        assert!(
            bitbucket_toolkit::unmark(created).starts_with(&format!("Created branch `{branch}`")),
            "{created}"
        );
        assert!(refused.contains("already exists"), "{refused}");
        assert_eq!(
            llm.requests()[0].tool_names().len(),
            bitbucket_toolkit::Toolkit::catalogue().len(),
            "{protocol:?}: every tool is offered"
        );
    }
}

#[tokio::test]
async fn connection_failures_are_one_clear_line() {
    let env = Env::start().await;
    let config = McpConfig::http("bitbucket", env.url())
        .with_header("x-api-key", SecretString::from("not-the-key-42".to_owned()))
        .with_protocol(McpProtocol::Sessions);
    assert!(
        !format!("{config:?}").contains("not-the-key-42"),
        "header values are redacted"
    );
    let error = McpToolset::connect(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(
        error,
        "the MCP server `bitbucket` refused the credentials (HTTP 401): check the headers it is given, e.g. `x-api-key`"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    let gone = McpConfig::http("bitbucket", format!("http://127.0.0.1:{port}/mcp"))
        .with_protocol(McpProtocol::Sessions);
    let error = McpToolset::connect(gone)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(
        error,
        "cannot reach the MCP server `bitbucket`: connection refused"
    );
    let missing = McpConfig::stdio("local", "/nonexistent/mcp-server");
    let error = McpToolset::connect(missing)
        .await
        .err()
        .expect("cannot start");
    assert_eq!(
        error.to_string(),
        "cannot start the MCP server `local` (`/nonexistent/mcp-server`)"
    );
    assert!(
        std::error::Error::source(&error).is_some(),
        "the OS error is kept as the cause"
    );
}

#[tokio::test]
async fn a_restarted_server_is_reached_again_transparently() {
    let mut env = Env::start().await;
    for protocol in [McpProtocol::Sessions, McpProtocol::Stateless] {
        let toolset = Arc::new(McpToolset::connect(env.config(protocol)).await.unwrap());
        let llm = llm(Provider::Anthropic).await;
        let agent = agent(&llm).with_toolset(toolset.clone());
        let mut history = History::new();
        for round in 0..2 {
            let branch = format!("restart/{protocol:?}-{round}");
            llm.push_turn(
                Turn::default().with_tool_call("BITBUCKET_CREATE_BRANCH", create_branch(&branch)),
            );
            llm.push_turn(Turn::text("Done."));
            let (events, error) =
                collect(agent.run_stream(format!("create {branch}"), &mut history)).await;
            assert!(error.is_none(), "{protocol:?} round {round}: {error:?}");
            let lines = summary(&events);
            assert!(
                lines[2].starts_with("result BITBUCKET_CREATE_BRANCH: Created branch"),
                "{protocol:?} round {round}: {lines:?}"
            );
            assert!(env.branch_exists(&branch).await);
            // All sessions die with the server.
            env.restart().await;
        }
        assert!(
            toolset.connections_opened() <= 2,
            "{}",
            toolset.connections_opened()
        );
        toolset.close().await;
    }
}

#[tokio::test]
async fn the_servers_confirmation_question_goes_to_the_approver() {
    let env = Env::start().await;
    for (i, protocol) in [McpProtocol::Sessions, McpProtocol::Stateless]
        .into_iter()
        .enumerate()
    {
        let toolset = McpToolset::connect(env.config(protocol)).await.unwrap();
        let slug = format!("doomed-{i}");
        env.bitbucket
            .create_repository(&repo("demo", &slug), &Default::default())
            .await
            .unwrap();
        let call = ToolCall {
            id: "x1".into(),
            name: "BITBUCKET_DELETE_REPOSITORY".into(),
            arguments: json!({"workspace": "demo", "repo_slug": slug}),
        };
        for decision in [
            ApprovalDecision::Deny { reason: None },
            ApprovalDecision::Approve,
        ] {
            let asked = Arc::new(Mutex::new(Vec::<ApprovalRequest>::new()));
            let log = asked.clone();
            let answer = decision.clone();
            let approver = approver_fn(move |request| {
                log.lock().unwrap().push(request);
                let answer = answer.clone();
                async move { answer }
            });
            let output = toolset
                .call(&call, ToolContext::new(call.clone(), Arc::new(approver)))
                .await;
            let asked = asked.lock().unwrap().clone();
            assert_eq!(asked.len(), 1, "{protocol:?} {decision:?}");
            assert!(
                asked[0].reason.starts_with(&format!("the MCP server `bitbucket` asks: Delete repository `demo/{slug}`? This cannot be undone.")),
                "{}",
                asked[0].reason
            );
            assert_eq!(asked[0].id, "x1");
            match decision {
                ApprovalDecision::Approve => {
                    assert!(!output.is_error, "{output:?}");
                    assert!(!env.repo_exists(&slug).await, "{protocol:?}: deleted");
                }
                ApprovalDecision::Deny { .. } | ApprovalDecision::Refuse { .. } => {
                    assert!(output.is_error, "{output:?}");
                    assert_eq!(
                        output.content,
                        "the user declined `BITBUCKET_DELETE_REPOSITORY`; nothing was changed"
                    );
                    assert!(env.repo_exists(&slug).await, "{protocol:?}: kept");
                }
            }
        }
    }
}

#[tokio::test]
async fn one_approval_covers_the_servers_own_confirmation() {
    let env = Env::start().await;
    for (i, protocol) in [McpProtocol::Sessions, McpProtocol::Stateless]
        .into_iter()
        .enumerate()
    {
        let toolset = McpToolset::connect(env.config(protocol)).await.unwrap();
        let slug = format!("agent-doomed-{i}");
        env.bitbucket
            .create_repository(&repo("demo", &slug), &Default::default())
            .await
            .unwrap();
        let llm = llm(Provider::OpenAi).await;
        llm.push_turn(Turn::default().with_tool_call(
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "demo", "repo_slug": slug}),
        ));
        llm.push_turn(Turn::text("Deleted."));
        let asked = Arc::new(Mutex::new(0));
        let count = asked.clone();
        let approver = approver_fn(move |_| {
            *count.lock().unwrap() += 1;
            async { ApprovalDecision::Approve }
        });
        let agent = agent(&llm)
            .with_toolset(Arc::new(toolset))
            .with_approver(Arc::new(approver));
        let (events, error) = collect(agent.run_stream("delete it", &mut History::new())).await;
        assert!(error.is_none(), "{error:?}");
        let approvals: Vec<&AgentEvent> = events
            .iter()
            .filter(|e| matches!(e, AgentEvent::ApprovalRequired { .. }))
            .collect();
        assert_eq!(approvals.len(), 1, "{protocol:?}: {events:?}");
        assert_eq!(
            *asked.lock().unwrap(),
            1,
            "{protocol:?}: the user is asked once"
        );
        assert!(!env.repo_exists(&slug).await, "{protocol:?}");
    }
}

/// Over stdio: this test binary re-runs itself as the MCP server (the real `BitbucketMcp` over
/// its own sandbox); libtest's few non-JSON lines on stdout are ignored by the MCP client.
/// Midway the child exits, as a crashed server would: the next call starts a new one.
#[tokio::test]
async fn stdio_toolsets_talk_to_a_child_process_and_replace_a_dead_one() {
    if let Some(exit_file) = std::env::var_os(STDIO_CHILD) {
        return serve_stdio_child(exit_file.into()).await;
    }
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, protocol) in [McpProtocol::Sessions, McpProtocol::Auto]
        .into_iter()
        .enumerate()
    {
        let exit_file = dir.path().join(format!("exit-{i}"));
        let config = McpConfig::stdio("bitbucket-stdio", exe.to_string_lossy())
            .with_args([
                "--exact",
                "mcp::stdio_toolsets_talk_to_a_child_process_and_replace_a_dead_one",
                "--nocapture",
                "-q",
            ])
            .with_env(STDIO_CHILD, exit_file.to_string_lossy())
            .with_protocol(protocol);
        let toolset = Arc::new(McpToolset::connect(config).await.unwrap());
        let expected = if protocol == McpProtocol::Sessions {
            "2025-11-25"
        } else {
            "2026-07-28"
        };
        assert_eq!(toolset.protocol_version().await.as_deref(), Some(expected));

        let llm = llm(Provider::Anthropic).await;
        llm.push_turn(
            Turn::default()
                .with_tool_call("BITBUCKET_CREATE_BRANCH", create_branch("feature/stdio")),
        );
        llm.push_turn(
            Turn::default().with_tool_call("BITBUCKET_GET_BRANCH", get_branch("feature/stdio")),
        );
        llm.push_turn(Turn::text("It is there."));
        let agent = agent(&llm).with_toolset(toolset.clone());
        let mut history = History::new();
        let (events, error) =
            collect(agent.run_stream("make and check a branch", &mut history)).await;
        assert!(error.is_none(), "{error:?}");
        let lines = summary(&events);
        assert!(
            lines
                .iter()
                .any(|l| l
                    .starts_with("result BITBUCKET_CREATE_BRANCH: Created branch `feature/stdio`")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("result BITBUCKET_GET_BRANCH:")
                    && l.contains("feature/stdio")),
            "{lines:?}"
        );

        // The server process dies (it removes the file on its way out).
        std::fs::write(&exit_file, b"").unwrap();
        crate::cancel::wait_until(|| !exit_file.exists()).await;
        llm.push_turn(Turn::default().with_tool_call("BITBUCKET_GET_BRANCH", get_branch("main")));
        llm.push_turn(Turn::text("Main is there."));
        let (events, error) = collect(agent.run_stream("check main", &mut history)).await;
        assert!(error.is_none(), "{error:?}");
        let lines = summary(&events);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("result BITBUCKET_GET_BRANCH:") && l.contains("main")),
            "{protocol:?}: {lines:?}"
        );
        assert_eq!(
            toolset.connections_opened(),
            2,
            "{protocol:?}: a new server was started"
        );
        toolset.close().await;
    }
}

fn get_branch(name: &str) -> serde_json::Value {
    json!({"workspace": "acme", "repo_slug": "widgets", "name": name})
}

const STDIO_CHILD: &str = "AGENT_IT_MCP_STDIO_EXIT_FILE";

/// The child side: serve until stdin closes, or exit at once when `exit_file` appears.
async fn serve_stdio_child(exit_file: std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("test setup works");
    let sandbox = Sandbox::start(SandboxConfig::new(dir.path()))
        .await
        .expect("test setup works");
    let bitbucket = Client::new(
        ClientConfig::new(sandbox.base_url())
            .with_auth(Auth::api_token("demo@example.com", "sandbox-token")),
    )
    .expect("test setup works");
    let handler = BitbucketMcp::new(Toolkit::new(bitbucket), ServerOptions::default())
        .expect("test setup works");
    let crash = async {
        while !exit_file.exists() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        served = bitbucket_mcp::serve_stdio(handler) => served.expect("test setup works"),
        () = crash => {
            std::fs::remove_file(&exit_file).expect("test setup works");
            std::process::exit(0);
        }
    }
}
