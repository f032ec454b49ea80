//! The single writer: owns the stream heads and the chain tip, and turns queued
//! appends into group commits: one atomic sled batch, one flush, one fdatasync.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use accord_kernel::{EventHash, ExpectedVersion, RecordedEvent, StreamId, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::canonical::compute_hash;
use crate::codec::encode_envelope;
use crate::config::{Durability, LogConfig};
use crate::error::{InvalidInput, LogError};
use crate::keys::{self, CommandRecord, HeadRecord};
use crate::read;
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
    db: sled::Db,
    data_file: Option<File>,
    config: LogConfig,
    /// Versions of the streams seen so far; loaded from the index on first use.
    heads: HashMap<StreamId, u64>,
    next_position: u64,
    tip: EventHash,
    last_recorded: Timestamp,
    durable: Arc<AtomicU64>,
    durable_watch: watch::Sender<u64>,
    failed: bool,
}

/// What one append in a group will answer, once the group is durable.
struct Pending {
    reply: oneshot::Sender<Result<AppendOutcome, LogError>>,
    answer: Result<AppendOutcome, LogError>,
}

impl Writer {
    pub(crate) fn start(
        db: sled::Db,
        dir: &Path,
        config: LogConfig,
        head: Option<LogHead>,
        receiver: mpsc::Receiver<Request>,
        durable: Arc<AtomicU64>,
        durable_watch: watch::Sender<u64>,
    ) -> Result<JoinHandle<()>, LogError> {
        // fdatasync acts on the file, not the descriptor: syncing our own read-only
        // descriptor of sled's data file makes sled's earlier writes to it durable.
        let data_file = match config.durability {
            Durability::Fdatasync => Some(File::open(dir.join("db"))?),
            Durability::Flush => None,
        };
        let writer = Writer {
            db,
            data_file,
            config,
            heads: HashMap::new(),
            next_position: head.map_or(1, |h| h.position + 1),
            tip: head.map_or(EventHash::GENESIS, |h| h.hash),
            last_recorded: head.map_or(Timestamp::UNIX_EPOCH, |h| h.recorded_at),
            durable,
            durable_watch,
            failed: false,
        };
        let thread = std::thread::Builder::new()
            .name("accord-log-writer".into())
            .spawn(move || writer.run(receiver))?;
        Ok(thread)
    }

    fn run(mut self, mut receiver: mpsc::Receiver<Request>) {
        let mut group = Vec::with_capacity(self.config.max_group_appends);
        while let Some(first) = receiver.blocking_recv() {
            group.push(first);
            while group.len() < self.config.max_group_appends {
                match receiver.try_recv() {
                    Ok(request) => group.push(request),
                    Err(_) => break,
                }
            }
            self.commit_group(&mut group);
        }
    }

    fn commit_group(&mut self, group: &mut Vec<Request>) {
        let _span = tracing::debug_span!("log.writer.group", appends = group.len()).entered();
        if self.failed {
            for request in group.drain(..) {
                let _ = request.reply.send(Err(LogError::Closed));
            }
            return;
        }
        let recorded_at = self.config.clock.now().max(self.last_recorded);
        let mut staged = Staged {
            batch: sled::Batch::default(),
            heads: HashMap::new(),
            commands: HashMap::new(),
            next_position: self.next_position,
            tip: self.tip,
        };
        let mut pending = Vec::with_capacity(group.len());
        for request in group.drain(..) {
            let answer = self.stage(&mut staged, &request, recorded_at);
            pending.push(Pending {
                reply: request.reply,
                answer,
            });
        }

        let appended = staged.next_position - self.next_position;
        if appended > 0 {
            let head = HeadRecord {
                position: staged.next_position - 1,
                hash: staged.tip,
                recorded_at,
            };
            if let Err(error) = self.write(staged.batch, head) {
                tracing::error!(%error, "log.writer.group write failed; refusing further appends");
                self.failed = true;
                for p in pending {
                    let _ = p.reply.send(Err(LogError::Storage(error.to_string())));
                }
                return;
            }
            self.heads.extend(staged.heads);
            self.next_position = staged.next_position;
            self.tip = staged.tip;
            self.last_recorded = recorded_at;
            let durable_position = self.next_position - 1;
            self.durable.store(durable_position, Ordering::Release);
            self.durable_watch.send_replace(durable_position);
        }
        for p in pending {
            // A caller that gave up waiting still had its events appended; that is
            // what the command id is for.
            let _ = p.reply.send(p.answer);
        }
    }

    fn write(&self, mut batch: sled::Batch, head: HeadRecord) -> Result<(), LogError> {
        batch.insert(keys::HEAD, &head.encode()[..]);
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        if let Some(file) = &self.data_file {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Adds one append to the group, or says why it cannot be.
    fn stage(
        &mut self,
        staged: &mut Staged,
        request: &Request,
        recorded_at: Timestamp,
    ) -> Result<AppendOutcome, LogError> {
        let metadata = &request.metadata;
        if let Some(outcome) = self.duplicate(staged, request)? {
            return Ok(outcome);
        }
        let actual = match staged.heads.get(&request.stream) {
            Some(version) => *version,
            None => self.stream_version(&request.stream)?,
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
        for (offset, new) in (1u64..).zip(&request.events) {
            let position = staged.next_position;
            let version = actual + offset;
            let mut event = RecordedEvent {
                event_id: Uuid::now_v7(),
                stream: request.stream.clone(),
                version,
                position,
                event_type: new.event_type.clone(),
                schema_version: new.schema_version,
                payload: new.payload.clone(),
                occurred_at: metadata.occurred_at,
                recorded_at,
                actor: metadata.actor.clone(),
                command_id: metadata.command_id,
                correlation_id: metadata.correlation_id,
                causation_id: metadata.causation_id,
                signature: metadata.signature.clone(),
                prev_hash: staged.tip,
                hash: EventHash::GENESIS,
            };
            event.hash = compute_hash(&event);
            staged.batch.insert(&keys::event(position)[..], encode_envelope(&event));
            staged.batch.insert(
                keys::stream_version(&request.stream, version),
                &position.to_be_bytes()[..],
            );
            staged.tip = event.hash;
            staged.next_position += 1;
            event_ids.push(event.event_id);
        }
        let count = request.events.len() as u32;
        let record = CommandRecord {
            first_position,
            count,
        };
        staged.batch.insert(&keys::command(metadata.command_id)[..], &record.encode()[..]);
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
        };
        staged
            .commands
            .insert(metadata.command_id, outcome.clone());
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
            None => match self.db.get(keys::command(command_id))? {
                Some(value) => read::outcome_of_command(&self.db, command_id, &value)?,
                None => return Ok(None),
            },
        };
        if earlier.stream != request.stream {
            return Err(LogError::CommandIdReused {
                command_id,
                original_stream: earlier.stream,
            });
        }
        Ok(Some(AppendOutcome {
            duplicate: true,
            ..earlier
        }))
    }

    fn stream_version(&mut self, stream: &StreamId) -> Result<u64, LogError> {
        if let Some(version) = self.heads.get(stream) {
            return Ok(*version);
        }
        let version = read::stored_stream_version(&self.db, stream)?;
        self.heads.insert(stream.clone(), version);
        Ok(version)
    }
}

/// A group being assembled: its batch and the state it will leave once written.
struct Staged {
    batch: sled::Batch,
    heads: HashMap<StreamId, u64>,
    commands: HashMap<Uuid, AppendOutcome>,
    next_position: u64,
    tip: EventHash,
}
