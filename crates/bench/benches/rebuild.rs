//! Rebuild: the agreements service started on a log of N events, timed from opening
//! the log until its projections have applied every event, against a raw sled scan
//! of the same database with protobuf decoding of every envelope and payload. Each
//! run is a fresh process, so its peak resident set (`VmHWM`) is that of the rebuild
//! alone; memory must not grow with the log beyond the projections.
//!
//! Rebuilds run with snapshots off (every event read). Opens run as `accord serve`
//! does, from the snapshots of the indexes and projections (written once before the
//! runs), against the smallest log's open; their memory beyond the projections is
//! measured against a process that only decodes the projections' snapshot.
//!
//! `cargo bench -p accord-bench --bench rebuild` (100,000 and 1,000,000 events);
//! smoke size under `cargo test`. `ACCORD_BENCH_EVENTS=a,b` sets other sizes.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use accord_bench::{full_run, peak_rss_bytes, runs, Report, Row, Summary};
use accord_contracts::v1 as pb;
use accord_kernel::EventMeta;
use accord_log::{Log, LogConfig};
use accord_runtime::{
    load_projection_snapshot, AgreementsModel, AgreementsState, Service, ServiceDefinition as _,
};
use prost::Message as _;

/// What one child process measured.
struct Measured {
    seconds: f64,
    peak_rss_bytes: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(&args[2], Path::new(&args[3]), args[4].parse().unwrap());
    }
    let full = full_run();
    let runs = runs(full);
    let sizes: Vec<u64> = match std::env::var("ACCORD_BENCH_EVENTS") {
        Ok(sizes) => sizes
            .split(',')
            .map(|s| s.trim().parse().unwrap())
            .collect(),
        Err(_) if full => vec![10_000, 100_000, 1_000_000],
        Err(_) => vec![1_000, 10_000],
    };
    let mut report = Report::new("rebuild", full);
    report.parameter("log", accord_testkit::fill::FILL_DESCRIPTION);
    report.parameter(
        "log, one event per command",
        accord_testkit::fill::ONE_PER_COMMAND_DESCRIPTION,
    );
    for per_command in [false, true] {
        measure(&mut report, &sizes, runs, per_command);
    }
    report.finish();
}

/// Every row for logs of `sizes` events, grouped 1,000 to a command or one event
/// per command (the command index then has an entry per event).
fn measure(report: &mut Report, sizes: &[u64], runs: usize, per_command: bool) {
    let shape = if per_command {
        ", one event per command"
    } else {
        ""
    };
    let mut rss = Vec::new();
    let mut snapshot_rss = Vec::new();
    let mut opened = Vec::new();
    for &events in sizes {
        let dir = tempfile::tempdir().unwrap();
        eprintln!("building a log of {events} events{shape}");
        let runtime = accord_bench::runtime();
        runtime.block_on(async {
            let log = Log::open(dir.path()).unwrap();
            if per_command {
                accord_testkit::fill::fill_one_per_command(&log, events).await
            } else {
                accord_testkit::fill::fill_with_progress(&log, events).await
            }
            .unwrap();
        });
        drop(runtime);
        let (mut accord, mut raw, mut alone) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            accord.push(spawn("accord", dir.path(), events));
            raw.push(spawn("raw", dir.path(), events));
            alone.push(spawn("projection", dir.path(), events));
        }
        // The first open from a log without snapshots writes them.
        spawn("open", dir.path(), events);
        let (mut open, mut snapshot_alone) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            open.push(spawn("open", dir.path(), events));
            snapshot_alone.push(spawn("projection-snapshot", dir.path(), events));
        }
        let rate = |m: &[Measured]| {
            Summary::of(
                &m.iter()
                    .map(|m| events as f64 / m.seconds)
                    .collect::<Vec<_>>(),
            )
        };
        let mib = |m: &[Measured]| {
            Summary::of(
                &m.iter()
                    .map(|m| m.peak_rss_bytes / 1048576.0)
                    .collect::<Vec<_>>(),
            )
        };
        report.push(
            Row::versus(
                format!("rebuild agreements, {events} events{shape}"),
                "events/s",
                rate(&accord),
                "raw sled scan + protobuf decode",
                rate(&raw),
            )
            .ratio_at_least(0.5),
        );
        report.push(Row::versus(
            format!("rebuild agreements, {events} events{shape}"),
            "events/s",
            rate(&accord),
            "the projection alone",
            rate(&alone),
        ));
        report.push(Row::versus(
            format!("rebuild agreements, {events} events{shape}"),
            "peak RSS MiB",
            mib(&accord),
            "raw sled scan + protobuf decode",
            mib(&raw),
        ));
        report.push(Row::versus(
            format!("rebuild agreements, {events} events{shape}"),
            "peak RSS MiB",
            mib(&accord),
            "the projection alone",
            mib(&alone),
        ));
        // What the service holds beyond its projections, run by run: they grow with
        // the log if they keep per-event history.
        rss.push((events, mib(&accord), beyond(&accord, &alone)));
        report.push(Row::versus(
            format!("open from snapshots, {events} events{shape}"),
            "seconds",
            seconds(&open),
            "rebuild from every event",
            seconds(&accord),
        ));
        report.push(Row::versus(
            format!("open from snapshots, {events} events{shape}"),
            "peak RSS MiB",
            mib(&open),
            "the projections' snapshot decoded alone",
            mib(&snapshot_alone),
        ));
        snapshot_rss.push((events, mib(&open), beyond(&open, &snapshot_alone)));
        opened.push((events, seconds(&open)));
    }
    // Start-up against the smallest log: flat in log size means at most 2×.
    if let [(small_events, small), .., (large_events, large)] = opened.as_slice() {
        report.push(
            Row::versus(
                format!("open (indexes + projections, from snapshots), {large_events} over {small_events} events{shape}"),
                "seconds",
                *large,
                format!("at {small_events}"),
                *small,
            )
            .target("ratio ≤ 2", large.median <= 2.0 * small.median),
        );
    }
    // Memory, opened from snapshots: the largest log against the one before it.
    if let [.., (small_events, _, small_beyond), (large_events, _, large_beyond)] =
        snapshot_rss.as_slice()
    {
        report.push(
            Row::versus(
                format!("RSS beyond the projections, open from snapshots, {large_events} over {small_events} events{shape}"),
                "MiB",
                *large_beyond,
                format!("at {small_events}"),
                *small_beyond,
            )
            .target(
                "ratio ≤ 1.5",
                large_beyond.median <= 1.5 * small_beyond.median.max(1.0),
            )
            .zero_is_a_result(),
        );
    }
    // Memory, rebuilt from every event: the largest log against the one before it.
    if let [.., (small_events, small, small_beyond), (large_events, large, large_beyond)] =
        rss.as_slice()
    {
        report.push(
            Row::versus(
                format!("RSS beyond the projection, rebuilt from every event, {large_events} over {small_events} events{shape}"),
                "MiB",
                *large_beyond,
                format!("at {small_events}"),
                *small_beyond,
            )
            // At smoke sizes the service can peak below the projection alone.
            .zero_is_a_result(),
        );
        report.push(
            Row::versus(
                format!("peak RSS at {large_events} over {small_events} events{shape}"),
                "peak RSS MiB",
                *large,
                format!("peak RSS at {small_events}"),
                *small,
            )
            .target("ratio ≤ 1.5", large.median / small.median <= 1.5),
        );
    }
}

