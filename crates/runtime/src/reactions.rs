//! Reactions over the bus: one durable consumer per flow on the source service's
//! stream. For each event it folds the aggregate as of that event from the service's
//! own log, works out the commands the event causes (`accord_boundary::reactions`)
//! and sends them to the target services as ordinary commands, then acknowledges.
//!
//! Exactly once in effect: each command's id derives from the source event id, so a
//! redelivered event (after a crash, an outage, a lost ack) is answered by the target
//! with what the first delivery did, and changes nothing. Its causation id is the
//! source event id; its correlation id is the source event's.

use std::sync::Arc;
use std::time::Duration;

use accord_boundary::reactions::REACTIONS_ACTOR;
use accord_bus::{
    stream_name, AccordClient, AckDecision, Bus, ClientError, CommandOptions, ConsumerSpec,
    Delivery,
};
use accord_kernel::RecordedEvent;
use accord_log::{decode_envelope, Log};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

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
}

impl Default for ReactionConfig {
    fn default() -> ReactionConfig {
        ReactionConfig {
            request_timeout: Duration::from_secs(10),
            retry_delay: Duration::from_millis(500),
            metrics: Arc::default(),
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
        let mut deliveries = match bus.consume(spec.clone()).await {
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
            let decision =
                react::<M>(&log, &client, &spec.durable, &message.payload, &config).await;
            let _ = decide.send(decision);
        }
    }
}

/// Handles one delivered event; the decision says whether it is done.
async fn react<M: Model>(
    log: &Log,
    client: &AccordClient,
    flow: &str,
    payload: &[u8],
    config: &ReactionConfig,
) -> AckDecision {
    let metrics = &config.metrics;
    let event = match decode_envelope(payload) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(flow, %error, "runtime.reactions undecodable envelope skipped");
            metrics.reaction_skipped(M::SERVICE, flow);
            return AckDecision::Term;
        }
    };
    let requests = match caused_requests::<M>(log, &event) {
        Ok(requests) => requests,
        Err(error) => {
            tracing::error!(flow, event_id = %event.event_id, %error, "runtime.reactions event skipped");
            metrics.reaction_skipped(M::SERVICE, flow);
            return AckDecision::Term;
        }
    };
    for (index, request) in requests.into_iter().enumerate() {
        let options = CommandOptions {
            actor: REACTIONS_ACTOR.to_owned(),
            command_id: reaction_command_id(flow, event.event_id, index),
            correlation_id: Some(event.correlation_id),
            causation_id: Some(event.event_id),
            occurred_at: Some(event.occurred_at.to_string()),
            expected_version: None,
            json: false,
        };
        let sent = client
            .command(request.service, request.command, request.body, &options)
            .await;
        match sent {
            Ok(_) => metrics.reaction(M::SERVICE, flow, ReactionOutcome::Sent),
            Err(error) if retryable(&error) => {
                tracing::debug!(flow, event_id = %event.event_id, %error, "runtime.reactions retrying");
                metrics.reaction(M::SERVICE, flow, ReactionOutcome::Retried);
                return AckDecision::Retry(config.retry_delay);
            }
            // The target refused for good: delivering again would be refused again.
            Err(error) => {
                tracing::error!(flow, event_id = %event.event_id, command = request.command, %error, "runtime.reactions command refused");
                metrics.reaction(M::SERVICE, flow, ReactionOutcome::Refused);
            }
        }
    }
    AckDecision::Ack
}

fn retryable(error: &ClientError) -> bool {
    match error {
        ClientError::Bus(error) => error.is_transient(),
        ClientError::Refused(reply) => reply.code == "unavailable" || reply.reason == "contended",
        ClientError::Unexpected(_) => false,
    }
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
) -> Result<Vec<accord_boundary::reactions::ReactionRequest>, ReactError> {
    let decoded = M::decode(&event.event_type, &event.payload)?;
    let mut failed = None;
    let mut history = || {
        let mut history = Vec::new();
        for recorded in log.read_stream(&event.stream, 1) {
            let loaded = recorded
                .map_err(ReactError::from)
                .and_then(|r| Ok((r.version, M::decode(&r.event_type, &r.payload)?)));
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
