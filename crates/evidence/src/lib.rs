//! The evidence an auditor can check without trusting the operator, in public formats
//! so that any language's tools can check it too:
//!
//! - [`merkle`]: the RFC 9162 Merkle tree over a log's events, inclusion and
//!   consistency proofs, made from stored subtree hashes and verified as the RFC says;
//! - [`note`]: C2SP `signed-note` (Ed25519, signature type 0x01), with its key names,
//!   key ids and verifier keys;
//! - [`checkpoint`]: C2SP `tlog-checkpoint`, the tree head a log signs;
//! - [`tiles`]: the tree stored as C2SP `tlog-tiles` tiles, grown group by group;
//! - [`cosignature`]: C2SP `tlog-cosignature` (`cosignature/v1`, type 0x04), a
//!   witness's timestamped signature on a checkpoint;
//! - [`witness`]: C2SP `tlog-witness` add-checkpoint, what a witness co-signs and
//!   what it refuses;
//! - [`proof`]: C2SP `tlog-proof`, an offline proof that an event is in a
//!   co-signed tree.
//!
//! No I/O: where the subtree hashes live is the caller's ([`merkle::SubtreeHashes`]).

pub mod checkpoint;
pub mod cosignature;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod witness;
