//! Snapshot files: derived data (indexes, projections) kept beside the log so that
//! opening it reads only what follows them. A sealed file names what it covers, the
//! log's position and the hash of the event there, and ends with the SHA-256 of all
//! its bytes. It is never trusted blindly: a reader checks the seal, and the log
//! checks that its event at that position has that hash; anything else (a missing,
//! cut, flipped or foreign file, or one ahead of the log) is treated as absent and
//! the data is rebuilt from the log.
//!
//! Layout: `ACCORD-SNAPSHOT 1\n`, the kind (one length byte, then its bytes), the
//! position (u64 big-endian), the hash (32 bytes), the body's length (u64
//! big-endian), the body, then the SHA-256 of everything before it.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use accord_kernel::EventHash;
use sha2::{Digest, Sha256};

use crate::error::LogError;

const MAGIC: &[u8] = b"ACCORD-SNAPSHOT 1\n";

/// The folder in a log's directory that holds its snapshots.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// The snapshot folder of the log in `dir`.
pub fn snapshot_dir(dir: &Path) -> PathBuf {
    dir.join(SNAPSHOT_DIR)
}

/// What a sealed file covers: the log up to and including `position`, whose event
/// has `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Covers {
    pub position: u64,
    pub hash: EventHash,
}

/// A sealed file's content, its seal checked.
#[derive(Debug)]
pub struct Sealed {
    pub covers: Covers,
    pub body: Vec<u8>,
}

/// Writes `body` sealed as `kind` covering `covers` to `path`, atomically: a reader
/// sees the old file or the whole new one, never a part (written aside, synced,
/// renamed, and the folder synced).
pub fn write_sealed(path: &Path, kind: &str, covers: Covers, body: &[u8]) -> Result<(), LogError> {
    let mut bytes = Vec::with_capacity(body.len() + 128);
    bytes.extend_from_slice(MAGIC);
    bytes.push(u8::try_from(kind.len()).unwrap_or(u8::MAX));
    bytes.extend_from_slice(&kind.as_bytes()[..kind.len().min(255)]);
    bytes.extend_from_slice(&covers.position.to_be_bytes());
    bytes.extend_from_slice(&covers.hash.0);
    bytes.extend_from_slice(&(body.len() as u64).to_be_bytes());
    bytes.extend_from_slice(body);
    let seal = Sha256::digest(&bytes);
    bytes.extend_from_slice(&seal);
    write_atomically(path, &bytes)
}

/// Reads the sealed file at `path` of `kind`. `Ok(None)` when it is absent, cut,
/// damaged or of another kind: the caller then rebuilds what it held. Errors only
/// when the file exists but cannot be read.
pub fn read_sealed(path: &Path, kind: &str) -> Result<Option<Sealed>, LogError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, &e)),
    };
    let unsealed = parse(&bytes, kind);
    if unsealed.is_none() {
        tracing::warn!(path = %path.display(), "log.snapshot ignored: damaged, cut or of another kind");
    }
    Ok(unsealed)
}

fn parse(bytes: &[u8], kind: &str) -> Option<Sealed> {
    let sealed_len = bytes.len().checked_sub(32)?;
    let (content, seal) = bytes.split_at(sealed_len);
    if Sha256::digest(content).as_slice() != seal {
        return None;
    }
    let mut rest = content.strip_prefix(MAGIC)?;
    let kind_len = usize::from(*rest.first()?);
    rest = &rest[1..];
    if rest.get(..kind_len)? != kind.as_bytes() {
        return None;
    }
    rest = &rest[kind_len..];
    let position = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    let hash = EventHash(rest.get(8..40)?.try_into().ok()?);
    let body_len = usize::try_from(u64::from_be_bytes(rest.get(40..48)?.try_into().ok()?)).ok()?;
    let body = rest.get(48..)?;
    (body.len() == body_len).then(|| Sealed {
        covers: Covers { position, hash },
        body: body.to_vec(),
    })
}

/// Writes `bytes` to `path` through a file beside it, synced before the rename and
/// the folder synced after, so a crash leaves the old file or the new one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), LogError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(folder).map_err(|e| io_error(folder, &e))?;
    let aside = path.with_extension("partial");
    let mut file = File::create(&aside).map_err(|e| io_error(&aside, &e))?;
    file.write_all(bytes).map_err(|e| io_error(&aside, &e))?;
    file.sync_data().map_err(|e| io_error(&aside, &e))?;
    drop(file);
    fs::rename(&aside, path).map_err(|e| io_error(path, &e))?;
    File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(folder, &e))
}

pub(crate) fn io_error(path: &Path, error: &std::io::Error) -> LogError {
    LogError::Storage(format!("snapshot {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers() -> Covers {
        Covers {
            position: 42,
            hash: EventHash([7; 32]),
        }
    }

    #[test]
    fn given_a_sealed_file_when_read_then_its_body_and_coverage_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.snap");
        write_sealed(&path, "index", covers(), b"body").unwrap();
        let sealed = read_sealed(&path, "index").unwrap().unwrap();
        assert_eq!(sealed.covers, covers());
        assert_eq!(sealed.body, b"body");
        assert!(read_sealed(&path, "projections").unwrap().is_none());
    }

    #[test]
    fn given_any_byte_flipped_or_the_file_cut_then_it_reads_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.snap");
        write_sealed(&path, "index", covers(), b"some body bytes").unwrap();
        let good = fs::read(&path).unwrap();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            fs::write(&path, &bad).unwrap();
            assert!(
                read_sealed(&path, "index").unwrap().is_none(),
                "flip at {at}"
            );
        }
        for len in 0..good.len() {
            fs::write(&path, &good[..len]).unwrap();
            assert!(
                read_sealed(&path, "index").unwrap().is_none(),
                "cut at {len}"
            );
        }
        fs::remove_file(&path).unwrap();
        assert!(read_sealed(&path, "index").unwrap().is_none());
    }
}
