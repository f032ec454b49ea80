//! What signed commands cost (issue 15): the agreements service over NATS with
//! `require_signatures` on (every command signed by the client, verified by the
//! service before deciding, its signature kept in the event) against the same
//! service with it off, in the same run, at 1 and 64 in flight; and the check
//! itself in process — `authenticate` of a request and `verify_stored` of a stored
//! event — against raw Ed25519 verification of the same statements.
//!
//! `cargo bench -p accord-bench --bench signatures`

// Benchmarks panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_agreements::actor::Actor;
use accord_bench::{full_run, runs, CpuTimes, Report, Row, Spent, Summary, RUNTIME_THREAD};
use accord_bus::signing::{sign_request, signature_of, statement_of};
use accord_bus::{headers, AccordClient, Bus, CommandOptions, Message, NatsBus};
use accord_kernel::signature::{verify, ActorKey};
use accord_kernel::RecordedEvent;
use accord_log::Log;
use accord_runtime::authentication::{
    authenticate, stored_signature, verify_stored, TrustRoot, Trusted,
};
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use accord_testkit::NatsServer;
use base64::Engine as _;
use support::register_actor;
use tokio::sync::watch;

const IN_FLIGHT: usize = 64;
/// The service runtime's worker threads, told apart from the client's.
const SERVICE_THREAD: &str = "accord-service";
/// The log's threads: its writer and syncer, and sled's (names as Linux cuts them).
const LOG_THREADS: [&str; 3] = ["accord-log", "sled-", "log flusher"];

fn admin() -> ActorKey {
    ActorKey::derived_for_tests("accord-admin")
}

fn root() -> TrustRoot {
    let key = base64::engine::general_purpose::STANDARD.encode(admin().public_key());
    format!("LT:accord-admin:{key}").parse().unwrap()
}

/// The agreements service on NATS, on a fresh log, signatures required or not.
struct Served {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), accord_bus::BusError>>,
    _dir: tempfile::TempDir,
}

fn serve(runtime: &tokio::runtime::Runtime, url: String, signed: bool) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path()).unwrap();
    let (stop, stopped) = watch::channel(false);
    let mut config = NodeConfig::default();
    config.endpoints.require_signatures = signed;
    config.endpoints.trusted.roots = vec![root()];
    let task = runtime.spawn(async move {
        let bus = Bus::Nats(NatsBus::connect(&url, "bench-signatures").await?);
        run_service(ServiceKind::Agreements, log, bus, config, stopped).await
    });
    Served {
        stop,
        task,
        _dir: dir,
    }
}

fn options(signed: bool) -> CommandOptions {
    let options = CommandOptions::new("accord-admin");
    if signed {
        options.signed_with(admin())
    } else {
        options
    }
}

async fn wait_served(client: &AccordClient, signed: bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = register_actor(&format!("warm-up-{}", uuid::Uuid::now_v7()));
        match client
            .command("agreements", "RegisterActor", body, &options(signed))
            .await
        {
            Ok(_) => return,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(error) => panic!("the service never answered: {error}"),
        }
    }
}

