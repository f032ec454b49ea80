//! What an audit check found wrong, shared by the checks of `accord audit verify`
//! (the chain and replay in `verify`, the checkpoints in `checkpoints`).

use serde::Serialize;

/// What went wrong, with a code that stays stable across versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// e.g. `hash_mismatch`, `broken_link`, `gap`, `version_jump`, `head_mismatch`,
    /// `undecodable`, `undecodable_payload`, `unknown_service`, `storage`.
    pub code: &'static str,
    pub position: Option<u64>,
    pub event_id: Option<String>,
    pub reason: String,
}
