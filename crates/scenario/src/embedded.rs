//! Runs commands in memory through the services' own definitions
//! ([`ServiceDefinition`]: parsing, streams, decide/evolve, projections, reactions),
//! the same the runtime serves. No log, no bus: this is the pure core the services
//! wrap, and nothing here decides by itself.

use std::collections::BTreeMap;

use accord_agreements::actor::Actor;
use accord_agreements::projections::{timeline, AgreementsEvent, AgreementsView, TimelineEntry};
use accord_boundary::{
    AgreementsCommand, AgreementsModel, Body, BoundaryError, DomainRefusal, ProcurementCommand,
    ProcurementModel, ProjectsModel, ServiceDefinition,
};
use accord_kernel::{EventMeta, StreamId, Timestamp};
use accord_procurement::queue::{ProcurementEvent, ProcurementView};
use accord_projects::{Portfolio, ProjectEvent};

use crate::{Reaction, REACTIONS_ACTOR};
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
    /// The domain refused it, as the service would reply.
    #[error(transparent)]
    Refused(#[from] DomainRefusal),
    #[error("step {index} ({command}): {error}")]
    AtStep {
        index: usize,
        command: String,
        error: Box<StepError>,
    },
}

/// An event one service handled: its metadata, itself, and the reactions it causes.
type Handled<E> = (EventMeta, E, Vec<Reaction>);

/// One service in memory: its projections, each stream's state and history, and its
/// log's head position.
struct Part<D: ServiceDefinition> {
    view: D::View,
    streams: BTreeMap<StreamId, (D::State, Vec<D::Event>)>,
    position: u64,
}

impl<D: ServiceDefinition> Default for Part<D> {
    fn default() -> Self {
        Part {
            view: D::View::default(),
            streams: BTreeMap::new(),
            position: 0,
        }
    }
}

impl<D: ServiceDefinition> Clone for Part<D>
where
    D::View: Clone,
    D::Event: Clone,
{
    fn clone(&self) -> Self {
        Part {
            view: self.view.clone(),
            streams: self.streams.clone(),
            position: self.position,
        }
    }
}

impl<D: ServiceDefinition> std::fmt::Debug for Part<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part")
            .field("service", &D::SERVICE)
            .field("streams", &self.streams.len())
            .field("position", &self.position)
            .finish()
    }
}

impl<D: ServiceDefinition> Part<D>
where
    D::Event: Clone,
{
    /// Decides `command` on its stream, applies the events and returns them with
    /// their metadata and the reactions they cause.
    fn handle(
        &mut self,
        command: &D::Command,
        context: &Context,
    ) -> Result<Vec<Handled<D::Event>>, StepError> {
        let stream = D::stream(command)?;
        let (state, history) = self.streams.entry(stream.clone()).or_default();
        let events = D::decide(state, command)?;
        let mut done = Vec::new();
        for event in events {
            D::evolve(state, &event);
            history.push(event.clone());
            self.position += 1;
            let meta = EventMeta {
                stream: stream.clone(),
                position: self.position,
                occurred_at: context.occurred_at,
                recorded_at: context.recorded_at,
                actor: context.actor.clone(),
            };
            D::apply(&mut self.view, &meta, &event);
            let reactions = D::reactions(&stream, &event, &mut || history.clone());
            done.push((meta, event, reactions));
        }
        Ok(done)
    }
}

/// Three services' state, in memory.
#[derive(Debug, Clone, Default)]
pub struct Embedded {
    agreements: Part<AgreementsModel>,
    projects: Part<ProjectsModel>,
    procurement: Part<ProcurementModel>,
    /// Every event of every service, in the order they happened, with metadata.
    pub log: Vec<(EventMeta, ServiceEvent)>,
}

struct Context {
    actor: String,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
}

impl Embedded {
    /// The agreements service's projections.
    pub fn agreements(&self) -> &AgreementsView {
        &self.agreements.view.view
    }

    /// The actor registry, by actor id.
    pub fn actors(&self) -> &BTreeMap<String, Actor> {
        &self.agreements.view.actors
    }

    /// The projects service's portfolio.
    pub fn portfolio(&self) -> &Portfolio {
        &self.projects.view.portfolio
    }

    /// The procurement service's projections.
    pub fn procurement(&self) -> &ProcurementView {
        &self.procurement.view.view
    }

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
        let reactions = match step.service {
            Service::Agreements => {
                let command = AgreementsModel::parse(
                    &step.command,
                    body,
                    &step.actor,
                    &self.agreements.view,
                )?;
                self.agreements_command(&command, &context)?
            }
            Service::Projects => {
                let command =
                    ProjectsModel::parse(&step.command, body, &step.actor, &self.projects.view)?;
                self.projects_command(&command, &context)?
            }
            Service::Procurement => {
                let command = ProcurementModel::parse(
                    &step.command,
                    body,
                    &step.actor,
                    &self.procurement.view,
                )?;
                self.procurement_command(&command, &context)?
            }
        };
        self.react(reactions, &context)?;
        Ok(self.log[before..].iter().map(|(_, e)| e.clone()).collect())
    }

    fn agreements_command(
        &mut self,
        command: &AgreementsCommand,
        context: &Context,
    ) -> Result<Vec<Reaction>, StepError> {
        let done = self.agreements.handle(command, context)?;
        Ok(self.record(done, ServiceEvent::Agreements))
    }

    fn projects_command(
        &mut self,
        command: &<ProjectsModel as ServiceDefinition>::Command,
        context: &Context,
    ) -> Result<Vec<Reaction>, StepError> {
        let done = self.projects.handle(command, context)?;
        Ok(self.record(done, ServiceEvent::Projects))
    }

    fn procurement_command(
        &mut self,
        command: &ProcurementCommand,
        context: &Context,
    ) -> Result<Vec<Reaction>, StepError> {
        let done = self.procurement.handle(command, context)?;
        Ok(self.record(done, ServiceEvent::Procurement))
    }

    /// Logs the events one service handled; returns the reactions they cause.
    fn record<E>(&mut self, done: Vec<Handled<E>>, wrap: fn(E) -> ServiceEvent) -> Vec<Reaction> {
        let mut reactions = Vec::new();
        for (meta, event, caused) in done {
            self.log.push((meta, wrap(event)));
            reactions.extend(caused);
        }
        reactions
    }

    /// Carries out reactions as the reactions actor, and the reactions they cause, in
    /// the order they arise (as the services' reaction consumers would).
    fn react(&mut self, reactions: Vec<Reaction>, cause: &Context) -> Result<(), StepError> {
        let context = Context {
            actor: REACTIONS_ACTOR.to_owned(),
            occurred_at: cause.occurred_at,
            recorded_at: cause.recorded_at,
        };
        for reaction in reactions {
            let caused = match reaction {
                Reaction::Project(id, command) => {
                    self.projects_command(&(id, command), &context)?
                }
                Reaction::Commitment(id, command) => {
                    self.agreements_command(&AgreementsCommand::Commitment(id, command), &context)?
                }
                Reaction::Policy(command) => {
                    self.procurement_command(&ProcurementCommand::Policy(command), &context)?
                }
                Reaction::Market(item, command) => {
                    self.procurement_command(&ProcurementCommand::Market(item, command), &context)?
                }
            };
            self.react(caused, &context)?;
        }
        Ok(())
    }
}
