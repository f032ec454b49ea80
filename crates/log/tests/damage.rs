//! Damage at rest: a copy of a closed log whose files were cut, flipped or deleted
//! never opens short. sled recovers such files to an earlier consistent state, head
//! record included; the high-water mark beside them (`accord-mark`) remembers what
//! was acknowledged, so the log refuses to open and `verify` fails on the same copy.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::OnceLock;

use accord_log::{read_mark, verify_path, CorruptionReason, Log, LogError, MARK_FILE};
use accord_testkit::tamper::{closed_log, copy_dir, write_mark};
use accord_testkit::{event, metadata, stream};

const APPENDS: u64 = 300;
/// The last event's payload, found in the raw data file to flip a byte of it.
const LAST_PAYLOAD: &[u8] = b"final delivery: 4,000 shells accepted at the depot";

/// A closed log of 300 one-event appends, built once and copied per case.
fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<std::path::PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        closed_log((1..=APPENDS).map(|i| {
            let payload = if i == APPENDS {
                LAST_PAYLOAD.to_vec()
            } else {
                format!("progress {i}: 100 shells delivered").into_bytes()
            };
            (
                stream("commitment", &format!("c{}", i % 5)),
                vec![event("Recorded", &payload)],
                metadata("ua-mod", i as i64),
            )
        }))
    })
}

fn copy_of_fixture() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(fixture(), copy.path());
    copy
}

/// The damaged copy must not open with fewer events than were acknowledged: either
/// it refuses, with the reason and with `verify` failing too, or (when the damage
/// missed everything sled needs) it opens whole. Returns the refusal, if any.
fn refused_or_whole(dir: &Path) -> Option<LogError> {
    match Log::open(dir) {
        Ok(log) => {
            assert_eq!(
                log.durable_position(),
                APPENDS,
                "the damaged log opened short"
            );
            assert_eq!(log.verify().unwrap().events, APPENDS);
            None
        }
        Err(error) => {
            let verified = verify_path(dir);
            assert!(
                verified.is_err(),
                "open refused ({error}) but verify passed: {verified:?}"
            );
            Some(error)
        }
    }
}

fn behind_mark(error: &LogError) -> bool {
    matches!(error, LogError::Corrupt(c) if matches!(c.reason, CorruptionReason::BehindMark { marked: APPENDS, .. }))
}

/// Cuts `bytes` off the end of what sled wrote to its data file. The file itself is
/// longer: sled sizes it in whole segments, the rest zeros, so cutting the file's
/// last bytes would cut nothing written.
fn cut_data_file(dir: &Path, bytes: u64) {
    let path = dir.join("db");
    let written = std::fs::read(&path)
        .unwrap()
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |last| last as u64 + 1);
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(written - bytes).unwrap();
}

#[test]
fn given_an_untouched_copy_then_it_opens_whole_and_its_mark_names_the_head() {
    let copy = copy_of_fixture();
    let mark = read_mark(copy.path()).unwrap().unwrap();
    assert_eq!(mark.position, APPENDS);
    let log = Log::open(copy.path()).unwrap();
    assert_eq!(log.head().unwrap().unwrap().hash, mark.hash);
    drop(log);
    // Never on the fixture itself: opening sled rewrites its snapshot files while
    // other tests copy them.
    assert_eq!(verify_path(copy.path()).unwrap().events, APPENDS);
}

#[test]
fn given_the_data_file_cut_by_1_100_or_4096_bytes_then_open_and_verify_refuse() {
    for bytes in [1, 100, 4096] {
        let copy = copy_of_fixture();
        cut_data_file(copy.path(), bytes);
        let error = refused_or_whole(copy.path())
            .unwrap_or_else(|| panic!("a cut of {bytes} bytes went unnoticed"));
        println!("cut by {bytes}: refused: {error}");
        assert!(
            behind_mark(&error) || matches!(error, LogError::Storage(_)),
            "{error:?}"
        );
    }
}

#[test]
fn given_one_byte_flipped_in_the_last_record_then_open_refuses_with_what_is_missing() {
    let copy = copy_of_fixture();
    let path = copy.path().join("db");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(LAST_PAYLOAD.len())
        .rposition(|w| w == LAST_PAYLOAD)
        .expect("the last payload is in the data file");
    bytes[at + 5] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let error = refused_or_whole(copy.path()).expect("a flipped last record is noticed");
    assert!(behind_mark(&error), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("position 300") && text.contains("missing"),
        "{text}"
    );
}

#[test]
fn given_snapshot_files_deleted_then_it_never_opens_short() {
    let copy = copy_of_fixture();
    for entry in std::fs::read_dir(copy.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    if let Some(error) = refused_or_whole(copy.path()) {
        println!("snap.* deleted: refused: {error}");
    }
}

#[test]
fn given_the_sled_conf_file_deleted_then_it_never_opens_short() {
    let copy = copy_of_fixture();
    std::fs::remove_file(copy.path().join("conf")).unwrap();
    if let Some(error) = refused_or_whole(copy.path()) {
        println!("conf deleted: refused: {error}");
    }
}

#[test]
fn given_an_empty_log_under_a_mark_then_open_refuses() {
    // Every sled file gone but the mark kept: sled then opens an empty database.
    let copy = copy_of_fixture();
    for entry in std::fs::read_dir(copy.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|name| name == MARK_FILE) {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }
    let error = Log::open(copy.path()).expect_err("an empty log under a mark of 300");
    assert!(
        matches!(error, LogError::Corrupt(ref c) if matches!(c.reason, CorruptionReason::BehindMark { marked: APPENDS, actual: 0, .. })),
        "{error:?}"
    );
}

#[test]
fn given_the_mark_file_deleted_then_open_and_verify_refuse_a_log_that_holds_events() {
    let copy = copy_of_fixture();
    std::fs::remove_file(copy.path().join(MARK_FILE)).unwrap();
    let error = refused_or_whole(copy.path()).expect("a missing mark is refused");
    assert!(
        matches!(error, LogError::Corrupt(ref c) if c.reason == CorruptionReason::MarkMissing),
        "{error:?}"
    );
}

#[test]
fn given_a_mark_older_than_the_log_then_the_log_opens_whole_and_the_mark_catches_up() {
    // An older mark whose event is still there with its hash: the appends after it
    // were flushed by sled but their answers (and the mark's write) lost in a crash.
    // The log holds everything anyone was told, so it opens and the mark follows it.
    let copy = copy_of_fixture();
    let first = Log::open(copy.path())
        .unwrap()
        .read_all(1)
        .next()
        .unwrap()
        .unwrap();
    write_mark(copy.path(), 1, first.hash.0);
    assert_eq!(read_mark(copy.path()).unwrap().unwrap().position, 1);
    assert!(refused_or_whole(copy.path()).is_none());
    assert_eq!(read_mark(copy.path()).unwrap().unwrap().position, APPENDS);
}

#[test]
fn given_a_mark_whose_event_was_replaced_then_open_refuses_the_fork() {
    let copy = copy_of_fixture();
    write_mark(copy.path(), APPENDS, [0x5a; 32]);
    let error = refused_or_whole(copy.path()).expect("a forked mark is refused");
    assert!(
        matches!(error, LogError::Corrupt(ref c) if c.position == APPENDS && matches!(c.reason, CorruptionReason::MarkMismatch { .. })),
        "{error:?}"
    );
}
