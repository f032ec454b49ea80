//! What `accord audit verify --signatures` costs (issue 15, acceptance 5): the whole
//! verification of a signed agreements log (copy, chain walk, replay, and every
//! event's signature checked against the registry as it stood then) against its
//! floor measured in the same run: a raw sled scan with SHA-256 over each stored
//! envelope (as in the verify bench) plus raw Ed25519 verification of the same
//! statements, timed apart and added up.
//!
//! The log is made by the agreements service itself, on the embedded bus with
//! `require_signatures` on: every RegisterActor signed by the LT trust root's key,
//! verified and kept in its event. `cargo bench -p accord --bench
//! verify_signatures`: 20,000 events, median of 5 runs; without `--bench` a smoke
//! size; `ACCORD_BENCH_EVENTS=n` another size.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use accord::audit::registry::RegistryHistory;
use accord::audit::verify::verify_dir;
use accord_bench::{full_run, runs, Report, Row, Summary};
use accord_bus::{AccordClient, Bus, ClientError, CommandOptions, EmbeddedBus};
use accord_contracts::v1 as pb;
use accord_kernel::signature::{verify, ActorKey};
use accord_log::Log;
use accord_runtime::authentication::{stored_statement, TrustRoot, Trusted};
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use prost::Message as _;
use sha2::{Digest, Sha256};

const IN_FLIGHT: usize = 32;

fn admin() -> ActorKey {
    ActorKey::derived_for_tests("accord-admin")
}

fn trusted() -> Trusted {
    let root: TrustRoot = format!("LT:accord-admin:{}", admin().public_key_base64())
        .parse()
        .unwrap();
    Trusted {
        roots: vec![root],
        services: vec![],
    }
}

/// A signed agreements log of `events` RegisterActor events in `dir`, made by the
/// service as it serves them.
fn build_signed_log(dir: &Path, events: usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let log = Log::open(dir).unwrap();
        let bus = Bus::Embedded(EmbeddedBus::new());
        let mut config = NodeConfig::default();
        config.endpoints.require_signatures = true;
        config.endpoints.trusted = trusted();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let served = tokio::spawn(run_service(
            ServiceKind::Agreements,
            log,
            bus.clone(),
            config,
            stopped,
        ));
        let client = Arc::new(AccordClient::new(bus));
        let senders: Vec<_> = (0..IN_FLIGHT)
            .map(|sender| {
                let client = client.clone();
                tokio::spawn(async move {
                    for i in (sender..events).step_by(IN_FLIGHT) {
                        let body = pb::RegisterActor {
                            actor_id: format!("audited-{i}"),
                            name: "Audited actor".into(),
                            party: Some(pb::PartyRef { id: "LT".into() }),
                            role: "Official".into(),
                            public_key: vec![9; 32],
                        }
                        .encode_to_vec();
                        // A new command id per command, kept across retries.
                        let options = CommandOptions::new("accord-admin").signed_with(admin());
                        // The service may not serve yet: try again while nobody
                        // answers; a refusal is a broken set-up and stops the bench.
                        let mut attempts = 0;
                        loop {
                            match client
                                .command("agreements", "RegisterActor", body.clone(), &options)
                                .await
                            {
                                Ok(_) => break,
                                Err(ClientError::Bus(_)) if attempts < 500 => {
                                    attempts += 1;
                                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                                }
                                Err(error) => panic!("RegisterActor {i} refused: {error}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        stop.send_replace(true);
        served.await.unwrap().unwrap();
    });
}

/// Raw sled scan of the log with SHA-256 over each envelope, as the verify bench's
/// floor; the number of envelopes.
fn scan_and_hash(dir: &Path) -> u64 {
    let db = accord_log::open_storage(dir).unwrap();
    let mut hashed = 0;
    let mut last = [0u8; 32];
    for record in db.scan_prefix(b"e") {
        let (_, value) = record.unwrap();
        for envelope in accord_log::record_entries(&value) {
            last = Sha256::digest(envelope.unwrap()).into();
            hashed += 1;
        }
    }
    std::hint::black_box(last);
    hashed
}

fn main() {
    let full = full_run();
    let runs = runs(full);
    let events: usize = match std::env::var("ACCORD_BENCH_EVENTS") {
        Ok(n) => n.trim().parse().expect("ACCORD_BENCH_EVENTS is a number"),
        Err(_) if full => 20_000,
        Err(_) => 200,
    };
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("agreements");
    build_signed_log(&log_dir, events);
    let mut report = Report::new("verify_signatures", full);
    report.parameter("events", events);
    report.parameter(
        "log",
        "agreements RegisterActor events, each signed by the LT trust root and verified by the service that appended it",
    );

    // The statements and signatures as stored, for the raw Ed25519 floor.
    let log = Log::open(&log_dir).unwrap();
    let statements: Vec<(Vec<u8>, [u8; 64])> = log
        .read_all(1)
        .map(|event| stored_statement(&event.unwrap()).unwrap())
        .collect();
    drop(log);
    assert_eq!(statements.len(), events);
    let public = admin().public_key();
    let roots = trusted();

    let (mut accord, mut plain, mut floor, mut scan_floor) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let mut registry = RegistryHistory::default();
        let verified = verify_dir(
            &log_dir,
            Some(&roots),
            &Default::default(),
            &mut registry,
            &mut |_, _| {},
        )
        .unwrap();
        accord.push(events as f64 / started.elapsed().as_secs_f64());
        assert!(verified.ok, "{:?}", verified.problem);
        let signatures = verified.signatures.unwrap();
        assert_eq!(signatures.verified, events as u64);

        let started = Instant::now();
        let unsigned = verify_dir(
            &log_dir,
            None,
            &Default::default(),
            &mut registry,
            &mut |_, _| {},
        )
        .unwrap();
        plain.push(events as f64 / started.elapsed().as_secs_f64());
        assert!(unsigned.ok);

        let started = Instant::now();
        let hashed = scan_and_hash(&log_dir);
        let scanned = started.elapsed();
        assert_eq!(hashed, events as u64);
        let started = Instant::now();
        let good = statements
            .iter()
            .filter(|(statement, signature)| verify(&public, statement, signature).is_ok())
            .count();
        let checked = started.elapsed();
        assert_eq!(good, events);
        floor.push(events as f64 / (scanned + checked).as_secs_f64());
        scan_floor.push(events as f64 / scanned.as_secs_f64());
    }
    report.push(
        Row::versus(
            format!("audit verify --signatures, {events} signed events"),
            "events/s",
            Summary::of(&accord),
            "raw sled scan + SHA-256, plus raw Ed25519 of the same statements",
            Summary::of(&floor),
        )
        .ratio_at_least(0.7),
    );
    report.push(Row::versus(
        format!("audit verify without --signatures, {events} events"),
        "events/s",
        Summary::of(&plain),
        "raw sled scan + SHA-256",
        Summary::of(&scan_floor),
    ));
    report.finish();
}
