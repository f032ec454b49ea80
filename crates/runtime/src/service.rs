use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use accord_agreements::actor::Actor;
use accord_boundary::{Body, Sender, ServiceDefinition};
use accord_bus::Message;
use accord_contracts::v1::reply::Outcome;
use accord_kernel::{ActorId, ExpectedVersion, StreamId, Timestamp};
use accord_log::{AppendMetadata, AppendOutcome, Log, LogConfig, LogError, NewEvent};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::authentication::{authenticate, Authenticated, KeyRegistry, Trusted, Unauthenticated};
use crate::error::CommandError;
use crate::error::QueryError;
use crate::follower::{project, Follower};
use crate::projection::{Rebuild, StateCache};
use crate::projection_snapshot;
use crate::replica::Replica;

/// How often a command is decided again when its stream changed underneath it.
pub const MAX_CONFLICT_RETRIES: u32 = 5;

/// One service as the runtime serves it: its pure definition (commands, streams,
/// decide/evolve, projections, reactions; in the boundary) plus its queries and the
/// reaction flows that start from its events.
pub trait Model: ServiceDefinition {
    /// The queries it answers besides `LogStatus` (`accord.<service>.q.<Name>`).
    const QUERIES: &'static [&'static str];
    /// The reaction flows that start from its events: (durable consumer name,
    /// subject filter on its own stream).
    const FLOWS: &'static [(&'static str, &'static str)];
    /// Answers a query from the service's projections (`service.view()`) or, for a
    /// history the projections do not keep, from its log.
    fn query(name: &str, body: Body<'_>, service: &Service<Self>) -> Result<Outcome, QueryError>;
    /// The actors registry the service's projections hold, if they hold one.
    fn registry(_view: &Self::View) -> Option<&dyn KeyRegistry> {
        None
    }
}

/// Who sends a command, when it happened, and how it relates to others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMeta {
    pub actor: ActorId,
    /// Idempotency key: resending the same command id changes nothing.
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub occurred_at: Timestamp,
    /// The stream version the sender last saw; when the stream moved on, the command
    /// is refused rather than decided against a state the sender did not see.
    pub expected_version: Option<u64>,
    /// The digest of the command as received ([`crate::command_digest`]): the same
    /// command id with another digest is refused, not answered as a duplicate.
    /// `None` for commands made in process, which are not compared.
    pub command_digest: Option<[u8; 32]>,
    /// Who sent it, when its signature was verified; the service's rule of who may
    /// do what is applied then ([`ServiceDefinition::authorise`]).
    pub sender: Option<Sender>,
    /// The verified signature as the events keep it (`CommandSignature`), if any.
    pub signature: Option<Vec<u8>>,
}

impl CommandMeta {
    /// A command by `actor`, now, with fresh ids and no expected version.
    pub fn new(actor: ActorId) -> CommandMeta {
        let command_id = Uuid::now_v7();
        CommandMeta {
            actor,
            command_id,
            correlation_id: command_id,
            causation_id: None,
            occurred_at: now(),
            expected_version: None,
            command_digest: None,
            sender: None,
            signature: None,
        }
    }
}

/// The wall clock as a timestamp; the shell, not the domain, reads the clock.
pub fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now()).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// One service: its log, its projections following the log, and command handling.
#[derive(Debug)]
pub struct Service<M: Model> {
    log: Log,
    view: Arc<RwLock<M::View>>,
    applied: watch::Receiver<u64>,
    /// Shared with the projector task: a request waiting for the projections
    /// applies what is ready itself (see `follower`).
    follower: Arc<Follower<M>>,
    projector: JoinHandle<()>,
    states: Arc<StateCache<M::State>>,
    /// Most bytes of rows a list query's page holds (see `pages`).
    page_bytes: std::sync::atomic::AtomicUsize,
    /// The actors registry followed from the agreements service, for a service
    /// whose projections do not hold it.
    replica: Arc<Replica>,
    /// The log's durable position when the service started: events up to it may
    /// still be on their way into the projections after the endpoints open.
    opened_at: u64,
    /// The position the projections' snapshot covered when the service opened (0
    /// when it rebuilt them from the first event).
    from_snapshot: u64,
}

