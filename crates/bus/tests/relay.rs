//! The relay against a real nats-server on a free port: every event of the log on its
//! JetStream stream exactly once, in log order, across relay restarts and a cursor
//! that fell behind (as after a crash between publish and cursor save), also when
//! the relay comes back after JetStream's duplicate window.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::{
    event_message, events_already_on_the_stream, run_relay, stream_behind_cursor, Bus, BusError,
    NatsBus, RelayConfig,
};
use accord_kernel::ExpectedVersion;
use accord_testkit::{event, metadata, stream, NatsServer, TempLog};
use async_nats::jetstream;
use tokio::sync::watch;

/// A relay publishing `log` on its own task until stopped.
struct Relay {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), accord_bus::BusError>>,
}

impl Relay {
    fn start(log: &accord_log::Log, bus: &Bus, config: RelayConfig) -> Relay {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run_relay(log.clone(), bus.clone(), config, stopped));
        Relay { stop, task }
    }

    /// Stops it and checks that it returned without an error.
    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

/// A JetStream context and a bus on `nats`.
async fn connect(nats: &NatsServer) -> (jetstream::Context, Bus) {
    let client = async_nats::connect(nats.url()).await.unwrap();
    (
        jetstream::new(client.clone()),
        Bus::Nats(NatsBus::from_client(client)),
    )
}

async fn append(log: &accord_log::Log, from: usize, to: usize) {
    for i in from..to {
        let s = stream("commitment", &format!("c {}", i % 7));
        log.append(
            s,
            ExpectedVersion::Any,
            vec![event("ProgressRecorded", format!("{i}").as_bytes())],
            metadata("lt-mod", i as i64),
        )
        .await
        .unwrap();
    }
}

