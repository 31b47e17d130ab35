//! Query parameters and the pagination envelope (`values`, `page`, `pagelen`, `size`,
//! `next`, `previous`), with Bitbucket's limits on `pagelen`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::query::{Collation, Filter, Sort};
use crate::state::SharedState;

/// Bitbucket's default page length.
pub const DEFAULT_PAGELEN: usize = 10;
/// The most items a page may hold on most endpoints.
pub const MAX_PAGELEN: usize = 100;
/// Pull request lists allow fewer.
pub const MAX_PR_PAGELEN: usize = 50;

/// The request's query string as ordered pairs, keeping repeated keys (`state=OPEN&state=MERGED`)
/// and the original path, so that `next` links can be built from the request itself.
#[derive(Debug, Clone)]
pub struct Params {
    pub path: String,
    pub pairs: Vec<(String, String)>,
}

impl Params {
    /// The parameters of a request to `path` with this query string (without the `?`).
    pub fn parse(path: &str, query: &str) -> Params {
        let pairs = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params {
            path: path.to_owned(),
            pairs,
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn filter(&self) -> ApiResult<Option<Filter>> {
        match self.get("q") {
            None => Ok(None),
            Some(q) if q.trim().is_empty() => Ok(None),
            Some(q) => Filter::parse(q)
                .map(Some)
                .map_err(|e| ApiError::bad_request(e.to_string()).with_field("q", e.to_string())),
        }
    }

    pub fn sort(&self) -> ApiResult<Option<Sort>> {
        match self.get("sort") {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Sort::parse(s).map(Some).map_err(|e| {
                ApiError::bad_request(e.to_string()).with_field("sort", e.to_string())
            }),
        }
    }

    /// `page` and `pagelen`, validated against `max_pagelen`.
    pub fn page(&self, max_pagelen: usize) -> ApiResult<(usize, usize)> {
        let pagelen =
            match self.get("pagelen") {
                None => DEFAULT_PAGELEN,
                Some(raw) => match raw.trim().parse::<usize>() {
                    Ok(n) if (1..=max_pagelen).contains(&n) => n,
                    _ => {
                        return Err(ApiError::bad_request("Invalid pagelen").with_detail(format!(
                        "pagelen must be a whole number from 1 to {max_pagelen}, got '{raw}'"
                    )));
                    }
                },
            };
        let page = match self.get("page") {
            None => 1,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(ApiError::bad_request("Invalid page")
                        .with_detail(format!("page must be a whole number from 1, got '{raw}'")));
                }
            },
        };
        Ok((page, pagelen))
    }

    fn url_with_page(&self, origin: &str, page: usize) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let mut wrote_page = false;
        for (k, v) in &self.pairs {
            if k == "page" {
                if !wrote_page {
                    out.append_pair("page", &page.to_string());
                    wrote_page = true;
                }
            } else {
                out.append_pair(k, v);
            }
        }
        if !wrote_page {
            out.append_pair("page", &page.to_string());
        }
        format!("{origin}{}?{}", self.path, out.finish())
    }
}

impl FromRequestParts<SharedState> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &SharedState) -> ApiResult<Self> {
        Ok(Params::parse(
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
        ))
    }
}

/// Filters, sorts and cuts one page out of `items`, then wraps it in the envelope.
pub fn paginate(
    origin: &str,
    params: &Params,
    items: Vec<Value>,
    max_pagelen: usize,
) -> ApiResult<Value> {
    paginate_with(origin, params, items, max_pagelen, &Collation::new())
}

/// [`paginate`], with field-specific ordering (issue priorities, natural ref names).
pub fn paginate_with(
    origin: &str,
    params: &Params,
    mut items: Vec<Value>,
    max_pagelen: usize,
    collation: &Collation,
) -> ApiResult<Value> {
    let (page, pagelen) = params.page(max_pagelen)?;
    if let Some(filter) = params.filter()? {
        items.retain(|item| filter.matches_with(item, collation));
    }
    if let Some(sort) = params.sort()? {
        sort.apply_with(&mut items, collation);
    }
    let size = items.len();
    let start = (page - 1).saturating_mul(pagelen);
    let values: Vec<Value> = items.into_iter().skip(start).take(pagelen).collect();
    let mut envelope = json!({
        "pagelen": pagelen,
        "size": size,
        "page": page,
        "values": values,
    });
    if let Some(obj) = envelope.as_object_mut() {
        if start.saturating_add(pagelen) < size {
            obj.insert(
                "next".into(),
                Value::String(params.url_with_page(origin, page + 1)),
            );
        }
        if page > 1 {
            obj.insert(
                "previous".into(),
                Value::String(params.url_with_page(origin, page - 1)),
            );
        }
    }
    Ok(envelope)
}
