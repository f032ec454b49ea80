//! Changing a closed log's stored bytes behind its back, as a forger would: for tamper
//! tests of the log and of the auditor's commands. Works on a copy ([`copy_dir`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use accord_log::{build_record, open_storage, record_entries};

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn record_key(first: u64) -> Vec<u8> {
    let mut key = vec![b'e'];
    key.extend_from_slice(&first.to_be_bytes());
    key
}

/// The stored records: first position and envelopes, in order.
pub type Records = Vec<(u64, Vec<Vec<u8>>)>;

pub fn read_records(db: &sled::Db) -> Records {
    db.scan_prefix(b"e")
        .map(|entry| {
            let (key, value) = entry.unwrap();
            let first = u64::from_be_bytes(key[1..].try_into().unwrap());
            let envelopes = record_entries(&value)
                .map(|e| e.unwrap().to_vec())
                .collect();
            (first, envelopes)
        })
        .collect()
}

/// Replaces every stored record with `records` (an emptied record is removed).
pub fn write_records(db: &sled::Db, records: &Records) {
    for entry in db.scan_prefix(b"e") {
        db.remove(entry.unwrap().0).unwrap();
    }
    for (first, envelopes) in records {
        if !envelopes.is_empty() {
            db.insert(
                record_key(*first),
                build_record(envelopes.iter().map(Vec::as_slice)),
            )
            .unwrap();
        }
    }
    db.flush().unwrap();
}

/// Where the event at `position` is: (record index, index within the record).
pub fn locate(records: &Records, position: u64) -> (usize, usize) {
    let r = records
        .iter()
        .rposition(|(first, _)| *first <= position)
        .unwrap();
    (r, (position - records[r].0) as usize)
}

/// Applies `change` to the stored records of the log in `dir`.
pub fn tamper(dir: &Path, change: impl FnOnce(&mut Records)) {
    let db = open_storage(dir).unwrap();
    let mut records = read_records(&db);
    change(&mut records);
    write_records(&db, &records);
}

pub fn envelope(records: &Records, position: u64) -> Vec<u8> {
    let (r, i) = locate(records, position);
    records[r].1[i].clone()
}

pub fn set_envelope(records: &mut Records, position: u64, bytes: Vec<u8>) {
    let (r, i) = locate(records, position);
    records[r].1[i] = bytes;
}

/// Overwrites the head record's hash (bytes 8..40), as a forger who re-chained the
/// whole log would.
pub fn set_head_hash(dir: &Path, hash: [u8; 32]) {
    let db = open_storage(dir).unwrap();
    let mut head = db.get(b"h").unwrap().unwrap().to_vec();
    head[8..40].copy_from_slice(&hash);
    db.insert(b"h", head).unwrap();
    db.flush().unwrap();
}

/// Replaces a log's high-water mark file with one slot naming `position` and `hash`.
pub fn write_mark(dir: &Path, position: u64, hash: [u8; 32]) {
    let mark = accord_log::Mark {
        position,
        hash: accord_kernel::EventHash(hash),
    };
    std::fs::write(dir.join(accord_log::MARK_FILE), mark.to_slot()).unwrap();
}

/// A closed log holding `appends` (each: stream, events, metadata, appended with
/// any expected version), kept on disk: the fixture a tamper or damage test copies
/// per case. Never open the returned directory itself in a test that copies it:
/// opening sled rewrites its snapshot files.
pub fn closed_log(
    appends: impl IntoIterator<
        Item = (
            accord_kernel::StreamId,
            Vec<accord_log::NewEvent>,
            accord_log::AppendMetadata,
        ),
    >,
) -> std::path::PathBuf {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut log = crate::TempLog::new();
    runtime.block_on(async {
        for (stream, events, metadata) in appends {
            log.log()
                .append(
                    stream,
                    accord_kernel::ExpectedVersion::Any,
                    events,
                    metadata,
                )
                .await
                .unwrap();
        }
    });
    log.close();
    log.keep()
}
