//! Reactions over the bus: one durable consumer per flow on the source service's
//! stream. For each event it folds the aggregate as of that event from the service's
//! own log, works out the commands the event causes (`accord_boundary::reactions`)
//! and sends them to the target services as ordinary commands, then acknowledges.
//!
//! A command the target refuses for good, and a delivered message that is not an
//! event this service can read, are kept as [dead letters](crate::dead_letters)
//! before the delivery is finished; when they cannot be kept, the delivery is tried
//! again later.
//!
//! Exactly once in effect: each command's id derives from the source event id, so a
//! redelivered event (after a crash, an outage, a lost ack) is answered by the target
//! with what the first delivery did, and changes nothing. Its causation id is the
//! source event id; its correlation id is the source event's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use accord_boundary::reactions::{ReactionRequest, REACTIONS_ACTOR, REACTION_COMMANDS};
use accord_bus::{
    stream_name, AccordClient, AckDecision, Bus, ClientError, CommandOptions, ConsumerSpec,
    Delivery, Message,
};
use accord_kernel::signature::ActorKey;
use accord_kernel::RecordedEvent;
use accord_log::{decode_envelope, Log};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::dead_letters;
use crate::metrics::{Metrics, ReactionOutcome};
use crate::service::Model;

/// Settings of the reaction consumers.
#[derive(Debug, Clone)]
pub struct ReactionConfig {
    /// How long to wait for a target service's reply.
    pub request_timeout: Duration,
    /// How long to wait before redelivering an event whose target was unavailable.
    pub retry_delay: Duration,
    /// Where the commands the flows send are counted, by outcome.
    pub metrics: Arc<Metrics>,
    /// JetStream replicas of the dead-letter stream (`run_service` sets the
    /// service stream's).
    pub replicas: usize,
    /// Each service's reaction key (`reaction_key_dir`): the commands its flows
    /// send are signed with it. A service without one sends them unsigned, which a
    /// target that requires signatures refuses.
    pub keys: Arc<BTreeMap<String, ActorKey>>,
}

impl Default for ReactionConfig {
    fn default() -> ReactionConfig {
        ReactionConfig {
            request_timeout: Duration::from_secs(10),
            retry_delay: Duration::from_millis(500),
            metrics: Arc::default(),
            replicas: 1,
            keys: Arc::default(),
        }
    }
}

/// The command id of the `index`-th command `event_id` causes in `flow`: the same
/// on every delivery, different for every event, flow and index.
pub fn reaction_command_id(flow: &str, event_id: Uuid, index: usize) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"accord.reaction\x00");
    hash.update(flow.as_bytes());
    hash.update([0]);
    hash.update(event_id.as_bytes());
    hash.update((index as u64).to_be_bytes());
    command_id_of(hash)
}

