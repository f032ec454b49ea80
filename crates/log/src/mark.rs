//! The high-water mark: the last acknowledged position and its hash, kept in a small
//! file of its own beside sled's, so that the log cannot lose it together with itself.
//!
//! sled recovers a damaged data file to its last consistent state: a cut tail, a
//! flipped byte in the last record or a deleted `snap.*` file all open as a shorter,
//! internally consistent log, and the head record inside sled is cut with it. The
//! mark is written and `fdatasync`'d by the marker (`syncer`) after sled's flush and
//! fdatasync of the same groups and before any append it covers is answered, so
//! every acknowledged position is in it; on open the log must reach the mark with the
//! same hash, or it refuses to open.
//!
//! File layout (`accord-mark`, 128 bytes): two 64-byte slots, written in turn, so a
//! write torn by a crash leaves the other slot (the previous mark) whole. A slot is
//! `ACCMARK1`, position (u64 BE), hash (32 bytes), the first 8 bytes of the SHA-256 of
//! those 48 bytes, 8 zero bytes. The mark is the valid slot with the higher position.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use accord_kernel::EventHash;
use sha2::{Digest, Sha256};

use crate::error::corrupt;
use crate::error::{CorruptionReason, LogError};

/// The mark's file name inside a log's directory.
pub const MARK_FILE: &str = "accord-mark";
const MAGIC: &[u8; 8] = b"ACCMARK1";
const SLOT: usize = 64;

/// The last acknowledged position and the hash of the event there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub position: u64,
    pub hash: EventHash,
}

impl Mark {
    pub(crate) const EMPTY: Mark = Mark {
        position: 0,
        hash: EventHash::GENESIS,
    };

    /// The mark as one slot of the mark file (see the module's doc for the layout).
    pub fn to_slot(self) -> [u8; SLOT] {
        let mut slot = [0; SLOT];
        slot[..8].copy_from_slice(MAGIC);
        slot[8..16].copy_from_slice(&self.position.to_be_bytes());
        slot[16..48].copy_from_slice(&self.hash.0);
        let sum = Sha256::digest(&slot[..48]);
        slot[48..56].copy_from_slice(&sum[..8]);
        slot
    }

    fn decode(slot: &[u8]) -> Option<Mark> {
        if slot.len() != SLOT || &slot[..8] != MAGIC {
            return None;
        }
        let sum = Sha256::digest(&slot[..48]);
        if slot[48..56] != sum[..8] {
            return None;
        }
        Some(Mark {
            position: u64::from_be_bytes(slot[8..16].try_into().ok()?),
            hash: EventHash(slot[16..48].try_into().ok()?),
        })
    }
}

fn path(dir: &Path) -> PathBuf {
    dir.join(MARK_FILE)
}

