//! Writes seed envelopes for the `envelope` fuzz target (see README, "Fuzzing"):
//! events as the log stores them, with and without causation, signature and
//! command digest, one file each.
//!
//! `cargo run -p accord-log --example fuzz_seeds -- fuzz/seeds/envelope`

use accord_kernel::{ExpectedVersion, StreamId, Timestamp};
use accord_log::{encode_envelope, AppendMetadata, Log, NewEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: fuzz_seeds OUTPUT_DIR")?;
    std::fs::create_dir_all(&out)?;
    let dir = tempfile::tempdir()?;
    let log = Log::open(dir.path())?;
    for i in 0..6u8 {
        let command_id = uuid::Uuid::now_v7();
        let metadata = AppendMetadata {
            actor: format!("lt-mod-{i}"),
            command_id,
            correlation_id: command_id,
            causation_id: (i % 2 == 1).then(uuid::Uuid::now_v7),
            occurred_at: Timestamp::new(1_732_600_000 + i64::from(i), i32::from(i) * 1000)?,
            signature: (i % 3 == 2).then(|| vec![i; 64]),
            command_digest: (i >= 3).then_some([i; 32]),
        };
        let stream = StreamId::new("commitment", format!("c-{}é", i % 2))?;
        let events = (0..=i % 2)
            .map(|n| NewEvent {
                event_type: "accord.v1.CommitmentProgressRecorded".into(),
                schema_version: 1,
                payload: vec![n; usize::from(i) * 7],
            })
            .collect();
        log.append(stream, ExpectedVersion::Any, events, metadata)
            .await?;
    }
    for event in log.read_all(1) {
        let event = event?;
        let path = std::path::Path::new(&out).join(format!("seed-{}", event.position));
        std::fs::write(path, encode_envelope(&event))?;
    }
    Ok(())
}
