//! Logs of realistic size for benchmarks and memory tests: many events, written fast.

use accord_contracts::v1 as pb;
use accord_kernel::{ExpectedVersion, StreamId, Timestamp};
use accord_log::{AppendMetadata, Log, LogError, NewEvent};
use prost::Message as _;
use uuid::Uuid;

/// Events per append while filling: one group record of the log, one sync.
const PER_APPEND: u64 = 1_000;

/// Appends `events` `CommitmentProgressRecorded` events spread over `streams`
/// commitment streams (`c-0`, `c-1`, …), 1,000 per append, as a monthly progress
/// report would record them.
pub async fn fill_with_progress(log: &Log, events: u64, streams: u64) -> Result<(), LogError> {
    let mut appended = 0;
    let mut append = 0u64;
    while appended < events {
        let count = (events - appended).min(PER_APPEND);
        // A fixed category and a short ASCII id: always a valid stream.
        #[allow(clippy::expect_used)]
        let stream = StreamId::new("commitment", format!("c-{}", append % streams.max(1)))
            .expect("valid stream id");
        let new_events = (0..count)
            .map(|i| progress_event(stream.id(), (appended + i) as i64))
            .collect();
        let command_id = Uuid::now_v7();
        log.append(
            stream,
            ExpectedVersion::Any,
            new_events,
            AppendMetadata {
                actor: "lt-mod".into(),
                command_id,
                correlation_id: command_id,
                causation_id: None,
                occurred_at: Timestamp::new(1_735_689_600, 0).unwrap_or(Timestamp::UNIX_EPOCH),
                signature: None,
            },
        )
        .await?;
        appended += count;
        append += 1;
    }
    Ok(())
}

/// A `CommitmentProgressRecorded` event: `allocated` shells on commitment `id`.
pub fn progress_event(id: &str, allocated: i64) -> NewEvent {
    NewEvent {
        event_type: "accord.v1.CommitmentProgressRecorded".into(),
        schema_version: 1,
        payload: pb::CommitmentProgressRecorded {
            commitment_id: id.to_owned(),
            allocated: Some(pb::Quantity {
                amount: allocated,
                unit: "shell".into(),
            }),
            delivered: None,
            reason: "monthly production report".into(),
        }
        .encode_to_vec(),
    }
}
