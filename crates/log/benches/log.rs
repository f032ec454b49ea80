//! Log benchmarks, each beside its raw-sled baseline measured in the same run.
//!
//! `cargo bench -p accord-log --bench log` runs the full size (median of 5 runs);
//! without `--bench` (as `cargo test --all-targets` runs it) it does a smoke-size run
//! so the harness never rots. Results: a markdown table on stdout and, for a full
//! run, markdown and JSON in `target/accord-bench/log.{md,json}`.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs::File;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_bench::{Report, Row, Summary};
use accord_kernel::{ExpectedVersion, StreamId, Timestamp};
use accord_log::{AppendMetadata, Durability, Log, LogConfig, NewEvent};
use uuid::Uuid;

const PAYLOAD: usize = 200;

struct Sizes {
    runs: usize,
    /// Events appended per run, by writer count.
    append_events: fn(usize) -> usize,
    replay_events: usize,
}

const FULL: Sizes = Sizes {
    runs: 5,
    append_events: |writers| match writers {
        1 => 3_000,
        16 => 30_000,
        _ => 150_000,
    },
    replay_events: 200_000,
};

const SMOKE: Sizes = Sizes {
    runs: 1,
    append_events: |writers| writers * 4,
    replay_events: 500,
};

#[derive(Debug)]
struct Case {
    name: String,
    accord: Vec<f64>,
    baseline: Vec<f64>,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full { FULL } else { SMOKE };
    let runtime = accord_bench::runtime();
    // `ACCORD_BENCH_ONLY=text` runs only the cases whose name contains the text.
    let only = std::env::var("ACCORD_BENCH_ONLY").unwrap_or_default();
    let mut cases = Vec::new();
    for writers in [1usize, 16, 256] {
        let events = (sizes.append_events)(writers);
        for durability in [Durability::Fdatasync, Durability::Flush] {
            let mut case = Case {
                name: format!("append, {writers} writers, {durability:?}"),
                accord: vec![],
                baseline: vec![],
            };
            if !case.name.contains(&only) {
                continue;
            }
            for _ in 0..sizes.runs {
                case.accord
                    .push(runtime.block_on(log_append(writers, events, durability)));
                case.baseline.push(raw_append(writers, events, durability));
            }
            report(&case);
            cases.push(case);
        }
    }
    let mut replay = Case {
        name: format!("replay {} events", sizes.replay_events),
        accord: vec![],
        baseline: vec![],
    };
    let runs = if replay.name.contains(&only) {
        sizes.runs
    } else {
        0
    };
    if runs > 0 {
        let dir = runtime.block_on(filled_log(sizes.replay_events));
        let raw = raw_tree(sizes.replay_events / 64 * 64);
        for _ in 0..runs {
            replay
                .accord
                .push(log_replay(dir.path(), sizes.replay_events));
            replay
                .baseline
                .push(raw_scan(raw.path(), sizes.replay_events));
        }
    }
    if runs > 0 {
        report(&replay);
        cases.push(replay);
    }
    write_results(&cases, full);
}

fn new_event() -> NewEvent {
    NewEvent {
        event_type: "accord.v1.CommitmentProgressRecorded".into(),
        schema_version: 1,
        payload: vec![7; PAYLOAD],
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

/// Events per second through `Log::append`, `writers` tasks each appending one event
/// per command to its own stream.
async fn log_append(writers: usize, events: usize, durability: Durability) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = LogConfig {
        durability,
        ..LogConfig::default()
    };
    // `ACCORD_BENCH_LINGER_US` overrides the group linger, to measure its effect.
    if let Some(us) = std::env::var("ACCORD_BENCH_LINGER_US")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.group_linger = Duration::from_micros(us);
    }
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
                        vec![new_event()],
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
    let elapsed = start.elapsed();
    let stats = log.stats();
    eprintln!(
        "  {writers} writers: {:.1} appends per group, {:.1} events per sync",
        stats.appends as f64 / stats.groups as f64,
        stats.events as f64 / stats.syncs as f64
    );
    rate(per_writer * writers, elapsed)
}

/// The size of one stored envelope, so the raw baseline writes values of equal size.
fn envelope_size() -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("rt");
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path()).expect("open");
    runtime.block_on(async {
        let stream = StreamId::new("commitment", "w0").expect("stream");
        log.append(stream, ExpectedVersion::Any, vec![new_event()], metadata())
            .await
            .expect("append");
    });
    let event = log.read_all(1).next().expect("event").expect("decodes");
    accord_log::encode_envelope(&event).len()
}

