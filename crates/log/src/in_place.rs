//! Reading stored `accord.v1.EventEnvelope` bytes in place, for verification: no
//! allocation per event, and the canonical-bytes check made while reading instead of
//! by decoding and encoding again.
//!
//! Canonical means exactly what `encode_envelope` (prost) writes for the values read:
//! fields in ascending field-number order, each at most once; a scalar field present
//! only when it is not its default; the three messages (stream, occurred_at,
//! recorded_at) present; varints and lengths in their shortest form; no unknown
//! fields; identifiers in their one text form (hyphenated lower-case UUIDs).
//! Anything that does not parse, or parses to values an event cannot have, is
//! undecodable, as it is for `decode_envelope`.

use accord_kernel::Timestamp;
use uuid::Uuid;

use crate::canonical::Hashed;

/// An envelope read in place: the fields its hash covers, its own hash, and whether
/// its bytes are canonical.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InPlace<'a> {
    pub(crate) fields: Hashed<'a>,
    pub(crate) hash: &'a [u8; 32],
    pub(crate) canonical: bool,
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;
/// How deep prost follows groups nested in an unknown field before it gives up.
const MAX_GROUP_DEPTH: u32 = 100;

/// Field values as read, before they are checked to be an event's.
#[derive(Default)]
struct Raw<'a> {
    event_id: &'a str,
    stream: Option<(&'a str, &'a str)>,
    version: u64,
    position: u64,
    event_type: &'a str,
    schema_version: u64,
    payload: &'a [u8],
    occurred_at: Option<(u64, u64)>,
    recorded_at: Option<(u64, u64)>,
    actor: &'a str,
    command_id: &'a str,
    correlation_id: &'a str,
    causation_id: &'a str,
    signature: &'a [u8],
    prev_hash: &'a [u8],
    hash: &'a [u8],
    command_digest: &'a [u8],
}

/// Reads `bytes` as an envelope; `Err` says why they are not one.
pub(crate) fn read_envelope(bytes: &[u8]) -> Result<InPlace<'_>, String> {
    let mut raw = Raw::default();
    let mut reader = Reader::new(bytes);
    while let Some((field, wire, value)) = reader.field()? {
        match (field, wire) {
            (1, LEN) => raw.event_id = reader.text(value, "event_id")?,
            (2, LEN) => {
                raw.stream = Some(stream_ref(
                    nested(value),
                    raw.stream,
                    &mut reader.canonical,
                )?)
            }
            (3, VARINT) => raw.version = reader.varint_value(value),
            (4, VARINT) => raw.position = reader.varint_value(value),
            (5, LEN) => raw.event_type = reader.text(value, "event_type")?,
            (6, VARINT) => raw.schema_version = reader.varint_value(value),
            (7, LEN) => raw.payload = reader.present(value),
            (8, LEN) => {
                let merged = timestamp(nested(value), raw.occurred_at, &mut reader.canonical)?;
                raw.occurred_at = Some(merged);
            }
            (9, LEN) => {
                let merged = timestamp(nested(value), raw.recorded_at, &mut reader.canonical)?;
                raw.recorded_at = Some(merged);
            }
            (10, LEN) => raw.actor = reader.text(value, "actor")?,
            (11, LEN) => raw.command_id = reader.text(value, "command_id")?,
            (12, LEN) => raw.correlation_id = reader.text(value, "correlation_id")?,
            (13, LEN) => raw.causation_id = reader.text(value, "causation_id")?,
            (14, LEN) => raw.signature = reader.present(value),
            (15, LEN) => raw.prev_hash = reader.present(value),
            (16, LEN) => raw.hash = reader.present(value),
            (17, LEN) => raw.command_digest = reader.present(value),
            (1..=17, _) => return Err(format!("field {field}: invalid wire type {wire}")),
            // Decoders skip unknown fields; the log never writes any.
            _ => reader.canonical = false,
        }
    }
    let mut canonical = reader.canonical;
    let (category, id) = raw.stream.ok_or("missing stream")?;
    let mut uuid = |field: &str, text: &str| {
        canonical &= text.len() == 36 && !text.bytes().any(|b| b.is_ascii_uppercase());
        Uuid::parse_str(text).map_err(|e| format!("{field}: {e}"))
    };
    let event_id = uuid("event_id", raw.event_id)?;
    let command_id = uuid("command_id", raw.command_id)?;
    let correlation_id = uuid("correlation_id", raw.correlation_id)?;
    let causation_id = match raw.causation_id {
        "" => None,
        text => Some(uuid("causation_id", text)?),
    };
    let schema_version = u32::try_from(raw.schema_version).unwrap_or_else(|_| {
        // Decoders truncate; the log never writes a value that needs it.
        canonical = false;
        raw.schema_version as u32
    });
    let mut time = |field: &str, value: Option<(u64, u64)>| {
        let (seconds, nanos) = value.ok_or_else(|| format!("missing {field}"))?;
        // int32 nanos: a decoder keeps the low 32 bits, an encoder sign-extends them.
        let truncated = nanos as i32;
        canonical &= i64::from(truncated) as u64 == nanos;
        Timestamp::new(seconds as i64, truncated).map_err(|e| format!("{field}: {e}"))
    };
    let occurred_at = time("occurred_at", raw.occurred_at)?;
    let recorded_at = time("recorded_at", raw.recorded_at)?;
    let prev_hash = hash32("prev_hash", raw.prev_hash)?;
    let hash = hash32("hash", raw.hash)?;
    let command_digest = match raw.command_digest {
        [] => None,
        digest => Some(hash32("command_digest", digest)?),
    };
    Ok(InPlace {
        fields: Hashed {
            event_id,
            category,
            id,
            version: raw.version,
            position: raw.position,
            event_type: raw.event_type,
            schema_version,
            payload: raw.payload,
            occurred_at,
            recorded_at,
            actor: raw.actor,
            command_id,
            correlation_id,
            causation_id,
            signature: Some(raw.signature).filter(|s| !s.is_empty()),
            prev_hash,
            command_digest,
        },
        hash,
        canonical,
    })
}

