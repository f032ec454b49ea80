//! How fast the console shows a long log (issue 19, acceptance 5): the commitment
//! ledger page and a long commitment's timeline page, served live by the console
//! (`/console/` as a running Accord serves it) over HTTP, against the same queries
//! answered over NATS in the same run (`CommitmentLedger` for a page of 100 rows,
//! `CommitmentTimeline` for 200 changes) — the pages ask those queries, then render.
//!
//! The agreements log: 1,000 commitments proposed (c-0 to c-999), then progress
//! events on them, 1,000 per append, each append on the next commitment, to
//! 1,000,000 events in all (each commitment ~1,000 changes long). The agreements
//! service runs over a real nats-server (`accord_testkit::NatsServer`) with its
//! projections rebuilt from that log, the console beside it in the same process.
//!
//! `cargo bench -p accord --bench console_speed`; without `--bench` (as `cargo test
//! --all-targets` runs it) a smoke size; `ACCORD_BENCH_EVENTS=n` another size.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_bench::{full_run, runs, Report, Row, Summary};
use accord_bus::{AccordClient, Bus, NatsBus};
use accord_contracts::v1 as pb;
use accord_kernel::ExpectedVersion;
use accord_log::{Log, NewEvent};
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use accord_testkit::NatsServer;
use prost::Message as _;
use tokio::sync::watch;

/// Commitments proposed before the progress events.
const COMMITMENTS: u64 = 1_000;
/// Requests per case per run.
const REQUESTS: usize = 50;

fn proposal(id: &str) -> NewEvent {
    let date = |year| pb::Date {
        year,
        month: 1,
        day: 1,
    };
    NewEvent {
        event_type: "accord.v1.CommitmentProposed".into(),
        schema_version: 1,
        payload: pb::CommitmentProposed {
            commitment_id: id.to_owned(),
            agreement_id: "lt-ua-defence-industry".into(),
            obligor: Some(pb::PartyRef { id: "LT".into() }),
            beneficiary: Some(pb::PartyRef { id: "UA".into() }),
            terms: Some(pb::CommitmentTerms {
                kind: Some(pb::commitment_terms::Kind::ProductionCapacity(
                    pb::ProductionCapacityTerms {
                        item: "155mm shell".into(),
                        quantity: Some(pb::Quantity {
                            amount: 1_000_000_000,
                            unit: "shell".into(),
                        }),
                        period: Some(pb::Period {
                            from: Some(date(2025)),
                            to: Some(date(2030)),
                        }),
                    },
                )),
                text: "shells for the front".into(),
            }),
            due: Some(date(2030)),
            reason: "the agreement's production commitment".into(),
            also_benefiting: Vec::new(),
        }
        .encode_to_vec(),
    }
}

/// The log: the proposals, then progress events up to `events` in all.
async fn build(log: &Log, events: u64) {
    for i in 0..COMMITMENTS {
        let stream = accord_testkit::stream("commitment", &format!("c-{i}"));
        log.append(
            stream,
            ExpectedVersion::Any,
            vec![proposal(&format!("c-{i}"))],
            accord_testkit::metadata("lt-mod", 1_735_689_600),
        )
        .await
        .unwrap();
    }
    accord_testkit::fill::fill_with_progress(log, events.saturating_sub(COMMITMENTS))
        .await
        .unwrap();
}

/// Requests per second of `request`, `REQUESTS` in a row.
async fn rate<F: std::future::Future<Output = usize>>(mut request: impl FnMut() -> F) -> f64 {
    let started = Instant::now();
    for _ in 0..REQUESTS {
        assert!(request().await > 0, "every answer has content");
    }
    REQUESTS as f64 / started.elapsed().as_secs_f64()
}

/// GET `path` from the console at `addr`: the body's length; it must be a 200.
async fn page(addr: &str, path: &str) -> usize {
    let (addr, path) = (addr.to_owned(), path.to_owned());
    let (status, body) =
        tokio::task::spawn_blocking(move || accord::http::probe(&addr, &path).unwrap())
            .await
            .unwrap();
    assert_eq!(status, 200, "{body}");
    body.len()
}

/// The query's reply size; it must answer.
async fn query(client: &AccordClient, name: &str, body: Vec<u8>) -> usize {
    let outcome = client.query("agreements", name, body).await.unwrap();
    let rows = match outcome {
        pb::reply::Outcome::Ledger(l) => l.rows.len(),
        pb::reply::Outcome::Timeline(t) => t.entries.len(),
        other => panic!("{other:?}"),
    };
    rows
}

