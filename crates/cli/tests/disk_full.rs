//! A full disk under a running `accord serve` over a real nats-server: the data
//! directory is a small tmpfs (mounted by the test as root; it says so and returns
//! when it cannot mount one). Commands are refused `unavailable`/`storage_full`,
//! `/readyz` turns 503 and says why, nothing acknowledged is lost, and after space is
//! freed and the service restarted (the documented recovery) it verifies and serves.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use accord::play::wait_ready;
use accord_bus::{AccordClient, Bus, ClientError, CommandOptions, NatsBus};
use accord_testkit::{free_port, NatsServer};

const PATIENCE: Duration = Duration::from_secs(30);

fn mount(at: &Path, options: &str) -> bool {
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(at)
        .status()
        .is_ok_and(|s| s.success())
}

/// Unmounts on drop, so a failing test leaves no mount behind.
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

fn serve(url: &str, data: &Path, http: &str) -> Child {
    support::serve_agreements(url, http, data)
        .env("ACCORD_LOG_LEVEL", "error")
        .spawn()
        .unwrap()
}

fn readyz(http: &str) -> (u16, String) {
    accord::http::probe(http, "/readyz").unwrap_or((0, String::new()))
}

fn draft(i: usize) -> Vec<u8> {
    serde_json::json!({
        "agreementId": format!("a-{i:05}"),
        "kind": "AGREEMENT_KIND_CONTRACT",
        "title": "t".repeat(4000),
        "parties": [{"id": "LT"}, {"id": "UA"}],
        "reason": "r".repeat(4000),
    })
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_a_service_refuses_typed_turns_readyz_503_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    if !mount(dir.path(), "size=24m") {
        println!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mounted = Mounted(dir.path());
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "disk-full").await.unwrap());
    let client = AccordClient::new(bus).with_timeout(Duration::from_secs(10));
    let http = format!("127.0.0.1:{}", free_port());
    let mut node = serve(&nats.url(), dir.path(), &http);
    wait_ready(&client, "agreements", PATIENCE).await.unwrap();

    let mut options = CommandOptions::new("lt-mod");
    options.json = true;
    let mut acknowledged = 0;
    let refusal = loop {
        options.command_id = uuid::Uuid::now_v7();
        match client
            .command(
                "agreements",
                "DraftAgreement",
                draft(acknowledged),
                &options,
            )
            .await
        {
            Ok(_) => acknowledged += 1,
            Err(error) => break error,
        }
        assert!(acknowledged < 20_000, "the disk never filled");
    };
    println!("full after {acknowledged} commands: {refusal}");
    let ClientError::Refused(error) = &refusal else {
        panic!("{refusal:?}")
    };
    assert_eq!(
        (error.code.as_str(), error.reason.as_str()),
        ("unavailable", "storage_full"),
        "{error:?}"
    );
    assert!(!error.message.contains("Os {"), "{error:?}");
    // Every later command too, for the same reason, and /readyz says so.
    options.command_id = uuid::Uuid::now_v7();
    let again = client
        .command("agreements", "DraftAgreement", draft(99_999), &options)
        .await
        .unwrap_err();
    assert_eq!(again.reason(), Some("storage_full"), "{again:?}");
    let (status, body) = readyz(&http);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage failure"), "{body}");

    // Recovery, as the README says: free space, restart the service.
    node.kill().unwrap();
    node.wait().unwrap();
    assert!(Command::new("mount")
        .args(["-o", "remount,size=96m"])
        .arg(dir.path())
        .status()
        .unwrap()
        .success());
    let report = accord_log::verify_path(dir.path().join("agreements")).unwrap();
    assert!(report.events >= acknowledged as u64, "{report:?}");
    let mut node = serve(&nats.url(), dir.path(), &http);
    wait_ready(&client, "agreements", PATIENCE).await.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while readyz(&http).0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            readyz(&http)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every acknowledged agreement is in the register, read page by page.
    let mut ids = std::collections::BTreeSet::new();
    let mut after = String::new();
    loop {
        let query = accord_contracts::v1::PageQuery { after, limit: 0 };
        let outcome = client
            .query(
                "agreements",
                "AgreementRegister",
                prost::Message::encode_to_vec(&query),
            )
            .await
            .unwrap();
        let accord_contracts::v1::reply::Outcome::Agreements(page) = outcome else {
            panic!("{outcome:?}")
        };
        ids.extend(page.agreements.into_iter().map(|a| a.id));
        if page.next_after.is_empty() {
            break;
        }
        after = page.next_after;
    }
    for i in 0..acknowledged {
        assert!(
            ids.contains(&format!("a-{i:05}")),
            "acknowledged a-{i:05} is gone"
        );
    }
    options.command_id = uuid::Uuid::now_v7();
    client
        .command("agreements", "DraftAgreement", draft(100_000), &options)
        .await
        .unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
}
