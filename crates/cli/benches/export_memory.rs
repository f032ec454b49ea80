//! Peak memory of `accord audit export` and `accord audit verify` as the log grows:
//! both read the log once through a database reopened every 32 MiB, so their peak
//! resident set must not grow with the number of events.
//!
//! `cargo bench -p accord --bench export_memory` measures 100,000 and 1,000,000
//! events; without `--bench` (as `cargo test --all-targets` runs it) a smoke size.
//! Each command runs as a subprocess (the release `accord` binary); its peak RSS is
//! read from `/proc/<pid>/status` (VmHWM) while it runs.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use support::build_log;

/// Runs `accord audit <args> <dir>`; its peak RSS (KiB) and how long it took.
fn audit(args: &[&str], dir: &Path) -> (u64, Duration) {
    let started = Instant::now();
    let mut child = Command::new(accord_binary())
        .args(["--log-level", "warn", "audit"])
        .args(args)
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut peak = 0;
    loop {
        if let Some(hwm) = accord_bench::peak_rss_of(&child.id().to_string()).map(|b| b / 1024) {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "audit {args:?} failed");
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (peak, started.elapsed())
}

fn accord_binary() -> std::path::PathBuf {
    // Benchmarks and tests of this package get the binary built beside them.
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_accord"))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // `ACCORD_BENCH_EVENTS=a,b` measures other sizes; `ACCORD_BENCH_KEEP=DIR` builds
    // the logs under DIR and keeps them (for profiling the export by hand).
    let sizes: Vec<u64> = match std::env::var("ACCORD_BENCH_EVENTS") {
        Ok(list) => list.split(',').map(|n| n.trim().parse().unwrap()).collect(),
        Err(_) if full => vec![100_000, 1_000_000],
        Err(_) => vec![2_000, 20_000],
    };
    let keep = std::env::var("ACCORD_BENCH_KEEP").ok();
    let mut results = Vec::new();
    let mut verified = Vec::new();
    for &events in &sizes {
        let dir = tempfile::tempdir().unwrap();
        let log_dir = match &keep {
            Some(root) => Path::new(root).join(format!("{events}")).join("agreements"),
            None => dir.path().join("agreements"),
        };
        let built = Instant::now();
        build_log(&log_dir, events);
        let build_time = built.elapsed();
        let (peak, took) = audit(&["export", "--output", "/dev/null"], &log_dir);
        eprintln!(
            "export_memory: {events} events: built in {build_time:?}, exported in {took:?}, peak RSS {peak} KiB"
        );
        results.push((events, peak, took));
        // `audit verify` copies the log and walks its chain: the same memory bound.
        let (verify_peak, verify_took) = audit(&["verify"], &log_dir);
        eprintln!("export_memory: {events} events: verified in {verify_took:?}, peak RSS {verify_peak} KiB");
        verified.push((events, verify_peak, verify_took));
    }
    for (command, results) in [("export", &results), ("verify", &verified)] {
        println!("\n`accord audit {command}`:\n");
        println!("| events | time | events/s | peak RSS |");
        println!("|---:|---:|---:|---:|");
        for (events, peak, took) in results {
            println!(
                "| {events} | {:.2} s | {:.0} | {:.1} MiB |",
                took.as_secs_f64(),
                *events as f64 / took.as_secs_f64(),
                *peak as f64 / 1024.0
            );
        }
        if let [first, .., last] = results.as_slice() {
            println!(
                "\npeak RSS at {} events / at {} events: {:.2}",
                last.0,
                first.0,
                last.1 as f64 / first.1 as f64
            );
        }
    }
}
