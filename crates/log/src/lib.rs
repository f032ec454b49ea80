//! The append-only event log each Accord service owns: the service's source of truth.
//!
//! * One sled database per service, one tree; each group's envelopes are written as
//!   one or a few records (see `keys`), since sled's cost is per key written.
//! * Appends go through a single writer thread that batches concurrent callers into
//!   one atomic sled write, one flush and one `fdatasync` per group (group commit).
//!   No caller hears back before the flush that covers its events has returned.
//! * Every event carries the SHA-256 of the one before it (see `canonical`), so
//!   [`Log::verify`] can prove offline that history was not rewritten.
//! * Readers only ever see acknowledged (durable) events.

mod canonical;
mod checkpoints;
mod codec;
mod config;
mod error;
mod group;
mod in_place;
mod index;
mod keys;
mod mark;
mod positions;
mod read;
mod record;
mod restore;
mod scan;
mod sealed;
mod snapshot;
mod snapshotter;
mod stored_commands;
mod subscribe;
mod syncer;
mod tree;
mod verify;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use accord_kernel::{ExpectedVersion, RecordedEvent, StreamId, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

pub use canonical::{canonical_bytes, compute_hash};
pub use checkpoints::{stored_checkpoints, stored_tree_root};
pub use codec::{decode_envelope, encode_envelope};
pub use config::{
    Clock, Durability, LogConfig, SystemClock, DEFAULT_CACHE_BYTES, DEFAULT_SNAPSHOT_AFTER,
    MAX_EVENT_BYTES_LIMIT,
};
pub use error::{Corruption, CorruptionReason, InvalidInput, LogError};
pub use in_place::{check_envelope, EnvelopeCheck};
pub use mark::{read_mark, Mark, MARK_FILE};
pub use read::EventIter;
pub use record::{build_record, record_entries};
pub use restore::{Pushed, Restore};
pub use scan::{scan_path, scan_path_with, Scan, REOPEN_AFTER_BYTES};
pub use sealed::{read_sealed, snapshot_dir, write_sealed, Covers, Sealed, SNAPSHOT_DIR};
pub use snapshotter::QUIET_FACTOR as SNAPSHOT_QUIET_FACTOR;
pub use subscribe::Subscription;
pub use verify::{
    open_storage, stored_event_at, verify_path, verify_path_with_progress, VerifyReport,
    PROGRESS_EVERY,
};

/// One event to append: what the domain decided, before the log gives it a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Fully qualified protobuf message name of the payload.
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Vec<u8>,
}

/// Who appends, why, and in answer to what: shared by every event of one append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMetadata {
    pub actor: String,
    /// Idempotency key: a second append with the same command id appends nothing and
    /// returns the first one's outcome, however long after.
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// Business time of the command; may be earlier than the recording (late entry).
    pub occurred_at: Timestamp,
    pub signature: Option<Vec<u8>>,
    /// SHA-256 of the command as received (see README, "Idempotency"), stored in
    /// every event of the append. A later append with the same command id and
    /// another digest is refused ([`LogError::CommandIdPayloadMismatch`]); `None`
    /// on either side is not compared (events appended before digests existed).
    pub command_digest: Option<[u8; 32]>,
}

/// Where an append's events landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    pub stream: StreamId,
    /// Version of the stream after the first and after the last appended event.
    pub first_version: u64,
    pub last_version: u64,
    pub first_position: u64,
    pub last_position: u64,
    pub event_ids: Vec<Uuid>,
    /// True when the command id had been appended before and nothing was written now.
    pub duplicate: bool,
    /// The digest of the command that appended the events (see [`AppendMetadata`]).
    pub command_digest: Option<[u8; 32]>,
}

/// The last durable event of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    pub position: u64,
    pub hash: accord_kernel::EventHash,
    pub recorded_at: Timestamp,
}

