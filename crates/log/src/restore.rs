//! Rebuilding a lost log from copies of its envelopes (a JetStream stream holds every
//! one, as the relay published it): each envelope is checked as `verify` checks a
//! stored one (position, hash, chain, stream version, canonical bytes), in order,
//! and the log is written only into a fresh directory, renamed into place once the
//! whole chain is in, durable and verified. A half-restored log is never left where
//! a service would open it.

use std::fs::File;
use std::path::{Path, PathBuf};

use accord_kernel::EventHash;

use crate::config::{open_sled, DEFAULT_CACHE_BYTES};
use crate::error::corrupt;
use crate::error::{CorruptionReason, LogError};
use crate::in_place::read_envelope;
use crate::keys::{self, HeadRecord};
use crate::mark::{Mark, MarkFile, MARK_FILE};
use crate::record::{push_entry, MAX_RECORD_BYTES};
use crate::verify::{verify_path, VerifyReport, Walk};

/// Records written to sled in one batch: a few MiB, so the restore is not one sled
/// write per record nor one huge batch held in memory.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A log being restored into `target`, which must not hold a log yet.
#[derive(Debug)]
pub struct Restore {
    target: PathBuf,
    staging: PathBuf,
    /// Taken when the restore finishes; a restore dropped before it removes its
    /// staging directory.
    db: Option<sled::Db>,
    finished: bool,
    walk: Walk,
    record: Vec<u8>,
    record_first: u64,
    batch: sled::Batch,
    batch_bytes: usize,
    /// The hash at every position restored so far (index = position - 1), to tell a
    /// copy of an event published twice from a different event at its position.
    hashes: Vec<EventHash>,
}

/// What [`Restore::push`] did with an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// It was the next event; it is in.
    Added,
    /// It was a byte-identical copy of an event already in (the relay publishes an
    /// event again after a crash, and JetStream drops the copy only within its
    /// duplicate window); it was skipped.
    Repeated,
}

impl Restore {
    /// Starts a restore into `target`. Refuses a target that already holds a log
    /// (restore never writes over evidence); works in `<target>.restoring`, which a
    /// restore that stopped half way leaves behind and the next one starts afresh.
    pub fn create(target: impl AsRef<Path>) -> Result<Restore, LogError> {
        let target = target.as_ref().to_path_buf();
        if target.join("db").exists() || target.join(MARK_FILE).exists() {
            return Err(LogError::Storage(format!(
                "{} already holds a log; restore only into a directory without one \
                 (move the damaged log aside first, to keep it as evidence)",
                target.display()
            )));
        }
        let mut staging = target.clone().into_os_string();
        staging.push(".restoring");
        let staging = PathBuf::from(staging);
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;
        let db = open_sled(&staging, DEFAULT_CACHE_BYTES)?;
        Ok(Restore {
            target,
            staging,
            db: Some(db),
            finished: false,
            walk: Walk::new(),
            record: Vec::new(),
            record_first: 1,
            batch: sled::Batch::default(),
            batch_bytes: 0,
            hashes: Vec::new(),
        })
    }

    /// The position the next envelope must have.
    pub fn next_position(&self) -> u64 {
        self.walk.expected_position
    }

    /// Checks `envelope` as the log's next event and adds it, or skips it as a copy
    /// of one already in. Refuses (a [`LogError::Corrupt`] naming the position and
    /// what is wrong) an envelope that is neither: a gap, a mismatch, a forgery.
    pub fn push(&mut self, envelope: &[u8]) -> Result<Pushed, LogError> {
        let position = self.walk.expected_position;
        if let Ok(read) = read_envelope(envelope) {
            let claimed = read.fields.position;
            let earlier = usize::try_from(claimed.wrapping_sub(1))
                .ok()
                .and_then(|index| self.hashes.get(index));
            if let Some(&restored) = earlier {
                let computed = read.fields.hash_with(&mut Vec::new());
                if read.canonical && computed == restored && EventHash(*read.hash) == restored {
                    return Ok(Pushed::Repeated);
                }
                return Err(corrupt(
                    claimed,
                    CorruptionReason::HashMismatch {
                        stored: restored,
                        computed,
                    },
                ));
            }
        }
        self.walk.step(position, envelope, || None)?;
        self.hashes.push(self.walk.tip);
        if !self.record.is_empty() && self.record.len() + 4 + envelope.len() > MAX_RECORD_BYTES {
            self.close_record()?;
        }
        if self.record.is_empty() {
            self.record_first = position;
        }
        push_entry(&mut self.record, envelope);
        Ok(Pushed::Added)
    }

    fn db(&self) -> Result<&sled::Db, LogError> {
        self.db.as_ref().ok_or(LogError::Closed)
    }

    fn close_record(&mut self) -> Result<(), LogError> {
        if self.record.is_empty() {
            return Ok(());
        }
        let record = std::mem::take(&mut self.record);
        self.batch_bytes += record.len();
        self.batch
            .insert(&keys::event(self.record_first)[..], record);
        if self.batch_bytes >= BATCH_BYTES {
            let batch = std::mem::take(&mut self.batch);
            self.db()?.apply_batch(batch)?;
            self.batch_bytes = 0;
        }
        Ok(())
    }

    /// Writes the head, the relay's cursor at the head (every event restored is on
    /// the stream already) and the high-water mark, makes it all durable, verifies
    /// the restored log from its files and moves it into place. Refuses an empty
    /// restore: there is nothing to serve from.
    pub fn finish(mut self, cursor_name: &str) -> Result<VerifyReport, LogError> {
        let last = self.walk.expected_position - 1;
        let (Some(recorded_at), true) = (self.walk.last_recorded_at, last > 0) else {
            return Err(LogError::Storage(
                "nothing to restore: no event was read".to_owned(),
            ));
        };
        self.close_record()?;
        // The Merkle tree of the restored events, as the writer would have kept it.
        let tiles = self.walk.take_tiles();
        crate::tree::write_all(self.db()?, tiles)?;
        let head = HeadRecord {
            position: last,
            hash: self.walk.tip,
            recorded_at,
        };
        self.batch.insert(keys::HEAD, &head.encode()[..]);
        self.batch
            .insert(keys::cursor(cursor_name), &last.to_be_bytes()[..]);
        let batch = std::mem::take(&mut self.batch);
        self.db()?.apply_batch(batch)?;
        self.db()?.flush()?;
        File::open(self.staging.join("db"))?.sync_data()?;
        let mark = Mark {
            position: last,
            hash: self.walk.tip,
        };
        MarkFile::open(&self.staging, mark, true)?;
        let expected: EventHash = self.walk.tip;
        drop(self.db.take());
        let report = verify_path(&self.staging)?;
        if report.head_hash != expected || report.events != last {
            return Err(LogError::Storage(format!(
                "the restored log in {} does not verify to what was read: {} events, head {}",
                self.staging.display(),
                report.events,
                report.head_hash
            )));
        }
        if self.target.exists() {
            // An empty directory (checked at the start to hold no log) gives way.
            std::fs::remove_dir(&self.target)?;
        }
        std::fs::rename(&self.staging, &self.target)?;
        self.finished = true;
        if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(parent)?.sync_all()?;
        }
        Ok(report)
    }
}

impl Drop for Restore {
    /// A restore that did not finish leaves nothing behind: its staging directory
    /// held only what the stream gave, which is still on the stream.
    fn drop(&mut self) {
        if !self.finished {
            drop(self.db.take());
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}
