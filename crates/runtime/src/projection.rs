//! The projections of a service: folding an event into its view and kept stream
//! states, the cache of those states, and the rebuild that fills them while the log
//! opens (from a snapshot if the log accepts it). What follows the log once it is
//! open is in `follower`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use accord_boundary::{BoundaryError, ServiceDefinition};
use accord_kernel::{EventMeta, RecordedEvent, StreamId};
use accord_log::{Covers, LogError, Replay};

use crate::projection_snapshot;

/// Streams' states as of a version, kept between commands: in-memory snapshots. The
/// projector folds every event it applies into them, so after the projections are
/// rebuilt at start no command reads a stream from its first event. Events never
/// change, so a kept state is never wrong, only behind: a load reads the events
/// after it. It holds at most [`StateCache::CAPACITY`] streams; when full it starts
/// over (the next load of each stream folds it from its first event again).
#[derive(Debug)]
pub(crate) struct StateCache<S> {
    /// Shared, not copied: a command decides against the kept state itself, and the
    /// projector copies it (`Arc::make_mut`) only while a command still holds it. A
    /// procurement market keeps every request of its item, so a copy per command
    /// would grow with the market.
    states: Mutex<HashMap<StreamId, (u64, Arc<S>)>>,
}

impl<S> Default for StateCache<S> {
    fn default() -> Self {
        StateCache {
            states: Mutex::default(),
        }
    }
}

impl<S: Default + Clone> StateCache<S> {
    const CAPACITY: usize = 10_000;

    /// The kept version and state of `stream`; version 0 and the initial state if none.
    pub(crate) fn get(&self, stream: &StreamId) -> (u64, Arc<S>) {
        let states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        states.get(stream).cloned().unwrap_or_default()
    }

    /// Keeps `state` as of `version`, unless a newer one is already kept.
    pub(crate) fn put(&self, stream: &StreamId, version: u64, state: &Arc<S>) {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        match states.get_mut(stream) {
            Some(kept) if kept.0 >= version => {}
            Some(kept) => *kept = (version, Arc::clone(state)),
            None => Self::insert(&mut states, stream, version, Arc::clone(state)),
        }
    }

    /// Moves the kept state of `stream` on by its event at `version` (`evolve`), if
    /// the state kept is the one just before; starts it at the stream's first event.
    fn follow(&self, stream: &StreamId, version: u64, evolve: impl FnOnce(&mut S)) {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        match states.get_mut(stream) {
            Some(kept) if kept.0 + 1 == version => {
                evolve(Arc::make_mut(&mut kept.1));
                kept.0 = version;
            }
            // Ahead already (a command loaded it), or behind after a restart of the
            // cache: a load catches it up from the log.
            Some(_) => {}
            None if version == 1 => {
                let mut state = S::default();
                evolve(&mut state);
                Self::insert(&mut states, stream, 1, Arc::new(state));
            }
            None => {}
        }
    }

    /// Keeps a stream not kept yet, starting over when the cache is full.
    fn insert(
        states: &mut HashMap<StreamId, (u64, Arc<S>)>,
        stream: &StreamId,
        version: u64,
        state: Arc<S>,
    ) {
        if states.len() >= Self::CAPACITY {
            states.clear();
        }
        states.insert(stream.clone(), (version, state));
    }
}

/// Decodes one event and folds it into the view and the kept stream states.
pub(crate) fn project_event<M: ServiceDefinition>(
    view: &mut M::View,
    states: &StateCache<M::State>,
    event: &RecordedEvent,
) -> Result<(), BoundaryError> {
    let decoded = M::decode(&event.event_type, event.schema_version, &event.payload)?;
    M::apply(view, &EventMeta::of(event), &decoded);
    states.follow(&event.stream, event.version, |state| {
        M::evolve(state, &decoded);
    });
    Ok(())
}

/// Applies one event to the view and the kept states; `None` (after logging why)
/// when the projector must stop there.
pub(crate) fn apply_event<M: ServiceDefinition>(
    view: &RwLock<M::View>,
    states: &StateCache<M::State>,
    event: Result<RecordedEvent, LogError>,
) -> Option<accord_log::Covers> {
    let event = match event {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(service = M::SERVICE, %error, "runtime.projector stopped");
            return None;
        }
    };
    let mut view = view.write().unwrap_or_else(PoisonError::into_inner);
    match project_event::<M>(&mut view, states, &event) {
        Ok(()) => Some(covering(&event)),
        Err(error) => {
            tracing::error!(service = M::SERVICE, position = event.position, %error, "runtime.projector undecodable event");
            None
        }
    }
}

/// The projections being rebuilt while the log opens: from the snapshot if the log
/// accepts it, from nothing otherwise.
pub(crate) struct Rebuild<M: ServiceDefinition> {
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

impl<M: ServiceDefinition> Rebuild<M> {
    pub(crate) fn new(dir: &Path, snapshots: bool) -> Rebuild<M> {
        let loaded = snapshots
            .then(|| projection_snapshot::load::<M>(dir))
            .flatten();
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

impl<M: ServiceDefinition> Replay for Rebuild<M> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> StreamId {
        StreamId::new("market", "155mm shell").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn kept_states_are_shared_and_moved_on_in_place_when_nobody_holds_them() {
        let cache = StateCache::<Vec<u64>>::default();
        cache.follow(&stream(), 1, |s| s.push(1));
        let (version, first) = cache.get(&stream());
        let (_, second) = cache.get(&stream());
        assert_eq!((version, first.as_slice()), (1, [1].as_slice()));
        assert!(Arc::ptr_eq(&first, &second), "a load shares the kept state");
        let held = Arc::as_ptr(&first);
        drop((first, second));
        cache.follow(&stream(), 2, |s| s.push(2));
        let (version, moved) = cache.get(&stream());
        assert_eq!((version, moved.as_slice()), (2, [1, 2].as_slice()));
        assert_eq!(Arc::as_ptr(&moved), held, "moved on in place, not copied");
    }

    #[test]
    fn a_state_a_command_still_holds_is_copied_before_it_moves_on() {
        let cache = StateCache::<Vec<u64>>::default();
        cache.follow(&stream(), 1, |s| s.push(1));
        let (_, deciding) = cache.get(&stream());
        cache.follow(&stream(), 2, |s| s.push(2));
        assert_eq!(
            deciding.as_slice(),
            [1],
            "the command's state does not change"
        );
        assert_eq!(cache.get(&stream()).1.as_slice(), [1, 2]);
    }
}
