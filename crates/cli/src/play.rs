//! Playing a scenario through the services, over the bus, the way any client would:
//! one command request per step, then waiting until the reactions the step causes
//! (which run asynchronously, over the bus) have landed. The pure in-memory run of
//! the same steps says how many events each service's log must then hold.

use std::collections::BTreeMap;
use std::time::Duration;

use accord_bus::{AccordClient, ClientError, CommandOptions};
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_runtime::queries;
use accord_scenario::{Embedded, Service as ScenarioService, ServiceEvent, Step};
use prost::Message as _;

pub fn service_name(service: ScenarioService) -> &'static str {
    match service {
        ScenarioService::Agreements => "agreements",
        ScenarioService::Projects => "projects",
        ScenarioService::Procurement => "procurement",
    }
}

/// Why playing did not complete.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error("step {index} ({command}): {error}")]
    Step {
        index: usize,
        command: String,
        error: ClientError,
    },
    #[error("step {index} ({command}) in the model: {error}")]
    Model {
        index: usize,
        command: String,
        error: String,
    },
    #[error("step body is not valid for {command}: {error}")]
    Body { command: String, error: String },
    #[error("services did not settle within {after:?}: {behind}")]
    Unsettled { after: Duration, behind: String },
    #[error("{service} did not answer within {after:?}: {error}")]
    NotReady {
        service: String,
        after: Duration,
        error: ClientError,
    },
}

/// A scenario step as a command request: options (with a fresh command id) and body.
fn step_request(step: &Step, json: bool) -> Result<(CommandOptions, Vec<u8>), ClientError> {
    // Every step is signed with its actor's own (fixed-seed) key, registered by
    // the scenario itself or configured as a trust root; what a service sends itself
    // (its deadline watcher's notices) with that service's key.
    let key = if step.actor.as_str() == accord_boundary::reactions::REACTIONS_ACTOR {
        accord_scenario::service_key(service_name(step.service))
    } else {
        accord_scenario::actor_key(step.actor.as_str())
    };
    let mut options = CommandOptions::new(step.actor.as_str()).signed_with(key);
    options.occurred_at = Some(step.occurred_at.to_string());
    options.json = json;
    let body = if json {
        step.body.clone().into_bytes()
    } else {
        // Scenario bodies were checked against the contract when the scenario loaded.
        accord_contracts::json_to_protobuf(&format!("accord.v1.{}", step.command), &step.body)
            .map_err(|e| ClientError::Unexpected(e.to_string()))?
    };
    Ok((options, body))
}

/// Sends one scenario step as a command, JSON or protobuf, once.
pub async fn send_step(
    client: &AccordClient,
    step: &Step,
    json: bool,
) -> Result<pb::CommandResult, ClientError> {
    let (options, body) = step_request(step, json)?;
    client
        .command(service_name(step.service), &step.command, body, &options)
        .await
}

