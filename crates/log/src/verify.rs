//! Walking the hash chain: the auditor's check that nothing was altered, removed,
//! inserted or reordered.

use std::collections::HashMap;
use std::path::Path;

use accord_kernel::{EventHash, StreamId, Timestamp};

use crate::codec::decode_envelope;
use crate::config::{open_sled, DEFAULT_CACHE_BYTES};
use crate::error::corrupt;
use crate::error::{Corruption, CorruptionReason, LogError};
use crate::in_place::read_envelope;
use crate::keys::{self, HeadRecord};
use crate::read::StoredEnvelopes;
use crate::scan::REOPEN_AFTER_BYTES;
use accord_evidence::tiles::{TileBuilder, TileWrite};
use sha2::{Digest, Sha256};

/// What a successful verification walked over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub streams: u64,
    pub first_recorded_at: Option<Timestamp>,
    pub last_recorded_at: Option<Timestamp>,
    /// Hash of the last event; `GENESIS` for an empty log.
    pub head_hash: EventHash,
}

/// Verifies the log stored in `dir` without opening it for writing, so a log that
/// [`crate::Log::open`] refuses can still be examined. Checks, for every position from
/// 1: that an event is stored there (no gap), that it decodes, that it hashes to its
/// stored hash, that it claims that position, that its prev_hash is the previous
/// event's hash, that its stream version follows the stream's previous event, that
/// recorded_at does not go back, that the stream index points at it; then that the
/// head record names the last event, and that the log reaches its high-water mark
/// (see `mark`) with the hash acknowledged there.
///
/// Memory does not grow with the log: the database is reopened every
/// [`REOPEN_AFTER_BYTES`] read, as a scan does (see `scan`).
pub fn verify_path(dir: impl AsRef<Path>) -> Result<VerifyReport, LogError> {
    verify_dir(dir.as_ref(), REOPEN_AFTER_BYTES, &mut |_| {})
}

/// [`verify_path`], calling `progress` with the position reached every
/// [`PROGRESS_EVERY`] events, for long runs.
pub fn verify_path_with_progress(
    dir: impl AsRef<Path>,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, LogError> {
    verify_dir(dir.as_ref(), REOPEN_AFTER_BYTES, progress)
}

/// Walks a closed log's chain, reopening its database after `reopen_after_bytes`
/// read (dropping sled's cache, which one sequential pass never evicts from), then
/// checks the head record.
pub(crate) fn verify_dir(
    dir: &Path,
    reopen_after_bytes: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, LogError> {
    let mut walk = Walk::with_hash_thread()?;
    let mut tree = open_storage(dir)?;
    loop {
        match walk.walk(&tree, u64::MAX - 1, Some(reopen_after_bytes), progress) {
            Ok(true) => break,
            Ok(false) => {
                // The old database must be gone before sled opens the directory again.
                drop(tree);
                tree = open_storage(dir)?;
            }
            Err(error) => return Err(walk.earliest(error)),
        }
    }
    // Every event hashed before the head and the mark are looked at.
    let tiles = walk.finish_tiles()?;
    let last_position = walk.expected_position - 1;
    check_head(&tree, last_position, walk.tip)?;
    compare_tiles(&tree, tiles)?;
    let last = (last_position > 0).then_some((last_position, walk.tip));
    crate::mark::check(dir, last, |position| {
        Ok(crate::read::event_at(&tree, position)?.hash)
    })?;
    Ok(walk.report())
}

/// How many events pass between two progress calls.
pub const PROGRESS_EVERY: u64 = 100_000;

/// The event stored at `position` of a log's raw database (see [`open_storage`]),
/// decoded but not checked: for naming the event at a position verification refused.
pub fn stored_event_at(
    storage: &sled::Db,
    position: u64,
) -> Result<accord_kernel::RecordedEvent, LogError> {
    crate::read::event_at(storage, position)
}

/// The raw sled database of an existing log, without the head check or a writer:
/// for audit tools that must look at a damaged log, and for tamper tests. Key
/// layout: see the `keys` module. Anything written through it bypasses the chain.
pub fn open_storage(dir: impl AsRef<Path>) -> Result<sled::Db, LogError> {
    let dir = dir.as_ref();
    if !dir.join("db").is_file() {
        return Err(LogError::Storage(format!(
            "no log found in {}",
            dir.display()
        )));
    }
    open_sled(dir, DEFAULT_CACHE_BYTES)
}

/// Walks an open log's chain up to `until`, its durable position (the head record
/// may already name a group being written, so it is not checked).
pub(crate) fn verify_live(
    tree: &sled::Db,
    until: u64,
    with_tree: bool,
) -> Result<VerifyReport, LogError> {
    let mut walk = Walk::new();
    walk.check_tree = with_tree;
    walk.walk(tree, until, None, &mut |_| {})?;
    Ok(walk.report())
}

/// FNV-1a, for the walk's map of stream versions: its keys are the log's own
/// stream ids, hashed once per event, so a keyed hash (std's SipHash, made against
/// flooding by outside input) costs more than it protects here.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fnv;

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;

    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

#[derive(Debug)]
pub(crate) struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Debug)]
pub(crate) struct Walk {
    pub(crate) expected_position: u64,
    pub(crate) tip: EventHash,
    /// Each stream's version so far, keyed by category, NUL, id: looked up without
    /// allocating, a key made once per stream.
    stream_versions: HashMap<Box<[u8]>, u64, Fnv>,
    stream_key: Vec<u8>,
    first_recorded_at: Option<Timestamp>,
    pub(crate) last_recorded_at: Option<Timestamp>,
    /// Reused for each event's canonical bytes.
    scratch: Vec<u8>,
    /// The Merkle tree of the events walked so far, its tiles compared with the
    /// stored ones as they fill (and the partial ones at the end).
    tiles: TileBuilder,
    /// Whether the stored tiles are compared (not for a live log kept without them).
    check_tree: bool,
    /// Where the events are hashed and the tree is built when a second thread does
    /// it (see [`HashThread`]); `None`: here, in `tiles`.
    hash_thread: Option<HashThread>,
}

