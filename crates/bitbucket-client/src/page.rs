//! Bitbucket's paginated collections and helpers to walk them.

use std::collections::VecDeque;

use futures::stream::{self, BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;
use crate::http::Client;

/// One page of a collection: `{"values": [...], "next": "...", "page": 1, ...}`.
///
/// Only `values` is required; the rest is optional because Bitbucket leaves out what it did
/// not compute (e.g. `size` on large collections).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// Items of this page.
    pub values: Vec<T>,
    /// Link to the next page; absent on the last one.
    #[serde(default)]
    pub next: Option<String>,
    /// Link to the previous page.
    #[serde(default)]
    pub previous: Option<String>,
    /// 1-based page number.
    #[serde(default)]
    pub page: Option<u64>,
    /// Requested page length.
    #[serde(default)]
    pub pagelen: Option<u64>,
    /// Total number of items, when Bitbucket computed it.
    #[serde(default)]
    pub size: Option<u64>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            values: Vec::new(),
            next: None,
            previous: None,
            page: None,
            pagelen: None,
            size: None,
        }
    }
}

impl<T> Page<T> {
    /// True when there is a further page.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }
}

/// A stream of items across pages.
pub type ItemStream<T> = BoxStream<'static, Result<T, Error>>;

/// Page selection shared by all list calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageParams {
    /// 1-based page number.
    pub page: Option<u32>,
    /// Items per page (Bitbucket allows up to 100 on most endpoints).
    pub pagelen: Option<u32>,
}

impl PageParams {
    /// No page selection: the server's first page and default length.
    pub fn new() -> Self {
        PageParams::default()
    }

    /// Selects a page.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Sets the page length.
    pub fn pagelen(mut self, pagelen: u32) -> Self {
        self.pagelen = Some(pagelen);
        self
    }
}

/// Filtering, sorting and page selection for list calls that take them.
///
/// `q` and `sort` follow Bitbucket's query language, e.g. `q = "name ~ \"feature\""`,
/// `sort = "-updated_on"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Filter expression.
    pub q: Option<String>,
    /// Sort field, `-` prefix for descending.
    pub sort: Option<String>,
    /// 1-based page number.
    pub page: Option<u32>,
    /// Items per page.
    pub pagelen: Option<u32>,
}

impl ListParams {
    /// No filter, sort or page selection.
    pub fn new() -> Self {
        ListParams::default()
    }

    /// Sets the filter expression.
    pub fn q(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }

    /// Sets the sort field.
    pub fn sort(mut self, sort: impl Into<String>) -> Self {
        self.sort = Some(sort.into());
        self
    }

    /// Selects a page.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Sets the page length.
    pub fn pagelen(mut self, pagelen: u32) -> Self {
        self.pagelen = Some(pagelen);
        self
    }
}

impl Client {
    /// Fetches the page after `page` by following its `next` link exactly as given;
    /// `None` on the last page.
    pub async fn next_page<T: DeserializeOwned>(
        &self,
        page: &Page<T>,
    ) -> Result<Option<Page<T>>, Error> {
        match &page.next {
            None => Ok(None),
            Some(next) => {
                let url = self.resolve_link(next)?;
                self.get_json(url).await.map(Some)
            }
        }
    }

    /// Streams the items of `first` and of every page after it, stopping after `max_items`.
    ///
    /// ```no_run
    /// # async fn demo(client: bitbucket_client::Client) -> Result<(), bitbucket_client::Error> {
    /// use futures::TryStreamExt;
    /// use bitbucket_client::{ListParams, RepoId};
    /// let website: RepoId = "acme/website".parse()?;
    /// let first = client.list_branches(&website, &ListParams::new()).await?;
    /// let all: Vec<_> = client.paginate(first, 500).try_collect().await?;
    /// # let _ = all; Ok(()) }
    /// ```
    pub fn paginate<T>(&self, first: Page<T>, max_items: usize) -> ItemStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let state = Walk {
            client: self.clone(),
            buffer: first.values.into(),
            next: first.next.map(Next::Link),
            remaining: max_items,
        };
        walk(state)
    }

    /// Streams the items of the collection at `url` (a full URL on the base URL's host, or a
    /// path below the base URL such as `/repositories/acme?q=...`), stopping after `max_items`.
    pub fn paginate_url<T>(&self, url: &str, max_items: usize) -> ItemStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let next = match self.resolve_link(url) {
            Ok(url) => Next::Url(url),
            Err(err) => Next::Failed(err),
        };
        walk(Walk {
            client: self.clone(),
            buffer: VecDeque::new(),
            next: Some(next),
            remaining: max_items,
        })
    }
}

