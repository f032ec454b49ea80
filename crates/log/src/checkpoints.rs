//! The signed checkpoints a service issued over its log's Merkle tree, each with the
//! witnesses' cosignatures collected so far: one sled key per checkpoint, `c` and
//! the tree size (u64 BE), holding the whole signed note (C2SP `tlog-checkpoint`
//! text, the log's signature line, then one `cosignature/v1` line per witness).
//!
//! They travel with the data directory, so an auditor holding a copy finds them
//! there (`accord audit verify`, `accord audit prove`). The log only keeps the bytes:
//! it neither signs nor checks them (the runtime signs, the audit tools check); it
//! refuses a size beyond its durable events, which no honest checkpoint names.

use std::fs::File;
use std::path::Path;

use crate::error::{InvalidInput, LogError};
use crate::keys;
use crate::{Durability, Log};

/// Every checkpoint kept in `db`, smallest size first: (size, signed note bytes).
pub fn stored_checkpoints(
    db: &sled::Db,
) -> impl DoubleEndedIterator<Item = Result<(u64, Vec<u8>), LogError>> + '_ {
    db.scan_prefix([keys::CHECKPOINT]).map(|entry| {
        let (key, value) = entry?;
        let size = keys::checkpoint_size(&key).ok_or_else(|| {
            LogError::Storage(format!("malformed checkpoint key {:?}", key.as_ref()))
        })?;
        Ok((size, value.to_vec()))
    })
}

/// The root of the stored Merkle tree of a closed log's first `size` events (`db`
/// from [`crate::open_storage`]), in O(log n) tile reads: what the audit tools check
/// kept checkpoints against once [`crate::verify_path`] has found every stored tile
/// equal to the tree rebuilt from the events. Refused past the log's head.
pub fn stored_tree_root(db: &sled::Db, size: u64) -> Result<[u8; 32], LogError> {
    let head = crate::read::checked_head(db)?.map_or(0, |h| h.position);
    crate::tree::root(db, size, head)
}

/// Makes what was inserted into `db` durable as the log's appends are: sled's flush,
/// then (with [`Durability::Fdatasync`]) an fdatasync of its data file.
fn sync(db: &sled::Db, dir: &Path, durability: Durability) -> Result<(), LogError> {
    db.flush()?;
    if durability == Durability::Fdatasync {
        File::open(dir.join("db"))
            .and_then(|file| file.sync_data())
            .map_err(|e| LogError::Storage(format!("fdatasync of a checkpoint: {e}")))?;
    }
    Ok(())
}

impl Log {
    /// Keeps the signed checkpoint of the tree of the first `size` events, replacing
    /// one kept before at that size (the same checkpoint with more cosignatures);
    /// returns once it is durable. Refused past the durable position.
    pub fn keep_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), LogError> {
        let durable = self.durable_position();
        if size > durable {
            return Err(LogError::InvalidInput(InvalidInput::OutOfTree(format!(
                "a checkpoint of size {size} names events past the durable position {durable}"
            ))));
        }
        self.inner.tree.insert(keys::checkpoint(size), note)?;
        sync(
            &self.inner.tree,
            &self.inner.dir,
            self.inner.config.durability,
        )
    }

    /// Every kept checkpoint, smallest size first: (size, signed note bytes).
    pub fn checkpoints(
        &self,
    ) -> impl DoubleEndedIterator<Item = Result<(u64, Vec<u8>), LogError>> + '_ {
        stored_checkpoints(&self.inner.tree)
    }

    /// The kept checkpoint of the largest size, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, LogError> {
        self.checkpoints().next_back().transpose()
    }
}
