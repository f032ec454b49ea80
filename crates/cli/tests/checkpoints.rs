//! Checkpoints issued by a running service and co-signed by two witnesses, all
//! separate processes on a real nats-server (issue 16, build 2 and acceptance 4):
//! 10,000 commands; every checkpoint of the first part is co-signed by both
//! witnesses; with one witness killed the service keeps acknowledging commands and
//! its lag shows on /metrics; restarted, the witness co-signs again from where it
//! stopped. The log keeps every checkpoint, `accord audit verify` checks them all
//! with the public keys, and the checkpoints are on the service's checkpoint stream.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::play::wait_ready;
use accord_bus::{checkpoint_stream_name, AccordClient, Bus, CommandOptions, NatsBus};
use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::{Cosigner, CosignerKey};
use accord_evidence::note::NoteSigner;
use accord_log::Log;
use accord_testkit::{free_port, NatsServer};
use support::Process;
use tokio::sync::Semaphore;

const ORIGIN: &str = "accord.test/checkpoints/agreements";
const WITNESSES: [&str; 2] = ["witness.lt.test", "witness.ua.test"];
const PATIENCE: Duration = Duration::from_secs(60);
/// Commands in flight at once.
const IN_FLIGHT: usize = 32;

fn log_signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [7; 32]).unwrap()
}

fn cosigner(index: usize) -> Cosigner {
    Cosigner::from_seed(WITNESSES[index], [index as u8 + 1; 32]).unwrap()
}

fn witness_key(index: usize) -> CosignerKey {
    cosigner(index).verifier().clone()
}

/// Key files: the service's log key, each witness's key and the logs it trusts.
fn write_keys(dir: &Path) {
    std::fs::create_dir_all(dir.join("log-keys")).unwrap();
    std::fs::write(
        dir.join("log-keys/agreements.log-key"),
        log_signer().to_secret_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("logs.txt"),
        format!("{}\n", log_signer().verifier()),
    )
    .unwrap();
    for (index, name) in WITNESSES.iter().enumerate() {
        std::fs::write(
            dir.join(format!("{name}.key")),
            cosigner(index).to_secret_string(),
        )
        .unwrap();
    }
}

fn start_witness(dir: &Path, url: &str, index: usize) -> Process {
    let name = WITNESSES[index];
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["witness", "--name", name, "--nats", url, "--key"])
            .arg(dir.join(format!("{name}.key")))
            .arg("--logs")
            .arg(dir.join("logs.txt"))
            .arg("--state")
            .arg(dir.join(format!("state-{name}")))
            .stdout(std::process::Stdio::null())
            .env("ACCORD_LOG_LEVEL", "error"),
    )
}

fn start_service(dir: &Path, url: &str, http: &str) -> Process {
    let witnesses = (0..2)
        .map(|i| witness_key(i).to_string())
        .collect::<Vec<_>>()
        .join(",");
    Process::spawn(
        support::serve_agreements(url, http, &dir.join("data"))
            .env("ACCORD_LOG_KEY_DIR", dir.join("log-keys"))
            .env("ACCORD_WITNESSES", witnesses)
            .env("ACCORD_CHECKPOINT_EVERY_EVENTS", "500")
            .env("ACCORD_CHECKPOINT_EVERY_SECS", "1")
            .env("ACCORD_WITNESS_TIMEOUT_SECS", "2"),
    )
}

fn draft(id: &str) -> Vec<u8> {
    format!(
        r#"{{"agreementId":"{id}","kind":"AGREEMENT_KIND_CONTRACT","title":"supply {id}",
        "parties":[{{"id":"LT"}},{{"id":"UA"}}],"reason":"load"}}"#
    )
    .into_bytes()
}

/// Sends `count` commands, `IN_FLIGHT` at a time; every one must be acknowledged.
/// Answers how many events they appended.
async fn send(client: &AccordClient, from: usize, count: usize) -> u64 {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = Vec::new();
    for i in from..from + count {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut options = CommandOptions::new("lt-mod");
            options.json = true;
            let result = client
                .command(
                    "agreements",
                    "DraftAgreement",
                    draft(&format!("a-{i}")),
                    &options,
                )
                .await
                .unwrap_or_else(|e| panic!("command {i} not acknowledged: {e}"));
            drop(permit);
            result.event_ids.len() as u64
        }));
    }
    let mut events = 0;
    for task in tasks {
        events += task.await.unwrap();
    }
    events
}

