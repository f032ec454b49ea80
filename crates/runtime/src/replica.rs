//! The actors registry as the projects and procurement services know it: they do
//! not hold it, the agreements service does, so they follow its actor events on
//! the bus (`accord.agreements.evt.actor.>`), from the stream's first message at
//! every start, into memory.
//!
//! A key registered a moment ago may not have reached the replica yet. A command it
//! signed is then answered `unavailable` (`registry_behind`, retryable) rather than
//! `unauthenticated`: the replica is behind while its consumer has messages pending
//! or the agreements service has events its relay has not published.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use accord_agreements::actor::Actor;
use accord_agreements::projections::AgreementsEvent;
use accord_boundary::ServiceDefinition;
use accord_bus::{stream_name, AccordClient, AckDecision, Bus, ConsumerSpec, Delivery};
use accord_contracts::v1::reply::Outcome;
use accord_log::decode_envelope;
use tokio::sync::watch;

use accord_boundary::AgreementsModel;

/// The agreements stream's subjects that carry actor events.
pub const ACTOR_EVENTS: &str = "accord.agreements.evt.actor.>";

/// The registry replica of one service.
#[derive(Debug, Default)]
pub struct Replica {
    actors: RwLock<BTreeMap<String, Actor>>,
    /// The bus it follows, and its consumer's name, once following.
    following: OnceLock<(Bus, String)>,
}

impl Replica {
    /// The actor `id` as the replica holds it now.
    pub fn actor(&self, id: &str) -> Option<Actor> {
        self.actors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// How many actors it holds.
    pub fn len(&self) -> usize {
        self.actors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn apply(&self, actor_id: &str, event: &accord_agreements::actor::ActorEvent) {
        let mut actors = self.actors.write().unwrap_or_else(PoisonError::into_inner);
        let actor = actors.remove(actor_id).unwrap_or_default();
        actors.insert(
            actor_id.to_owned(),
            AgreementsModel::evolve_actor(actor, event),
        );
    }

    /// Whether actor events may exist that the replica has not applied: its
    /// consumer has some pending, the agreements service has unpublished events, or
    /// either cannot be asked. Asked only when a signature did not verify.
    pub async fn behind(&self) -> bool {
        let Some((bus, durable)) = self.following.get() else {
            return true;
        };
        match bus
            .consumer_pending(&stream_name("agreements"), durable)
            .await
        {
            Ok(0) => {}
            _ => return true,
        }
        let client = AccordClient::new(bus.clone()).with_timeout(Duration::from_secs(2));
        match client.query("agreements", "LogStatus", Vec::new()).await {
            Ok(Outcome::LogStatus(status)) => status.relay_position < status.head_position,
            _ => true,
        }
    }
}

/// Follows the agreements service's actor events into `replica` until `shutdown`
/// turns true; `service` names the consumer.
pub async fn follow(
    service: &'static str,
    bus: Bus,
    replica: Arc<Replica>,
    mut shutdown: watch::Receiver<bool>,
) {
    let durable = format!("{service}-registry");
    let mut spec = ConsumerSpec::new(stream_name("agreements"), durable.clone(), ACTOR_EVENTS);
    // In memory only: read from the first message at every start.
    spec.from_start = true;
    let _ = replica.following.set((bus.clone(), durable));
    while !*shutdown.borrow() {
        let mut deliveries = match bus.consume(spec.clone()).await {
            Ok(deliveries) => deliveries,
            Err(error) => {
                // The stream appears when the agreements relay first runs.
                tracing::debug!(service, %error, "runtime.replica waiting for the agreements stream");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        loop {
            let delivery = tokio::select! {
                delivery = deliveries.recv() => delivery,
                _ = shutdown.changed() => return,
            };
            let Some(Delivery {
                message, decide, ..
            }) = delivery
            else {
                break;
            };
            let decision = match decode_envelope(&message.payload) {
                Ok(event) => {
                    match AgreementsModel::decode(
                        &event.event_type,
                        event.schema_version,
                        &event.payload,
                    ) {
                        Ok(AgreementsEvent::Actor(actor_event)) => {
                            replica.apply(event.stream.id(), &actor_event);
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::error!(service, position = event.position, %error, "runtime.replica actor event unreadable; skipped");
                        }
                    }
                    AckDecision::Ack
                }
                Err(error) => {
                    tracing::error!(service, subject = %message.subject, %error, "runtime.replica delivery unreadable; skipped");
                    AckDecision::Term
                }
            };
            let _ = decide.send(decision);
        }
    }
}
