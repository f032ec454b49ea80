//! The command index up to a snapshot, kept on disk instead of in memory: each
//! command id ever appended has an entry, so held in memory it grows with every
//! command handled (~48 bytes each). The file holds the entries sorted by command id,
//! 28 bytes each (id, first position, event count), in blocks of [`BLOCK_ENTRIES`].
//! Memory keeps one fence per block (its first id and the SHA-256 of its bytes,
//! sealed in the index snapshot) and a few blocks read lately: a lookup reads at most
//! one block, and checks it against its fence before believing it.
//!
//! A block that does not match its fence (the disk changed under the log) is not
//! believed: the table is then rebuilt from the log's own events, in memory, and
//! every later lookup answers from that; the snapshot is removed so the next open
//! rebuilds it. A lookup never answers from unchecked bytes.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use accord_kernel::RecordedEvent;

use crate::error::LogError;
use crate::sealed::io_error;

/// Where one command's events are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommandRecord {
    pub(crate) first_position: u64,
    pub(crate) count: u32,
}

/// The log's events from the first up to a position, in order: what a damaged
/// table is rebuilt from.
pub(crate) type LogEvents<'a> =
    &'a dyn Fn(u64) -> Box<dyn Iterator<Item = Result<RecordedEvent, LogError>> + 'a>;

/// Entries per block: a lookup reads and checks this many (3.5 KiB).
pub(crate) const BLOCK_ENTRIES: usize = 128;
const ENTRY_BYTES: usize = 16 + 8 + 4;
const BLOCK_BYTES: usize = BLOCK_ENTRIES * ENTRY_BYTES;
/// Blocks kept after a lookup read them: fresh command ids (UUIDv7, rising) all
/// land in the last block, so this is what the command path reads.
const CACHED_BLOCKS: usize = 32;

/// One block's first command id and the SHA-256 of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fence {
    pub(crate) first: [u8; 16],
    pub(crate) hash: [u8; 32],
}

pub(crate) const FENCE_BYTES: usize = 48;

impl Fence {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.first);
        out.extend_from_slice(&self.hash);
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Fence> {
        Some(Fence {
            first: bytes.get(..16)?.try_into().ok()?,
            hash: bytes.get(16..48)?.try_into().ok()?,
        })
    }
}

type Block = Arc<Vec<(Uuid, CommandRecord)>>;

/// Entries in command id order, as a table is read or written.
pub(crate) type Entries<'a> =
    Box<dyn Iterator<Item = Result<(Uuid, CommandRecord), LogError>> + 'a>;

/// The command index of the events up to `covered`, on disk.
#[derive(Debug)]
pub(crate) struct StoredCommands {
    path: PathBuf,
    file: File,
    count: u64,
    covered: u64,
    fences: Vec<Fence>,
    /// Blocks read lately, most recent last.
    cache: Mutex<Vec<(usize, Block)>>,
    /// Set when a block did not match its fence: the table rebuilt from the log.
    rebuilt: OnceLock<HashMap<Uuid, CommandRecord>>,
    /// The log's snapshot folder, removed when a block turns out damaged.
    snapshot_dir: PathBuf,
}

