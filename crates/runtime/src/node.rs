//! One service, whole: its log, command handling and projections, endpoints on the
//! bus, the relay from its log to its stream, and the reactions its events cause.

use std::str::FromStr;
use std::sync::Arc;

use accord_bus::{run_relay, Bus, BusError, RelayConfig};
use accord_log::Log;
use tokio::sync::watch;

use crate::endpoints::{serve, EndpointConfig};
use crate::models::{AgreementsModel, ProcurementModel, ProjectsModel};
use crate::reactions::{run_reactions, ReactionConfig};
use crate::service::{Model, Service};

/// The three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    Agreements,
    Projects,
    Procurement,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 3] = [
        ServiceKind::Agreements,
        ServiceKind::Projects,
        ServiceKind::Procurement,
    ];

    /// The reaction flows that start from this service's events: (durable consumer,
    /// subject filter).
    pub fn flows(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ServiceKind::Agreements => AgreementsModel::FLOWS,
            ServiceKind::Projects => ProjectsModel::FLOWS,
            ServiceKind::Procurement => ProcurementModel::FLOWS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Agreements => AgreementsModel::SERVICE,
            ServiceKind::Projects => ProjectsModel::SERVICE,
            ServiceKind::Procurement => ProcurementModel::SERVICE,
        }
    }
}

impl std::fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ServiceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ServiceKind, String> {
        ServiceKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown service {s}; one of agreements, projects, procurement"))
    }
}

/// Settings of one running service.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub endpoints: EndpointConfig,
    pub reactions: ReactionConfig,
    /// JetStream replicas of the service's stream.
    pub replicas: usize,
    pub duplicate_window: std::time::Duration,
}

impl Default for NodeConfig {
    fn default() -> NodeConfig {
        let relay = RelayConfig::new("-");
        NodeConfig {
            endpoints: EndpointConfig::default(),
            reactions: ReactionConfig::default(),
            replicas: relay.replicas,
            duplicate_window: relay.duplicate_window,
        }
    }
}

/// Runs the service `kind` on `log` and `bus` until `shutdown` turns true: stops
/// taking requests, answers those in flight, leaves the relay at a saved cursor.
pub async fn run_service(
    kind: ServiceKind,
    log: Log,
    bus: Bus,
    config: NodeConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    match kind {
        ServiceKind::Agreements => run::<AgreementsModel>(log, bus, config, shutdown).await,
        ServiceKind::Projects => run::<ProjectsModel>(log, bus, config, shutdown).await,
        ServiceKind::Procurement => run::<ProcurementModel>(log, bus, config, shutdown).await,
    }
}

async fn run<M: Model>(
    log: Log,
    bus: Bus,
    config: NodeConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    let service = Arc::new(Service::<M>::start(log.clone()));
    service
        .caught_up()
        .await
        .map_err(|e| BusError::Unavailable(e.to_string()))?;
    let mut relay_config = RelayConfig::new(M::SERVICE);
    relay_config.replicas = config.replicas;
    relay_config.duplicate_window = config.duplicate_window;
    // The embedded bus keeps nothing across restarts: publish the whole log again.
    relay_config.resume_from_cursor = matches!(bus, Bus::Nats(_));
    let relay = tokio::spawn(run_relay(
        log.clone(),
        bus.clone(),
        relay_config,
        shutdown.clone(),
    ));
    let reactions = tokio::spawn(run_reactions::<M>(
        log,
        bus.clone(),
        config.reactions,
        shutdown.clone(),
    ));
    let served = serve(service, bus, config.endpoints, shutdown).await;
    let relayed = relay
        .await
        .map_err(|e| BusError::Unavailable(format!("relay task: {e}")))?;
    let _ = reactions.await;
    served?;
    relayed
}
