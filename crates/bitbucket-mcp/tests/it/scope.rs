//! `--read-only`, `--toolsets` and `--tools` narrow what a server offers.

use bitbucket_client::{Auth, Client, ClientConfig};
use bitbucket_mcp::{BitbucketMcp, ServerOptions};
use bitbucket_toolkit::{Toolkit, Toolset};

fn handler(options: ServerOptions) -> Result<BitbucketMcp, bitbucket_mcp::OptionsError> {
    // The handler only lists here; no request reaches this address.
    let client =
        Client::new(ClientConfig::new("http://127.0.0.1:9/2.0").with_auth(Auth::bearer("unused")))
            .expect("client");
    BitbucketMcp::new(Toolkit::new(client), options)
}

fn names(h: &BitbucketMcp) -> Vec<String> {
    h.tools().iter().map(|t| t.name.to_string()).collect()
}

#[test]
fn read_only_offers_only_reads() {
    let h = handler(ServerOptions {
        read_only: true,
        ..Default::default()
    })
    .expect("handler");
    assert!(!h.tools().is_empty());
    for tool in h.tools() {
        let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
        assert_eq!(read_only, Some(true), "{} is offered read-only", tool.name);
    }
    assert!(!names(&h).contains(&"BITBUCKET_CREATE_BRANCH".to_owned()));
}

#[test]
fn toolsets_and_tools_intersect() {
    let h = handler(ServerOptions {
        toolsets: Some(vec![Toolset::Branches]),
        ..Default::default()
    })
    .expect("handler");
    let mut branches = names(&h);
    branches.sort();
    assert_eq!(
        branches,
        [
            "BITBUCKET_CREATE_BRANCH",
            "BITBUCKET_CREATE_TAG",
            "BITBUCKET_DELETE_BRANCH",
            "BITBUCKET_DELETE_TAG",
            "BITBUCKET_GET_BRANCH",
            "BITBUCKET_LIST_BRANCHES",
            "BITBUCKET_LIST_TAGS"
        ]
    );
    let h = handler(ServerOptions {
        toolsets: Some(vec![Toolset::Branches, Toolset::Issues]),
        tools: Some(vec![
            "BITBUCKET_GET_BRANCH".into(),
            "BITBUCKET_GET_CURRENT_USER".into(),
        ]),
        ..Default::default()
    })
    .expect("handler");
    assert_eq!(names(&h), ["BITBUCKET_GET_BRANCH"]);
}

#[test]
fn an_unknown_tool_in_the_filter_is_refused() {
    let err = handler(ServerOptions {
        tools: Some(vec!["BITBUCKET_NOPE".into()]),
        ..Default::default()
    })
    .expect_err("refused");
    assert!(err.to_string().contains("BITBUCKET_NOPE"), "{err}");
    assert!(
        err.to_string().contains("BITBUCKET_CREATE_BRANCH"),
        "lists the known ones: {err}"
    );
}
