//! Support for the end-to-end tests in `tests/tests/`: the three services running on
//! a bus with their own logs, a driver that plays the scenario purely over bus
//! requests, and the expectations the pure in-memory run gives.

// Test support panics on unexpected errors; that is how the tests using it fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

pub use accord::play::{
    expected_heads, log_status, project_statuses, send_step, send_step_retrying, service_name,
};
use accord_bus::{AccordClient, Bus, BusError};
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use accord_scenario::{Embedded, Scenario};
use accord_testkit::TempLog;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Node settings for tests about something other than signatures, which send
/// hand-made commands unsigned: `require_signatures` is on by default, so it is
/// turned off here, explicitly (the signature tests set trust roots instead).
pub fn unsigned_config() -> NodeConfig {
    let mut config = NodeConfig::default();
    config.endpoints.require_signatures = false;
    config
}

/// How long a test waits for the services to reach an expected state.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One service running in this process on its own log.
#[derive(Debug)]
pub struct Node {
    pub kind: ServiceKind,
    pub log: TempLog,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<Result<(), BusError>>>,
}

impl Node {
    pub fn start(kind: ServiceKind, bus: &Bus) -> Node {
        Node::start_on(kind, bus, TempLog::new())
    }

    pub fn start_on(kind: ServiceKind, bus: &Bus, log: TempLog) -> Node {
        Node::start_with(kind, bus, log, unsigned_config())
    }

    /// A node with settings of its own, e.g. metrics the test reads.
    pub fn start_with(kind: ServiceKind, bus: &Bus, log: TempLog, config: NodeConfig) -> Node {
        let (shutdown, stopped) = watch::channel(false);
        let task = tokio::spawn(run_service(
            kind,
            log.log().clone(),
            bus.clone(),
            config,
            stopped,
        ));
        Node {
            kind,
            log,
            shutdown,
            task: Some(task),
        }
    }

    /// Graceful stop; returns the log (still open) for inspection.
    pub async fn stop(mut self) -> TempLog {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self.log
    }

    /// Event ids of the whole log, in log order.
    pub fn log_ids(&self) -> Vec<String> {
        self.log
            .log()
            .read_all(1)
            .map(|e| e.unwrap().event_id.to_string())
            .collect()
    }
}

/// The three services, each on its own log, on one bus.
#[derive(Debug)]
pub struct Services {
    pub nodes: Vec<Node>,
}

impl Services {
    /// Starts the three services and waits until each answers on the bus.
    pub async fn start(bus: &Bus) -> Services {
        let services = Services {
            nodes: ServiceKind::ALL
                .into_iter()
                .map(|kind| Node::start(kind, bus))
                .collect(),
        };
        let client = AccordClient::new(bus.clone());
        for kind in ServiceKind::ALL {
            wait_ready(&client, kind.name()).await;
        }
        services
    }

    pub fn node(&self, kind: ServiceKind) -> &Node {
        self.nodes.iter().find(|n| n.kind == kind).unwrap()
    }

    pub async fn stop(self) -> Vec<TempLog> {
        let mut logs = Vec::new();
        for node in self.nodes {
            logs.push(node.stop().await);
        }
        logs
    }
}

/// The agreements and projects services (the two whose events start reaction
/// flows), each on its own log, counting their reactions in one `Metrics`; returned
/// once both answer.
pub async fn reacting_services(bus: &Bus) -> (Node, Node, std::sync::Arc<accord_runtime::Metrics>) {
    let metrics = std::sync::Arc::new(accord_runtime::Metrics::default());
    let config = NodeConfig {
        reactions: accord_runtime::ReactionConfig {
            metrics: metrics.clone(),
            ..Default::default()
        },
        ..unsigned_config()
    };
    let agreements = Node::start_with(ServiceKind::Agreements, bus, TempLog::new(), config.clone());
    let projects = Node::start_with(ServiceKind::Projects, bus, TempLog::new(), config);
    let client = AccordClient::new(bus.clone());
    wait_ready(&client, "agreements").await;
    wait_ready(&client, "projects").await;
    (agreements, projects, metrics)
}

/// One page of a commitment's timeline, asked over the bus in protobuf.
pub async fn timeline_page(
    client: &AccordClient,
    commitment_id: &str,
    from_version: u64,
) -> accord_contracts::v1::CommitmentTimeline {
    use prost::Message as _;
    let query = accord_contracts::v1::CommitmentTimelineQuery {
        commitment_id: commitment_id.to_owned(),
        from_version,
        limit: 0,
    };
    match client
        .query("agreements", "CommitmentTimeline", query.encode_to_vec())
        .await
        .unwrap()
    {
        accord_contracts::v1::reply::Outcome::Timeline(page) => page,
        other => panic!("not a timeline: {other:?}"),
    }
}

/// Waits until `metrics` render a line exactly `line`; returns the whole text.
pub async fn metrics_with(metrics: &accord_runtime::Metrics, line: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut text = String::new();
    while tokio::time::Instant::now() < deadline {
        text.clear();
        metrics.render(&mut text);
        if text.lines().any(|l| l == line) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {line} in\n{text}");
}

/// Waits until `service` answers queries.
pub async fn wait_ready(client: &AccordClient, service: &str) {
    accord::play::wait_ready(client, service, PATIENCE)
        .await
        .unwrap();
}

/// Waits until every service's log holds `expected` events, all relayed.
pub async fn settle(client: &AccordClient, expected: &BTreeMap<&'static str, u64>) {
    accord::play::settle(client, expected, PATIENCE)
        .await
        .unwrap();
}

/// How a step's body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Protobuf,
    /// JSON for even steps, protobuf for odd ones.
    Alternating,
}

/// Plays steps `range` of the scenario over the bus, step by step, each settling
/// before the next; `pure` runs alongside and says what to expect.
pub async fn drive(
    client: &AccordClient,
    scenario: &Scenario,
    range: std::ops::Range<usize>,
    pure: &mut Embedded,
    format: Format,
) {
    for index in range {
        let json = match format {
            Format::Json => true,
            Format::Protobuf => false,
            Format::Alternating => index % 2 == 0,
        };
        accord::play::play_step(client, &scenario.steps, index, pure, json, PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

pub use accord::play::{expected_projections, items, projections};

/// The index of the vote that adopts the scenario's first motion (approve
/// rdx-plant): the reaction tests play the scenario up to it.
pub fn first_adoption(scenario: &accord_scenario::Scenario) -> usize {
    scenario
        .last_step("CastVote", "m-approve-rdx")
        .expect("the scenario adopts m-approve-rdx")
}
