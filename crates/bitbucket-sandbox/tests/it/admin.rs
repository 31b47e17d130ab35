//! How a workspace and its repositories are set up: projects, users, webhook events and the
//! branching model, as the spec shapes them.

use reqwest::Method;
use serde_json::Value;

use crate::contract::validate;
use crate::support::{error_message, start};

#[tokio::test]
async fn projects_users_hook_events_and_the_branching_model() {
    let sb = start().await;
    let projects = sb.get_json("/workspaces/acme/projects").await;
    validate("GET", "/workspaces/{workspace}/projects", "200", &projects);
    assert!(
        projects["size"].as_u64().is_some_and(|n| n >= 1),
        "{projects}"
    );

    let alice = sb.get_json("/users/alice").await;
    validate("GET", "/users/{selected_user}", "200", &alice);
    assert_eq!(alice["display_name"], "Alice Liddell", "{alice}");
    let by_uuid = sb
        .get_json(&format!(
            "/users/{}",
            alice["uuid"]
                .as_str()
                .expect("uuid")
                .replace('{', "%7B")
                .replace('}', "%7D")
        ))
        .await;
    assert_eq!(by_uuid["username"], "alice");
    let (status, missing) = sb
        .send_json(Method::GET, "/users/nobody", Value::Null)
        .await;
    assert_eq!(status, 404);
    assert!(error_message(&missing).contains("nobody"));

    let subjects = sb.get_json("/hook_events").await;
    validate("GET", "/hook_events", "200", &subjects);
    let events = sb.get_json("/hook_events/repository?pagelen=100").await;
    validate("GET", "/hook_events/{subject_type}", "200", &events);
    let names: Vec<&str> = events["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    for needed in [
        "repo:push",
        "pullrequest:created",
        "pullrequest:comment_created",
        "pullrequest:fulfilled",
    ] {
        assert!(names.contains(&needed), "{needed} in {names:?}");
    }
    let (status, _) = sb
        .send_json(Method::GET, "/hook_events/team", Value::Null)
        .await;
    assert_eq!(status, 404);

    for kind in ["branching-model", "effective-branching-model"] {
        let model = sb
            .get_json(&format!("/repositories/acme/widgets/{kind}"))
            .await;
        validate(
            "GET",
            &format!("/repositories/{{workspace}}/{{repo_slug}}/{kind}"),
            "200",
            &model,
        );
        assert_eq!(model["development"]["name"], "main", "{model}");
        assert_eq!(model["development"]["use_mainbranch"], true);
        assert_eq!(model["branch_types"][0]["prefix"], "feature/");
    }
}
