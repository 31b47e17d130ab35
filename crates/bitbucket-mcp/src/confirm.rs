//! Asking the user before a destructive tool runs, through MCP elicitation.
//!
//! 2025-11-25 clients are asked with an `elicitation/create` request on the live connection.
//! 2026-07-28 forbids server-to-client requests, so the call answers "input required" and the
//! client retries it with the user's answer. A client that declared no elicitation capability
//! cannot be asked, so the call is refused with an explanation: never performed silently.

use bitbucket_toolkit::ToolSpec;
use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequestParams, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationSchema, InputRequest, InputRequests, InputRequiredResult,
};
use rmcp::service::RequestContext;
use serde_json::Value;

/// The key of our one input request in the 2026-07-28 round trip.
const CONFIRM_KEY: &str = "confirm_destructive";

/// What asking the user came to.
#[derive(Debug)]
pub enum Confirmation {
    Confirmed,
    Refused(String),
    /// 2026-07-28: ask the client to collect the answer and call again.
    Ask(InputRequiredResult),
}

/// Whether the client declared that it can ask its user (MCP elicitation in form mode).
pub fn can_ask(context: &RequestContext<RoleServer>) -> bool {
    context
        .client_capabilities()
        .and_then(|caps| caps.elicitation)
        // `"elicitation": {}` means form mode, for compatibility with older clients.
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// Asks the user whether `spec` may run with `arguments`, in the way the client's protocol era
/// allows. `how_to_allow` ends the refusal given to a client that cannot be asked.
pub async fn confirm(
    request: &CallToolRequestParams,
    context: &RequestContext<RoleServer>,
    spec: &ToolSpec,
    arguments: &Value,
    how_to_allow: &str,
) -> Confirmation {
    let can_ask = can_ask(context);
    let modern = context
        .protocol_version()
        .is_some_and(|v| !v.has_initialize());

    if modern
        && let Some(answer) = request
            .input_responses
            .as_ref()
            .and_then(|r| r.get(CONFIRM_KEY))
    {
        return match serde_json::from_value::<ElicitResult>(answer.clone()) {
            Ok(result) => judge(&result, spec),
            Err(e) => Confirmation::Refused(format!(
                "`{}` was not run: the confirmation answer was malformed ({e})",
                spec.name
            )),
        };
    }
    if !can_ask {
        return Confirmation::Refused(format!(
            "`{}` is destructive and needs the user's confirmation, but this client cannot ask the user \
(it declared no MCP elicitation capability). Nothing was changed. {how_to_allow}",
            spec.name
        ));
    }
    let params = match question(spec, arguments) {
        Ok(params) => params,
        Err(e) => {
            return Confirmation::Refused(format!(
                "`{}` was not run: cannot build the confirmation question ({e})",
                spec.name
            ));
        }
    };
    if modern {
        let mut requests = InputRequests::new();
        requests.insert(
            CONFIRM_KEY.to_owned(),
            InputRequest::Elicitation(ElicitRequest::new(params)),
        );
        return Confirmation::Ask(InputRequiredResult::from_input_requests(requests));
    }
    match context.peer.create_elicitation(params).await {
        Ok(result) => judge(&result, spec),
        Err(e) => Confirmation::Refused(format!(
            "`{}` was not run: asking the user for confirmation failed ({e})",
            spec.name
        )),
    }
}

fn question(spec: &ToolSpec, arguments: &Value) -> Result<ElicitRequestParams, &'static str> {
    let target = describe_target(arguments);
    Ok(ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!(
            "{} {target}? This cannot be undone. ({}, arguments: {arguments})",
            spec.title, spec.name
        ),
        requested_schema: ElicitationSchema::builder()
            .required_bool_property("confirm", |b| {
                b.title("Confirm")
                    .description("Tick to allow this destructive action")
            })
            .build()?,
    })
}

/// `acme/widgets`, `acme/widgets issue #3`, from the usual argument names.
fn describe_target(arguments: &Value) -> String {
    let get = |k: &str| {
        arguments
            .get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let mut target = match (get("workspace"), get("repo_slug")) {
        (Some(w), Some(r)) => format!("`{w}/{r}`"),
        (Some(w), None) => format!("`{w}`"),
        _ => String::from("this"),
    };
    if let Some(id) = get("issue_id") {
        target.push_str(&format!(" issue #{id}"));
    }
    target
}

fn judge(result: &ElicitResult, spec: &ToolSpec) -> Confirmation {
    let ticked = result
        .content
        .as_ref()
        .and_then(|c| c.get("confirm"))
        .and_then(Value::as_bool)
        == Some(true);
    match result.action {
        ElicitationAction::Accept if ticked => Confirmation::Confirmed,
        ElicitationAction::Accept => Confirmation::Refused(format!(
            "the user did not confirm `{}`; nothing was changed",
            spec.name
        )),
        ElicitationAction::Decline => Confirmation::Refused(format!(
            "the user declined `{}`; nothing was changed",
            spec.name
        )),
        ElicitationAction::Cancel => Confirmation::Refused(format!(
            "the user cancelled `{}`; nothing was changed",
            spec.name
        )),
        _ => Confirmation::Refused(format!(
            "the user's answer about `{}` was not a confirmation; nothing was changed",
            spec.name
        )),
    }
}
