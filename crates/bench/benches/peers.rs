//! Accord beside what a user would pick instead (issue 20, build 4), in the same run:
//!
//! - **PostgreSQL as an event store**, the way Marten and the Rust `postgres-es`
//!   family use it: an events table with a unique (stream, version), one
//!   transaction per command whose expected-version check is that constraint (the
//!   insert of version n+1 fails if another writer took it), `synchronous_commit`
//!   on (the server's default, checked), 200-byte payloads, each writer on its own
//!   stream; at 1, 16, 64 and 256 concurrent writers (up to 64 connections, the
//!   writers beyond that pipelined on them: PostgreSQL allows 100).
//! - **Accord's log**: durable appends (fdatasync before the acknowledgement) of the
//!   same payloads with the same expected-version check (`ExpectedVersion::Exact`),
//!   at the same writer counts.
//! - **JetStream used directly as an event store**: a publish per event with
//!   `Nats-Expected-Last-Subject-Sequence`, each writer on its own subject, awaiting
//!   the ack. The nats-server on these machines (2.9) does not fsync before it acks
//!   (its `sync_interval` is 2 minutes unless set), so this row is not the same
//!   durability.
//! - **Accord's whole command path over NATS** at 64 in flight (agreements
//!   `RegisterActor`, unsigned, as the round-trip bench sends it) against
//!   PostgreSQL at 64 writers.
//!
//! `cargo bench -p accord-bench --bench peers`; without `--bench` a smoke size. When
//! no PostgreSQL answers on 127.0.0.1:5432 (`ACCORD_BENCH_POSTGRES` for another
//! connection string) its rows are left out, saying why.

// Benchmarks panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_bench::{full_run, runs, Report, Row, Summary};
use accord_bus::{AccordClient, Bus, CommandOptions, NatsBus};
use accord_kernel::ExpectedVersion;
use accord_log::{Log, NewEvent};
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use accord_testkit::NatsServer;
use tokio::sync::watch;

const WRITERS: [usize; 4] = [1, 16, 64, 256];
/// Most PostgreSQL connections a case opens; more writers share them.
const CONNECTIONS: usize = 64;
const PAYLOAD: usize = 200;
const DEFAULT_POSTGRES: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

/// Events each case appends in all, by writer count.
fn events(full: bool, writers: usize) -> usize {
    match (full, writers) {
        (false, w) => w * 4,
        (true, 1) => 2_000,
        (true, 16) => 20_000,
        (true, _) => 40_000,
    }
}

