//! Key layout of the log's single sled tree. One tree, so that a group commit is one
//! atomic `apply_batch`; few keys per event, since every key costs throughput:
//!
//! | key                                         | value                          | per       |
//! |---------------------------------------------|--------------------------------|-----------|
//! | `e` position (u64 BE)                       | encoded `EventEnvelope`        | event     |
//! | `s` category NUL id NUL version (u64 BE)    | position (u64 BE)              | event     |
//! | `c` command id (16 bytes)                   | first position, event count    | append    |
//! | `h`                                         | head: position, hash, recorded | group     |
//!
//! Category and id never contain NUL (see `StreamId`), so stream prefixes never
//! overlap. Recorded-at never decreases along positions, so "as of" lookups binary
//! search the `e` keys instead of keeping a time index.

use accord_kernel::{EventHash, StreamId, Timestamp};
use uuid::Uuid;

pub(crate) const EVENT: u8 = b'e';
pub(crate) const STREAM: u8 = b's';
pub(crate) const COMMAND: u8 = b'c';
pub(crate) const HEAD: &[u8] = b"h";

pub(crate) fn event(position: u64) -> [u8; 9] {
    let mut key = [EVENT; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

pub(crate) fn event_position(key: &[u8]) -> Option<u64> {
    match key {
        [EVENT, rest @ ..] => Some(u64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

pub(crate) fn stream_prefix(stream: &StreamId) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.category().len() + stream.id().len() + 11);
    key.push(STREAM);
    key.extend_from_slice(stream.category().as_bytes());
    key.push(0);
    key.extend_from_slice(stream.id().as_bytes());
    key.push(0);
    key
}

pub(crate) fn stream_version(stream: &StreamId, version: u64) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// The version at the end of a stream index key.
pub(crate) fn version_of_stream_key(key: &[u8]) -> Option<u64> {
    let tail = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key[tail..].try_into().ok()?))
}

pub(crate) fn command(command_id: Uuid) -> [u8; 17] {
    let mut key = [COMMAND; 17];
    key[1..].copy_from_slice(command_id.as_bytes());
    key
}

pub(crate) fn u64_value(value: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(value.try_into().ok()?))
}

/// What the command index remembers of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommandRecord {
    pub(crate) first_position: u64,
    pub(crate) count: u32,
}

impl CommandRecord {
    pub(crate) fn encode(self) -> [u8; 12] {
        let mut value = [0; 12];
        value[..8].copy_from_slice(&self.first_position.to_be_bytes());
        value[8..].copy_from_slice(&self.count.to_be_bytes());
        value
    }

    pub(crate) fn decode(value: &[u8]) -> Option<Self> {
        let first_position = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
        let count = u32::from_be_bytes(value.get(8..12)?.try_into().ok()?);
        Some(CommandRecord {
            first_position,
            count,
        })
    }
}

/// The head record, rewritten with every group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadRecord {
    pub(crate) position: u64,
    pub(crate) hash: EventHash,
    pub(crate) recorded_at: Timestamp,
}

impl HeadRecord {
    pub(crate) fn encode(self) -> [u8; 52] {
        let mut value = [0; 52];
        value[..8].copy_from_slice(&self.position.to_be_bytes());
        value[8..40].copy_from_slice(&self.hash.0);
        value[40..48].copy_from_slice(&self.recorded_at.seconds().to_be_bytes());
        value[48..].copy_from_slice(&self.recorded_at.nanos().to_be_bytes());
        value
    }

    pub(crate) fn decode(value: &[u8]) -> Option<Self> {
        if value.len() != 52 {
            return None;
        }
        let position = u64::from_be_bytes(value[..8].try_into().ok()?);
        let hash = EventHash(value[8..40].try_into().ok()?);
        let seconds = i64::from_be_bytes(value[40..48].try_into().ok()?);
        let nanos = i32::from_be_bytes(value[48..].try_into().ok()?);
        let recorded_at = Timestamp::new(seconds, nanos).ok()?;
        Some(HeadRecord {
            position,
            hash,
            recorded_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_sort_by_position() {
        assert!(event(255) < event(256));
        assert_eq!(event_position(&event(42)), Some(42));
        assert_eq!(event_position(b"x"), None);
    }

    #[test]
    fn stream_prefixes_do_not_overlap() {
        let a = StreamId::new("agreement", "1").unwrap();
        let b = StreamId::new("agreement", "12").unwrap();
        assert!(!stream_version(&b, 1).starts_with(&stream_prefix(&a)));
        assert_eq!(version_of_stream_key(&stream_version(&a, 9)), Some(9));
    }

    #[test]
    fn records_round_trip() {
        let head = HeadRecord {
            position: 7,
            hash: EventHash([3; 32]),
            recorded_at: Timestamp::new(1_700_000_000, 5).unwrap(),
        };
        assert_eq!(HeadRecord::decode(&head.encode()), Some(head));
        let command = CommandRecord {
            first_position: 9,
            count: 2,
        };
        assert_eq!(CommandRecord::decode(&command.encode()), Some(command));
    }
}
