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

use accord_kernel::RecordedEvent;
use accord_log::{read_sealed, snapshot_dir, write_sealed, Covers, Replay};

use crate::service::{project_event, Model, StateCache};

const FILE: &str = "projections.snap";

fn kind<M: Model>() -> String {
    format!(
        "accord-projections-{}-{}",
        M::SERVICE,
        env!("CARGO_PKG_VERSION")
    )
}

/// The projections' snapshot in the log directory `dir`, if one is there whole (its
/// seal checked; whether it matches the log is for the log to check on open).
pub fn load<M: Model>(dir: &Path) -> Option<(Covers, M::View)> {
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
pub(crate) fn write<M: Model>(dir: &Path, covers: Covers, body: &[u8]) {
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
pub(crate) fn encode<M: Model>(view: &M::View) -> Option<Vec<u8>> {
    serde_json::to_vec(view)
        .map_err(|error| {
            tracing::warn!(service = M::SERVICE, %error, "runtime.snapshot not encoded");
        })
        .ok()
}

/// The projections being rebuilt while the log opens: from the snapshot if the log
/// accepts it, from nothing otherwise.
pub(crate) struct Rebuild<M: Model> {
    pub(crate) view: M::View,
    pub(crate) states: StateCache<M::State>,
    /// What the snapshot covered, if one was loaded and not given up.
    pub(crate) snapshot: Option<Covers>,
    /// The last event applied: its position and hash.
    pub(crate) applied: Option<Covers>,
    /// Set at the first event that does not decode: nothing after it is applied
    /// (the projector meets it again, reports it and stops there).
    pub(crate) undecodable: bool,
}

impl<M: Model> Rebuild<M> {
    pub(crate) fn new(dir: &Path, snapshots: bool) -> Rebuild<M> {
        let loaded = snapshots.then(|| load::<M>(dir)).flatten();
        let (snapshot, view) = match loaded {
            Some((covers, view)) => (Some(covers), view),
            None => (None, M::View::default()),
        };
        Rebuild {
            view,
            states: StateCache::default(),
            snapshot,
            applied: snapshot,
            undecodable: false,
        }
    }

    pub(crate) fn applied_position(&self) -> u64 {
        self.applied.map_or(0, |c| c.position)
    }

    /// Events applied beyond the snapshot (all of them without one).
    pub(crate) fn beyond_snapshot(&self) -> u64 {
        self.applied_position() - self.snapshot.map_or(0, |c| c.position)
    }
}

impl<M: Model> Replay for Rebuild<M> {
    fn covers(&self) -> Option<Covers> {
        self.snapshot
    }

    fn start_over(&mut self) {
        self.view = M::View::default();
        self.states = StateCache::default();
        self.snapshot = None;
        self.applied = None;
    }

    fn event(&mut self, event: &RecordedEvent) {
        if self.undecodable {
            return;
        }
        match project_event::<M>(&mut self.view, &self.states, event) {
            Ok(()) => self.applied = Some(covering(event)),
            Err(_) => self.undecodable = true,
        }
    }
}

pub(crate) fn covering(event: &RecordedEvent) -> Covers {
    Covers {
        position: event.position,
        hash: event.hash,
    }
}