impl<M: Model> Service<M> {
    /// Most bytes of rows one page of a list query holds.
    pub fn page_bytes(&self) -> usize {
        self.page_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bounds list pages to `bytes` (at most [`crate::pages::PAGE_BYTES`]): set from
    /// the bus's max payload when the endpoints start serving.
    pub fn limit_pages_to(&self, bytes: usize) {
        self.page_bytes.store(
            bytes.clamp(1, crate::pages::PAGE_BYTES),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Starts the service on an open log: projections are rebuilt from the whole log,
    /// then follow it. Must be called inside a tokio runtime.
    pub fn start(log: Log) -> Service<M> {
        Service::start_at(log, M::View::default(), StateCache::default(), 0)
    }

    /// Opens the log in `dir` and starts the service on it, its projections and kept
    /// stream states rebuilt in the one pass that opens the log
    /// ([`Log::open_replaying`]), with memory that does not grow with the log beyond
    /// them. What `accord serve` does. Must be called inside a tokio runtime.
    pub fn open(dir: &Path, config: LogConfig) -> Result<Service<M>, LogError> {
        let snapshot_after = config.snapshot_after;
        let mut rebuild = Rebuild::<M>::new(dir, snapshot_after > 0);
        let log = Log::open_resuming(dir, config, &mut rebuild)?;
        tracing::info!(
            service = M::SERVICE,
            from_snapshot = rebuild.snapshot.map_or(0, |c| c.position),
            replayed = rebuild.beyond_snapshot(),
            "runtime.projections rebuilt"
        );
        if let Some(applied) = rebuild.applied {
            if snapshot_after > 0
                && !rebuild.undecodable
                && rebuild.beyond_snapshot() >= snapshot_after
            {
                if let Some(body) = projection_snapshot::encode::<M>(&rebuild.view) {
                    projection_snapshot::write::<M>(dir, applied, &body);
                }
            }
        }
        let applied = rebuild.applied_position();
        let from_snapshot = rebuild.snapshot.map_or(0, |c| c.position);
        let mut service = Service::start_at(log, rebuild.view, rebuild.states, applied);
        service.from_snapshot = from_snapshot;
        Ok(service)
    }

    fn start_at(log: Log, view: M::View, states: StateCache<M::State>, applied: u64) -> Service<M> {
        let view = Arc::new(RwLock::new(view));
        let states = Arc::new(states);
        let (applied_tx, applied_rx) = watch::channel(applied);
        let follower = Arc::new(Follower::new(
            &log,
            view.clone(),
            states.clone(),
            applied_tx,
        ));
        let projector = tokio::spawn(project::<M>(follower.clone(), log.clone()));
        Service {
            opened_at: log.durable_position(),
            log,
            view,
            applied: applied_rx,
            follower,
            projector,
            states,
            page_bytes: crate::pages::PAGE_BYTES.into(),
            replica: Arc::default(),
            from_snapshot: 0,
        }
    }

    /// The position the projections' snapshot covered when the service opened: it
    /// replayed only the events after it. 0 when it rebuilt them from the first.
    pub fn opened_from_snapshot(&self) -> u64 {
        self.from_snapshot
    }

    /// The projections, as of every event applied so far.
    pub fn view(&self) -> RwLockReadGuard<'_, M::View> {
        self.view.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The position of the last event the projections applied.
    pub fn applied_position(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Waits until the projections include every durable event of the log.
    pub async fn caught_up(&self) -> Result<(), CommandError> {
        self.wait_applied(self.log.durable_position()).await
    }

    async fn wait_applied(&self, position: u64) -> Result<(), CommandError> {
        if *self.applied.borrow() < position {
            self.follower.help();
        }
        let mut applied = self.applied.clone();
        applied
            .wait_for(|p| *p >= position)
            .await
            .map(|_| ())
            .map_err(|_| CommandError::Stopping)
    }

    /// Answers a query from projections that include every event durable when it
    /// arrived: a client that saw an event (on its stream, or as a head position)
    /// finds it in the answer. Should the projector have stopped at an event it
    /// cannot decode (it logs why), the answer is as of the event before.
    pub async fn query(&self, name: &str, body: Body<'_>) -> Result<Outcome, QueryError> {
        if self.caught_up().await.is_err() {
            tracing::warn!(
                service = M::SERVICE,
                applied = self.applied_position(),
                "runtime.query answered from projections that stopped"
            );
        }
        M::query(name, body, self)
    }

    /// Checks that `request` is signed by its actor's key as the registry holds it
    /// with every acknowledged command applied (a key registered just before counts).
    pub async fn authenticate(
        &self,
        request: &Message,
        trusted: &Trusted,
    ) -> Result<Authenticated, CommandError> {
        // A command is acknowledged only once the projections hold its events
        // (`handle` waits for them), so a key registered, rotated or revoked by an
        // acknowledged command is already here; only what the log held at start may
        // still be on its way. Waiting for every durable event instead (as `handle`
        // does for its facts) would make each signed command wait twice behind the
        // commands in flight.
        self.wait_applied(self.opened_at).await?;
        // The actor's entry is copied out and the projections let go before the
        // Ed25519 check (tens of µs), so the projector is not kept waiting on it.
        let actor = request
            .header(accord_bus::headers::ACTOR)
            .unwrap_or_default();
        let local = {
            let view = self.view();
            M::registry(&view).map(|registry| registry.actor(actor).cloned())
        };
        let replicated = local.is_none();
        let entry: std::collections::BTreeMap<String, Actor> = local
            .unwrap_or_else(|| self.replica.actor(actor))
            .map(|a| (actor.to_owned(), a))
            .into_iter()
            .collect();
        match authenticate(request, trusted, &entry) {
            Ok(authenticated) => Ok(authenticated),
            // A key registered a moment ago may not have reached the replica:
            // retryable, not a refusal for good.
            Err(
                error @ (Unauthenticated::UnknownActor { .. }
                | Unauthenticated::BadSignature { .. }
                | Unauthenticated::SupersededKey { .. }),
            ) if replicated && self.replica.behind().await => {
                Err(CommandError::RegistryBehind(error))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The actors registry this service follows from the agreements service (empty
    /// for the agreements service, which holds its own).
    pub fn replica(&self) -> &Arc<Replica> {
        &self.replica
    }

    /// Handles one command: parse, load, decide, append with the expected version
    /// (retrying on a conflict), and answer once the projections include the events.
    pub async fn handle(
        &self,
        name: &str,
        body: Body<'_>,
        meta: &CommandMeta,
    ) -> Result<AppendOutcome, CommandError> {
        // Parsing asks the projections for facts (is the agreement in force, is the
        // supply known); they must include every event durable when the command
        // arrived, or a command that follows an event its sender saw (e.g. one a
        // reaction appended) is refused for not knowing it.
        self.caught_up().await?;
        let command = {
            let view = self.view();
            let command = M::parse(name, body, &meta.actor, &view)?;
            if let Some(sender) = &meta.sender {
                M::authorise(name, &command, sender, &view).map_err(CommandError::Refused)?;
            }
            command
        };
        let stream = M::stream(&command)?;
        // A retried command is answered with what it did the first time, not decided
        // again against a state it already changed.
        if let Some(outcome) = self.log.outcome_of(meta.command_id)? {
            if outcome.stream != stream {
                return Err(LogError::CommandIdReused {
                    command_id: meta.command_id,
                    original_stream: outcome.stream,
                }
                .into());
            }
            if let (Some(earlier), Some(now)) = (outcome.command_digest, meta.command_digest) {
                if earlier != now {
                    return Err(LogError::CommandIdPayloadMismatch {
                        command_id: meta.command_id,
                    }
                    .into());
                }
            }
            self.wait_applied(outcome.last_position).await?;
            return Ok(outcome);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (version, state) = self.load(&stream)?;
            if let Some(expected) = meta.expected_version {
                if expected != version {
                    return Err(CommandError::Stale {
                        stream: stream.to_string(),
                        expected,
                        actual: version,
                    });
                }
            }
            let events = M::decide(&state, &command)
                .map_err(|refusal| CommandError::Refused(refusal.on(&stream)))?;
            // Let go of the shared state before the projector folds these events into
            // it, so it moves on in place instead of being copied.
            drop(state);
            let new_events = events
                .iter()
                .map(|event| {
                    M::encode(&stream, event).map(|encoded| NewEvent {
                        event_type: encoded.event_type,
                        schema_version: encoded.schema_version,
                        payload: encoded.payload,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let metadata = AppendMetadata {
                actor: meta.actor.to_string(),
                command_id: meta.command_id,
                correlation_id: meta.correlation_id,
                causation_id: meta.causation_id,
                occurred_at: meta.occurred_at,
                signature: meta.signature.clone(),
                command_digest: meta.command_digest,
            };
            match self
                .log
                .append(
                    stream.clone(),
                    ExpectedVersion::Exact(version),
                    new_events,
                    metadata,
                )
                .await
            {
                Ok(outcome) => {
                    self.wait_applied(outcome.last_position).await?;
                    return Ok(outcome);
                }
                // With an expected version the sender asked for exactly that state.
                Err(LogError::Conflict { actual, .. }) if meta.expected_version.is_some() => {
                    return Err(CommandError::Stale {
                        stream: stream.to_string(),
                        expected: version,
                        actual,
                    });
                }
                Err(LogError::Conflict { .. }) if attempt < MAX_CONFLICT_RETRIES => {
                    tracing::debug!(service = M::SERVICE, %stream, attempt, "runtime.command.retry");
                }
                Err(LogError::Conflict { .. }) => {
                    return Err(CommandError::Contended {
                        stream: stream.to_string(),
                        attempts: attempt,
                    });
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// The stream's version and state: the state kept from an earlier load, moved
    /// on by the events appended since, so a long-lived stream is not read and
    /// folded from its first event on every command.
    fn load(&self, stream: &StreamId) -> Result<(u64, Arc<M::State>), CommandError> {
        let (mut version, mut state) = self.states.get(stream);
        let kept = version;
        for event in self.log.read_stream(stream, version + 1) {
            let event = event?;
            version = event.version;
            // Copies the shared state only when there is something to fold into it.
            M::evolve(
                Arc::make_mut(&mut state),
                &M::decode(&event.event_type, event.schema_version, &event.payload)?,
            );
        }
        // A stream with no events yet is not kept: a command for an id that does not
        // exist must not take a place in the cache.
        if version > kept {
            self.states.put(stream, version, &state);
        }
        Ok((version, state))
    }
}

impl<M: Model> Drop for Service<M> {
    fn drop(&mut self) {
        self.projector.abort();
    }
}
