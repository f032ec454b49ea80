//! Given/when/then tests of appending and reading, against real sled on disk.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use accord_kernel::{ExpectedVersion, Timestamp};
use accord_log::{Clock, InvalidInput, LogConfig, LogError};
use accord_testkit::fill::append_from_writers;
use accord_testkit::{event, metadata, stream, TempLog};

fn events(n: usize) -> Vec<accord_log::NewEvent> {
    (0..n).map(|i| event("Happened", &[i as u8])).collect()
}

#[tokio::test]
async fn given_a_new_stream_when_appending_then_versions_and_positions_start_at_one() {
    let log = TempLog::new();
    let s = stream("agreement", "lt-ua");
    let outcome = log
        .log()
        .append(
            s.clone(),
            ExpectedVersion::NoStream,
            events(2),
            metadata("lt-mod", 1),
        )
        .await
        .unwrap();
    assert_eq!((outcome.first_version, outcome.last_version), (1, 2));
    assert_eq!((outcome.first_position, outcome.last_position), (1, 2));
    assert!(!outcome.duplicate);

    let stored: Vec<_> = log.log().read_stream(&s, 1).map(Result::unwrap).collect();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].event_id, outcome.event_ids[0]);
    assert_eq!(stored[1].prev_hash, stored[0].hash);
    assert_eq!(stored[0].event_id.get_version_num(), 7);
    assert_eq!(log.log().stream_version(&s), 2);
}

#[tokio::test]
async fn given_a_stream_at_version_two_when_expecting_one_then_conflict_reports_two() {
    let log = TempLog::new();
    let s = stream("commitment", "c1");
    log.log()
        .append(s.clone(), ExpectedVersion::Any, events(2), metadata("a", 1))
        .await
        .unwrap();
    for expected in [
        ExpectedVersion::Exact(1),
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(3),
    ] {
        let err = log
            .log()
            .append(s.clone(), expected, events(1), metadata("a", 2))
            .await
            .unwrap_err();
        assert!(
            matches!(err, LogError::Conflict { actual: 2, expected: e, .. } if e == expected),
            "{err:?}"
        );
    }
    assert_eq!(
        log.log().durable_position(),
        2,
        "a conflict appends nothing"
    );
    let ok = log
        .log()
        .append(
            s.clone(),
            ExpectedVersion::Exact(2),
            events(1),
            metadata("a", 3),
        )
        .await
        .unwrap();
    assert_eq!(ok.last_version, 3);
}

