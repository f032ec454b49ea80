//! What the Merkle tree costs (issue 16, acceptance 6), each case beside its baseline
//! in the same run:
//!
//! * durable append with the tree against the same appends without it
//!   (`LogConfig::merkle_tree` off), runs interleaved; target ≥ 0.9×;
//! * inclusion and consistency proofs on a 1,000,000-event log against a
//!   1,000-event one; target: at most 2× the time (rate ratio ≥ 0.5).
//!
//! `cargo bench -p accord-log --bench tree` runs the full size; without `--bench` (as
//! `cargo test --all-targets` runs it) a smoke-size run keeps the harness alive.
//! Results: a markdown table on stdout and, for a full run,
//! `target/accord-bench/tree.{md,json}`.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use accord_bench::{Report, Row, Summary};
use accord_evidence::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use accord_kernel::{ExpectedVersion, StreamId, Timestamp};
use accord_log::{AppendMetadata, Log, LogConfig, NewEvent};
use uuid::Uuid;

struct Sizes {
    runs: usize,
    append_events: fn(usize) -> usize,
    small_log: usize,
    large_log: usize,
    proofs: u64,
}

const FULL: Sizes = Sizes {
    runs: 5,
    append_events: |writers| match writers {
        1 => 2_000,
        _ => 40_000,
    },
    small_log: 1_000,
    large_log: 1_000_000,
    proofs: 20_000,
};

const SMOKE: Sizes = Sizes {
    runs: 1,
    append_events: |writers| writers * 4,
    small_log: 100,
    large_log: 1_000,
    proofs: 50,
};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full { FULL } else { SMOKE };
    let runtime = accord_bench::runtime();
    let mut report = Report::new("tree", full);
    report.parameter("payload bytes", 200);
    for writers in [1usize, 16, 64] {
        let events = (sizes.append_events)(writers);
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for _ in 0..sizes.runs {
            with.push(runtime.block_on(append(writers, events, true)));
            without.push(runtime.block_on(append(writers, events, false)));
        }
        let name = format!("durable append, {writers} writers");
        let (with, without) = (Summary::of(&with), Summary::of(&without));
        eprintln!(
            "{name}: with tree {:.0}/s, without {:.0}/s, ratio {:.2}",
            with.median,
            without.median,
            with.median / without.median
        );
        report.push(
            Row::versus(
                &name,
                "events/s",
                with,
                "the same without the tree",
                without,
            )
            .ratio_at_least(0.9),
        );
    }
    let small = runtime.block_on(filled(sizes.small_log));
    let large = runtime.block_on(filled(sizes.large_log));
    let (mut on_large, mut on_small) = (Vec::new(), Vec::new());
    for _ in 0..sizes.runs {
        on_large.push(proofs(&large.1, sizes.proofs));
        on_small.push(proofs(&small.1, sizes.proofs));
    }
    let (on_large, on_small) = (Summary::of(&on_large), Summary::of(&on_small));
    eprintln!(
        "proofs: {:.0}/s on {} events, {:.0}/s on {}",
        on_large.median, sizes.large_log, on_small.median, sizes.small_log
    );
    report.push(
        Row::versus(
            format!("inclusion + consistency proof, {} events", sizes.large_log),
            "proofs/s",
            on_large,
            format!("the same on {} events", sizes.small_log),
            on_small,
        )
        .ratio_at_least(0.5),
    );
    report.finish();
}

fn event() -> NewEvent {
    NewEvent {
        event_type: "accord.v1.CommitmentProgressRecorded".into(),
        schema_version: 1,
        payload: vec![7; 200],
    }
}

fn metadata() -> AppendMetadata {
    let command_id = Uuid::now_v7();
    AppendMetadata {
        actor: "ua-mod-procurement".into(),
        command_id,
        correlation_id: command_id,
        causation_id: None,
        occurred_at: Timestamp::UNIX_EPOCH,
        signature: None,
        command_digest: None,
    }
}

/// Events per second through `Log::append` (fdatasync), `writers` tasks each
/// appending one event per command to its own stream.
async fn append(writers: usize, events: usize, merkle_tree: bool) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LogConfig {
        merkle_tree,
        ..LogConfig::default()
    };
    let log = Log::open_with(dir.path(), config).expect("open");
    let per_writer = events / writers;
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                let stream = StreamId::new("commitment", format!("w{w}")).expect("stream");
                for _ in 0..per_writer {
                    log.append(
                        stream.clone(),
                        ExpectedVersion::Any,
                        vec![event()],
                        metadata(),
                    )
                    .await
                    .expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    (per_writer * writers) as f64 / start.elapsed().as_secs_f64()
}

/// An open log of `events` events (a multiple of 100), ten writers appending ten
/// events at a time so that it fills quickly.
async fn filled(events: usize) -> (tempfile::TempDir, Log) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path()).expect("open");
    let streams = 10;
    let tasks: Vec<_> = (0..streams)
        .map(|s| {
            let log = log.clone();
            tokio::spawn(async move {
                let stream = StreamId::new("commitment", format!("s{s}")).expect("stream");
                for _ in 0..events / streams / 10 {
                    let batch = (0..10).map(|_| event()).collect();
                    log.append(stream.clone(), ExpectedVersion::Any, batch, metadata())
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    (dir, log)
}

/// Proofs per second: for pseudo-random positions, the inclusion proof of the event
/// in the whole tree and the consistency proof from its position to the whole
/// tree, each checked (a wrong proof would stop the bench).
fn proofs(log: &Log, count: u64) -> f64 {
    let size = log.durable_position();
    let root = log.tree_root(size).expect("root");
    let leaves: Vec<_> = (0..64u64)
        .map(|i| {
            let position = 1 + (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) % size;
            let hash = log
                .read_all(position)
                .next()
                .expect("event")
                .expect("decodes")
                .hash;
            (position, leaf_hash(&hash.0))
        })
        .collect();
    let start = Instant::now();
    for i in 0..count {
        let (position, leaf) = leaves[(i % 64) as usize];
        let path = log
            .inclusion_proof(position, size)
            .expect("inclusion proof");
        assert_eq!(
            verify_inclusion(position - 1, size, &leaf, &path, &root),
            Ok(())
        );
        let old_root = log.tree_root(position).expect("old root");
        let proof = log
            .consistency_proof(position, size)
            .expect("consistency proof");
        assert_eq!(
            verify_consistency(position, size, &proof, &old_root, &root),
            Ok(())
        );
    }
    count as f64 / start.elapsed().as_secs_f64()
}
