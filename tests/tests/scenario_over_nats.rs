//! The whole scenario from the source text, driven purely over NATS requests against
//! a real nats-server (protobuf and JSON bodies both), and the same over the embedded
//! bus: every projection queried over the bus equals the pure run's, the four
//! reactions happened, and every event of each log is on its stream exactly once,
//! in log order; and every commitment's timeline over the bus has the pure run's
//! changes.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_bus::{headers, stream_name, AccordClient, Bus, EmbeddedBus, Message, NatsBus, JSON};
use accord_contracts::v1::reply::Outcome;
use accord_e2e::{
    drive, expected_projections, items, projections, timeline_page, Format, Services,
};
use accord_runtime::ServiceKind;
use accord_scenario::{Embedded, Scenario};
use accord_testkit::NatsServer;

async fn the_whole_scenario_on(bus: Bus) {
    let services = Services::start(&bus).await;
    let client = AccordClient::new(bus.clone());
    let scenario = Scenario::lt_ua().unwrap();
    let mut pure = Embedded::default();
    drive(
        &client,
        &scenario,
        0..scenario.steps.len(),
        &mut pure,
        Format::Alternating,
    )
    .await;

    let items = items(&pure);
    let actual = projections(&client, &items).await.unwrap();
    assert_eq!(
        actual,
        expected_projections(&pure, &items, accord_runtime::now().date())
    );

    // The four reactions, as the services show them.
    let Outcome::Portfolio(portfolio) = &actual[3] else {
        panic!()
    };
    assert!(
        portfolio
            .projects
            .iter()
            .any(|p| p.status != "proposed" && !p.status.is_empty()),
        "a project was approved by the board's motion: {portfolio:?}"
    );
    let Outcome::Ledger(ledger) = &actual[1] else {
        panic!()
    };
    assert!(
        ledger
            .rows
            .iter()
            .any(|r| r.kind == "funding" && r.allocated > 0),
        "a funding pledge counted towards its commitment: {ledger:?}"
    );
    let Outcome::Policy(policy) = &actual[4] else {
        panic!()
    };
    assert!(policy.version >= 2, "granted then amended: {policy:?}");
    assert!(!policy.grants.is_empty());
    let offered = pure
        .procurement()
        .markets
        .values()
        .flat_map(|m| m.supplies.keys())
        .any(|id| id.as_str().contains("-output-"));
    assert!(offered, "a project's reported output was offered as supply");

    // Every event exactly once on its stream, in log order.
    for node in &services.nodes {
        let published = bus
            .stream_message_ids(&stream_name(node.kind.name()))
            .await
            .unwrap();
        assert_eq!(published, node.log_ids(), "{}", node.kind);
        assert!(!published.is_empty());
    }
    assert_eq!(
        services.node(ServiceKind::Agreements).log_ids().len() as u64,
        accord_e2e::expected_heads(&pure)["agreements"]
    );

    let head = services.node(ServiceKind::Agreements).log_ids().len() as u64;
    for commitment_id in pure.agreements().commitments.keys() {
        the_timeline_is_the_pure_runs(&client, &pure, commitment_id, head).await;
    }
    services.stop().await;
}

/// A commitment's timeline over the bus, in protobuf and in JSON, has the pure run's
/// changes, each at a position of the agreements log, oldest first.
async fn the_timeline_is_the_pure_runs(
    client: &AccordClient,
    pure: &Embedded,
    commitment_id: &str,
    head: u64,
) {
    let timeline = timeline_page(client, commitment_id, 0).await;
    let request = Message::new(
        "accord.agreements.q.CommitmentTimeline",
        format!(r#"{{"commitmentId":"{commitment_id}"}}"#).into_bytes(),
    )
    .with_header(headers::CONTENT_TYPE, JSON);
    let Outcome::Timeline(in_json) = client.send(request, true).await.unwrap() else {
        panic!("not a timeline")
    };
    assert_eq!(in_json, timeline);
    assert_eq!(timeline.commitment_id, commitment_id);

    let positions: Vec<u64> = timeline.entries.iter().map(|e| e.position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1])
            && positions.iter().all(|p| (1..=head).contains(p)),
        "{commitment_id}: {positions:?} (head {head})"
    );
    // Positions and log times are the service log's own; reactions may reach a
    // commitment in another order than in the pure run, so the changes are compared
    // as sets.
    let mut over_the_bus: Vec<_> = timeline
        .entries
        .iter()
        .map(|e| {
            (
                e.occurred_at.clone(),
                e.actor.clone(),
                e.change.clone(),
                e.reason.clone(),
                e.motion.clone(),
            )
        })
        .collect();
    let mut expected: Vec<_> = pure
        .timeline(commitment_id)
        .into_iter()
        .map(|e| {
            (
                e.occurred_at.to_string(),
                e.actor,
                e.change,
                e.reason,
                e.motion.unwrap_or_default(),
            )
        })
        .collect();
    over_the_bus.sort();
    expected.sort();
    assert!(!expected.is_empty(), "{commitment_id}");
    assert_eq!(over_the_bus, expected, "{commitment_id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_scenario_over_nats() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "e2e").await.unwrap());
    the_whole_scenario_on(bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_scenario_over_the_embedded_bus() {
    the_whole_scenario_on(Bus::Embedded(EmbeddedBus::new())).await;
}