/// What the log has done since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStats {
    /// Appends that wrote events (duplicates and rejections excluded).
    pub appends: u64,
    pub events: u64,
    /// Groups applied to sled: appends that arrived together.
    pub groups: u64,
    /// Flushes (and fdatasyncs): each covers every group applied before it.
    pub syncs: u64,
    /// Appends taken on the caller's own thread, whatever their outcome: a lone
    /// writer's, with no hand-off to the writer thread (see [`Log::append`]).
    pub appends_on_caller_thread: u64,
}

/// What rebuilds state from the log as it opens ([`Log::open_replaying`]): a
/// closure taking each event, or a holder of a snapshot that covers the log up to a
/// position and needs only the events after it.
pub trait Replay {
    /// The position and hash the caller's state already covers (its snapshot), if
    /// any. The log replays only what follows, once it checked that its event at
    /// that position has that hash.
    fn covers(&self) -> Option<Covers> {
        None
    }
    /// The snapshot does not match the log (another history, or ahead of it): the
    /// caller starts over from nothing, and every event is replayed.
    fn start_over(&mut self) {}
    /// The next event.
    fn event(&mut self, event: &RecordedEvent);
    /// False for a caller that takes no events at all: the pass then reads only
    /// what the index needs.
    fn takes_events(&self) -> bool {
        true
    }
}

/// Opening with nothing to rebuild but the log's own index.
struct NoEvents;

impl Replay for NoEvents {
    fn event(&mut self, _: &RecordedEvent) {}
    fn takes_events(&self) -> bool {
        false
    }
}

/// A closure taking every event, with no snapshot of its own.
struct EveryEvent<'a>(&'a mut dyn FnMut(&RecordedEvent));

impl Replay for EveryEvent<'_> {
    fn event(&mut self, event: &RecordedEvent) {
        (self.0)(event)
    }
}

/// A handle on one open log. Cheap to clone; the log closes when the last handle,
/// reader and subscription are gone.
#[derive(Debug, Clone)]
pub struct Log {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tree: sled::Db,
    /// The log's directory: sled's files and the high-water mark.
    dir: std::path::PathBuf,
    index: index::SharedIndex,
    config: LogConfig,
    requests: Option<mpsc::Sender<writer::Request>>,
    /// The writer's state, for a lone caller's append on its own thread.
    writer_state: Arc<writer::Shared>,
    durable: Arc<AtomicU64>,
    durable_watch: watch::Receiver<u64>,
    counters: Arc<group::Counters>,
    /// Set when a write or sync failed: the log then takes no appends until reopened.
    failed: Arc<error::Failure>,
    writer: Option<JoinHandle<()>>,
    /// The first position the opening pass read.
    opened_from: u64,
    /// Writes index snapshots as the log grows.
    snapshotter: Arc<snapshotter::Snapshotter>,
}

impl Log {
    /// Opens (or creates) the log in `dir` with the default, power-loss durable settings.
    pub fn open(dir: impl AsRef<Path>) -> Result<Log, LogError> {
        Self::open_with(dir, LogConfig::default())
    }

    /// Opens (or creates) the log in `dir`. Refuses a log whose head record does not
    /// match its last event: such a log was damaged or tampered with, and repairing it
    /// silently would destroy the evidence. Run [`verify_path`] on a copy to see why.
    pub fn open_with(dir: impl AsRef<Path>, config: LogConfig) -> Result<Log, LogError> {
        Log::open_resuming(dir, config, &mut NoEvents)
    }

    /// Opens the log, first handing every stored event to `replay`, in order: the
    /// pass that rebuilds the log's index, so a service rebuilding its projections
    /// reads the log once, not twice. The pass reads with memory that does not grow
    /// with the log ([`scan_path`]); following a subscription from position 1 on an
    /// open log instead keeps every page read in sled's cache (see `scan`).
    pub fn open_replaying(
        dir: impl AsRef<Path>,
        config: LogConfig,
        replay: &mut dyn FnMut(&RecordedEvent),
    ) -> Result<Log, LogError> {
        Log::open_resuming(dir, config, &mut EveryEvent(replay))
    }

