use accord_kernel::{EventHash, ExpectedVersion, StreamId, StreamIdError};
use uuid::Uuid;

/// Everything that can go wrong in the log. Callers match on variants.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The stream was not at the expected version; nothing was appended.
    #[error("stream {stream} is at version {actual}, expected {expected}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// The command id was already used for an append to another stream.
    #[error("command {command_id} was already appended to stream {original_stream}")]
    CommandIdReused {
        command_id: Uuid,
        original_stream: StreamId,
    },
    /// The command id was already used for another command (its digest differs):
    /// a reused id, not a retry. Nothing was appended.
    #[error("command {command_id} was already used for another command (its body, actor or subject differ)")]
    CommandIdPayloadMismatch { command_id: Uuid },
    /// The request itself is unacceptable; nothing was appended.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// The stored log is inconsistent; it is never repaired silently.
    #[error(transparent)]
    Corrupt(#[from] Corruption),
    /// The storage layer failed. After a failed write or sync the log refuses further
    /// appends until it is reopened, because what reached the disk is then unknown.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The disk holding the log is full (or over quota); nothing was acknowledged.
    /// Like any failed write, the log refuses further appends until it is reopened.
    #[error("the log's disk is full: {0}")]
    StorageFull(String),
    /// Another process (or another open handle) has this log open.
    #[error("log in {0} is in use by another process")]
    Locked(String),
    /// The log is closed, or failed earlier and must be reopened.
    #[error("log is closed")]
    Closed,
}

impl From<sled::Error> for LogError {
    fn from(error: sled::Error) -> Self {
        match error {
            // sled's own text for these is the io::Error's Debug form.
            sled::Error::Io(error) => error.into(),
            sled::Error::Corruption { .. } => LogError::Storage(
                "sled found its data file damaged (cut or overwritten); restore the log's \
                 directory from a backup (see README, \"recovery\")"
                    .into(),
            ),
            other => LogError::Storage(other.to_string()),
        }
    }
}

impl From<std::io::Error> for LogError {
    fn from(error: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match error.kind() {
            // sled wraps the OS error's Debug text into a new error; the kind is
            // what counts.
            ErrorKind::StorageFull => LogError::StorageFull("no space left on device".into()),
            ErrorKind::QuotaExceeded => LogError::StorageFull("disk quota exceeded".into()),
            _ => LogError::Storage(error.to_string()),
        }
    }
}

/// Whether the log failed, and why: set once by the writer or the syncer when a
/// write or sync fails; from then on the log takes no appends until reopened, and
/// each is refused with the first failure (e.g. a full disk), not a bare "closed".
#[derive(Debug, Default)]
pub(crate) struct Failure {
    failed: std::sync::atomic::AtomicBool,
    cause: std::sync::OnceLock<LogError>,
}

impl Failure {
    pub(crate) fn fail(&self, cause: &LogError) {
        let _ = self.cause.set(cause.for_each_caller());
        self.failed
            .store(true, std::sync::atomic::Ordering::Release);
    }

    pub(crate) fn is_failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// What an append is refused with once the log failed.
    pub(crate) fn refusal(&self) -> LogError {
        self.cause
            .get()
            .map_or(LogError::Closed, LogError::for_each_caller)
    }
}

impl LogError {
    /// The same failure for every append one failed write or sync answers.
    pub(crate) fn for_each_caller(&self) -> LogError {
        match self {
            LogError::StorageFull(message) => LogError::StorageFull(message.clone()),
            LogError::Closed => LogError::Closed,
            LogError::Storage(message) => LogError::Storage(message.clone()),
            other => LogError::Storage(other.to_string()),
        }
    }
}

