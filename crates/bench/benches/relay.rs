//! Relay: events per second from a service's log to JetStream, each batch
//! acknowledged before the cursor moves, against raw async-nats JetStream publishing
//! of the very same messages (subjects, headers, payloads) with the same number of
//! acknowledgements in flight, into a stream of the same configuration on the same
//! nats-server, in the same run.
//!
//! `cargo bench -p accord-bench --bench relay`; smoke size under `cargo test`.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use accord_bench::{full_run, runs, CpuTimes, Report, Row, Summary};
use accord_bus::{event_message, run_relay, Bus, NatsBus, RelayConfig, RELAY_CURSOR};
use accord_log::Log;
use accord_testkit::NatsServer;
use async_nats::HeaderMap;
use tokio::sync::watch;

fn main() {
    let full = full_run();
    let runs = runs(full);
    let events: u64 = if full { 50_000 } else { 500 };
    let runtime = accord_bench::runtime();
    let nats = NatsServer::start();
    let in_flight = RelayConfig::new("-").max_in_flight;
    let mut report = Report::new("relay", full);
    report.parameter("events per run", events);
    report.parameter("acks in flight", in_flight);
    report.parameter("log", accord_testkit::fill::FILL_DESCRIPTION);
    runtime.block_on(async {
        let data = tempfile::tempdir().unwrap();
        let log = Log::open(data.path()).unwrap();
        accord_testkit::fill::fill_with_progress(&log, events)
            .await
            .unwrap();
        let bus = Bus::Nats(NatsBus::connect(&nats.url(), "bench-relay").await.unwrap());
        let raw = async_nats::connect(nats.url()).await.unwrap();
        let mut relayed = Vec::new();
        let mut published = Vec::new();
        // CPU per event, this process and nats-server: relay, raw publish.
        let (mut relay_cpu, mut raw_cpu) = (Vec::new(), Vec::new());
        for run in 0..runs {
            let before = CpuTimes::now();
            relayed.push(relay(&log, &bus, &format!("relay{run}"), events).await);
            relay_cpu.push(CpuTimes::now().since(&before));
            let config = RelayConfig::new(format!("raw{run}"));
            bus.ensure_stream(&config.stream_spec()).await.unwrap();
            let messages = log
                .read_all(1)
                .map(|event| {
                    let message = event_message(&config.service, &event.unwrap());
                    let mut headers = HeaderMap::new();
                    for (name, value) in &message.headers {
                        headers.insert(name.as_str(), value.as_str());
                    }
                    (
                        message.subject,
                        headers,
                        bytes::Bytes::from(message.payload),
                    )
                })
                .collect();
            let before = CpuTimes::now();
            published.push(raw_publish(&raw, messages, in_flight).await);
            raw_cpu.push(CpuTimes::now().since(&before));
        }
        report.push(
            Row::versus(
                format!("relay {events} events"),
                "events/s",
                Summary::of(&relayed),
                "raw JetStream publish",
                Summary::of(&published),
            )
            .ratio_at_least(0.8),
        );
        let per_event = |runs: &[CpuTimes], of: &dyn Fn(&CpuTimes) -> Duration| {
            runs.iter()
                .map(|c| of(c).as_secs_f64() * 1e6 / events as f64)
                .collect::<Summary>()
        };
        let total = |c: &CpuTimes| c.total();
        let nats_server = |c: &CpuTimes| c.child("nats-server");
        let ours = |c: &CpuTimes| c.total().saturating_sub(c.child("nats-server"));
        const US: &str = "CPU µs per event";
        const RAW: &str = "raw JetStream publish";
        let case = format!("relay {events} events");
        report.push(Row::versus(
            &case,
            US,
            per_event(&relay_cpu, &total),
            RAW,
            per_event(&raw_cpu, &total),
        ));
        report.push(Row::versus(
            format!("{case}: nats-server"),
            US,
            per_event(&relay_cpu, &nats_server),
            format!("{RAW}: nats-server"),
            per_event(&raw_cpu, &nats_server),
        ));
        report.push(Row::versus(
            format!("{case}: this process (relay, log, client)"),
            US,
            per_event(&relay_cpu, &ours),
            format!("{RAW}: this process (client)"),
            per_event(&raw_cpu, &ours),
        ));
    });
    report.finish();
}

/// Runs the relay for `service` from the start of the log until JetStream has
/// acknowledged every event (the saved cursor reaches the last position).
async fn relay(log: &Log, bus: &Bus, service: &str, events: u64) -> f64 {
    let mut config = RelayConfig::new(service);
    config.resume_from_cursor = false;
    let (stop, shutdown) = watch::channel(false);
    log.save_cursor(RELAY_CURSOR, 0).unwrap();
    let started = Instant::now();
    let task = tokio::spawn(run_relay(log.clone(), bus.clone(), config, shutdown));
    while log.cursor(RELAY_CURSOR).unwrap() < events {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    stop.send_replace(true);
    task.await.unwrap().unwrap();
    rate
}

/// Publishes with at most `in_flight` acknowledgements outstanding, waiting for all
/// of a batch before the next, as the relay does.
async fn raw_publish(
    client: &async_nats::Client,
    messages: Vec<(String, HeaderMap, bytes::Bytes)>,
    in_flight: usize,
) -> f64 {
    let js = async_nats::jetstream::new(client.clone());
    let count = messages.len();
    let started = Instant::now();
    let mut messages = messages.into_iter().peekable();
    while messages.peek().is_some() {
        let mut acks = Vec::with_capacity(in_flight);
        for (subject, headers, payload) in messages.by_ref().take(in_flight) {
            acks.push(
                js.publish_with_headers(subject, headers, payload)
                    .await
                    .unwrap(),
            );
        }
        for ack in acks {
            ack.await.unwrap();
        }
    }
    count as f64 / started.elapsed().as_secs_f64()
}
