//! Snippets: reading one and commenting on it.

use bitbucket_client::{Client, Snippet, SnippetComment};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tool;
use crate::args::{Id, Text};
use crate::error::{Context, Explain, Scope, ToolError};
use crate::output::{CommentOutput, Person, Render, field};
use crate::spec::{ToolAnnotations, Toolset};

/// A snippet as a model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct SnippetOutput {
    /// Encoded id, e.g. `kypj`.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<Person>,
    /// File names.
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl SnippetOutput {
    fn from_snippet(snippet: Snippet, requested_id: &str) -> Self {
        // The id in URLs: Bitbucket's `id` is that code, but some servers send a number there
        // and the code as `encoded_id`; the one the caller used works in either case.
        let id = snippet
            .extra
            .get("encoded_id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .or(snippet.id.filter(|id| id.parse::<u64>().is_err()))
            .unwrap_or_else(|| requested_id.to_owned());
        SnippetOutput {
            id,
            title: snippet.title.filter(|t| !t.trim().is_empty()),
            is_private: snippet.is_private,
            creator: Person::of(snippet.creator.as_ref().or(snippet.owner.as_ref())),
            files: snippet.files.into_keys().collect(),
            created_on: snippet.created_on,
            updated_on: snippet.updated_on,
            html: snippet.links.html_href().map(str::to_owned),
        }
    }
}

impl Render for SnippetOutput {
    fn render(&self) -> String {
        let mut text = format!(
            "Snippet `{}` \"{}\"{}",
            self.id,
            self.title.as_deref().unwrap_or("untitled"),
            match self.is_private {
                Some(true) => " (private)",
                Some(false) => " (public)",
                None => "",
            }
        );
        field(
            &mut text,
            "creator",
            self.creator.as_ref().map(Person::label),
        );
        field(&mut text, "files", Some(self.files.join(", ")));
        field(&mut text, "created", self.created_on.as_deref());
        field(&mut text, "updated", self.updated_on.as_deref());
        field(&mut text, "link", self.html.as_deref());
        text
    }
}

fn snippet_context(action: &str, workspace: &str, id: &str) -> Context {
    Context::new(
        action,
        Scope::Snippet {
            workspace: workspace.to_owned(),
            id: id.to_owned(),
        },
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetSnippetArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// The snippet's id from its URL, e.g. `kypj`.
    encoded_id: Text,
}

pub(crate) struct GetSnippet;

impl Tool for GetSnippet {
    const NAME: &'static str = "BITBUCKET_GET_SNIPPET";
    const TITLE: &'static str = "Get snippet";
    const DESCRIPTION: &'static str = "Shows a snippet's title, privacy, creator, file names, dates and link. \
The id is the short code in the snippet's URL (`.../snippets/acme/kypj` → `kypj`).";
    const TOOLSET: Toolset = Toolset::Snippets;
    const ENDPOINT: &'static str = "GET /snippets/{workspace}/{encoded_id}";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::READ;
    type Args = GetSnippetArgs;
    type Output = SnippetOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (workspace, id) = (args.workspace.as_str(), args.encoded_id.as_str());
        let snippet = client
            .get_snippet(workspace, id)
            .await
            .or_explain(client, || {
                snippet_context("read the snippet", workspace, id)
            })
            .await?;
        Ok(SnippetOutput::from_snippet(snippet, id))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateSnippetCommentArgs {
    /// Workspace slug, e.g. `acme`.
    workspace: Text,
    /// The snippet's id from its URL, e.g. `kypj`.
    encoded_id: Text,
    /// Comment text in Markdown.
    content: Text,
    /// Id of the comment to reply to.
    parent_id: Option<Id>,
}

pub(crate) struct CreateSnippetComment;

impl Tool for CreateSnippetComment {
    const NAME: &'static str = "BITBUCKET_CREATE_SNIPPET_COMMENT";
    const TITLE: &'static str = "Comment on snippet";
    const DESCRIPTION: &'static str =
        "Adds a comment to a snippet, or a reply to one of its comments with `parent_id`.";
    const TOOLSET: Toolset = Toolset::Snippets;
    const ENDPOINT: &'static str = "POST /snippets/{workspace}/{encoded_id}/comments";
    const ANNOTATIONS: ToolAnnotations = ToolAnnotations::CREATE;
    type Args = CreateSnippetCommentArgs;
    type Output = CommentOutput;

    async fn run(client: &Client, args: Self::Args) -> Result<Self::Output, ToolError> {
        let (workspace, id) = (args.workspace.as_str(), args.encoded_id.as_str());
        let parent = args.parent_id.map(|p| p.0);
        let comment = client
            .create_snippet_comment(workspace, id, args.content.as_str(), parent)
            .await
            .or_explain(client, || {
                snippet_context("comment on the snippet", workspace, id)
            })
            .await?;
        Ok(snippet_comment_output(
            comment,
            format!("snippet {workspace}/{id}"),
            args.content.as_str(),
            parent,
        ))
    }
}

fn snippet_comment_output(
    comment: SnippetComment,
    on: String,
    sent: &str,
    parent: Option<u64>,
) -> CommentOutput {
    CommentOutput {
        id: comment.id,
        parent_id: comment.parent.map(|p| p.id).filter(|id| *id > 0).or(parent),
        commented_on: on,
        content: comment
            .content
            .and_then(|c| c.raw)
            .unwrap_or_else(|| sent.to_owned()),
        author: Person::of(comment.user.as_ref()),
        created_on: comment.created_on,
        html: comment.links.html_href().map(str::to_owned),
    }
}
