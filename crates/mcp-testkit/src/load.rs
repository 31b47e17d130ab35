//! A load run: many MCP sessions at once, half of each protocol era, each alternating reads
//! and writes (issues whose titles are unique, so the sandbox can be counted exactly), with
//! every call's outcome and latency recorded; and a team's load on a tool router ([`run_team`]):
//! many users, each with a session and a connection of their own, spread over instances.
//! Shared by the load tests and benchmarks; the judging is theirs.

use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::{Era, Session, connect_http};

/// How the Bitbucket tools are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// `bbagent mcp --http`: each tool is called by name.
    Direct,
    /// A tool router session: each tool is one `COMPOSIO_MULTI_EXECUTE_TOOL` call.
    Router,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The MCP endpoint.
    pub url: String,
    /// Sent as `x-api-key`.
    pub key: Option<String>,
    pub front: Front,
    /// Sessions at once.
    pub sessions: usize,
    /// The era every session speaks; `None`: even ones 2025-11-25, odd ones 2026-07-28.
    pub era: Option<Era>,
    /// Calls per session; every second one writes.
    pub calls: usize,
    /// Starts every title written, so that the run's issues can be found.
    pub marker: String,
}

/// One tool call as the client saw it.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub tool: &'static str,
    /// The title of the issue it asked to create, for a write.
    pub title: Option<String>,
    pub latency: Duration,
    /// `Err` holds the message the model would read.
    pub outcome: Result<(), String>,
}

/// Everything a run did.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub calls: Vec<CallRecord>,
    /// JSON-RPC or transport failures: never expected, whatever Bitbucket does.
    pub protocol_errors: Vec<String>,
    pub elapsed: Duration,
}

impl LoadReport {
    /// Titles of the issues reported created.
    pub fn created(&self) -> Vec<String> {
        self.calls
            .iter()
            .filter(|c| c.outcome.is_ok())
            .filter_map(|c| c.title.clone())
            .collect()
    }

    /// The messages of the calls that failed.
    pub fn failures(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.calls
            .iter()
            .filter_map(|c| c.outcome.as_ref().err().map(|m| (c.tool, m.as_str())))
    }
}

/// Runs `plan`: every session connects, makes its calls one after another and closes.
pub async fn run_load(plan: &LoadPlan) -> LoadReport {
    let started = Instant::now();
    let sessions = (0..plan.sessions).map(|index| {
        let plan = plan.clone();
        tokio::spawn(async move { one_session(&plan, index).await })
    });
    let mut report = LoadReport::default();
    for session in futures::future::join_all(sessions).await {
        match session {
            Ok((calls, errors)) => {
                report.calls.extend(calls);
                report.protocol_errors.extend(errors);
            }
            Err(e) => report
                .protocol_errors
                .push(format!("a session panicked: {e}")),
        }
    }
    report.elapsed = started.elapsed();
    report
}

async fn one_session(plan: &LoadPlan, index: usize) -> (Vec<CallRecord>, Vec<String>) {
    let era = match plan.era {
        Some(era) => era,
        None if index.is_multiple_of(2) => Era::Sessions,
        None => Era::Stateless,
    };
    let (session, _) = connect_http(&plan.url, plan.key.as_deref(), era, None).await;
    let mut calls = Vec::with_capacity(plan.calls);
    let mut errors = Vec::new();
    for n in 0..plan.calls {
        let (tool, arguments, title) = if n % 2 == 1 {
            let title = format!("{} s{index} c{n}", plan.marker);
            let arguments = json!({"workspace": "acme", "repo_slug": "widgets", "title": title});
            ("BITBUCKET_CREATE_ISSUE", arguments, Some(title))
        } else if n % 4 == 0 {
            let arguments = json!({"workspace": "acme", "repo_slug": "widgets"});
            ("BITBUCKET_GET_REPOSITORY", arguments, None)
        } else {
            let arguments = json!({"workspace": "acme", "repo_slug": "widgets", "issue_id": 1});
            ("BITBUCKET_GET_ISSUE", arguments, None)
        };
        let started = Instant::now();
        match call_once(&session, plan.front, tool, arguments).await {
            Ok(outcome) => calls.push(CallRecord {
                tool,
                title,
                latency: started.elapsed(),
                outcome,
            }),
            Err(e) => errors.push(format!("{era:?} session {index}, {tool}: {e}")),
        }
    }
    if let Err(e) = session.cancel().await {
        errors.push(format!("{era:?} session {index} did not close: {e}"));
    }
    (calls, errors)
}

/// The tool's outcome, or a protocol failure.
async fn call_once(
    session: &Session,
    front: Front,
    tool: &'static str,
    arguments: Value,
) -> Result<Result<(), String>, String> {
    let (name, arguments) = match front {
        Front::Direct => (tool, arguments),
        Front::Router => (
            "COMPOSIO_MULTI_EXECUTE_TOOL",
            json!({"tools": [{"tool_slug": tool, "arguments": arguments}]}),
        ),
    };
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    let result = session
        .call_tool(CallToolRequestParams::new(name).with_arguments(arguments))
        .await
        .map_err(|e| e.to_string())?;
    match front {
        Front::Direct if result.is_error == Some(true) => Ok(Err(crate::text(&result))),
        Front::Direct => Ok(Ok(())),
        Front::Router => {
            let data = result
                .structured_content
                .as_ref()
                .ok_or_else(|| format!("no structured content: {}", crate::text(&result)))?;
            let first = &data["data"]["results"][0];
            match first["error"].as_str() {
                Some(message) => Ok(Err(message.to_owned())),
                None if first["response"]["successful"] == true => Ok(Ok(())),
                None => Err(format!("neither a result nor an error: {data}")),
            }
        }
    }
}