/// Why an append or a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("an append needs at least one event")]
    NoEvents,
    #[error("an append may carry at most {max} events, got {count}")]
    TooManyEvents { count: usize, max: usize },
    #[error("event {index} is {size} bytes, the limit is {max}")]
    EventTooLarge {
        index: usize,
        size: usize,
        max: usize,
    },
    #[error("event {index} has an invalid event type {event_type:?}")]
    EventType { index: usize, event_type: String },
    #[error("actor must be 1 to 256 bytes, got {0:?}")]
    Actor(String),
    #[error(transparent)]
    Stream(#[from] StreamIdError),
    #[error("setting {name} {reason}")]
    Setting { name: &'static str, reason: String },
    /// A Merkle root or proof was asked for sizes or positions the log does not hold.
    #[error("{0}")]
    OutOfTree(String),
}

/// The first inconsistency found in a stored log, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log corrupt at position {position}: {reason}")]
pub struct Corruption {
    pub position: u64,
    pub reason: CorruptionReason,
}

/// What exactly is wrong at a [`Corruption`]'s position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorruptionReason {
    /// The stored bytes are not an envelope.
    #[error("event does not decode: {0}")]
    Undecodable(String),
    /// The stored bytes decode, but are not the encoding the log wrote.
    #[error("stored bytes are not the canonical encoding of the event")]
    NotCanonical,
    /// The event's content does not hash to its stored hash: it was altered.
    #[error("hash mismatch: stored {stored}, computed {computed}")]
    HashMismatch {
        stored: EventHash,
        computed: EventHash,
    },
    /// The event's prev_hash is not the previous event's hash.
    #[error("broken link: prev_hash {found}, previous event's hash {expected}")]
    BrokenLink {
        expected: EventHash,
        found: EventHash,
    },
    /// No event is stored at this position, but a later one is.
    #[error("gap: position missing, next stored position is {next_stored}")]
    Gap { next_stored: u64 },
    /// The event stored here says it belongs at another position (reordered).
    #[error("event stored here belongs at position {claimed}")]
    Misplaced { claimed: u64 },
    /// The stream version does not follow the stream's previous event.
    #[error("stream {stream} jumps from version {previous} to {found}")]
    VersionJump {
        stream: StreamId,
        previous: u64,
        found: u64,
    },
    /// recorded_at is earlier than the previous event's.
    #[error("recorded_at goes back in time")]
    RecordedAtWentBack,
    /// The head record disagrees with the last stored event (truncation, or events
    /// added or removed behind the log's back).
    #[error("head record says position {recorded} hash {recorded_hash}, log ends at {actual}")]
    HeadMismatch {
        recorded: u64,
        recorded_hash: EventHash,
        actual: u64,
    },
    /// The log ends before the high-water mark: acknowledged events are missing (a
    /// cut or damaged data file that sled recovered to an earlier state).
    #[error(
        "the log ends at position {actual}, but position {marked} (hash {marked_hash}) was \
         acknowledged: events {} to {marked} are missing; restore the log's \
         directory from a backup (see README, \"recovery\")",
        actual + 1
    )]
    BehindMark {
        marked: u64,
        marked_hash: EventHash,
        actual: u64,
    },
    /// The event at the high-water mark is not the one that was acknowledged there:
    /// history was rewritten or forked after that point.
    #[error("the event at the high-water mark has hash {stored}, but {marked_hash} was acknowledged there")]
    MarkMismatch {
        marked_hash: EventHash,
        stored: EventHash,
    },
    /// The log holds events but its high-water mark file (`accord-mark`) is gone, so
    /// nothing shows whether its tail was cut.
    #[error(
        "the log holds events but its high-water mark file (accord-mark) is missing; \
         restore the directory whole, or restore the log from its stream"
    )]
    MarkMissing,
    /// The high-water mark file exists but neither of its slots is readable.
    #[error("the high-water mark file (accord-mark) has no readable slot")]
    MarkUnreadable,
    /// A key in the log's tree has an unknown shape.
    #[error("malformed key {0:?}")]
    MalformedKey(Vec<u8>),
    /// The log's Merkle tree (its stored tiles, see `keys`) does not match its
    /// events: a tile is missing, short, or holds other hashes than the events give.
    /// The position is the first event the tile covers.
    #[error("Merkle tree tile {level}/{index} {problem}")]
    TreeMismatch {
        level: u32,
        index: u64,
        problem: String,
    },
}

/// A corruption found at `position`.
pub(crate) fn corrupt(position: u64, reason: CorruptionReason) -> LogError {
    LogError::Corrupt(Corruption { position, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_full_disk_then_the_error_is_typed_and_reads_without_debug_text() {
        let from_io = LogError::from(std::io::Error::from_raw_os_error(28));
        let from_sled = LogError::from(sled::Error::Io(std::io::Error::from_raw_os_error(28)));
        // What sled really returns: the OS error's Debug text wrapped into a new one.
        let wrapped = LogError::from(sled::Error::Io(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!("{:?}", std::io::Error::from_raw_os_error(28)),
        )));
        for error in [from_io, from_sled, wrapped] {
            assert!(matches!(error, LogError::StorageFull(_)), "{error:?}");
            let text = error.to_string();
            assert_eq!(text, "the log's disk is full: no space left on device");
            assert_eq!(error.for_each_caller().to_string(), text);
        }
    }

    #[test]
    fn given_another_io_failure_then_it_is_a_storage_failure_said_once() {
        let error = LogError::from(sled::Error::Io(std::io::Error::from_raw_os_error(5)));
        assert_eq!(
            error.for_each_caller().to_string(),
            "storage failure: Input/output error (os error 5)"
        );
    }
}
