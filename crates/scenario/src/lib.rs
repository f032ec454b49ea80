//! The Lithuania–Ukraine strategic cooperation agreement
//! (`shared/source/agreement-announcement.txt`) as scenario data: commands with
//! actors, business times and log times, in the contract's JSON mapping, so the same
//! file drives the deciders in tests, the demo, and clients over NATS.
//!
//! [`Embedded`] runs a scenario in memory through the services' own definitions (the
//! boundary's `ServiceDefinition`s the runtime serves), with the cross-service
//! reactions, and keeps every service's projections.

mod embedded;

use accord_kernel::signature::ActorKey;
use accord_kernel::{ActorId, PartyId, Timestamp};

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

impl Step {
    /// Whether the step answers what another service's reaction brought about (the
    /// beneficiary confirming or disputing a delivery that a disbursement reported):
    /// a run of one service alone, without the reactions, leaves such steps out.
    pub fn answers_a_reaction(&self) -> bool {
        matches!(self.command.as_str(), "ConfirmDelivery" | "DisputeDelivery")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    /// Each party's administrator: it registers the party's actors.
    pub trust_roots: Vec<TrustRootEntry>,
    pub steps: Vec<Step>,
}

/// A party's administrator as the scenario names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRootEntry {
    pub party: PartyId,
    pub actor: ActorId,
    /// Standard base64 of the Ed25519 public key.
    pub public_key: String,
}

/// The scenario's key of `actor` (an actor, or a party's administrator): derived
/// from its id, so every run signs alike and golden outputs stay stable. Anyone can
/// derive it: scenario keys are for the demo and tests, never a deployment.
pub fn actor_key(actor: &str) -> ActorKey {
    ActorKey::derived_for_tests(actor)
}

/// The scenario's reaction key of `service`, derived like [`actor_key`].
pub fn service_key(service: &str) -> ActorKey {
    ActorKey::derived_for_tests(&format!("service/{service}"))
}

/// The three services' reaction keys as the `service_keys` setting takes them.
pub fn service_keys_setting() -> String {
    ["agreements", "projects", "procurement"]
        .iter()
        .map(|service| format!("{service}:{}", service_key(service).public_key_base64()))
        .collect::<Vec<_>>()
        .join(",")
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
        let trust_roots = value["trustRoots"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(parse_trust_root)
            .collect::<Result<_, _>>()
            .map_err(ScenarioError::Json)?;
        let steps = value["steps"]
            .as_array()
            .ok_or_else(|| ScenarioError::Json("missing steps".into()))?
            .iter()
            .enumerate()
            .map(|(index, step)| {
                parse_step(step).map_err(|reason| ScenarioError::Step { index, reason })
            })
            .collect::<Result<_, _>>()?;
        Ok(Scenario {
            name,
            trust_roots,
            steps,
        })
    }

    /// The index of the last `command` step whose body mentions `text`, e.g. the
    /// vote that adopts a motion: tests cut the scenario there, by meaning rather
    /// than by a number that moves when a step is added.
    pub fn last_step(&self, command: &str, text: &str) -> Option<usize> {
        self.steps
            .iter()
            .rposition(|step| step.command == command && step.body.contains(text))
    }

    /// The scenario's administrators as the `trust_roots` setting takes them.
    pub fn trust_roots_setting(&self) -> String {
        self.trust_roots
            .iter()
            .map(|root| format!("{}:{}:{}", root.party, root.actor, root.public_key))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn parse_trust_root(root: &serde_json::Value) -> Result<TrustRootEntry, String> {
    let text = |key: &str| {
        root[key]
            .as_str()
            .ok_or_else(|| format!("trustRoots: missing {key}"))
    };
    Ok(TrustRootEntry {
        party: PartyId::new(text("party")?).map_err(|e| format!("trustRoots: {e}"))?,
        actor: ActorId::new(text("actor")?).map_err(|e| format!("trustRoots: {e}"))?,
        public_key: text("publicKey")?.to_owned(),
    })
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
