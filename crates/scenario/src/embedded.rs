//! Runs commands in memory: boundary parsing, the deciders, the reactions, and every
//! service's projections. No log, no bus: this is the pure core the services wrap.

use std::collections::BTreeMap;

use accord_agreements::actor::{Actor, ActorDecider, ActorError};
use accord_agreements::agreement::{AgreementDecider, AgreementError, AgreementStatus};
use accord_agreements::board::{BoardDecider, BoardError};
use accord_agreements::commitment::{CommitmentDecider, CommitmentError};
use accord_agreements::projections::{timeline, AgreementsEvent, AgreementsView, TimelineEntry};
use accord_agreements::Authorisation;
use accord_boundary::{
    parse_agreements_command, parse_procurement_command, parse_project_command, AgreementsCommand,
    Body, BoundaryError, Facts, ProcurementCommand,
};
use accord_kernel::{AggregateId, Decider, EventMeta, PartyId, StreamId, Timestamp};
use accord_procurement::market::{MarketDecider, MarketError};
use accord_procurement::policy::{Policy, PolicyDecider, PolicyError};
use accord_procurement::queue::{ProcurementEvent, ProcurementView};
use accord_projects::{Portfolio, ProjectDecider, ProjectError, ProjectEvent};

use crate::{reactions_to, reactions_to_project, Reaction, REACTIONS_ACTOR};
use crate::{Scenario, Service, Step};

/// An event of any of the three services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceEvent {
    Agreements(AgreementsEvent),
    Projects(ProjectEvent),
    Procurement(ProcurementEvent),
}

