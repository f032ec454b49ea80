//! Commands: a command name and a body (protobuf, or JSON in the proto3 mapping)
//! become a domain command for one aggregate. Facts that belong to other aggregates
//! (an agreement's status, a motion's outcome, the priority policy) are asked of the
//! caller through [`Facts`], so the domain stays pure.

use accord_agreements::actor::ActorCommand;
use accord_agreements::agreement::{AgreementCommand, AgreementStatus};
use accord_agreements::board::BoardCommand;
use accord_agreements::commitment::CommitmentCommand;
use accord_agreements::Authorisation;
use accord_contracts::v1 as pb;
use accord_kernel::{bounded_text, ActorId, AggregateId, PartyId};
use accord_procurement::market::MarketCommand;
use accord_procurement::policy::{Policy, UpdatePolicy};
use accord_projects::ProjectCommand;

use crate::agreements::{role, subject, terms, vote};
use crate::error::Field;
use crate::procurement::{change, urgency};
use crate::projects::participants;
use crate::values::*;
use crate::BoundaryError;

/// A command body as it arrived.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Protobuf(&'a [u8]),
    /// proto3 JSON mapping; unknown fields are refused.
    Json(&'a str),
}

/// The commands each service takes, by message name (`accord.<service>.cmd.<Name>`).
pub const AGREEMENTS_COMMANDS: &[&str] = &[
    "DraftAgreement",
    "DesignateSignatory",
    "SignAgreement",
    "AmendAgreement",
    "SuspendAgreement",
    "ResumeAgreement",
    "TerminateAgreement",
    "ProposeCommitment",
    "AcceptCommitment",
    "AmendCommitment",
    "RecordCommitmentProgress",
    "FulfilCommitment",
    "BreachCommitment",
    "WithdrawCommitment",
    "EstablishBoard",
    "AppointBoardMember",
    "RemoveBoardMember",
    "TableMotion",
    "CastVote",
    "RegisterActor",
    "RotateActorKey",
    "RevokeActorKey",
];
pub const PROJECTS_COMMANDS: &[&str] = &[
    "ProposeProject",
    "ApproveProject",
    "PledgeFunding",
    "DisburseFunding",
    "PlanMilestone",
    "ReachMilestone",
    "SlipMilestone",
    "SetCapacityTarget",
    "ReportOutput",
    "LaunchProject",
    "CompleteProject",
    "CancelProject",
];
pub const PROCUREMENT_COMMANDS: &[&str] = &[
    "SubmitRequest",
    "UpdatePriorityPolicy",
    "OfferSupply",
    "AllocateSupply",
    "FulfilRequest",
    "CancelRequest",
];

/// Decodes a body as the message `M`: protobuf bytes, or JSON in the proto3 mapping
/// with unknown fields refused.
pub fn decode_body<M: prost::Message + prost::Name + Default>(
    body: Body<'_>,
) -> Result<M, BoundaryError> {
    match body {
        Body::Protobuf(bytes) => crate::decode(bytes).map_err(|error| match error {
            // JSON sent without its Content-Type fails as a protobuf wire error that
            // says nothing useful; say what is missing instead.
            BoundaryError::Decode { type_name, reason } if looks_like_json(bytes) => {
                BoundaryError::Decode {
                    type_name,
                    reason: format!(
                        "{reason}; the body looks like JSON: send it with the header \
                         Content-Type: application/json"
                    ),
                }
            }
            other => other,
        }),
        Body::Json(text) => accord_contracts::from_json(text).map_err(|e| match e {
            accord_contracts::JsonError::UnknownField { type_name, reason } => {
                BoundaryError::UnknownField { type_name, reason }
            }
            accord_contracts::JsonError::UnknownEnumValue { type_name, reason } => {
                BoundaryError::UnknownEnumName { type_name, reason }
            }
            other => BoundaryError::Json {
                type_name: M::full_name(),
                reason: other.to_string(),
            },
        }),
    }
}

/// Whether a body that failed as protobuf reads as a JSON object.
fn looks_like_json(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start();
    text.starts_with('{') && text.trim_end().ends_with('}')
}

