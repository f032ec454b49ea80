//! Stored form of an event: the protobuf `accord.v1.EventEnvelope`, the same message
//! the relay publishes, so the bytes on disk and on the bus are one contract.

use accord_contracts::v1::{EventEnvelope, StreamRef};
use accord_kernel::{EventHash, RecordedEvent, StreamId, Timestamp};
use prost::Message;
use uuid::Uuid;

/// Encodes an event as `accord.v1.EventEnvelope` bytes.
pub fn encode_envelope(event: &RecordedEvent) -> Vec<u8> {
    encode_envelope_owned(event.clone())
}

/// Encodes an event the log is about to store, moving its fields instead of copying.
pub(crate) fn encode_envelope_owned(event: RecordedEvent) -> Vec<u8> {
    EventEnvelope {
        event_id: event.event_id.to_string(),
        stream: Some(StreamRef {
            category: event.stream.category().to_owned(),
            id: event.stream.id().to_owned(),
        }),
        version: event.version,
        position: event.position,
        event_type: event.event_type,
        schema_version: event.schema_version,
        payload: event.payload,
        occurred_at: Some(timestamp(event.occurred_at)),
        recorded_at: Some(timestamp(event.recorded_at)),
        actor: event.actor,
        command_id: event.command_id.to_string(),
        correlation_id: event.correlation_id.to_string(),
        causation_id: event
            .causation_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        signature: event.signature.unwrap_or_default(),
        prev_hash: event.prev_hash.0.to_vec(),
        hash: event.hash.0.to_vec(),
    }
    .encode_to_vec()
}

/// Decodes `accord.v1.EventEnvelope` bytes; the error says which field is wrong.
pub fn decode_envelope(bytes: &[u8]) -> Result<RecordedEvent, String> {
    let envelope = EventEnvelope::decode(bytes).map_err(|e| e.to_string())?;
    from_envelope(envelope)
}

pub(crate) fn from_envelope(envelope: EventEnvelope) -> Result<RecordedEvent, String> {
    let stream = envelope.stream.ok_or("missing stream")?;
    Ok(RecordedEvent {
        event_id: uuid("event_id", &envelope.event_id)?,
        stream: StreamId::new(stream.category, stream.id).map_err(|e| e.to_string())?,
        version: envelope.version,
        position: envelope.position,
        event_type: envelope.event_type,
        schema_version: envelope.schema_version,
        payload: envelope.payload,
        occurred_at: time("occurred_at", envelope.occurred_at)?,
        recorded_at: time("recorded_at", envelope.recorded_at)?,
        actor: envelope.actor,
        command_id: uuid("command_id", &envelope.command_id)?,
        correlation_id: uuid("correlation_id", &envelope.correlation_id)?,
        causation_id: match envelope.causation_id.as_str() {
            "" => None,
            text => Some(uuid("causation_id", text)?),
        },
        signature: Some(envelope.signature).filter(|s| !s.is_empty()),
        prev_hash: hash("prev_hash", &envelope.prev_hash)?,
        hash: hash("hash", &envelope.hash)?,
    })
}

fn timestamp(time: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.seconds(),
        // nanos < 1e9 always fits.
        nanos: time.nanos() as i32,
    }
}

fn time(field: &str, value: Option<prost_types::Timestamp>) -> Result<Timestamp, String> {
    let value = value.ok_or_else(|| format!("missing {field}"))?;
    Timestamp::new(value.seconds, value.nanos).map_err(|e| format!("{field}: {e}"))
}

fn uuid(field: &str, text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text).map_err(|e| format!("{field}: {e}"))
}

fn hash(field: &str, bytes: &[u8]) -> Result<EventHash, String> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| format!("{field}: expected 32 bytes, got {}", bytes.len()))?;
    Ok(EventHash(array))
}
