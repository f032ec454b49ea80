//! Group commit in three stages, each on its own thread:
//!
//! * the **writer** owns the chain tip and positions: it takes every queued append,
//!   checks versions and command ids, stamps, hashes and encodes the events, and
//!   applies the group to sled as one atomic batch (in memory, not yet durable);
//! * the **syncer** makes everything applied so far durable with one sled flush and
//!   one `fdatasync`;
//! * the **marker** writes and syncs the high-water mark past it, then publishes the
//!   new durable position and answers the appends of every group covered (see
//!   `syncer`: the mark of one batch is synced while the next batch's data is).
//!
//! While the syncer waits for the disk, the writer prepares the next group, so the
//! next flush covers every append that arrived meanwhile. A lone writer's group
//! (one append, nothing queued or in flight, and the last sync covered one) needs
//! none of that: with nothing to prepare meanwhile, each hand-off would only add a
//! thread wake-up to its latency. The writer thread then syncs, marks and answers
//! it itself; and a caller that finds the log idle before it queues takes the
//! writer's state and does all of it on its own thread ([`Shared::try_alone`]), so
//! its append wakes no other thread at all. No append is answered, not even with a
//! conflict or a duplicate, before the flush that covers what it saw.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::error::Failure;
use accord_kernel::{EventHash, ExpectedVersion, RecordedEvent, StreamId, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use accord_evidence::tiles::TileBuilder;

use crate::canonical::compute_hash;
use crate::codec::encode_envelope_owned;
use crate::config::{Durability, LogConfig};
use crate::error::{InvalidInput, LogError};
use crate::group::{Applied, Counters, Pending};
use crate::index::SharedIndex;
use crate::keys::{self, HeadRecord};
use crate::mark::{Mark, MarkFile};
use crate::read;
use crate::record::{push_entry, MAX_RECORD_BYTES};
use crate::snapshotter::Snapshotter;
use crate::syncer::{Marker, Syncer};
use crate::{AppendMetadata, AppendOutcome, LogHead, NewEvent};

/// Bytes of an envelope besides payload, event type, actor and signature: ids,
/// stream, numbers, times, hashes and protobuf framing, rounded up.
const ENVELOPE_OVERHEAD: usize = 512;

pub(crate) struct Request {
    pub(crate) stream: StreamId,
    pub(crate) expected: ExpectedVersion,
    pub(crate) events: Vec<NewEvent>,
    pub(crate) metadata: AppendMetadata,
    pub(crate) reply: oneshot::Sender<Result<AppendOutcome, LogError>>,
}

/// Checks what can be checked without the log's state, in the caller's task, so the
/// writer thread only does what must be serialised.
pub(crate) fn validate(
    config: &LogConfig,
    stream: &StreamId,
    events: &[NewEvent],
    metadata: &AppendMetadata,
) -> Result<(), InvalidInput> {
    if events.is_empty() {
        return Err(InvalidInput::NoEvents);
    }
    if events.len() > config.max_events_per_append {
        return Err(InvalidInput::TooManyEvents {
            count: events.len(),
            max: config.max_events_per_append,
        });
    }
    if metadata.actor.is_empty() || metadata.actor.len() > 256 {
        return Err(InvalidInput::Actor(metadata.actor.clone()));
    }
    let fixed = ENVELOPE_OVERHEAD
        + stream.category().len()
        + stream.id().len()
        + metadata.actor.len()
        + metadata.signature.as_ref().map_or(0, Vec::len);
    for (index, event) in events.iter().enumerate() {
        let type_ok = (1..=256).contains(&event.event_type.len())
            && !event.event_type.chars().any(char::is_control);
        if !type_ok {
            return Err(InvalidInput::EventType {
                index,
                event_type: event.event_type.clone(),
            });
        }
        let size = fixed + event.event_type.len() + event.payload.len();
        if size > config.max_event_bytes {
            return Err(InvalidInput::EventTooLarge {
                index,
                size,
                max: config.max_event_bytes,
            });
        }
    }
    Ok(())
}

pub(crate) struct Writer {
    ids: EventIds,
    /// The Merkle tree's right edge, grown with every staged event; `None` when the
    /// log keeps no tree.
    tree: Option<TileBuilder>,
    db: sled::Db,
    counters: Arc<Counters>,
    index: SharedIndex,
    config: LogConfig,
    next_position: u64,
    tip: EventHash,
    last_recorded: Timestamp,
    failed: Arc<Failure>,
}

/// Starts the writer and syncer threads; the returned handle ends when both have
/// answered every queued append after the queue closed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start(
    db: sled::Db,
    index: SharedIndex,
    dir: &Path,
    config: LogConfig,
    head: Option<LogHead>,
    tree: Option<TileBuilder>,
    receiver: mpsc::Receiver<Request>,
    durable: Arc<AtomicU64>,
    durable_watch: watch::Sender<u64>,
    counters: Arc<Counters>,
    failed: Arc<Failure>,
    snapshotter: Arc<Snapshotter>,
) -> Result<(JoinHandle<()>, Arc<Shared>), LogError> {
    // fdatasync acts on the file, not the descriptor: syncing our own read-only
    // descriptor of sled's data file makes sled's earlier writes to it durable.
    let data_file = match config.durability {
        Durability::Fdatasync => Some(File::open(dir.join("db"))?),
        Durability::Flush => None,
    };
    // Opening sled writes to its data file (recovery); made durable here, at start,
    // that costs the first append nothing (measured: 13–30 ms on a 100,000-event log,
    // paid by the first command after a restart when left to it).
    if let Some(file) = &data_file {
        file.sync_data()?;
    }
    let initial = head.map_or(Mark::EMPTY, |h| Mark {
        position: h.position,
        hash: h.hash,
    });
    let mark = MarkFile::open(dir, initial, data_file.is_some())?;
    let syncer = Syncer {
        linger: config.group_linger,
        db: db.clone(),
        counters: counters.clone(),
        data_file,
        failed: failed.clone(),
        last_sync_appends: std::sync::atomic::AtomicUsize::new(0),
        last_sync_micros: AtomicU64::new(0),
    };
    let marker = Marker {
        mark: std::sync::Mutex::new(mark),
        handed: std::sync::atomic::AtomicUsize::new(0),
        unanswered: std::sync::atomic::AtomicUsize::new(0),
        durable,
        durable_watch,
        failed: failed.clone(),
        snapshotter,
    };
    let writer = Writer {
        ids: EventIds::new(),
        tree,
        db,
        counters,
        index,
        config,
        next_position: head.map_or(1, |h| h.position + 1),
        tip: head.map_or(EventHash::GENESIS, |h| h.hash),
        last_recorded: head.map_or(Timestamp::UNIX_EPOCH, |h| h.recorded_at),
        failed,
    };
    // A few groups may wait for the syncer; beyond that the writer waits too, which
    // holds back the callers: backpressure when the disk is the bottleneck.
    let (to_syncer, from_writer) = std_mpsc::sync_channel(16);
    let shared = Arc::new(Shared {
        writer: Mutex::new(writer),
        syncer: Arc::new(syncer),
        marker: Arc::new(marker),
    });
    let syncer = {
        let (syncer, marker) = (shared.syncer.clone(), shared.marker.clone());
        std::thread::Builder::new()
            .name("accord-log-syncer".into())
            .spawn(move || syncer.run(from_writer, marker))?
    };
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("accord-log-writer".into())
            .spawn(move || {
                shared.run(receiver, &to_syncer);
                // The syncer ends once the writer's way to it is closed.
                drop(to_syncer);
                if syncer.join().is_err() {
                    tracing::error!("log.syncer panicked");
                }
            })?
    };
    Ok((thread, shared))
}