enum Next {
    Link(String),
    Url(Url),
    Failed(Error),
}

struct Walk<T> {
    client: Client,
    buffer: VecDeque<T>,
    next: Option<Next>,
    remaining: usize,
}

fn walk<T>(state: Walk<T>) -> ItemStream<T>
where
    T: DeserializeOwned + Send + 'static,
{
    stream::unfold(state, |mut state| async move {
        loop {
            if state.remaining == 0 {
                return None;
            }
            if let Some(item) = state.buffer.pop_front() {
                state.remaining -= 1;
                return Some((Ok(item), state));
            }
            let url = match state.next.take()? {
                Next::Failed(err) => {
                    state.remaining = 0;
                    return Some((Err(err), state));
                }
                Next::Url(url) => url,
                Next::Link(link) => match state.client.resolve_link(&link) {
                    Ok(url) => url,
                    Err(err) => {
                        state.remaining = 0;
                        return Some((Err(err), state));
                    }
                },
            };
            match state.client.get_json::<Page<T>>(url.clone()).await {
                Ok(page) => {
                    // An empty page, or one pointing at itself, would loop forever.
                    let stuck =
                        page.values.is_empty() || page.next.as_deref() == Some(url.as_str());
                    state.buffer = page.values.into();
                    state.next = if stuck {
                        None
                    } else {
                        page.next.map(Next::Link)
                    };
                }
                Err(err) => {
                    state.remaining = 0;
                    return Some((Err(err), state));
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientConfig;
    use futures::TryStreamExt;

    #[test]
    fn page_needs_only_values() {
        let page: Page<u32> = serde_json::from_str(r#"{"values":[1,2]}"#).unwrap();
        assert_eq!(page.values, vec![1, 2]);
        assert!(!page.has_next());
        let page: Page<u32> = serde_json::from_str(
            r#"{"values":[],"next":"https://x/2.0/a?page=2","page":1,"pagelen":10,"size":11,"previous":null}"#,
        )
        .unwrap();
        assert_eq!(page.next.as_deref(), Some("https://x/2.0/a?page=2"));
        assert_eq!(page.size, Some(11));
        assert!(serde_json::from_str::<Page<u32>>(r#"{"next":"x"}"#).is_err());
    }

    #[tokio::test]
    async fn paginate_respects_the_cap_without_fetching() {
        let client = Client::new(ClientConfig::new("http://127.0.0.1:1/2.0")).unwrap();
        let first = Page {
            values: vec![1u32, 2, 3],
            // Never fetched: the cap is reached within the first page.
            next: Some("http://127.0.0.1:1/2.0/x?page=2".to_owned()),
            ..Page::default()
        };
        let items: Vec<u32> = client
            .paginate(first.clone(), 2)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, vec![1, 2]);
        let none: Vec<u32> = client.paginate(first, 0).try_collect().await.unwrap();
        assert!(none.is_empty());
        let last = Page {
            values: vec![7u32],
            ..Page::default()
        };
        let items: Vec<u32> = client.paginate(last, 10).try_collect().await.unwrap();
        assert_eq!(items, vec![7]);
    }

    #[tokio::test]
    async fn paginate_refuses_foreign_links() {
        let client = Client::new(ClientConfig::new("http://127.0.0.1:1/2.0")).unwrap();
        let first = Page {
            values: vec![1u32],
            next: Some("https://elsewhere.example/2.0/x?page=2".to_owned()),
            ..Page::default()
        };
        let results: Vec<Result<u32, Error>> = client.paginate(first, 10).collect().await;
        assert_eq!(results.len(), 2);
        assert!(matches!(results[1], Err(Error::InvalidInput { .. })));
        let results: Vec<Result<u32, Error>> = client
            .paginate_url("https://elsewhere.example/2.0/x", 10)
            .collect()
            .await;
        assert_eq!(results.len(), 1);
    }
}
