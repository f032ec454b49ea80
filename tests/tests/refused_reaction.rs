//! A reaction its target refuses for good, over a real nats-server: the board adopts
//! a motion approving a project the projects service never heard of. The reaction
//! flow sends `ApproveProject`, the projects service refuses it and appends nothing,
//! and the flow counts the command as refused on its metrics instead of retrying it.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use accord_bus::{AccordClient, Bus, NatsBus};
use accord_e2e::{send_step, wait_ready, Node, PATIENCE};
use accord_runtime::{Metrics, NodeConfig, ReactionConfig, ServiceKind};
use accord_scenario::Scenario;
use accord_testkit::{NatsServer, TempLog};

const REFUSED: &str = "accord_reaction_commands_total{service=\"agreements\",flow=\"react-motion-adopted\",outcome=\"refused\"} 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_refused_for_good_is_counted_and_changes_nothing() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "refused").await.unwrap());
    let metrics = Arc::new(Metrics::default());
    let config = NodeConfig {
        reactions: ReactionConfig {
            metrics: metrics.clone(),
            ..ReactionConfig::default()
        },
        ..NodeConfig::default()
    };
    let agreements = Node::start_with(
        ServiceKind::Agreements,
        &bus,
        TempLog::new(),
        config.clone(),
    );
    let projects = Node::start_with(ServiceKind::Projects, &bus, TempLog::new(), config);
    let client = AccordClient::new(bus.clone());
    wait_ready(&client, "agreements").await;
    wait_ready(&client, "projects").await;

    // The scenario up to the board's first motion (approve rdx-plant) being adopted,
    // without the steps that propose the projects.
    let scenario = Scenario::lt_ua().unwrap();
    for step in &scenario.steps[..=46] {
        if step.command == "ProposeProject" {
            continue;
        }
        send_step(&client, step, false)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", step.command));
    }

    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut text = String::new();
    while tokio::time::Instant::now() < deadline {
        text.clear();
        metrics.render(&mut text);
        if text.lines().any(|l| l == REFUSED) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        text.lines().any(|l| l == REFUSED),
        "no {REFUSED} in\n{text}"
    );
    assert!(
        !text.contains("flow=\"react-motion-adopted\",outcome=\"sent\""),
        "{text}"
    );
    assert!(projects.log_ids().is_empty(), "the projects log moved");

    projects.stop().await;
    agreements.stop().await;
}