/// The writer's state and the stages after it: used by the writer thread, and by a
/// lone caller that appends on its own thread ([`Shared::try_alone`]). The lock
/// orders them; whoever holds it applies, and a lone group is synced and answered
/// before it is let go, so marks are written in order.
pub(crate) struct Shared {
    writer: Mutex<Writer>,
    syncer: Arc<Syncer>,
    marker: Arc<Marker>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

/// The writer, taken by a caller that found the log idle (see [`Shared::try_alone`]).
pub(crate) struct Alone<'a> {
    writer: MutexGuard<'a, Writer>,
    shared: &'a Shared,
}

impl Shared {
    /// The writer, if no one holds it, nothing is handed to the syncer, and the last
    /// sync covered one append: a lone writer's load. Its append then costs no
    /// thread hand-off at all ([`Alone::append`]). `None` under any other load,
    /// where the writer thread's grouping and the syncer's linger pay.
    pub(crate) fn try_alone(&self) -> Option<Alone<'_>> {
        let writer = self.writer.try_lock().ok()?;
        self.syncer.alone(&self.marker, 1).then_some(Alone {
            writer,
            shared: self,
        })
    }

    fn run(
        &self,
        mut receiver: mpsc::Receiver<Request>,
        to_syncer: &std_mpsc::SyncSender<Applied>,
    ) {
        let mut group = Vec::new();
        while let Some(first) = receiver.blocking_recv() {
            group.push(first);
            let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            while group.len() < writer.config.max_group_appends {
                match receiver.try_recv() {
                    Ok(request) => group.push(request),
                    Err(_) => break,
                }
            }
            let applied = writer.apply_group(&mut group);
            // A lone writer's append: waking the syncer thread would only add a
            // thread hand-off to its latency; nothing else waits to be applied.
            let alone =
                receiver.is_empty() && self.syncer.alone(&self.marker, applied.pending.len());
            if alone {
                self.syncer.sync_alone(&self.marker, applied);
                continue;
            }
            self.marker.unanswered.fetch_add(1, Ordering::AcqRel);
            if to_syncer.send(applied).is_err() {
                tracing::error!("log.writer syncer is gone");
                return;
            }
        }
    }
}

