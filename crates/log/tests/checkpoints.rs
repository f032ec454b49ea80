//! Kept checkpoints (issue 16, build 2): the log keeps the signed notes the runtime
//! gives it, by tree size, durably and beside its events, never past what is durable.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::ExpectedVersion;
use accord_log::{open_storage, stored_checkpoints, InvalidInput, LogError};
use accord_testkit::{event, metadata, stream, TempLog};

#[tokio::test]
async fn given_kept_checkpoints_when_the_log_is_reopened_then_they_read_back_by_size() {
    let mut temp = TempLog::new();
    let log = temp.log();
    for i in 0..3 {
        log.append(
            stream("commitment", "c1"),
            ExpectedVersion::Any,
            vec![event("Recorded", b"x")],
            metadata("ua-mod", i),
        )
        .await
        .unwrap();
    }
    assert_eq!(log.latest_checkpoint().unwrap(), None);
    for (size, note) in [(3, "three"), (1, "one"), (3, "three, cosigned")] {
        log.keep_checkpoint(size, note.as_bytes()).unwrap();
    }
    let past = log.keep_checkpoint(4, b"four");
    assert!(
        matches!(
            past,
            Err(LogError::InvalidInput(InvalidInput::OutOfTree(_)))
        ),
        "{past:?}"
    );

    let log = temp.reopen().unwrap();
    let kept: Vec<(u64, Vec<u8>)> = log.checkpoints().map(Result::unwrap).collect();
    assert_eq!(
        kept,
        vec![(1, b"one".to_vec()), (3, b"three, cosigned".to_vec())]
    );
    assert_eq!(
        log.latest_checkpoint().unwrap(),
        Some((3, b"three, cosigned".to_vec()))
    );
    assert_eq!(
        log.verify().unwrap().events,
        3,
        "checkpoints are not events"
    );
    temp.close();
    let db = open_storage(temp.path()).unwrap();
    assert_eq!(
        stored_checkpoints(&db).count(),
        2,
        "an auditor's copy reads them"
    );
}

#[tokio::test]
async fn given_an_empty_log_when_a_checkpoint_of_size_zero_is_kept_then_it_is() {
    let temp = TempLog::new();
    temp.log().keep_checkpoint(0, b"empty").unwrap();
    assert_eq!(
        temp.log().latest_checkpoint().unwrap(),
        Some((0, b"empty".to_vec()))
    );
}
