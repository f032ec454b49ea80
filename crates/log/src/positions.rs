//! A stream's event positions, kept compact in memory: the index holds one per
//! event for ever, so their size is what grows with the log. Positions only rise,
//! so each is kept as its gap from the one before (a varint: one byte while the gap
//! is under 128, as it is for a command's consecutive events), in blocks of
//! [`BLOCK`] whose first position is kept whole, so a version is found without
//! decoding the stream from its start.

/// Positions per block: a lookup decodes at most this many gaps.
const BLOCK: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Positions {
    /// The gaps, varint-encoded, block after block (a block's first has none).
    gaps: Vec<u8>,
    /// Each block's first position and where its gaps start in `gaps`.
    blocks: Vec<(u64, u32)>,
    len: u64,
    last: u64,
}

impl Positions {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Adds `position`, which comes after every position already here.
    pub(crate) fn push(&mut self, position: u64) {
        debug_assert!(self.len == 0 || position > self.last, "positions rise");
        if self.len.is_multiple_of(BLOCK as u64) {
            let offset = u32::try_from(self.gaps.len()).unwrap_or(u32::MAX);
            self.blocks.push((position, offset));
        } else {
            put_varint(&mut self.gaps, position - self.last);
        }
        self.last = position;
        self.len += 1;
    }

    /// The positions of block `block`, in order.
    fn block(&self, block: usize) -> impl Iterator<Item = u64> + '_ {
        let (first, offset) = self.blocks[block];
        let count = (self.len - (block * BLOCK) as u64).min(BLOCK as u64) as usize;
        let mut at = offset as usize;
        let mut position = first;
        (0..count).map(move |i| {
            if i > 0 {
                let (gap, next) = varint(&self.gaps, at);
                at = next;
                position += gap;
            }
            position
        })
    }

    /// How many positions are at or before `position`.
    pub(crate) fn count_up_to(&self, position: u64) -> u64 {
        let blocks = self.blocks.partition_point(|&(first, _)| first <= position);
        let Some(block) = blocks.checked_sub(1) else {
            return 0;
        };
        let within = self.block(block).take_while(|&p| p <= position).count();
        (block * BLOCK + within) as u64
    }

    /// The positions from index `start` (0-based: version − 1) on, at most `limit`.
    pub(crate) fn from(&self, start: u64, limit: usize) -> Vec<u64> {
        if start >= self.len {
            return Vec::new();
        }
        let first_block = (start / BLOCK as u64) as usize;
        let skip = (start % BLOCK as u64) as usize;
        (first_block..self.blocks.len())
            .flat_map(|block| self.block(block))
            .skip(skip)
            .take(limit)
            .collect()
    }
}

impl Positions {
    /// Appends the positions to `out` as a snapshot keeps them (see `snapshot`).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len);
        put_varint(out, self.last);
        put_varint(out, self.blocks.len() as u64);
        for &(first, offset) in &self.blocks {
            put_varint(out, first);
            put_varint(out, u64::from(offset));
        }
        put_varint(out, self.gaps.len() as u64);
        out.extend_from_slice(&self.gaps);
    }

    /// Reads what [`Positions::encode`] wrote at `*at`, moving `*at` past it; `None`
    /// when the bytes are not such positions (the snapshot is then not used).
    pub(crate) fn decode(bytes: &[u8], at: &mut usize) -> Option<Positions> {
        let mut next = || -> Option<u64> {
            if *at >= bytes.len() {
                return None;
            }
            let (value, after) = varint(bytes, *at);
            *at = after;
            Some(value)
        };
        let len = next()?;
        let last = next()?;
        let block_count = usize::try_from(next()?).ok()?;
        if block_count as u64 != len.div_ceil(BLOCK as u64) {
            return None;
        }
        let mut blocks = Vec::with_capacity(block_count);
        for _ in 0..block_count {
            let first = next()?;
            let offset = u32::try_from(next()?).ok()?;
            blocks.push((first, offset));
        }
        let gaps_len = usize::try_from(next()?).ok()?;
        let gaps = bytes.get(*at..at.checked_add(gaps_len)?)?.to_vec();
        *at += gaps_len;
        let offsets_rise = blocks
            .iter()
            .all(|&(_, offset)| offset as usize <= gaps.len());
        offsets_rise.then_some(Positions {
            gaps,
            blocks,
            len,
            last,
        })
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The varint at `at` and where the next one starts. The bytes are only ever
/// written by [`put_varint`], so they always end.
fn varint(bytes: &[u8], mut at: usize) -> (u64, usize) {
    let mut value = 0u64;
    let mut shift = 0;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
        shift += 7;
    }
    (value, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn positions(gaps: &[u64]) -> (Vec<u64>, Positions) {
        let mut plain = Vec::new();
        let mut compact = Positions::default();
        let mut position = 0;
        for gap in gaps {
            position += gap;
            plain.push(position);
            compact.push(position);
        }
        (plain, compact)
    }

    proptest! {
        #[test]
        fn given_rising_positions_then_every_lookup_answers_as_a_plain_list_would(
            gaps in prop::collection::vec(
                prop_oneof![Just(1u64), 1u64..200, 1u64..5_000_000_000],
                0..400,
            ),
            start in 0u64..420,
            limit in 0usize..300,
            probe in 0u64..2_000_000_000_000,
        ) {
            let (plain, compact) = positions(&gaps);
            let mut encoded = Vec::new();
            compact.encode(&mut encoded);
            let mut at = 0;
            let decoded = Positions::decode(&encoded, &mut at);
            prop_assert_eq!(decoded.as_ref(), Some(&compact));
            prop_assert_eq!(at, encoded.len());
            prop_assert_eq!(compact.len(), plain.len() as u64);
            let expected: Vec<u64> =
                plain.iter().skip(start as usize).take(limit).copied().collect();
            prop_assert_eq!(compact.from(start, limit), expected);
            for at in plain.iter().copied().chain([probe, 0]) {
                let expected = plain.partition_point(|&p| p <= at) as u64;
                prop_assert_eq!(compact.count_up_to(at), expected);
            }
        }
    }

    #[test]
    fn given_consecutive_positions_then_each_takes_about_a_byte() {
        let (_, compact) = positions(&vec![1; 64_000]);
        let bytes = compact.gaps.len() + compact.blocks.len() * 16;
        assert!(bytes < 64_000 * 5 / 4, "{bytes} bytes for 64,000 positions");
        assert_eq!(compact.from(63_999, 5), vec![64_000]);
    }
}
