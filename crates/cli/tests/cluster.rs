//! The three services as three `accord serve` processes on a three-node nats-server
//! cluster started from `deploy/nats/cluster-n*.conf` (ports and paths rewritten),
//! each service with its own user from the accounts config and its stream at three
//! replicas. One NATS node is killed mid-scenario; the scenario completes with every
//! projection as the pure run has it (nothing lost, no duplicate effect) and every
//! stream holding each event of its log once.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use accord::play::{
    expected_heads, expected_projections, items, play_step, projections, wait_ready,
};
use accord_bus::{AccordClient, Bus, NatsBus};
use accord_scenario::{Embedded, Scenario};
use accord_testkit::free_port;
use support::{url, Ports, Process, Server};

const PATIENCE: Duration = Duration::from_secs(60);

fn serve(service: &str, nats: &str, data: &std::path::Path) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["serve", service, "--nats", nats, "--http", "", "--data"])
            .arg(data)
            .env("ACCORD_STREAM_REPLICAS", "3")
            // Not about signatures: it sends unsigned commands (signed `accord up`: up_over_nats.rs).
            .env("ACCORD_REQUIRE_SIGNATURES", "false")
            .env("ACCORD_LOG_LEVEL", "warn"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_survives_losing_a_nats_node() {
    let dir = tempfile::tempdir().unwrap();
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let clients: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Server> = (0..3)
        .map(|n| {
            Server::start(
                &format!("cluster-n{}.conf", n + 1),
                Ports {
                    client: clients[n],
                    http: free_port(),
                    cluster: Some((routes[n], routes.clone())),
                },
                &dir.path().join(format!("n{}", n + 1)),
            )
        })
        .collect();

    let data = dir.path().join("data");
    let mut services: Vec<Process> = ["agreements", "projects", "procurement"]
        .iter()
        .map(|s| serve(s, &url(s, &clients), &data))
        .collect();
    let bus = Bus::Nats(
        NatsBus::connect(&url("client", &clients), "cluster-test")
            .await
            .unwrap(),
    );
    let client = AccordClient::new(bus);
    for service in ["agreements", "projects", "procurement"] {
        wait_ready(&client, service, PATIENCE).await.unwrap();
    }

    let scenario = Scenario::lt_ua().unwrap();
    let mut pure = Embedded::default();
    let half = scenario.steps.len() / 2;
    for index in 0..scenario.steps.len() {
        if index == half {
            nodes[1].kill();
        }
        play_step(
            &client,
            &scenario.steps,
            index,
            &mut pure,
            index % 2 == 0,
            PATIENCE,
        )
        .await
        .unwrap();
    }
    let items = items(&pure);
    assert_eq!(
        projections(&client, &items).await.unwrap(),
        expected_projections(&pure, &items, accord_runtime::now().date())
    );
    let heads = expected_heads(&pure);

    // Each stream, read as its own service's user, against the service's log.
    let mut published = Vec::new();
    for service in ["agreements", "projects", "procurement"] {
        let bus = Bus::Nats(
            NatsBus::connect(&url(service, &clients), "cluster-check")
                .await
                .unwrap(),
        );
        let ids = bus
            .stream_message_ids(&accord_bus::stream_name(service))
            .await
            .unwrap();
        published.push((service, ids));
    }
    for service in &mut services {
        service.terminate();
    }
    for (service, ids) in published {
        let log = accord_log::Log::open(data.join(service)).unwrap();
        let logged: Vec<String> = log
            .read_all(1)
            .map(|e| e.unwrap().event_id.to_string())
            .collect();
        assert_eq!(logged.len() as u64, heads[service], "{service}");
        assert_eq!(ids, logged, "{service}: each event once, in log order");
    }
}
