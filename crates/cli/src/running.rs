//! Services running in this process: their logs opened from the data directory, the
//! bus (NATS when a URL is set, else the embedded bus), and one task per service.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use accord_bus::{Bus, BusError, EmbeddedBus, NatsBus};
use accord_evidence::note::NoteSigner;
use accord_kernel::signature::ActorKey;
use accord_log::Log;
use accord_runtime::{
    run_open_service, CheckpointConfig, EndpointConfig, Metrics, NodeConfig, ReactionConfig,
    ServiceKind,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::settings::Settings;

/// Why services could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot create data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("cannot open the {service} log in {path}: {error}")]
    Log {
        service: ServiceKind,
        path: String,
        error: accord_log::LogError,
    },
    #[error("{service} stopped: {error}")]
    Service {
        service: ServiceKind,
        error: BusError,
    },
    #[error("cannot read the {service} reaction key {path}: {reason}")]
    ReactionKey {
        service: ServiceKind,
        path: String,
        reason: String,
    },
    #[error("cannot read the {service} log key {path}: {reason}")]
    LogKey {
        service: ServiceKind,
        path: String,
        reason: String,
    },
    #[error("{service} task failed: {reason}")]
    Task {
        service: ServiceKind,
        reason: String,
    },
}

impl RunError {
    /// Whether the error is in the configuration (a key file that cannot be read):
    /// the process exits with status 2, as for invalid settings.
    pub fn is_configuration(&self) -> bool {
        matches!(self, RunError::ReactionKey { .. } | RunError::LogKey { .. })
    }
}

/// Connects to NATS at `url`, retrying until it answers or `shutdown` turns true.
pub async fn connect(url: &str, mut shutdown: watch::Receiver<bool>) -> Option<Bus> {
    let mut attempt = 0u32;
    loop {
        match NatsBus::connect(url, "accord").await {
            Ok(bus) => {
                tracing::info!(url = %accord_bus::redact(url), "accord.bus connected to nats");
                return Some(Bus::Nats(bus));
            }
            Err(error) => {
                attempt += 1;
                tracing::warn!(attempt, %error, "accord.bus nats not reachable; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.changed() => return None,
                }
            }
        }
    }
}

/// The services of this process.
#[derive(Debug)]
pub struct Running {
    pub bus: Bus,
    pub logs: Vec<(ServiceKind, Log)>,
    pub metrics: Arc<Metrics>,
    shutdown: watch::Sender<bool>,
    /// Turns true when a service stopped with an error, so the process can end.
    failed: Arc<watch::Sender<bool>>,
    tasks: Vec<(ServiceKind, JoinHandle<Result<(), BusError>>)>,
}

impl Running {
    /// Opens the logs of `kinds` under the data directory and starts the services.
    pub fn start(
        settings: &Settings,
        kinds: &[ServiceKind],
        bus: Bus,
    ) -> Result<Running, RunError> {
        let keys = reaction_keys(settings, kinds)?;
        let log_keys = log_keys(settings, kinds)?;
        Running::start_with_clock(settings, kinds, bus, None, keys, log_keys)
    }

