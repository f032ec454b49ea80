//! Property: concurrent appends with random expectations keep the log consistent.
//! Every acknowledged append is readable where it was acknowledged, per-stream
//! versions and global positions are contiguous, every conflict was real, and the
//! chain verifies.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use accord_kernel::{ExpectedVersion, StreamId};
use accord_log::{AppendOutcome, Log, LogError};
use accord_testkit::fill::append_from_writers;
use accord_testkit::{event, metadata, stream, TempLog};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Expect {
    Any,
    NoStream,
    /// The last version this task saw for the stream, plus this offset (-1..=1).
    Seen(i8),
}

#[derive(Debug, Clone)]
struct Step {
    stream: usize,
    expect: Expect,
    events: usize,
}

fn step(streams: usize) -> impl Strategy<Value = Step> {
    let expect = prop_oneof![
        1 => Just(Expect::Any),
        1 => Just(Expect::NoStream),
        4 => (-1i8..=1).prop_map(Expect::Seen),
    ];
    (0..streams, expect, 1usize..4).prop_map(|(stream, expect, events)| Step {
        stream,
        expect,
        events,
    })
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Vec<Step>>)> {
    (1usize..5).prop_flat_map(|streams| {
        let task = prop::collection::vec(step(streams), 1..20);
        (Just(streams), prop::collection::vec(task, 2..12))
    })
}

type Attempt = (
    StreamId,
    ExpectedVersion,
    usize,
    Result<AppendOutcome, LogError>,
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn concurrent_appends_keep_the_log_contiguous_and_every_conflict_real((streams, tasks) in scenario()) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let log = TempLog::new();
        let ids: Vec<StreamId> = (0..streams).map(|i| stream("commitment", &format!("s{i}"))).collect();
        let attempts: Vec<Attempt> = runtime.block_on(async {
            let handles: Vec<_> = tasks.into_iter().map(|steps| {
                let (log, ids) = (log.log().clone(), ids.clone());
                tokio::spawn(async move {
                    let mut seen: HashMap<usize, u64> = HashMap::new();
                    let mut attempts = Vec::new();
                    for (i, step) in steps.into_iter().enumerate() {
                        let last = seen.get(&step.stream).copied().unwrap_or(0);
                        let expected = match step.expect {
                            Expect::Any => ExpectedVersion::Any,
                            Expect::NoStream => ExpectedVersion::NoStream,
                            Expect::Seen(offset) => ExpectedVersion::Exact(last.saturating_add_signed(offset.into())),
                        };
                        let events = (0..step.events).map(|_| event("E", b"p")).collect();
                        let result = log.append(ids[step.stream].clone(), expected, events, metadata("t", i as i64)).await;
                        match &result {
                            Ok(outcome) => { seen.insert(step.stream, outcome.last_version); }
                            Err(LogError::Conflict { actual, .. }) => { seen.insert(step.stream, *actual); }
                            Err(other) => panic!("unexpected error {other:?}"),
                        }
                        attempts.push((ids[step.stream].clone(), expected, step.events, result));
                    }
                    attempts
                })
            }).collect();
            let mut all = Vec::new();
            for handle in handles {
                all.extend(handle.await.unwrap());
            }
            all
        });

        let log = log.log();
        let final_versions: HashMap<StreamId, u64> = ids.iter()
            .map(|s| (s.clone(), log.stream_version(s)))
            .collect();
        let mut acknowledged = 0u64;
        for (stream, expected, count, result) in &attempts {
            match result {
                Ok(outcome) => {
                    acknowledged += *count as u64;
                    prop_assert_eq!(outcome.last_version - outcome.first_version + 1, *count as u64);
                    prop_assert_eq!(outcome.last_position - outcome.first_position + 1, *count as u64);
                    prop_assert!(expected.admits(outcome.first_version - 1), "{expected:?} vs {outcome:?}");
                    let stored: Vec<_> = log.read_all(outcome.first_position).take(*count).map(Result::unwrap).collect();
                    let stored_ids: Vec<_> = stored.iter().map(|e| e.event_id).collect();
                    prop_assert_eq!(&stored_ids, &outcome.event_ids);
                    prop_assert!(stored.iter().all(|e| &e.stream == stream));
                }
                Err(LogError::Conflict { expected: reported, actual, .. }) => {
                    prop_assert_eq!(reported, expected);
                    prop_assert!(!expected.admits(*actual), "conflict at {actual} admitted {expected:?}");
                    prop_assert!(*actual <= final_versions[stream]);
                }
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
        prop_assert_eq!(log.durable_position(), acknowledged);
        let positions: Vec<u64> = log.read_all(1).map(|e| e.unwrap().position).collect();
        prop_assert_eq!(positions, (1..=acknowledged).collect::<Vec<_>>());
        for s in &ids {
            let versions: Vec<u64> = log.read_stream(s, 1).map(|e| e.unwrap().version).collect();
            prop_assert_eq!(versions, (1..=final_versions[s]).collect::<Vec<_>>());
        }
        let report = log.verify().unwrap();
        prop_assert_eq!(report.events, acknowledged);
    }
}

/// Appends `count` events to `stream`, one at a time, checking that each is durable
/// and in the high-water mark by the time it is answered.
async fn append_alone(temp: &TempLog, stream: &StreamId, count: u64) {
    let log = temp.log();
    for _ in 0..count {
        let outcome = append_next(log, stream).await;
        assert_eq!(log.durable_position(), outcome.last_position);
        let mark = accord_log::read_mark(temp.path()).unwrap().unwrap();
        assert_eq!(
            mark.position, outcome.last_position,
            "answered before its mark"
        );
    }
}

/// A lone writer's group is synced on the caller's thread (or the writer thread's),
/// many writers' groups by the syncer and marker threads; the log passes from one
/// way to the other and back, and must never answer early nor lose or reorder a
/// mark on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_lone_writer_then_many_then_one_again_then_every_answer_is_durable_and_marked() {
    let mut temp = TempLog::new();
    let lone = stream("commitment", "lone");
    append_alone(&temp, &lone, 20).await;
    let on_caller = || temp.log().stats().appends_on_caller_thread;
    assert_eq!(on_caller(), 20, "a lone writer appends on its own thread");
    let one = || vec![event("E", b"p")];
    append_from_writers(temp.log(), "many", 16, 10, one)
        .await
        .unwrap();
    assert_eq!(temp.log().durable_position(), 20 + 160);
    let before_the_second_lone_run = on_caller();
    append_alone(&temp, &lone, 20).await;
    assert!(
        on_caller() > before_the_second_lone_run,
        "back to one writer, appends are made on its thread again"
    );

    let head = temp.log().head().unwrap().unwrap();
    assert_eq!(head.position, 200);
    let log = temp.reopen().unwrap();
    assert_eq!(log.durable_position(), 200);
    assert_eq!(log.stream_version(&lone), 40);
    let mark = accord_log::read_mark(temp.path()).unwrap().unwrap();
    assert_eq!((mark.position, mark.hash), (head.position, head.hash));
    assert_eq!(temp.log().verify().unwrap().events, 200);
}

