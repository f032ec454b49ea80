//! The vendored sled writes a new segment of its data file ahead, in the background
//! (`vendor/sled/ACCORD-PATCH.md`, item 3). When writes outrun it, it must stop
//! before sled writes into that segment, or its zeros would land on live data.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

#[test]
fn given_writes_that_outrun_the_segment_written_ahead_then_every_value_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB segments written ahead 128 KiB per 200 ms: any segment written ahead is
    // still being written when the writes below reach it.
    let config = || {
        sled::Config::new()
            .path(dir.path())
            .segment_size(1 << 20)
            .prefill_pause_ms(200)
    };
    let value = vec![0xa5_u8; 60 * 1024];
    let db = config().open().unwrap();
    for key in 0_u32..200 {
        db.insert(key.to_be_bytes(), value.clone()).unwrap();
    }
    db.flush().unwrap();
    // Long enough for a prefill left running to write two more chunks.
    std::thread::sleep(Duration::from_millis(500));
    drop(db);

    let db = config().open().unwrap();
    for key in 0_u32..200 {
        let stored = db.get(key.to_be_bytes()).unwrap();
        assert_eq!(
            stored.as_deref(),
            Some(&value[..]),
            "value {key} after reopening"
        );
    }
}
