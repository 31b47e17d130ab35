//! What a model reads: the text of each read tool's result on the seed data.

use serde_json::json;

use crate::support::start;

/// Replaces what changes between runs (the port, uuids, account ids) with fixed markers.
fn stable(text: &str, origin: &str) -> String {
    let text = text.replace(origin, "http://sandbox");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        match candidate.find('}') {
            Some(end) if end == 37 => {
                out.push_str("{uuid}");
                rest = &candidate[end + 1..];
            }
            _ => {
                out.push('{');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    out.split_inclusive('\n')
        .map(|line| match line.find("712020:") {
            Some(at) => format!("{}<account id>\n", &line[..at]),
            None => line.to_owned(),
        })
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[tokio::test]
async fn read_tool_texts() {
    let env = start().await;
    let origin = env.client.base_url().trim_end_matches("/2.0").to_owned();
    let widgets = json!({"workspace": "acme", "repo_slug": "widgets"});
    let with = |extra: serde_json::Value| {
        let mut arguments = widgets.clone();
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
            json!({"workspace": "acme", "pagelen": 1}),
        ),
        ("BITBUCKET_GET_REPOSITORY", widgets.clone()),
        ("BITBUCKET_BROWSE_REPOSITORY_PATH", widgets.clone()),
        (
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            with(json!({"path": "docs/guide.md"})),
        ),
        (
            "BITBUCKET_GET_FILE_FROM_REPOSITORY",
            with(json!({"path": "src"})),
        ),
        ("BITBUCKET_LIST_COMMITS", widgets.clone()),
        ("BITBUCKET_LIST_BRANCHES", widgets.clone()),
        ("BITBUCKET_GET_BRANCH", with(json!({"name": "develop"}))),
        ("BITBUCKET_LIST_TAGS", widgets.clone()),
        ("BITBUCKET_LIST_PULL_REQUESTS", widgets.clone()),
        (
            "BITBUCKET_GET_PULL_REQUEST",
            with(json!({"pull_request_id": 1})),
        ),
        ("BITBUCKET_LIST_ISSUES", with(json!({"pagelen": 2}))),
        ("BITBUCKET_LIST_ISSUES", with(json!({"q": "id = 1"}))),
        ("BITBUCKET_GET_ISSUE", with(json!({"issue_id": 1}))),
        (
            "BITBUCKET_GET_SNIPPET",
            json!({"workspace": "acme", "encoded_id": "kypj"}),
        ),
    ];
    let mut transcript = String::new();
    for (tool, arguments) in calls {
        let outcome = env.ok(tool, arguments.clone()).await;
        transcript.push_str(&format!(
            "### {tool} {arguments}\n{}\n\n",
            stable(&outcome.text, &origin)
        ));
    }
    insta::assert_snapshot!("read_tool_texts", transcript);
}
