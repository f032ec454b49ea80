//! Reading the log: lazy iterators bounded by the durable position, point lookups,
//! and the head check done on open.

use accord_kernel::{RecordedEvent, StreamId, Timestamp};

use crate::canonical::compute_hash;
use crate::codec::decode_envelope;
use crate::error::{Corruption, CorruptionReason, LogError};
use crate::index::{CommandRecord, SharedIndex};
use crate::keys::{self, HeadRecord};
use crate::{AppendOutcome, LogHead};

/// A lazy, in-order iterator over stored events: constant memory whatever the log's
/// size. Stops at the durable position it was created with.
pub struct EventIter {
    source: Source,
    until: u64,
    done: bool,
}

enum Source {
    All(sled::Iter),
    Stream {
        tree: sled::Db,
        index: SharedIndex,
        stream: StreamId,
        next_version: u64,
        positions: std::vec::IntoIter<u64>,
    },
}

/// Positions fetched from the stream index at a time.
const STREAM_CHUNK: usize = 256;

impl std::fmt::Debug for EventIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventIter")
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
}

impl EventIter {
    pub(crate) fn all(tree: &sled::Db, from_position: u64, until: u64) -> EventIter {
        let from = keys::event(from_position.max(1));
        let to = keys::event(until.saturating_add(1));
        EventIter {
            source: Source::All(tree.range(from..to)),
            until,
            done: false,
        }
    }

    pub(crate) fn stream(
        tree: &sled::Db,
        index: &SharedIndex,
        stream: &StreamId,
        from_version: u64,
        until: u64,
    ) -> EventIter {
        EventIter {
            source: Source::Stream {
                tree: tree.clone(),
                index: index.clone(),
                stream: stream.clone(),
                next_version: from_version.max(1),
                positions: Vec::new().into_iter(),
            },
            until,
            done: false,
        }
    }

    fn next_event(&mut self) -> Result<Option<RecordedEvent>, LogError> {
        match &mut self.source {
            Source::All(iter) => {
                let Some(entry) = iter.next() else {
                    return Ok(None);
                };
                let (key, value) = entry?;
                let position = keys::event_position(&key)
                    .ok_or_else(|| corrupt(0, CorruptionReason::MalformedKey(key.to_vec())))?;
                decode_at(position, &value).map(Some)
            }
            Source::Stream {
                tree,
                index,
                stream,
                next_version,
                positions,
            } => {
                let position = match positions.next() {
                    Some(position) => position,
                    None => {
                        let chunk = index.read().positions(stream, *next_version, STREAM_CHUNK);
                        *positions = chunk.into_iter();
                        match positions.next() {
                            Some(position) => position,
                            None => return Ok(None),
                        }
                    }
                };
                if position > self.until {
                    return Ok(None);
                }
                *next_version += 1;
                event_at(tree, position).map(Some)
            }
        }
    }
}

impl Iterator for EventIter {
    type Item = Result<RecordedEvent, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_event().transpose();
        // Stop after an error: a reader must not skip past a damaged event unnoticed.
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

fn corrupt(position: u64, reason: CorruptionReason) -> LogError {
    LogError::Corrupt(Corruption { position, reason })
}

pub(crate) fn decode_at(position: u64, bytes: &[u8]) -> Result<RecordedEvent, LogError> {
    decode_envelope(bytes)
        .map_err(|reason| corrupt(position, CorruptionReason::Undecodable(reason)))
}

/// The stored event at `position`.
pub(crate) fn event_at(tree: &sled::Db, position: u64) -> Result<RecordedEvent, LogError> {
    match tree.get(keys::event(position))? {
        Some(bytes) => decode_at(position, &bytes),
        None => Err(corrupt(
            position,
            CorruptionReason::Gap {
                next_stored: position + 1,
            },
        )),
    }
}

/// Rebuilds the outcome of an earlier append from the command index.
pub(crate) fn outcome_of_command(
    tree: &sled::Db,
    record: CommandRecord,
) -> Result<AppendOutcome, LogError> {
    let last_position = record.first_position + u64::from(record.count) - 1;
    let mut event_ids = Vec::with_capacity(record.count as usize);
    let mut first = None;
    let mut last = None;
    for position in record.first_position..=last_position {
        let event = event_at(tree, position)?;
        event_ids.push(event.event_id);
        first.get_or_insert((event.stream.clone(), event.version));
        last = Some(event.version);
    }
    let (stream, first_version) = first.ok_or_else(|| {
        corrupt(
            record.first_position,
            CorruptionReason::Gap {
                next_stored: record.first_position,
            },
        )
    })?;
    Ok(AppendOutcome {
        stream,
        first_version,
        last_version: last.unwrap_or(first_version),
        first_position: record.first_position,
        last_position,
        event_ids,
        duplicate: false,
    })
}

/// The highest position whose recorded_at is at or before `at`, found by binary search:
/// recorded_at never decreases along positions.
pub(crate) fn last_position_recorded_by(
    tree: &sled::Db,
    at: Timestamp,
    durable: u64,
) -> Result<u64, LogError> {
    let (mut low, mut high) = (0u64, durable);
    // Invariant: events 1..=low were recorded by `at`; events after high were not.
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if event_at(tree, mid)?.recorded_at <= at {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    Ok(low)
}

/// Reads the head record and checks it against the last stored event. Returns the
/// head, or a corruption error: a log whose head disagrees is never opened.
pub(crate) fn checked_head(tree: &sled::Db) -> Result<Option<LogHead>, LogError> {
    let record = match tree.get(keys::HEAD)? {
        Some(bytes) => Some(
            HeadRecord::decode(&bytes)
                .ok_or_else(|| corrupt(0, CorruptionReason::MalformedKey(keys::HEAD.to_vec())))?,
        ),
        None => None,
    };
    let last = match tree.scan_prefix([keys::EVENT]).next_back() {
        Some(entry) => {
            let (key, value) = entry?;
            let position = keys::event_position(&key)
                .ok_or_else(|| corrupt(0, CorruptionReason::MalformedKey(key.to_vec())))?;
            Some(decode_at(position, &value)?)
        }
        None => None,
    };
    match (record, last) {
        (None, None) => Ok(None),
        (Some(record), Some(event))
            if record.position == event.position
                && record.hash == event.hash
                && compute_hash(&event) == event.hash =>
        {
            Ok(Some(LogHead {
                position: record.position,
                hash: record.hash,
                recorded_at: record.recorded_at,
            }))
        }
        (record, last) => {
            let actual = last.as_ref().map_or(0, |e| e.position);
            Err(corrupt(
                actual,
                CorruptionReason::HeadMismatch {
                    recorded: record.map_or(0, |r| r.position),
                    recorded_hash: record.map_or(accord_kernel::EventHash::GENESIS, |r| r.hash),
                    actual,
                },
            ))
        }
    }
}
