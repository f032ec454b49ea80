//! Stored envelope bytes, as verification reads them in place, against the protobuf
//! decoder: both must refuse the same bytes (but for stream ids, which the in-place
//! reader leaves to the walk), agree on whether the bytes are canonical, and hash
//! the same fields to the same hash.
#![no_main]

use accord_log::{check_envelope, compute_hash, decode_envelope, encode_envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    match (check_envelope(bytes), decode_envelope(bytes)) {
        (Ok(check), Ok(event)) => {
            let canonical = encode_envelope(&event) == bytes;
            assert_eq!(check.canonical, canonical, "canonical verdicts differ");
            assert_eq!(check.position, event.position);
            assert_eq!(check.stored_hash, event.hash);
            if canonical {
                assert_eq!(check.computed_hash, compute_hash(&event), "hashes differ");
            }
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => assert!(error.contains("stream"), "decoder alone refused: {error}"),
        (Err(error), Ok(_)) => panic!("in-place reader alone refused: {error}"),
    }
});
