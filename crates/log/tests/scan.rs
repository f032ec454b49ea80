//! Scanning a closed log: every event once, in order, from any position, also when the
//! scan reopens the database after every few events (as it does every 32 MiB to keep
//! sled's cache from growing with the log).

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::ExpectedVersion;
use accord_log::{scan_path, scan_path_with, Log};
use accord_testkit::{event, metadata, stream, TempLog};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_reads_every_event_once_in_order_even_reopening_between_them() {
    let mut log = TempLog::new();
    for i in 0..300 {
        let s = stream("commitment", &format!("c{}", i % 5));
        log.log()
            .append(
                s,
                ExpectedVersion::Any,
                vec![
                    event("Recorded", format!("event {i}").as_bytes()),
                    event("Noted", b"x"),
                ],
                metadata("ua-mod", i),
            )
            .await
            .unwrap();
    }
    let expected: Vec<_> = log.log().read_all(1).map(|e| e.unwrap()).collect();
    log.close();

    let whole: Vec<_> = scan_path(log.path(), 1)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(whole, expected);
    // Reopening after every few events.
    let reopening: Vec<_> = scan_path_with(log.path(), 1, 4_000)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(reopening, expected);
    let tail: Vec<_> = scan_path_with(log.path(), 451, 1_000)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(tail, expected[450..]);
    // The scan left the log as it was.
    Log::open(log.path()).unwrap().verify().unwrap();
}

#[test]
fn scanning_a_directory_without_a_log_is_an_error() {
    let empty = tempfile::tempdir().unwrap();
    assert!(scan_path(empty.path(), 1).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_while_replaying_hands_over_every_event_in_order_and_the_log_goes_on() {
    // Given a closed log of 200 events over 5 streams
    let mut log = TempLog::new();
    for i in 0..100 {
        log.log()
            .append(
                stream("commitment", &format!("c{}", i % 5)),
                ExpectedVersion::Any,
                vec![event("Recorded", b"a"), event("Noted", b"b")],
                metadata("ua-mod", i),
            )
            .await
            .unwrap();
    }
    let expected: Vec<_> = log.log().read_all(1).map(|e| e.unwrap()).collect();
    log.close();
    // When it is opened replaying
    let mut replayed = Vec::new();
    let reopened = Log::open_replaying(log.path(), Default::default(), &mut |event| {
        replayed.push(event.clone());
    })
    .unwrap();
    // Then every event came once, in order, and the log's index was rebuilt in the pass
    assert_eq!(replayed, expected);
    assert_eq!(reopened.durable_position(), 200);
    let c0 = stream("commitment", "c0");
    assert_eq!(reopened.read_stream(&c0, 1).count(), 40);
    let next = reopened
        .append(
            c0,
            ExpectedVersion::Exact(40),
            vec![event("Noted", b"c")],
            metadata("ua-mod", 101),
        )
        .await
        .unwrap();
    assert_eq!(next.first_position, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_an_empty_log_while_replaying_hands_over_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut replayed = 0;
    let log = Log::open_replaying(dir.path(), Default::default(), &mut |_| replayed += 1).unwrap();
    assert_eq!((replayed, log.durable_position()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_log_larger_than_one_scan_chunk_while_replaying_reads_it_all_once() {
    // Given a closed log holding more envelope bytes than a scan reads between two
    // reopenings of the database (so the pass goes on through fresh databases)
    let mut log = TempLog::new();
    let payload = vec![7u8; 40 * 1024];
    let appends = accord_log::REOPEN_AFTER_BYTES / (payload.len() * 10) + 2;
    for i in 0..appends {
        let events = (0..10).map(|_| event("Recorded", &payload)).collect();
        log.log()
            .append(
                stream("commitment", &format!("c{}", i % 3)),
                ExpectedVersion::Any,
                events,
                metadata("ua-mod", i as i64),
            )
            .await
            .unwrap();
    }
    let total = (appends * 10) as u64;
    log.close();
    // When it is opened replaying
    let mut positions = Vec::new();
    let reopened = Log::open_replaying(log.path(), Default::default(), &mut |event| {
        positions.push(event.position);
    })
    .unwrap();
    // Then every event came once, in order, and the log goes on after the last
    assert_eq!(positions, (1..=total).collect::<Vec<_>>());
    assert_eq!(reopened.durable_position(), total);
    let next = reopened
        .append(
            stream("commitment", "c0"),
            ExpectedVersion::Any,
            vec![event("Noted", b"c")],
            metadata("ua-mod", 0),
        )
        .await
        .unwrap();
    assert_eq!(next.first_position, total + 1);
    assert!(reopened.verify().is_ok());
}
