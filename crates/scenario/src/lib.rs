//! The Lithuania–Ukraine strategic cooperation agreement
//! (`shared/source/agreement-announcement.txt`) as scenario data: commands with
//! actors, business times and log times, in the contract's JSON mapping, so the same
//! file drives the deciders in tests, the demo, and clients over NATS.
//!
//! [`Embedded`] runs a scenario in memory through the services' own definitions (the
//! boundary's `ServiceDefinition`s the runtime serves), with the cross-service
//! reactions, and keeps every service's projections.

mod embedded;

use accord_kernel::{ActorId, Timestamp};

pub use accord_boundary::reactions::{
    reactions_to, reactions_to_project, Reaction, REACTIONS_ACTOR,
};
pub use embedded::{Embedded, ServiceEvent, StepError};

/// The scenario of the source text.
pub const LT_UA: &str = include_str!("../data/lt-ua.json");

/// Which service a command is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Agreements,
    Projects,
    Procurement,
}

/// One command of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub service: Service,
    /// Command message name, e.g. `SignAgreement`.
    pub command: String,
    pub actor: ActorId,
    /// Business time: when the fact happened.
    pub occurred_at: Timestamp,
    /// Log time the scenario stands for (what a test clock should read).
    pub recorded_at: Timestamp,
    /// The command in the proto3 JSON mapping.
    pub body: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    pub steps: Vec<Step>,
}

/// Why a scenario file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario is not valid json: {0}")]
    Json(String),
    #[error("step {index}: {reason}")]
    Step { index: usize, reason: String },
}

impl Scenario {
    /// The agreement from the source text.
    pub fn lt_ua() -> Result<Scenario, ScenarioError> {
        Scenario::parse(LT_UA)
    }

    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ScenarioError::Json(e.to_string()))?;
        let name = value["name"].as_str().unwrap_or("scenario").to_owned();
        let steps = value["steps"]
            .as_array()
            .ok_or_else(|| ScenarioError::Json("missing steps".into()))?
            .iter()
            .enumerate()
            .map(|(index, step)| {
                parse_step(step).map_err(|reason| ScenarioError::Step { index, reason })
            })
            .collect::<Result<_, _>>()?;
        Ok(Scenario { name, steps })
    }
}

fn parse_step(step: &serde_json::Value) -> Result<Step, String> {
    let text = |key: &str| step[key].as_str().ok_or_else(|| format!("missing {key}"));
    let service = match text("service")? {
        "agreements" => Service::Agreements,
        "projects" => Service::Projects,
        "procurement" => Service::Procurement,
        other => return Err(format!("unknown service {other}")),
    };
    let time = |key: &str| Timestamp::parse_rfc3339(text(key)?).map_err(|e| e.to_string());
    Ok(Step {
        service,
        command: text("command")?.to_owned(),
        actor: ActorId::new(text("actor")?).map_err(|e| e.to_string())?,
        occurred_at: time("occurredAt")?,
        recorded_at: time("recordedAt")?,
        body: step["body"].to_string(),
        note: step["note"].as_str().map(str::to_owned),
    })
}