    /// [`Log::open_replaying`] for a caller that may hold a snapshot of its own.
    /// With snapshots (`LogConfig::snapshot_after`), the pass starts after what both
    /// the index's snapshot and `replay`'s cover, each checked against the log's
    /// event at its position first; a snapshot that does not match is not used.
    pub fn open_resuming(
        dir: impl AsRef<Path>,
        config: LogConfig,
        replay: &mut dyn Replay,
    ) -> Result<Log, LogError> {
        config.validate()?;
        let dir = dir.as_ref();
        let db = config::open_sled(dir, config.cache_bytes)?;
        let head = read::checked_head(&db)?;
        // Before anything is replayed or appended: a log recovered short of what it
        // acknowledged must not open (it would append at positions already given).
        mark::check(dir, head.map(|h| (h.position, h.hash)), |position| {
            Ok(read::event_at(&db, position)?.hash)
        })?;
        let durable_position = head.map_or(0, |h| h.position);
        let matches = |covers: Covers| {
            covers.position <= durable_position
                && read::event_at(&db, covers.position).is_ok_and(|e| e.hash == covers.hash)
        };
        let mut index = match config.snapshot_after {
            0 => index::Index::default(),
            _ => match snapshot::load(dir)? {
                Some((covers, index)) if matches(covers) => index,
                Some((covers, _)) => {
                    tracing::warn!(
                        dir = %dir.display(),
                        snapshot = covers.position,
                        log = durable_position,
                        "log.snapshot ignored: it does not match the log; rebuilding the index"
                    );
                    index::Index::default()
                }
                None => index::Index::default(),
            },
        };
        let replay_after = match replay.covers() {
            _ if !replay.takes_events() => durable_position,
            Some(covers) if matches(covers) => covers.position,
            Some(covers) => {
                tracing::warn!(
                    dir = %dir.display(),
                    snapshot = covers.position,
                    log = durable_position,
                    "log.snapshot of the projections does not match the log; rebuilding them"
                );
                replay.start_over();
                0
            }
            None => 0,
        };
        let stored_tree = if config.merkle_tree {
            Some(tree::resume(&db, head)?)
        } else {
            tree::remove_all(&db)?;
            None
        };
        // A log without its tree gets it built from the events the pass reads.
        let mut rebuilt = match stored_tree {
            Some(tree::Stored::Absent) => Some(
                accord_evidence::tiles::TileBuilder::new().storing_from(tree::STORED_FROM_LEVEL),
            ),
            _ => None,
        };
        // The pass starts after what every part already holds.
        let from = match rebuilt {
            Some(_) => 1,
            None => index.covered().min(replay_after) + 1,
        };
        let replay = &mut |event: &RecordedEvent| {
            if let Some(rebuilt) = &mut rebuilt {
                rebuilt.push(tree::leaf(&event.hash));
            }
            if event.position > replay_after {
                replay.event(event);
            }
        };
        // The pass reads through the database just opened, and on through fresh ones
        // if the log is large enough for the scan to reopen; then the log goes on with
        // the first database if it was never closed, or opens a fresh one.
        let mut scan = scan::Scan::starting_on(db, dir, from);
        let events = index.build(
            from,
            scan.by_ref().take_while(|e| {
                e.as_ref()
                    .map_or(true, |event| event.position <= durable_position)
            }),
            replay,
        )?;
        let db = match scan.into_given_db() {
            Some(db) => db,
            None => config::open_sled(dir, config.cache_bytes)?,
        };
        // The database may have been closed for the pass; nobody may have written
        // meanwhile.
        if read::checked_head(&db)? != head || events != durable_position {
            return Err(LogError::Storage(format!(
                "the log in {} changed or ended early while it was being opened",
                dir.display()
            )));
        }
        let tree = match (stored_tree, rebuilt) {
            (_, Some(mut rebuilt)) => {
                tracing::info!(
                    events = durable_position,
                    "log.open rebuilt the Merkle tree"
                );
                tree::write_all(&db, rebuilt.take_writes())?;
                Some(rebuilt)
            }
            (Some(tree::Stored::Tree(stored)), None) => Some(stored),
            _ => None,
        };
        if let Some(head) = head {
            let beyond = durable_position - index.covered();
            if config.snapshot_after > 0 && beyond >= config.snapshot_after {
                snapshotter::write_at_open(dir, &db, &mut index, head.position, head.hash);
            }
        }
        let built = index;
        let index = index::SharedIndex::default();
        *index.write() = built;
        let durable = Arc::new(AtomicU64::new(durable_position));
        let (watch_tx, durable_watch) = watch::channel(durable_position);
        let (requests, receiver) = mpsc::channel(config.queue_depth);
        let counters = Arc::new(group::Counters::default());
        let failed = Arc::new(error::Failure::default());
        let snapshotter = Arc::new(snapshotter::Snapshotter::new(
            dir,
            db.clone(),
            index.clone(),
            config.snapshot_after,
        ));
        let (writer, writer_state) = writer::start(
            db.clone(),
            index.clone(),
            dir,
            config.clone(),
            head,
            tree,
            receiver,
            durable.clone(),
            watch_tx,
            counters.clone(),
            failed.clone(),
            snapshotter.clone(),
        )?;
        tracing::info!(
            dir = %dir.display(),
            position = durable_position,
            read_from = from,
            "log.open"
        );
        Ok(Log {
            inner: Arc::new(Inner {
                tree: db,
                dir: dir.to_path_buf(),
                index,
                config,
                requests: Some(requests),
                writer_state,
                durable,
                durable_watch,
                counters,
                failed,
                writer: Some(writer),
                opened_from: from,
                snapshotter,
            }),
        })
    }

