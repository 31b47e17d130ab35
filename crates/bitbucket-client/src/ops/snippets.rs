//! Snippets and their comments.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::http::{Accept, ApiRequest, Client};
use crate::models::{Snippet, SnippetComment};
use crate::ops::raw_content;
use crate::path::segment;

fn snippet_path(workspace: &str, encoded_id: &str) -> Result<String, Error> {
    Ok(format!(
        "/snippets/{}/{}",
        segment("workspace", workspace)?,
        segment("encoded_id", encoded_id)?
    ))
}

pub(crate) fn snippet_comment_body(content: &str, parent_id: Option<u64>) -> Value {
    let mut body = Map::new();
    body.insert("content".into(), raw_content(content));
    if let Some(parent) = parent_id {
        body.insert("parent".into(), json!({ "id": parent }));
    }
    Value::Object(body)
}

impl Client {
    /// `GET /snippets/{workspace}/{encoded_id}`, asking for JSON (the endpoint can also
    /// answer in multipart form).
    pub async fn get_snippet(&self, workspace: &str, encoded_id: &str) -> Result<Snippet, Error> {
        let url = self.endpoint(&snippet_path(workspace, encoded_id)?)?;
        self.fetch(ApiRequest::new(Method::GET, url).accept(Accept::Json))
            .await
    }

    /// `POST /snippets/{workspace}/{encoded_id}/comments`; `parent_id` makes it a reply.
    pub async fn create_snippet_comment(
        &self,
        workspace: &str,
        encoded_id: &str,
        content: &str,
        parent_id: Option<u64>,
    ) -> Result<SnippetComment, Error> {
        let url = self.endpoint(&format!(
            "{}/comments",
            snippet_path(workspace, encoded_id)?
        ))?;
        self.send_json(Method::POST, url, &snippet_comment_body(content, parent_id))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_body() {
        assert_eq!(
            snippet_comment_body("hi", None),
            json!({"content": {"raw": "hi"}})
        );
        assert_eq!(
            snippet_comment_body("hi", Some(9)),
            json!({"content": {"raw": "hi"}, "parent": {"id": 9}})
        );
    }

    #[test]
    fn snippet_deserializes_with_string_or_number_id() {
        let snippet: Snippet = serde_json::from_str(
            r#"{"type":"snippet","id":"kypj89","title":"Example","scm":"git","is_private":false,
            "files":{"main.rs":{"links":{"self":{"href":"https://api/x"},"html":{"href":"https://web/x"}}},"odd":null},
            "owner":{"display_name":"Ann"},"links":{"html":{"href":"https://bitbucket.org/snippets/a/kypj89"}}}"#,
        )
        .unwrap();
        assert_eq!(snippet.id.as_deref(), Some("kypj89"));
        assert_eq!(
            snippet.files["main.rs"].links.html_href(),
            Some("https://web/x")
        );
        assert!(!snippet.files.contains_key("odd"));
        let numeric: Snippet = serde_json::from_str(r#"{"id":42,"files":null}"#).unwrap();
        assert_eq!(numeric.id.as_deref(), Some("42"));
        let comment: SnippetComment = serde_json::from_str(
            r#"{"id":5,"content":{"raw":"nice"},"parent":{"id":4},"snippet":{"id":"kypj89"}}"#,
        )
        .unwrap();
        assert_eq!(comment.parent.unwrap().id, 4);
    }
}
