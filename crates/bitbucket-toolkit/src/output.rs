//! Shaping Bitbucket's answers for a model: the few fields it needs, the paging summary of
//! list tools, and the compact text rendering that goes next to the structured result.

use std::fmt::Write as _;

use bitbucket_client::{Account, Page};
use schemars::JsonSchema;
use serde::Serialize;

/// Renders a result as the compact text a model reads.
pub(crate) trait Render {
    fn render(&self) -> String;
}

/// A person as shown to a model: the name to call them and the nickname to pass back
/// (as a reviewer or assignee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub(crate) struct Person {
    /// Name to show, e.g. `Alice Liddell`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Nickname, e.g. `alice`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// The account's UUID: who wrote something, for lockdown; not shown.
    #[serde(skip)]
    #[schemars(skip)]
    pub uuid: Option<String>,
}

impl Person {
    pub fn from_account(account: &Account) -> Self {
        Person {
            display_name: account.display_name.clone(),
            nickname: account
                .nickname
                .clone()
                .or_else(|| account.username.clone()),
            uuid: account.uuid.clone(),
        }
    }

    pub fn of(account: Option<&Account>) -> Option<Self> {
        account.map(Self::from_account)
    }

    /// `Alice Liddell (@alice)`.
    pub fn label(&self) -> String {
        match (&self.display_name, &self.nickname) {
            (Some(name), Some(nick)) if name != nick => format!("{name} (@{nick})"),
            (Some(name), _) => name.clone(),
            (None, Some(nick)) => format!("@{nick}"),
            (None, None) => "unknown".to_owned(),
        }
    }
}

/// Where a list stands: which page this is and what to pass for the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub(crate) struct Paging {
    /// This page's number (1-based).
    pub page: u64,
    /// Items per page.
    pub pagelen: u64,
    /// Total items across pages, when Bitbucket counted them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Whether a further page exists.
    pub has_more: bool,
    /// The `page` argument that fetches the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page: Option<u64>,
}

impl Paging {
    /// Reads the paging fields of `page`; `requested` is the page asked for, used when
    /// Bitbucket leaves `page` out (it does on cursor-paged lists such as commits).
    pub fn of<T>(page: &Page<T>, requested: Option<u32>) -> Self {
        let number = page.page.or(requested.map(u64::from)).unwrap_or(1);
        let count = u64::try_from(page.values.len()).unwrap_or(u64::MAX);
        let next_page = page.next.as_deref().map(|next| {
            // Bitbucket's `next` carries `page=N`; fall back to counting when it is a cursor.
            page_param(next).unwrap_or(number + 1)
        });
        Paging {
            page: number,
            pagelen: page.pagelen.unwrap_or(count),
            size: page.size,
            has_more: next_page.is_some(),
            next_page,
        }
    }

    /// `page 1 of 3, 25 total` or just `page 2`.
    fn position(&self) -> String {
        match self.size {
            Some(size) => {
                let pages = if self.pagelen == 0 {
                    1
                } else {
                    size.div_ceil(self.pagelen).max(1)
                };
                format!("page {} of {pages}, {size} total", self.page)
            }
            None => format!("page {}", self.page),
        }
    }

    /// The last line of a list's text: how to get more, so paging is never dropped silently.
    fn footer(&self) -> String {
        match self.next_page {
            Some(next) => format!("More results: call again with page={next}"),
            None => "No more results".to_owned(),
        }
    }
}

fn page_param(link: &str) -> Option<u64> {
    let query = link.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "page")
        .and_then(|(_, value)| value.parse().ok())
}

/// The result of a list tool: one page of items and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct ListOutput<T> {
    /// The items of this page.
    pub items: Vec<T>,
    #[serde(flatten)]
    pub paging: Paging,
    /// The heading of the text rendering, e.g. `branches in acme/widgets`.
    #[serde(skip)]
    pub heading: String,
}

impl<T> ListOutput<T> {
    pub fn new<S>(
        page: Page<S>,
        requested: Option<u32>,
        heading: String,
        shape: impl Fn(S) -> T,
    ) -> Self {
        let paging = Paging::of(&page, requested);
        ListOutput {
            items: page.values.into_iter().map(shape).collect(),
            paging,
            heading,
        }
    }
}