    /// Appends `events` to `stream` if its version matches `expected`, atomically and
    /// durably. Returns once the events are on disk (per [`Durability`]).
    ///
    /// When the log is idle and the caller runs on a multi-threaded tokio runtime,
    /// the append is made on the caller's own thread, which then waits for the sync
    /// (see [`LogStats::appends_on_caller_thread`]); otherwise it is queued for the
    /// log's writer thread, grouped with the appends that arrive meanwhile.
    pub async fn append(
        &self,
        stream: StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        metadata: AppendMetadata,
    ) -> Result<AppendOutcome, LogError> {
        writer::validate(&self.inner.config, &stream, &events, &metadata)?;
        let (reply, answer) = oneshot::channel();
        let request = writer::Request {
            stream,
            expected,
            events,
            metadata,
            reply,
        };
        let sender = self.inner.requests.as_ref().ok_or(LogError::Closed)?;
        match self.append_here(sender, request) {
            Some(request) => sender.send(request).await.map_err(|_| LogError::Closed)?,
            // The first follower this append woke (the projections, the relay) was
            // put in this worker's LIFO slot, which the runtime's other worker does
            // not steal from: let it run now, or a caller appending in a loop keeps
            // it waiting until tokio's budget makes the caller yield, every 128
            // appends (measured: 20 ms late at p50; BENCHMARKS §11).
            None => tokio::task::yield_now().await,
        }
        answer.await.map_err(|_| {
            // The writer or syncer is gone without answering: it died (sled panics on
            // some I/O failures), so no append can be acknowledged any more.
            self.inner.failed.fail(&LogError::Closed);
            LogError::Closed
        })?
    }