/// Sends one scenario step, retrying with the same command id while the bus fails
/// (a NATS node went away, a service is reconnecting) or the service answers the
/// retryable `unavailable`, as a careful client does: a
/// retry of a command that did land is answered with its first result.
pub async fn send_step_retrying(
    client: &AccordClient,
    step: &Step,
    json: bool,
    patience: Duration,
) -> Result<pb::CommandResult, ClientError> {
    let (options, body) = step_request(step, json)?;
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let sent = client
            .command(
                service_name(step.service),
                &step.command,
                body.clone(),
                &options,
            )
            .await;
        match sent {
            Err(error) if error.is_retryable() && tokio::time::Instant::now() < deadline => {
                tracing::debug!(%error, command = %step.command, "accord.play retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// The number of events each service's log holds after the pure run so far.
pub fn expected_heads(pure: &Embedded) -> BTreeMap<&'static str, u64> {
    let mut heads = BTreeMap::from([("agreements", 0), ("projects", 0), ("procurement", 0)]);
    for (_, event) in &pure.log {
        let service = match event {
            ServiceEvent::Agreements(_) => "agreements",
            ServiceEvent::Projects(_) => "projects",
            ServiceEvent::Procurement(_) => "procurement",
        };
        if let Some(head) = heads.get_mut(service) {
            *head += 1;
        }
    }
    heads
}

pub async fn log_status(
    client: &AccordClient,
    service: &str,
) -> Result<pb::LogStatus, ClientError> {
    match client.query(service, "LogStatus", Vec::new()).await? {
        Outcome::LogStatus(status) => Ok(status),
        other => Err(ClientError::Unexpected(format!("{other:?}"))),
    }
}

/// Waits until `service` answers queries.
pub async fn wait_ready(
    client: &AccordClient,
    service: &str,
    patience: Duration,
) -> Result<(), PlayError> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match log_status(client, service).await {
            Ok(_) => return Ok(()),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(PlayError::NotReady {
                    service: service.to_owned(),
                    after: patience,
                    error,
                })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Waits until every service's log holds `expected` events, its relay has published
/// them all and its projections have applied them all.
pub async fn settle(
    client: &AccordClient,
    expected: &BTreeMap<&'static str, u64>,
    patience: Duration,
) -> Result<(), PlayError> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let mut behind = Vec::new();
        for (service, head) in expected {
            match log_status(client, service).await {
                Ok(status)
                    if status.head_position == *head
                        && status.relay_position == *head
                        && status.applied_position == *head => {}
                Ok(status) => behind.push(format!(
                    "{service}: head {} relay {} applied {} (want {head})",
                    status.head_position, status.relay_position, status.applied_position
                )),
                Err(error) => behind.push(format!("{service}: {error}")),
            }
        }
        if behind.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(PlayError::Unsettled {
                after: patience,
                behind: behind.join("; "),
            });
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends step `index`, runs it in `pure` too, and waits for the services to settle.
pub async fn play_step(
    client: &AccordClient,
    steps: &[Step],
    index: usize,
    pure: &mut Embedded,
    json: bool,
    patience: Duration,
) -> Result<pb::CommandResult, PlayError> {
    let step = &steps[index];
    let result = send_step_retrying(client, step, json, patience)
        .await
        .map_err(|error| PlayError::Step {
            index,
            command: step.command.clone(),
            error,
        })?;
    pure.execute(step).map_err(|error| PlayError::Model {
        index,
        command: step.command.clone(),
        error: error.to_string(),
    })?;
    settle(client, &expected_heads(pure), patience).await?;
    Ok(result)
}

/// Each project's status (id → status), as the projects service answers over the bus.
pub async fn project_statuses(
    client: &AccordClient,
) -> Result<BTreeMap<String, String>, ClientError> {
    match client
        .query("projects", "ProjectPortfolio", Vec::new())
        .await?
    {
        Outcome::Portfolio(portfolio) => Ok(portfolio
            .projects
            .into_iter()
            .map(|p| (p.id, p.status))
            .collect()),
        other => Err(ClientError::Unexpected(format!("{other:?}"))),
    }
}

/// Every projection, as queried over the bus, and as the pure run has it.
pub async fn projections(
    client: &AccordClient,
    items: &[QueueOf],
) -> Result<Vec<Outcome>, ClientError> {
    let mut out = Vec::new();
    for (service, query) in [
        ("agreements", "AgreementRegister"),
        ("agreements", "CommitmentLedger"),
        ("agreements", "BoardDecisions"),
        ("projects", "ProjectPortfolio"),
        ("procurement", "PriorityPolicy"),
    ] {
        out.push(client.query(service, query, Vec::new()).await?);
    }
    for queue in items {
        let body = queue.query().encode_to_vec();
        out.push(
            client
                .query("procurement", "ProcurementQueue", body)
                .await?,
        );
    }
    Ok(out)
}

/// `today` is the date the services count days late to (their clock's).
pub fn expected_projections(
    pure: &Embedded,
    items: &[QueueOf],
    today: accord_kernel::Date,
) -> Vec<Outcome> {
    let mut out = vec![
        Outcome::Agreements(queries::agreement_register(pure.agreements())),
        Outcome::Ledger(queries::commitment_ledger(pure.agreements(), today)),
        Outcome::Decisions(queries::board_decisions(pure.agreements())),
        Outcome::Portfolio(queries::project_portfolio(pure.portfolio(), today)),
        Outcome::Policy(queries::priority_policy(pure.procurement())),
    ];
    for queue in items {
        out.push(Outcome::Queue(queries::procurement_queue(
            pure.procurement(),
            &queue.item,
            queue.controlled_by.as_ref(),
        )));
    }
    out
}

/// One procurement queue: an item (market), ranked for the supply one party controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOf {
    pub item: String,
    /// `None`: as for supply nobody promised priority for.
    pub controlled_by: Option<accord_kernel::PartyId>,
}

impl QueueOf {
    /// The ProcurementQueue query asking for it.
    pub fn query(&self) -> pb::ProcurementQueueQuery {
        pb::ProcurementQueueQuery {
            item: self.item.clone(),
            controlled_by: self
                .controlled_by
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            ..Default::default()
        }
    }
}

/// The queues of every item (market) the pure run has: one per party controlling
/// supply in it ([`accord_procurement::queue::ProcurementView::queue_keys`]).
pub fn items(pure: &Embedded) -> Vec<QueueOf> {
    pure.procurement()
        .queue_keys()
        .into_iter()
        .map(|(item, controlled_by)| QueueOf {
            item,
            controlled_by,
        })
        .collect()
}