/// A data sync this quick (or quicker) is a working disk's: a lone caller's sync
/// may then hold its runtime thread without handing the thread's other tasks on.
const QUICK_SYNC_MICROS: u64 = 1_000;

impl Alone<'_> {
    /// Whether the last data sync was quick. A slow one (a busy or failing disk)
    /// tells the caller to let its runtime hand its other tasks to another thread
    /// while it syncs (`tokio::task::block_in_place`), which costs a thread
    /// wake-up, about 45 µs on two cores (BENCHMARKS §11).
    pub(crate) fn quick(&self) -> bool {
        self.shared.syncer.last_sync_micros.load(Ordering::Relaxed) <= QUICK_SYNC_MICROS
    }

    /// Applies, syncs, marks and answers `request` on this thread. A panic in sled
    /// (it panics on some I/O failures) fails the log, as the writer thread's death
    /// does: the caller's answer is dropped unsent, and nothing more is acknowledged.
    pub(crate) fn append(self, request: Request) {
        let Alone { mut writer, shared } = self;
        writer
            .counters
            .appends_on_caller_thread
            .fetch_add(1, Ordering::Relaxed);
        let appended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let applied = writer.apply_group(&mut vec![request]);
            shared.syncer.sync_alone(&shared.marker, applied);
        }));
        if appended.is_err() {
            tracing::error!("log.writer panicked in a caller's append; refusing further appends");
            writer.failed.fail(&LogError::Closed);
        }
    }
}

