//! Subscriptions: catch up from any position, then follow live appends, with no gap
//! and no duplicate at the hand-over even while appends race the catch-up.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_kernel::ExpectedVersion;
use accord_testkit::{event, metadata, stream, TempLog};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_appends_racing_the_catch_up_then_every_event_arrives_once_in_order() {
    let log = TempLog::new();
    let writer_log = log.log().clone();
    for i in 0..300 {
        writer_log
            .append(
                stream("agreement", "lt-ua"),
                ExpectedVersion::Any,
                vec![event("E", b"x")],
                metadata("a", i),
            )
            .await
            .unwrap();
    }
    // Start subscribing mid-log while 8 writers keep appending.
    let mut subscription = log.log().subscribe(101);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let log = writer_log.clone();
            tokio::spawn(async move {
                for i in 0..50 {
                    let s = stream("commitment", &format!("w{w}"));
                    log.append(
                        s,
                        ExpectedVersion::Any,
                        vec![event("E", b"y")],
                        metadata("b", i),
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();

    let total = 300 + 8 * 50;
    let mut seen = Vec::new();
    while seen.len() < total - 100 {
        let event = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await
            .expect("subscription keeps up")
            .expect("log open")
            .unwrap();
        seen.push(event.position);
    }
    for w in writers {
        w.await.unwrap();
    }
    let expected: Vec<u64> = (101..=total as u64).collect();
    assert_eq!(seen, expected);
    assert_eq!(subscription.next_position(), total as u64 + 1);
}

#[tokio::test]
async fn given_a_caught_up_subscriber_when_the_log_closes_then_the_subscription_ends() {
    let mut log = TempLog::new();
    log.log()
        .append(
            stream("project", "p"),
            ExpectedVersion::Any,
            vec![event("E", b"")],
            metadata("a", 1),
        )
        .await
        .unwrap();
    let mut subscription = log.log().subscribe(1);
    assert_eq!(subscription.next().await.unwrap().unwrap().position, 1);
    log.close();
    let end = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .unwrap();
    assert!(end.is_none());
}

#[tokio::test]
async fn given_a_subscriber_waiting_when_an_event_becomes_durable_then_it_is_delivered() {
    let log = TempLog::new();
    let mut subscription = log.log().subscribe(1);
    let waiting = tokio::spawn(async move { subscription.next().await.unwrap().unwrap() });
    tokio::task::yield_now().await;
    let outcome = log
        .log()
        .append(
            stream("request", "r"),
            ExpectedVersion::NoStream,
            vec![event("E", b"z")],
            metadata("a", 1),
        )
        .await
        .unwrap();
    let delivered = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.event_id, outcome.event_ids[0]);
}

#[tokio::test]
async fn try_next_takes_what_is_durable_and_never_waits() {
    let log = TempLog::new();
    let mut subscription = log.log().subscribe(1);
    assert!(subscription.try_next().is_none(), "nothing durable yet");
    for i in 0..3 {
        log.log()
            .append(
                stream("request", "r"),
                ExpectedVersion::Any,
                vec![event("E", b"z")],
                metadata("a", i),
            )
            .await
            .unwrap();
    }
    let positions: Vec<u64> = std::iter::from_fn(|| subscription.try_next())
        .map(|e| e.unwrap().position)
        .collect();
    assert_eq!(positions, [1, 2, 3]);
    assert_eq!(subscription.next_position(), 4);
}
