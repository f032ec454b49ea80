//! `accord restore` over a real nats-server: a service whose data directory is
//! deleted is rebuilt from its JetStream stream and serves again with the same head
//! hash, answering every acknowledged command as a duplicate; a directory that holds
//! a log is never written over; a stream that lost its first events refuses.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::Duration;

use accord::play::{log_status, wait_ready};
use accord_bus::{AccordClient, Bus, CommandOptions, NatsBus};
use accord_testkit::NatsServer;

const PATIENCE: Duration = Duration::from_secs(30);

fn serve(url: &str, data: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "agreements", "--nats", url, "--http", "", "--data"])
        .arg(data)
        // Not about signatures: it sends unsigned commands (signed `accord up`: up_over_nats.rs).
        .env("ACCORD_REQUIRE_SIGNATURES", "false")
        .env("ACCORD_LOG_LEVEL", "warn")
        .spawn()
        .unwrap()
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(child.wait().unwrap().success(), "graceful stop exits 0");
}

fn restore(url: &str, data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["restore", "agreements", "--nats", url, "--data"])
        .arg(data)
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

fn draft(id: &str) -> Vec<u8> {
    format!(
        r#"{{"agreementId":"{id}","kind":"AGREEMENT_KIND_CONTRACT","title":"supply {id}",
        "parties":[{{"id":"LT"}},{{"id":"UA"}}],"reason":"restore test"}}"#
    )
    .into_bytes()
}

/// Waits until the relay has published the whole log; its head hash.
async fn published(client: &AccordClient) -> (u64, String) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status = log_status(client, "agreements").await.unwrap();
        if status.relay_position == status.head_position {
            return (status.head_position, status.head_hash);
        }
        assert!(tokio::time::Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_log_is_restored_from_its_stream_and_serves_the_same_history() {
    // Given a service that acknowledged 40 commands, all published
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "restore").await.unwrap());
    let client = AccordClient::new(bus.clone()).with_timeout(Duration::from_secs(5));
    let data = tempfile::tempdir().unwrap();
    let node = serve(&nats.url(), data.path());
    wait_ready(&client, "agreements", PATIENCE).await.unwrap();
    let mut sent = Vec::new();
    for i in 0..40 {
        let mut options = CommandOptions::new("lt-mod");
        options.json = true;
        let id = format!("restore-{i}");
        let result = client
            .command("agreements", "DraftAgreement", draft(&id), &options)
            .await
            .unwrap();
        assert!(!result.duplicate);
        sent.push((options, id));
    }
    let (head, head_hash) = published(&client).await;
    stop(node);

    // When its data directory is lost and it is restored from the stream
    let log_dir = data.path().join("agreements");
    std::fs::remove_dir_all(&log_dir).unwrap();
    let output = restore(&nats.url(), data.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains(&head_hash), "{stdout}");
    assert!(
        stderr.contains(&format!("message {head} of {head}")),
        "{stderr}"
    );

    // Then it verifies to the same head, and serves it
    let report = accord_log::verify_path(&log_dir).unwrap();
    assert_eq!(
        (report.events, report.head_hash.to_string()),
        (head, head_hash.clone())
    );
    let node = serve(&nats.url(), data.path());
    wait_ready(&client, "agreements", PATIENCE).await.unwrap();
    let status = log_status(&client, "agreements").await.unwrap();
    assert_eq!((status.head_position, status.head_hash), (head, head_hash));
    assert_eq!(status.relay_position, head, "nothing is published again");
    for (options, id) in &sent {
        let again = client
            .command("agreements", "DraftAgreement", draft(id), options)
            .await
            .unwrap();
        assert!(again.duplicate, "{id} was carried out twice");
    }
    assert_eq!(
        bus.stream_message_ids("ACCORD_AGREEMENTS")
            .await
            .unwrap()
            .len() as u64,
        head
    );
    stop(node);

    // And a directory that holds a log is never written over
    let before = std::fs::read(log_dir.join(accord_log::MARK_FILE)).unwrap();
    let output = restore(&nats.url(), data.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already holds a log"), "{stderr}");
    assert_eq!(
        std::fs::read(log_dir.join(accord_log::MARK_FILE)).unwrap(),
        before
    );

    // And a stream that lost its first events refuses the restore
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let stream = js.get_stream("ACCORD_AGREEMENTS").await.unwrap();
    stream.purge().sequence(5).await.unwrap();
    std::fs::rename(&log_dir, data.path().join("agreements.damaged")).unwrap();
    let output = restore(&nats.url(), data.path());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("starts at position 5"), "{stderr}");
    assert!(!log_dir.exists());
    assert!(!data.path().join("agreements.restoring").exists());
}

#[test]
fn restore_without_nats_is_a_usage_error() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["restore", "agreements", "--data"])
        .arg(data.path())
        .env_remove("ACCORD_NATS_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("give --nats"), "{stderr}");
}
