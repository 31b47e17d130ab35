//! Operations on [`Client`](crate::Client), one module per resource, with their request types.

use serde_json::{Value, json};

use crate::http::Query;
use crate::page::{ListParams, PageParams};

pub(crate) mod changes;
pub(crate) mod commits;
pub(crate) mod insights;
pub(crate) mod issues;
pub(crate) mod pipelines;
pub(crate) mod pullrequests;
pub(crate) mod refs;
pub(crate) mod repositories;
pub(crate) mod review;
pub(crate) mod snippets;
pub(crate) mod source;
pub(crate) mod users;
pub(crate) mod workspaces;

/// A reference to an account in a request body: `{"uuid": ...}` or `{"account_id": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountRef {
    /// UUID in braces, e.g. `{470c176d-3574-44ea-bb41-89e8638bcca4}`.
    Uuid(String),
    /// Atlassian account id, e.g. `557058:3aae1e05-...`.
    AccountId(String),
}

impl AccountRef {
    /// A UUID in braces is taken as a UUID, anything else as an account id.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if text.starts_with('{') && text.ends_with('}') {
            AccountRef::Uuid(text.to_owned())
        } else {
            AccountRef::AccountId(text.to_owned())
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            AccountRef::Uuid(uuid) => json!({ "uuid": uuid }),
            AccountRef::AccountId(id) => json!({ "account_id": id }),
        }
    }
}

pub(crate) fn list_query(params: &ListParams) -> Query {
    Query::new()
        .opt("q", params.q.as_deref())
        .opt("sort", params.sort.as_deref())
        .opt("page", params.page)
        .opt("pagelen", params.pagelen)
}

pub(crate) fn page_query(params: &PageParams) -> Query {
    Query::new()
        .opt("page", params.page)
        .opt("pagelen", params.pagelen)
}

/// `{"raw": text}`, the shape of every writable text body.
pub(crate) fn raw_content(text: &str) -> Value {
    json!({ "raw": text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_refs() {
        assert_eq!(
            AccountRef::parse("{abc}").to_json(),
            json!({"uuid": "{abc}"})
        );
        assert_eq!(
            AccountRef::parse("557058:x").to_json(),
            json!({"account_id": "557058:x"})
        );
    }
}