/// The mark stored in `dir`: `None` when there is no mark file; an error when there
/// is one but no slot of it is readable.
pub fn read_mark(dir: &Path) -> Result<Option<Mark>, LogError> {
    let mut bytes = Vec::with_capacity(2 * SLOT);
    match File::open(path(dir)) {
        Ok(file) => file.take(2 * SLOT as u64).read_to_end(&mut bytes)?,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    bytes
        .chunks(SLOT)
        .filter_map(Mark::decode)
        .max_by_key(|mark| mark.position)
        .map(Some)
        .ok_or_else(|| corrupt(0, CorruptionReason::MarkUnreadable))
}

/// Checks a log whose last stored event is `last` (position and hash, `None` when
/// empty) against the mark in `dir`, and names what is missing. `hash_at` reads the
/// stored hash at a position, for a log that went on past the mark (appends applied
/// and flushed by sled but never acknowledged, before a crash).
pub(crate) fn check(
    dir: &Path,
    last: Option<(u64, EventHash)>,
    hash_at: impl FnOnce(u64) -> Result<EventHash, LogError>,
) -> Result<Option<Mark>, LogError> {
    let actual = last.map_or(0, |(position, _)| position);
    let Some(mark) = read_mark(dir)? else {
        return match last {
            None => Ok(None),
            Some(_) => Err(corrupt(actual, CorruptionReason::MarkMissing)),
        };
    };
    if mark.position == 0 {
        return Ok(Some(mark));
    }
    if actual < mark.position {
        return Err(corrupt(
            actual,
            CorruptionReason::BehindMark {
                marked: mark.position,
                marked_hash: mark.hash,
                actual,
            },
        ));
    }
    let stored = match last {
        Some((position, hash)) if position == mark.position => hash,
        _ => hash_at(mark.position)?,
    };
    if stored != mark.hash {
        return Err(corrupt(
            mark.position,
            CorruptionReason::MarkMismatch {
                marked_hash: mark.hash,
                stored,
            },
        ));
    }
    Ok(Some(mark))
}

/// The mark file of an open log, written by the syncer alone.
#[derive(Debug)]
pub(crate) struct MarkFile {
    file: File,
    next_slot: u64,
    sync: bool,
}

impl MarkFile {
    /// Opens the mark file of a log already checked against it, or creates it (with
    /// `initial`) for a new log, or for one that was let open past a missing mark.
    /// A new file is written beside and renamed into place, so a crash never leaves
    /// a mark file without a readable slot.
    pub(crate) fn open(dir: &Path, initial: Mark, sync: bool) -> Result<MarkFile, LogError> {
        let target = path(dir);
        if !target.exists() {
            let fresh = dir.join(format!("{MARK_FILE}.new"));
            let file = File::create(&fresh)?;
            file.write_all_at(&initial.to_slot(), 0)?;
            file.sync_all()?;
            std::fs::rename(&fresh, &target)?;
            File::open(dir)?.sync_all()?;
        }
        let file = OpenOptions::new().read(true).write(true).open(&target)?;
        // Write first over the slot that does not hold the current mark.
        let mut slots = [0u8; 2 * SLOT];
        let read = file.read_at(&mut slots, 0)?;
        let current = slots[..read]
            .chunks(SLOT)
            .enumerate()
            .filter_map(|(slot, bytes)| Some((slot, Mark::decode(bytes)?.position)))
            .max_by_key(|(_, position)| *position)
            .map_or(1, |(slot, _)| slot as u64);
        let mut mark = MarkFile {
            file,
            next_slot: 1 - current,
            sync,
        };
        // The log may have gone on past the mark (see `check`); the mark follows it
        // before any new append is acknowledged.
        mark.write(initial)?;
        Ok(mark)
    }

    /// Makes `mark` durable in the slot after the last one written.
    pub(crate) fn write(&mut self, mark: Mark) -> Result<(), LogError> {
        self.file
            .write_all_at(&mark.to_slot(), self.next_slot * SLOT as u64)?;
        if self.sync {
            self.file.sync_data()?;
        }
        self.next_slot = 1 - self.next_slot;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_errors_about_the_mark_name_its_file() {
        // error.rs spells the name out (it does not import this module); this keeps
        // the two in step.
        for reason in [
            CorruptionReason::MarkMissing,
            CorruptionReason::MarkUnreadable,
        ] {
            assert!(reason.to_string().contains(MARK_FILE), "{reason}");
        }
    }

    fn mark(position: u64) -> Mark {
        Mark {
            position,
            hash: EventHash([position as u8; 32]),
        }
    }

    #[test]
    fn given_writes_in_turn_then_the_higher_position_is_read_back() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut file = MarkFile::open(dir.path(), mark(3), true).unwrap_or_else(|e| panic!("{e}"));
        for position in 4..=9 {
            file.write(mark(position)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(read_mark(dir.path()).ok().flatten(), Some(mark(position)));
        }
    }

    #[test]
    fn given_a_torn_last_slot_then_the_previous_mark_is_read() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut file = MarkFile::open(dir.path(), mark(3), true).unwrap_or_else(|e| panic!("{e}"));
        file.write(mark(4)).unwrap_or_else(|e| panic!("{e}"));
        let bytes = std::fs::read(path(dir.path())).unwrap_or_default();
        let torn = bytes
            .chunks(SLOT)
            .position(|s| Mark::decode(s) == Some(mark(4)))
            .unwrap_or(0);
        let raw = OpenOptions::new()
            .write(true)
            .open(path(dir.path()))
            .unwrap_or_else(|e| panic!("{e}"));
        raw.write_all_at(&[0xff; 20], (torn * SLOT) as u64 + 10)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_mark(dir.path()).ok().flatten(), Some(mark(3)));
    }

    #[test]
    fn given_no_readable_slot_then_reading_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(path(dir.path()), [7u8; 128]).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_mark(dir.path()),
            Err(LogError::Corrupt(ref c)) if c.reason == CorruptionReason::MarkUnreadable
        ));
    }

    #[test]
    fn given_a_log_short_of_its_mark_then_the_check_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        MarkFile::open(dir.path(), mark(7), true).unwrap_or_else(|e| panic!("{e}"));
        let short = check(dir.path(), Some((6, mark(6).hash)), |_| Ok(mark(6).hash));
        assert!(
            matches!(short, Err(LogError::Corrupt(ref c)) if c.reason == CorruptionReason::BehindMark { marked: 7, marked_hash: mark(7).hash, actual: 6 }),
            "{short:?}"
        );
        let longer = check(dir.path(), Some((9, mark(9).hash)), |at| {
            assert_eq!(at, 7);
            Ok(mark(7).hash)
        });
        assert_eq!(longer.ok().flatten(), Some(mark(7)));
        let forked = check(dir.path(), Some((7, mark(1).hash)), |_| Ok(mark(1).hash));
        assert!(
            matches!(forked, Err(LogError::Corrupt(ref c)) if matches!(c.reason, CorruptionReason::MarkMismatch { .. })),
            "{forked:?}"
        );
    }
}
