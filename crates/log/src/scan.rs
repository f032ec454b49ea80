//! Reading a whole closed log once, in order, with memory that does not grow with it.
//!
//! sled 0.34 decides evictions in batches of 64 page accesses per cache shard (256
//! shards), so a single sequential pass over a large log never triggers one: every
//! page read stays cached and memory grows with the log (measured: ~300 bytes per
//! event at 1,000,000 events). A scan therefore reopens the database every
//! [`REOPEN_AFTER_BYTES`] read, which drops the cache, and resumes at the next
//! position.

use std::path::{Path, PathBuf};

use accord_kernel::RecordedEvent;

use crate::config::open_sled;
use crate::error::LogError;
use crate::read::{decode_at, stop_after_error, StoredEnvelopes};

/// Bytes of envelopes read between two reopenings of the database.
pub const REOPEN_AFTER_BYTES: usize = 32 * 1024 * 1024;

/// The page cache a scan opens sled with.
const SCAN_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// An in-order scan of the events of a log nobody is writing, from a position on.
/// Positions must be contiguous: a gap ends the scan with an error, as in `verify`.
pub struct Scan {
    dir: PathBuf,
    envelopes: Option<StoredEnvelopes>,
    /// The database a scan was started on by its caller, until the first reopening.
    given: Option<sled::Db>,
    next_position: u64,
    read_since_open: usize,
    reopen_after_bytes: usize,
    done: bool,
}

impl std::fmt::Debug for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan")
            .field("dir", &self.dir)
            .field("next_position", &self.next_position)
            .finish()
    }
}

/// Scans the log in `dir` from `from` (1 for the whole log).
pub fn scan_path(dir: impl AsRef<Path>, from: u64) -> Result<Scan, LogError> {
    scan_path_with(dir, from, REOPEN_AFTER_BYTES)
}

/// [`scan_path`] reopening the database after `reopen_after_bytes` read.
pub fn scan_path_with(
    dir: impl AsRef<Path>,
    from: u64,
    reopen_after_bytes: usize,
) -> Result<Scan, LogError> {
    let dir = dir.as_ref().to_owned();
    if !dir.join("db").is_file() {
        return Err(LogError::Storage(format!(
            "no log found in {}",
            dir.display()
        )));
    }
    let mut scan = Scan::unopened(dir, from, reopen_after_bytes);
    scan.reopen()?;
    Ok(scan)
}

impl Scan {
    fn unopened(dir: PathBuf, from: u64, reopen_after_bytes: usize) -> Scan {
        Scan {
            dir,
            envelopes: None,
            given: None,
            next_position: from.max(1),
            read_since_open: 0,
            reopen_after_bytes: reopen_after_bytes.max(1),
            done: false,
        }
    }

    /// A scan of `dir` that reads from `db`, already open on it, until its first
    /// reopening: a log that is opened anyway is not opened a second time to be read.
    pub(crate) fn starting_on(db: sled::Db, dir: &Path, from: u64) -> Scan {
        let mut scan = Scan::unopened(dir.to_owned(), from, REOPEN_AFTER_BYTES);
        scan.envelopes = Some(StoredEnvelopes::new(&db, scan.next_position, u64::MAX - 1));
        scan.given = Some(db);
        scan
    }

    /// The database the scan was started on, if it never had to reopen: it then
    /// holds at most [`REOPEN_AFTER_BYTES`] of pages read, and can be used on.
    pub(crate) fn into_given_db(mut self) -> Option<sled::Db> {
        self.envelopes = None;
        self.given.take()
    }

    fn reopen(&mut self) -> Result<(), LogError> {
        // The old database must be gone before sled will open the directory again.
        self.envelopes = None;
        self.given = None;
        let db = open_sled(&self.dir, SCAN_CACHE_BYTES)?;
        self.envelopes = Some(StoredEnvelopes::new(&db, self.next_position, u64::MAX - 1));
        self.read_since_open = 0;
        Ok(())
    }

    fn step(&mut self) -> Result<Option<RecordedEvent>, LogError> {
        if self.read_since_open >= self.reopen_after_bytes {
            self.reopen()?;
        }
        let Some(envelopes) = self.envelopes.as_mut() else {
            return Ok(None);
        };
        let Some(entry) = envelopes.next() else {
            return Ok(None);
        };
        let (position, bytes) = entry?;
        self.read_since_open += bytes.len();
        self.next_position = position + 1;
        decode_at(position, &bytes).map(Some)
    }
}

impl Iterator for Scan {
    type Item = Result<RecordedEvent, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = (!self.done).then(|| self.step().transpose()).flatten();
        stop_after_error(&mut self.done, item)
    }
}