/// Peak RSS of each run of `service` beyond the same run of `projections`, in MiB.
fn beyond(service: &[Measured], projections: &[Measured]) -> Summary {
    Summary::of(
        &service
            .iter()
            .zip(projections)
            .map(|(a, p)| (a.peak_rss_bytes - p.peak_rss_bytes).max(0.0) / 1048576.0)
            .collect::<Vec<_>>(),
    )
}

fn seconds(runs: &[Measured]) -> Summary {
    Summary::of(&runs.iter().map(|m| m.seconds).collect::<Vec<_>>())
}

/// Runs one measurement in a fresh process and reads what it printed.
fn spawn(what: &str, dir: &Path, events: u64) -> Measured {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--child", what])
        .arg(dir)
        .arg(events.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{what} child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut fields = stdout.split_whitespace().map(|f| f.parse::<f64>().unwrap());
    Measured {
        seconds: fields.next().unwrap(),
        peak_rss_bytes: fields.next().unwrap(),
    }
}

/// The measuring process: prints elapsed seconds and peak RSS bytes.
fn child(what: &str, dir: &Path, events: u64) {
    let started = Instant::now();
    let applied = match what {
        "accord" => rebuild(dir, 0),
        "open" => rebuild(dir, SNAPSHOT_AFTER),
        "raw" => raw_scan_and_decode(dir),
        "projection" => projection_alone(dir),
        "projection-snapshot" => projection_snapshot_alone(dir, events),
        other => panic!("unknown child {other}"),
    };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(applied, events, "{what} saw every event");
    println!("{seconds} {}", peak_rss_bytes().unwrap());
}

/// Snapshots at every size the bench runs, smoke sizes too.
const SNAPSHOT_AFTER: u64 = 1_000;

/// Opens the log and starts the agreements service as `accord serve` does
/// (`ServiceKind::open`: projections rebuilt in the pass that opens the log, after
/// the snapshots if `snapshot_after` is not 0); done when its projections include
/// every event.
fn rebuild(dir: &Path, snapshot_after: u64) -> u64 {
    let runtime = accord_bench::runtime();
    runtime.block_on(async {
        let config = LogConfig {
            snapshot_after,
            ..LogConfig::default()
        };
        let service = Service::<AgreementsModel>::open(dir, config).unwrap();
        service.caught_up().await.unwrap();
        service.applied_position()
    })
}

/// The agreements projections built from a flat scan of the log, without a log
/// opened for writing, an index or kept stream states: what the projection itself
/// costs in time and memory.
fn projection_alone(dir: &Path) -> u64 {
    let mut state = AgreementsState::default();
    let mut applied = 0;
    for event in accord_log::scan_path(dir, 1).unwrap() {
        let event = event.unwrap();
        let decoded =
            AgreementsModel::decode(&event.event_type, event.schema_version, &event.payload)
                .unwrap();
        AgreementsModel::apply(&mut state, &EventMeta::of(&event), &decoded);
        applied += 1;
    }
    std::hint::black_box(&state);
    applied
}

/// The agreements projections decoded from their snapshot, nothing else: what the
/// projections themselves take when a service opens from it.
fn projection_snapshot_alone(dir: &Path, events: u64) -> u64 {
    let (covers, state) = load_projection_snapshot::<AgreementsModel>(dir)
        .expect("a projections snapshot written by the first open");
    std::hint::black_box(&state);
    assert!(covers.position <= events);
    events
}

/// Every record of the log's sled tree, each envelope and its payload decoded.
fn raw_scan_and_decode(dir: &Path) -> u64 {
    let db = accord_log::open_storage(dir).unwrap();
    let mut decoded = 0;
    for record in db.scan_prefix(b"e") {
        let (_, value) = record.unwrap();
        for envelope in accord_log::record_entries(&value) {
            let envelope = pb::EventEnvelope::decode(envelope.unwrap()).unwrap();
            let payload = pb::CommitmentProgressRecorded::decode(&envelope.payload[..]).unwrap();
            decoded += u64::from(payload.allocated.is_some());
        }
    }
    decoded
}
