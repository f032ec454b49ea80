//! A service process killed with SIGKILL under load and restarted: every
//! acknowledged command's events are in its log, the projections it rebuilds from the
//! log equal an offline rebuild and keep everything seen before the kill, and its
//! stream holds each event exactly once (JetStream accepted no duplicate).

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accord::play::{log_status, wait_ready};
use accord_bus::{AccordClient, Bus, CommandOptions, NatsBus};
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_runtime::{queries, AgreementsModel, Service};
use accord_testkit::NatsServer;
use tokio::sync::watch;

const PATIENCE: Duration = Duration::from_secs(30);

/// `accord serve agreements` on NATS with its data under `data`.
fn spawn_node(url: &str, data: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "agreements", "--nats", url, "--http", "", "--data"])
        .arg(data)
        // Not about signatures: it sends unsigned commands (signed `accord up`: up_over_nats.rs).
        .env("ACCORD_REQUIRE_SIGNATURES", "false")
        .env("ACCORD_LOG_LEVEL", "warn")
        .spawn()
        .unwrap()
}

async fn register(client: &AccordClient) -> pb::AgreementRegister {
    match client
        .query("agreements", "AgreementRegister", Vec::new())
        .await
        .unwrap()
    {
        Outcome::Agreements(register) => register,
        other => panic!("{other:?}"),
    }
}

fn draft(id: &str) -> Vec<u8> {
    format!(
        r#"{{"agreementId":"{id}","kind":"AGREEMENT_KIND_CONTRACT","title":"supply {id}",
        "parties":[{{"id":"LT"}},{{"id":"UA"}}],"reason":"load"}}"#
    )
    .into_bytes()
}

/// Acknowledged agreements and the ids of the events their drafting appended.
type Acked = Arc<Mutex<Vec<(String, Vec<String>)>>>;

/// Drafts agreements until stopped; records each acknowledged one with its event ids.
async fn load(client: AccordClient, writer: usize, acked: Acked, mut stop: watch::Receiver<bool>) {
    let mut options = CommandOptions::new("lt-mod");
    options.json = true;
    for i in 0.. {
        if *stop.borrow_and_update() {
            return;
        }
        let id = format!("load-{writer}-{i}");
        options.command_id = uuid::Uuid::now_v7();
        // Failures while the service is down are expected: those were never acknowledged.
        if let Ok(result) = client
            .command("agreements", "DraftAgreement", draft(&id), &options)
            .await
        {
            acked.lock().unwrap().push((id, result.event_ids));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_killed_under_load_loses_no_acknowledged_command() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "crash").await.unwrap());
    let client = AccordClient::new(bus.clone()).with_timeout(Duration::from_secs(2));
    let dir = tempfile::tempdir().unwrap();
    let mut node = spawn_node(&nats.url(), dir.path());
    wait_ready(&client, "agreements", PATIENCE).await.unwrap();

    let acked = Arc::new(Mutex::new(Vec::new()));
    let (stop, stopped) = watch::channel(false);
    let writers: Vec<_> = (0..8)
        .map(|w| tokio::spawn(load(client.clone(), w, acked.clone(), stopped.clone())))
        .collect();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while acked.lock().unwrap().len() < 150 {
        assert!(tokio::time::Instant::now() < deadline, "load did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = register(&client).await;
    node.kill().unwrap(); // SIGKILL, mid-load
    node.wait().unwrap();
    stop.send(true).unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let mut node = spawn_node(&nats.url(), dir.path());
    wait_ready(&client, "agreements", PATIENCE).await.unwrap();
    let after = register(&client).await;
    let ids: BTreeSet<&str> = after.agreements.iter().map(|a| a.id.as_str()).collect();
    for (id, _) in &acked {
        assert!(ids.contains(id.as_str()), "acknowledged {id} is gone");
    }
    for row in &before.agreements {
        assert!(after.agreements.contains(row), "{row:?} changed");
    }
    // Let the relay publish what it had not when the process died.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status = log_status(&client, "agreements").await.unwrap();
        if status.relay_position == status.head_position {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "relay behind: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let published = bus.stream_message_ids("ACCORD_AGREEMENTS").await.unwrap();

    // A graceful stop, then the log itself, offline.
    let pid = node.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(node.wait().unwrap().success(), "graceful stop exits 0");
    let log = accord_log::Log::open(dir.path().join("agreements")).unwrap();
    log.verify().unwrap();
    let logged: Vec<String> = log
        .read_all(1)
        .map(|e| e.unwrap().event_id.to_string())
        .collect();
    let logged_set: BTreeSet<&String> = logged.iter().collect();
    for (id, events) in &acked {
        for event in events {
            assert!(logged_set.contains(event), "event {event} of {id} is gone");
        }
    }
    assert_eq!(
        published, logged,
        "each event once on the stream, in log order"
    );

    let offline = Service::<AgreementsModel>::start(log.clone());
    offline.caught_up().await.unwrap();
    assert_eq!(queries::agreement_register(&offline.view().view), after);
}
