//! What the runtime's tests share: command metadata and the scenario's agreements
//! commands played through a service.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use accord_boundary::Body;
use accord_kernel::{ActorId, Timestamp};
use accord_runtime::{AgreementsModel, CommandMeta, Service};
use accord_scenario::{Scenario, Service as ScenarioService};
use uuid::Uuid;

pub(crate) fn meta(actor: &str) -> CommandMeta {
    let command_id = Uuid::now_v7();
    CommandMeta {
        actor: ActorId::new(actor).unwrap(),
        command_id,
        correlation_id: command_id,
        causation_id: None,
        occurred_at: Timestamp::parse_rfc3339("2024-11-26T11:00:00Z").unwrap(),
        expected_version: None,
        command_digest: None,
        sender: None,
        signature: None,
    }
}

/// Handles every agreements command of the scenario, as JSON.
pub(crate) async fn run_agreements_steps(service: &Service<AgreementsModel>) {
    let scenario = Scenario::lt_ua().unwrap();
    // Progress on the funding commitment arrives by reaction from the projects
    // service, not as a step; without it nothing is reported delivered on it, so the
    // beneficiary's answers to those deliveries are left out here.
    for step in scenario
        .steps
        .iter()
        .filter(|s| s.service == ScenarioService::Agreements && !s.answers_a_reaction())
    {
        let meta = CommandMeta {
            occurred_at: step.occurred_at,
            ..meta(step.actor.as_str())
        };
        service
            .handle(&step.command, Body::Json(&step.body), &meta)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", step.command));
    }
}
