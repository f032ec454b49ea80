use std::fmt;

use uuid::Uuid;

use crate::{StreamId, Timestamp};

/// A SHA-256 digest in the log's hash chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct EventHash(pub [u8; 32]);

impl EventHash {
    /// The `prev_hash` of the first event of every log.
    pub const GENESIS: EventHash = EventHash([0; 32]);

    pub fn to_hex(&self) -> String {
        crate::signature::hex(&self.0)
    }
}

impl fmt::Debug for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventHash({})", self.to_hex())
    }
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// An event as the log recorded it: the payload plus everything an auditor needs to
/// know who caused it, when, why, and where it sits in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordedEvent {
    /// UUID v7.
    pub event_id: Uuid,
    pub stream: StreamId,
    /// The stream's version after this event (1 for its first event).
    pub version: u64,
    /// Global position in the log (1 for the first event).
    pub position: u64,
    /// Fully qualified protobuf message name of the payload.
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Vec<u8>,
    /// Business time, given by the command.
    pub occurred_at: Timestamp,
    /// Log time, assigned by the log; never decreases along positions.
    pub recorded_at: Timestamp,
    pub actor: String,
    pub command_id: Uuid,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub signature: Option<Vec<u8>>,
    /// SHA-256 of the command that produced the event, as received; `None` for
    /// events appended without one.
    pub command_digest: Option<[u8; 32]>,
    pub prev_hash: EventHash,
    pub hash: EventHash,
}

/// What a projection needs to know about where and when an event happened, besides
/// the event itself: taken from the envelope by the shell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventMeta {
    pub stream: StreamId,
    pub position: u64,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    pub actor: String,
}

impl EventMeta {
    /// The metadata part of a recorded event.
    pub fn of(event: &RecordedEvent) -> EventMeta {
        EventMeta {
            stream: event.stream.clone(),
            position: event.position,
            occurred_at: event.occurred_at,
            recorded_at: event.recorded_at,
            actor: event.actor.clone(),
        }
    }
}
