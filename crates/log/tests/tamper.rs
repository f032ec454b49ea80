//! Tamper evidence: any change to stored events is found by `verify` at the right
//! position with the right reason, and a log whose head is inconsistent is not opened.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::OnceLock;

use accord_log::{
    compute_hash, decode_envelope, encode_envelope, open_storage, verify_path, CorruptionReason,
    Log, LogError,
};
use accord_testkit::tamper::{
    closed_log, copy_dir, envelope, locate, read_records, record_key, set_envelope, set_head_hash,
    tamper,
};
use accord_testkit::{event, metadata, stream};
use proptest::prelude::*;

const EVENTS: u64 = 24;

/// A closed log of 24 events over three streams, built once and copied per case.
fn fixture() -> &'static Path {
    static FIXTURE: OnceLock<std::path::PathBuf> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        closed_log((0..EVENTS / 2).map(|i| {
            let payload = format!("progress {i}: 100 shells delivered");
            (
                stream("commitment", &format!("c{}", i % 3)),
                vec![event("Recorded", payload.as_bytes()), event("Noted", b"")],
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
            // Flip a byte of the event's stored bytes: its length prefix or its envelope.
            let db = open_storage(copy.path()).unwrap();
            let records = read_records(&db);
            let (r, i) = locate(&records, position);
            let key = record_key(records[r].0);
            let mut value = db.get(&key).unwrap().unwrap().to_vec();
            let start: usize = records[r].1[..i].iter().map(|e| 4 + e.len()).sum();
            let at = start + offset.index(4 + records[r].1[i].len());
            value[at] ^= mask;
            db.insert(key, value).unwrap();
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
    for position in [9, 10] {
        // 9 is the first event of its record, 10 the last.
        let copy = copy_of_fixture();
        tamper(copy.path(), |records| {
            let (r, i) = locate(records, position);
            records[r].1.remove(i);
        });
        assert_eq!(
            corruption(copy.path()),
            (
                position,
                CorruptionReason::Gap {
                    next_stored: position + 1
                }
            )
        );
    }
}

#[test]
fn given_two_swapped_events_then_verify_reports_the_first_as_misplaced() {
    let copy = copy_of_fixture();
    tamper(copy.path(), |records| {
        let (a, b) = (envelope(records, 5), envelope(records, 17));
        set_envelope(records, 5, b);
        set_envelope(records, 17, a);
    });
    assert_eq!(
        corruption(copy.path()),
        (5, CorruptionReason::Misplaced { claimed: 17 })
    );
    // Neighbours in one record, too.
    let copy = copy_of_fixture();
    tamper(copy.path(), |records| {
        let (a, b) = (envelope(records, 7), envelope(records, 8));
        set_envelope(records, 7, b);
        set_envelope(records, 8, a);
    });
    assert_eq!(
        corruption(copy.path()),
        (7, CorruptionReason::Misplaced { claimed: 8 })
    );
}

#[test]
fn given_a_rewritten_event_with_a_recomputed_hash_then_the_next_link_breaks() {
    let copy = copy_of_fixture();
    tamper(copy.path(), |records| {
        let mut forged = decode_envelope(&envelope(records, 12)).unwrap();
        forged.payload = b"progress: 100000 shells delivered".to_vec();
        forged.hash = compute_hash(&forged);
        set_envelope(records, 12, encode_envelope(&forged));
    });
    let (at, reason) = corruption(copy.path());
    assert_eq!(at, 13);
    assert!(
        matches!(reason, CorruptionReason::BrokenLink { .. }),
        "{reason:?}"
    );
}

#[test]
fn given_a_changed_event_and_a_later_broken_link_then_verify_reports_the_earlier_change() {
    // Given event 5's payload changed (its hash left as it was), and event 18
    // rewritten with its hash recomputed, so event 19's link breaks
    let copy = copy_of_fixture();
    tamper(copy.path(), |records| {
        let mut changed = decode_envelope(&envelope(records, 5)).unwrap();
        changed.payload = b"progress: 0 shells delivered".to_vec();
        set_envelope(records, 5, encode_envelope(&changed));
        let mut forged = decode_envelope(&envelope(records, 18)).unwrap();
        forged.payload = b"progress: 100000 shells delivered".to_vec();
        forged.hash = compute_hash(&forged);
        set_envelope(records, 18, encode_envelope(&forged));
    });
    // When verified (the events hashed on a thread behind the walk, which meets
    // the broken link first), then the first damage is the one reported
    let (at, reason) = corruption(copy.path());
    assert_eq!(at, 5);
    assert!(
        matches!(reason, CorruptionReason::HashMismatch { .. }),
        "{reason:?}"
    );
}

#[test]
fn given_a_skipped_stream_version_rechained_to_the_end_then_verify_reports_the_jump() {
    let copy = copy_of_fixture();
    let mut forged_hash = [0; 32];
    tamper(copy.path(), |records| {
        // A forger who recomputes every hash after the change still cannot hide a
        // version that skips.
        let mut forged = decode_envelope(&envelope(records, EVENTS)).unwrap();
        forged.version += 1;
        forged.hash = compute_hash(&forged);
        forged_hash = forged.hash.0;
        set_envelope(records, EVENTS, encode_envelope(&forged));
    });
    set_head_hash(copy.path(), forged_hash);
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
    tamper(copy.path(), |records| {
        for position in (EVENTS - 2..=EVENTS).rev() {
            let (r, i) = locate(records, position);
            records[r].1.remove(i);
        }
    });
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
    tamper(copy.path(), |records| {
        let mut forged = decode_envelope(&envelope(records, EVENTS)).unwrap();
        forged.actor = "someone-else".into();
        set_envelope(records, EVENTS, encode_envelope(&forged));
    });
    let err = Log::open(copy.path()).unwrap_err();
    assert!(
        err.to_string().contains("log corrupt at position 24"),
        "{err}"
    );
}

#[test]
fn given_a_deleted_record_then_verify_reports_the_gap_and_open_refuses() {
    let copy = copy_of_fixture();
    tamper(copy.path(), |records| {
        let (r, _) = locate(records, 11);
        records.remove(r);
    });
    // Each append of the fixture is one record: events 11 and 12 went together.
    assert_eq!(
        corruption(copy.path()),
        (11, CorruptionReason::Gap { next_stored: 13 })
    );
    assert!(matches!(Log::open(copy.path()), Err(LogError::Corrupt(_))));
}
