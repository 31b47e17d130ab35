//! How long the tool router's search takes: the median latency of one query over the whole
//! catalogue, and the time to build the index. Run with `cargo bench -p tool-router --bench
//! search` (or `./scripts/bench`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bitbucket_toolkit::{ToolInfo, ToolSpec, Toolkit};
use tool_router::search::{Index, UseCase};

fn median_and_p99(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let rounds = if std::env::args().any(|a| a == "--quick") {
        50
    } else {
        2000
    };
    let infos: Vec<ToolInfo> = Toolkit::catalogue().iter().map(ToolSpec::info).collect();
    let time = |label: &str, rounds: usize, f: &dyn Fn()| {
        let samples: Vec<Duration> = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect();
        let (median, p99) = median_and_p99(samples);
        println!(
            "  {label:58} median {:>8.1} µs  p99 {:>8.1} µs",
            micros(median),
            micros(p99)
        );
    };
    let index = Index::catalogue();
    println!("tool router search over {} tools", index.len());
    time(
        "index build from the catalogue (with input schemas)",
        rounds.min(200),
        &|| {
            black_box(Index::catalogue());
        },
    );
    time("index build from ToolInfo", rounds.min(500), &|| {
        black_box(Index::new(infos.clone()));
    });
    let queries = [
        "create a new branch off main in a repository",
        "comment on the latest open issue",
        "which pull requests are still open",
        "who is the author of PR 3 and what is its status",
        "what's the weather in Paris?",
    ];
    for query in queries {
        let samples: Vec<Duration> = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                black_box(index.search(black_box(query), 10));
                started.elapsed()
            })
            .collect();
        let (median, p99) = median_and_p99(samples);
        println!(
            "  search {:51} median {:>8.1} µs  p99 {:>8.1} µs",
            format!("{query:?}"),
            micros(median),
            micros(p99)
        );
    }
    // The same catalogue five times over: how search grows with the catalogue.
    let big = Index::new((0..5).flat_map(|_| infos.clone()));
    time(
        &format!("search over {} tools (the catalogue x5)", big.len()),
        rounds,
        &|| {
            black_box(big.search(black_box("comment on the latest open issue"), 10));
        },
    );
    let use_case = UseCase {
        use_case: "comment on the latest open issue".to_owned(),
        ..UseCase::default()
    };
    let samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            black_box(index.discover(black_box(&use_case)));
            started.elapsed()
        })
        .collect();
    let (median, p99) = median_and_p99(samples);
    println!(
        "  {:58} median {:>8.1} µs  p99 {:>8.1} µs",
        "discover (search + related, plan, pitfalls)",
        micros(median),
        micros(p99)
    );
}
