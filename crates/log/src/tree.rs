//! The log's RFC 9162 Merkle tree: one leaf per event, in log order, whose input is
//! the event's 32-byte hash (so leaf = SHA-256(0x00 || event hash); defined for
//! clients in `proto/EVIDENCE.md`). Stored as C2SP tlog-tiles tiles
//! ([`accord_evidence::tiles`]) under the `t` keys, written in the same sled batch as
//! the events they cover, so the tree is durable exactly when its events are.
//!
//! Level 0 (the leaf hashes) is not stored: it is made from the events, which hold
//! each hash. On open the right edge is read back (one tile per level) and checked
//! against the tiles below it, down to the events; a log written before it had a
//! tree (or with
//! [`crate::LogConfig::merkle_tree`] off) gets its tree built from its events in the
//! open pass. Every stored tile is checked against the events by `verify`.

use accord_evidence::merkle::{self, leaf_hash, Hash, ProofError, SubtreeHashes};
use std::cell::RefCell;

use accord_evidence::tiles::{
    tile_root, TileBuilder, TileError, TileStore, TileWrite, Tiles, TILE_HEIGHT, TILE_WIDTH,
};
use accord_kernel::EventHash;

use crate::error::{corrupt, CorruptionReason, InvalidInput, LogError};
use crate::in_place::read_envelope;
use crate::keys;
use crate::read::StoredEnvelopes;
use crate::LogHead;

/// Tiles written to sled in one batch when a tree is rebuilt.
const REBUILD_BATCH_TILES: usize = 1024;

/// Tile levels the log stores: level 0 (the leaf hashes) is derived from the events,
/// which hold each hash already; storing it too would rewrite a growing tile of up to
/// 8 KiB with every group (measured: 0.90x the append rate with one writer).
pub(crate) const STORED_FROM_LEVEL: u32 = 1;

/// A log's tiles as of a tree `size`: levels 1 and up read from sled, level 0 made
/// from the events' hashes (the last one asked is kept, as a proof asks for several
/// subtrees of the same 256 events).
pub(crate) struct SledTiles<'a> {
    db: &'a sled::Db,
    size: u64,
    leaves: RefCell<Option<(u64, Vec<u8>)>>,
}

