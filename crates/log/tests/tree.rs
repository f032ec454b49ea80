//! The log's Merkle tree (issue 16, build 1): one leaf per event (its hash), kept as
//! tiles in the same batches as the events; roots and proofs of any earlier size
//! from stored hashes; durable across reopening; rebuilt for a log without one;
//! checked on open and, tile by tile, by `verify`.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_evidence::merkle::{
    leaf_hash, root_from_scratch, verify_consistency, verify_inclusion, Hash,
};
use accord_kernel::ExpectedVersion;
use accord_log::{
    open_storage, verify_path, CorruptionReason, InvalidInput, Log, LogConfig, LogError,
};
use accord_testkit::{event, metadata, stream, TempLog};

/// Appends `appends` appends of 1 to 3 events each, many at once so that they
/// share group commits.
async fn fill(log: &Log, appends: u64, from: u64) {
    let mut tasks = Vec::new();
    for i in from..from + appends {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let events = (0..=i % 3)
                .map(|k| event("Recorded", format!("{i}/{k}").as_bytes()))
                .collect();
            log.append(
                stream("commitment", &format!("c{}", i % 7)),
                ExpectedVersion::Any,
                events,
                metadata("ua-mod", i as i64),
            )
            .await
            .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// The tree's leaves as anyone can compute them: the hash of each event, in order.
fn leaves(log: &Log) -> Vec<Hash> {
    log.read_all(1)
        .map(|event| leaf_hash(&event.unwrap().hash.0))
        .collect()
}

fn check_every_size(log: &Log, leaves: &[Hash]) {
    let n = leaves.len() as u64;
    let whole = root_from_scratch(leaves);
    assert_eq!(log.tree_root(n).unwrap(), whole);
    for size in (1..=n).step_by(37).chain([n]) {
        let at = root_from_scratch(&leaves[..size as usize]);
        assert_eq!(log.tree_root(size).unwrap(), at, "size {size}");
        let position = 1 + (size.wrapping_mul(0x9e37_79b9) >> 7) % size;
        let path = log.inclusion_proof(position, size).unwrap();
        assert_eq!(
            verify_inclusion(
                position - 1,
                size,
                &leaves[position as usize - 1],
                &path,
                &at
            ),
            Ok(())
        );
        let proof = log.consistency_proof(size, n).unwrap();
        assert_eq!(verify_consistency(size, n, &proof, &at, &whole), Ok(()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_appends_in_groups_then_roots_and_proofs_of_every_size_match_the_events() {
    // Given a log of concurrent appends (several hundred events, many groups)
    let mut log = TempLog::new();
    fill(log.log(), 300, 0).await;
    let before = leaves(log.log());
    assert_eq!(before.len(), 600);
    assert!(log.log().stats().groups < 300, "appends shared groups");
    // Then every root and proof is the one computed from the events alone
    check_every_size(log.log(), &before);
    // And after reopening, the tree goes on growing from where it was
    log.reopen().unwrap();
    assert_eq!(
        log.log().tree_root(600).unwrap(),
        root_from_scratch(&before)
    );
    fill(log.log(), 100, 300).await;
    let after = leaves(log.log());
    assert_eq!(&after[..600], &before[..]);
    check_every_size(log.log(), &after);
    log.close();
    assert_eq!(verify_path(log.path()).unwrap().events, after.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_sizes_the_log_does_not_hold_then_refused_with_a_typed_error() {
    let log = TempLog::new();
    fill(log.log(), 3, 0).await;
    let size = log.log().durable_position();
    for error in [
        log.log().tree_root(size + 1).unwrap_err(),
        log.log().inclusion_proof(size + 1, size + 1).unwrap_err(),
        log.log().inclusion_proof(0, size).unwrap_err(),
        log.log().consistency_proof(0, size).unwrap_err(),
        log.log().consistency_proof(size, size + 1).unwrap_err(),
    ] {
        assert!(
            matches!(error, LogError::InvalidInput(InvalidInput::OutOfTree(_))),
            "{error:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_log_without_its_tree_when_opened_then_the_tree_is_built_from_its_events() {
    // Given a log written without its tree (as before trees existed)
    let off = LogConfig {
        merkle_tree: false,
        ..LogConfig::default()
    };
    let mut log = TempLog::with_config(off);
    fill(log.log(), 200, 0).await;
    assert!(log.log().durable_position() >= 256);
    assert!(log.log().tree_root(1).is_err());
    log.close();
    assert!(matches!(
        verify_path(log.path()),
        Err(LogError::Corrupt(ref c)) if matches!(c.reason, CorruptionReason::TreeMismatch { level: 1, index: 0, .. })
    ));
    // When it is opened with the tree kept
    let reopened = Log::open(log.path()).unwrap();
    // Then the tree is there, right, and verifies
    let leaves = leaves(&reopened);
    check_every_size(&reopened, &leaves);
    fill(&reopened, 50, 200).await;
    let leaves_after = self::leaves(&reopened);
    check_every_size(&reopened, &leaves_after);
    drop(reopened);
    assert!(verify_path(log.path()).is_ok());
}

/// A closed log of `events` events, appended 64 at a time.
async fn closed_log(events: u64) -> TempLog {
    let mut log = TempLog::new();
    for i in 0..events / 64 {
        let batch = (0..64)
            .map(|k| event("Recorded", format!("{i}/{k}").as_bytes()))
            .collect();
        log.log()
            .append(
                stream("commitment", &format!("c{}", i % 5)),
                ExpectedVersion::Any,
                batch,
                metadata("ua-mod", i as i64),
            )
            .await
            .unwrap();
    }
    assert_eq!(log.log().durable_position(), events / 64 * 64);
    log.close();
    log
}

fn change_tile(dir: &std::path::Path, key: &[u8], change: impl FnOnce(&mut Vec<u8>)) {
    let db = open_storage(dir).unwrap();
    let mut bytes = db.get(key).unwrap().expect("tile stored").to_vec();
    change(&mut bytes);
    db.insert(key, bytes).unwrap();
    db.flush().unwrap();
}

fn tile_key(level: u8, index: u64) -> Vec<u8> {
    let mut key = vec![b't', level];
    key.extend_from_slice(&index.to_be_bytes());
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_log_of_a_full_level_one_tile_then_only_tiles_above_the_leaves_are_stored() {
    // 65,536 events fill tile 1/0 (the roots of 256 leaf tiles); 64 more start 1/1.
    let log = closed_log(65_536 + 64).await;
    let db = open_storage(log.path()).unwrap();
    let mut tiles: Vec<(u8, u64, usize)> = db
        .scan_prefix(b"t")
        .map(|entry| {
            let (key, value) = entry.unwrap();
            let index = u64::from_be_bytes(key[2..10].try_into().unwrap());
            (key[1], index, value.len() / 32)
        })
        .collect();
    tiles.sort_unstable();
    assert_eq!(tiles, vec![(1, 0, 256), (2, 0, 1)]);
    drop(db);
    assert_eq!(verify_path(log.path()).unwrap().events, 65_600);
    // And a changed hash in that full tile is found by verify, at the first event
    // the tile covers
    change_tile(log.path(), &tile_key(1, 0), |bytes| bytes[100] ^= 1);
    match verify_path(log.path()) {
        Err(LogError::Corrupt(c)) => {
            assert_eq!(c.position, 1);
            assert!(
                matches!(c.reason, CorruptionReason::TreeMismatch { level: 1, index: 0, ref problem } if problem.contains("other hashes")),
                "{c:?}"
            );
        }
        other => panic!("expected a tree mismatch, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_changed_or_cut_edge_tile_then_the_log_does_not_open_and_verify_names_it() {
    for change in [
        (|bytes: &mut Vec<u8>| {
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
        }) as fn(&mut Vec<u8>),
        |bytes: &mut Vec<u8>| bytes.truncate(bytes.len() - 32),
    ] {
        // 640 events: tile 1/0 holds the roots of the two full leaf tiles.
        let log = closed_log(640).await;
        change_tile(log.path(), &tile_key(1, 0), change);
        let error = Log::open(log.path()).unwrap_err();
        assert!(
            matches!(error, LogError::Corrupt(ref c) if c.position == 1 && matches!(c.reason, CorruptionReason::TreeMismatch { level: 1, index: 0, .. })),
            "{error:?}"
        );
        let found = verify_path(log.path());
        assert!(
            matches!(found, Err(LogError::Corrupt(ref c)) if c.position == 1 && matches!(c.reason, CorruptionReason::TreeMismatch { level: 1, index: 0, .. })),
            "{found:?}"
        );
    }
}
