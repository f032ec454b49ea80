//! The index snapshot: the stream index and the command index as of a position, so
//! opening a log reads only the events after it (see `sealed` for how a snapshot is
//! checked before it is believed). Two files in the log's `snapshots` folder:
//! `index.snap` (sealed: the streams' positions and one fence per block of the
//! command table) and `commands-<position>.table` (the command table, kept on disk:
//! `stored_commands`).
//!
//! Index body: the command count (u64 BE), the table's file name (u16 BE length,
//! bytes), the fences (48 bytes each), the stream count (u64 BE), then per stream
//! its category and id (u16 BE length, bytes, each) and its positions
//! (`Positions::encode`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use accord_kernel::StreamId;

use crate::error::LogError;
use crate::index::{Frozen, Index};
use crate::positions::Positions;
use crate::sealed::{read_sealed, snapshot_dir, write_sealed, Covers};
use crate::stored_commands::{self, Fence, StoredCommands, FENCE_BYTES};

const KIND: &str = "accord-log-index";
const INDEX_FILE: &str = "index.snap";

/// The index snapshot of the log in `dir`, its seal checked; `None` when absent or
/// damaged. Whether it matches the log is the caller's to check (`covers`).
pub(crate) fn load(dir: &Path) -> Result<Option<(Covers, Index)>, LogError> {
    let folder = snapshot_dir(dir);
    let Some(sealed) = read_sealed(&folder.join(INDEX_FILE), KIND)? else {
        return Ok(None);
    };
    let Some((table, count, fences, streams)) = parse(&sealed.body) else {
        tracing::warn!(dir = %dir.display(), "log.snapshot ignored: its index does not parse");
        return Ok(None);
    };
    let stored = if count == 0 {
        None
    } else {
        match StoredCommands::open(
            &folder.join(table),
            &folder,
            count,
            sealed.covers.position,
            fences,
        )? {
            Some(stored) => Some(Arc::new(stored)),
            None => {
                tracing::warn!(dir = %dir.display(), "log.snapshot ignored: its command table is missing or cut");
                return Ok(None);
            }
        }
    };
    Ok(Some((
        sealed.covers,
        Index::from_snapshot(streams, stored, sealed.covers.position),
    )))
}

type Parsed = (String, u64, Vec<Fence>, Vec<(StreamId, Positions)>);

fn parse(body: &[u8]) -> Option<Parsed> {
    let mut at = Cursor { body, at: 0 };
    let count = at.u64()?;
    let table = at.text()?;
    if table.contains('/') {
        return None;
    }
    let blocks = usize::try_from(count.div_ceil(stored_commands::BLOCK_ENTRIES as u64)).ok()?;
    let mut fences = Vec::with_capacity(blocks);
    for _ in 0..blocks {
        fences.push(Fence::decode(at.take(FENCE_BYTES)?)?);
    }
    let stream_count = at.u64()?;
    let mut streams = Vec::new();
    for _ in 0..stream_count {
        let category = at.text()?;
        let id = at.text()?;
        let stream = StreamId::new(category, id).ok()?;
        let positions = Positions::decode(body, &mut at.at)?;
        streams.push((stream, positions));
    }
    (at.at == body.len()).then_some((table, count, fences, streams))
}

/// Reads an index body front to back.
struct Cursor<'a> {
    body: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.body.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn text(&mut self) -> Option<String> {
        let len = usize::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?));
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

/// Writes a snapshot of `frozen` covering `covers` (every event it holds is at or
/// before it, and durable) and returns the command table it wrote, which from then
/// on holds every command up to `covers`. Older tables are removed once the new
/// index file is in place.
pub(crate) fn write(
    dir: &Path,
    covers: Covers,
    frozen: Frozen,
    db: &sled::Db,
) -> Result<Option<Arc<StoredCommands>>, LogError> {
    let folder = snapshot_dir(dir);
    std::fs::create_dir_all(&folder).map_err(|e| crate::sealed::io_error(&folder, &e))?;
    let table = format!("commands-{}.table", covers.position);
    let table_path = folder.join(&table);
    let aside = table_path.with_extension("partial");
    let (fences, count) = match frozen.stored {
        // The table already holds this very coverage (the log closes where it opened).
        Some(stored) if stored.path() == table_path && frozen.recent.is_empty() => {
            return Ok(Some(stored));
        }
        Some(stored) => stored_commands::write_table(
            &aside,
            stored_commands::merged(
                stored.entries(&|until| crate::read::events_up_to(db, until))?,
                frozen.recent,
            ),
        )?,
        None => stored_commands::write_table(&aside, frozen.recent.into_iter().map(Ok))?,
    };
    std::fs::rename(&aside, &table_path).map_err(|e| crate::sealed::io_error(&table_path, &e))?;
    let mut body = Vec::with_capacity(frozen.streams.len() + fences.len() * FENCE_BYTES + 64);
    body.extend_from_slice(&count.to_be_bytes());
    body.extend_from_slice(&(table.len() as u16).to_be_bytes());
    body.extend_from_slice(table.as_bytes());
    for fence in &fences {
        fence.encode(&mut body);
    }
    body.extend_from_slice(&frozen.stream_count.to_be_bytes());
    body.extend_from_slice(&frozen.streams);
    write_sealed(&folder.join(INDEX_FILE), KIND, covers, &body)?;
    remove_other_tables(&folder, &table);
    if count == 0 {
        return Ok(None);
    }
    let stored = StoredCommands::open(&table_path, &folder, count, covers.position, fences)?
        .ok_or_else(|| LogError::Storage(format!("{} vanished", table_path.display())))?;
    Ok(Some(Arc::new(stored)))
}

fn remove_other_tables(folder: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("commands-") && name != keep {
            let path: PathBuf = entry.path();
            if let Err(error) = std::fs::remove_file(&path) {
                tracing::warn!(%error, path = %path.display(), "log.snapshot old table not removed");
            }
        }
    }
}
