//! The three services' models: how their commands address streams, how history is
//! folded and decided, and which projections they keep.

use std::collections::BTreeMap;

use accord_agreements::actor::{Actor, ActorDecider};
use accord_agreements::agreement::{AgreementDecider, AgreementStatus};
use accord_agreements::board::BoardDecider;
use accord_agreements::commitment::CommitmentDecider;
use accord_agreements::projections::{
    timeline_entry, AgreementsEvent, AgreementsView, TimelineEntry,
};
use accord_agreements::Authorisation;
use accord_boundary::{
    decode_agreements_event, decode_procurement_event, decode_project_event,
    encode_agreements_event, encode_procurement_event, encode_project_event,
    parse_agreements_command, parse_procurement_command, parse_project_command, AgreementsCommand,
    Body, BoundaryError, EncodedEvent, Facts, ProcurementCommand,
};
use accord_kernel::{ActorId, AggregateId, Decider, EventMeta, PartyId, RecordedEvent, StreamId};
use accord_procurement::market::MarketDecider;
use accord_procurement::policy::{Policy, PolicyDecider};
use accord_procurement::queue::{ProcurementEvent, ProcurementView};
use accord_projects::{Portfolio, ProjectCommand, ProjectDecider, ProjectEvent};

use accord_boundary::reactions::{reactions_to, reactions_to_project, Reaction, REACTIONS_ACTOR};
use accord_boundary::{AGREEMENTS_COMMANDS, PROCUREMENT_COMMANDS, PROJECTS_COMMANDS};
use accord_contracts::v1::{self as pb, reply::Outcome};

use crate::error::DomainRefusal;
use crate::queries::{
    agreements_query, procurement_query, projects_query, QueryError, TimelinePage, TimelineQuery,
    AGREEMENTS_QUERIES, PROCUREMENT_QUERIES, PROJECTS_QUERIES,
};
use crate::service::{Model, Service};