/// What verification makes of stored envelope bytes, read in place: for tools and
/// fuzzing, which compare it with [`crate::decode_envelope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeCheck {
    pub position: u64,
    /// The hash the envelope says it has.
    pub stored_hash: accord_kernel::EventHash,
    /// The hash of its canonical bytes, as verification computes it.
    pub computed_hash: accord_kernel::EventHash,
    /// Whether the bytes are exactly what the log writes for these values.
    pub canonical: bool,
}

/// Reads `bytes` as verification does; `Err` says why they are no envelope. Stream
/// ids are checked later by verification (when a stream is first seen), not here.
pub fn check_envelope(bytes: &[u8]) -> Result<EnvelopeCheck, String> {
    let read = read_envelope(bytes)?;
    Ok(EnvelopeCheck {
        position: read.fields.position,
        stored_hash: accord_kernel::EventHash(*read.hash),
        computed_hash: read.fields.hash_with(&mut Vec::new()),
        canonical: read.canonical,
    })
}

fn hash32<'a>(field: &str, bytes: &'a [u8]) -> Result<&'a [u8; 32], String> {
    <&[u8; 32]>::try_from(bytes)
        .map_err(|_| format!("{field}: expected 32 bytes, got {}", bytes.len()))
}

/// A message field's bytes; an empty message is written out (it is present).
fn nested(value: Value<'_>) -> &[u8] {
    match value {
        Value::Bytes(bytes) => bytes,
        Value::Varint(_) => &[],
    }
}

/// A `StreamRef` message: category (1) and id (2). A message field that occurs again
/// is merged into the earlier occurrence, as protobuf decoders do: a field the later
/// one lacks keeps its earlier value.
fn stream_ref<'a>(
    bytes: &'a [u8],
    earlier: Option<(&'a str, &'a str)>,
    canonical: &mut bool,
) -> Result<(&'a str, &'a str), String> {
    let mut reader = Reader::new(bytes);
    let (mut category, mut id) = earlier.unwrap_or(("", ""));
    while let Some((field, wire, value)) = reader.field()? {
        match (field, wire) {
            (1, LEN) => category = reader.text(value, "stream.category")?,
            (2, LEN) => id = reader.text(value, "stream.id")?,
            (1 | 2, _) => return Err(format!("stream field {field}: invalid wire type {wire}")),
            _ => reader.canonical = false,
        }
    }
    *canonical &= reader.canonical;
    Ok((category, id))
}

