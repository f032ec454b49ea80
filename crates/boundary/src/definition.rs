//! The one definition of each service, pure: which commands it takes, how a command
//! addresses a stream, how a stream's events fold and decide, how events are encoded,
//! which projections it keeps and what its events cause elsewhere. The runtime wraps
//! it in I/O (log, bus); the in-memory scenario run and the demo's expected results
//! use the very same definitions, so the two cannot drift apart.

use accord_agreements::actor::{Actor, ActorDecider, ActorEvent};
use accord_agreements::agreement::AgreementDecider;
use accord_agreements::board::BoardDecider;
use accord_agreements::commitment::CommitmentDecider;
use accord_agreements::projections::AgreementsEvent;
use accord_kernel::{ActorId, AggregateId, Decider, EventMeta, Refusal, RefusalKind, StreamId};
use accord_procurement::market::MarketDecider;
use accord_procurement::policy::{Policy, PolicyDecider};
use accord_procurement::queue::ProcurementEvent;
use accord_projects::{ProjectCommand, ProjectDecider, ProjectEvent};

use crate::authorisation::{self, Sender};
use crate::commands::{
    parse_command, AgreementsCommand, Body, CommandSpec, Facts, ParseContext, ProcurementCommand,
};
use crate::reactions::{reactions_to, reactions_to_project, Reaction};
use crate::state::{AgreementsState, ProcurementState, ProjectsState};
use crate::{
    decode_agreements_event, decode_procurement_event, decode_project_event,
    encode_agreements_event, encode_procurement_event, encode_project_event, BoundaryError,
    EncodedEvent,
};

/// A domain error as a reply carries it: its kind (the code), its stable reason, its
/// message (wire names, never Rust `Debug`) and its fields as details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainRefusal {
    pub kind: RefusalKind,
    pub reason: &'static str,
    pub message: String,
    pub details: Vec<(&'static str, String)>,
}

impl DomainRefusal {
    pub fn of(error: &impl Refusal) -> DomainRefusal {
        DomainRefusal {
            kind: error.kind(),
            reason: error.reason(),
            message: error.to_string(),
            details: error.details(),
        }
    }

    /// The refusal with the stream it was decided on among its details, so a client
    /// knows which aggregate refused even when the rule names no field.
    pub fn on(mut self, stream: &StreamId) -> DomainRefusal {
        if !self.details.iter().any(|(key, _)| *key == "stream") {
            self.details.push(("stream", stream.to_string()));
        }
        self
    }
}

/// One service, as pure functions and types.
pub trait ServiceDefinition: Sized + Send + Sync + 'static {
    /// The service's name, e.g. `agreements`.
    const SERVICE: &'static str;
    /// The commands it takes (`accord.<service>.cmd.<Name>`), each with its parser.
    const COMMANDS: &'static [CommandSpec<Self::Command>];
    type Command: Send + Sync;
    type Event: Send + Sync;
    /// The service's projections; also what parsing asks for facts.
    /// Serializable so a snapshot of it can be kept beside the log (see the
    /// runtime's `projection_snapshot`).
    type View: Facts
        + Default
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static;
    /// What one stream's events fold into: the state a command is decided against.
    type State: Default + Clone + Send + Sync + 'static;

    /// Parses the command `name` sent by `actor`, through the service's table.
    fn parse(
        name: &str,
        body: Body<'_>,
        actor: &ActorId,
        view: &Self::View,
    ) -> Result<Self::Command, BoundaryError> {
        parse_command(
            Self::COMMANDS,
            name,
            body,
            &ParseContext { actor, facts: view },
        )
    }
    /// Whether `sender` may send `command` (the service's rule of who may do what),
    /// asked only for commands whose sender is authenticated.
    /// `name` is the command's name, as `parse` took it.
    fn authorise(
        name: &str,
        command: &Self::Command,
        sender: &Sender,
        view: &Self::View,
    ) -> Result<(), DomainRefusal>;
    /// The stream (aggregate) a command addresses.
    fn stream(command: &Self::Command) -> Result<StreamId, BoundaryError>;
    /// Folds one of a stream's events into its state.
    fn evolve(state: &mut Self::State, event: &Self::Event);
    /// Decides against the stream's state.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainRefusal>;
    fn encode(stream: &StreamId, event: &Self::Event) -> Result<EncodedEvent, BoundaryError>;
    /// Reads a stored event of `schema_version`, upcast to today's meaning
    /// ([`crate::evolution`]).
    fn decode(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<Self::Event, BoundaryError>;
    fn apply(view: &mut Self::View, meta: &EventMeta, event: &Self::Event);
    /// What `event` on `stream` causes in other services. `history` gives the stream up
    /// to and including the event; it is called only when the answer depends on it.
    fn reactions(
        stream: &StreamId,
        event: &Self::Event,
        history: &mut dyn FnMut() -> Vec<Self::Event>,
    ) -> Vec<Reaction>;
    /// What the service's deadline watcher sends on `today`: a notice for each of
    /// its deadlines that passed unmet and was not noticed yet. Pure: the shell
    /// gives the date.
    fn deadline_notices(_view: &Self::View, _today: accord_kernel::Date) -> Vec<Reaction> {
        Vec::new()
    }
}