impl<'a> SledTiles<'a> {
    pub(crate) fn new(db: &'a sled::Db, size: u64) -> SledTiles<'a> {
        SledTiles {
            db,
            size,
            leaves: RefCell::new(None),
        }
    }

    /// The leaf hashes of events `index·256 + 1 ..= min((index + 1)·256, size)`.
    fn leaf_tile(&self, index: u64) -> Result<Option<Vec<u8>>, LogError> {
        if let Some((cached, bytes)) = &*self.leaves.borrow() {
            if *cached == index {
                return Ok(Some(bytes.clone()));
            }
        }
        let first = index.saturating_mul(TILE_WIDTH).saturating_add(1);
        let last = first.saturating_add(TILE_WIDTH - 1).min(self.size);
        if first > last {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(((last - first + 1) * 32) as usize);
        for entry in StoredEnvelopes::new(self.db, first, last) {
            let (position, envelope) = entry?;
            let read = read_envelope(&envelope)
                .map_err(|why| corrupt(position, CorruptionReason::Undecodable(why)))?;
            bytes.extend_from_slice(&leaf(&EventHash(*read.hash)));
        }
        *self.leaves.borrow_mut() = Some((index, bytes.clone()));
        Ok(Some(bytes))
    }
}

impl TileStore for SledTiles<'_> {
    type Error = LogError;
    type Bytes = Vec<u8>;

    fn tile(&self, level: u32, index: u64) -> Result<Option<Vec<u8>>, LogError> {
        if level < STORED_FROM_LEVEL {
            return self.leaf_tile(index);
        }
        Ok(self.db.get(keys::tile(level, index))?.map(|v| v.to_vec()))
    }
}

/// The tree's leaf hash for an event.
pub(crate) fn leaf(hash: &EventHash) -> Hash {
    leaf_hash(&hash.0)
}

/// The position of the first event a tile covers.
fn first_position(level: u32, index: u64) -> u64 {
    let shift = TILE_HEIGHT * (level + 1);
    index
        .checked_shl(shift)
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// A tile that does not match the events, reported at the first event it covers.
pub(crate) fn tile_corruption(level: u32, index: u64, problem: String) -> LogError {
    corrupt(
        first_position(level, index),
        CorruptionReason::TreeMismatch {
            level,
            index,
            problem,
        },
    )
}

/// A tile problem as the log reports it: a store failure, or a corruption at the
/// first event the tile covers.
pub(crate) fn tile_error(error: TileError<LogError>) -> LogError {
    match error {
        TileError::Store(error) => error,
        TileError::Short {
            level,
            index,
            held,
            needed,
        } => corrupt(
            first_position(level, index),
            CorruptionReason::TreeMismatch {
                level,
                index,
                problem: format!("holds {held} hashes where the log needs {needed}"),
            },
        ),
        TileError::Malformed {
            level,
            index,
            bytes,
        } => corrupt(
            first_position(level, index),
            CorruptionReason::TreeMismatch {
                level,
                index,
                problem: format!("is {bytes} bytes, not a run of 32-byte hashes"),
            },
        ),
    }
}

/// What the store holds of a log's tree.
pub(crate) enum Stored {
    /// The tree of the log's events, ready to grow.
    Tree(TileBuilder),
    /// No tree at all: it must be built from the events.
    Absent,
}

/// Reads back the right edge of the tree of a log whose head is `head` (one tile per
/// level) and checks it against the events: the last hash of each level's edge tile
/// must be the root of the full tile below it, down to the events' own hashes.
pub(crate) fn resume(db: &sled::Db, head: Option<LogHead>) -> Result<Stored, LogError> {
    let size = head.map_or(0, |h| h.position);
    // Below a full tile of events nothing of the tree is stored: all of it is made
    // from the events.
    if size >= TILE_WIDTH && db.scan_prefix([keys::TILE]).next().is_none() {
        return Ok(Stored::Absent);
    }
    let store = SledTiles::new(db, size);
    let builder = TileBuilder::resume(&store, size)
        .map_err(tile_error)?
        .storing_from(STORED_FROM_LEVEL);
    let mut level = 1;
    while let Some(count) = size.checked_shr(TILE_HEIGHT * level).filter(|c| *c > 0) {
        let last = count - 1;
        let stored = Tiles(&store)
            .perfect(TILE_HEIGHT * level, last)
            .map_err(tile_error)?;
        let below = tile_root(&store, level - 1, last).map_err(tile_error)?;
        if stored != below {
            return Err(tile_corruption(
                level,
                last / TILE_WIDTH,
                "ends with a hash that is not the root of the tiles below it".into(),
            ));
        }
        level += 1;
    }
    Ok(Stored::Tree(builder))
}

/// Writes tiles to sled, a batch at a time (for a rebuilt tree).
pub(crate) fn write_all(db: &sled::Db, writes: Vec<TileWrite>) -> Result<(), LogError> {
    for chunk in writes.chunks(REBUILD_BATCH_TILES) {
        let mut batch = sled::Batch::default();
        for write in chunk {
            batch.insert(&keys::tile(write.level, write.index)[..], &write.bytes[..]);
        }
        db.apply_batch(batch)?;
    }
    db.flush()?;
    Ok(())
}

/// Removes every tile: a log running without its tree must not keep a stale one,
/// which would be short of the log when the tree is next kept.
pub(crate) fn remove_all(db: &sled::Db) -> Result<(), LogError> {
    let mut batch = sled::Batch::default();
    for entry in db.scan_prefix([keys::TILE]) {
        let (key, _) = entry?;
        batch.remove(key);
    }
    db.apply_batch(batch)?;
    Ok(())
}

/// Adds a builder's pending tile writes to a group's batch.
pub(crate) fn stage_writes(builder: &mut TileBuilder, batch: &mut sled::Batch) {
    for write in builder.take_writes() {
        batch.insert(&keys::tile(write.level, write.index)[..], write.bytes);
    }
}

fn proof_error(error: ProofError<TileError<LogError>>) -> LogError {
    match error {
        ProofError::OutOfRange(why) => LogError::InvalidInput(InvalidInput::OutOfTree(why)),
        ProofError::Store(error) => tile_error(error),
    }
}

/// Refuses a size beyond what the log holds durably.
fn within(size: u64, durable: u64) -> Result<(), LogError> {
    if size > durable {
        return Err(LogError::InvalidInput(InvalidInput::OutOfTree(format!(
            "the log holds {durable} events, not {size}"
        ))));
    }
    Ok(())
}

/// The root of the tree of the first `size` events.
pub(crate) fn root(db: &sled::Db, size: u64, durable: u64) -> Result<Hash, LogError> {
    within(size, durable)?;
    merkle::root(&Tiles(SledTiles::new(db, size)), size).map_err(tile_error)
}

/// The inclusion proof of the event at `position` in the tree of `size` events.
pub(crate) fn inclusion_proof(
    db: &sled::Db,
    position: u64,
    size: u64,
    durable: u64,
) -> Result<Vec<Hash>, LogError> {
    within(size, durable)?;
    if position == 0 {
        return Err(LogError::InvalidInput(InvalidInput::OutOfTree(
            "positions start at 1".into(),
        )));
    }
    merkle::inclusion_proof(&Tiles(SledTiles::new(db, size)), position - 1, size)
        .map_err(proof_error)
}

/// The consistency proof from the tree of `old` events to the tree of `new` events.
pub(crate) fn consistency_proof(
    db: &sled::Db,
    old: u64,
    new: u64,
    durable: u64,
) -> Result<Vec<Hash>, LogError> {
    within(new, durable)?;
    merkle::consistency_proof(&Tiles(SledTiles::new(db, new)), old, new).map_err(proof_error)
}