/// Appends one event to `stream` at the version it has now.
async fn append_next(log: &Log, stream: &StreamId) -> AppendOutcome {
    log.append(
        stream.clone(),
        ExpectedVersion::Exact(log.stream_version(stream)),
        vec![event("E", b"p")],
        metadata("t", 1),
    )
    .await
    .unwrap()
}

/// Five lone appends, each durable and marked when answered; how many of them
/// were made on the caller's thread.
async fn five_lone_appends_made_on_the_caller_thread() -> u64 {
    let temp = TempLog::new();
    append_alone(&temp, &stream("commitment", "lone"), 5).await;
    assert_eq!(temp.log().durable_position(), 5);
    temp.log().stats().appends_on_caller_thread
}

/// `block_in_place` needs a multi-threaded runtime; on a single-threaded one the
/// lone writer's append goes to the writer thread, as it did before.
#[tokio::test(flavor = "current_thread")]
async fn given_a_single_threaded_runtime_then_a_lone_writer_appends_through_the_writer_thread() {
    assert_eq!(five_lone_appends_made_on_the_caller_thread().await, 0);
}

/// With one worker there is no other to go on with the runtime's tasks, so the lone
/// append is made inside `block_in_place`: still on the caller's thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn given_a_runtime_of_one_worker_then_a_lone_writer_still_appends_on_its_own_thread() {
    assert_eq!(five_lone_appends_made_on_the_caller_thread().await, 5);
}

/// A lone writer's append wakes the log's followers (the projections, the relay)
/// from the caller's own thread, which queues them behind the caller. A caller
/// appending in a loop must still let them run after each append, not only when
/// tokio's budget makes it yield (every 128 appends). Without the yield this fails
/// (128 behind) while syncs are quick; where they take over 1 ms the append runs in
/// `block_in_place`, which does not hold the followers back, and it passes either
/// way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_lone_writer_appending_in_a_loop_then_a_follower_keeps_up() {
    let temp = TempLog::new();
    let log = temp.log().clone();
    let seen = Arc::new(AtomicU64::new(0));
    let follower = {
        let (mut subscription, seen) = (log.subscribe(1), seen.clone());
        tokio::spawn(async move {
            while let Some(Ok(event)) = subscription.next().await {
                seen.store(event.position, Ordering::Release);
                if event.position == 300 {
                    return;
                }
            }
        })
    };
    // On a worker thread, as a command's task is (the test's own body is not).
    let appender = {
        let log = log.clone();
        tokio::spawn(async move {
            let stream = stream("commitment", "loop");
            let mut furthest_behind = 0;
            for _ in 0..300 {
                let outcome = append_next(&log, &stream).await;
                furthest_behind =
                    furthest_behind.max(outcome.last_position - seen.load(Ordering::Acquire));
            }
            furthest_behind
        })
    };
    let furthest_behind = appender.await.unwrap();
    follower.await.unwrap();
    assert!(log.stats().appends_on_caller_thread > 250);
    assert!(
        furthest_behind < 64,
        "the follower fell {furthest_behind} appends behind"
    );
}