/// The stream of category `category` and id `id`, refused as the field `id`.
pub fn stream_of(category: &str, id: &str) -> Result<StreamId, BoundaryError> {
    StreamId::new(category, id).map_err(|e| BoundaryError::Invalid {
        field: "id",
        error: accord_kernel::ValueError::Invalid {
            field: "id",
            value: id.to_owned(),
            reason: if matches!(e, accord_kernel::StreamIdError::Id(_)) {
                "must be 1 to 128 bytes without NUL"
            } else {
                "invalid stream category"
            },
        },
    })
}

fn aggregate(stream: &StreamId) -> Result<AggregateId, BoundaryError> {
    AggregateId::new(stream.id()).map_err(|error| BoundaryError::Invalid { field: "id", error })
}

/// Folds one event into the part of an aggregate state its decider owns.
fn evolve_part<D: Decider>(part: &mut D::State, event: &D::Event) {
    *part = D::evolve(std::mem::take(part), event);
}

/// Decides with one decider and wraps its events in the service's event type.
fn decide_part<D: Decider, E>(
    part: &D::State,
    command: &D::Command,
    wrap: impl Fn(D::Event) -> E,
) -> Result<Vec<E>, DomainRefusal>
where
    D::Error: Refusal,
{
    D::decide(part, command)
        .map(|events| events.into_iter().map(wrap).collect())
        .map_err(|e| DomainRefusal::of(&e))
}

/// What an agreements stream folds into. A stream holds one kind of aggregate, so
/// only the part of its kind moves from the default.
#[derive(Debug, Clone, Default)]
pub struct AgreementsAggregate {
    agreement: <AgreementDecider as Decider>::State,
    commitment: <CommitmentDecider as Decider>::State,
    board: <BoardDecider as Decider>::State,
    actor: Actor,
}

/// What a procurement stream folds into (the policy, or one item's market).
#[derive(Debug, Clone, Default)]
pub struct ProcurementAggregate {
    policy: Policy,
    market: <MarketDecider as Decider>::State,
}

/// Agreements, commitments, the Steering Board and the actor registry.
#[derive(Debug)]
pub enum AgreementsModel {}

impl AgreementsModel {
    /// One actor's registry entry after `event`: how the projects and procurement
    /// services replay the registry they follow from the agreements service.
    pub fn evolve_actor(actor: Actor, event: &ActorEvent) -> Actor {
        ActorDecider::evolve(actor, event)
    }
}

impl ServiceDefinition for AgreementsModel {
    const SERVICE: &'static str = "agreements";
    const COMMANDS: &'static [CommandSpec<AgreementsCommand>] = crate::AGREEMENTS_COMMANDS;
    type Command = AgreementsCommand;
    type Event = AgreementsEvent;
    type View = AgreementsState;
    type State = AgreementsAggregate;

    fn authorise(
        name: &str,
        command: &AgreementsCommand,
        sender: &Sender,
        view: &AgreementsState,
    ) -> Result<(), DomainRefusal> {
        authorisation::agreements(name, command, sender, view).map_err(|e| DomainRefusal::of(&e))
    }

