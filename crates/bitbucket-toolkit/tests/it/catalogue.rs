//! Invariants of the catalogue, checked over every tool, and its snapshot.

use std::collections::HashSet;

use bitbucket_toolkit::{ToolSpec, Toolkit, Toolset};
use serde_json::{Value, json};

use crate::support::start_running_pipelines;

const COMPOSIO_CATALOGUE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../reference/bitbucket/composio-catalog-20260429.txt"
));

/// Names we keep although Composio spells them differently or lacks them: Composio only has
/// `BITBUCKET_GET_CURRENT_USER2`, and the plain name is the one the rest of the project uses;
/// Composio has no tool for the others, and ours follow its naming style.
const NOT_IN_COMPOSIO: &[&str] = &[
    "BITBUCKET_GET_CURRENT_USER",
    "BITBUCKET_GET_ISSUE",
    "BITBUCKET_UPDATE_PULL_REQUEST_COMMENT",
    "BITBUCKET_CREATE_PULL_REQUEST_TASK",
    "BITBUCKET_UPDATE_PULL_REQUEST_TASK",
    "BITBUCKET_DELETE_PULL_REQUEST_TASK",
    "BITBUCKET_UNAPPROVE_PULL_REQUEST",
    "BITBUCKET_REMOVE_PULL_REQUEST_CHANGE_REQUEST",
    "BITBUCKET_DECLINE_PULL_REQUEST",
    "BITBUCKET_COMMIT_FILES",
    "BITBUCKET_CREATE_COMMIT_COMMENT",
    "BITBUCKET_DELETE_BRANCH",
    "BITBUCKET_CREATE_TAG",
    "BITBUCKET_DELETE_TAG",
    "BITBUCKET_CREATE_COMMIT_BUILD_STATUS",
    "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORT",
    "BITBUCKET_RUN_PIPELINE",
    "BITBUCKET_STOP_PIPELINE",
    "BITBUCKET_GET_PIPELINE_STEP_LOG",
    "BITBUCKET_CREATE_REPOSITORY_PIPELINE_VARIABLE",
];

/// A pipeline file for the tools to run: a default pipeline that deploys, and a slow one to stop.
const PIPELINES: &str = "pipelines:\n  default:\n    - step:\n        name: Build\n        deployment: test\n        script: [echo built at $LEVEL]\n  custom:\n    slow:\n      - step:\n          name: Wait\n          script: [sleep 30]\n";

fn is_read(spec: &ToolSpec) -> bool {
    ["BITBUCKET_GET_", "BITBUCKET_LIST_", "BITBUCKET_BROWSE_"]
        .iter()
        .any(|prefix| spec.name.starts_with(prefix))
}

#[test]
fn names_are_unique_and_composio_names() {
    let catalogue = Toolkit::catalogue();
    let composio: HashSet<&str> = COMPOSIO_CATALOGUE.lines().map(str::trim).collect();
    let mut seen = HashSet::new();
    for spec in catalogue {
        assert!(seen.insert(spec.name), "duplicate name {}", spec.name);
        assert!(
            composio.contains(spec.name) || NOT_IN_COMPOSIO.contains(&spec.name),
            "{} is not in the Composio catalogue",
            spec.name
        );
        assert_eq!(Toolkit::find(spec.name).map(|s| s.name), Some(spec.name));
        assert!(Toolkit::find(&spec.name.to_ascii_lowercase()).is_none());
        assert!(!spec.title.is_empty() && !spec.description.is_empty());
        let sentences = spec.description.matches(". ").count() + 1;
        assert!(
            (1..=5).contains(&sentences) && spec.description.len() <= 420,
            "{}: keep descriptions to a few sentences ({} chars)",
            spec.name,
            spec.description.len()
        );
    }
}