    /// A lone writer's append, made on the caller's thread: when nothing is queued
    /// and the log is idle ([`writer::Shared::try_alone`]), handing the append to
    /// the writer thread and its answer back costs two thread wake-ups, 7–15 % of
    /// a lone append's latency in rounds taken in turn (BENCHMARKS §11). Only on a
    /// multi-threaded runtime; with one worker, or while the disk's syncs are slow,
    /// inside [`tokio::task::block_in_place`], so the runtime's other tasks go on
    /// and a stalled disk does not hold a worker the runtime counts on. Under any
    /// other load the request is given back, to be queued for the writer thread.
    fn append_here(
        &self,
        queue: &mpsc::Sender<writer::Request>,
        request: writer::Request,
    ) -> Option<writer::Request> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Some(request);
        };
        if runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread
            || queue.capacity() < queue.max_capacity()
        {
            return Some(request);
        }
        let Some(alone) = self.inner.writer_state.try_alone() else {
            return Some(request);
        };
        if alone.quick() && runtime.metrics().num_workers() > 1 {
            alone.append(request);
        } else {
            tokio::task::block_in_place(|| alone.append(request));
        }
        None
    }

    /// Every durable event from `from_position` (1-based) on, lazily, in order.
    pub fn read_all(&self, from_position: u64) -> EventIter {
        EventIter::all(&self.inner.tree, from_position, self.durable_position())
    }

    /// The events of one stream from `from_version` (1-based) on, in order.
    pub fn read_stream(&self, stream: &StreamId, from_version: u64) -> EventIter {
        EventIter::stream(
            &self.inner.tree,
            &self.inner.index,
            stream,
            from_version,
            self.durable_position(),
        )
    }

    /// Every event the log had recorded at `recorded_at` (inclusive): the log as an
    /// auditor would have seen it at that instant.
    pub fn read_all_as_of(&self, recorded_at: Timestamp) -> Result<EventIter, LogError> {
        let last = read::last_position_recorded_by(
            &self.inner.tree,
            recorded_at,
            self.durable_position(),
        )?;
        Ok(EventIter::all(&self.inner.tree, 1, last))
    }

    /// Catches up from `from_position`, then follows new events as they become durable.
    pub fn subscribe(&self, from_position: u64) -> Subscription {
        Subscription::new(
            self.inner.tree.clone(),
            from_position,
            self.inner.durable_watch.clone(),
        )
    }

    /// The current (durable) version of a stream; 0 if it has no events.
    pub fn stream_version(&self, stream: &StreamId) -> u64 {
        self.inner
            .index
            .read()
            .durable_version(stream, self.durable_position())
    }

    /// The outcome of an earlier durable append with this command id, if any: lets a
    /// shell answer a retried command without deciding it again.
    pub fn outcome_of(&self, command_id: Uuid) -> Result<Option<AppendOutcome>, LogError> {
        let found = self.inner.index.read().command(&command_id, &|until| {
            read::events_up_to(&self.inner.tree, until)
        })?;
        let Some(record) = found else {
            return Ok(None);
        };
        if record.first_position > self.durable_position() {
            return Ok(None);
        }
        let outcome = read::outcome_of_command(&self.inner.tree, record)?;
        Ok(Some(AppendOutcome {
            duplicate: true,
            ..outcome
        }))
    }

    /// The position a named reader (e.g. the relay) saved, 0 if none. Kept in the
    /// log's own database, so it travels with the log.
    pub fn cursor(&self, name: &str) -> Result<u64, LogError> {
        let value = self.inner.tree.get(keys::cursor(name))?;
        Ok(value.as_deref().and_then(keys::u64_value).unwrap_or(0))
    }

    /// Saves a named reader's position. Not flushed at once (sled flushes every
    /// 500 ms): after a crash the reader resumes from a slightly older position, so
    /// what it does with events must tolerate seeing some twice.
    pub fn save_cursor(&self, name: &str, position: u64) -> Result<(), LogError> {
        self.inner
            .tree
            .insert(keys::cursor(name), &position.to_be_bytes()[..])?;
        Ok(())
    }

    /// The last durable event, if any.
    pub fn head(&self) -> Result<Option<LogHead>, LogError> {
        let position = self.durable_position();
        if position == 0 {
            return Ok(None);
        }
        let event = read::event_at(&self.inner.tree, position)?;
        Ok(Some(LogHead {
            position,
            hash: event.hash,
            recorded_at: event.recorded_at,
        }))
    }

    /// The root of the log's RFC 9162 Merkle tree over its first `size` events (see
    /// `proto/EVIDENCE.md`); `size` at most the durable position.
    pub fn tree_root(&self, size: u64) -> Result<[u8; 32], LogError> {
        self.needs_tree()?;
        tree::root(&self.inner.tree, size, self.durable_position())
    }

    /// The inclusion proof (RFC 9162 §2.1.3) of the event at `position` in the tree
    /// of the first `size` events: O(log n) stored hashes, from the leaf up.
    pub fn inclusion_proof(&self, position: u64, size: u64) -> Result<Vec<[u8; 32]>, LogError> {
        self.needs_tree()?;
        tree::inclusion_proof(&self.inner.tree, position, size, self.durable_position())
    }

    /// The consistency proof (RFC 9162 §2.1.4) from the tree of the first `old`
    /// events to the tree of the first `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>, LogError> {
        self.needs_tree()?;
        tree::consistency_proof(&self.inner.tree, old, new, self.durable_position())
    }

    fn needs_tree(&self) -> Result<(), LogError> {
        if self.inner.config.merkle_tree {
            return Ok(());
        }
        Err(LogError::InvalidInput(InvalidInput::OutOfTree(
            "this log was opened without its Merkle tree (merkle_tree off)".into(),
        )))
    }

    /// Walks the whole chain; see [`verify_path`] for what is checked.
    pub fn verify(&self) -> Result<VerifyReport, LogError> {
        verify::verify_live(
            &self.inner.tree,
            self.durable_position(),
            self.inner.config.merkle_tree,
        )
    }

    /// Counters of appends, events, groups and syncs since the log was opened.
    pub fn stats(&self) -> LogStats {
        let c = &self.inner.counters;
        LogStats {
            appends: c.appends.load(Ordering::Relaxed),
            events: c.events.load(Ordering::Relaxed),
            groups: c.groups.load(Ordering::Relaxed),
            syncs: c.syncs.load(Ordering::Relaxed),
            appends_on_caller_thread: c.appends_on_caller_thread.load(Ordering::Relaxed),
        }
    }

    /// False once a write or sync failed (a full disk, an I/O error): what reached
    /// the disk is then unknown, so the log answers every append with an error until
    /// it is reopened, which checks it against its high-water mark.
    pub fn accepts_appends(&self) -> bool {
        !self.inner.failed.is_failed()
    }

    /// What the log's clock reads now (the recorded-at source: the system clock, or
    /// a scenario's): the date a shell asks deadlines about.
    pub fn now(&self) -> Timestamp {
        self.inner.config.clock.now()
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// [`LogConfig::snapshot_after`] of this log: 0 when it keeps no snapshots.
    pub fn snapshot_after(&self) -> u64 {
        self.inner.config.snapshot_after
    }

    /// The position the index's latest snapshot covers (0 without one).
    pub fn index_snapshot(&self) -> u64 {
        self.inner.index.read().covered()
    }

    /// Command ids the index holds in memory: those appended since the latest
    /// snapshot (the ones before are looked up on disk).
    pub fn commands_in_memory(&self) -> usize {
        self.inner.index.read().commands_in_memory()
    }

    /// Where opening the log started reading its events: 1 when it read them all,
    /// past the log's end when snapshots covered every one.
    pub fn opened_from(&self) -> u64 {
        self.inner.opened_from
    }

    /// Position of the last durable event (0 when the log is empty).
    pub fn durable_position(&self) -> u64 {
        self.inner.durable.load(Ordering::Acquire)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer after it has answered every queued append.
        drop(self.requests.take());
        if let Some(writer) = self.writer.take() {
            if writer.join().is_err() {
                tracing::error!("log.close writer thread panicked");
            }
        }
        if let Err(error) = self.tree.flush() {
            tracing::error!(%error, "log.close flush failed");
        }
        self.snapshot_at_close();
    }
}

impl Inner {
    /// Writes the index's snapshot when the log closes, if enough events came since
    /// the last one and the log is whole (a failed log's index may hold events that
    /// never became durable).
    fn snapshot_at_close(&self) {
        self.snapshotter.finish();
        let position = self.durable.load(Ordering::Acquire);
        let beyond = position - self.index.read().covered().min(position);
        if self.config.snapshot_after == 0
            || beyond < self.config.snapshot_after
            || self.failed.is_failed()
        {
            return;
        }
        match read::event_at(&self.tree, position) {
            Ok(event) => self.snapshotter.write(position, event.hash),
            Err(error) => tracing::warn!(%error, "log.snapshot not written at close"),
        }
    }
}