/// What the shell knows about other aggregates, asked for while parsing. Each
/// service answers what it knows; the defaults say "unknown".
pub trait Facts {
    fn agreement_status(&self, _agreement_id: &AggregateId) -> AgreementStatus {
        AgreementStatus::None
    }
    /// The state parties of the agreement (empty if unknown).
    fn agreement_state_parties(&self, _agreement_id: &AggregateId) -> Vec<PartyId> {
        Vec::new()
    }
    /// The motion with this id on whichever board tabled it.
    fn motion(&self, _motion_id: &AggregateId) -> Option<Authorisation> {
        None
    }
    fn policy(&self) -> Policy {
        Policy::default()
    }
    /// The market (item) a request or supply id belongs to.
    fn market_of(&self, _request_or_supply_id: &AggregateId) -> Option<String> {
        None
    }
}

/// A parsed command of the agreements service, with the aggregate it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementsCommand {
    Agreement(AggregateId, AgreementCommand),
    Commitment(AggregateId, CommitmentCommand),
    Board(AggregateId, BoardCommand),
    Actor(AggregateId, ActorCommand),
}

/// A parsed command of the procurement service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcurementCommand {
    Policy(UpdatePolicy),
    /// For the market of one item (the stream id).
    Market(String, MarketCommand),
}

fn reason(value: &str) -> Result<String, BoundaryError> {
    bounded_text("reason", value).field("reason")
}

fn authorisation(facts: &dyn Facts, motion_id: &str) -> Result<Authorisation, BoundaryError> {
    let motion_id = aggregate_id("motion_id", motion_id)?;
    facts
        .motion(&motion_id)
        .ok_or_else(|| BoundaryError::UnknownMotion(motion_id.to_string()))
}