/// A `google.protobuf.Timestamp`: seconds (1) and nanos (2), as raw varints, merged
/// into an earlier occurrence as for [`stream_ref`].
fn timestamp(
    bytes: &[u8],
    earlier: Option<(u64, u64)>,
    canonical: &mut bool,
) -> Result<(u64, u64), String> {
    let mut reader = Reader::new(bytes);
    let (mut seconds, mut nanos) = earlier.unwrap_or((0, 0));
    while let Some((field, wire, value)) = reader.field()? {
        match (field, wire) {
            (1, VARINT) => seconds = reader.varint_value(value),
            (2, VARINT) => nanos = reader.varint_value(value),
            (1 | 2, _) => return Err(format!("timestamp field {field}: invalid wire type {wire}")),
            _ => reader.canonical = false,
        }
    }
    *canonical &= reader.canonical;
    Ok((seconds, nanos))
}

/// A field's value: a varint, or the bytes of a length-delimited field.
#[derive(Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Walks the fields of one message, noting whatever is not canonical.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    last_field: u64,
    canonical: bool,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            at: 0,
            last_field: 0,
            canonical: true,
        }
    }

    /// The next field: its number, wire type and value; `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, u8, Value<'a>)>, String> {
        if self.at == self.bytes.len() {
            return Ok(None);
        }
        let (field, wire) = self.key()?;
        self.canonical &= field > self.last_field;
        self.last_field = field;
        let value = match wire {
            VARINT => Value::Varint(self.varint()?),
            LEN => Value::Bytes(self.length_delimited()?),
            FIXED64 => Value::Bytes(self.take(8)?),
            FIXED32 => Value::Bytes(self.take(4)?),
            // A group is never one of the envelope's fields: as decoders do for an
            // unknown field, it is skipped to its end.
            START_GROUP => {
                let start = self.at;
                self.skip_group(field, MAX_GROUP_DEPTH)?;
                Value::Bytes(&self.bytes[start..self.at])
            }
            END_GROUP => return Err(format!("field {field}: end of a group never started")),
            other => return Err(format!("unsupported wire type {other}")),
        };
        Ok(Some((field, wire, value)))
    }

    /// A field's key: its number and wire type, refused where prost refuses it (a
    /// key beyond 32 bits, field number 0, wire types 6 and 7).
    fn key(&mut self) -> Result<(u64, u8), String> {
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(format!("invalid key value: {key}"));
        }
        let (field, wire) = (key >> 3, (key & 7) as u8);
        if field == 0 {
            return Err("field number 0".into());
        }
        if wire > FIXED32 {
            return Err(format!("unsupported wire type {wire}"));
        }
        Ok((field, wire))
    }

    fn length_delimited(&mut self) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "length overflows")?;
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or("length runs past the end")?;
        let value = &self.bytes[self.at..end];
        self.at = end;
        Ok(value)
    }

    /// Skips the fields of group `field` up to and including its end.
    fn skip_group(&mut self, field: u64, depth: u32) -> Result<(), String> {
        if depth == 0 {
            return Err("groups nested too deep".into());
        }
        loop {
            if self.at == self.bytes.len() {
                return Err(format!("group {field} never ends"));
            }
            match self.key()? {
                (inner, END_GROUP) if inner == field => return Ok(()),
                (inner, END_GROUP) => {
                    return Err(format!("group {field} ended by the end of group {inner}"))
                }
                (inner, START_GROUP) => self.skip_group(inner, depth - 1)?,
                (_, VARINT) => {
                    self.varint()?;
                }
                (_, LEN) => {
                    self.length_delimited()?;
                }
                (_, FIXED64) => {
                    self.take(8)?;
                }
                (_, wire) => {
                    debug_assert_eq!(wire, FIXED32);
                    self.take(4)?;
                }
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let value = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or("value runs past the end")?;
        self.at += n;
        Ok(value)
    }

    /// A varint; one longer than its shortest form is read but not canonical.
    fn varint(&mut self) -> Result<u64, String> {
        // Most keys and lengths are one byte, and a one-byte varint is always shortest.
        if let Some(&byte) = self.bytes.get(self.at) {
            if byte < 0x80 {
                self.at += 1;
                return Ok(u64::from(byte));
            }
        }
        let mut value = 0u64;
        for (i, &byte) in self.bytes[self.at..].iter().enumerate().take(10) {
            if i == 9 && byte > 1 {
                return Err("varint overflows 64 bits".into());
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.canonical &= i + 1 == prost::encoding::encoded_len_varint(value);
                self.at += i + 1;
                return Ok(value);
            }
        }
        Err("varint runs past the end or is too long".into())
    }

    /// A scalar field's value; a default value written out is not canonical.
    fn varint_value(&mut self, value: Value<'a>) -> u64 {
        let Value::Varint(value) = value else {
            return 0;
        };
        self.canonical &= value != 0;
        value
    }

    /// A bytes field's value; an empty one written out is not canonical.
    fn present(&mut self, value: Value<'a>) -> &'a [u8] {
        let Value::Bytes(bytes) = value else {
            return &[];
        };
        self.canonical &= !bytes.is_empty();
        bytes
    }

    /// A string field's value: bytes that must be UTF-8.
    fn text(&mut self, value: Value<'a>, field: &str) -> Result<&'a str, String> {
        std::str::from_utf8(self.present(value)).map_err(|e| format!("{field}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_checking_canonical, encode_envelope};
    use accord_contracts::v1::EventEnvelope;
    use accord_kernel::{EventHash, RecordedEvent, StreamId};
    use proptest::prelude::*;
    use prost::Message as _;

    fn event(payload: Vec<u8>, causation: bool, signature: Vec<u8>, nanos: u32) -> RecordedEvent {
        let id = Uuid::now_v7();
        RecordedEvent {
            event_id: id,
            stream: StreamId::new("commitment", "c-shells").unwrap(),
            version: 3,
            position: 70_000,
            event_type: "accord.v1.CommitmentProgressRecorded".into(),
            schema_version: 1,
            payload,
            occurred_at: Timestamp::new(1_735_689_600, nanos as i32).unwrap(),
            recorded_at: Timestamp::new(1_735_689_601, 0).unwrap(),
            actor: "lt-kasciunas".into(),
            command_id: Uuid::now_v7(),
            correlation_id: id,
            causation_id: causation.then(Uuid::now_v7),
            signature: Some(signature).filter(|s| !s.is_empty()),
            // Half the events carry a digest, as events appended before it existed do not.
            command_digest: nanos.is_multiple_of(2).then_some([nanos as u8; 32]),
            prev_hash: EventHash([3; 32]),
            hash: EventHash([4; 32]),
        }
    }

    /// What the decode-and-encode-again path makes of the same bytes.
    fn oracle(bytes: &[u8]) -> Result<(RecordedEvent, bool), String> {
        decode_checking_canonical(bytes, &mut Vec::new())
    }

    proptest! {
        #[test]
        fn given_what_the_log_writes_then_it_reads_in_place_as_decoded_and_canonical(
            payload in proptest::collection::vec(any::<u8>(), 0..300),
            causation in any::<bool>(),
            signature in proptest::collection::vec(any::<u8>(), 0..70),
            nanos in 0u32..1_000_000_000,
        ) {
            let event = event(payload, causation, signature, nanos);
            let bytes = encode_envelope(&event);
            let read = read_envelope(&bytes).unwrap();
            prop_assert!(read.canonical);
            prop_assert_eq!(read.hash, &event.hash.0);
            let mut scratch = Vec::new();
            prop_assert_eq!(
                read.fields.hash_with(&mut scratch),
                Hashed::of(&event).hash_with(&mut scratch)
            );
        }

        #[test]
        fn given_any_change_to_stored_bytes_then_it_is_judged_as_decoding_and_encoding_again_would(
            payload in proptest::collection::vec(any::<u8>(), 0..40),
            at in any::<prop::sample::Index>(),
            mask in 1u8..,
            cut in any::<bool>(),
        ) {
            let mut bytes = encode_envelope(&event(payload, true, vec![], 5));
            let at = at.index(bytes.len());
            if cut {
                bytes.truncate(at);
            } else {
                bytes[at] ^= mask;
            }
            match (read_envelope(&bytes), oracle(&bytes)) {
                (Ok(read), Ok((decoded, canonical))) => {
                    // Malformed stream ids are refused when a stream is first seen.
                    prop_assert_eq!(read.canonical, canonical);
                    if canonical {
                        let mut scratch = Vec::new();
                        prop_assert_eq!(
                            read.fields.hash_with(&mut scratch),
                            Hashed::of(&decoded).hash_with(&mut scratch)
                        );
                    }
                }
                (Err(_), Err(_)) => {}
                (read, oracle) => {
                    // The only allowed difference: a stream id that the in-place reader
                    // leaves to the walk (checked when the stream is first seen).
                    prop_assert!(
                        read.is_ok() && oracle.as_ref().is_err_and(|e| e.contains("stream")),
                        "in place: {:?}, decoded: {:?}",
                        read.map(|r| r.canonical),
                        oracle.map(|o| o.1)
                    );
                }
            }
        }
    }

    /// Judged as decoding would: both refuse, or both read with the same verdict.
    fn judged_alike(bytes: &[u8]) {
        match (read_envelope(bytes), oracle(bytes)) {
            (Ok(read), Ok((_, canonical))) => assert_eq!(read.canonical, canonical),
            (Err(_), Err(_)) => {}
            (read, oracle) => panic!(
                "in place: {:?}, decoded: {:?}",
                read.map(|r| r.canonical),
                oracle.map(|o| o.1)
            ),
        }
    }

    #[test]
    fn given_a_message_field_that_occurs_twice_then_it_is_merged_as_decoding_does() {
        // Found by the `envelope` fuzz target (the file is its crash input): a
        // second occurred_at holding only nanos kept the first one's invalid seconds
        // for the decoder, but was read in place as seconds 0.
        let found = include_bytes!("fuzz_regressions/envelope-repeated-timestamp");
        judged_alike(found);
        // The same, built: a valid first timestamp, then one with only nanos.
        let stored = encode_envelope(&event(vec![1], false, vec![], 0));
        for (field, again) in [(0x42u8, [0x10u8, 0x07]), (0x4A, [0x10, 0x07])] {
            let mut bytes = stored.clone();
            bytes.extend_from_slice(&[field, 2]);
            bytes.extend_from_slice(&again);
            let read = read_envelope(&bytes).unwrap();
            let (decoded, canonical) = oracle(&bytes).unwrap();
            assert_eq!(read.canonical, canonical);
            assert_eq!(read.fields.occurred_at, decoded.occurred_at);
            assert_eq!(read.fields.recorded_at, decoded.recorded_at);
        }
        // And a stream ref again with only its id: the category stays.
        let mut bytes = stored.clone();
        bytes.extend_from_slice(&[0x12, 4, 0x12, 2, b'c', b'9']);
        let read = read_envelope(&bytes).unwrap();
        let (decoded, _) = oracle(&bytes).unwrap();
        assert_eq!(
            (read.fields.category, read.fields.id),
            (decoded.stream.category(), decoded.stream.id())
        );
    }

    #[test]
    fn given_an_unknown_field_with_a_key_beyond_32_bits_then_it_is_refused_as_decoding_does() {
        // Found by the property above: a key beyond 32 bits (2^32 + 120: field
        // 2^29 + 15, a varint) on an unknown field.
        let mut bytes = encode_envelope(&event(vec![1], false, vec![], 0));
        bytes.extend_from_slice(&[0xF8, 0x80, 0x80, 0x80, 0x10, 0x01]);
        assert!(read_envelope(&bytes).is_err());
        judged_alike(&bytes);
    }

    #[test]
    fn given_an_unknown_group_then_it_is_skipped_and_not_canonical_as_decoding_does() {
        let stored = encode_envelope(&event(vec![1], false, vec![], 0));
        // Field 20 as a group holding field 1 = 5 and a nested group 21.
        let group = [0xA3, 0x01, 0x08, 0x05, 0xAB, 0x01, 0xAC, 0x01, 0xA4, 0x01];
        let mut bytes = stored.clone();
        bytes.extend_from_slice(&group);
        assert!(!read_envelope(&bytes).unwrap().canonical);
        judged_alike(&bytes);
        // Ended by another group's end, never ended, or an end never started.
        for broken in [
            &[0xA3, 0x01, 0xAC, 0x01][..],
            &[0xA3, 0x01, 0x08],
            &[0xA4, 0x01],
        ] {
            let mut bytes = stored.clone();
            bytes.extend_from_slice(broken);
            assert!(read_envelope(&bytes).is_err(), "{broken:?}");
            judged_alike(&bytes);
        }
    }

    #[test]
    fn given_fields_out_of_order_or_unknown_then_it_reads_but_is_not_canonical() {
        let bytes = encode_envelope(&event(vec![1, 2, 3], false, vec![], 0));
        let envelope = EventEnvelope::decode(&bytes[..]).unwrap();
        let mut without_payload = envelope.clone();
        without_payload.payload.clear();
        let mut reordered = without_payload.encode_to_vec();
        reordered.extend_from_slice(&[0x3a, 3, 1, 2, 3]);
        assert!(!read_envelope(&reordered).unwrap().canonical);
        let mut unknown = bytes.clone();
        unknown.extend_from_slice(&[0xa8, 0x01, 0x01]); // field 21, varint 1
        assert!(!read_envelope(&unknown).unwrap().canonical);
        let mut upper = envelope;
        upper.command_id = upper.command_id.to_uppercase();
        assert!(!read_envelope(&upper.encode_to_vec()).unwrap().canonical);
    }
}
