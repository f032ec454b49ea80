//! Index snapshots while the log runs: once `snapshot_after` events became durable
//! beyond the last snapshot, the syncer starts a thread that writes a new one, so
//! the commands held in memory stay bounded by that many, however long the log runs
//! without a restart. The thread copies what it needs out of the index under a
//! short read lock (`Index::freeze`), writes the files without any lock, and lets
//! the index drop the commands the new table holds (`Index::snapshot_written`).
//! Opening and closing the log write theirs through the same steps.
//!
//! Writing one costs time in proportion to the command table (it is merged into a
//! new one), so while the log runs a new snapshot also waits until
//! [`QUIET_FACTOR`] times as long as the last one took has passed since it ended:
//! snapshots then keep at most a twentieth of a core and of the disk's time,
//! whatever the table's size, and memory holds the commands of at most that while
//! commands arrive faster than `snapshot_after` per that interval.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use accord_kernel::EventHash;

use crate::index::{Index, SharedIndex};
use crate::sealed::Covers;
use crate::snapshot;

/// Starts and finishes the index snapshots of one open log.
#[derive(Debug)]
pub(crate) struct Snapshotter {
    dir: PathBuf,
    db: sled::Db,
    index: SharedIndex,
    every: u64,
    /// The snapshot being written, if any: one at a time.
    running: Mutex<Option<JoinHandle<()>>>,
    /// When the last snapshot ended and how long it took.
    last: Mutex<Option<(Instant, Duration)>>,
}

/// A snapshot while the log runs waits this many times as long as the last took
/// (the projector's snapshots keep to the same share).
pub const QUIET_FACTOR: u32 = 20;

impl Snapshotter {
    pub(crate) fn new(dir: &Path, db: sled::Db, index: SharedIndex, every: u64) -> Snapshotter {
        Snapshotter {
            dir: dir.to_owned(),
            db,
            index,
            every,
            running: Mutex::new(None),
            last: Mutex::new(None),
        }
    }

    /// Called by the syncer once the log is durable up to `position` (whose event
    /// has `hash`): starts a snapshot if enough events came since the last one and
    /// none is being written.
    pub(crate) fn after_sync(self: &Arc<Self>, position: u64, hash: EventHash) {
        if self.every == 0 || position - self.index.read().covered().min(position) < self.every {
            return;
        }
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.as_ref().is_some_and(|thread| !thread.is_finished()) {
            return;
        }
        let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|(ended, took)| ended.elapsed() < took * QUIET_FACTOR) {
            return;
        }
        let this = Arc::clone(self);
        let started = std::thread::Builder::new()
            .name("accord-log-snapshot".into())
            .spawn(move || this.write(position, hash));
        match started {
            Ok(thread) => *running = Some(thread),
            Err(error) => tracing::warn!(%error, "log.snapshot thread not started"),
        }
    }

    /// Writes a snapshot covering `position` now, on this thread.
    pub(crate) fn write(&self, position: u64, hash: EventHash) {
        let started = Instant::now();
        let frozen = self.index.read().freeze(position);
        if let Some(stored) = write_frozen(&self.dir, &self.db, frozen, position, hash) {
            self.index.write().snapshot_written(stored, position);
        }
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), started.elapsed()));
    }

    /// Waits for the snapshot being written, if any: the log closes after it.
    pub(crate) fn finish(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = running {
            if thread.join().is_err() {
                tracing::error!("log.snapshot thread panicked");
            }
        }
    }
}

/// Writes a snapshot of `index` covering `position` at open, before the index is
/// shared.
pub(crate) fn write_at_open(
    dir: &Path,
    db: &sled::Db,
    index: &mut Index,
    position: u64,
    hash: EventHash,
) {
    let frozen = index.freeze(position);
    if let Some(stored) = write_frozen(dir, db, frozen, position, hash) {
        index.snapshot_written(stored, position);
    }
}

/// Writes the files; `None` (logged) when they could not be: a snapshot that
/// cannot be written is only a slower next open. `Some(table)` otherwise, the
/// table being `None` for a log without commands.
fn write_frozen(
    dir: &Path,
    db: &sled::Db,
    frozen: crate::index::Frozen,
    position: u64,
    hash: EventHash,
) -> Option<Option<Arc<crate::stored_commands::StoredCommands>>> {
    let started = std::time::Instant::now();
    match snapshot::write(dir, Covers { position, hash }, frozen, db) {
        Ok(stored) => {
            tracing::info!(
                position,
                millis = started.elapsed().as_millis() as u64,
                "log.snapshot written"
            );
            Some(stored)
        }
        Err(error) => {
            tracing::warn!(%error, "log.snapshot not written");
            None
        }
    }
}
