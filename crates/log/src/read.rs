//! Reading the log: lazy iterators bounded by the durable position, point lookups,
//! and the head check done on open.

use accord_kernel::{RecordedEvent, StreamId, Timestamp};

use crate::canonical::compute_hash;
use crate::codec::decode_envelope;
use crate::error::{corrupt, CorruptionReason, LogError};
use crate::index::{CommandRecord, SharedIndex};
use crate::keys::{self, HeadRecord};
use crate::record;
use crate::{AppendOutcome, LogHead};

/// The stored envelopes from a position on, in position order, each with the position
/// its record places it at. Checks that records follow each other without a gap and
/// that their framing is intact; constant memory.
pub(crate) struct StoredEnvelopes {
    records: sled::Iter,
    current: Option<sled::IVec>,
    offset: usize,
    /// The position of the next envelope: in the current record, or expected next.
    position: u64,
    from: u64,
    until: u64,
    started: bool,
    done: bool,
}

impl StoredEnvelopes {
    pub(crate) fn new(tree: &sled::Db, from: u64, until: u64) -> StoredEnvelopes {
        let from = from.max(1);
        // Start at the record that holds `from`, which may begin before it.
        let start = match tree.range(keys::event(0)..=keys::event(from)).next_back() {
            Some(Ok((key, _))) => keys::event_position(&key).unwrap_or(from),
            _ => from,
        };
        StoredEnvelopes {
            records: tree.range(keys::event(start)..keys::event(until.saturating_add(1))),
            current: None,
            offset: 0,
            position: start,
            from,
            until,
            started: false,
            done: false,
        }
    }

    fn step(&mut self) -> Result<Option<(u64, Vec<u8>)>, LogError> {
        Ok(self
            .next_shared()?
            .map(|(position, record, range)| (position, record[range].to_vec())))
    }

    /// The next envelope without copying it: the record that holds it (shared, not
    /// copied) and where in the record it lies.
    pub(crate) fn next_shared(
        &mut self,
    ) -> Result<Option<(u64, sled::IVec, std::ops::Range<usize>)>, LogError> {
        loop {
            if let Some(record) = &self.current {
                match record::next_entry(record, self.offset) {
                    Some(Ok((envelope, next))) => {
                        let position = self.position;
                        self.position += 1;
                        self.offset = next;
                        if position > self.until {
                            return Ok(None);
                        }
                        if position >= self.from {
                            let range = next - envelope.len()..next;
                            return Ok(Some((position, record.clone(), range)));
                        }
                        continue;
                    }
                    Some(Err(at)) => {
                        return Err(corrupt(
                            self.position,
                            CorruptionReason::Undecodable(format!(
                                "record framing broken at byte {at}"
                            )),
                        ));
                    }
                    None => self.current = None,
                }
            }
            let Some(entry) = self.records.next() else {
                return Ok(None);
            };
            let (key, value) = entry?;
            let first = keys::event_position(&key).ok_or_else(|| {
                corrupt(self.position, CorruptionReason::MalformedKey(key.to_vec()))
            })?;
            if self.started && first != self.position {
                return Err(corrupt(
                    self.position,
                    CorruptionReason::Gap { next_stored: first },
                ));
            }
            self.started = true;
            self.position = first;
            self.offset = 0;
            self.current = Some(value);
        }
    }
}

impl Iterator for StoredEnvelopes {
    type Item = Result<(u64, Vec<u8>), LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = (!self.done).then(|| self.step().transpose()).flatten();
        stop_after_error(&mut self.done, item)
    }
}

/// A lazy, in-order iterator over stored events: constant memory whatever the log's
/// size. Stops at the durable position it was created with.
pub struct EventIter {
    source: Source,
    until: u64,
    done: bool,
}

enum Source {
    All(Box<StoredEnvelopes>),
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
        EventIter {
            source: Source::All(Box::new(StoredEnvelopes::new(tree, from_position, until))),
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
            Source::All(envelopes) => match envelopes.next().transpose()? {
                Some((position, bytes)) => decode_at(position, &bytes).map(Some),
                None => Ok(None),
            },
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
        let item = (!self.done)
            .then(|| self.next_event().transpose())
            .flatten();
        stop_after_error(&mut self.done, item)
    }
}

/// Ends an iteration for good at its end or its first error: a reader must not skip
/// past a damaged event unnoticed.
pub(crate) fn stop_after_error<T>(
    done: &mut bool,
    item: Option<Result<T, LogError>>,
) -> Option<Result<T, LogError>> {
    if !matches!(item, Some(Ok(_))) {
        *done = true;
    }
    item
}

pub(crate) fn decode_at(position: u64, bytes: &[u8]) -> Result<RecordedEvent, LogError> {
    decode_envelope(bytes)
        .map_err(|reason| corrupt(position, CorruptionReason::Undecodable(reason)))
}

/// The stored event at `position`: found in the record that holds it.
pub(crate) fn event_at(tree: &sled::Db, position: u64) -> Result<RecordedEvent, LogError> {
    let gap = || {
        corrupt(
            position,
            CorruptionReason::Gap {
                next_stored: position + 1,
            },
        )
    };
    let (key, record) = tree
        .range(keys::event(0)..=keys::event(position))
        .next_back()
        .ok_or_else(gap)??;
    let first = keys::event_position(&key)
        .ok_or_else(|| corrupt(position, CorruptionReason::MalformedKey(key.to_vec())))?;
    let index = usize::try_from(position - first).map_err(|_| gap())?;
    let entry = record::record_entries(&record).nth(index);
    match entry {
        Some(Ok(envelope)) => decode_at(position, envelope),
        Some(Err(at)) => Err(corrupt(
            position,
            CorruptionReason::Undecodable(format!("record framing broken at byte {at}")),
        )),
        None => Err(gap()),
    }
}

/// The log's events from the first up to `until`, boxed as a damaged command table
/// is rebuilt from them (`stored_commands`).
pub(crate) fn events_up_to(
    tree: &sled::Db,
    until: u64,
) -> Box<dyn Iterator<Item = Result<RecordedEvent, LogError>> + '_> {
    Box::new(EventIter::all(tree, 1, until))
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
    let mut command_digest = None;
    for position in record.first_position..=last_position {
        let event = event_at(tree, position)?;
        event_ids.push(event.event_id);
        command_digest = event.command_digest;
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
        command_digest,
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
            let first = keys::event_position(&key)
                .ok_or_else(|| corrupt(0, CorruptionReason::MalformedKey(key.to_vec())))?;
            let count = record::record_entries(&value).count() as u64;
            Some(event_at(tree, first + count.max(1) - 1)?)
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
