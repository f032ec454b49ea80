//! Logs of realistic size for benchmarks and memory tests: many events, written fast.

use accord_contracts::v1 as pb;
use accord_kernel::ExpectedVersion;
use accord_log::{Log, LogError, NewEvent};
use prost::Message as _;

/// Events per append while filling: one group record of the log, one sync.
const PER_APPEND: u64 = 1_000;

/// Commitment streams the events are spread over.
const STREAMS: u64 = 1_000;

/// What [`fill_with_progress`] writes, for benchmark reports.
pub const FILL_DESCRIPTION: &str =
    "CommitmentProgressRecorded, 1,000 per append, each append on the next of streams c-0 to c-999";

/// Appends `events` `CommitmentProgressRecorded` events, 1,000 per append, each
/// append on the next commitment stream (`c-0`, `c-1`, … `c-999`, then `c-0` again),
/// as monthly progress reports would record them: 50,000 events touch 50 streams,
/// 1,000,000 touch all 1,000.
pub async fn fill_with_progress(log: &Log, events: u64) -> Result<(), LogError> {
    let mut appended = 0;
    let mut append = 0u64;
    while appended < events {
        let count = (events - appended).min(PER_APPEND);
        let stream = crate::stream("commitment", &format!("c-{}", append % STREAMS));
        let new_events = (0..count)
            .map(|i| progress_event(stream.id(), (appended + i) as i64))
            .collect();
        log.append(
            stream,
            ExpectedVersion::Any,
            new_events,
            crate::metadata("lt-mod", 1_735_689_600),
        )
        .await?;
        appended += count;
        append += 1;
    }
    Ok(())
}

/// What [`fill_one_per_command`] writes, for benchmark reports.
pub const ONE_PER_COMMAND_DESCRIPTION: &str =
    "CommitmentProgressRecorded, one per command (64 commands in flight), on streams c-0 to c-999";

/// Appends `events` `CommitmentProgressRecorded` events, each its own command (so
/// the log's command index has one entry per event), 64 appends in flight.
pub async fn fill_one_per_command(log: &Log, events: u64) -> Result<(), LogError> {
    const IN_FLIGHT: u64 = 64;
    let mut tasks = Vec::new();
    for lane in 0..IN_FLIGHT {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = lane;
            while n < events {
                let stream = crate::stream("commitment", &format!("c-{}", n % STREAMS));
                let event = progress_event(stream.id(), n as i64);
                log.append(
                    stream,
                    ExpectedVersion::Any,
                    vec![event],
                    crate::metadata("lt-mod", 1_735_689_600),
                )
                .await?;
                n += IN_FLIGHT;
            }
            Ok::<(), LogError>(())
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| LogError::Storage(format!("a filling task failed: {e}")))??;
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
            documents: Vec::new(),
        }
        .encode_to_vec(),
    }
}

/// Appends from `writers` tasks at once, each `appends` times on its own stream
/// (`commitment/<prefix>-<writer>`, expecting the version its last append left),
/// each append the events `batch` makes: many writers racing for the log's groups.
pub async fn append_from_writers(
    log: &Log,
    prefix: &str,
    writers: usize,
    appends: usize,
    batch: impl Fn() -> Vec<NewEvent> + Clone + Send + 'static,
) -> Result<(), LogError> {
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let (log, batch) = (log.clone(), batch.clone());
            let stream = crate::stream("commitment", &format!("{prefix}-{writer}"));
            tokio::spawn(async move {
                let mut version = 0;
                for _ in 0..appends {
                    let outcome = log
                        .append(
                            stream.clone(),
                            ExpectedVersion::Exact(version),
                            batch(),
                            crate::metadata("lt-mod", 1_735_689_600),
                        )
                        .await?;
                    version = outcome.last_version;
                }
                Ok::<_, LogError>(())
            })
        })
        .collect();
    for task in tasks {
        #[allow(clippy::expect_used)]
        task.await.expect("a writer task panicked")?;
    }
    Ok(())
}
