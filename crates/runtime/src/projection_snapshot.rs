//! Snapshots of a service's projections, kept in its log's `snapshots` folder as a
//! sealed file (see `accord_log::write_sealed`): the view as JSON, with the position
//! and hash of the last event it includes. Opening a service loads it and replays
//! only the events after it, once the log checked that its event at that position
//! has that hash; a snapshot that is missing, cut, flipped, of another Accord
//! version (the kind names it: folding rules may change between versions) or that
//! does not match the log is not used, and the projections are rebuilt from the
//! log. Written when opening replayed `snapshot_after` events or more beyond the
//! last one, and by the projector every `snapshot_after` events.

use std::path::Path;

use accord_boundary::ServiceDefinition;
use accord_log::{read_sealed, snapshot_dir, write_sealed, Covers};

const FILE: &str = "projections.snap";

fn kind<M: ServiceDefinition>() -> String {
    format!(
        "accord-projections-{}-{}",
        M::SERVICE,
        env!("CARGO_PKG_VERSION")
    )
}

/// The projections' snapshot in the log directory `dir`, if one is there whole (its
/// seal checked; whether it matches the log is for the log to check on open).
pub fn load<M: ServiceDefinition>(dir: &Path) -> Option<(Covers, M::View)> {
    let sealed = match read_sealed(&snapshot_dir(dir).join(FILE), &kind::<M>()) {
        Ok(sealed) => sealed?,
        Err(error) => {
            tracing::warn!(service = M::SERVICE, %error, "runtime.snapshot unreadable");
            return None;
        }
    };
    match serde_json::from_slice(&sealed.body) {
        Ok(view) => Some((sealed.covers, view)),
        Err(error) => {
            tracing::warn!(service = M::SERVICE, %error, "runtime.snapshot does not decode");
            None
        }
    }
}

/// Writes the projections' snapshot covering `covers`. A snapshot that cannot be
/// written only makes the next start slower: it is logged, not raised.
pub(crate) fn write<M: ServiceDefinition>(dir: &Path, covers: Covers, body: &[u8]) {
    // One writer at a time: each writes through the same file aside.
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _writing = WRITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let started = std::time::Instant::now();
    match write_sealed(&snapshot_dir(dir).join(FILE), &kind::<M>(), covers, body) {
        Ok(()) => tracing::info!(
            service = M::SERVICE,
            position = covers.position,
            bytes = body.len(),
            millis = started.elapsed().as_millis() as u64,
            "runtime.snapshot written"
        ),
        Err(error) => tracing::warn!(service = M::SERVICE, %error, "runtime.snapshot not written"),
    }
}

/// The view as a snapshot holds it.
pub(crate) fn encode<M: ServiceDefinition>(view: &M::View) -> Option<Vec<u8>> {
    serde_json::to_vec(view)
        .map_err(|error| {
            tracing::warn!(service = M::SERVICE, %error, "runtime.snapshot not encoded");
        })
        .ok()
}