/// A team's load on a tool router: each user has a session of their own (with a connection of
/// their own), reached through every instance in turn, as a load balancer spreads calls.
#[derive(Debug, Clone)]
pub struct TeamPlan {
    /// Sent as `x-api-key`.
    pub key: String,
    /// Per user: their name (it goes into every title they write) and their session's MCP URL
    /// at each instance. Call `n` of user `i` goes to `urls[(n + i) % urls.len()]`.
    pub users: Vec<(String, Vec<String>)>,
    /// Calls per user; every second one writes.
    pub calls: usize,
    /// Starts every title written.
    pub marker: String,
}

impl TeamPlan {
    /// The title of call `n` of `user`; [`written_by`] reads the user back from it.
    pub fn title(&self, user: &str, n: usize) -> String {
        format!("{} by {user} c{n}", self.marker)
    }
}

/// The user a title of [`TeamPlan::title`] names.
pub fn written_by<'t>(marker: &str, title: &'t str) -> Option<&'t str> {
    title
        .strip_prefix(marker)?
        .strip_prefix(" by ")?
        .split(' ')
        .next()
}

/// Runs `plan`: every user's stateless (2026-07-28) clients, one per instance, make the user's
/// calls one after another, alternating instances.
pub async fn run_team(plan: &TeamPlan) -> LoadReport {
    let started = Instant::now();
    let users = (0..plan.users.len()).map(|index| {
        let plan = plan.clone();
        tokio::spawn(async move { one_user(&plan, index).await })
    });
    let mut report = LoadReport::default();
    for user in futures::future::join_all(users).await {
        match user {
            Ok((calls, errors)) => {
                report.calls.extend(calls);
                report.protocol_errors.extend(errors);
            }
            Err(e) => report.protocol_errors.push(format!("a user panicked: {e}")),
        }
    }
    report.elapsed = started.elapsed();
    report
}

async fn one_user(plan: &TeamPlan, index: usize) -> (Vec<CallRecord>, Vec<String>) {
    let (user, urls) = &plan.users[index];
    let mut clients = Vec::with_capacity(urls.len());
    for url in urls {
        let (client, _) = connect_http(url, Some(&plan.key), Era::Stateless, None).await;
        clients.push(client);
    }
    let mut calls = Vec::with_capacity(plan.calls);
    let mut errors = Vec::new();
    for n in 0..plan.calls {
        let (tool, arguments, title) = if n % 2 == 1 {
            let title = plan.title(user, n);
            let arguments = json!({"workspace": "acme", "repo_slug": "widgets", "title": title});
            ("BITBUCKET_CREATE_ISSUE", arguments, Some(title))
        } else if n % 4 == 0 {
            let arguments = json!({"workspace": "acme", "repo_slug": "widgets"});
            ("BITBUCKET_GET_REPOSITORY", arguments, None)
        } else {
            ("BITBUCKET_GET_CURRENT_USER", json!({}), None)
        };
        // Offset by the user, so that each instance gets reads and writes.
        let client = &clients[(n + index) % clients.len()];
        let started = Instant::now();
        match call_once(client, Front::Router, tool, arguments).await {
            Ok(outcome) => calls.push(CallRecord {
                tool,
                title,
                latency: started.elapsed(),
                outcome,
            }),
            Err(e) => errors.push(format!("{user}, {tool}: {e}")),
        }
    }
    for client in clients {
        if let Err(e) = client.cancel().await {
            errors.push(format!("{user}'s client did not close: {e}"));
        }
    }
    (calls, errors)
}

/// What the sandbox holds after a team's run, against what the users were told.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TeamVerdict {
    /// Reported created, not stored.
    pub lost: usize,
    /// Stored more than once, or stored without being reported created.
    pub duplicated: usize,
    /// Stored with another reporter than the user whose title it carries: a call that ran
    /// with someone else's credentials.
    pub wrong_user: Vec<String>,
}

impl TeamVerdict {
    pub fn is_clean(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.wrong_user.is_empty()
    }
}

/// Compares the issues whose titles start with `plan.marker` with `report`: every write
/// reported created is stored once, nothing else is, and each was made by the user its title
/// names (the reporter's display name is `display_name(user)`).
pub async fn judge_team(
    bitbucket: &bitbucket_client::Client,
    plan: &TeamPlan,
    report: &LoadReport,
    display_name: impl Fn(&str) -> String,
) -> Result<TeamVerdict, bitbucket_client::Error> {
    use futures::TryStreamExt as _;
    let repo = bitbucket_client::RepoId::new("acme", "widgets")?;
    let first = bitbucket
        .list_issues(
            &repo,
            &bitbucket_client::ListParams::new()
                .q(format!("title ~ \"{} by \"", plan.marker))
                .pagelen(100),
        )
        .await?;
    let stored: Vec<bitbucket_client::Issue> =
        bitbucket.paginate(first, 1_000_000).try_collect().await?;
    let mut verdict = TeamVerdict::default();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for issue in &stored {
        *counts.entry(issue.title.as_str()).or_default() += 1;
        let reporter = issue
            .reporter
            .as_ref()
            .and_then(|r| r.display_name.clone())
            .unwrap_or_default();
        match written_by(&plan.marker, &issue.title) {
            Some(user) if reporter == display_name(user) => {}
            _ => verdict
                .wrong_user
                .push(format!("`{}` reported by `{reporter}`", issue.title)),
        }
    }
    let created = report.created();
    verdict.lost = created
        .iter()
        .filter(|t| !counts.contains_key(t.as_str()))
        .count();
    verdict.duplicated = counts
        .iter()
        .map(|(title, n)| {
            if created.iter().any(|c| c == title) {
                n - 1
            } else {
                *n
            }
        })
        .sum();
    Ok(verdict)
}
