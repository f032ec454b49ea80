//! The log's in-memory indexes: each stream's event positions, and each command id's
//! events. The writer adds a group's entries as soon as it applied the group, before
//! it is durable; readers cut what they see at the durable position. They are derived data, rebuilt from the stored envelopes when the log
//! opens, so a group commit writes one sled key per event and nothing else per event:
//! sled's cost is per key inserted (its log fragment, page link and node copy), and
//! persisting indexes per event tripled it (see BENCHMARKS.md).
//!
//! Memory: about a byte per event while a stream's events are close together (a
//! varint gap each; `positions`), plus about 48 bytes per stream and per command
//! appended since the last snapshot (32 for those found while the log opened): the
//! commands a snapshot covers are looked up on disk (`stored_commands`), so memory
//! does not grow with every command ever handled.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use accord_kernel::{RecordedEvent, StreamId};
use uuid::Uuid;

use crate::error::{Corruption, CorruptionReason, LogError};
use crate::positions::Positions;
use crate::stored_commands::StoredCommands;

pub(crate) use crate::stored_commands::CommandRecord;
use crate::stored_commands::LogEvents;

#[derive(Debug, Default)]
pub(crate) struct Index {
    /// The position of each of the stream's events, by version (compact: see
    /// `positions`).
    streams: HashMap<StreamId, Positions>,
    /// Commands appended while the log runs, after the snapshot.
    commands: HashMap<Uuid, CommandRecord>,
    /// Commands found while the log opened, after the snapshot (all of them without
    /// one), sorted by id: collected in log order and sorted once, which takes less
    /// memory than a hash map and no hashing per event (BENCHMARKS §12).
    opened: Vec<(Uuid, CommandRecord)>,
    /// Commands up to the snapshot, on disk.
    stored: Option<Arc<StoredCommands>>,
    /// The position the snapshot covers (0 without one).
    covered: u64,
}

/// The index shared by the writer (which alone changes it, after each durable group)
/// and readers.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedIndex(Arc<RwLock<Index>>);