    /// Like [`Running::start`], with the logs' recorded-at times read from `clock`
    /// (the demo's scenario clock) instead of the system's.
    pub fn start_with_clock(
        settings: &Settings,
        kinds: &[ServiceKind],
        bus: Bus,
        clock: Option<Arc<dyn accord_log::Clock>>,
        reaction_keys: BTreeMap<String, ActorKey>,
        mut log_keys: BTreeMap<String, NoteSigner>,
    ) -> Result<Running, RunError> {
        warn_about_signatures(settings, &reaction_keys);
        if log_keys.is_empty() {
            tracing::warn!("accord.checkpoint no log keys (log_key_dir): the services issue no signed checkpoints, so nobody outside can tell if their history is rewritten");
        }
        // Validated when the settings were read.
        let witnesses = settings.witnesses().unwrap_or_default();
        let (shutdown, stopped) = watch::channel(false);
        let metrics = Arc::new(Metrics::default());
        let config = NodeConfig {
            endpoints: EndpointConfig {
                max_request_bytes: settings.max_request_bytes,
                max_future_skew: Duration::from_secs(settings.max_future_skew_secs),
                require_signatures: settings.require_signatures,
                // Validated when the settings were read.
                trusted: settings.trusted().unwrap_or_default(),
                metrics: metrics.clone(),
            },
            reactions: ReactionConfig {
                metrics: metrics.clone(),
                keys: Arc::new(reaction_keys),
                ..ReactionConfig::default()
            },
            replicas: settings.stream_replicas,
            duplicate_window: Duration::from_secs(settings.duplicate_window_secs),
            relay_linger: Duration::from_micros(settings.relay_linger_us),
            checkpoints: None,
            deadline_check: (settings.deadline_check_secs > 0)
                .then(|| Duration::from_secs(settings.deadline_check_secs)),
        };
        let mut logs = Vec::new();
        let mut services = Vec::new();
        for kind in kinds {
            let dir = settings.service_dir(kind.name());
            std::fs::create_dir_all(&dir).map_err(|e| RunError::DataDir {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
            let mut log_config = accord_log::LogConfig {
                snapshot_after: settings.snapshot_after,
                group_linger: Duration::from_micros(settings.group_linger_us),
                ..accord_log::LogConfig::default()
            };
            if let Some(clock) = &clock {
                log_config.clock = clock.clone();
            }
            // Opening replays the log into the service's projections.
            let service = kind.open(&dir, log_config).map_err(|error| RunError::Log {
                service: *kind,
                path: dir.display().to_string(),
                error,
            })?;
            let log = service.log().clone();
            tracing::info!(service = %kind, dir = %dir.display(), events = log.durable_position(), "accord.log opened");
            logs.push((*kind, log));
            services.push(service);
        }
        let failed = Arc::new(watch::channel(false).0);
        let tasks = services
            .into_iter()
            .map(|service| {
                let kind = service.kind();
                let mut config = config.clone();
                config.checkpoints = log_keys.remove(kind.name()).map(|signer| {
                    let mut checkpoints = CheckpointConfig::new(signer, witnesses.clone());
                    checkpoints.every_events = settings.checkpoint_every_events;
                    checkpoints.every = Duration::from_secs(settings.checkpoint_every_secs);
                    checkpoints.witness_timeout =
                        Duration::from_secs(settings.witness_timeout_secs);
                    checkpoints.replicas = settings.stream_replicas;
                    checkpoints
                });
                let run = run_open_service(service, bus.clone(), config, stopped.clone());
                let failed = failed.clone();
                let task = tokio::spawn(async move {
                    let result = run.await;
                    if let Err(error) = &result {
                        tracing::error!(service = %kind, %error, "accord.service stopped");
                        failed.send_replace(true);
                    }
                    result
                });
                (kind, task)
            })
            .collect();
        Ok(Running {
            bus,
            logs,
            metrics,
            shutdown,
            failed,
            tasks,
        })
    }

    /// The embedded bus, for one process with no NATS.
    pub fn embedded_bus() -> Bus {
        Bus::Embedded(EmbeddedBus::new())
    }

    /// Turns true once a service has stopped with an error (e.g. its log lost
    /// events its stream holds): the process should then stop the others and exit.
    pub fn failure(&self) -> watch::Receiver<bool> {
        self.failed.subscribe()
    }

    /// Asks every service to stop: no new requests, in-flight ones finish.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Waits until every service stopped; the first error, if any.
    pub async fn wait(&mut self) -> Result<(), RunError> {
        let mut first = Ok(());
        for (service, task) in self.tasks.drain(..) {
            let result = match task.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(RunError::Service { service, error }),
                Err(error) => Err(RunError::Task {
                    service,
                    reason: error.to_string(),
                }),
            };
            if let (Err(error), true) = (result, first.is_ok()) {
                first = Err(error);
            }
        }
        first
    }
}

/// The key file `<service><suffix>` of each of `kinds` in `dir`, read by `read`
/// (its error's text); a service without a file has none. No directory: no keys.
fn service_key_files<K>(
    dir: &str,
    suffix: &str,
    kinds: &[ServiceKind],
    read: impl Fn(&std::path::Path) -> Result<K, String>,
    failed: impl Fn(ServiceKind, String, String) -> RunError,
) -> Result<BTreeMap<String, K>, RunError> {
    let mut keys = BTreeMap::new();
    if dir.is_empty() {
        return Ok(keys);
    }
    for kind in kinds {
        let path = std::path::Path::new(dir).join(format!("{}{suffix}", kind.name()));
        if !path.exists() {
            continue;
        }
        let key =
            read(&path).map_err(|reason| failed(*kind, path.display().to_string(), reason))?;
        keys.insert(kind.name().to_owned(), key);
    }
    Ok(keys)
}

/// The reaction keys of `kinds` in `reaction_key_dir` (`<service>.key`, as
/// `accord keys new` writes them); a service without a file sends its reactions
/// unsigned. No directory set: no keys.
pub fn reaction_keys(
    settings: &Settings,
    kinds: &[ServiceKind],
) -> Result<BTreeMap<String, ActorKey>, RunError> {
    service_key_files(
        &settings.reaction_key_dir,
        ".key",
        kinds,
        |path| crate::keys::read_key_file(path).map_err(|e| e.to_string()),
        |service, path, reason| RunError::ReactionKey {
            service,
            path,
            reason,
        },
    )
}

/// The log keys of `kinds` in `log_key_dir` (`<service>.log-key`, as `accord keys
/// log` writes them); a service without a file issues no checkpoints. No directory
/// set: no keys.
pub fn log_keys(
    settings: &Settings,
    kinds: &[ServiceKind],
) -> Result<BTreeMap<String, NoteSigner>, RunError> {
    service_key_files(
        &settings.log_key_dir,
        ".log-key",
        kinds,
        |path| {
            let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
            text.trim().parse().map_err(|e| format!("{e}"))
        },
        |service, path, reason| RunError::LogKey {
            service,
            path,
            reason,
        },
    )
}

/// Says at start what an operator must know about signatures: off is a choice to
/// see in the log; on without trust roots refuses every command.
fn warn_about_signatures(settings: &Settings, reaction_keys: &BTreeMap<String, ActorKey>) {
    if !settings.require_signatures {
        tracing::warn!("accord.auth require_signatures is off: commands are accepted unsigned and their actors are not proven");
        return;
    }
    if settings.trust_roots.trim().is_empty() {
        tracing::warn!("accord.auth require_signatures is on but no trust_roots are set: every command will be refused as unauthenticated");
    }
    if reaction_keys.is_empty() {
        tracing::warn!("accord.auth no reaction keys (reaction_key_dir): the services' reactions are sent unsigned and will be refused");
    }
}

/// The process's async runtime: `worker_threads` threads, or one per CPU core when
/// that is 0.
pub fn runtime(settings: &Settings) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if settings.worker_threads > 0 {
        builder.worker_threads(settings.worker_threads as usize);
    }
    builder.enable_all().build()
}

#[cfg(test)]
mod tests {
    // A test that cannot set itself up should stop loudly.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_runtime_has_the_threads_the_settings_ask_for() {
        let one = Settings {
            worker_threads: 1,
            ..Settings::default()
        };
        assert_eq!(runtime(&one).unwrap().metrics().num_workers(), 1);
        let cores = std::thread::available_parallelism().unwrap().get();
        let default = runtime(&Settings::default()).unwrap();
        assert_eq!(default.metrics().num_workers(), cores);
    }
}