/// A series' value in the service's /metrics.
fn metric(http: &str, series: &str) -> Option<u64> {
    let (_, body) = accord::http::probe(http, "/metrics").ok()?;
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

fn lag_series(index: usize) -> String {
    format!(
        "accord_checkpoint_witness_lag_events{{service=\"agreements\",witness=\"{}\"}}",
        WITNESSES[index]
    )
}

/// Waits until the latest checkpoint covers `events` and each witness's lag is as
/// `lags` says (`Some(0)`: co-signed; `None`: anything above 0).
async fn wait_for(http: &str, events: u64, lags: [Option<u64>; 2]) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let size = metric(http, "accord_checkpoint_size{service=\"agreements\"}");
        let seen: Vec<Option<u64>> = (0..2).map(|i| metric(http, &lag_series(i))).collect();
        let lags_as_wanted = (0..2).all(|i| match (lags[i], seen[i]) {
            (Some(want), Some(got)) => want == got,
            (None, Some(got)) => got > 0,
            _ => false,
        });
        if size == Some(events) && lags_as_wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoint size {size:?} (want {events}), lags {seen:?} (want {lags:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_witnesses_cosign_every_checkpoint_and_one_catches_up_after_a_restart() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    write_keys(dir.path());
    let mut witnesses = [
        Some(start_witness(dir.path(), &nats.url(), 0)),
        Some(start_witness(dir.path(), &nats.url(), 1)),
    ];
    let http = format!("127.0.0.1:{}", free_port());
    let mut service = start_service(dir.path(), &nats.url(), &http);
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "checkpoints").await.unwrap());
    let client = AccordClient::new(bus.clone());
    wait_ready(&client, "agreements", PATIENCE).await.unwrap();

    // Both witnesses up: 5,000 commands.
    let mut events = send(&client, 0, 5000).await;
    let both_until = events;
    wait_for(&http, events, [Some(0), Some(0)]).await;

    // Ukraine's witness killed: the service goes on acknowledging, the witness lags.
    drop(witnesses[1].take());
    events += send(&client, 5000, 3000).await;
    wait_for(&http, events, [Some(0), None]).await;
    let lag = metric(&http, &lag_series(1)).unwrap();
    assert_eq!(lag, events - both_until, "lag = what it missed");

    // Restarted, it co-signs the latest checkpoint from the size it co-signed last.
    witnesses[1] = Some(start_witness(dir.path(), &nats.url(), 1));
    events += send(&client, 8000, 2000).await;
    wait_for(&http, events, [Some(0), Some(0)]).await;
    service.terminate();
    drop(witnesses);

    // Every checkpoint the log kept: signed by the log; co-signed by Lithuania's
    // witness always, by Ukraine's except while it was down.
    let log = Log::open(dir.path().join("data/agreements")).unwrap();
    assert_eq!(log.durable_position(), events);
    let kept: Vec<(u64, Vec<u8>)> = log.checkpoints().map(Result::unwrap).collect();
    assert!(kept.len() >= 10, "{} checkpoints", kept.len());
    let (mut missed, mut after) = (0, 0);
    for (size, bytes) in &kept {
        let (checkpoint, note) = Checkpoint::open(bytes, log_signer().verifier()).unwrap();
        assert_eq!(
            checkpoint.root,
            log.tree_root(*size).unwrap(),
            "size {size}"
        );
        assert!(
            witness_key(0).verify(&note).is_ok(),
            "size {size}: no LT cosignature"
        );
        let ua = witness_key(1).verify(&note).is_ok();
        if *size <= both_until {
            assert!(ua, "size {size}: both witnesses were up");
        } else if !ua {
            missed += 1;
        } else {
            after += 1;
        }
    }
    assert!(
        missed > 0,
        "some checkpoints were issued while UA's witness was down"
    );
    assert!(after > 0, "UA's witness co-signed again after its restart");
    let (last_size, last) = kept.last().unwrap();
    assert_eq!(*last_size, events);
    let (_, note) = Checkpoint::open(last, log_signer().verifier()).unwrap();
    assert!(
        witness_key(1).verify(&note).is_ok(),
        "the latest is co-signed by both"
    );
    drop(log);

    // The auditor's check, with public keys only.
    let mut audit = Command::new(env!("CARGO_BIN_EXE_accord"));
    audit
        .args(["audit", "verify", "--json", "--log-key"])
        .arg(log_signer().verifier().to_string());
    for index in 0..2 {
        audit.arg("--witness").arg(witness_key(index).to_string());
    }
    let output = audit
        .arg(dir.path().join("data/agreements"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let checkpoints = &report[0]["checkpoints"];
    assert_eq!(checkpoints["kept"], kept.len() as u64);
    assert_eq!(checkpoints["log_signature"], "verified");
    for index in 0..2 {
        let witness = &checkpoints["witnesses"][index];
        assert_eq!(witness["name"], WITNESSES[index]);
        assert_eq!(witness["verified"], true);
        assert_eq!(witness["last_size"], events);
        assert_eq!(witness["not_witnessed"], 0);
    }

    // And the checkpoints are on the service's stream for anyone following it.
    let ids = bus
        .stream_message_ids(&checkpoint_stream_name("agreements"))
        .await
        .unwrap();
    assert!(
        ids.iter().any(|id| id == &format!("{ORIGIN}/{events}/3")),
        "the co-signed latest checkpoint is published: {ids:?}"
    );
}