/// Raw sled at the same durability: batches of `writers` same-size values, each batch
/// one apply_batch + flush (+ fdatasync). No envelope, no chain, no index.
fn raw_append(writers: usize, events: usize, durability: Durability) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = raw_sled(dir.path());
    let data = File::open(dir.path().join("db")).expect("data file");
    let value = vec![7u8; envelope_size()];
    let events = events / writers * writers;
    let start = Instant::now();
    let mut key = 0u64;
    while key < events as u64 {
        let mut batch = sled::Batch::default();
        for _ in 0..writers {
            key += 1;
            batch.insert(&key.to_be_bytes()[..], value.as_slice());
        }
        db.apply_batch(batch).expect("batch");
        db.flush().expect("flush");
        if durability == Durability::Fdatasync {
            data.sync_data().expect("fdatasync");
        }
    }
    rate(events, start.elapsed())
}

/// A closed log of `events` events, appended by 64 writers.
async fn filled_log(events: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path()).expect("open");
    let log = Arc::new(log);
    let writers = 64;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                let stream = StreamId::new("commitment", format!("w{w}")).expect("stream");
                for _ in 0..events / writers {
                    let batch = vec![new_event()];
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
    drop(log);
    dir
}

/// Events per second of a full replay: read and decode every envelope. Each run
/// opens the log afresh, like a service rebuilding its projections at start.
fn log_replay(dir: &std::path::Path, events: usize) -> f64 {
    let log = Log::open(dir).expect("open");
    let start = Instant::now();
    let mut count = 0usize;
    for event in log.read_all(1) {
        let event = event.expect("decodes");
        count += usize::from(!event.payload.is_empty());
    }
    assert_eq!(count, events / 64 * 64);
    rate(count, start.elapsed())
}

/// Raw sled holding the same number of envelope-sized values, one key each: what
/// storing the events without a log looks like.
fn raw_tree(events: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = raw_sled(dir.path());
    let value = vec![7u8; envelope_size()];
    for chunk in (1..=events as u64).collect::<Vec<_>>().chunks(1000) {
        let mut batch = sled::Batch::default();
        for key in chunk {
            batch.insert(&key.to_be_bytes()[..], value.as_slice());
        }
        db.apply_batch(batch).expect("batch");
    }
    db.flush().expect("flush");
    dir
}

fn raw_sled(dir: &std::path::Path) -> sled::Db {
    sled::Config::new()
        .path(dir)
        .segment_size(8 * 1024 * 1024)
        .mode(sled::Mode::HighThroughput)
        .open()
        .expect("sled")
}

/// Raw sled scan: iterate the values, no decoding. Each run opens the tree afresh.
fn raw_scan(dir: &std::path::Path, events: usize) -> f64 {
    let db = raw_sled(dir);
    let start = Instant::now();
    let mut count = 0usize;
    for entry in db.iter() {
        let (_, value) = entry.expect("read");
        count += usize::from(!value.is_empty());
    }
    assert_eq!(count, events / 64 * 64);
    rate(count, start.elapsed())
}

fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64()
}

fn report(case: &Case) {
    let (accord, raw) = (Summary::of(&case.accord), Summary::of(&case.baseline));
    eprintln!(
        "{}: accord {:.0}/s, raw {:.0}/s, ratio {:.2}",
        case.name,
        accord.median,
        raw.median,
        accord.median / raw.median
    );
}

/// The table (stdout) and, for a full run, `target/accord-bench/log.{md,json}`.
fn write_results(cases: &[Case], full: bool) {
    let mut report = Report::new("log", full);
    report.parameter("payload bytes", PAYLOAD);
    let one_writer = cases
        .iter()
        .find(|c| c.name == "append, 1 writers, Fdatasync")
        .map(|c| Summary::of(&c.accord));
    for case in cases {
        let (accord, raw) = (Summary::of(&case.accord), Summary::of(&case.baseline));
        let baseline = if case.name.starts_with("replay") {
            "raw sled scan"
        } else {
            "raw sled insert + flush per batch"
        };
        let target = if case.name.starts_with("replay") {
            0.5
        } else {
            0.7
        };
        report.push(
            Row::versus(&case.name, "events/s", accord, baseline, raw).ratio_at_least(target),
        );
        if case.name == "append, 256 writers, Fdatasync" {
            if let Some(one) = one_writer {
                report.push(
                    Row::versus(
                        &case.name,
                        "events/s",
                        accord,
                        "append, 1 writer, Fdatasync",
                        one,
                    )
                    .ratio_at_least(20.0),
                );
            }
        }
    }
    report.finish();
}
