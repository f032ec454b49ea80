//! The evidence an auditor can check without trusting the operator, in public formats
//! so that any language's tools can check it too:
//!
//! - [`merkle`]: the RFC 9162 Merkle tree over a log's events, inclusion and
//!   consistency proofs, made from stored subtree hashes and verified as the RFC says;
//! - [`note`]: C2SP `signed-note` (Ed25519, signature type 0x01), with its key names,
//!   key ids and verifier keys;
//! - [`checkpoint`]: C2SP `tlog-checkpoint`, the tree head a log signs;
//! - [`tiles`]: the tree stored as C2SP `tlog-tiles` tiles, grown group by group.
//!
//! No I/O: where the subtree hashes live is the caller's ([`merkle::SubtreeHashes`]).

pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod tiles;
