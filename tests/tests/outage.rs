//! NATS killed mid-scenario and restarted with the same store: commands during the
//! outage fail at once with `unavailable`, the relays catch up afterwards, nothing is
//! lost or duplicated on the streams, and the reactions still happen exactly once.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::{stream_name, AccordClient, Bus, BusError, ClientError, NatsBus};
use accord_e2e::{
    drive, expected_heads, expected_projections, items, projections, send_step, settle, wait_ready,
    Format, Services, PATIENCE,
};
use accord_scenario::{Embedded, Scenario};
use accord_testkit::NatsServer;

/// The first step in the second half of the scenario whose events cause reactions in
/// another service: killing NATS right after it leaves reactions pending.
fn step_with_reactions(scenario: &Scenario) -> usize {
    let mut probe = Embedded::default();
    for (index, step) in scenario.steps.iter().enumerate() {
        let before = expected_heads(&probe);
        probe.execute(step).unwrap();
        let after = expected_heads(&probe);
        let changed = before.iter().filter(|(s, n)| after[*s] != **n).count();
        if index >= scenario.steps.len() / 2 && changed >= 2 {
            return index;
        }
    }
    panic!("no step causes reactions")
}

async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_mid_scenario_loses_nothing_and_duplicates_nothing() {
    let mut nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "e2e-outage").await.unwrap());
    let services = Services::start(&bus).await;
    let client = AccordClient::new(bus.clone());
    let scenario = Scenario::lt_ua().unwrap();
    let mut pure = Embedded::default();
    let cut = step_with_reactions(&scenario);
    drive(&client, &scenario, 0..cut, &mut pure, Format::Alternating).await;

    // The command is acknowledged (durable in its log); its reactions are not done yet
    // when NATS goes away.
    send_step(&client, &scenario.steps[cut], false)
        .await
        .unwrap();
    pure.execute(&scenario.steps[cut]).unwrap();
    nats.stop();
    until("the client notices the outage", || !bus.is_connected()).await;

    let refused = send_step(&client, &scenario.steps[cut + 1], true)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::Bus(BusError::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(refused.code(), accord_contracts::ErrorCode::Unavailable);

    nats.restart();
    until("the client reconnects", || bus.is_connected()).await;
    for service in ["agreements", "projects", "procurement"] {
        wait_ready(&client, service).await;
    }
    // The pending reactions happen, once.
    settle(&client, &expected_heads(&pure)).await;
    // The refused command was never carried out; the client retries it now.
    drive(
        &client,
        &scenario,
        cut + 1..scenario.steps.len(),
        &mut pure,
        Format::Alternating,
    )
    .await;

    let items = items(&pure);
    assert_eq!(
        projections(&client, &items).await.unwrap(),
        expected_projections(&pure, &items, accord_runtime::now().date())
    );
    for node in &services.nodes {
        assert_eq!(
            bus.stream_message_ids(&stream_name(node.kind.name()))
                .await
                .unwrap(),
            node.log_ids(),
            "{}",
            node.kind
        );
    }
    services.stop().await;
}