/// Events sent to the hash thread at a time.
const HASH_BATCH: usize = 2048;

/// Events the walk has checked, for the hash thread: their canonical bytes one
/// after the other, where each ends, and the hash stored for each.
#[derive(Debug, Default)]
struct Batch {
    first_position: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    stored: Vec<EventHash>,
}

/// What the hash thread finds.
#[derive(Debug)]
enum Found {
    /// Tiles of the tree that filled, to compare with the stored ones.
    Filled(Vec<TileWrite>),
    /// An event whose canonical bytes do not hash to its stored hash.
    Mismatch {
        position: u64,
        stored: EventHash,
        computed: EventHash,
    },
}

/// Hashes the walked events and builds their Merkle tree on a thread of its own: the
/// SHA-256 work of a walk (each event's canonical bytes, then the leaves and nodes)
/// runs on a second core while the walk reads, decodes and checks links, versions
/// and times in order. The hashes can be checked in any order; the chain cannot.
#[derive(Debug)]
struct HashThread {
    batch: Batch,
    batches: std::sync::mpsc::SyncSender<Batch>,
    found: std::sync::mpsc::Receiver<Found>,
    thread: std::thread::JoinHandle<Vec<TileWrite>>,
}

impl HashThread {
    fn start() -> Result<HashThread, LogError> {
        let (batches, incoming) = std::sync::mpsc::sync_channel::<Batch>(4);
        let (report, found) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("accord-verify-hash".into())
            .spawn(move || {
                let mut tiles = TileBuilder::new().storing_from(crate::tree::STORED_FROM_LEVEL);
                for batch in incoming {
                    let mut start = 0;
                    for (i, (&end, &stored)) in batch.ends.iter().zip(&batch.stored).enumerate() {
                        let computed = EventHash(Sha256::digest(&batch.bytes[start..end]).into());
                        start = end;
                        if computed != stored {
                            let _ = report.send(Found::Mismatch {
                                position: batch.first_position + i as u64,
                                stored,
                                computed,
                            });
                            return Vec::new();
                        }
                        tiles.push(crate::tree::leaf(&stored));
                    }
                    // The walk gone (it failed): nobody compares any more.
                    if tiles.has_filled()
                        && report.send(Found::Filled(tiles.take_filled())).is_err()
                    {
                        return Vec::new();
                    }
                }
                tiles.take_writes()
            })
            .map_err(|e| LogError::Storage(format!("cannot start the hash thread: {e}")))?;
        Ok(HashThread {
            batch: Batch::default(),
            batches,
            found,
            thread,
        })
    }