/// Why a command was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Boundary(#[from] BoundaryError),
    #[error(transparent)]
    Agreement(#[from] AgreementError),
    #[error(transparent)]
    Commitment(#[from] CommitmentError),
    #[error(transparent)]
    Board(#[from] BoardError),
    #[error(transparent)]
    Actor(#[from] ActorError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Market(#[from] MarketError),
    #[error("invalid stream id: {0}")]
    Stream(String),
    #[error("step {index} ({command}): {error}")]
    AtStep {
        index: usize,
        command: String,
        error: Box<StepError>,
    },
}

/// Three services' state, in memory.
#[derive(Debug, Clone, Default)]
pub struct Embedded {
    pub agreements: AgreementsView,
    pub actors: BTreeMap<String, Actor>,
    pub portfolio: Portfolio,
    pub procurement: ProcurementView,
    /// Every event of every service, in the order they happened, with metadata.
    pub log: Vec<(EventMeta, ServiceEvent)>,
    positions: BTreeMap<&'static str, u64>,
}

struct Context {
    actor: String,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
}

impl Embedded {
    /// One commitment's timeline, from its events in the log.
    pub fn timeline(&self, commitment_id: &str) -> Vec<TimelineEntry> {
        let agreements = self.log.iter().filter_map(|(meta, event)| match event {
            ServiceEvent::Agreements(event) => Some((meta, event)),
            _ => None,
        });
        timeline(commitment_id, agreements)
    }

    /// Runs every step; stops at the first that fails.
    pub fn run(&mut self, scenario: &Scenario) -> Result<(), StepError> {
        for (index, step) in scenario.steps.iter().enumerate() {
            self.execute(step).map_err(|error| StepError::AtStep {
                index,
                command: step.command.clone(),
                error: Box::new(error),
            })?;
        }
        Ok(())
    }

    /// Runs one step and the reactions it causes; returns every event, reactions' too.
    pub fn execute(&mut self, step: &Step) -> Result<Vec<ServiceEvent>, StepError> {
        let context = Context {
            actor: step.actor.to_string(),
            occurred_at: step.occurred_at,
            recorded_at: step.recorded_at,
        };
        let body = Body::Json(&step.body);
        let before = self.log.len();
        match step.service {
            Service::Agreements => {
                let command = parse_agreements_command(&step.command, body, &step.actor, self)?;
                self.agreements_command(command, &context)?;
            }
            Service::Projects => {
                let (id, command) = parse_project_command(&step.command, body, self)?;
                self.project_command(&id, &command, &context)?;
            }
            Service::Procurement => {
                let command = parse_procurement_command(&step.command, body, self)?;
                self.procurement_command(command, &context)?;
            }
        }
        Ok(self.log[before..].iter().map(|(_, e)| e.clone()).collect())
    }

    fn meta(
        &mut self,
        service: &'static str,
        category: &str,
        id: &str,
        context: &Context,
    ) -> Result<EventMeta, StepError> {
        let position = self.positions.entry(service).or_default();
        *position += 1;
        Ok(EventMeta {
            stream: StreamId::new(category, id).map_err(|e| StepError::Stream(e.to_string()))?,
            position: *position,
            occurred_at: context.occurred_at,
            recorded_at: context.recorded_at,
            actor: context.actor.clone(),
        })
    }

    fn agreements_command(
        &mut self,
        command: AgreementsCommand,
        context: &Context,
    ) -> Result<(), StepError> {
        let (id, category, events): (AggregateId, &str, Vec<AgreementsEvent>) = match &command {
            AgreementsCommand::Agreement(id, c) => {
                let state = self
                    .agreements
                    .agreements
                    .get(id.as_str())
                    .cloned()
                    .unwrap_or_default();
                let events = AgreementDecider::decide(&state, c)?;
                (
                    id.clone(),
                    "agreement",
                    events.into_iter().map(AgreementsEvent::Agreement).collect(),
                )
            }
            AgreementsCommand::Commitment(id, c) => {
                let state = self
                    .agreements
                    .commitments
                    .get(id.as_str())
                    .cloned()
                    .unwrap_or_default();
                let events = CommitmentDecider::decide(&state, c)?;
                (
                    id.clone(),
                    "commitment",
                    events
                        .into_iter()
                        .map(AgreementsEvent::Commitment)
                        .collect(),
                )
            }
            AgreementsCommand::Board(id, c) => {
                let state = self
                    .agreements
                    .boards
                    .get(id.as_str())
                    .cloned()
                    .unwrap_or_default();
                let events = BoardDecider::decide(&state, c)?;
                (
                    id.clone(),
                    "board",
                    events.into_iter().map(AgreementsEvent::Board).collect(),
                )
            }
            AgreementsCommand::Actor(id, c) => {
                let state = self.actors.get(id.as_str()).cloned().unwrap_or_default();
                let events = ActorDecider::decide(&state, c)?;
                (
                    id.clone(),
                    "actor",
                    events.into_iter().map(AgreementsEvent::Actor).collect(),
                )
            }
        };
        let mut reactions = Vec::new();
        for event in events {
            let meta = self.meta("agreements", category, id.as_str(), context)?;
            self.agreements.apply(&meta, &event);
            if let AgreementsEvent::Actor(e) = &event {
                let state = self.actors.remove(id.as_str()).unwrap_or_default();
                self.actors
                    .insert(id.to_string(), ActorDecider::evolve(state, e));
            }
            let commitments = &self.agreements.commitments;
            reactions.extend(reactions_to(&id, &event, || {
                commitments.get(id.as_str()).cloned()
            }));
            self.log.push((meta, ServiceEvent::Agreements(event)));
        }
        self.react(reactions, context)
    }

    fn project_command(
        &mut self,
        id: &AggregateId,
        command: &accord_projects::ProjectCommand,
        context: &Context,
    ) -> Result<(), StepError> {
        let state = self
            .portfolio
            .projects
            .get(id.as_str())
            .cloned()
            .unwrap_or_default();
        let events = ProjectDecider::decide(&state, command)?;
        let mut reactions = Vec::new();
        for event in events {
            let meta = self.meta("projects", "project", id.as_str(), context)?;
            self.portfolio.apply(&meta, &event);
            if let Some(project) = self.portfolio.projects.get(id.as_str()) {
                reactions.extend(reactions_to_project(id, &event, || project.clone()));
            }
            self.log.push((meta, ServiceEvent::Projects(event)));
        }
        self.react(reactions, context)
    }

    fn procurement_command(
        &mut self,
        command: ProcurementCommand,
        context: &Context,
    ) -> Result<(), StepError> {
        let (category, id, events) = match &command {
            ProcurementCommand::Policy(c) => {
                let events = PolicyDecider::decide(&self.procurement.policy, c)?;
                (
                    "policy",
                    "main".to_owned(),
                    events
                        .into_iter()
                        .map(ProcurementEvent::Policy)
                        .collect::<Vec<_>>(),
                )
            }
            ProcurementCommand::Market(item, c) => {
                let state = self
                    .procurement
                    .markets
                    .get(item)
                    .cloned()
                    .unwrap_or_default();
                let events = MarketDecider::decide(&state, c)?;
                (
                    "market",
                    item.clone(),
                    events.into_iter().map(ProcurementEvent::Market).collect(),
                )
            }
        };
        for event in events {
            let meta = self.meta("procurement", category, &id, context)?;
            self.procurement.apply(&meta, &event);
            self.log.push((meta, ServiceEvent::Procurement(event)));
        }
        Ok(())
    }

    fn react(&mut self, reactions: Vec<Reaction>, cause: &Context) -> Result<(), StepError> {
        let context = Context {
            actor: REACTIONS_ACTOR.to_owned(),
            occurred_at: cause.occurred_at,
            recorded_at: cause.recorded_at,
        };
        for reaction in reactions {
            match reaction {
                Reaction::Project(id, command) => self.project_command(&id, &command, &context)?,
                Reaction::Commitment(id, command) => {
                    self.agreements_command(AgreementsCommand::Commitment(id, command), &context)?;
                }
                Reaction::Policy(command) => {
                    self.procurement_command(ProcurementCommand::Policy(command), &context)?
                }
                Reaction::Market(item, command) => {
                    self.procurement_command(ProcurementCommand::Market(item, command), &context)?;
                }
            }
        }
        Ok(())
    }
}

impl Facts for Embedded {
    fn agreement_status(&self, agreement_id: &AggregateId) -> AgreementStatus {
        self.agreements.agreement_status(agreement_id.as_str())
    }

    fn agreement_state_parties(&self, agreement_id: &AggregateId) -> Vec<PartyId> {
        self.agreements.state_parties(agreement_id.as_str())
    }

    fn motion(&self, motion_id: &AggregateId) -> Option<Authorisation> {
        self.agreements.motion(motion_id)
    }

    fn policy(&self) -> Policy {
        self.procurement.policy.clone()
    }

    fn market_of(&self, id: &AggregateId) -> Option<String> {
        self.procurement.market_of(id)
    }
}