impl Writer {
    fn apply_group(&mut self, group: &mut Vec<Request>) -> Applied {
        let _span = tracing::debug_span!("log.writer.group", appends = group.len()).entered();
        if self.failed.is_failed() {
            let pending = group
                .drain(..)
                .map(|request| Pending {
                    reply: request.reply,
                    answer: Err(self.failed.refusal()),
                })
                .collect();
            return Applied {
                last: None,
                pending,
            };
        }
        let recorded_at = self.config.clock.now().max(self.last_recorded);
        let mut staged = Staged {
            batch: sled::Batch::default(),
            record: Vec::new(),
            record_first: self.next_position,
            heads: HashMap::new(),
            commands: HashMap::new(),
            added: Vec::new(),
            next_position: self.next_position,
            tip: self.tip,
        };
        let mut pending = Vec::with_capacity(group.len());
        for mut request in group.drain(..) {
            let answer = self.stage(&mut staged, &mut request, recorded_at);
            pending.push(Pending {
                reply: request.reply,
                answer,
            });
        }
        if staged.next_position == self.next_position {
            return Applied {
                last: None,
                pending,
            };
        }
        let head = HeadRecord {
            position: staged.next_position - 1,
            hash: staged.tip,
            recorded_at,
        };
        staged.close_record();
        if let Some(tree) = &mut self.tree {
            crate::tree::stage_writes(tree, &mut staged.batch);
        }
        staged.batch.insert(keys::HEAD, &head.encode()[..]);
        if let Err(error) = self.db.apply_batch(staged.batch) {
            let error = LogError::from(error);
            tracing::error!(%error, "log.writer.group apply failed; refusing further appends");
            self.failed.fail(&error);
            for p in &mut pending {
                p.answer = Err(error.for_each_caller());
            }
            return Applied {
                last: None,
                pending,
            };
        }
        // The index now includes events that are not durable yet: the writer needs
        // them to check the next group; readers bound what they see by the durable
        // position, which only the syncer advances.
        let mut index = self.index.write();
        for added in staged.added {
            index.add_append(
                added.stream,
                added.command_id,
                added.first_position,
                added.count,
            );
        }
        drop(index);
        let appends = pending
            .iter()
            .filter(|p| matches!(p.answer, Ok(ref o) if !o.duplicate));
        self.counters
            .appends
            .fetch_add(appends.count() as u64, Ordering::Relaxed);
        self.counters
            .events
            .fetch_add(staged.next_position - self.next_position, Ordering::Relaxed);
        self.counters.groups.fetch_add(1, Ordering::Relaxed);
        self.next_position = staged.next_position;
        self.tip = staged.tip;
        self.last_recorded = recorded_at;
        Applied {
            last: Some(Mark {
                position: head.position,
                hash: head.hash,
            }),
            pending,
        }
    }

    /// Adds one append to the group, or says why it cannot be.
    fn stage(
        &mut self,
        staged: &mut Staged,
        request: &mut Request,
        recorded_at: Timestamp,
    ) -> Result<AppendOutcome, LogError> {
        let metadata = request.metadata.clone();
        if let Some(outcome) = self.duplicate(staged, request)? {
            return Ok(outcome);
        }
        let actual = match staged.heads.get(&request.stream) {
            Some(version) => *version,
            None => self.index.read().version(&request.stream),
        };
        if !request.expected.admits(actual) {
            return Err(LogError::Conflict {
                stream: request.stream.clone(),
                expected: request.expected,
                actual,
            });
        }

        let first_position = staged.next_position;
        let mut event_ids = Vec::with_capacity(request.events.len());
        for (offset, new) in (1u64..).zip(&mut request.events) {
            let position = staged.next_position;
            let version = actual + offset;
            let mut event = RecordedEvent {
                event_id: self.ids.next(recorded_at),
                stream: request.stream.clone(),
                version,
                position,
                event_type: std::mem::take(&mut new.event_type),
                schema_version: new.schema_version,
                payload: std::mem::take(&mut new.payload),
                occurred_at: metadata.occurred_at,
                recorded_at,
                actor: metadata.actor.clone(),
                command_id: metadata.command_id,
                correlation_id: metadata.correlation_id,
                causation_id: metadata.causation_id,
                signature: metadata.signature.clone(),
                command_digest: metadata.command_digest,
                prev_hash: staged.tip,
                hash: EventHash::GENESIS,
            };
            event.hash = compute_hash(&event);
            if let Some(tree) = &mut self.tree {
                tree.push(crate::tree::leaf(&event.hash));
            }
            staged.tip = event.hash;
            staged.next_position += 1;
            event_ids.push(event.event_id);
            staged.add_envelope(position, &encode_envelope_owned(event));
        }
        let count = request.events.len() as u32;
        staged.added.push(Added {
            stream: request.stream.clone(),
            command_id: metadata.command_id,
            first_position,
            count,
        });
        let last_version = actual + u64::from(count);
        staged.heads.insert(request.stream.clone(), last_version);
        let outcome = AppendOutcome {
            stream: request.stream.clone(),
            first_version: actual + 1,
            last_version,
            first_position,
            last_position: staged.next_position - 1,
            event_ids,
            duplicate: false,
            command_digest: metadata.command_digest,
        };
        staged.commands.insert(metadata.command_id, outcome.clone());
        Ok(outcome)
    }

