//! Restoring a lost log from copies of its envelopes, as a JetStream stream holds
//! them: the restored log opens with the same head, answers every command it held as
//! a duplicate, and a chain with a gap, a changed byte or a reordering is refused
//! without leaving a log behind.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::ExpectedVersion;
use accord_log::{encode_envelope, CorruptionReason, Log, LogError, Pushed, Restore, MARK_FILE};
use accord_testkit::{event, metadata, stream, TempLog};
use uuid::Uuid;

/// A closed log of 120 appends over 4 streams (every third carrying three events):
/// its directory, every envelope in order, and every command id.
fn original() -> (TempLog, Vec<Vec<u8>>, Vec<Uuid>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut log = TempLog::new();
    let mut commands = Vec::new();
    runtime.block_on(async {
        for i in 0..120i64 {
            let events = (0..if i % 3 == 0 { 3 } else { 1 })
                .map(|n| event("Recorded", format!("delivery {i}.{n}").as_bytes()))
                .collect();
            let metadata = metadata("ua-mod", i);
            commands.push(metadata.command_id);
            log.log()
                .append(
                    stream("commitment", &format!("c{}", i % 4)),
                    ExpectedVersion::Any,
                    events,
                    metadata,
                )
                .await
                .unwrap();
        }
    });
    let envelopes = log
        .log()
        .read_all(1)
        .map(|e| encode_envelope(&e.unwrap()))
        .collect();
    log.close();
    (log, envelopes, commands)
}

fn restore(target: &std::path::Path, envelopes: &[Vec<u8>]) -> Result<u64, LogError> {
    let mut restore = Restore::create(target)?;
    for envelope in envelopes {
        restore.push(envelope)?;
    }
    Ok(restore.finish("relay")?.events)
}

#[test]
fn given_every_envelope_when_restored_then_the_log_opens_with_the_same_head_and_knows_every_command(
) {
    let (mut original, envelopes, commands) = original();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("agreements");
    assert_eq!(restore(&target, &envelopes).unwrap(), 200);
    assert!(!dir.path().join("agreements.restoring").exists());
    let before = original.reopen().unwrap().head().unwrap();
    let restored = Log::open(&target).unwrap();
    assert_eq!(restored.head().unwrap(), before);
    assert_eq!(restored.cursor("relay").unwrap(), 200);
    for command in &commands {
        let outcome = restored.outcome_of(*command).unwrap();
        assert!(outcome.is_some(), "command {command} forgotten");
    }
    // And it goes on appending after the restored head.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let next = runtime
        .block_on(restored.append(
            stream("commitment", "c0"),
            ExpectedVersion::Exact(50),
            vec![event("Recorded", b"after the restore")],
            metadata("ua-mod", 500),
        ))
        .unwrap();
    assert_eq!(next.first_position, 201);
}

fn refused_at(envelopes: &[Vec<u8>]) -> (u64, CorruptionReason) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("agreements");
    let error = restore(&target, envelopes).unwrap_err();
    assert!(!target.join("db").exists(), "a log was left behind");
    assert!(!dir.path().join("agreements.restoring").exists());
    match error {
        LogError::Corrupt(c) => (c.position, c.reason),
        other => panic!("not a corruption: {other}"),
    }
}

#[test]
fn given_a_missing_envelope_then_the_restore_is_refused_at_the_gap() {
    let (_original, mut envelopes, _) = original();
    envelopes.remove(41);
    let (position, reason) = refused_at(&envelopes);
    assert_eq!(position, 42);
    assert_eq!(reason, CorruptionReason::Gap { next_stored: 43 });
}

#[test]
fn given_a_changed_byte_then_the_restore_is_refused_as_a_hash_mismatch() {
    let (_original, mut envelopes, _) = original();
    let payload = envelopes[99]
        .windows(8)
        .position(|w| w == b"delivery")
        .unwrap();
    envelopes[99][payload] ^= 0x20;
    let (position, reason) = refused_at(&envelopes);
    assert_eq!(position, 100);
    assert!(
        matches!(reason, CorruptionReason::HashMismatch { .. }),
        "{reason:?}"
    );
}

#[test]
fn given_two_swapped_envelopes_then_the_restore_is_refused() {
    let (_original, mut envelopes, _) = original();
    envelopes.swap(10, 11);
    let (position, reason) = refused_at(&envelopes);
    assert_eq!(position, 11);
    // Read in order, the envelope of 12 where 11 belongs looks like a gap first.
    assert!(
        matches!(
            reason,
            CorruptionReason::Gap { next_stored: 12 } | CorruptionReason::Misplaced { claimed: 12 }
        ),
        "{reason:?}"
    );
}

#[test]
fn given_a_directory_that_holds_a_log_then_the_restore_never_writes_over_it() {
    let (original, _, _) = original();
    let mark = std::fs::read(original.path().join(MARK_FILE)).unwrap();
    let error = Restore::create(original.path()).unwrap_err();
    assert!(error.to_string().contains("already holds a log"), "{error}");
    assert_eq!(
        std::fs::read(original.path().join(MARK_FILE)).unwrap(),
        mark
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = Restore::create(dir.path().join("x"))
        .unwrap()
        .finish("relay");
    let error = empty.unwrap_err().to_string();
    assert!(error.contains("nothing to restore"), "{error}");
}

#[test]
fn given_an_event_published_twice_then_the_copy_is_skipped_and_a_forged_copy_refused() {
    let (_original, mut envelopes, _) = original();
    // The relay published events 31..=40 again after a crash, past JetStream's
    // duplicate window.
    let again: Vec<_> = envelopes[30..40].to_vec();
    envelopes.splice(60..60, again);
    let dir = tempfile::tempdir().unwrap();
    let mut restore = Restore::create(dir.path().join("a")).unwrap();
    let pushed: Vec<_> = envelopes.iter().map(|e| restore.push(e).unwrap()).collect();
    assert_eq!(
        pushed.iter().filter(|p| **p == Pushed::Repeated).count(),
        10
    );
    assert_eq!(restore.finish("relay").unwrap().events, 200);

    let (_original, mut envelopes, _) = original();
    let mut forged = envelopes[30].clone();
    let at = forged.windows(8).position(|w| w == b"delivery").unwrap();
    forged[at] ^= 0x20;
    envelopes.insert(60, forged);
    let (position, reason) = refused_at(&envelopes);
    assert_eq!(position, 31);
    assert!(
        matches!(reason, CorruptionReason::HashMismatch { .. }),
        "{reason:?}"
    );
}
