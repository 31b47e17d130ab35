//! Bitbucket's `q` and `sort` languages (`bitbucket_sandbox::query`): any text is parsed as a
//! filter and as a sort; what parses is evaluated over items with nested objects, arrays,
//! numbers, datetimes and nulls, with and without the special collations the endpoints use.

#![no_main]

use std::sync::LazyLock;

use bitbucket_sandbox::query::{Collation, Filter, Sort};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

static ITEMS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        json!({"id": 1, "title": "Crash when saving", "state": "new", "priority": "critical",
               "created_on": "2026-01-02T03:04:05.123456+00:00", "votes": 0.5,
               "reporter": {"nickname": "alice", "account_id": null},
               "reviewers": [{"nickname": "bob"}, {"nickname": "carol"}], "name": "1.10"}),
        json!({"id": 18446744073709551615_u64, "title": "", "state": "open", "priority": "trivial",
               "created_on": "2025-12-31", "votes": -3, "reporter": null, "reviewers": [],
               "name": "release/1.2", "draft": true}),
        json!({"id": -9223372036854775808_i64, "state": "resolved", "votes": 1e300,
               "created_on": "not a date", "reviewers": [[{"nickname": "x"}], null], "name": "v10"}),
        json!({}),
        json!([1, "two", {"three": 3}]),
        json!("a bare string"),
    ]
});

static COLLATION: LazyLock<Collation> = LazyLock::new(|| {
    Collation::new()
        .rank(
            "priority",
            &["trivial", "minor", "major", "critical", "blocker"],
        )
        .natural("name")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = Filter::parse(text) {
        let _ = filter.fields();
        let _ = filter.check_fields(|field| field != "secret");
        for item in ITEMS.iter() {
            let plain = filter.matches(item);
            // The same query over the same item always answers the same.
            assert_eq!(plain, filter.matches(item));
            let _ = filter.matches_with(item, &COLLATION);
        }
    }
    if let Ok(sort) = Sort::parse(text) {
        let _ = sort.field();
        let _ = sort.check_field(|field| field != "secret");
        let mut items = ITEMS.clone();
        sort.apply(&mut items);
        let mut collated = ITEMS.clone();
        sort.apply_with(&mut collated, &COLLATION);
        // Sorting permutes: nothing lost, nothing made up.
        assert_eq!(items.len(), ITEMS.len());
        for item in ITEMS.iter() {
            assert!(items.contains(item) && collated.contains(item));
        }
    }
});