    /// The earlier outcome of this command id, from this group or from the log.
    fn duplicate(
        &self,
        staged: &Staged,
        request: &Request,
    ) -> Result<Option<AppendOutcome>, LogError> {
        let command_id = request.metadata.command_id;
        let earlier = match staged.commands.get(&command_id) {
            Some(outcome) => outcome.clone(),
            None => match self
                .index
                .read()
                .command(&command_id, &|until| read::events_up_to(&self.db, until))?
            {
                Some(record) => read::outcome_of_command(&self.db, record)?,
                None => return Ok(None),
            },
        };
        if earlier.stream != request.stream {
            return Err(LogError::CommandIdReused {
                command_id,
                original_stream: earlier.stream,
            });
        }
        if let (Some(earlier), Some(now)) =
            (earlier.command_digest, request.metadata.command_digest)
        {
            if earlier != now {
                return Err(LogError::CommandIdPayloadMismatch { command_id });
            }
        }
        Ok(Some(AppendOutcome {
            duplicate: true,
            ..earlier
        }))
    }
}

/// One append's entry in the index.
struct Added {
    stream: StreamId,
    command_id: Uuid,
    first_position: u64,
    count: u32,
}

/// Event ids: UUID v7 from the recorded-at millisecond and 74 random bits. The bits
/// come from a generator seeded once from the OS, not a syscall per event: ids must
/// be unique, not secret.
pub(crate) struct EventIds {
    state: u64,
}

impl EventIds {
    pub(crate) fn new() -> Self {
        // The low 64 bits of a v7 UUID are random (from the OS generator).
        let seed = (
            Uuid::now_v7().as_u64_pair().1,
            Uuid::now_v7().as_u64_pair().1,
        );
        EventIds {
            state: (seed.0 ^ seed.1) | 1,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn next(&mut self, at: Timestamp) -> Uuid {
        let millis = u64::try_from(at.unix_nanos() / 1_000_000).unwrap_or(0);
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        random[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }
}

/// A group being assembled: its batch and the state it will leave once written.
struct Staged {
    batch: sled::Batch,
    /// The record being filled, and the position of its first envelope.
    record: Vec<u8>,
    record_first: u64,
    heads: HashMap<StreamId, u64>,
    commands: HashMap<Uuid, AppendOutcome>,
    /// Index entries of the group's appends.
    added: Vec<Added>,
    next_position: u64,
    tip: EventHash,
}

impl Staged {
    /// Adds the envelope at `position` (the next one) to the group's current record,
    /// closing the record first if the envelope would not fit.
    fn add_envelope(&mut self, position: u64, envelope: &[u8]) {
        if !self.record.is_empty() && self.record.len() + 4 + envelope.len() > MAX_RECORD_BYTES {
            self.close_record();
        }
        if self.record.is_empty() {
            self.record_first = position;
        }
        push_entry(&mut self.record, envelope);
    }

    fn close_record(&mut self) {
        if !self.record.is_empty() {
            let record = std::mem::take(&mut self.record);
            self.batch
                .insert(&keys::event(self.record_first)[..], record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_unique_version_7_and_carry_the_recorded_millisecond() {
        let mut ids = EventIds::new();
        let at = Timestamp::new(1_732_780_800, 123_000_000).unwrap_or_default();
        let generated: std::collections::HashSet<Uuid> =
            (0..10_000).map(|_| ids.next(at)).collect();
        assert_eq!(generated.len(), 10_000);
        for id in &generated {
            assert_eq!(id.get_version_num(), 7);
            let (seconds, nanos) = id.get_timestamp().map(|t| t.to_unix()).unwrap_or_default();
            assert_eq!((seconds, nanos), (1_732_780_800, 123_000_000));
        }
    }
}
