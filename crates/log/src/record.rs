//! Group records: the envelopes of consecutive positions stored together in one sled
//! value, each prefixed by its length (u32, big-endian). A record's key is the
//! position of its first envelope. sled's cost is per key written, so one key per
//! group (split at [`MAX_RECORD_BYTES`]) instead of one per event is what lets the
//! log keep up with raw sled (see BENCHMARKS.md).

/// A record is closed once adding the next envelope would pass this size, so every
/// sled node stays within the segment log the log fdatasyncs (see `config`).
pub(crate) const MAX_RECORD_BYTES: usize = 64 * 1024;

/// The envelope framed at `offset` and the offset after it; `None` at the end of the
/// record, `Err(offset)` where the framing is broken.
pub(crate) fn next_entry(value: &[u8], offset: usize) -> Option<Result<(&[u8], usize), usize>> {
    if offset >= value.len() {
        return None;
    }
    let entry = value
        .get(offset..offset + 4)
        .and_then(|len| <[u8; 4]>::try_from(len).ok())
        .map(|len| u32::from_be_bytes(len) as usize)
        .and_then(|len| value.get(offset + 4..offset + 4 + len));
    Some(match entry {
        Some(envelope) if !envelope.is_empty() => Ok((envelope, offset + 4 + envelope.len())),
        _ => Err(offset),
    })
}

/// The envelopes of one record, in order; `Err` with the byte offset where the
/// framing is broken (and nothing after it).
pub fn record_entries(value: &[u8]) -> impl Iterator<Item = Result<&[u8], usize>> + '_ {
    let mut offset = Some(0);
    std::iter::from_fn(move || {
        let entry = next_entry(value, offset?)?;
        offset = entry.ok().map(|(_, next)| next);
        Some(entry.map(|(envelope, _)| envelope))
    })
}

/// Frames envelopes into one record value.
pub fn build_record<'a>(envelopes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut value = Vec::new();
    for envelope in envelopes {
        push_entry(&mut value, envelope);
    }
    value
}

pub(crate) fn push_entry(value: &mut Vec<u8>, envelope: &[u8]) {
    // Envelopes are at most MAX_EVENT_BYTES_LIMIT, far below u32::MAX.
    value.extend_from_slice(&(envelope.len() as u32).to_be_bytes());
    value.extend_from_slice(envelope);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_frame_and_unframe_envelopes() {
        let record = build_record([&b"one"[..], b"two", b"three"]);
        let entries: Vec<_> = record_entries(&record).collect();
        assert_eq!(
            entries,
            [Ok(&b"one"[..]), Ok(&b"two"[..]), Ok(&b"three"[..])]
        );
    }

    #[test]
    fn broken_framing_is_reported_where_it_breaks() {
        let mut record = build_record([&b"one"[..], b"two"]);
        record.truncate(record.len() - 1);
        let entries: Vec<_> = record_entries(&record).collect();
        assert_eq!(entries, [Ok(&b"one"[..]), Err(7)]);
        let zero_length = [0u8, 0, 0, 0];
        assert_eq!(record_entries(&zero_length).collect::<Vec<_>>(), [Err(0)]);
    }
}