    fn stream(command: &AgreementsCommand) -> Result<StreamId, BoundaryError> {
        match command {
            AgreementsCommand::Agreement(id, _) => stream_of("agreement", id.as_str()),
            AgreementsCommand::Commitment(id, _) => stream_of("commitment", id.as_str()),
            AgreementsCommand::Board(id, _) => stream_of("board", id.as_str()),
            AgreementsCommand::Actor(id, _) => stream_of("actor", id.as_str()),
        }
    }

    fn evolve(state: &mut AgreementsAggregate, event: &AgreementsEvent) {
        match event {
            AgreementsEvent::Agreement(e) => {
                evolve_part::<AgreementDecider>(&mut state.agreement, e)
            }
            AgreementsEvent::Commitment(e) => {
                evolve_part::<CommitmentDecider>(&mut state.commitment, e);
            }
            AgreementsEvent::Board(e) => evolve_part::<BoardDecider>(&mut state.board, e),
            AgreementsEvent::Actor(e) => evolve_part::<ActorDecider>(&mut state.actor, e),
        }
    }

    fn decide(
        state: &AgreementsAggregate,
        command: &AgreementsCommand,
    ) -> Result<Vec<AgreementsEvent>, DomainRefusal> {
        use AgreementsEvent as E;
        match command {
            AgreementsCommand::Agreement(_, c) => {
                decide_part::<AgreementDecider, _>(&state.agreement, c, E::Agreement)
            }
            AgreementsCommand::Commitment(_, c) => {
                decide_part::<CommitmentDecider, _>(&state.commitment, c, E::Commitment)
            }
            AgreementsCommand::Board(_, c) => {
                decide_part::<BoardDecider, _>(&state.board, c, E::Board)
            }
            AgreementsCommand::Actor(_, c) => {
                decide_part::<ActorDecider, _>(&state.actor, c, E::Actor)
            }
        }
    }

    fn encode(stream: &StreamId, event: &AgreementsEvent) -> Result<EncodedEvent, BoundaryError> {
        Ok(encode_agreements_event(&aggregate(stream)?, event))
    }

    fn decode(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<AgreementsEvent, BoundaryError> {
        crate::evolution::readable(event_type, schema_version)?;
        decode_agreements_event(event_type, payload)
    }

    fn deadline_notices(view: &AgreementsState, today: accord_kernel::Date) -> Vec<Reaction> {
        view.view
            .overdue_notices(today)
            .into_iter()
            .filter_map(|(commitment, command)| {
                Some(Reaction::Commitment(
                    AggregateId::new(commitment).ok()?,
                    command,
                ))
            })
            .collect()
    }

    fn reactions(
        stream: &StreamId,
        event: &AgreementsEvent,
        history: &mut dyn FnMut() -> Vec<AgreementsEvent>,
    ) -> Vec<Reaction> {
        let Ok(id) = aggregate(stream) else {
            return Vec::new();
        };
        reactions_to(&id, event, || {
            Some(CommitmentDecider::fold(history().iter().filter_map(
                |e| match e {
                    AgreementsEvent::Commitment(e) => Some(e),
                    _ => None,
                },
            )))
        })
    }

    fn apply(state: &mut AgreementsState, meta: &EventMeta, event: &AgreementsEvent) {
        state.view.apply(meta, event);
        if let AgreementsEvent::Actor(e) = event {
            let id = meta.stream.id().to_owned();
            let actor = state.actors.remove(&id).unwrap_or_default();
            state.actors.insert(id, ActorDecider::evolve(actor, e));
        }
    }
}

/// Joint projects.
#[derive(Debug)]
pub enum ProjectsModel {}

impl ServiceDefinition for ProjectsModel {
    const SERVICE: &'static str = "projects";
    const COMMANDS: &'static [CommandSpec<Self::Command>] = crate::PROJECTS_COMMANDS;
    type Command = (AggregateId, ProjectCommand);
    type Event = ProjectEvent;
    type View = ProjectsState;
    type State = <ProjectDecider as Decider>::State;

    fn authorise(
        name: &str,
        command: &Self::Command,
        sender: &Sender,
        view: &ProjectsState,
    ) -> Result<(), DomainRefusal> {
        authorisation::projects(name, command, sender, view).map_err(|e| DomainRefusal::of(&e))
    }

    fn stream((id, _): &Self::Command) -> Result<StreamId, BoundaryError> {
        stream_of("project", id.as_str())
    }