#[test]
fn tools_are_grouped_by_toolset() {
    let order: Vec<usize> = Toolkit::catalogue()
        .iter()
        .map(|spec| {
            Toolset::ALL
                .iter()
                .position(|t| *t == spec.toolset)
                .unwrap_or(usize::MAX)
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    for toolset in Toolset::ALL {
        assert!(
            Toolkit::catalogue().iter().any(|s| s.toolset == toolset),
            "{toolset} has no tool"
        );
        assert_eq!(toolset.as_str().parse::<Toolset>(), Ok(toolset));
        assert_eq!(
            serde_json::to_value(toolset).unwrap(),
            json!(toolset.as_str())
        );
    }
    let err = "pulls".parse::<Toolset>().unwrap_err().to_string();
    assert!(
        err.contains("`pull_requests`") && err.contains("`issues`"),
        "{err}"
    );
}

#[test]
fn annotations_tell_the_truth() {
    let destructive: Vec<&str> = Toolkit::catalogue()
        .iter()
        .filter(|spec| spec.annotations.destructive)
        .map(|spec| spec.name)
        .collect();
    assert_eq!(
        destructive,
        [
            "BITBUCKET_DELETE_REPOSITORY",
            "BITBUCKET_DELETE_BRANCH",
            "BITBUCKET_DELETE_TAG",
            "BITBUCKET_DELETE_PULL_REQUEST_COMMENT",
            "BITBUCKET_DELETE_PULL_REQUEST_TASK",
            "BITBUCKET_DECLINE_PULL_REQUEST",
            "BITBUCKET_MERGE_PULL_REQUEST",
            "BITBUCKET_DELETE_COMMIT_COMMENT",
            "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORT",
            "BITBUCKET_STOP_PIPELINE",
            "BITBUCKET_DELETE_USER_PIPELINE_VARIABLE",
            "BITBUCKET_DELETE_ISSUE",
        ]
    );
    for spec in Toolkit::catalogue() {
        let a = spec.annotations;
        assert!(a.open_world, "{}: every tool reaches Bitbucket", spec.name);
        assert_eq!(a.read_only, is_read(spec), "{}: read_only", spec.name);
        if a.read_only || a.destructive || spec.name.starts_with("BITBUCKET_UPDATE_") {
            assert!(a.idempotent, "{}: should be idempotent", spec.name);
        }
        if spec.name.starts_with("BITBUCKET_CREATE_") {
            assert!(
                !a.idempotent,
                "{}: each create makes something new",
                spec.name
            );
        }
    }
}

/// Collects every key used anywhere in a schema.
fn keys(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                out.insert(key.clone());
                keys(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| keys(item, out)),
        _ => {}
    }
}

#[test]
fn input_schemas_are_self_contained_objects() {
    for spec in Toolkit::catalogue() {
        let schema = spec.input_schema();
        let value = Value::Object(schema.clone());
        assert_eq!(schema["type"], "object", "{}", spec.name);
        assert_eq!(schema["additionalProperties"], false, "{}", spec.name);
        let properties = schema["properties"].as_object().expect("properties");
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for name in &required {
            assert!(
                properties.contains_key(*name),
                "{}: `{name}` required but unknown",
                spec.name
            );
        }
        let mut used = HashSet::new();
        keys(&value, &mut used);
        for banned in ["$ref", "$defs", "definitions", "$schema", "format"] {
            assert!(
                !used.contains(banned),
                "{}: schema uses `{banned}`",
                spec.name
            );
        }
        jsonschema::meta::validate(&value)
            .unwrap_or_else(|e| panic!("{}: not a valid schema: {e}", spec.name));
        jsonschema::validator_for(&value).expect("compiles");

        let arguments = spec.arguments();
        assert_eq!(arguments.len(), properties.len(), "{}", spec.name);
        let required_first: Vec<&str> = arguments
            .iter()
            .take_while(|a| a.required)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            required_first, required,
            "{}: required arguments come first",
            spec.name
        );
        for argument in &arguments {
            assert!(
                !argument.description.is_empty(),
                "{}: `{}` has no description",
                spec.name,
                argument.name
            );
            assert!(
                ["string", "integer", "boolean", "array", "string|array"]
                    .contains(&argument.r#type.as_str()),
                "{}: `{}` has type {}",
                spec.name,
                argument.name,
                argument.r#type
            );
        }
        let info = serde_json::to_value(spec.info()).expect("info serializes");
        assert_eq!(info["name"], spec.name);
        assert_eq!(info["toolset"], spec.toolset.as_str());
        assert_eq!(
            info["arguments"].as_array().map(Vec::len),
            Some(arguments.len())
        );
        for (argument, entry) in arguments
            .iter()
            .zip(info["arguments"].as_array().into_iter().flatten())
        {
            assert_eq!(entry["type"], argument.r#type.as_str());
            assert_eq!(entry["required"], argument.required);
        }
    }
}

#[test]
fn output_schemas_are_objects() {
    for spec in Toolkit::catalogue() {
        let schema = Value::Object(spec.output_schema());
        assert_eq!(schema["type"], "object", "{}", spec.name);
        let mut used = HashSet::new();
        keys(&schema, &mut used);
        assert!(
            !used.contains("$ref"),
            "{}: output schema uses `$ref`",
            spec.name
        );
        jsonschema::meta::validate(&schema)
            .unwrap_or_else(|e| panic!("{}: not a valid schema: {e}", spec.name));
    }
}

/// What a model pays for each tool in `tools/list`: name, description and input schema.
fn tool_bytes(spec: &ToolSpec) -> usize {
    let tool = json!({
        "name": spec.name,
        "description": spec.description,
        "inputSchema": spec.input_schema(),
    });
    serde_json::to_string(&tool).expect("serializes").len()
}

#[test]
fn catalogue_stays_small() {
    let sizes: Vec<(usize, &str)> = Toolkit::catalogue()
        .iter()
        .map(|spec| (tool_bytes(spec), spec.name))
        .collect();
    let average = sizes.iter().map(|(bytes, _)| bytes).sum::<usize>() / sizes.len();
    if std::env::var_os("BBAGENT_PRINT_SIZES").is_some() {
        for (bytes, name) in &sizes {
            eprintln!("{bytes:5} {name}");
        }
    }
    // About 4 bytes a token: some 190 tokens a tool (757 bytes on average for 55 tools when
    // written); a longer description or another argument should be a deliberate choice.
    eprintln!("{average} bytes a tool on average");
    assert!(average <= 775, "tools grew to {average} bytes on average");
    for (bytes, name) in sizes {
        assert!(bytes <= 1_500, "{name} takes {bytes} bytes");
    }
}

#[test]
fn catalogue_snapshot() {
    let tools: Vec<Value> = Toolkit::catalogue()
        .iter()
        .map(|spec| {
            json!({
                "name": spec.name,
                "title": spec.title,
                "toolset": spec.toolset,
                "description": spec.description,
                "annotations": spec.annotations,
                "input_schema": spec.input_schema(),
                "output_schema": spec.output_schema(),
            })
        })
        .collect();
    insta::assert_json_snapshot!("catalogue", tools);
}

/// One successful call per tool, in an order where each finds what it needs (deletes last);
/// `Env::ok` checks every result against the tool's output schema.
#[tokio::test]
async fn every_tool_succeeds_with_a_result_matching_its_output_schema() {
    let env = start_running_pipelines().await;
    let widgets = |extra: Value| {
        let mut arguments = json!({"workspace": "acme", "repo_slug": "widgets"});
        if let (Some(target), Some(extra)) = (arguments.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        arguments
    };
    let calls = [
        ("BITBUCKET_LIST_WORKSPACES", json!({})),
        (
            "BITBUCKET_LIST_WORKSPACE_MEMBERS",
            json!({"workspace": "acme"}),
        ),
        ("BITBUCKET_GET_CURRENT_USER", json!({})),
        (
            "BITBUCKET_LIST_REPOSITORIES_IN_WORKSPACE",
            json!({"workspace": "acme"}),
        ),
        (
            "BITBUCKET_CREATE_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "scratch"}),
        ),
        ("BITBUCKET_GET_REPOSITORY", widgets(json!({}))),
        (
            "BITBUCKET_BROWSE_REPOSITORY_PATH",
            widgets(json!({"path": "src"})),
        ),
        (
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            widgets(json!({"path": "Cargo.toml"})),
        ),
        (
            "BITBUCKET_LIST_COMMITS",
            widgets(json!({"branch": "feature/login"})),
        ),
        ("BITBUCKET_LIST_BRANCHES", widgets(json!({}))),
        ("BITBUCKET_GET_BRANCH", widgets(json!({"name": "main"}))),
        (
            "BITBUCKET_CREATE_BRANCH",
            widgets(json!({"name": "topic", "target": "develop"})),
        ),
        ("BITBUCKET_LIST_TAGS", widgets(json!({}))),
        (
            "BITBUCKET_CREATE_TAG",
            widgets(json!({"name": "v9", "target": "develop", "message": "Nine"})),
        ),
        (
            "BITBUCKET_COMMIT_FILES",
            widgets(json!({"branch": "topic", "message": "Notes",
                "files": [{"path": "NOTES.md", "content": "notes\n"}], "delete": ["src/lib.rs"]})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_COMMIT",
            widgets(json!({"commit": "topic"})),
        ),
        (
            "BITBUCKET_GET_COMMIT_DIFF",
            widgets(json!({"commit": "topic", "max_lines": 5})),
        ),
        (
            "BITBUCKET_GET_COMMIT_CHANGES",
            widgets(json!({"commit": "feature/login", "base": "main"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_FILEHISTORY",
            widgets(json!({"path": "README.md"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_COMMIT_STATUSES",
            widgets(json!({"commit": "main"})),
        ),
        (
            "BITBUCKET_CREATE_COMMIT_COMMENT",
            widgets(json!({"commit": "topic", "content": "Why?", "path": "NOTES.md", "line": 1})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_COMMIT_COMMENTS",
            widgets(json!({"commit": "topic"})),
        ),
        (
            "BITBUCKET_GET_COMMIT_COMMENT",
            widgets(json!({"commit": "topic", "comment_id": 1})),
        ),
        (
            "BITBUCKET_UPDATE_REPOSITORIES_COMMIT_COMMENTS",
            widgets(json!({"commit": "topic", "comment_id": 1, "content": "Why this?"})),
        ),
        (
            "BITBUCKET_DELETE_COMMIT_COMMENT",
            widgets(json!({"commit": "topic", "comment_id": 1})),
        ),
        (
            "BITBUCKET_CREATE_COMMIT_BUILD_STATUS",
            widgets(
                json!({"commit": "main", "key": "ci", "state": "SUCCESSFUL", "url": "https://ci.example/1"}),
            ),
        ),
        (
            "BITBUCKET_GET_COMMIT_BUILD_STATUS",
            widgets(json!({"commit": "main", "key": "ci"})),
        ),
        (
            "BITBUCKET_UPDATE_INSIGHTS_PROJECTS_REPOS_COMMITS_REPORTS",
            widgets(
                json!({"commit": "main", "report_id": "scan", "title": "Scan", "details": "1 finding", "report_type": "BUG",
                "data": [{"title": "Safe?", "type": "BOOLEAN", "value": false}]}),
            ),
        ),
        (
            "BITBUCKET_CREATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            widgets(json!({"commit": "main", "report_id": "scan",
                "annotations": [{"annotation_id": "a1", "annotation_type": "BUG", "summary": "Off by one", "path": "README.md", "line": 1}]})),
        ),
        (
            "BITBUCKET_UPDATE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            widgets(
                json!({"commit": "main", "report_id": "scan", "annotation_id": "a2", "annotation_type": "CODE_SMELL", "summary": "Long"}),
            ),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS",
            widgets(json!({"commit": "main"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORT",
            widgets(json!({"commit": "main", "report_id": "scan"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            widgets(json!({"commit": "main", "report_id": "scan", "annotation_id": "a1"})),
        ),
        (
            "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORTS_ANNOTATIONS",
            widgets(json!({"commit": "main", "report_id": "scan", "annotation_id": "a1"})),
        ),
        (
            "BITBUCKET_DELETE_REPOSITORIES_COMMIT_REPORT",
            widgets(json!({"commit": "main", "report_id": "scan"})),
        ),
        ("BITBUCKET_LIST_PULL_REQUESTS", widgets(json!({}))),
        (
            "BITBUCKET_GET_PULL_REQUEST",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_CREATE_PULL_REQUEST",
            widgets(json!({"title": "Topic", "source_branch": "topic", "draft": true})),
        ),
        (
            "BITBUCKET_UPDATE_PULL_REQUEST",
            widgets(
                json!({"pull_request_id": 1, "description": "Sign-in form.", "reviewers": ["bob"]}),
            ),
        ),
        (
            "BITBUCKET_GET_PULL_REQUEST_DIFF",
            widgets(json!({"pull_request_id": 1, "path": ["src"]})),
        ),
        (
            "BITBUCKET_GET_PULL_REQUEST_DIFFSTAT",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_GET_PULL_REQUEST_COMMITS",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_CREATE_PULL_REQUEST_COMMENT",
            widgets(
                json!({"pull_request_id": 1, "content": "nit: rename", "path": "src/login.rs", "line": 1}),
            ),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_COMMENTS",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_GET_PULL_REQUEST_COMMENT",
            widgets(json!({"pull_request_id": 1, "comment_id": 1})),
        ),
        (
            "BITBUCKET_UPDATE_PULL_REQUEST_COMMENT",
            widgets(json!({"pull_request_id": 1, "comment_id": 1, "content": "nit: rename it"})),
        ),
        (
            "BITBUCKET_RESOLVE_PULL_REQUEST_COMMENT",
            widgets(json!({"pull_request_id": 1, "comment_id": 1})),
        ),
        (
            "BITBUCKET_CREATE_PULL_REQUEST_TASK",
            widgets(json!({"pull_request_id": 1, "content": "Add a test", "comment_id": 1})),
        ),
        (
            "BITBUCKET_LIST_PULL_REQUEST_TASKS",
            widgets(json!({"pull_request_id": 1, "state": "UNRESOLVED"})),
        ),
        (
            "BITBUCKET_UPDATE_PULL_REQUEST_TASK",
            widgets(json!({"pull_request_id": 1, "task_id": 1, "resolved": true})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PULLREQUESTS_STATUSES",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_APPROVE_PULL_REQUEST",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_UNAPPROVE_PULL_REQUEST",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_REQUEST_PULL_REQUEST_CHANGES",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_REMOVE_PULL_REQUEST_CHANGE_REQUEST",
            widgets(json!({"pull_request_id": 1})),
        ),
        (
            "BITBUCKET_DELETE_PULL_REQUEST_TASK",
            widgets(json!({"pull_request_id": 1, "task_id": 1})),
        ),
        (
            "BITBUCKET_DELETE_PULL_REQUEST_COMMENT",
            widgets(json!({"pull_request_id": 1, "comment_id": 1})),
        ),
        (
            "BITBUCKET_DECLINE_PULL_REQUEST",
            widgets(json!({"pull_request_id": 2})),
        ),
        (
            "BITBUCKET_MERGE_PULL_REQUEST",
            widgets(
                json!({"pull_request_id": 1, "merge_strategy": "squash", "message": "Login form"}),
            ),
        ),
        ("BITBUCKET_DELETE_BRANCH", widgets(json!({"name": "topic"}))),
        ("BITBUCKET_DELETE_TAG", widgets(json!({"name": "v9"}))),
        (
            "BITBUCKET_COMMIT_FILES",
            widgets(json!({"branch": "main", "message": "CI",
                "files": [{"path": "bitbucket-pipelines.yml", "content": PIPELINES}]})),
        ),
        (
            "BITBUCKET_RUN_PIPELINE",
            widgets(json!({"branch": "main", "variables": ["LEVEL=debug"]})),
        ),
        (
            "BITBUCKET_LIST_PIPELINES",
            widgets(json!({"branch": "main"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES2",
            widgets(json!({"pipeline_id": "1"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_STEPS",
            widgets(json!({"pipeline_id": "1"})),
        ),
        (
            "BITBUCKET_GET_PIPELINE_STEP_LOG",
            widgets(json!({"pipeline_id": "1", "step": "Build", "tail": 100})),
        ),
        (
            "BITBUCKET_RUN_PIPELINE",
            widgets(json!({"branch": "main", "custom": "slow"})),
        ),
        (
            "BITBUCKET_STOP_PIPELINE",
            widgets(json!({"pipeline_id": "2"})),
        ),
        (
            "BITBUCKET_CREATE_REPOSITORY_PIPELINE_VARIABLE",
            widgets(json!({"key": "REGION", "value": "eu"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_VARIABLES",
            widgets(json!({})),
        ),
        (
            "BITBUCKET_CREATE_TEAMS_PIPELINES_CONFIG_VARIABLES",
            json!({"username": "acme", "key": "TEAM_KEY", "value": "1"}),
        ),
        (
            "BITBUCKET_UPDATE_TEAMS_PIPELINES_CONFIG_VARIABLES",
            json!({"username": "acme", "variable_uuid": "TEAM_KEY", "value": "2"}),
        ),
        (
            "BITBUCKET_CREATE_USERS_PIPELINES_CONFIG_VARIABLES",
            json!({"selected_user": "acme", "key": "USER_KEY", "value": "1", "secured": true}),
        ),
        (
            "BITBUCKET_UPDATE_USERS_PIPELINES_CONFIG_VARIABLES",
            json!({"selected_user": "acme", "variable_uuid": "USER_KEY", "value": "2"}),
        ),
        (
            "BITBUCKET_DELETE_USER_PIPELINE_VARIABLE",
            json!({"selected_user": "acme", "variable_uuid": "USER_KEY"}),
        ),
        (
            "BITBUCKET_LIST_REPOSITORIES_ENVIRONMENTS",
            widgets(json!({})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_ENVIRONMENTS2",
            widgets(json!({"environment_id": "production"})),
        ),
        ("BITBUCKET_LIST_DEPLOYMENTS", widgets(json!({}))),
        (
            "BITBUCKET_GET_DEPLOYMENT_ENVIRONMENT_VARIABLES",
            widgets(json!({"environment_id": "Production"})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_SCHEDULES",
            widgets(json!({})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_RUNNERS",
            widgets(json!({})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_SSH_KNOWN_HOSTS",
            widgets(json!({})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_PIPELINES_CONFIG_CACHES",
            widgets(json!({})),
        ),
        (
            "BITBUCKET_GET_OPENID_CONFIGURATION",
            json!({"workspace": "acme"}),
        ),
        (
            "BITBUCKET_GET_HOOK_EVENTS",
            json!({"subject_type": "repository"}),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_BRANCHING_MODEL",
            widgets(json!({})),
        ),
        (
            "BITBUCKET_GET_REPOSITORIES_EFFECTIVE_BRANCHING_MODEL",
            widgets(json!({})),
        ),
        ("BITBUCKET_GET_USER", json!({"selected_user": "alice"})),
        ("BITBUCKET_GET_WORKSPACE", json!({"workspace": "acme"})),
        (
            "BITBUCKET_LIST_WORKSPACE_PROJECTS",
            json!({"workspace": "acme"}),
        ),
        ("BITBUCKET_LIST_ISSUES", widgets(json!({}))),
        (
            "BITBUCKET_CREATE_ISSUE",
            widgets(json!({"title": "Scratch"})),
        ),
        (
            "BITBUCKET_UPDATE_ISSUE",
            widgets(json!({"issue_id": 4, "title": "Scratch issue"})),
        ),
        (
            "BITBUCKET_CREATE_ISSUE_COMMENT",
            widgets(json!({"issue_id": 4, "content": "Noted."})),
        ),
        ("BITBUCKET_GET_ISSUE", widgets(json!({"issue_id": 4}))),
        (
            "BITBUCKET_GET_SNIPPET",
            json!({"workspace": "acme", "encoded_id": "kypj"}),
        ),
        (
            "BITBUCKET_CREATE_SNIPPET_COMMENT",
            json!({"workspace": "acme", "encoded_id": "kypj", "content": "Thanks."}),
        ),
        ("BITBUCKET_DELETE_ISSUE", widgets(json!({"issue_id": 4}))),
        (
            "BITBUCKET_DELETE_REPOSITORY",
            json!({"workspace": "acme", "repo_slug": "scratch"}),
        ),
    ];
    let called: HashSet<&str> = calls.iter().map(|(tool, _)| *tool).collect();
    let all: HashSet<&str> = Toolkit::catalogue().iter().map(|spec| spec.name).collect();
    assert_eq!(called, all, "every tool is called once");
    for (tool, arguments) in calls {
        env.ok(tool, arguments).await;
    }
}