/// One line of a list's text.
pub(crate) trait Line {
    fn line(&self) -> String;
}

impl<T: Line> Render for ListOutput<T> {
    fn render(&self) -> String {
        render_list(&self.heading, &self.items, &self.paging)
    }
}

/// `Heading (page 1 of 2, 3 total):`, one line per item, then the paging footer.
pub(crate) fn render_list<T: Line>(heading: &str, items: &[T], paging: &Paging) -> String {
    let mut text = String::new();
    if items.is_empty() {
        let _ = writeln!(text, "{heading}: none ({})", paging.position());
    } else {
        let _ = writeln!(text, "{heading} ({}):", paging.position());
        for item in items {
            let _ = writeln!(text, "- {}", item.line());
        }
    }
    text.push_str(&paging.footer());
    text
}

/// A comment just posted.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub(crate) struct CommentOutput {
    pub id: u64,
    /// The comment it replies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u64>,
    /// What it comments on, e.g. `issue #3 of acme/widgets`.
    pub commented_on: String,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl Render for CommentOutput {
    fn render(&self) -> String {
        let mut text = format!("Added comment {} on {}", self.id, self.commented_on);
        field(&mut text, "reply to comment", self.parent_id);
        field(&mut text, "author", self.author.as_ref().map(Person::label));
        field(&mut text, "link", self.html.as_deref());
        text
    }
}

/// The first 7 characters of a commit hash, as git shows them.
pub(crate) fn short_hash(hash: &str) -> &str {
    hash.get(..7).unwrap_or(hash)
}

/// The date part of an ISO 8601 time, for one-line listings.
pub(crate) fn day(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

/// The first line of a commit or tag message.
pub(crate) fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn clip(text: &str, max: usize) -> (String, bool) {
    if text.chars().count() <= max {
        (text.to_owned(), false)
    } else {
        let cut: String = text.chars().take(max).collect();
        (format!("{}…", cut.trim_end()), true)
    }
}

/// Appends `label: value` to a text rendering when the value is known.
pub(crate) fn field(text: &mut String, label: &str, value: Option<impl std::fmt::Display>) {
    if let Some(value) = value {
        let _ = write!(text, "\n{label}: {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(
        values: Vec<u32>,
        next: Option<&str>,
        number: Option<u64>,
        size: Option<u64>,
    ) -> Page<u32> {
        Page {
            values,
            next: next.map(str::to_owned),
            page: number,
            pagelen: Some(2),
            size,
            ..Page::default()
        }
    }

    #[test]
    fn paging_reads_the_next_page_number() {
        let paging = Paging::of(
            &page(
                vec![1, 2],
                Some("http://x/2.0/a?pagelen=2&page=2"),
                Some(1),
                Some(3),
            ),
            None,
        );
        assert_eq!(paging.next_page, Some(2));
        assert!(paging.has_more);
        assert_eq!(paging.position(), "page 1 of 2, 3 total");
        assert_eq!(paging.footer(), "More results: call again with page=2");

        // A cursor instead of a number: count on from the page asked for.
        let paging = Paging::of(
            &page(vec![1, 2], Some("http://x/2.0/c?page=a1b2"), None, None),
            Some(3),
        );
        assert_eq!((paging.page, paging.next_page), (3, Some(4)));

        let last = Paging::of(&page(vec![3], None, Some(2), Some(3)), Some(2));
        assert!(!last.has_more);
        assert_eq!(last.next_page, None);
        assert_eq!(last.footer(), "No more results");
    }

    #[test]
    fn helpers() {
        assert_eq!(short_hash("0123456789abcdef"), "0123456");
        assert_eq!(short_hash("abc"), "abc");
        assert_eq!(day("2026-01-05T09:00:00+00:00"), "2026-01-05");
        assert_eq!(first_line("Fix it\n\nlong body"), "Fix it");
        assert_eq!(clip("abcdef", 3), ("abc…".to_owned(), true));
        assert_eq!(clip("abc", 3), ("abc".to_owned(), false));
        let alice = Person {
            display_name: Some("Alice Liddell".into()),
            nickname: Some("alice".into()),
            uuid: None,
        };
        assert_eq!(alice.label(), "Alice Liddell (@alice)");
    }
}