    /// Adds the event at `position`, its canonical bytes written by `write`.
    fn push(
        &mut self,
        position: u64,
        stored: EventHash,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), LogError> {
        if self.batch.stored.is_empty() {
            self.batch.first_position = position;
        }
        write(&mut self.batch.bytes);
        self.batch.ends.push(self.batch.bytes.len());
        self.batch.stored.push(stored);
        if self.batch.stored.len() >= HASH_BATCH {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), LogError> {
        let batch = std::mem::take(&mut self.batch);
        self.batches
            .send(batch)
            .map_err(|_| hash_thread_gone(&self.found))
    }

    /// What it found so far: tiles to compare, or the first mismatch as an error.
    fn found(&self) -> Result<Vec<Vec<TileWrite>>, LogError> {
        collect(self.found.try_iter())
    }

    /// Sends what is left and waits for it: the filled tiles not yet compared, then
    /// the tiles still partly filled; or the first mismatch as an error.
    fn finish(mut self) -> Result<Vec<TileWrite>, LogError> {
        if !self.batch.stored.is_empty() {
            self.send()?;
        }
        drop(self.batches);
        let rest = self
            .thread
            .join()
            .map_err(|_| hash_thread_gone(&self.found))?;
        let mut all: Vec<TileWrite> = collect(self.found.try_iter())?
            .into_iter()
            .flatten()
            .collect();
        all.extend(rest);
        Ok(all)
    }
}

/// The tiles found, or the mismatch among them as the walk reports one.
fn collect(found: impl Iterator<Item = Found>) -> Result<Vec<Vec<TileWrite>>, LogError> {
    let mut tiles = Vec::new();
    for item in found {
        match item {
            Found::Filled(filled) => tiles.push(filled),
            Found::Mismatch {
                position,
                stored,
                computed,
            } => {
                return Err(LogError::Corrupt(Corruption {
                    position,
                    reason: CorruptionReason::HashMismatch { stored, computed },
                }))
            }
        }
    }
    Ok(tiles)
}

/// The thread stopped: for a mismatch it found (then that is the error), or it died.
fn hash_thread_gone(found: &std::sync::mpsc::Receiver<Found>) -> LogError {
    match collect(found.try_iter()) {
        Err(mismatch) => mismatch,
        Ok(_) => LogError::Storage("the thread hashing the events stopped".into()),
    }
}

impl Walk {
    pub(crate) fn new() -> Walk {
        Walk {
            expected_position: 1,
            tip: EventHash::GENESIS,
            stream_versions: HashMap::default(),
            stream_key: Vec::new(),
            first_recorded_at: None,
            last_recorded_at: None,
            scratch: Vec::new(),
            tiles: TileBuilder::new().storing_from(crate::tree::STORED_FROM_LEVEL),
            check_tree: true,
            hash_thread: None,
        }
    }

    /// A walk whose events a second thread hashes (see [`HashThread`]).
    fn with_hash_thread() -> Result<Walk, LogError> {
        Ok(Walk {
            hash_thread: Some(HashThread::start()?),
            ..Walk::new()
        })
    }

    /// Every tile of the tree of the events walked, not yet compared: from the hash
    /// thread (waiting for it, and failing with a mismatch it found) or from here.
    fn finish_tiles(&mut self) -> Result<Vec<TileWrite>, LogError> {
        match self.hash_thread.take() {
            Some(thread) => thread.finish(),
            None => Ok(self.tiles.take_writes()),
        }
    }

    /// The error to report for `error`, found by the walk: the hash thread's
    /// mismatch instead when it is at an earlier event (it hashes behind the walk).
    fn earliest(&mut self, error: LogError) -> LogError {
        let Some(thread) = self.hash_thread.take() else {
            return error;
        };
        match (thread.finish(), &error) {
            (Err(LogError::Corrupt(mismatch)), LogError::Corrupt(found))
                if mismatch.position < found.position =>
            {
                LogError::Corrupt(mismatch)
            }
            (Err(LogError::Corrupt(mismatch)), _) if !matches!(error, LogError::Corrupt(_)) => {
                LogError::Corrupt(mismatch)
            }
            _ => error,
        }
    }

