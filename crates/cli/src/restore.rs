//! `accord restore`: a service's lost log rebuilt from its JetStream stream, which
//! holds every event the relay published, as the stored envelope bytes. Every
//! envelope is checked as `audit verify` checks a stored one, in order; a gap, a
//! changed byte or a stream that no longer starts at position 1 refuses the restore
//! and writes nothing where the service would open it (see `accord_log::Restore`).

use std::path::Path;

use accord_bus::{BusError, NatsBus};
use accord_log::{LogError, Pushed, Restore, VerifyReport};
use accord_runtime::ServiceKind;

/// Why a restore did not happen. Nothing was left where the service opens its log.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("NATS holds no stream {0}: there is nothing to restore from")]
    NoStream(String),
    #[error("stream {0} is empty: there is nothing to restore from")]
    EmptyStream(String),
    #[error(
        "stream {stream} starts at position {first}: events 1 to {} are no longer on it \
         (a limit or a purge removed them), so the log cannot be rebuilt from it",
        first - 1
    )]
    StartsLate { stream: String, first: u64 },
    #[error("stream {stream}, message {sequence}: {error}; nothing was restored")]
    Refused {
        stream: String,
        sequence: u64,
        error: LogError,
    },
    #[error("stream {stream} ended at message {read} while it held {last} when the restore began")]
    EndedEarly {
        stream: String,
        read: u64,
        last: u64,
    },
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// How far a restore got: messages read, of the stream's last sequence number.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Rebuilds `service`'s log into `target` (which must hold no log) from its stream.
/// The report is the restored log's verification: its event count and head hash.
pub async fn restore(
    bus: &NatsBus,
    service: ServiceKind,
    target: &Path,
    progress: Progress<'_>,
) -> Result<VerifyReport, RestoreError> {
    let stream = accord_bus::RelayConfig::new(service.name()).stream_name();
    let (last, mut messages) = bus.read_stream(&stream).await.map_err(|e| match e {
        BusError::NoStream(name) => RestoreError::NoStream(name),
        other => other.into(),
    })?;
    if last == 0 {
        return Err(RestoreError::EmptyStream(stream));
    }
    let mut restore = Restore::create(target)?;
    let mut sequence = 0;
    while let Some(message) = messages.recv().await {
        let message = message?;
        sequence = message.sequence;
        let refused = |error| RestoreError::Refused {
            stream: stream.clone(),
            sequence,
            error,
        };
        match restore.push(&message.message.payload) {
            Ok(Pushed::Added | Pushed::Repeated) => {}
            Err(LogError::Corrupt(c))
                if restore.next_position() == 1
                    && matches!(c.reason, accord_log::CorruptionReason::Gap { .. }) =>
            {
                let first = match c.reason {
                    accord_log::CorruptionReason::Gap { next_stored } => next_stored,
                    _ => 0,
                };
                return Err(RestoreError::StartsLate { stream, first });
            }
            Err(error) => return Err(refused(error)),
        }
        if sequence % 10_000 == 0 {
            progress(sequence, last);
        }
        if sequence >= last {
            break;
        }
    }
    if sequence < last {
        return Err(RestoreError::EndedEarly {
            stream,
            read: sequence,
            last,
        });
    }
    progress(sequence, last);
    Ok(restore.finish(accord_bus::RELAY_CURSOR)?)
}