impl StoredCommands {
    /// Opens the table at `path` of `count` entries described by `fences`, for the
    /// events up to `covered`. Refuses (as absent) a file of the wrong length.
    pub(crate) fn open(
        path: &Path,
        snapshot_dir: &Path,
        count: u64,
        covered: u64,
        fences: Vec<Fence>,
    ) -> Result<Option<StoredCommands>, LogError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(path, &e)),
        };
        let len = file.metadata().map_err(|e| io_error(path, &e))?.len();
        let blocks = count.div_ceil(BLOCK_ENTRIES as u64);
        if len != count * ENTRY_BYTES as u64 || blocks != fences.len() as u64 {
            return Ok(None);
        }
        Ok(Some(StoredCommands {
            path: path.to_owned(),
            file,
            count,
            covered,
            fences,
            cache: Mutex::new(Vec::new()),
            rebuilt: OnceLock::new(),
            snapshot_dir: snapshot_dir.to_owned(),
        }))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Where `command_id`'s events are, if it was appended up to the snapshot.
    pub(crate) fn get(
        &self,
        command_id: &Uuid,
        events: LogEvents<'_>,
    ) -> Result<Option<CommandRecord>, LogError> {
        if let Some(rebuilt) = self.rebuilt.get() {
            return Ok(rebuilt.get(command_id).copied());
        }
        let key = command_id.as_bytes();
        let Some(block) = self
            .fences
            .partition_point(|fence| &fence.first <= key)
            .checked_sub(1)
        else {
            return Ok(None);
        };
        match self.block(block)? {
            Some(entries) => Ok(entries
                .binary_search_by(|(id, _)| id.cmp(command_id))
                .ok()
                .map(|at| entries[at].1)),
            None => {
                let rebuilt = self.rebuild(events)?;
                Ok(rebuilt.get(command_id).copied())
            }
        }
    }

    /// Block `block`, checked against its fence; `None` when it does not match.
    fn block(&self, block: usize) -> Result<Option<Block>, LogError> {
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(at) = cache.iter().position(|(b, _)| *b == block) {
                let entry = cache.remove(at);
                let entries = entry.1.clone();
                cache.push(entry);
                return Ok(Some(entries));
            }
        }
        // Read and checked without the cache held: other lookups go on meanwhile.
        let (offset, len) = self.block_span(block);
        let mut bytes = vec![0; len];
        self.file
            .read_exact_at(&mut bytes, offset)
            .map_err(|e| io_error(&self.path, &e))?;
        if Sha256::digest(&bytes).as_slice() != self.fences[block].hash {
            return Ok(None);
        }
        let entries: Block = Arc::new(bytes.chunks_exact(ENTRY_BYTES).map(decode_entry).collect());
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        // Another lookup may have read the same block meanwhile.
        if !cache.iter().any(|(b, _)| *b == block) {
            if cache.len() >= CACHED_BLOCKS {
                cache.remove(0);
            }
            cache.push((block, entries.clone()));
        }
        Ok(Some(entries))
    }

    /// Where block `block` starts in the file, and its length in bytes (the last
    /// block may hold fewer entries).
    fn block_span(&self, block: usize) -> (u64, usize) {
        let first = block as u64 * BLOCK_ENTRIES as u64;
        let entries = (self.count - first).min(BLOCK_ENTRIES as u64) as usize;
        (first * ENTRY_BYTES as u64, entries * ENTRY_BYTES)
    }

    /// The table rebuilt from the log's events up to the snapshot, once.
    fn rebuild(&self, events: LogEvents<'_>) -> Result<&HashMap<Uuid, CommandRecord>, LogError> {
        if let Some(rebuilt) = self.rebuilt.get() {
            return Ok(rebuilt);
        }
        tracing::error!(
            path = %self.path.display(),
            "log.snapshot command table damaged; rebuilding it from the log and removing the snapshot"
        );
        let mut rebuilt: HashMap<Uuid, CommandRecord> = HashMap::new();
        for event in events(self.covered) {
            let event = event?;
            rebuilt
                .entry(event.command_id)
                .and_modify(|record| record.count += 1)
                .or_insert(CommandRecord {
                    first_position: event.position,
                    count: 1,
                });
        }
        if let Err(error) = std::fs::remove_dir_all(&self.snapshot_dir) {
            tracing::warn!(%error, "log.snapshot could not be removed");
        }
        Ok(self.rebuilt.get_or_init(|| rebuilt))
    }

    /// Every entry, in command id order, each block checked (or, when one is
    /// damaged, from the table rebuilt from the log).
    pub(crate) fn entries(&self, events: LogEvents<'_>) -> Result<Entries<'_>, LogError> {
        if self.rebuilt.get().is_none() {
            let mut reader = std::io::BufReader::new(
                File::open(&self.path).map_err(|e| io_error(&self.path, &e))?,
            );
            let mut all_match = true;
            let mut bytes = vec![0; BLOCK_BYTES];
            for (block, fence) in self.fences.iter().enumerate() {
                let (_, len) = self.block_span(block);
                reader
                    .read_exact(&mut bytes[..len])
                    .map_err(|e| io_error(&self.path, &e))?;
                all_match &= Sha256::digest(&bytes[..len]).as_slice() == fence.hash;
            }
            if all_match {
                let file = File::open(&self.path).map_err(|e| io_error(&self.path, &e))?;
                let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
                let mut left = self.count;
                return Ok(Box::new(std::iter::from_fn(move || {
                    if left == 0 {
                        return None;
                    }
                    left -= 1;
                    let mut entry = [0; ENTRY_BYTES];
                    Some(
                        reader
                            .read_exact(&mut entry)
                            .map(|()| decode_entry(&entry))
                            .map_err(|e| io_error(&self.path, &e)),
                    )
                })));
            }
        }
        let mut sorted: Vec<_> = self
            .rebuild(events)?
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        sorted.sort_unstable_by_key(|(id, _)| *id);
        Ok(Box::new(sorted.into_iter().map(Ok)))
    }
}