    /// Checks the stored envelopes from the next expected position up to `until`;
    /// with a `budget`, stops after reading that many bytes. True when it reached
    /// the end.
    fn walk(
        &mut self,
        tree: &sled::Db,
        until: u64,
        budget: Option<usize>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<bool, LogError> {
        let mut envelopes = StoredEnvelopes::new(tree, self.expected_position, until);
        // One envelope ahead, shared with its record rather than copied: the next
        // one's claimed position tells a gap from a reordering.
        let mut ahead = envelopes.next_shared();
        let mut read = 0;
        loop {
            let (position, record, range) = match ahead {
                Ok(None) => break,
                Err(error) => return Err(error),
                Ok(Some(entry)) => entry,
            };
            ahead = envelopes.next_shared();
            let bytes = &record[range];
            let next_claim = || match &ahead {
                Ok(Some((_, next, range))) => decode_envelope(&next[range.clone()])
                    .ok()
                    .map(|e| e.position),
                _ => None,
            };
            self.step(position, bytes, next_claim)?;
            if self.check_tree {
                match &self.hash_thread {
                    Some(thread) => {
                        for filled in thread.found()? {
                            compare_tiles(tree, filled)?;
                        }
                    }
                    None if self.tiles.has_filled() => {
                        compare_tiles(tree, self.tiles.take_filled())?;
                    }
                    None => {}
                }
            }
            if position.is_multiple_of(PROGRESS_EVERY) {
                progress(position);
            }
            read += bytes.len();
            if budget.is_some_and(|budget| read >= budget) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every tile of the tree of the events stepped over, not yet taken.
    pub(crate) fn take_tiles(&mut self) -> Vec<TileWrite> {
        self.tiles.take_writes()
    }

    pub(crate) fn report(&self) -> VerifyReport {
        VerifyReport {
            events: self.expected_position - 1,
            streams: self.stream_versions.len() as u64,
            first_recorded_at: self.first_recorded_at,
            last_recorded_at: self.last_recorded_at,
            head_hash: self.tip,
        }
    }

    /// Checks the envelope stored at `position`. `next_claim` tells the position the
    /// following stored event claims, to tell missing events from reordered ones.
    pub(crate) fn step(
        &mut self,
        position: u64,
        bytes: &[u8],
        next_claim: impl FnOnce() -> Option<u64>,
    ) -> Result<(), LogError> {
        let at = self.expected_position;
        let fail = |reason| corrupt(at, reason);
        if position != at {
            return Err(fail(CorruptionReason::Gap {
                next_stored: position,
            }));
        }
        let undecodable = |reason| corrupt(position, CorruptionReason::Undecodable(reason));
        let read = read_envelope(bytes).map_err(undecodable)?;
        let event = read.fields;
        self.stream_key.clear();
        self.stream_key.extend_from_slice(event.category.as_bytes());
        self.stream_key.push(0);
        self.stream_key.extend_from_slice(event.id.as_bytes());
        let previous = match self.stream_versions.get(self.stream_key.as_slice()) {
            Some(&version) => version,
            None => {
                // A stream seen for the first time must be a valid stream id.
                StreamId::new(event.category, event.id).map_err(|e| undecodable(e.to_string()))?;
                0
            }
        };
        // Bytes that decode to the same values but are not what the log wrote
        // (e.g. a UUID's hex digits changed to upper case) are tampering too.
        if !read.canonical {
            return Err(fail(CorruptionReason::NotCanonical));
        }
        let stored = EventHash(*read.hash);
        let in_order = self.check_in_order(position, &event, previous, next_claim);
        // Hashed here when no thread does it, and whenever the event fails a check
        // in order: a changed event is reported as changed, whatever else it breaks.
        if self.hash_thread.is_none() || in_order.is_err() {
            let computed = event.hash_with(&mut self.scratch);
            if computed != stored {
                return Err(fail(CorruptionReason::HashMismatch { stored, computed }));
            }
        }
        in_order?;
        match &mut self.hash_thread {
            Some(thread) => thread.push(position, stored, |out| event.write(out))?,
            None => self.tiles.push(crate::tree::leaf(&stored)),
        }
        self.first_recorded_at.get_or_insert(event.recorded_at);
        self.last_recorded_at = Some(event.recorded_at);
        self.tip = stored;
        match self.stream_versions.get_mut(self.stream_key.as_slice()) {
            Some(version) => *version = event.version,
            None => {
                let key = self.stream_key.as_slice().into();
                self.stream_versions.insert(key, event.version);
            }
        }
        self.expected_position += 1;
        Ok(())
    }

    /// The checks that need the events in order: the position claimed, the link to
    /// the previous event, the stream's version after `previous`, recorded-at not
    /// going back.
    fn check_in_order(
        &self,
        position: u64,
        event: &crate::canonical::Hashed<'_>,
        previous: u64,
        next_claim: impl FnOnce() -> Option<u64>,
    ) -> Result<(), LogError> {
        let at = self.expected_position;
        let fail = |reason| corrupt(at, reason);
        if event.position != position {
            // An intact event that belongs later, followed by events that carry on
            // after it: the ones in between are missing. Followed by anything else:
            // events were reordered.
            let carries_on =
                event.position > position && next_claim().is_none_or(|next| next > event.position);
            return Err(fail(if carries_on {
                CorruptionReason::Gap {
                    next_stored: event.position,
                }
            } else {
                CorruptionReason::Misplaced {
                    claimed: event.position,
                }
            }));
        }
        if *event.prev_hash != self.tip.0 {
            return Err(fail(CorruptionReason::BrokenLink {
                expected: self.tip,
                found: EventHash(*event.prev_hash),
            }));
        }
        if event.version != previous + 1 {
            let stream = StreamId::new(event.category, event.id)
                .map_err(|e| corrupt(position, CorruptionReason::Undecodable(e.to_string())))?;
            return Err(fail(CorruptionReason::VersionJump {
                stream,
                previous,
                found: event.version,
            }));
        }
        if self
            .last_recorded_at
            .is_some_and(|last| event.recorded_at < last)
        {
            return Err(fail(CorruptionReason::RecordedAtWentBack));
        }
        Ok(())
    }
}

/// Checks that the log stores exactly these tiles, as its events give them.
fn compare_tiles(tree: &sled::Db, expected: Vec<TileWrite>) -> Result<(), LogError> {
    for tile in expected {
        let stored = tree.get(keys::tile(tile.level, tile.index))?;
        let problem = match stored {
            None => "is missing".to_string(),
            Some(bytes) if bytes.len() != tile.bytes.len() => format!(
                "holds {} hashes where the events give {}",
                bytes.len() / 32,
                tile.bytes.len() / 32
            ),
            Some(bytes) if bytes != tile.bytes[..] => {
                "holds other hashes than the events give".to_string()
            }
            Some(_) => continue,
        };
        return Err(crate::tree::tile_corruption(
            tile.level, tile.index, problem,
        ));
    }
    Ok(())
}

fn check_head(tree: &sled::Db, last: u64, tip: EventHash) -> Result<(), LogError> {
    let record = match tree.get(keys::HEAD)? {
        Some(bytes) => Some(HeadRecord::decode(&bytes).ok_or_else(|| {
            LogError::Corrupt(Corruption {
                position: last,
                reason: CorruptionReason::MalformedKey(keys::HEAD.to_vec()),
            })
        })?),
        None => None,
    };
    let consistent = match record {
        None => last == 0,
        Some(record) => record.position == last && record.hash == tip,
    };
    if consistent {
        return Ok(());
    }
    Err(LogError::Corrupt(Corruption {
        // A truncated tail is found where the head says the log should continue.
        position: record.map_or(last, |r| r.position.max(last)),
        reason: CorruptionReason::HeadMismatch {
            recorded: record.map_or(0, |r| r.position),
            recorded_hash: record.map_or(EventHash::GENESIS, |r| r.hash),
            actual: last,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppendMetadata, Log, NewEvent};
    use accord_kernel::ExpectedVersion;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopening_every_few_events_walks_the_same_chain_as_one_pass() {
        // Given a closed log of 120 events over 3 streams
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path()).unwrap();
        for i in 0..40u8 {
            let stream = StreamId::new("commitment", format!("c{}", i % 3)).unwrap();
            let events = (0..3)
                .map(|_| NewEvent {
                    event_type: "accord.v1.Noted".into(),
                    schema_version: 1,
                    payload: vec![i; 40],
                })
                .collect();
            let id = uuid::Uuid::now_v7();
            let metadata = AppendMetadata {
                actor: "ua-mod".into(),
                command_id: id,
                correlation_id: id,
                causation_id: None,
                occurred_at: Timestamp::UNIX_EPOCH,
                signature: None,
                command_digest: None,
            };
            log.append(stream, ExpectedVersion::Any, events, metadata)
                .await
                .unwrap();
        }
        let live = log.verify().unwrap();
        drop(log);
        // When it is verified reopening the database after every ~2 envelopes
        let reopening = verify_dir(dir.path(), 500, &mut |_| {}).unwrap();
        // Then the report is the one pass's
        assert_eq!(reopening, verify_path(dir.path()).unwrap());
        assert_eq!(reopening, live);
        assert_eq!((reopening.events, reopening.streams), (120, 3));
    }
}
