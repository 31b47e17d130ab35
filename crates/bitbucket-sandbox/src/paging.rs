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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    const ORIGIN: &str = "http://sandbox";

    fn params(query: &str) -> Params {
        Params::parse("/2.0/repositories/acme", query)
    }

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({"id": i})).collect()
    }

    /// The `page` of a `next` or `previous` link.
    fn page_of(link: &Value) -> usize {
        let link = link.as_str().expect("a link");
        let query = link.split_once('?').expect("a query").1;
        let pairs = Params::parse("", query);
        assert_eq!(pairs.get_all("page").len(), 1, "{link}");
        pairs.get("page").expect("page").parse().expect("a number")
    }

    proptest! {
        #[test]
        fn a_page_is_the_slice_the_arithmetic_says(
            n in 0usize..250,
            pagelen in 1usize..=MAX_PAGELEN,
            page in prop_oneof![1usize..30, Just(usize::MAX), (usize::MAX / 2)..usize::MAX],
        ) {
            let query = format!("state=OPEN&page={page}&pagelen={pagelen}&state=NEW");
            let envelope = paginate(ORIGIN, &params(&query), items(n), MAX_PAGELEN).expect("valid");
            // In u128, where nothing overflows: the items from `first` on, `pagelen` of them.
            let first = (page as u128 - 1) * pagelen as u128;
            let end = first + pagelen as u128;
            let expected: Vec<Value> = items(n)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| (first..end).contains(&(*i as u128)))
                .map(|(_, item)| item)
                .collect();
            prop_assert_eq!(&envelope["values"], &Value::Array(expected));
            prop_assert_eq!(&envelope["size"], &json!(n));
            prop_assert_eq!(&envelope["page"], &json!(page));
            prop_assert_eq!(&envelope["pagelen"], &json!(pagelen));
            // A next page exists exactly when items lie beyond this one.
            let more = end < n as u128;
            prop_assert_eq!(envelope.get("next").is_some(), more);
            if let Some(next) = envelope.get("next") {
                prop_assert_eq!(page_of(next), page + 1);
                let next = next.as_str().expect("a link");
                prop_assert!(next.starts_with("http://sandbox/2.0/repositories/acme?"), "{}", next);
                prop_assert!(next.contains("state=OPEN") && next.contains("state=NEW"), "{}", next);
            }
            prop_assert_eq!(envelope.get("previous").is_some(), page > 1);
            if let Some(previous) = envelope.get("previous") {
                prop_assert_eq!(page_of(previous), page - 1);
            }
        }

        #[test]
        fn following_next_links_visits_every_item_once(n in 0usize..120, pagelen in 1usize..=MAX_PR_PAGELEN) {
            let mut seen = Vec::new();
            let mut query = format!("pagelen={pagelen}");
            for _ in 0..=n {
                let envelope = paginate(ORIGIN, &params(&query), items(n), MAX_PR_PAGELEN).expect("valid");
                seen.extend(envelope["values"].as_array().expect("values").iter().cloned());
                match envelope.get("next").and_then(Value::as_str) {
                    Some(next) => query = next.split_once('?').expect("a query").1.to_owned(),
                    None => break,
                }
            }
            prop_assert_eq!(seen, items(n));
        }

        #[test]
        fn page_and_pagelen_are_whole_numbers_in_range(
            pagelen in prop_oneof![
                "[0-9]{1,3}", " ?[0-9]{1,2} ?", "-[0-9]", "[0-9]{20,22}", "[a-z+.]{0,3}", Just(String::new()),
            ],
            page in prop_oneof!["[0-9]{1,4}", "[0-9]{19,22}", "-1", "1.5", Just(String::new())],
        ) {
            let query = format!("pagelen={}&page={}", urlencode(&pagelen), urlencode(&page));
            let got = params(&query).page(MAX_PAGELEN);
            // What the rules say, computed without `usize` parsing: digits, trimmed, in range.
            let whole = |raw: &str, min: u128, max: u128| {
                let t = raw.trim_matches(|c: char| c.is_ascii_whitespace());
                let t = t.strip_prefix('+').unwrap_or(t);
                if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let digits = t.trim_start_matches('0');
                if digits.len() > 30 {
                    return None;
                }
                let value: u128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
                (min..=max).contains(&value).then_some(value as usize)
            };
            let expected_pagelen = whole(&pagelen, 1, MAX_PAGELEN as u128);
            let expected_page = whole(&page, 1, usize::MAX as u128);
            match (expected_pagelen, expected_page) {
                (Some(len), Some(p)) => prop_assert_eq!(got.expect("valid"), (p, len)),
                (None, _) => prop_assert_eq!(got.expect_err("bad pagelen").message, "Invalid pagelen"),
                (Some(_), None) => prop_assert_eq!(got.expect_err("bad page").message, "Invalid page"),
            }
        }
    }

    fn urlencode(raw: &str) -> String {
        url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
    }
}