/// A command id made from what `hash` has taken in: the same input, the same id.
pub(crate) fn command_id_of(hash: Sha256) -> Uuid {
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Runs every flow that starts from `M`'s events until `shutdown` turns true.
pub async fn run_reactions<M: Model>(
    log: Log,
    bus: Bus,
    config: ReactionConfig,
    shutdown: watch::Receiver<bool>,
) {
    let mut flows = JoinSet::new();
    for (flow, filter) in M::FLOWS {
        flows.spawn(run_flow::<M>(
            log.clone(),
            bus.clone(),
            config.clone(),
            ConsumerSpec::new(stream_name(M::SERVICE), *flow, *filter),
            shutdown.clone(),
        ));
    }
    while flows.join_next().await.is_some() {}
}

async fn run_flow<M: Model>(
    log: Log,
    bus: Bus,
    config: ReactionConfig,
    spec: ConsumerSpec,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = AccordClient::new(bus.clone()).with_timeout(config.request_timeout);
    while !*shutdown.borrow() {
        // The stream appears when the relay first runs; until then, and after any
        // failure, try again shortly.
        let dead_letters = dead_letters::stream_spec(M::SERVICE, config.replicas);
        let started = match bus.ensure_stream(&dead_letters).await {
            Ok(()) => bus.consume(spec.clone()).await,
            Err(error) => Err(error),
        };
        let mut deliveries = match started {
            Ok(deliveries) => deliveries,
            Err(error) => {
                tracing::debug!(flow = %spec.durable, %error, "runtime.reactions waiting for the stream");
                tokio::select! {
                    _ = tokio::time::sleep(config.retry_delay) => {}
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
            let Some(delivery) = delivery else { break };
            let Delivery {
                message, decide, ..
            } = delivery;
            let decision = react::<M>(&log, &client, &spec.durable, &message, &config).await;
            let _ = decide.send(decision);
        }
    }
}

/// Handles one delivered event; the decision says whether it is done.
async fn react<M: Model>(
    log: &Log,
    client: &AccordClient,
    flow: &str,
    delivered: &Message,
    config: &ReactionConfig,
) -> AckDecision {
    let metrics = &config.metrics;
    let event = match decode_envelope(&delivered.payload) {
        Ok(event) => event,
        Err(error) => {
            return skip::<M>(client.bus(), flow, delivered, error.to_string(), config).await
        }
    };
    let requests = match caused_requests::<M>(log, &event) {
        Ok(requests) => requests,
        Err(error) => {
            let error = format!("event {}: {error}", event.event_id);
            return skip::<M>(client.bus(), flow, delivered, error, config).await;
        }
    };
    for (index, request) in requests.into_iter().enumerate() {
        if !sends::<M>(&request) {
            // A reaction outside the service's table would be refused by its target:
            // kept for an operator, never sent.
            let error = format!(
                "event {}: the {} service's reactions do not send {}.{}",
                event.event_id,
                M::SERVICE,
                request.service,
                request.command
            );
            return skip::<M>(client.bus(), flow, delivered, error, config).await;
        }
        let options = CommandOptions {
            actor: REACTIONS_ACTOR.to_owned(),
            command_id: reaction_command_id(flow, event.event_id, index),
            correlation_id: Some(event.correlation_id),
            causation_id: Some(event.event_id),
            occurred_at: Some(event.occurred_at.to_string()),
            expected_version: None,
            json: false,
            key: config.keys.get(M::SERVICE).cloned(),
        };
        let request = options.request(request.service, request.command, request.body);
        let sent = client.send_command(request.clone(), false).await;
        match sent {
            Ok(_) => metrics.reaction(M::SERVICE, flow, ReactionOutcome::Sent),
            Err(error) if retryable(&error) => {
                tracing::debug!(flow, event_id = %event.event_id, %error, "runtime.reactions retrying");
                metrics.reaction(M::SERVICE, flow, ReactionOutcome::Retried);
                return AckDecision::Retry(config.retry_delay);
            }
            // The target refused for good: delivering again would be refused again.
            Err(error) => {
                tracing::error!(flow, event_id = %event.event_id, subject = %request.subject, %error, "runtime.reactions command refused");
                let letter = dead_letters::refused_command(M::SERVICE, flow, &request, &error);
                if let Err(retry) = keep(client.bus(), letter, flow, config).await {
                    return retry;
                }
                metrics.reaction(M::SERVICE, flow, ReactionOutcome::Refused);
            }
        }
    }
    AckDecision::Ack
}

/// Whether `request` is one of the commands `M`'s reactions exist to send.
fn sends<M: Model>(request: &ReactionRequest) -> bool {
    REACTION_COMMANDS.iter().any(|&(source, target, command)| {
        source == M::SERVICE && target == request.service && command == request.command
    })
}

/// Keeps a delivery this service cannot read as a dead letter, and finishes it for
/// good: delivered again, it could not be read again.
async fn skip<M: Model>(
    bus: &Bus,
    flow: &str,
    delivered: &Message,
    error: String,
    config: &ReactionConfig,
) -> AckDecision {
    tracing::error!(flow, subject = %delivered.subject, %error, "runtime.reactions delivery skipped");
    let letter = dead_letters::unreadable_delivery(M::SERVICE, flow, delivered, &error);
    if let Err(retry) = keep(bus, letter, flow, config).await {
        return retry;
    }
    config.metrics.reaction_skipped(M::SERVICE, flow);
    AckDecision::Term
}

/// Stores a dead letter; when it cannot be stored, the decision to try the delivery
/// again later (it is not finished while what went wrong is kept nowhere).
async fn keep(
    bus: &Bus,
    letter: Message,
    flow: &str,
    config: &ReactionConfig,
) -> Result<(), AckDecision> {
    bus.publish_batch(vec![letter]).await.map_err(|error| {
        tracing::warn!(flow, %error, "runtime.reactions dead letter not stored; retrying");
        AckDecision::Retry(config.retry_delay)
    })
}

/// A reaction also retries `contended`: it re-reads the stream and decides again.
fn retryable(error: &ClientError) -> bool {
    error.is_retryable() || error.reason() == Some("contended")
}

#[derive(Debug, thiserror::Error)]
enum ReactError {
    #[error(transparent)]
    Log(#[from] accord_log::LogError),
    #[error(transparent)]
    Boundary(#[from] accord_boundary::BoundaryError),
}

/// The requests `event` causes. Its stream's history up to it is read from this log
/// only when the answer depends on it: most events a flow sees cause nothing, and a
/// long-lived stream must not be read again for each of them.
fn caused_requests<M: Model>(
    log: &Log,
    event: &RecordedEvent,
) -> Result<Vec<ReactionRequest>, ReactError> {
    let decoded = M::decode(&event.event_type, event.schema_version, &event.payload)?;
    let mut failed = None;
    let mut history = || {
        let mut history = Vec::new();
        for recorded in log.read_stream(&event.stream, 1) {
            let loaded = recorded.map_err(ReactError::from).and_then(|r| {
                Ok((
                    r.version,
                    M::decode(&r.event_type, r.schema_version, &r.payload)?,
                ))
            });
            match loaded {
                Ok((version, _)) if version > event.version => break,
                Ok((_, decoded)) => history.push(decoded),
                Err(error) => {
                    failed = Some(error);
                    break;
                }
            }
        }
        history
    };
    let reactions = M::reactions(&event.stream, &decoded, &mut history);
    if let Some(error) = failed {
        return Err(error);
    }
    Ok(reactions
        .iter()
        .filter_map(|reaction| reaction.request())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_ids_are_stable_and_distinct() {
        let event = Uuid::now_v7();
        let id = reaction_command_id("f", event, 0);
        assert_eq!(id, reaction_command_id("f", event, 0));
        assert_ne!(id, reaction_command_id("f", event, 1));
        assert_ne!(id, reaction_command_id("g", event, 0));
        assert_ne!(id, reaction_command_id("f", Uuid::now_v7(), 0));
    }
}