fn decode_entry(bytes: &[u8]) -> (Uuid, CommandRecord) {
    let mut id = [0; 16];
    id.copy_from_slice(&bytes[..16]);
    let mut position = [0; 8];
    position.copy_from_slice(&bytes[16..24]);
    let mut count = [0; 4];
    count.copy_from_slice(&bytes[24..28]);
    (
        Uuid::from_bytes(id),
        CommandRecord {
            first_position: u64::from_be_bytes(position),
            count: u32::from_be_bytes(count),
        },
    )
}

/// Writes `entries` (in command id order) to `path` and returns each block's fence
/// and how many entries were written. The file is synced before this returns.
pub(crate) fn write_table(
    path: &Path,
    entries: impl Iterator<Item = Result<(Uuid, CommandRecord), LogError>>,
) -> Result<(Vec<Fence>, u64), LogError> {
    let file = File::create(path).map_err(|e| io_error(path, &e))?;
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let mut fences = Vec::new();
    let mut block = Vec::with_capacity(BLOCK_BYTES);
    let mut count = 0u64;
    let mut first = [0; 16];
    let mut seal = |block: &mut Vec<u8>, first: [u8; 16], out: &mut BufWriter<File>| {
        fences.push(Fence {
            first,
            hash: Sha256::digest(&block[..]).into(),
        });
        let written = out.write_all(block);
        block.clear();
        written
    };
    for entry in entries {
        let (id, record) = entry?;
        if block.is_empty() {
            first = *id.as_bytes();
        }
        block.extend_from_slice(id.as_bytes());
        block.extend_from_slice(&record.first_position.to_be_bytes());
        block.extend_from_slice(&record.count.to_be_bytes());
        count += 1;
        if block.len() == BLOCK_BYTES {
            seal(&mut block, first, &mut out).map_err(|e| io_error(path, &e))?;
        }
    }
    if !block.is_empty() {
        seal(&mut block, first, &mut out).map_err(|e| io_error(path, &e))?;
    }
    let file = out.into_inner().map_err(|e| io_error(path, e.error()))?;
    file.sync_data().map_err(|e| io_error(path, &e))?;
    Ok((fences, count))
}

/// Merges two id-ordered runs of entries into one.
pub(crate) fn merged<'a>(
    older: impl Iterator<Item = Result<(Uuid, CommandRecord), LogError>> + 'a,
    newer: Vec<(Uuid, CommandRecord)>,
) -> impl Iterator<Item = Result<(Uuid, CommandRecord), LogError>> + 'a {
    let mut older = older.peekable();
    let mut newer = newer.into_iter().peekable();
    std::iter::from_fn(move || {
        let take_older = match (older.peek(), newer.peek()) {
            (Some(Err(_)), _) => true,
            (Some(Ok((a, _))), Some((b, _))) => a < b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_older {
            older.next()
        } else {
            newer.next().map(Ok)
        }
    })
}
