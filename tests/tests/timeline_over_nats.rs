//! A commitment whose timeline is larger than one NATS payload (1 MiB by default),
//! asked for over a real nats-server: it comes a page at a time, every page arrives,
//! and together they hold every change once, in order.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_bus::{AccordClient, Bus, CommandOptions, NatsBus};
use accord_e2e::{timeline_page, wait_ready, Node};
use accord_runtime::ServiceKind;
use accord_testkit::commands::long_commitment;
use accord_testkit::NatsServer;

async fn command(client: &AccordClient, name: &str, body: String) {
    let options = CommandOptions {
        json: true,
        ..CommandOptions::new("lt-mod")
    };
    client
        .command("agreements", name, body.into_bytes(), &options)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeline_larger_than_a_nats_payload_comes_in_pages_that_each_arrive() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "timeline").await.unwrap());
    let node = Node::start(ServiceKind::Agreements, &bus);
    let client = AccordClient::new(bus.clone());
    wait_ready(&client, "agreements").await;

    // 300 reasons of 4,000 bytes: about 1.2 MiB of changes.
    for (name, body) in long_commitment(300, 4_000) {
        command(&client, name, body).await;
    }

    let mut versions = Vec::new();
    let mut pages = 0;
    let mut from_version = 0;
    loop {
        let page = timeline_page(&client, "c-shells", from_version).await;
        pages += 1;
        assert!(!page.entries.is_empty(), "page {pages} is empty");
        versions.extend(page.entries.iter().map(|e| e.version));
        if page.next_version == 0 {
            break;
        }
        from_version = page.next_version;
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(versions, (1..=302).collect::<Vec<u64>>());
    node.stop().await;
}
