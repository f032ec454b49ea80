//! Large stream: one long-lived commitment (the scenario's `c-shells`) grown to N
//! events, then `RecordCommitmentProgress` commands on it through the agreements
//! service. Each command loads the aggregate, decides and appends durably; the time
//! it takes, as the stream grows from 1,000 to 100,000 events, shows whether loading
//! grows with the stream. Measured twice per run: the first command after the
//! service starts on the log (nothing of the stream in memory yet), then the median
//! of the next commands.
//!
//! `cargo bench -p accord-bench --bench large_stream`; smoke size under `cargo test`.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use accord_bench::{full_run, percentile, runs, Report, Row, Summary};
use accord_boundary::Body;
use accord_kernel::{ExpectedVersion, StreamId};
use accord_log::{Log, LogConfig};
use accord_runtime::{AgreementsModel, CommandMeta, Service};
use accord_scenario::{Scenario, Service as ScenarioService};
use accord_testkit::fill::progress_event;

const COMMITMENT: &str = "c-shells";
const PROGRESS: &str = r#"{"commitmentId": "c-shells", "allocated": {"amount": "10", "unit": "shell"}, "delivered": {"amount": "5", "unit": "shell"}, "reason": "weekly report"}"#;

fn main() {
    let full = full_run();
    let runs = runs(full);
    let (sizes, warm_commands): (&[u64], usize) = if full {
        (&[1_000, 10_000, 100_000], 20)
    } else {
        (&[100, 1_000], 3)
    };
    let runtime = accord_bench::runtime();
    let mut report = Report::new("large_stream", full);
    report.parameter("commands after the first, per run", warm_commands);
    report.parameter(
        "command",
        "RecordCommitmentProgress on c-shells, protobuf JSON body",
    );
    let mut results = Vec::new();
    for &events in sizes {
        let dir = tempfile::tempdir().unwrap();
        runtime.block_on(grow_stream(dir.path(), events));
        let (mut first, mut next) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (cold, warm) = runtime.block_on(commands(dir.path(), warm_commands));
            first.push(cold);
            next.push(warm);
        }
        let (first, next) = (Summary::of(&first), Summary::of(&next));
        report.push(Row::single(
            format!("stream of {events} events, first command after start"),
            "ms",
            first,
        ));
        report.push(Row::single(
            format!("stream of {events} events, next commands"),
            "p50 ms",
            next,
        ));
        results.push((events, first, next));
    }
    if let [(small, small_first, small_next), .., (large, large_first, large_next)] =
        results.as_slice()
    {
        let case = format!("stream of {large} over {small} events");
        report.push(
            Row::versus(
                format!("{case}, next commands"),
                "p50 ms",
                *large_next,
                format!("{small} events"),
                *small_next,
            )
            .target("ratio ≤ 5", large_next.median / small_next.median <= 5.0),
        );
        report.push(
            Row::versus(
                format!("{case}, first command after start"),
                "ms",
                *large_first,
                format!("{small} events"),
                *small_first,
            )
            .target("ratio ≤ 5", large_first.median / small_first.median <= 5.0),
        );
    }
    report.finish();
}

/// The scenario's agreements commands up to the first progress report, so
/// `c-shells` is an accepted commitment, then progress events appended straight to
/// its stream until it holds `events`.
async fn grow_stream(dir: &std::path::Path, events: u64) {
    let log = Log::open(dir).unwrap();
    let service = Service::<AgreementsModel>::start(log.clone());
    let scenario = Scenario::lt_ua().unwrap();
    for step in &scenario.steps {
        if step.command == "RecordCommitmentProgress" {
            break;
        }
        // The agreements service alone: no reactions, so nothing they bring about.
        if step.service != ScenarioService::Agreements || step.answers_a_reaction() {
            continue;
        }
        let mut meta = CommandMeta::new(step.actor.clone());
        meta.occurred_at = step.occurred_at;
        service
            .handle(&step.command, Body::Json(&step.body), &meta)
            .await
            .unwrap_or_else(|e| panic!("{} refused: {e}", step.command));
    }
    let stream = StreamId::new("commitment", COMMITMENT).unwrap();
    let mut version = log.read_stream(&stream, 1).count() as u64;
    assert!(version > 0, "the scenario proposes {COMMITMENT}");
    while version < events {
        let count = (events - version).min(1_000);
        let batch = (0..count).map(|_| progress_event(COMMITMENT, 2)).collect();
        log.append(
            stream.clone(),
            ExpectedVersion::Exact(version),
            batch,
            accord_testkit::metadata("lt-kasciunas", 1_735_689_600),
        )
        .await
        .unwrap();
        version += count;
    }
}

/// Starts the service on the log; returns the first command's time and the median
/// of the next `warm` commands', in milliseconds.
async fn commands(dir: &std::path::Path, warm: usize) -> (f64, f64) {
    // As `accord serve` starts it: projections and stream states rebuilt on opening.
    let service = Service::<AgreementsModel>::open(dir, LogConfig::default()).unwrap();
    service.caught_up().await.unwrap();
    let mut times = Vec::new();
    for _ in 0..=warm {
        let meta = CommandMeta::new(accord_kernel::ActorId::new("lt-kasciunas").unwrap());
        let started = Instant::now();
        service
            .handle("RecordCommitmentProgress", Body::Json(PROGRESS), &meta)
            .await
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let first = times.remove(0);
    times.sort_by(f64::total_cmp);
    (first, percentile(&times, 50.0))
}
