//! One service, whole: its log, command handling and projections, endpoints on the
//! bus, the relay from its log to its stream, and the reactions its events cause.

use accord_boundary::ServiceDefinition;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use accord_bus::{run_relay, stream_behind_cursor, Bus, BusError, RelayConfig, RELAY_CURSOR};
use accord_log::{Log, LogConfig, LogError};
use tokio::sync::watch;

use crate::checkpoints::{run_checkpoints, CheckpointConfig};
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

    /// Opens the service's log in `dir` and starts the service on it, rebuilding its
    /// projections in the pass that opens the log ([`Service::open`]). Must be called
    /// inside a tokio runtime.
    pub fn open(self, dir: &Path, config: LogConfig) -> Result<OpenService, LogError> {
        Ok(match self {
            ServiceKind::Agreements => OpenService::Agreements(Service::open(dir, config)?),
            ServiceKind::Projects => OpenService::Projects(Service::open(dir, config)?),
            ServiceKind::Procurement => OpenService::Procurement(Service::open(dir, config)?),
        })
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
    /// How long the relay waits after a new event before publishing
    /// ([`RelayConfig::linger`]).
    pub relay_linger: std::time::Duration,
    /// The service's checkpoints (log key, interval, witnesses); `None`: it issues
    /// none.
    pub checkpoints: Option<CheckpointConfig>,
    /// How often the deadline watcher looks for passed deadlines; `None`: never.
    pub deadline_check: Option<std::time::Duration>,
}

impl Default for NodeConfig {
    fn default() -> NodeConfig {
        let relay = RelayConfig::new("-");
        NodeConfig {
            endpoints: EndpointConfig::default(),
            reactions: ReactionConfig::default(),
            replicas: relay.replicas,
            duplicate_window: relay.duplicate_window,
            relay_linger: relay.linger,
            checkpoints: None,
            deadline_check: None,
        }
    }
}

/// One service started on its log, of any of the three kinds.
#[derive(Debug)]
pub enum OpenService {
    Agreements(Service<AgreementsModel>),
    Projects(Service<ProjectsModel>),
    Procurement(Service<ProcurementModel>),
}

impl OpenService {
    pub fn kind(&self) -> ServiceKind {
        match self {
            OpenService::Agreements(_) => ServiceKind::Agreements,
            OpenService::Projects(_) => ServiceKind::Projects,
            OpenService::Procurement(_) => ServiceKind::Procurement,
        }
    }

    pub fn log(&self) -> &Log {
        match self {
            OpenService::Agreements(s) => s.log(),
            OpenService::Projects(s) => s.log(),
            OpenService::Procurement(s) => s.log(),
        }
    }
}

/// Runs the service `kind` on `log` and `bus` until `shutdown` turns true: stops
/// taking requests, answers those in flight, leaves the relay at a saved cursor.
/// Its projections are rebuilt by following the log from position 1; a service
/// opened with [`ServiceKind::open`] and run by [`run_open_service`] rebuilds them
/// with less memory.
pub async fn run_service(
    kind: ServiceKind,
    log: Log,
    bus: Bus,
    config: NodeConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    let service = match kind {
        ServiceKind::Agreements => OpenService::Agreements(Service::start(log)),
        ServiceKind::Projects => OpenService::Projects(Service::start(log)),
        ServiceKind::Procurement => OpenService::Procurement(Service::start(log)),
    };
    run_open_service(service, bus, config, shutdown).await
}

/// [`run_service`] for a service already started on its log.
pub async fn run_open_service(
    service: OpenService,
    bus: Bus,
    config: NodeConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    match service {
        OpenService::Agreements(s) => run(Arc::new(s), bus, config, shutdown).await,
        OpenService::Projects(s) => run(Arc::new(s), bus, config, shutdown).await,
        OpenService::Procurement(s) => run(Arc::new(s), bus, config, shutdown).await,
    }
}

async fn run<M: Model>(
    service: Arc<Service<M>>,
    bus: Bus,
    config: NodeConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    let log = service.log().clone();
    service
        .caught_up()
        .await
        .map_err(|e| BusError::Unavailable(e.to_string()))?;
    let mut relay_config = RelayConfig::new(M::SERVICE);
    relay_config.replicas = config.replicas;
    relay_config.duplicate_window = config.duplicate_window;
    relay_config.linger = config.relay_linger;
    // The embedded bus keeps nothing across restarts: publish the whole log again.
    relay_config.resume_from_cursor = matches!(bus, Bus::Nats(_));
    if relay_config.resume_from_cursor {
        // A stream ahead of the log, or diverging from it, means the log lost or
        // changed what it acknowledged: refuse to serve before appending anything.
        let cursor = log.cursor(RELAY_CURSOR)?;
        stream_behind_cursor(&log, &bus, &relay_config, cursor).await?;
    }
    let relay = tokio::spawn(run_relay(
        log.clone(),
        bus.clone(),
        relay_config,
        shutdown.clone(),
    ));
    let watcher_key = config.reactions.keys.get(M::SERVICE).cloned();
    let mut reactions = config.reactions;
    reactions.replicas = config.replicas;
    let reactions = tokio::spawn(run_reactions::<M>(
        log,
        bus.clone(),
        reactions,
        shutdown.clone(),
    ));
    // A service that does not hold the actors registry follows it over the bus.
    let owns_registry = M::registry(&service.view()).is_some();
    let replica = (!owns_registry).then(|| {
        tokio::spawn(crate::replica::follow(
            M::SERVICE,
            bus.clone(),
            service.replica().clone(),
            shutdown.clone(),
        ))
    });
    let watcher = config.deadline_check.map(|every| {
        tokio::spawn(crate::deadlines::run_deadline_watcher(
            service.clone(),
            bus.clone(),
            watcher_key,
            every,
            shutdown.clone(),
        ))
    });
    // Checkpoints stop after the requests in flight are answered, so the last one
    // covers every acknowledged event.
    let (stop_checkpoints, checkpoints_stopped) = watch::channel(false);
    let checkpoints = config.checkpoints.map(|checkpoints| {
        tokio::spawn(run_checkpoints(
            M::SERVICE,
            service.log().clone(),
            bus.clone(),
            checkpoints,
            config.endpoints.metrics.clone(),
            checkpoints_stopped,
        ))
    });
    let served = serve(service, bus, config.endpoints, shutdown).await;
    let _ = stop_checkpoints.send(true);
    if let Some(watcher) = watcher {
        let _ = watcher.await;
    }
    if let Some(checkpoints) = checkpoints {
        match checkpoints.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(service = M::SERVICE, %error, "accord.checkpoint stopped")
            }
            Err(error) => {
                tracing::error!(service = M::SERVICE, %error, "accord.checkpoint task failed")
            }
        }
    }
    if let Some(replica) = replica {
        let _ = replica.await;
    }
    let relayed = relay
        .await
        .map_err(|e| BusError::Unavailable(format!("relay task: {e}")))?;
    let _ = reactions.await;
    served?;
    relayed
}