/// Events per second of `writers` tasks, each running `append(writer, version)` for
/// its share of `total`, versions 1, 2, ... on its own stream.
async fn rate<F, Fut>(writers: usize, total: usize, append: F) -> f64
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let append = Arc::new(append);
    let per_writer = total.div_ceil(writers);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let append = append.clone();
            tokio::spawn(async move {
                for version in 1..=per_writer as u64 {
                    append(writer, version).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (per_writer * writers) as f64 / started.elapsed().as_secs_f64()
}

/// PostgreSQL connections (up to [`CONNECTIONS`]) and a fresh events table.
async fn postgres(url: &str, writers: usize) -> Result<Vec<tokio_postgres::Client>, String> {
    let mut clients = Vec::new();
    for _ in 0..writers.min(CONNECTIONS) {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL ({url}): {e}"))?;
        tokio::spawn(connection);
        clients.push(client);
    }
    let setup = &clients[0];
    let commit: String = setup
        .query_one("SHOW synchronous_commit", &[])
        .await
        .map_err(|e| e.to_string())?
        .get(0);
    assert_eq!(commit, "on", "the comparison needs synchronous_commit on");
    setup
        .batch_execute(
            "DROP TABLE IF EXISTS accord_bench_events;
             CREATE TABLE accord_bench_events (
                 seq bigserial PRIMARY KEY,
                 stream text NOT NULL,
                 version bigint NOT NULL,
                 event_type text NOT NULL,
                 payload bytea NOT NULL,
                 recorded_at timestamptz NOT NULL DEFAULT now(),
                 UNIQUE (stream, version)
             );",
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(clients)
}

async fn postgres_rate(url: &str, writers: usize, total: usize) -> Result<f64, String> {
    let clients = Arc::new(postgres(url, writers).await?);
    let payload = vec![7u8; PAYLOAD];
    Ok(rate(writers, total, move |writer, version| {
        let (clients, payload) = (clients.clone(), payload.clone());
        async move {
            let client = &clients[writer % clients.len()];
            // One statement, one transaction: the unique (stream, version) is the
            // expected-version check.
            let inserted = client
                .execute(
                    "INSERT INTO accord_bench_events (stream, version, event_type, payload) \
                     VALUES ($1, $2, 'bench.Event', $3)",
                    &[&format!("s-{writer}"), &(version as i64), &payload],
                )
                .await
                .unwrap();
            assert_eq!(inserted, 1);
        }
    })
    .await)
}

async fn accord_rate(writers: usize, total: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path()).unwrap();
    let rate = rate(writers, total, move |writer, version| {
        let log = log.clone();
        async move {
            let event = NewEvent {
                event_type: "bench.Event".into(),
                schema_version: 1,
                payload: vec![7u8; PAYLOAD],
            };
            log.append(
                accord_testkit::stream("bench", &format!("s-{writer}")),
                ExpectedVersion::Exact(version - 1),
                vec![event],
                accord_testkit::metadata("bench", 1_735_689_600),
            )
            .await
            .unwrap();
        }
    })
    .await;
    drop(dir);
    rate
}

async fn jetstream_rate(url: &str, writers: usize, total: usize) -> f64 {
    let client = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    support::fresh_file_stream(&js, "BENCH_PEERS", "bench.peers.>").await;
    let js = Arc::new(js);
    let last: Arc<Vec<std::sync::atomic::AtomicU64>> = Arc::new(
        (0..writers)
            .map(|_| std::sync::atomic::AtomicU64::new(0))
            .collect(),
    );
    let rate = rate(writers, total, move |writer, _| {
        let (js, last) = (js.clone(), last.clone());
        async move {
            let mut headers = async_nats::HeaderMap::new();
            let previous = last[writer].load(std::sync::atomic::Ordering::Relaxed);
            headers.insert("Nats-Expected-Last-Subject-Sequence", previous.to_string());
            let ack = js
                .publish_with_headers(
                    format!("bench.peers.s-{writer}"),
                    headers,
                    vec![7u8; PAYLOAD].into(),
                )
                .await
                .unwrap()
                .await
                .unwrap();
            last[writer].store(ack.sequence, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .await;
    rate
}

/// Commands per second over NATS: RegisterActor to the agreements service,
/// `in_flight` at a time, unsigned.
async fn commands_rate(url: &str, runtime: &tokio::runtime::Runtime, total: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path()).unwrap();
    let (stop, stopped) = watch::channel(false);
    let mut config = NodeConfig::default();
    config.endpoints.require_signatures = false;
    let service_url = url.to_owned();
    let service = runtime.spawn(async move {
        let bus = Bus::Nats(NatsBus::connect(&service_url, "bench-peers-service").await?);
        run_service(ServiceKind::Agreements, log, bus, config, stopped).await
    });
    let client = Arc::new(AccordClient::new(Bus::Nats(
        NatsBus::connect(url, "bench-peers").await.unwrap(),
    )));
    accord_testkit_wait(&client).await;
    let tag = uuid::Uuid::now_v7();
    let sender = client.clone();
    let rate = rate(64, total, move |writer, version| {
        let client = sender.clone();
        async move {
            let body = support::register_actor(&format!("peer-{tag}-{writer}-{version}"));
            client
                .command(
                    "agreements",
                    "RegisterActor",
                    body,
                    &CommandOptions::new("accord-admin"),
                )
                .await
                .expect("command answered");
        }
    })
    .await;
    stop.send_replace(true);
    service.await.unwrap().unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let _ = js.delete_stream("ACCORD_AGREEMENTS").await;
    rate
}

/// Waits until the agreements service answers a query.
async fn accord_testkit_wait(client: &AccordClient) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .query("agreements", "AgreementRegister", Vec::new())
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the service never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn main() {
    let full = full_run();
    let runs = runs(full);
    let url = std::env::var("ACCORD_BENCH_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.into());
    let mut report = Report::new("peers", full);
    report.parameter("payload bytes", PAYLOAD);
    report.parameter(
        "events per run",
        WRITERS
            .iter()
            .map(|w| format!("{} at {w} writers", events(full, *w)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    report.parameter("PostgreSQL connections", format!("up to {CONNECTIONS}"));

    let nats = NatsServer::start();
    let runtime = accord_bench::runtime();
    let service_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Per writer count: [accord, postgres, jetstream]; and commands at 64.
    let mut cases: Vec<[Vec<f64>; 3]> = WRITERS.iter().map(|_| Default::default()).collect();
    let mut commands = Vec::new();
    let mut postgres_missing = None;
    runtime.block_on(async {
        for _ in 0..runs {
            for (i, &writers) in WRITERS.iter().enumerate() {
                let total = events(full, writers);
                cases[i][0].push(accord_rate(writers, total).await);
                match postgres_rate(&url, writers, total).await {
                    Ok(rate) => cases[i][1].push(rate),
                    Err(why) => postgres_missing = Some(why),
                }
                cases[i][2].push(jetstream_rate(&nats.url(), writers, total).await);
            }
            commands.push(commands_rate(&nats.url(), &service_runtime, events(full, 64)).await);
        }
    });
    if let Some(why) = &postgres_missing {
        println!("SKIPPED the PostgreSQL rows: {why}");
    }
    let s = |values: &[f64]| Summary::of(values);
    for (i, writers) in WRITERS.iter().enumerate() {
        let [accord, postgres, jetstream] = &cases[i];
        if postgres_missing.is_none() {
            let row = Row::versus(
                format!("durable append, {writers} writers"),
                "events/s",
                s(accord),
                "PostgreSQL event table (unique stream+version, synchronous_commit on)",
                s(postgres),
            );
            report.push(if *writers == 1 {
                row.ratio_at_least(1.0)
            } else {
                row.ratio_at_least(2.0)
            });
        }
        report.push(Row::versus(
            format!("durable append, {writers} writers"),
            "events/s",
            s(accord),
            "JetStream publish with expected last subject sequence (nats-server 2.9: no fsync before the ack)",
            s(jetstream),
        ));
    }
    if postgres_missing.is_none() {
        report.push(
            Row::versus(
                "commands over NATS, 64 in flight (RegisterActor, unsigned)",
                "commands/s",
                s(&commands),
                "PostgreSQL event table, 64 writers",
                s(&cases[2][1]),
            )
            .ratio_at_least(2.0),
        );
    }
    report.finish();
}