/// The stream's messages' ids (Nats-Msg-Id), in stream order.
async fn published_ids(js: &jetstream::Context, name: &str, expected: u64) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // The relay creates the stream when it starts.
    let mut stream = loop {
        match js.get_stream(name).await {
            Ok(stream) => break stream,
            Err(error) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no stream {name}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    while stream.info().await.unwrap().state.messages < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "relay did not publish {expected} events"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let a relay that publishes too much show it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let count = stream.info().await.unwrap().state.messages;
    let mut ids = Vec::new();
    for sequence in 1..=count {
        let message = stream.get_raw_message(sequence).await.unwrap();
        ids.push(message.headers.get("Nats-Msg-Id").unwrap().to_string());
    }
    ids
}

fn log_ids(log: &accord_log::Log) -> Vec<String> {
    log.read_all(1)
        .map(|e| e.unwrap().event_id.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_is_published_once_in_log_order_across_restarts() {
    let nats = NatsServer::start();
    let (js, bus) = connect(&nats).await;
    let log = TempLog::new();
    let config = RelayConfig::new("agreements");
    append(log.log(), 0, 300).await;

    let relay = Relay::start(log.log(), &bus, config.clone());
    assert_eq!(
        published_ids(&js, "ACCORD_AGREEMENTS", 300).await,
        log_ids(log.log())
    );
    relay.stop().await;
    assert_eq!(log.log().cursor("relay").unwrap(), 300);

    // Appended while the relay was down: published when it comes back.
    append(log.log(), 300, 350).await;
    // As after a crash between publishing and saving the cursor: JetStream drops
    // the events published again.
    log.log().save_cursor("relay", 120).unwrap();
    let relay = Relay::start(log.log(), &bus, config);
    assert_eq!(
        published_ids(&js, "ACCORD_AGREEMENTS", 350).await,
        log_ids(log.log())
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_carry_the_envelope_and_headers_on_a_subject_per_aggregate() {
    let nats = NatsServer::start();
    let (js, bus) = connect(&nats).await;
    let log = TempLog::new();
    append(log.log(), 0, 1).await;
    let relay = Relay::start(log.log(), &bus, RelayConfig::new("agreements"));
    published_ids(&js, "ACCORD_AGREEMENTS", 1).await;
    let message = js
        .get_stream("ACCORD_AGREEMENTS")
        .await
        .unwrap()
        .get_raw_message(1)
        .await
        .unwrap();
    let stored = log.log().read_all(1).next().unwrap().unwrap();
    let config = js
        .get_stream("ACCORD_AGREEMENTS")
        .await
        .unwrap()
        .cached_info()
        .config
        .clone();
    assert_eq!(config.storage, jetstream::stream::StorageType::File);
    assert_eq!(config.duplicate_window, Duration::from_secs(120));
    assert_eq!(config.discard, jetstream::stream::DiscardPolicy::New);
    assert_eq!((config.max_bytes, config.max_messages), (-1, -1));
    assert_eq!(
        message.subject.as_str(),
        "accord.agreements.evt.commitment.c%200.ProgressRecorded"
    );
    assert_eq!(
        accord_log::decode_envelope(&message.payload).unwrap(),
        stored
    );
    assert_eq!(
        message.headers.get("Accord-Position").unwrap().as_str(),
        "1"
    );
    assert_eq!(
        message.headers.get("Accord-Stream").unwrap().as_str(),
        "commitment/c%200"
    );
    // The relay builds NATS headers directly; they are exactly the contract's.
    let mut headers: Vec<(String, String)> = message
        .headers
        .iter()
        .map(|(name, values)| (name.to_string(), values[0].to_string()))
        .collect();
    headers.sort();
    let expected = event_message("agreements", &stored);
    assert_eq!(headers, expected.headers.into_iter().collect::<Vec<_>>());
    assert_eq!(message.subject.as_str(), expected.subject);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_catches_up_after_nats_was_down() {
    let mut nats = NatsServer::start();
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(nats.url())
        .await
        .unwrap();
    let js = jetstream::new(client.clone());
    let bus = Bus::Nats(NatsBus::from_client(client));
    let log = TempLog::new();
    let relay = Relay::start(log.log(), &bus, RelayConfig::new("projects"));
    append(log.log(), 0, 50).await;
    published_ids(&js, "ACCORD_PROJECTS", 50).await;

    nats.stop();
    append(log.log(), 50, 120).await; // acknowledged by the log while NATS is down
    nats.restart();
    assert_eq!(
        published_ids(&js, "ACCORD_PROJECTS", 120).await,
        log_ids(log.log())
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_left_behind_past_the_duplicate_window_publishes_nothing_twice() {
    let nats = NatsServer::start();
    let (js, bus) = connect(&nats).await;
    let log = TempLog::new();
    let mut config = RelayConfig::new("agreements");
    config.duplicate_window = Duration::from_secs(1);
    append(log.log(), 0, 300).await;
    let relay = Relay::start(log.log(), &bus, config.clone());
    published_ids(&js, "ACCORD_AGREEMENTS", 300).await;
    relay.stop().await;

    // As after a kill -9 that lost the last cursor saves, and an outage longer than
    // the window in which JetStream would drop the events published again.
    log.log().save_cursor("relay", 120).unwrap();
    tokio::time::sleep(config.duplicate_window + Duration::from_millis(500)).await;
    append(log.log(), 300, 350).await;
    assert_eq!(
        events_already_on_the_stream(log.log(), &bus, &config, 120)
            .await
            .unwrap(),
        180
    );
    let relay = Relay::start(log.log(), &bus, config.clone());
    let published = published_ids(&js, "ACCORD_AGREEMENTS", 350).await;
    assert_eq!(published.len(), 350, "events 121..=300 published twice?");
    assert_eq!(published, log_ids(log.log()));
    relay.stop().await;
    assert_eq!(log.log().cursor("relay").unwrap(), 350);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_tail_that_is_not_the_events_after_the_cursor_skips_nothing() {
    let nats = NatsServer::start();
    let (js, bus) = connect(&nats).await;
    let log = TempLog::new();
    let config = RelayConfig::new("agreements");
    append(log.log(), 0, 120).await;
    let relay = Relay::start(log.log(), &bus, config.clone());
    published_ids(&js, "ACCORD_AGREEMENTS", 120).await;
    relay.stop().await;

    // Event 200 on the stream without 121..=199 before it (a gap): skipping up to it
    // would lose those.
    append(log.log(), 120, 300).await;
    let event_200 = log.log().read_all(200).next().unwrap().unwrap();
    bus.publish_batch(vec![event_message("agreements", &event_200)])
        .await
        .unwrap();
    assert_eq!(
        events_already_on_the_stream(log.log(), &bus, &config, 120)
            .await
            .unwrap(),
        0
    );
    let relay = Relay::start(log.log(), &bus, config.clone());
    // Every event on the stream once (event 200 out of order, dropped when
    // published again within the duplicate window).
    let mut published = published_ids(&js, "ACCORD_AGREEMENTS", 300).await;
    let mut expected = log_ids(log.log());
    published.sort();
    expected.sort();
    assert_eq!(published, expected);
    relay.stop().await;
    assert_eq!(log.log().cursor("relay").unwrap(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_jetstream_store_under_a_relayed_log_is_refilled_with_every_event_once() {
    let log = TempLog::new();
    let config = RelayConfig::new("agreements");
    {
        let nats = NatsServer::start();
        let (js, bus) = connect(&nats).await;
        relay_all(&js, &bus, log.log(), 0, 300).await;
    }
    assert_eq!(log.log().cursor("relay").unwrap(), 300);

    // The store is lost: a new server, an empty stream, the cursor still at 300.
    let nats = NatsServer::start();
    let (js, bus) = connect(&nats).await;
    bus.ensure_stream(&config.stream_spec()).await.unwrap();
    refills_from(&js, &bus, log.log(), 300, 0).await;
}

/// With the relay's cursor at `cursor` and the stream ending at `stream_end`, the
/// relay finds the stream behind and publishes what it lacks: every event once.
async fn refills_from(
    js: &jetstream::Context,
    bus: &Bus,
    log: &accord_log::Log,
    cursor: u64,
    stream_end: u64,
) {
    let config = RelayConfig::new("agreements");
    assert_eq!(
        stream_behind_cursor(log, bus, &config, cursor)
            .await
            .unwrap(),
        Some(stream_end)
    );
    let relay = Relay::start(log, bus, config);
    assert_eq!(
        published_ids(js, "ACCORD_AGREEMENTS", log.durable_position()).await,
        log_ids(log)
    );
    relay.stop().await;
    assert_eq!(log.cursor("relay").unwrap(), log.durable_position());
}

/// Appends `events` to `log` and relays them all to the agreements stream.
async fn relay_all(
    js: &jetstream::Context,
    bus: &Bus,
    log: &accord_log::Log,
    from: usize,
    to: usize,
) {
    append(log, from, to).await;
    let relay = Relay::start(log, bus, RelayConfig::new("agreements"));
    published_ids(js, "ACCORD_AGREEMENTS", to as u64).await;
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_lost_its_tail_is_refilled_from_where_it_ends() {
    let nats = NatsServer::start();
    let (js, bus) = connect(&nats).await;
    let log = TempLog::new();
    relay_all(&js, &bus, log.log(), 0, 100).await;
    // Appended and relayed elsewhere (the cursor says 250), but this stream ends at 100.
    append(log.log(), 100, 250).await;
    log.log().save_cursor("relay", 250).unwrap();
    refills_from(&js, &bus, log.log(), 250, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_shorter_than_its_stream_or_another_log_is_refused_before_publishing() {
    let nats = NatsServer::start();
    let (js, bus) = connect(&nats).await;
    let config = RelayConfig::new("agreements");
    let mut log = TempLog::new();
    append(log.log(), 0, 100).await;
    log.close();
    // A copy of the log as it was at 100 events: what a restored-from-old-backup
    // (or cut and recovered) log looks like against the stream of the real one.
    let short = tempfile::tempdir().unwrap();
    accord_testkit::tamper::copy_dir(log.path(), short.path());
    let log_again = log.reopen().unwrap().clone();
    relay_all(&js, &bus, &log_again, 100, 300).await;

    let short = accord_log::Log::open(short.path()).unwrap();
    let refused = stream_behind_cursor(&short, &bus, &config, 100).await;
    assert!(
        matches!(
            refused,
            Err(BusError::StreamAhead {
                stream_position: 300,
                log_position: 100,
                ..
            })
        ),
        "{refused:?}"
    );
    // The relay itself stops with the same refusal and publishes nothing.
    let (_stop, stopped) = watch::channel(false);
    let ran = run_relay(short.clone(), bus.clone(), config.clone(), stopped).await;
    assert!(matches!(ran, Err(BusError::StreamAhead { .. })), "{ran:?}");
    assert_eq!(
        published_ids(&js, "ACCORD_AGREEMENTS", 300).await.len(),
        300
    );

    // Another log altogether, as long as the stream: its event 300 is not the
    // stream's.
    let other = TempLog::new();
    append(other.log(), 0, 300).await;
    let refused = stream_behind_cursor(other.log(), &bus, &config, 0).await;
    assert!(
        matches!(refused, Err(BusError::StreamDiverged { position: 300, .. })),
        "{refused:?}"
    );
}