#[tokio::test]
async fn given_an_appended_command_when_repeated_after_reopen_then_the_original_outcome_returns() {
    let mut log = TempLog::new();
    let s = stream("project", "rdx");
    let meta = metadata("lt-emi", 5);
    let first = log
        .log()
        .append(
            s.clone(),
            ExpectedVersion::NoStream,
            events(3),
            meta.clone(),
        )
        .await
        .unwrap();
    log.log()
        .append(
            stream("project", "uav"),
            ExpectedVersion::Any,
            events(1),
            metadata("x", 6),
        )
        .await
        .unwrap();
    log.reopen().unwrap();

    // Same command id, and even a stale expectation: still the original answer.
    let again = log
        .log()
        .append(s.clone(), ExpectedVersion::NoStream, events(3), meta)
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event_ids, first.event_ids);
    assert_eq!(
        (
            again.first_position,
            again.last_position,
            again.last_version
        ),
        (
            first.first_position,
            first.last_position,
            first.last_version
        )
    );
    assert_eq!(log.log().durable_position(), 4, "nothing was appended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_command_id_repeated_in_the_same_group_then_it_is_appended_once() {
    let log = TempLog::new();
    let s = stream("request", "r1");
    let meta = metadata("ua-mod", 1);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (log, s, meta) = (log.log().clone(), s.clone(), meta.clone());
            tokio::spawn(async move { log.append(s, ExpectedVersion::Any, events(1), meta).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    let originals = outcomes
        .iter()
        .filter(|o| !o.as_ref().unwrap().duplicate)
        .count();
    assert_eq!(originals, 1);
    assert_eq!(log.log().durable_position(), 1);
    let ids: Vec<_> = outcomes
        .iter()
        .map(|o| o.as_ref().unwrap().event_ids.clone())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn given_a_command_id_used_on_another_stream_then_reuse_is_refused() {
    let log = TempLog::new();
    let meta = metadata("a", 1);
    log.log()
        .append(
            stream("agreement", "a"),
            ExpectedVersion::Any,
            events(1),
            meta.clone(),
        )
        .await
        .unwrap();
    let err = log
        .log()
        .append(
            stream("agreement", "b"),
            ExpectedVersion::Any,
            events(1),
            meta,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, LogError::CommandIdReused { .. }), "{err:?}");
    assert_eq!(log.log().durable_position(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_command_id_reused_for_another_command_then_it_is_refused_and_the_same_one_is_a_duplicate(
) {
    let mut log = TempLog::new();
    let s = stream("agreement", "a");
    let mut meta = metadata("lt-mod", 1);
    meta.command_digest = Some([1; 32]);
    let first = log
        .log()
        .append(s.clone(), ExpectedVersion::Any, events(1), meta.clone())
        .await
        .unwrap();
    let same = log
        .log()
        .append(s.clone(), ExpectedVersion::Any, events(1), meta.clone())
        .await
        .unwrap();
    assert!(same.duplicate);
    assert_eq!(same.event_ids, first.event_ids);
    // After a reopen the digest is read back from the stored events.
    log.reopen().unwrap();
    let mut other = meta.clone();
    other.command_digest = Some([2; 32]);
    let err = log
        .log()
        .append(s.clone(), ExpectedVersion::Any, events(1), other.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(err, LogError::CommandIdPayloadMismatch { command_id } if command_id == meta.command_id),
        "{err:?}"
    );
    // Without a digest (an in-process caller) the id alone decides, as before.
    let mut unsigned = meta.clone();
    unsigned.command_digest = None;
    let again = log
        .log()
        .append(s.clone(), ExpectedVersion::Any, events(1), unsigned)
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(log.log().durable_position(), 1);

    // Two commands under one new id in the same moment: one is appended, the other
    // refused, whichever the writer takes first (same group or not).
    let mut fresh = metadata("lt-mod", 2);
    fresh.command_digest = Some([3; 32]);
    let handles: Vec<_> = (0..2u8)
        .map(|i| {
            let (log, s, mut meta) = (log.log().clone(), s.clone(), fresh.clone());
            meta.command_digest = Some([3 + i; 32]);
            tokio::spawn(async move { log.append(s, ExpectedVersion::Any, events(1), meta).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .any(|o| matches!(o, Err(LogError::CommandIdPayloadMismatch { .. }))));
    assert_eq!(log.log().durable_position(), 2);
}

#[tokio::test]
async fn given_bad_appends_then_each_gets_its_typed_error_and_nothing_is_written() {
    let log = TempLog::new();
    let s = stream("agreement", "x");
    type Case = (
        Vec<accord_log::NewEvent>,
        &'static str,
        fn(&InvalidInput) -> bool,
    );
    let cases: Vec<Case> = vec![
        (vec![], "a", |e| matches!(e, InvalidInput::NoEvents)),
        (events(1025), "a", |e| {
            matches!(e, InvalidInput::TooManyEvents { count: 1025, .. })
        }),
        (vec![event("Big", &vec![0; 70_000])], "a", |e| {
            matches!(e, InvalidInput::EventTooLarge { index: 0, .. })
        }),
        (
            vec![
                event("Ok", b""),
                accord_log::NewEvent {
                    event_type: String::new(),
                    schema_version: 1,
                    payload: vec![],
                },
            ],
            "a",
            |e| matches!(e, InvalidInput::EventType { index: 1, .. }),
        ),
        (events(1), "", |e| matches!(e, InvalidInput::Actor(_))),
    ];
    for (events, actor, check) in cases {
        let err = log
            .log()
            .append(s.clone(), ExpectedVersion::Any, events, metadata(actor, 1))
            .await
            .unwrap_err();
        match &err {
            LogError::InvalidInput(input) => assert!(check(input), "{err:?}"),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }
    assert_eq!(log.log().durable_position(), 0);
    assert!(log.log().head().unwrap().is_none());
}

#[derive(Debug)]
struct SteppingClock(AtomicI64);

impl Clock for SteppingClock {
    fn now(&self) -> Timestamp {
        Timestamp::new(self.0.load(Ordering::SeqCst), 0).unwrap()
    }
}

#[tokio::test]
async fn given_the_clock_steps_back_then_recorded_at_never_decreases_and_as_of_follows_it() {
    let clock = Arc::new(SteppingClock(AtomicI64::new(1_000)));
    let log = TempLog::with_config(LogConfig {
        clock: clock.clone(),
        ..LogConfig::default()
    });
    let s = stream("commitment", "priority");
    let mut recorded = Vec::new();
    for second in [1_000, 2_000, 1_500, 3_000] {
        clock.0.store(second, Ordering::SeqCst);
        // occurred_at earlier than recording: a fact entered late.
        let outcome = log
            .log()
            .append(
                s.clone(),
                ExpectedVersion::Any,
                events(1),
                metadata("a", 10),
            )
            .await
            .unwrap();
        recorded.push(
            log.log()
                .read_all(outcome.first_position)
                .next()
                .unwrap()
                .unwrap()
                .recorded_at,
        );
    }
    let seconds: Vec<_> = recorded.iter().map(|t| t.seconds()).collect();
    assert_eq!(seconds, [1_000, 2_000, 2_000, 3_000]);
    assert_eq!(recorded[0].to_string(), "1970-01-01T00:16:40Z");

    let as_of = |s: i64| -> Vec<u64> {
        log.log()
            .read_all_as_of(Timestamp::new(s, 0).unwrap())
            .unwrap()
            .map(|e| e.unwrap().position)
            .collect()
    };
    assert_eq!(as_of(999), Vec::<u64>::new());
    assert_eq!(as_of(1_000), [1]);
    assert_eq!(as_of(2_500), [1, 2, 3]);
    assert_eq!(as_of(10_000), [1, 2, 3, 4]);
}

#[tokio::test]
async fn given_many_streams_when_reading_from_a_position_or_version_then_only_the_rest_returns() {
    let log = TempLog::new();
    let (a, b) = (stream("project", "a"), stream("project", "b"));
    for i in 0..10 {
        let s = if i % 2 == 0 { &a } else { &b };
        log.log()
            .append(s.clone(), ExpectedVersion::Any, events(1), metadata("p", i))
            .await
            .unwrap();
    }
    let positions: Vec<_> = log.log().read_all(7).map(|e| e.unwrap().position).collect();
    assert_eq!(positions, [7, 8, 9, 10]);
    let b_versions: Vec<_> = log
        .log()
        .read_stream(&b, 4)
        .map(|e| e.unwrap().version)
        .collect();
    assert_eq!(b_versions, [4, 5]);
    let b_positions: Vec<_> = log
        .log()
        .read_stream(&b, 1)
        .map(|e| e.unwrap().position)
        .collect();
    assert_eq!(b_positions, [2, 4, 6, 8, 10]);
    assert_eq!(
        log.log().read_stream(&stream("project", "none"), 1).count(),
        0
    );
    let report = log.log().verify().unwrap();
    assert_eq!((report.events, report.streams), (10, 2));
}

#[test]
fn given_invalid_settings_when_opening_then_the_setting_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = accord_log::Log::open_with(
        dir.path(),
        LogConfig {
            max_event_bytes: 1 << 20,
            ..LogConfig::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            LogError::InvalidInput(InvalidInput::Setting {
                name: "max_event_bytes",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn given_an_open_log_when_opened_again_then_it_is_refused_as_in_use() {
    let log = TempLog::new();
    let err = accord_log::Log::open(log.path()).unwrap_err();
    assert!(matches!(err, LogError::Locked(_)), "{err:?}");
    assert!(err.to_string().contains("in use"), "{err}");
}

/// sled writes each new segment of its data file whole before using it (the
/// vendored patch: the first at once, the next in the background, stopped part way
/// when it is needed sooner). Whatever state a segment is in when the log moves
/// into it, every event written there must read back, and after a reopen too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_more_events_than_one_segment_holds_then_all_read_back_after_reopen() {
    let mut temp = TempLog::new();
    // 32 writers × 12 appends × 4 events × 16 KiB: about 24 MiB, three segments.
    let payload = vec![0x5a_u8; 16 * 1024];
    let payload_bytes = payload.clone();
    let batch = move || (0..4).map(|_| event("Big", &payload_bytes)).collect();
    append_from_writers(temp.log(), "big", 32, 12, batch)
        .await
        .unwrap();
    let data_file = std::fs::metadata(temp.path().join("db")).unwrap().len();
    assert!(
        data_file > 16 * 1024 * 1024,
        "the events took {data_file} bytes: fewer than two segments"
    );
    let log = temp.reopen().unwrap();
    assert_eq!(log.durable_position(), 32 * 12 * 4);
    let mut count = 0;
    for event in log.read_all(1) {
        let event = event.unwrap();
        assert_eq!(
            event.payload, payload,
            "event {} read back changed",
            event.position
        );
        count += 1;
    }
    assert_eq!(count, 32 * 12 * 4);
    assert_eq!(log.verify().unwrap().events, 32 * 12 * 4);
}