fn main() {
    let full = full_run();
    let runs = runs(full);
    let events: u64 = match std::env::var("ACCORD_BENCH_EVENTS") {
        Ok(n) => n.trim().parse().expect("ACCORD_BENCH_EVENTS is a number"),
        Err(_) if full => 1_000_000,
        Err(_) => 3_000,
    };
    let mut report = Report::new("console", full);
    report.parameter("events", events);
    report.parameter(
        "log",
        "1,000 CommitmentProposed (c-0 to c-999), then CommitmentProgressRecorded, 1,000 per append, each append on the next commitment",
    );
    report.parameter("requests per case per run", REQUESTS);

    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start();
    let runtime = accord_bench::runtime();
    let (ledger, ledger_query, timeline, timeline_query) = runtime.block_on(async {
        let log = Log::open(dir.path().join("agreements")).unwrap();
        let started = Instant::now();
        build(&log, events).await;
        eprintln!("built {events} events in {:?}", started.elapsed());
        let (stop, stopped) = watch::channel(false);
        let service_log = log.clone();
        let url = nats.url();
        let service = tokio::spawn(async move {
            let bus = Bus::Nats(NatsBus::connect(&url, "bench-console-service").await?);
            run_service(
                ServiceKind::Agreements,
                service_log,
                bus,
                NodeConfig::default(),
                stopped,
            )
            .await
        });
        let client = AccordClient::new(Bus::Nats(
            NatsBus::connect(&nats.url(), "bench-console")
                .await
                .unwrap(),
        ))
        .with_timeout(Duration::from_secs(60));
        accord::play::wait_ready(&client, "agreements", Duration::from_secs(600))
            .await
            .unwrap();
        let console = accord::console::Console::live(
            client.clone(),
            vec![(ServiceKind::Agreements, log.clone())],
            Vec::new(),
            Vec::new(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let router = accord::console::router(Arc::new(console));
        tokio::spawn(async move { axum::serve(listener, router).await });

        let ledger_body = pb::PageQuery {
            after: String::new(),
            limit: accord::console::source::LIST_PAGE_ROWS,
        }
        .encode_to_vec();
        let timeline_body = pb::CommitmentTimelineQuery {
            commitment_id: "c-0".into(),
            from_version: 1,
            limit: accord::console::source::TIMELINE_PAGE_CHANGES,
        }
        .encode_to_vec();
        // Both answer, with what a person would look for, before anything is timed.
        let (_, first) = tokio::task::spawn_blocking({
            let addr = addr.clone();
            move || accord::http::probe(&addr, "/console/ledger").unwrap()
        })
        .await
        .unwrap();
        assert!(
            first.contains("href=\"/console/commitment/c-0\""),
            "{first}"
        );
        assert!(first.contains("Next commitments"), "the ledger pages");
        // The next page continues after the last row shown, and never repeats one.
        let next = first
            .split("href=\"/console/ledger?after=")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a link to the next page")
            .to_owned();
        let (_, second) = tokio::task::spawn_blocking({
            let (addr, next) = (addr.clone(), next.clone());
            move || accord::http::probe(&addr, &format!("/console/ledger?after={next}")).unwrap()
        })
        .await
        .unwrap();
        let ids = |page: &str| -> Vec<String> {
            page.split("href=\"/console/commitment/")
                .skip(1)
                .filter_map(|rest| rest.split('"').next().map(str::to_owned))
                .collect()
        };
        let (ones, twos) = (ids(&first), ids(&second));
        assert_eq!((ones.len(), twos.len()), (100, 100));
        assert!(twos
            .iter()
            .all(|id| !ones.contains(id) && id.as_str() > next.as_str()));
        let (_, first) = tokio::task::spawn_blocking({
            let addr = addr.clone();
            move || accord::http::probe(&addr, "/console/commitment/c-0").unwrap()
        })
        .await
        .unwrap();
        assert!(first.contains("monthly production report"), "{first}");
        assert!(first.contains("<svg"), "the chart");

        let mut cases: [Vec<f64>; 4] = Default::default();
        for _ in 0..runs {
            cases[0].push(rate(|| page(&addr, "/console/ledger")).await);
            cases[1].push(rate(|| query(&client, "CommitmentLedger", ledger_body.clone())).await);
            cases[2].push(rate(|| page(&addr, "/console/commitment/c-0")).await);
            cases[3]
                .push(rate(|| query(&client, "CommitmentTimeline", timeline_body.clone())).await);
        }
        stop.send_replace(true);
        service.await.unwrap().unwrap();
        let [a, b, c, d] = cases;
        (a, b, c, d)
    });
    let s = |values: &[f64]| Summary::of(values);
    report.push(
        Row::versus(
            format!("console ledger page (100 rows), {events} events"),
            "pages/s",
            s(&ledger),
            "CommitmentLedger, 100 rows, over NATS",
            s(&ledger_query),
        )
        .ratio_at_least(0.5),
    );
    report.push(
        Row::versus(
            format!("console timeline page of c-0 (200 changes, chart), {events} events"),
            "pages/s",
            s(&timeline),
            "CommitmentTimeline, 200 changes, over NATS",
            s(&timeline_query),
        )
        .ratio_at_least(0.5),
    );
    report.finish();
}
