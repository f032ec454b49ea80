//! Verification speed: `accord_log::verify_path` (what `accord audit verify` runs for
//! the chain) against its floor measured in the same run: a raw sled scan of the same
//! database (opened afresh, as verify opens it) with SHA-256 over every stored
//! envelope's bytes. Verify must also decode each event, check its bytes are
//! canonical, build the bytes its hash covers, and check positions, links and
//! versions; the ratio shows what that costs beyond reading and hashing.
//!
//! `cargo bench -p accord --bench verify_speed`: 200,000 events, median of 5 runs;
//! without `--bench` (as `cargo test --all-targets` runs it) a smoke size;
//! `ACCORD_BENCH_EVENTS=n` another size.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::time::Instant;

use accord_bench::{full_run, runs, Report, Row, Summary};
use sha2::{Digest, Sha256};
use support::build_log;

fn main() {
    let full = full_run();
    let runs = runs(full);
    // `ACCORD_BENCH_EVENTS=n` sets another size (e.g. a small one to profile).
    let events: u64 = match std::env::var("ACCORD_BENCH_EVENTS") {
        Ok(n) => n.trim().parse().expect("ACCORD_BENCH_EVENTS is a number"),
        Err(_) if full => 200_000,
        Err(_) => 2_000,
    };
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("agreements");
    build_log(&log_dir, events);
    let mut report = Report::new("verify", full);
    report.parameter("events", events);
    report.parameter("log", accord_testkit::fill::FILL_DESCRIPTION);

    let (mut accord, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let verified = accord_log::verify_path(&log_dir).unwrap();
        accord.push(verified.events as f64 / started.elapsed().as_secs_f64());
        assert_eq!(verified.events, events);

        let started = Instant::now();
        let hashed = scan_and_hash(&log_dir);
        baseline.push(hashed as f64 / started.elapsed().as_secs_f64());
        assert_eq!(hashed, events);
    }
    report.push(
        Row::versus(
            format!("verify {events} events"),
            "events/s",
            Summary::of(&accord),
            "raw sled scan + SHA-256",
            Summary::of(&baseline),
        )
        .ratio_at_least(0.5),
    );
    report.finish();
}

/// Opens the log's sled database as verify does (`open_storage`), reads every record and
/// hashes each envelope's bytes: the least any verification reads and computes.
fn scan_and_hash(dir: &Path) -> u64 {
    let db = accord_log::open_storage(dir).unwrap();
    let mut hashed = 0;
    let mut last = [0u8; 32];
    for record in db.scan_prefix(b"e") {
        let (_, value) = record.unwrap();
        for envelope in accord_log::record_entries(&value) {
            last = Sha256::digest(envelope.unwrap()).into();
            hashed += 1;
        }
    }
    std::hint::black_box(last);
    hashed
}
