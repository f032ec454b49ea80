//! The actors registry as an agreements log recorded it, for checking the
//! signatures of the logs of services that do not hold it (projects,
//! procurement). Those services learned the registry from the agreements
//! service's actor events; an event of theirs is checked against the registry as
//! it stood at the event's log time: every actor event recorded no later.

use std::collections::BTreeMap;

use accord_agreements::actor::{Actor, ActorEvent};
use accord_agreements::projections::AgreementsEvent;
use accord_kernel::{RecordedEvent, Timestamp};
use accord_runtime::{AgreementsModel, ServiceDefinition};

/// Every actor event of an agreements log, in log order, with its log time.
#[derive(Debug, Default)]
pub struct RegistryHistory {
    /// Whether an agreements log was read at all (an empty registry is a fact too).
    read: bool,
    events: Vec<(Timestamp, String, ActorEvent)>,
}

impl RegistryHistory {
    /// Marks that an agreements log is being read into the history.
    pub fn reading(&mut self) {
        self.read = true;
    }

    pub fn is_known(&self) -> bool {
        self.read
    }

    /// Keeps `event` when it is an actor event (others are not the registry's).
    pub fn record(&mut self, event: &RecordedEvent, decoded: &AgreementsEvent) {
        if let AgreementsEvent::Actor(actor_event) = decoded {
            self.events.push((
                event.recorded_at,
                event.stream.id().to_owned(),
                actor_event.clone(),
            ));
        }
    }

    /// A registry that replays the history up to each time asked.
    pub fn replay(&self) -> RegistryAt<'_> {
        RegistryAt {
            history: self,
            next: 0,
            actors: BTreeMap::new(),
        }
    }
}

/// The registry replayed up to some log time.
#[derive(Debug)]
pub struct RegistryAt<'a> {
    history: &'a RegistryHistory,
    next: usize,
    actors: BTreeMap<String, Actor>,
}

impl RegistryAt<'_> {
    /// The registry with every actor event recorded at or before `at` (times asked
    /// never decrease, as log times along one log do not).
    pub fn at(&mut self, at: Timestamp) -> &BTreeMap<String, Actor> {
        while let Some((recorded_at, actor_id, event)) = self.history.events.get(self.next) {
            if *recorded_at > at {
                break;
            }
            let actor = self.actors.remove(actor_id).unwrap_or_default();
            self.actors.insert(
                actor_id.clone(),
                AgreementsModel::evolve_actor(actor, event),
            );
            self.next += 1;
        }
        &self.actors
    }
}

/// The agreements event `event`, decoded, when it is in an actor stream.
pub fn actor_event_of(event: &RecordedEvent) -> Option<AgreementsEvent> {
    if event.stream.category() != "actor" {
        return None;
    }
    AgreementsModel::decode(&event.event_type, event.schema_version, &event.payload).ok()
}
