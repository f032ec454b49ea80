//! Shared by the benchmarks of this package: a log of realistic events on disk.

#![allow(clippy::expect_used, clippy::unwrap_used, dead_code, unreachable_pub)]

use std::path::Path;

use accord_contracts::v1 as pb;
use accord_kernel::{ExpectedVersion, StreamId, Timestamp};
use accord_log::{AppendMetadata, Log, NewEvent};
use prost::Message as _;
use uuid::Uuid;

/// Appends `events` progress events over 1,000 commitments, 1,000 per append.
pub fn build_log(dir: &Path, events: u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let log = Log::open(dir).unwrap();
    runtime.block_on(async {
        let mut appended = 0;
        let mut batch = 0u64;
        while appended < events {
            let count = (events - appended).min(1_000);
            let stream = StreamId::new("commitment", format!("c-{}", batch % 1_000)).unwrap();
            let new_events = (0..count)
                .map(|i| NewEvent {
                    event_type: "accord.v1.CommitmentProgressRecorded".into(),
                    schema_version: 1,
                    payload: pb::CommitmentProgressRecorded {
                        commitment_id: stream.id().to_owned(),
                        allocated: Some(pb::Quantity {
                            amount: (appended + i) as i64,
                            unit: "shell".into(),
                        }),
                        delivered: None,
                        reason: "monthly production report".into(),
                    }
                    .encode_to_vec(),
                })
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
                    occurred_at: Timestamp::new(1_735_689_600, 0).unwrap(),
                    signature: None,
                },
            )
            .await
            .unwrap();
            appended += count;
            batch += 1;
        }
    });
}
