//! Verification speed: `accord_log::verify_path` (what `accord audit verify` runs for
//! the chain) against its floor, raw SHA-256 over the same stored bytes, measured in
//! the same run. Verify must hash every event's canonical bytes, decode it and check
//! positions, links and versions; the ratio shows what that costs beyond hashing.
//!
//! `cargo bench -p accord --bench verify_speed`: 200,000 events, median of 5 runs;
//! without `--bench` (as `cargo test --all-targets` runs it) a smoke size.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use sha2::{Digest, Sha256};
use support::build_log;

fn median(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (events, runs) = if full { (200_000, 5) } else { (2_000, 1) };
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("agreements");
    build_log(&log_dir, events);
    // The bytes verify reads: every stored envelope, loaded once for the baseline.
    let envelopes: Vec<Vec<u8>> = accord_log::scan_path(&log_dir, 1)
        .unwrap()
        .map(|e| accord_log::encode_envelope(&e.unwrap()))
        .collect();
    assert_eq!(envelopes.len() as u64, events);

    let mut accord = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let report = accord_log::verify_path(&log_dir).unwrap();
        accord.push(report.events as f64 / started.elapsed().as_secs_f64());

        let started = Instant::now();
        let mut last = [0u8; 32];
        for envelope in &envelopes {
            last = Sha256::digest(envelope).into();
        }
        std::hint::black_box(last);
        baseline.push(envelopes.len() as f64 / started.elapsed().as_secs_f64());
    }
    let (a, a_min, a_max) = median(accord);
    let (b, b_min, b_max) = median(baseline);
    println!("| case | accord events/s (median [min–max]) | raw SHA-256 events/s (median [min–max]) | ratio |");
    println!("|---|---:|---:|---:|");
    println!(
        "| verify {events} events | {a:.0} [{a_min:.0}–{a_max:.0}] | {b:.0} [{b_min:.0}–{b_max:.0}] | {:.2} |",
        a / b
    );
}