fn stream(category: &str, id: &str) -> Result<StreamId, BoundaryError> {
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
    D::Error: accord_kernel::Refusal,
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

/// The agreements service's projections and actor registry.
#[derive(Debug, Default)]
pub struct AgreementsState {
    pub view: AgreementsView,
    pub actors: BTreeMap<String, Actor>,
}

impl Facts for AgreementsState {
    fn agreement_status(&self, agreement_id: &AggregateId) -> AgreementStatus {
        self.view.agreement_status(agreement_id.as_str())
    }
    fn agreement_state_parties(&self, agreement_id: &AggregateId) -> Vec<PartyId> {
        self.view.state_parties(agreement_id.as_str())
    }
    fn motion(&self, motion_id: &AggregateId) -> Option<Authorisation> {
        self.view.motion(motion_id)
    }
}

/// Agreements, commitments, the Steering Board and the actor registry.
#[derive(Debug)]
pub enum AgreementsModel {}

impl Service<AgreementsModel> {
    /// One commitment's timeline (who changed what, when, why, on which motion),
    /// read from its stream in the log: timelines grow with every event, so the
    /// projections do not keep them. Empty for a commitment with no events.
    pub fn timeline(&self, commitment_id: &str) -> Result<Vec<TimelineEntry>, QueryError> {
        let stream = stream("commitment", commitment_id)?;
        let mut entries = Vec::new();
        for event in self.log().read_stream(&stream, 1) {
            entries.extend(timeline_entry_of(&event?)?);
        }
        Ok(entries)
    }

    /// A page of a commitment's timeline, as `CommitmentTimeline` answers it.
    fn timeline_page(&self, query: &TimelineQuery) -> Result<pb::CommitmentTimeline, QueryError> {
        let stream = stream("commitment", &query.commitment_id)?;
        if self.log().stream_version(&stream) == 0 {
            return Err(QueryError::NotFound {
                kind: "commitment",
                id: query.commitment_id.clone(),
            });
        }
        let mut page = TimelinePage::new(query);
        for event in self.log().read_stream(&stream, query.from_version) {
            let event = event?;
            // Full pages stop before decoding the next event: it is the next page's.
            if page.is_full() {
                page.continue_at(event.version);
                break;
            }
            if let Some(entry) = timeline_entry_of(&event)? {
                if !page.push(event.version, entry) {
                    break;
                }
            }
        }
        Ok(page.finish())
    }
}

/// The change a commitment's event made; `None` for an event of another kind, which a
/// commitment's stream does not hold.
fn timeline_entry_of(event: &RecordedEvent) -> Result<Option<TimelineEntry>, QueryError> {
    match AgreementsModel::decode(&event.event_type, &event.payload) {
        Ok(AgreementsEvent::Commitment(decoded)) => {
            Ok(Some(timeline_entry(&EventMeta::of(event), &decoded)))
        }
        Ok(_) => Ok(None),
        Err(error) => Err(QueryError::Undecodable {
            position: event.position,
            error,
        }),
    }
}

impl Model for AgreementsModel {
    const SERVICE: &'static str = "agreements";
    const COMMANDS: &'static [&'static str] = AGREEMENTS_COMMANDS;
    const QUERIES: &'static [&'static str] = AGREEMENTS_QUERIES;
    const FLOWS: &'static [(&'static str, &'static str)] = &[
        (
            "react-motion-adopted",
            "accord.agreements.evt.board.*.MotionAdopted",
        ),
        // Accepted, amended and withdrawn (one filter: nats-server 2.9 takes one).
        (
            "react-priority-commitment",
            "accord.agreements.evt.commitment.>",
        ),
    ];
    type Command = AgreementsCommand;
    type Event = AgreementsEvent;
    type View = AgreementsState;
    type State = AgreementsAggregate;

    fn parse(
        name: &str,
        body: Body<'_>,
        actor: &ActorId,
        view: &AgreementsState,
    ) -> Result<AgreementsCommand, BoundaryError> {
        parse_agreements_command(name, body, actor, view)
    }

    fn stream(command: &AgreementsCommand) -> Result<StreamId, BoundaryError> {
        match command {
            AgreementsCommand::Agreement(id, _) => stream("agreement", id.as_str()),
            AgreementsCommand::Commitment(id, _) => stream("commitment", id.as_str()),
            AgreementsCommand::Board(id, _) => stream("board", id.as_str()),
            AgreementsCommand::Actor(id, _) => stream("actor", id.as_str()),
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

    fn decode(event_type: &str, payload: &[u8]) -> Result<AgreementsEvent, BoundaryError> {
        decode_agreements_event(event_type, payload)
    }

    fn query(name: &str, body: Body<'_>, service: &Service<Self>) -> Result<Outcome, QueryError> {
        if name != "CommitmentTimeline" {
            return agreements_query(name, body, &service.view().view, service.page_bytes());
        }
        // Read from the log without holding the projections, which the applier
        // needs to take in new events.
        let query = TimelineQuery::parse(body)?;
        Ok(Outcome::Timeline(service.timeline_page(&query)?))
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

/// The projects service's projections.
#[derive(Debug, Default)]
pub struct ProjectsState {
    pub portfolio: Portfolio,
}

// The projects service does not see the board: it knows no motion, and approvals
// arrive as reactions to the agreements service's MotionAdopted events.
impl Facts for ProjectsState {}

/// Joint projects.
#[derive(Debug)]
pub enum ProjectsModel {}

impl Model for ProjectsModel {
    const SERVICE: &'static str = "projects";
    const COMMANDS: &'static [&'static str] = PROJECTS_COMMANDS;
    const QUERIES: &'static [&'static str] = PROJECTS_QUERIES;
    const FLOWS: &'static [(&'static str, &'static str)] = &[
        (
            "react-funding-pledged",
            "accord.projects.evt.project.*.FundingPledged",
        ),
        (
            "react-output-reported",
            "accord.projects.evt.project.*.OutputReported",
        ),
    ];
    type Command = (AggregateId, ProjectCommand);
    type Event = ProjectEvent;
    type View = ProjectsState;
    type State = <ProjectDecider as Decider>::State;

    fn parse(
        name: &str,
        body: Body<'_>,
        actor: &ActorId,
        view: &ProjectsState,
    ) -> Result<Self::Command, BoundaryError> {
        let (id, mut command) = parse_project_command(name, body, view)?;
        // This service does not see the board. The reactions actor sends ApproveProject
        // only for a MotionAdopted event it consumed, so its word is the motion's
        // outcome; anyone else's approval finds the motion not adopted.
        if let ProjectCommand::Approve { motion_adopted, .. } = &mut command {
            *motion_adopted = actor.as_str() == REACTIONS_ACTOR;
        }
        Ok((id, command))
    }

    fn stream((id, _): &Self::Command) -> Result<StreamId, BoundaryError> {
        stream("project", id.as_str())
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

    fn decode(event_type: &str, payload: &[u8]) -> Result<ProjectEvent, BoundaryError> {
        decode_project_event(event_type, payload)
    }

    fn query(name: &str, body: Body<'_>, service: &Service<Self>) -> Result<Outcome, QueryError> {
        projects_query(name, body, &service.view().portfolio, service.page_bytes())
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

    fn apply(state: &mut ProjectsState, meta: &EventMeta, event: &ProjectEvent) {
        state.portfolio.apply(meta, event);
    }
}

/// The procurement service's projections.
#[derive(Debug, Default)]
pub struct ProcurementState {
    pub view: ProcurementView,
}

impl Facts for ProcurementState {
    fn policy(&self) -> Policy {
        self.view.policy.clone()
    }
    fn market_of(&self, id: &AggregateId) -> Option<String> {
        self.view.market_of(id)
    }
}

/// Requests, the priority policy and allocation.
#[derive(Debug)]
pub enum ProcurementModel {}

impl Model for ProcurementModel {
    const SERVICE: &'static str = "procurement";
    const COMMANDS: &'static [&'static str] = PROCUREMENT_COMMANDS;
    const QUERIES: &'static [&'static str] = PROCUREMENT_QUERIES;
    const FLOWS: &'static [(&'static str, &'static str)] = &[];
    type Command = ProcurementCommand;
    type Event = ProcurementEvent;
    type View = ProcurementState;
    type State = ProcurementAggregate;

    fn parse(
        name: &str,
        body: Body<'_>,
        _: &ActorId,
        view: &ProcurementState,
    ) -> Result<ProcurementCommand, BoundaryError> {
        parse_procurement_command(name, body, view)
    }

    fn stream(command: &ProcurementCommand) -> Result<StreamId, BoundaryError> {
        match command {
            ProcurementCommand::Policy(_) => stream("policy", "main"),
            ProcurementCommand::Market(item, _) => stream("market", item),
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

    fn decode(event_type: &str, payload: &[u8]) -> Result<ProcurementEvent, BoundaryError> {
        decode_procurement_event(event_type, payload)
    }

    fn query(name: &str, body: Body<'_>, service: &Service<Self>) -> Result<Outcome, QueryError> {
        procurement_query(name, body, &service.view().view, service.page_bytes())
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
