//! The canonical bytes an event's hash covers. Written out field by field, in a
//! fixed order with explicit lengths, so an auditor can recompute hashes in any
//! language from `proto/accord/v1/envelope.proto`'s description alone, without
//! depending on how a protobuf library orders or encodes fields.

use accord_kernel::{EventHash, RecordedEvent, Timestamp};
use sha2::{Digest, Sha256};

const DOMAIN: &[u8; 24] = b"accord.v1.EventEnvelope\x00";

/// The bytes of `event` that its hash covers: every field except `hash` itself.
pub fn canonical_bytes(event: &RecordedEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + event.payload.len());
    write_canonical(&mut out, event);
    out
}

/// SHA-256 of [`canonical_bytes`].
pub fn compute_hash(event: &RecordedEvent) -> EventHash {
    EventHash(Sha256::digest(canonical_bytes(event)).into())
}

/// [`compute_hash`] writing the canonical bytes into `scratch` (cleared first), so a
/// walk over many events allocates once.
pub(crate) fn compute_hash_with(scratch: &mut Vec<u8>, event: &RecordedEvent) -> EventHash {
    scratch.clear();
    write_canonical(scratch, event);
    EventHash(Sha256::digest(&scratch[..]).into())
}

fn write_canonical(out: &mut Vec<u8>, event: &RecordedEvent) {
    out.extend_from_slice(DOMAIN);
    out.extend_from_slice(event.event_id.as_bytes());
    put_bytes(out, event.stream.category().as_bytes());
    put_bytes(out, event.stream.id().as_bytes());
    out.extend_from_slice(&event.version.to_be_bytes());
    out.extend_from_slice(&event.position.to_be_bytes());
    put_bytes(out, event.event_type.as_bytes());
    out.extend_from_slice(&event.schema_version.to_be_bytes());
    put_bytes(out, &event.payload);
    put_time(out, event.occurred_at);
    put_time(out, event.recorded_at);
    put_bytes(out, event.actor.as_bytes());
    out.extend_from_slice(event.command_id.as_bytes());
    out.extend_from_slice(event.correlation_id.as_bytes());
    match event.causation_id {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
        None => out.push(0),
    }
    match &event.signature {
        Some(signature) => {
            out.push(1);
            put_bytes(out, signature);
        }
        None => out.push(0),
    }
    out.extend_from_slice(&event.prev_hash.0);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Lengths are bounded by the log's size limits, far below u32::MAX.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn put_time(out: &mut Vec<u8>, time: Timestamp) {
    out.extend_from_slice(&time.seconds().to_be_bytes());
    out.extend_from_slice(&time.nanos().to_be_bytes());
}
