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
        command_digest: event
            .command_digest
            .map(|digest| digest.to_vec())
            .unwrap_or_default(),
    }
    .encode_to_vec()
}

/// Decodes `accord.v1.EventEnvelope` bytes; the error says which field is wrong.
pub fn decode_envelope(bytes: &[u8]) -> Result<RecordedEvent, String> {
    let envelope = EventEnvelope::decode(bytes).map_err(|e| e.to_string())?;
    from_envelope(envelope)
}

/// Decodes envelope bytes and tells whether they are exactly what
/// [`encode_envelope`] writes for the decoded event (protobuf re-encoded into
/// `scratch`, identifiers in their one text form), without building the event's
/// encoding from scratch. Verification reads in place instead (`in_place`); this is
/// the reference its tests compare with.
#[cfg(test)]
pub(crate) fn decode_checking_canonical(
    bytes: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<(RecordedEvent, bool), String> {
    let envelope = EventEnvelope::decode(bytes).map_err(|e| e.to_string())?;
    scratch.clear();
    // Encoding into a Vec cannot run out of room.
    let encoded = envelope.encode(scratch).is_ok();
    // A parsed UUID of 36 characters is hyphenated; `Uuid::to_string` writes it in
    // lower case.
    let canonical_id =
        |text: &str| text.len() == 36 && !text.bytes().any(|b| b.is_ascii_uppercase());
    let canonical = encoded
        && scratch.as_slice() == bytes
        && canonical_id(&envelope.event_id)
        && canonical_id(&envelope.command_id)
        && canonical_id(&envelope.correlation_id)
        && (envelope.causation_id.is_empty() || canonical_id(&envelope.causation_id));
    Ok((from_envelope(envelope)?, canonical))
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
        command_digest: match envelope.command_digest.as_slice() {
            [] => None,
            digest => Some(hash("command_digest", digest)?.0),
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Vec<u8> {
        let id = Uuid::now_v7();
        encode_envelope(&RecordedEvent {
            event_id: id,
            stream: StreamId::new("commitment", "c-1").unwrap(),
            version: 1,
            position: 1,
            event_type: "accord.v1.CommitmentAccepted".into(),
            schema_version: 1,
            payload: vec![1, 2, 3],
            occurred_at: Timestamp::UNIX_EPOCH,
            recorded_at: Timestamp::UNIX_EPOCH,
            actor: "ua-umerov".into(),
            command_id: id,
            correlation_id: id,
            causation_id: Some(id),
            signature: None,
            command_digest: Some([9; 32]),
            prev_hash: EventHash::GENESIS,
            hash: EventHash([7; 32]),
        })
    }

    #[test]
    fn given_what_the_log_wrote_then_it_is_canonical() {
        let bytes = stored();
        let (event, canonical) = decode_checking_canonical(&bytes, &mut Vec::new()).unwrap();
        assert!(canonical);
        assert_eq!(encode_envelope(&event), bytes);
    }

    #[test]
    fn given_an_upper_case_identifier_then_it_decodes_but_is_not_canonical() {
        let mut envelope = EventEnvelope::decode(&stored()[..]).unwrap();
        for field in 0..4 {
            let mut changed = envelope.clone();
            let text = match field {
                0 => &mut changed.event_id,
                1 => &mut changed.command_id,
                2 => &mut changed.correlation_id,
                _ => &mut changed.causation_id,
            };
            *text = text.to_uppercase();
            let bytes = changed.encode_to_vec();
            let (_, canonical) = decode_checking_canonical(&bytes, &mut Vec::new()).unwrap();
            assert!(!canonical, "field {field}");
        }
        // Fields out of protobuf order decode to the same values but are other bytes.
        envelope.payload.clear();
        let mut reordered = envelope.encode_to_vec();
        reordered.extend_from_slice(&[0x3a, 3, 1, 2, 3]); // payload (field 7) last
        let (event, canonical) = decode_checking_canonical(&reordered, &mut Vec::new()).unwrap();
        assert_eq!(event.payload, [1, 2, 3]);
        assert!(!canonical);
    }
}