impl SharedIndex {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Index> {
        // The writer never panics while holding the lock; should it, the index is
        // still consistent up to the last completed update.
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Index {
    /// The index a snapshot holds: the streams' positions and the commands on disk,
    /// as of `covered`.
    pub(crate) fn from_snapshot(
        streams: Vec<(StreamId, Positions)>,
        stored: Option<Arc<StoredCommands>>,
        covered: u64,
    ) -> Index {
        Index {
            streams: streams.into_iter().collect(),
            commands: HashMap::new(),
            opened: Vec::new(),
            stored,
            covered,
        }
    }

    pub(crate) fn commands_in_memory(&self) -> usize {
        self.commands.len() + self.opened.len()
    }

    /// The position the index's snapshot covers (0 without one).
    pub(crate) fn covered(&self) -> u64 {
        self.covered
    }

    /// Moves on from the index's own events at `from` (its covered position + 1, or
    /// 1), in order, checking on the way that positions and stream versions have no
    /// gaps (hashes are left to `verify`), and hands each event to `replay` first. A
    /// log that fails this is not opened. Returns the number of events in the log.
    pub(crate) fn build(
        &mut self,
        from: u64,
        events: impl Iterator<Item = Result<RecordedEvent, LogError>>,
        replay: &mut dyn FnMut(&RecordedEvent),
    ) -> Result<u64, LogError> {
        let index = self;
        let mut count = from - 1;
        // The command whose events are being read: a command's events are contiguous,
        // so each command is one run, pushed when the next begins.
        let mut runs = Runs::default();
        for (expected, event) in (from..).zip(events) {
            let event = event?;
            let fail = |reason| {
                LogError::Corrupt(Corruption {
                    position: expected,
                    reason,
                })
            };
            if event.position != expected {
                return Err(fail(CorruptionReason::Misplaced {
                    claimed: event.position,
                }));
            }
            replay(&event);
            // Events the index's snapshot covers are only replayed.
            if expected <= index.covered {
                count = expected;
                continue;
            }
            let previous = index.version(&event.stream);
            if event.version != previous + 1 {
                return Err(fail(CorruptionReason::VersionJump {
                    stream: event.stream,
                    previous,
                    found: event.version,
                }));
            }
            index
                .streams
                .entry(event.stream)
                .or_default()
                .push(expected);
            runs.add(event.command_id, expected);
            count = expected;
        }
        index.opened = runs.sorted(std::mem::take(&mut index.opened));
        Ok(count)
    }

    /// Records one append: `count` events of `stream` from `first_position` on.
    pub(crate) fn add_append(
        &mut self,
        stream: StreamId,
        command_id: Uuid,
        first_position: u64,
        count: u32,
    ) {
        let positions = self.streams.entry(stream).or_default();
        for position in first_position..first_position + u64::from(count) {
            positions.push(position);
        }
        self.commands.insert(
            command_id,
            CommandRecord {
                first_position,
                count,
            },
        );
    }

    /// The stream's version: how many events it has.
    pub(crate) fn version(&self, stream: &StreamId) -> u64 {
        self.streams.get(stream).map_or(0, Positions::len)
    }

    /// The stream's version counting only events at or before `durable`.
    pub(crate) fn durable_version(&self, stream: &StreamId, durable: u64) -> u64 {
        self.streams
            .get(stream)
            .map_or(0, |p| p.count_up_to(durable))
    }

    /// Positions of the stream's events from `from_version` on, at most `limit`.
    pub(crate) fn positions(&self, stream: &StreamId, from_version: u64, limit: usize) -> Vec<u64> {
        let Some(positions) = self.streams.get(stream) else {
            return Vec::new();
        };
        positions.from(from_version.max(1) - 1, limit)
    }

    /// Where `command_id`'s events are, if it was ever appended; `events` (the
    /// log's events up to a position) are read only should the snapshot's table
    /// turn out damaged (it is then rebuilt from them).
    pub(crate) fn command(
        &self,
        command_id: &Uuid,
        events: LogEvents<'_>,
    ) -> Result<Option<CommandRecord>, LogError> {
        if let Some(record) = self.commands.get(command_id) {
            return Ok(Some(*record));
        }
        if let Ok(found) = self.opened.binary_search_by_key(command_id, |(id, _)| *id) {
            return Ok(Some(self.opened[found].1));
        }
        match &self.stored {
            Some(stored) => stored.get(command_id, events),
            None => Ok(None),
        }
    }

    /// What a snapshot covering `until` (a durable position) takes from the index:
    /// the events after it (applied, not yet durable) are left out.
    pub(crate) fn freeze(&self, until: u64) -> Frozen {
        let mut recent: Vec<_> = self
            .commands
            .iter()
            .map(|(id, record)| (*id, *record))
            .chain(self.opened.iter().copied())
            .filter(|(_, record)| record.first_position <= until)
            .collect();
        recent.sort_unstable_by_key(|(id, _)| *id);
        let mut streams = Vec::with_capacity(self.streams.len() * 64);
        let mut stream_count = 0;
        for (stream, positions) in &self.streams {
            let kept = positions.count_up_to(until);
            if kept == 0 {
                continue;
            }
            stream_count += 1;
            if kept == positions.len() {
                encode_stream(stream, positions, &mut streams);
            } else {
                let mut cut = Positions::default();
                for position in positions.from(0, kept as usize) {
                    cut.push(position);
                }
                encode_stream(stream, &cut, &mut streams);
            }
        }
        Frozen {
            stored: self.stored.clone(),
            recent,
            stream_count,
            streams,
        }
    }

    /// After a snapshot covering `covered` was written: its table holds every
    /// command up to there, so memory lets go of them.
    pub(crate) fn snapshot_written(&mut self, stored: Option<Arc<StoredCommands>>, covered: u64) {
        self.stored = stored;
        self.commands
            .retain(|_, record| record.first_position > covered);
        self.commands.shrink_to_fit();
        self.opened
            .retain(|(_, record)| record.first_position > covered);
        self.opened.shrink_to_fit();
        self.covered = covered;
    }
}

/// The commands met while the index is built, one run of contiguous events each.
#[derive(Default)]
struct Runs {
    done: Vec<(Uuid, CommandRecord)>,
    current: Option<(Uuid, CommandRecord)>,
}

impl Runs {
    fn add(&mut self, command_id: Uuid, position: u64) {
        match &mut self.current {
            Some((id, record))
                if *id == command_id
                    && record.first_position + u64::from(record.count) == position =>
            {
                record.count += 1;
            }
            _ => {
                self.done.extend(self.current.take());
                self.current = Some((
                    command_id,
                    CommandRecord {
                        first_position: position,
                        count: 1,
                    },
                ));
            }
        }
    }

    /// Every run, with those of `earlier` (sorted), sorted by command id. An id met in
    /// two runs (a log the writer did not write) keeps its first.
    fn sorted(mut self, earlier: Vec<(Uuid, CommandRecord)>) -> Vec<(Uuid, CommandRecord)> {
        self.done.extend(self.current.take());
        let mut all = earlier;
        all.append(&mut self.done);
        all.sort_unstable_by_key(|(id, record)| (*id, record.first_position));
        all.dedup_by_key(|(id, _)| *id);
        all.shrink_to_fit();
        all
    }
}

/// What a snapshot takes from the index, copied out under its lock: the commands
/// on disk so far, those since (up to the covered position, in id order) and the
/// streams' positions up to it, encoded.
#[derive(Debug)]
pub(crate) struct Frozen {
    pub(crate) stored: Option<Arc<StoredCommands>>,
    pub(crate) recent: Vec<(Uuid, CommandRecord)>,
    pub(crate) stream_count: u64,
    pub(crate) streams: Vec<u8>,
}

/// Appends one stream's entry of the index body: its category and id, then its
/// positions.
pub(crate) fn encode_stream(stream: &StreamId, positions: &Positions, out: &mut Vec<u8>) {
    for text in [stream.category(), stream.id()] {
        out.extend_from_slice(&(text.len() as u16).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    positions.encode(out);
}
