//! Tamper evidence: any change to stored events is found by `verify` at the right
//! position with the right reason, and a log whose head is inconsistent is not opened.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::OnceLock;

use accord_kernel::ExpectedVersion;
use accord_log::{
    compute_hash, decode_envelope, encode_envelope, open_storage, verify_path, CorruptionReason,
    Log, LogError,
};
use accord_testkit::{event, metadata, stream, TempLog};
use proptest::prelude::*;

const EVENTS: u64 = 24;

/// A closed log of 24 events over three streams, built once and copied per case.
fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<std::path::PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut log = TempLog::new();
        runtime.block_on(async {
            for i in 0..EVENTS / 2 {
                let s = stream("commitment", &format!("c{}", i % 3));
                let payload = format!("progress {i}: 100 shells delivered");
                log.log()
                    .append(
                        s,
                        ExpectedVersion::Any,
                        vec![event("Recorded", payload.as_bytes()), event("Noted", b"")],
                        metadata("ua-mod", i as i64),
                    )
                    .await
                    .unwrap();
            }
        });
        log.close();
        log.keep()
    })
}

fn copy_of_fixture() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(fixture(), copy.path());
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn event_key(position: u64) -> Vec<u8> {
    let mut key = vec![b'e'];
    key.extend_from_slice(&position.to_be_bytes());
    key
}

fn corruption(dir: &Path) -> (u64, CorruptionReason) {
    match verify_path(dir) {
        Err(LogError::Corrupt(c)) => (c.position, c.reason),
        other => panic!("expected corruption, got {other:?}"),
    }
}

#[test]
fn given_an_untouched_copy_then_verify_passes_and_it_opens() {
    let copy = copy_of_fixture();
    let report = verify_path(copy.path()).unwrap();
    assert_eq!((report.events, report.streams), (EVENTS, 3));
    let log = Log::open(copy.path()).unwrap();
    assert_eq!(log.verify().unwrap(), report);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn given_one_flipped_byte_in_any_event_then_verify_reports_that_position(
        position in 1..=EVENTS,
        offset in any::<prop::sample::Index>(),
        mask in 1u8..,
    ) {
        let copy = copy_of_fixture();
        {
            let db = open_storage(copy.path()).unwrap();
            let mut bytes = db.get(event_key(position)).unwrap().unwrap().to_vec();
            let at = offset.index(bytes.len());
            bytes[at] ^= mask;
            db.insert(event_key(position), bytes).unwrap();
            db.flush().unwrap();
        }
        let (at, reason) = corruption(copy.path());
        prop_assert_eq!(at, position);
        prop_assert!(
            matches!(
                reason,
                CorruptionReason::HashMismatch { .. }
                    | CorruptionReason::Undecodable(_)
                    | CorruptionReason::NotCanonical
            ),
            "{:?}",
            reason
        );
    }
}

#[test]
fn given_a_deleted_event_then_verify_reports_a_gap_at_its_position() {
    let copy = copy_of_fixture();
    {
        let db = open_storage(copy.path()).unwrap();
        db.remove(event_key(9)).unwrap();
        db.flush().unwrap();
    }
    assert_eq!(
        corruption(copy.path()),
        (9, CorruptionReason::Gap { next_stored: 10 })
    );
}

#[test]
fn given_two_swapped_events_then_verify_reports_the_first_as_misplaced() {
    let copy = copy_of_fixture();
    {
        let db = open_storage(copy.path()).unwrap();
        let a = db.get(event_key(5)).unwrap().unwrap();
        let b = db.get(event_key(17)).unwrap().unwrap();
        db.insert(event_key(5), b).unwrap();
        db.insert(event_key(17), a).unwrap();
        db.flush().unwrap();
    }
    assert_eq!(
        corruption(copy.path()),
        (5, CorruptionReason::Misplaced { claimed: 17 })
    );
}

#[test]
fn given_a_rewritten_event_with_a_recomputed_hash_then_the_next_link_breaks() {
    let copy = copy_of_fixture();
    {
        let db = open_storage(copy.path()).unwrap();
        let mut forged = decode_envelope(&db.get(event_key(12)).unwrap().unwrap()).unwrap();
        forged.payload = b"progress: 100000 shells delivered".to_vec();
        forged.hash = compute_hash(&forged);
        db.insert(event_key(12), encode_envelope(&forged)).unwrap();
        db.flush().unwrap();
    }
    let (at, reason) = corruption(copy.path());
    assert_eq!(at, 13);
    assert!(
        matches!(reason, CorruptionReason::BrokenLink { .. }),
        "{reason:?}"
    );
}

#[test]
fn given_a_skipped_stream_version_rechained_to_the_end_then_verify_reports_the_jump() {
    let copy = copy_of_fixture();
    {
        // A forger who recomputes every hash after the change still cannot hide a
        // version that skips.
        let db = open_storage(copy.path()).unwrap();
        let mut forged = decode_envelope(&db.get(event_key(EVENTS)).unwrap().unwrap()).unwrap();
        forged.version += 1;
        forged.hash = compute_hash(&forged);
        db.insert(event_key(EVENTS), encode_envelope(&forged))
            .unwrap();
        let mut head = db.get(b"h").unwrap().unwrap().to_vec();
        head[8..40].copy_from_slice(&forged.hash.0);
        db.insert(b"h", head).unwrap();
        db.flush().unwrap();
    }
    let (at, reason) = corruption(copy.path());
    assert_eq!(at, EVENTS);
    assert!(
        matches!(reason, CorruptionReason::VersionJump { previous, found, .. } if found == previous + 2),
        "{reason:?}"
    );
}

#[test]
fn given_a_truncated_tail_then_verify_reports_it_and_open_refuses() {
    let copy = copy_of_fixture();
    {
        let db = open_storage(copy.path()).unwrap();
        for position in EVENTS - 2..=EVENTS {
            db.remove(event_key(position)).unwrap();
        }
        db.flush().unwrap();
    }
    let (at, reason) = corruption(copy.path());
    assert_eq!(at, EVENTS);
    assert!(
        matches!(reason, CorruptionReason::HeadMismatch { recorded: EVENTS, actual, .. } if actual == EVENTS - 3),
        "{reason:?}"
    );
    let err = Log::open(copy.path()).unwrap_err();
    assert!(
        matches!(err, LogError::Corrupt(ref c) if matches!(c.reason, CorruptionReason::HeadMismatch { .. })),
        "{err:?}"
    );
}

#[test]
fn given_a_tampered_last_event_then_open_refuses_with_a_clear_error() {
    let copy = copy_of_fixture();
    {
        let db = open_storage(copy.path()).unwrap();
        let mut forged = decode_envelope(&db.get(event_key(EVENTS)).unwrap().unwrap()).unwrap();
        forged.actor = "someone-else".into();
        db.insert(event_key(EVENTS), encode_envelope(&forged))
            .unwrap();
        db.flush().unwrap();
    }
    let err = Log::open(copy.path()).unwrap_err();
    assert!(
        err.to_string().contains("log corrupt at position 24"),
        "{err}"
    );
}
