//! Key layout of the log's single sled tree. A group commit is one atomic
//! `apply_batch` of the group's records plus the head record:
//!
//! | key                          | value                                              |
//! |------------------------------|----------------------------------------------------|
//! | `e` first position (u64 BE)  | a record: consecutive `accord.v1.EventEnvelope`s, each prefixed by its length (u32 BE), at most 64 KiB (see `record`) |
//! | `h`                          | head: position, hash, recorded-at of the last event |
//! | `r` name                     | a named reader's saved position (u64 BE), e.g. the relay's |
//! | `c` tree size (u64 BE)      | a signed checkpoint of the tree at that size, with the cosignatures collected so far (see `checkpoints`) |
//! | `t` tile level (u8), index (u64 BE) | a tile of the log's RFC 9162 Merkle tree: up to 256 hashes of tree level 8·level, 32 bytes each (see `tree`) |
//!
//! Stream and command indexes are kept in memory and rebuilt on open (`index`).
//! Recorded-at never decreases along positions, so "as of" lookups binary search
//! the `e` keys instead of keeping a time index.

use accord_kernel::{EventHash, Timestamp};

pub(crate) const EVENT: u8 = b'e';
pub(crate) const HEAD: &[u8] = b"h";

pub(crate) fn event(position: u64) -> [u8; 9] {
    let mut key = [EVENT; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

pub(crate) const TILE: u8 = b't';

pub(crate) fn tile(level: u32, index: u64) -> [u8; 10] {
    let mut key = [TILE; 10];
    key[1..].copy_from_slice(&accord_evidence::tiles::tile_key(level, index));
    key
}

pub(crate) const CHECKPOINT: u8 = b'c';

pub(crate) fn checkpoint(size: u64) -> [u8; 9] {
    let mut key = [CHECKPOINT; 9];
    key[1..].copy_from_slice(&size.to_be_bytes());
    key
}

pub(crate) fn checkpoint_size(key: &[u8]) -> Option<u64> {
    match key {
        [CHECKPOINT, rest @ ..] => Some(u64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

pub(crate) fn cursor(name: &str) -> Vec<u8> {
    let mut key = vec![b'r'];
    key.extend_from_slice(name.as_bytes());
    key
}

pub(crate) fn u64_value(value: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(value.try_into().ok()?))
}

pub(crate) fn event_position(key: &[u8]) -> Option<u64> {
    match key {
        [EVENT, rest @ ..] => Some(u64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
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
    fn head_records_round_trip() {
        let head = HeadRecord {
            position: 7,
            hash: EventHash([3; 32]),
            recorded_at: Timestamp::new(1_700_000_000, 5).unwrap(),
        };
        assert_eq!(HeadRecord::decode(&head.encode()), Some(head));
        assert_eq!(HeadRecord::decode(&[0; 51]), None);
    }
}