    fn evolve(state: &mut <ProjectDecider as Decider>::State, event: &ProjectEvent) {
        evolve_part::<ProjectDecider>(state, event);
    }

    fn decide(
        state: &<ProjectDecider as Decider>::State,
        (_, command): &Self::Command,
    ) -> Result<Vec<ProjectEvent>, DomainRefusal> {
        decide_part::<ProjectDecider, _>(state, command, |e| e)
    }

    fn encode(stream: &StreamId, event: &ProjectEvent) -> Result<EncodedEvent, BoundaryError> {
        Ok(encode_project_event(&aggregate(stream)?, event))
    }

    fn decode(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<ProjectEvent, BoundaryError> {
        crate::evolution::readable(event_type, schema_version)?;
        decode_project_event(event_type, payload)
    }

    fn reactions(
        stream: &StreamId,
        event: &ProjectEvent,
        history: &mut dyn FnMut() -> Vec<ProjectEvent>,
    ) -> Vec<Reaction> {
        let Ok(id) = aggregate(stream) else {
            return Vec::new();
        };
        reactions_to_project(&id, event, || ProjectDecider::fold(history().iter()))
    }

    fn deadline_notices(view: &ProjectsState, today: accord_kernel::Date) -> Vec<Reaction> {
        view.portfolio
            .overdue_notices(today)
            .into_iter()
            .filter_map(|(project, command)| {
                Some(Reaction::Project(AggregateId::new(project).ok()?, command))
            })
            .collect()
    }

    fn apply(state: &mut ProjectsState, meta: &EventMeta, event: &ProjectEvent) {
        state.portfolio.apply(meta, event);
    }
}

/// Requests, the priority policy and allocation.
#[derive(Debug)]
pub enum ProcurementModel {}

impl ServiceDefinition for ProcurementModel {
    const SERVICE: &'static str = "procurement";
    const COMMANDS: &'static [CommandSpec<ProcurementCommand>] = crate::PROCUREMENT_COMMANDS;
    type Command = ProcurementCommand;
    type Event = ProcurementEvent;
    type View = ProcurementState;
    type State = ProcurementAggregate;

    fn authorise(
        name: &str,
        command: &ProcurementCommand,
        sender: &Sender,
        view: &ProcurementState,
    ) -> Result<(), DomainRefusal> {
        authorisation::procurement(name, command, sender, view).map_err(|e| DomainRefusal::of(&e))
    }

    fn stream(command: &ProcurementCommand) -> Result<StreamId, BoundaryError> {
        match command {
            ProcurementCommand::Policy(_) => stream_of("policy", "main"),
            ProcurementCommand::Market(item, _) => stream_of("market", item),
        }
    }

    fn evolve(state: &mut ProcurementAggregate, event: &ProcurementEvent) {
        match event {
            ProcurementEvent::Policy(e) => evolve_part::<PolicyDecider>(&mut state.policy, e),
            ProcurementEvent::Market(e) => evolve_part::<MarketDecider>(&mut state.market, e),
        }
    }

    fn decide(
        state: &ProcurementAggregate,
        command: &ProcurementCommand,
    ) -> Result<Vec<ProcurementEvent>, DomainRefusal> {
        use ProcurementEvent as E;
        match command {
            ProcurementCommand::Policy(c) => {
                decide_part::<PolicyDecider, _>(&state.policy, c, E::Policy)
            }
            ProcurementCommand::Market(_, c) => {
                decide_part::<MarketDecider, _>(&state.market, c, E::Market)
            }
        }
    }

    fn encode(_: &StreamId, event: &ProcurementEvent) -> Result<EncodedEvent, BoundaryError> {
        Ok(encode_procurement_event(event))
    }

    fn decode(
        event_type: &str,
        schema_version: u32,
        payload: &[u8],
    ) -> Result<ProcurementEvent, BoundaryError> {
        decode_procurement_event(event_type, schema_version, payload)
    }

    fn reactions(
        _: &StreamId,
        _: &ProcurementEvent,
        _: &mut dyn FnMut() -> Vec<ProcurementEvent>,
    ) -> Vec<Reaction> {
        Vec::new()
    }

    fn apply(state: &mut ProcurementState, meta: &EventMeta, event: &ProcurementEvent) {
        state.view.apply(meta, event);
    }
}
