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
    /// Another process (or another open handle) has this log open.
    #[error("log in {0} is in use by another process")]
    Locked(String),
    /// The log is closed, or failed earlier and must be reopened.
    #[error("log is closed")]
    Closed,
}

impl From<sled::Error> for LogError {
    fn from(error: sled::Error) -> Self {
        LogError::Storage(error.to_string())
    }
}

impl From<std::io::Error> for LogError {
    fn from(error: std::io::Error) -> Self {
        LogError::Storage(error.to_string())
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
    /// A key in the log's tree has an unknown shape.
    #[error("malformed key {0:?}")]
    MalformedKey(Vec<u8>),
}
