//! Walking collections across several pages: `next_page`, the `paginate` stream and its cap,
//! and `paginate_url`, with request counts proving what was (not) fetched.

use bitbucket_client::{Branch, Client, ListParams, NewBranch, Page};
use futures::TryStreamExt;

use crate::support::{Env, repo, start};

const BRANCHES: usize = 25;
const QUERY: &str = "name ~ \"page/\"";

/// Creates `page/01` .. `page/25` and returns their names in ascending order.
async fn many_branches(env: &Env) -> (Client, Vec<String>) {
    let client = env.demo();
    let names: Vec<String> = (1..=BRANCHES).map(|n| format!("page/{n:02}")).collect();
    for name in &names {
        client
            .create_branch(
                &repo("acme", "widgets"),
                &NewBranch::new(name.clone(), "main"),
            )
            .await
            .unwrap_or_else(|err| panic!("create {name}: {err}"));
    }
    (client, names)
}

async fn first_page(client: &Client, sort: &str) -> Page<Branch> {
    client
        .list_branches(
            &repo("acme", "widgets"),
            &ListParams::new().q(QUERY).sort(sort).pagelen(10),
        )
        .await
        .expect("first page")
}

fn names(branches: &[Branch]) -> Vec<String> {
    branches.iter().map(|b| b.name.clone()).collect()
}

#[tokio::test]
async fn next_page_visits_every_page_once_in_order() {
    let env = start().await;
    let (client, expected) = many_branches(&env).await;

    let first = first_page(&client, "name").await;
    assert_eq!(first.values.len(), 10);
    assert_eq!(first.page, Some(1));
    assert_eq!(first.pagelen, Some(10));
    assert_eq!(first.size, Some(25));
    assert!(first.previous.is_none());

    let mut seen = names(&first.values);
    let mut sizes = vec![first.values.len()];
    let mut pages = vec![first.page];
    let mut page = first;
    let before = env.requests();
    while let Some(next) = client.next_page(&page).await.expect("next page") {
        sizes.push(next.values.len());
        pages.push(next.page);
        assert!(next.previous.is_some(), "page {:?} links back", next.page);
        seen.extend(names(&next.values));
        page = next;
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(pages, [Some(1), Some(2), Some(3)]);
    assert_eq!(seen, expected, "every branch once, in order");
    assert_eq!(
        env.requests() - before,
        2,
        "two further pages, and nothing fetched past the last one"
    );

    // The last page has no `next`: asking for it again costs no request.
    let before = env.requests();
    assert!(client.next_page(&page).await.expect("no next").is_none());
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn paginate_streams_all_pages_and_stops_at_the_cap() {
    let env = start().await;
    let (client, expected) = many_branches(&env).await;
    let first = first_page(&client, "name").await;

    let before = env.requests();
    let all: Vec<Branch> = client
        .paginate(first.clone(), 1_000)
        .try_collect()
        .await
        .expect("all items");
    assert_eq!(names(&all), expected);
    assert_eq!(env.requests() - before, 2, "pages 2 and 3 only");

    // Caps: within the first page nothing is fetched; at a page boundary the stream stops
    // without asking for the page after it.
    for (cap, fetched) in [(0, 0), (5, 0), (10, 0), (11, 1), (20, 1), (21, 2), (25, 2)] {
        let before = env.requests();
        let items: Vec<Branch> = client
            .paginate(first.clone(), cap)
            .try_collect()
            .await
            .expect("capped items");
        assert_eq!(names(&items), expected[..cap], "cap {cap}");
        assert_eq!(env.requests() - before, fetched, "requests for cap {cap}");
    }

    // The server's order is kept across pages.
    let descending = first_page(&client, "-name").await;
    let items: Vec<Branch> = client
        .paginate(descending, 100)
        .try_collect()
        .await
        .expect("descending");
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(names(&items), reversed);
}

#[tokio::test]
async fn paginate_url_fetches_lazily_from_a_path() {
    let env = start().await;
    let (client, expected) = many_branches(&env).await;
    let path =
        "/repositories/acme/widgets/refs/branches?q=name%20~%20%22page%2F%22&sort=name&pagelen=10";

    let before = env.requests();
    let items: Vec<Branch> = client
        .paginate_url(path, 12)
        .try_collect()
        .await
        .expect("twelve items");
    assert_eq!(names(&items), expected[..12]);
    assert_eq!(env.requests() - before, 2, "pages 1 and 2, not 3");

    let before = env.requests();
    let full_url = format!("{}{path}", env.sandbox.base_url());
    let items: Vec<Branch> = client
        .paginate_url(&full_url, usize::MAX)
        .try_collect()
        .await
        .expect("every item");
    assert_eq!(names(&items), expected);
    assert_eq!(env.requests() - before, 3);

    // Nothing is requested until the stream is polled.
    let before = env.requests();
    let stream = client.paginate_url::<Branch>(path, 5);
    assert_eq!(env.requests(), before);
    drop(stream);
}