/// Parses a command of the agreements service sent by `actor`.
pub fn parse_agreements_command(
    name: &str,
    body: Body<'_>,
    actor: &ActorId,
    facts: &dyn Facts,
) -> Result<AgreementsCommand, BoundaryError> {
    use AgreementsCommand as S;
    Ok(match name {
        "DraftAgreement" => {
            let m: pb::DraftAgreement = decode_body(body)?;
            let id = aggregate_id("agreement_id", &m.agreement_id)?;
            let kind = crate::agreements::kind(m.kind)?;
            S::Agreement(
                id.clone(),
                AgreementCommand::Draft {
                    id,
                    kind,
                    title: bounded_text("title", m.title).field("title")?,
                    parties: parties("parties", &m.parties)?,
                    areas: m
                        .areas
                        .iter()
                        .map(|a| area("areas", *a))
                        .collect::<Result<_, _>>()?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "DesignateSignatory" => {
            let m: pb::DesignateSignatory = decode_body(body)?;
            S::Agreement(
                aggregate_id("agreement_id", &m.agreement_id)?,
                AgreementCommand::DesignateSignatory {
                    actor: actor_id("actor_id", &m.actor_id)?,
                    party: party("party", &m.party)?,
                    role: bounded_text("role", m.role).field("role")?,
                },
            )
        }
        "SignAgreement" => {
            let m: pb::SignAgreement = decode_body(body)?;
            S::Agreement(
                aggregate_id("agreement_id", &m.agreement_id)?,
                AgreementCommand::Sign {
                    actor: actor.clone(),
                },
            )
        }
        "AmendAgreement" => {
            let m: pb::AmendAgreement = decode_body(body)?;
            S::Agreement(
                aggregate_id("agreement_id", &m.agreement_id)?,
                AgreementCommand::Amend {
                    summary: bounded_text("summary", m.summary).field("summary")?,
                    authorisation: authorisation(facts, &m.motion_id)?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "SuspendAgreement" => {
            let m: pb::SuspendAgreement = decode_body(body)?;
            S::Agreement(
                aggregate_id("agreement_id", &m.agreement_id)?,
                AgreementCommand::Suspend {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "ResumeAgreement" => {
            let m: pb::ResumeAgreement = decode_body(body)?;
            S::Agreement(
                aggregate_id("agreement_id", &m.agreement_id)?,
                AgreementCommand::Resume {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "TerminateAgreement" => {
            let m: pb::TerminateAgreement = decode_body(body)?;
            S::Agreement(
                aggregate_id("agreement_id", &m.agreement_id)?,
                AgreementCommand::Terminate {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "ProposeCommitment" => {
            let m: pb::ProposeCommitment = decode_body(body)?;
            let id = aggregate_id("commitment_id", &m.commitment_id)?;
            let agreement_id = aggregate_id("agreement_id", &m.agreement_id)?;
            S::Commitment(
                id.clone(),
                CommitmentCommand::Propose {
                    id,
                    agreement_status: facts.agreement_status(&agreement_id),
                    agreement_id,
                    obligor: party("obligor", &m.obligor)?,
                    beneficiary: party("beneficiary", &m.beneficiary)?,
                    terms: terms(&m.terms)?,
                    due: optional_date("due", &m.due)?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "AcceptCommitment" => {
            let m: pb::AcceptCommitment = decode_body(body)?;
            S::Commitment(
                aggregate_id("commitment_id", &m.commitment_id)?,
                CommitmentCommand::Accept {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "AmendCommitment" => {
            let m: pb::AmendCommitment = decode_body(body)?;
            S::Commitment(
                aggregate_id("commitment_id", &m.commitment_id)?,
                CommitmentCommand::Amend {
                    terms: terms(&m.terms)?,
                    due: optional_date("due", &m.due)?,
                    authorisation: authorisation(facts, &m.motion_id)?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "RecordCommitmentProgress" => {
            let m: pb::RecordCommitmentProgress = decode_body(body)?;
            S::Commitment(
                aggregate_id("commitment_id", &m.commitment_id)?,
                CommitmentCommand::RecordProgress {
                    allocated: optional_quantity("allocated", &m.allocated)?,
                    delivered: optional_quantity("delivered", &m.delivered)?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "FulfilCommitment" => {
            let m: pb::FulfilCommitment = decode_body(body)?;
            S::Commitment(
                aggregate_id("commitment_id", &m.commitment_id)?,
                CommitmentCommand::Fulfil {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "BreachCommitment" => {
            let m: pb::BreachCommitment = decode_body(body)?;
            S::Commitment(
                aggregate_id("commitment_id", &m.commitment_id)?,
                CommitmentCommand::Breach {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "WithdrawCommitment" => {
            let m: pb::WithdrawCommitment = decode_body(body)?;
            S::Commitment(
                aggregate_id("commitment_id", &m.commitment_id)?,
                CommitmentCommand::Withdraw {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "EstablishBoard" => {
            let m: pb::EstablishBoard = decode_body(body)?;
            let id = aggregate_id("board_id", &m.board_id)?;
            let agreement_id = aggregate_id("agreement_id", &m.agreement_id)?;
            S::Board(
                id.clone(),
                BoardCommand::Establish {
                    id,
                    state_parties: facts.agreement_state_parties(&agreement_id),
                    agreement_id,
                    name: bounded_text("name", m.name).field("name")?,
                },
            )
        }
        "AppointBoardMember" => {
            let m: pb::AppointBoardMember = decode_body(body)?;
            S::Board(
                aggregate_id("board_id", &m.board_id)?,
                BoardCommand::Appoint {
                    actor: actor_id("actor_id", &m.actor_id)?,
                    party: party("party", &m.party)?,
                    role: role(m.role)?,
                },
            )
        }
        "RemoveBoardMember" => {
            let m: pb::RemoveBoardMember = decode_body(body)?;
            S::Board(
                aggregate_id("board_id", &m.board_id)?,
                BoardCommand::Remove {
                    actor: actor_id("actor_id", &m.actor_id)?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "TableMotion" => {
            let m: pb::TableMotion = decode_body(body)?;
            S::Board(
                aggregate_id("board_id", &m.board_id)?,
                BoardCommand::TableMotion {
                    motion_id: aggregate_id("motion_id", &m.motion_id)?,
                    title: bounded_text("title", m.title).field("title")?,
                    subject: subject(&m.subject)?,
                    actor: actor.clone(),
                },
            )
        }
        "CastVote" => {
            let m: pb::CastVote = decode_body(body)?;
            S::Board(
                aggregate_id("board_id", &m.board_id)?,
                BoardCommand::CastVote {
                    motion_id: aggregate_id("motion_id", &m.motion_id)?,
                    actor: actor.clone(),
                    vote: vote(m.vote)?,
                },
            )
        }
        "RegisterActor" => {
            let m: pb::RegisterActor = decode_body(body)?;
            let id = actor_id("actor_id", &m.actor_id)?;
            S::Actor(
                aggregate_id("actor_id", &m.actor_id)?,
                ActorCommand::Register {
                    id,
                    name: bounded_text("name", m.name).field("name")?,
                    party: party("party", &m.party)?,
                    role: bounded_text("role", m.role).field("role")?,
                    public_key: m.public_key,
                },
            )
        }
        "RotateActorKey" => {
            let m: pb::RotateActorKey = decode_body(body)?;
            S::Actor(
                aggregate_id("actor_id", &m.actor_id)?,
                ActorCommand::RotateKey {
                    public_key: m.public_key,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "RevokeActorKey" => {
            let m: pb::RevokeActorKey = decode_body(body)?;
            S::Actor(
                aggregate_id("actor_id", &m.actor_id)?,
                ActorCommand::RevokeKey {
                    reason: reason(&m.reason)?,
                },
            )
        }
        other => return Err(BoundaryError::UnknownCommand(other.to_owned())),
    })
}

/// Parses a command of the projects service.
pub fn parse_project_command(
    name: &str,
    body: Body<'_>,
    facts: &dyn Facts,
) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
    use ProjectCommand as C;
    let project = |id: &str| aggregate_id("project_id", id);
    Ok(match name {
        "ProposeProject" => {
            let m: pb::ProposeProject = decode_body(body)?;
            let id = project(&m.project_id)?;
            (
                id.clone(),
                C::Propose {
                    id,
                    title: bounded_text("title", m.title).field("title")?,
                    area: area("area", m.area)?,
                    host_country: PartyId::new(m.host_country).field("host_country")?,
                    participants: participants(&m.participants)?,
                    agreement_id: optional_id("agreement_id", &m.agreement_id)?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "ApproveProject" => {
            let m: pb::ApproveProject = decode_body(body)?;
            let motion_id = aggregate_id("motion_id", &m.motion_id)?;
            let adopted = facts
                .motion(&motion_id)
                .is_some_and(|a| a.status == accord_agreements::board::MotionStatus::Adopted);
            (
                project(&m.project_id)?,
                C::Approve {
                    motion_id,
                    motion_adopted: adopted,
                },
            )
        }
        "PledgeFunding" => {
            let m: pb::PledgeFunding = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::PledgeFunding {
                    party: party("party", &m.party)?,
                    amount: money("amount", &m.amount)?,
                    commitment_id: optional_id("commitment_id", &m.commitment_id)?,
                },
            )
        }
        "DisburseFunding" => {
            let m: pb::DisburseFunding = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::DisburseFunding {
                    party: party("party", &m.party)?,
                    amount: money("amount", &m.amount)?,
                },
            )
        }
        "PlanMilestone" => {
            let m: pb::PlanMilestone = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::PlanMilestone {
                    milestone_id: aggregate_id("milestone_id", &m.milestone_id)?,
                    title: bounded_text("title", m.title).field("title")?,
                    due: date("due", &m.due)?,
                },
            )
        }
        "ReachMilestone" => {
            let m: pb::ReachMilestone = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::ReachMilestone {
                    milestone_id: aggregate_id("milestone_id", &m.milestone_id)?,
                    reached_on: date("reached_on", &m.reached_on)?,
                },
            )
        }
        "SlipMilestone" => {
            let m: pb::SlipMilestone = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::SlipMilestone {
                    milestone_id: aggregate_id("milestone_id", &m.milestone_id)?,
                    new_due: date("new_due", &m.new_due)?,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "SetCapacityTarget" => {
            let m: pb::SetCapacityTarget = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::SetCapacityTarget {
                    item: bounded_text("item", m.item).field("item")?,
                    quantity: quantity("quantity", &m.quantity)?,
                    period: period("period", &m.period)?,
                },
            )
        }
        "ReportOutput" => {
            let m: pb::ReportOutput = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::ReportOutput {
                    item: bounded_text("item", m.item).field("item")?,
                    quantity: quantity("quantity", &m.quantity)?,
                    period: period("period", &m.period)?,
                },
            )
        }
        "LaunchProject" => {
            let m: pb::LaunchProject = decode_body(body)?;
            (project(&m.project_id)?, C::Launch)
        }
        "CompleteProject" => {
            let m: pb::CompleteProject = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::Complete {
                    reason: reason(&m.reason)?,
                },
            )
        }
        "CancelProject" => {
            let m: pb::CancelProject = decode_body(body)?;
            (
                project(&m.project_id)?,
                C::Cancel {
                    reason: reason(&m.reason)?,
                },
            )
        }
        other => return Err(BoundaryError::UnknownCommand(other.to_owned())),
    })
}

fn market_of(
    facts: &dyn Facts,
    kind: &'static str,
    id: &AggregateId,
) -> Result<String, BoundaryError> {
    facts
        .market_of(id)
        .ok_or_else(|| BoundaryError::UnknownReference {
            kind,
            id: id.to_string(),
        })
}

/// Parses a command of the procurement service.
pub fn parse_procurement_command(
    name: &str,
    body: Body<'_>,
    facts: &dyn Facts,
) -> Result<ProcurementCommand, BoundaryError> {
    use MarketCommand as C;
    use ProcurementCommand as S;
    Ok(match name {
        "SubmitRequest" => {
            let m: pb::SubmitRequest = decode_body(body)?;
            let item = bounded_text("item", m.item).field("item")?;
            S::Market(
                item.clone(),
                C::SubmitRequest {
                    request_id: aggregate_id("request_id", &m.request_id)?,
                    party: party("requesting_party", &m.requesting_party)?,
                    item,
                    item_category: bounded_text("item_category", m.item_category)
                        .field("item_category")?,
                    quantity: quantity("quantity", &m.quantity)?,
                    need_by: date("need_by", &m.need_by)?,
                    urgency: urgency(m.urgency)?,
                },
            )
        }
        "UpdatePriorityPolicy" => {
            let m: pb::UpdatePriorityPolicy = decode_body(body)?;
            S::Policy(UpdatePolicy {
                commitment_id: aggregate_id("commitment_id", &m.commitment_id)?,
                obligor: party("obligor", &m.obligor)?,
                beneficiary: party("beneficiary", &m.beneficiary)?,
                item_categories: m.item_categories,
                change: change(m.change)?,
            })
        }
        "OfferSupply" => {
            let m: pb::OfferSupply = decode_body(body)?;
            let item = bounded_text("item", m.item).field("item")?;
            S::Market(
                item.clone(),
                C::OfferSupply {
                    supply_id: aggregate_id("supply_id", &m.supply_id)?,
                    supplier: party("supplier", &m.supplier)?,
                    item,
                    item_category: bounded_text("item_category", m.item_category)
                        .field("item_category")?,
                    quantity: quantity("quantity", &m.quantity)?,
                    available_from: optional_date("available_from", &m.available_from)?,
                    project_id: optional_id("project_id", &m.project_id)?,
                },
            )
        }
        "AllocateSupply" => {
            let m: pb::AllocateSupply = decode_body(body)?;
            let supply_id = aggregate_id("supply_id", &m.supply_id)?;
            S::Market(
                market_of(facts, "supply", &supply_id)?,
                C::Allocate {
                    supply_id,
                    policy: facts.policy(),
                },
            )
        }
        "FulfilRequest" => {
            let m: pb::FulfilRequest = decode_body(body)?;
            let request_id = aggregate_id("request_id", &m.request_id)?;
            S::Market(
                market_of(facts, "request", &request_id)?,
                C::Fulfil {
                    request_id,
                    reason: reason(&m.reason)?,
                },
            )
        }
        "CancelRequest" => {
            let m: pb::CancelRequest = decode_body(body)?;
            let request_id = aggregate_id("request_id", &m.request_id)?;
            S::Market(
                market_of(facts, "request", &request_id)?,
                C::Cancel {
                    request_id,
                    reason: reason(&m.reason)?,
                },
            )
        }
        other => return Err(BoundaryError::UnknownCommand(other.to_owned())),
    })
}