/// Commands per second: `total` RegisterActor commands, `in_flight` at a time.
async fn commands(
    client: &Arc<AccordClient>,
    tag: &str,
    total: usize,
    in_flight: usize,
    signed: bool,
) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..in_flight)
        .map(|sender| {
            let client = client.clone();
            let tag = tag.to_owned();
            tokio::spawn(async move {
                // A client holds its key: derived once, not per command (each
                // command still gets options, and so an id, of its own).
                let key = signed.then(admin);
                for i in (sender..total).step_by(in_flight) {
                    let body = register_actor(&format!("bench-{tag}-{i}"));
                    let options = CommandOptions::new("accord-admin");
                    let options = match &key {
                        Some(key) => options.signed_with(key.clone()),
                        None => options,
                    };
                    let result = client
                        .command("agreements", "RegisterActor", body, &options)
                        .await
                        .expect("command answered");
                    assert_eq!(result.event_ids.len(), 1);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Signed requests of `count` distinct commands by `signer`.
fn signed_requests(count: usize, signer: &str, key: &ActorKey) -> Vec<Message> {
    (0..count)
        .map(|i| {
            let request = CommandOptions::new(signer).request(
                "agreements",
                "RegisterActor",
                register_actor(&format!("check-{i}")),
            );
            let request = request.with_header(headers::OCCURRED_AT, "2024-11-26T12:00:00Z");
            sign_request(request, key).unwrap()
        })
        .collect()
}

/// Checks per second of `check` over `items`.
fn rate<T>(items: &[T], check: impl Fn(&T) -> bool) -> f64 {
    let started = Instant::now();
    let good = items.iter().filter(|item| check(item)).count();
    assert_eq!(good, items.len(), "every check passes");
    items.len() as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let full = full_run();
    let runs = runs(full);
    let (sequential, concurrent, checks) = if full {
        (1_000, 10_000, 20_000)
    } else {
        (10, 128, 100)
    };
    let mut report = Report::new("signatures", full);
    report.parameter("commands per run at 1 in flight", sequential);
    report.parameter("commands per run at 64 in flight", concurrent);
    report.parameter("checks per run in process", checks);
    report.parameter(
        "command",
        "agreements RegisterActor, protobuf, by the LT trust root accord-admin",
    );

    let nats = NatsServer::start();
    let runtime = accord_bench::runtime();
    let service_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVICE_THREAD)
        .enable_all()
        .build()
        .unwrap();
    // [unsigned 1, signed 1, unsigned 64, signed 64]
    let mut bus_cases: [Vec<f64>; 4] = Default::default();
    // CPU spent at 64 in flight: [unsigned, signed].
    let mut spent: [Vec<Spent>; 2] = Default::default();
    runtime.block_on(async {
        let client = Arc::new(AccordClient::new(Bus::Nats(
            NatsBus::connect(&nats.url(), "bench-client").await.unwrap(),
        )));
        for run in 0..runs {
            for signed in [false, true] {
                let served = serve(&service_runtime, nats.url(), signed);
                wait_served(&client, signed).await;
                let tag = format!("r{run}{signed}");
                let one = commands(&client, &format!("{tag}s"), sequential, 1, signed).await;
                let (many, cpu) = Spent::of(commands(
                    &client,
                    &format!("{tag}c"),
                    concurrent,
                    IN_FLIGHT,
                    signed,
                ))
                .await;
                spent[usize::from(signed)].push(cpu);
                bus_cases[usize::from(signed)].push(one);
                bus_cases[2 + usize::from(signed)].push(many);
                served.stop.send_replace(true);
                served.task.await.unwrap().unwrap();
                let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
                let _ = js.delete_stream("ACCORD_AGREEMENTS").await;
            }
        }
    });

    // In process: the same statements checked three ways.
    let key = ActorKey::derived_for_tests("ua-umerov");
    let registry = BTreeMap::from([(
        "ua-umerov".to_owned(),
        Actor {
            public_key: Some(key.public_key().to_vec()),
            ..Actor::default()
        },
    )]);
    let requests = signed_requests(checks, "ua-umerov", &key);
    let raw: Vec<(Vec<u8>, [u8; 64])> = requests
        .iter()
        .map(|r| {
            (
                statement_of(r).unwrap().to_bytes(),
                signature_of(r).unwrap().unwrap(),
            )
        })
        .collect();
    let events: Vec<RecordedEvent> = requests
        .iter()
        .map(|r| {
            let statement = statement_of(r).unwrap();
            RecordedEvent {
                actor: "ua-umerov".into(),
                command_id: statement.command_id,
                correlation_id: statement.correlation_id,
                causation_id: statement.causation_id,
                occurred_at: statement.occurred_at,
                signature: stored_signature(r),
                ..accord_testkit::fixtures::recorded_event()
            }
        })
        .collect();
    let public = key.public_key();
    let mut local_cases: [Vec<f64>; 3] = Default::default();
    for _ in 0..runs {
        local_cases[0].push(rate(&raw, |(statement, signature)| {
            verify(&public, statement, signature).is_ok()
        }));
        local_cases[1].push(rate(&requests, |r| {
            authenticate(r, &Trusted::default(), &registry).is_ok()
        }));
        local_cases[2].push(rate(&events, |e| {
            verify_stored(e, &Trusted::default(), &registry).is_ok()
        }));
    }

    let s = |values: &[f64]| Summary::of(values);
    let [unsigned1, signed1, unsigned64, signed64] = &bus_cases;
    report.push(Row::versus(
        "command, 1 in flight, signed and verified",
        "commands/s",
        s(signed1),
        "the same unsigned, signatures off",
        s(unsigned1),
    ));
    report.push(
        Row::versus(
            "command, 64 in flight, signed and verified",
            "commands/s",
            s(signed64),
            "the same unsigned, signatures off",
            s(unsigned64),
        )
        .ratio_at_least(0.85),
    );
    for row in cpu_rows(&spent, concurrent) {
        report.push(row);
    }
    let [raw_rate, authenticate_rate, stored_rate] = &local_cases;
    report.push(Row::versus(
        "authenticate a request (statement, registry, Ed25519)",
        "checks/s",
        s(authenticate_rate),
        "raw Ed25519 verification of the same statements",
        s(raw_rate),
    ));
    report.push(
        Row::versus(
            "verify_stored of an event (as audit verify --signatures)",
            "checks/s",
            s(stored_rate),
            "raw Ed25519 verification of the same statements",
            s(raw_rate),
        )
        .ratio_at_least(0.7),
    );
    report.finish();
}

/// What one part of the system spent, read from all of it.
type Part = dyn Fn(&CpuTimes) -> Duration;

/// Where the CPU goes at 64 in flight, signed against unsigned: microseconds per
/// command by part, and how busy the cores were.
fn cpu_rows(spent: &[Vec<Spent>; 2], commands: usize) -> Vec<Row> {
    let per_command = |runs: &[Spent], of: &Part| Spent::per_request(runs, commands, of);
    let busy = Spent::busy;
    let [unsigned, signed] = spent;
    const US: &str = "CPU µs per command";
    const CASE: &str = "command, 64 in flight, signed and verified";
    const BASE: &str = "the same unsigned, signatures off";
    let parts: [(&str, &Part); 5] = [
        ("all processes", &|c| c.total()),
        ("service runtime", &|c| c.threads(&[SERVICE_THREAD])),
        ("client runtime", &|c| c.threads(&[RUNTIME_THREAD])),
        ("log threads (writer, syncer, sled)", &|c| {
            c.threads(&LOG_THREADS)
        }),
        ("nats-server", &|c| c.child("nats-server")),
    ];
    let mut rows: Vec<Row> = parts
        .iter()
        .map(|(part, of)| {
            Row::versus(
                format!("{CASE}: {part}"),
                US,
                per_command(signed, of),
                BASE,
                per_command(unsigned, of),
            )
        })
        .collect();
    rows.push(Row::versus(
        CASE,
        "CPU busy, % of all cores",
        busy(signed),
        BASE,
        busy(unsigned),
    ));
    rows
}
