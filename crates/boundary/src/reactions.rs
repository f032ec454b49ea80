//! The cross-service reactions, as pure functions from one service's event to the
//! command another service should run:
//!
//! * a board motion approving a project is adopted → the project is approved;
//! * funding is pledged to a project against a funding commitment → progress on that
//!   commitment (allocated);
//! * funding is disbursed on a project by a party that pledged it against a funding
//!   commitment → progress on that commitment (delivered);
//! * a procurement-priority commitment is accepted, amended or withdrawn → the
//!   procurement policy changes;
//! * a project reports output → the output is offered as supply.
//!
//! [`Reaction::request`] gives the command as the target service takes it over the
//! bus: its service, command name and protobuf body.

use accord_agreements::board::{BoardEvent, MotionSubject};
use accord_agreements::commitment::{
    Commitment, CommitmentCommand, CommitmentEvent, CommitmentKind,
};
use accord_agreements::projections::AgreementsEvent;
use accord_contracts::v1 as pb;
use accord_kernel::{AggregateId, CapabilityArea, Quantity};
use accord_procurement::market::MarketCommand;
use accord_procurement::policy::{PriorityChange, UpdatePolicy};
use accord_projects::{Project, ProjectCommand, ProjectEvent};
use prost::Message as _;

use crate::procurement::change_proto;
use crate::values::{date_proto, documents_proto, party_ref, quantity_proto};

/// The actor reactions run as.
pub const REACTIONS_ACTOR: &str = "accord-reactions";

/// What each service's reactions send: (source service, target service, command).
/// A service key is allowed these and nothing else (`authorisation`), and a flow
/// sends nothing outside its source's rows.
pub const REACTION_COMMANDS: &[(&str, &str, &str)] = &[
    ("agreements", "projects", "ApproveProject"),
    ("agreements", "procurement", "UpdatePriorityPolicy"),
    ("projects", "agreements", "RecordCommitmentProgress"),
    ("projects", "procurement", "OfferSupply"),
    // The deadline watchers: a service noticing its own deadlines pass.
    ("agreements", "agreements", "NoticeCommitmentOverdue"),
    ("projects", "projects", "NoticeMilestoneOverdue"),
];

/// A command caused by an event, for another aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    Project(AggregateId, ProjectCommand),
    Commitment(AggregateId, CommitmentCommand),
    Policy(UpdatePolicy),
    /// For the market of the item.
    Market(String, MarketCommand),
}

/// A reaction as a request: the target service, the command name, the protobuf body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionRequest {
    pub service: &'static str,
    pub command: &'static str,
    pub body: Vec<u8>,
}

impl Reaction {
    /// The command as the target service takes it over the bus; `None` for a
    /// reaction no service command expresses (none today).
    pub fn request(&self) -> Option<ReactionRequest> {
        let (service, command, body) = match self {
            Reaction::Project(
                project_id,
                ProjectCommand::Approve {
                    motion_id,
                    motion_adopted: true,
                },
            ) => (
                "projects",
                "ApproveProject",
                pb::ApproveProject {
                    project_id: project_id.to_string(),
                    motion_id: motion_id.to_string(),
                }
                .encode_to_vec(),
            ),
            Reaction::Commitment(
                commitment_id,
                CommitmentCommand::RecordProgress {
                    allocated,
                    delivered,
                    reason,
                    documents,
                },
            ) => (
                "agreements",
                "RecordCommitmentProgress",
                pb::RecordCommitmentProgress {
                    commitment_id: commitment_id.to_string(),
                    allocated: allocated.as_ref().and_then(quantity_proto),
                    delivered: delivered.as_ref().and_then(quantity_proto),
                    reason: reason.clone(),
                    documents: documents_proto(documents),
                }
                .encode_to_vec(),
            ),
            Reaction::Commitment(commitment_id, CommitmentCommand::NoticeOverdue { as_of }) => (
                "agreements",
                "NoticeCommitmentOverdue",
                pb::NoticeCommitmentOverdue {
                    commitment_id: commitment_id.to_string(),
                    as_of: date_proto(as_of),
                }
                .encode_to_vec(),
            ),
            Reaction::Project(
                project_id,
                ProjectCommand::NoticeMilestoneOverdue {
                    milestone_id,
                    as_of,
                },
            ) => (
                "projects",
                "NoticeMilestoneOverdue",
                pb::NoticeMilestoneOverdue {
                    project_id: project_id.to_string(),
                    milestone_id: milestone_id.to_string(),
                    as_of: date_proto(as_of),
                }
                .encode_to_vec(),
            ),
            Reaction::Policy(update) => (
                "procurement",
                "UpdatePriorityPolicy",
                pb::UpdatePriorityPolicy {
                    commitment_id: update.commitment_id.to_string(),
                    obligor: party_ref(&update.obligor),
                    beneficiary: party_ref(&update.beneficiary),
                    item_categories: update.item_categories.clone(),
                    change: change_proto(update.change),
                }
                .encode_to_vec(),
            ),
            Reaction::Market(
                _,
                MarketCommand::OfferSupply {
                    supply_id,
                    supplier,
                    controlled_by,
                    item,
                    item_category,
                    quantity,
                    available_from,
                    project_id,
                },
            ) => (
                "procurement",
                "OfferSupply",
                pb::OfferSupply {
                    supply_id: supply_id.to_string(),
                    supplier: party_ref(supplier),
                    controlled_by: party_ref(controlled_by),
                    item: item.clone(),
                    item_category: item_category.clone(),
                    quantity: quantity_proto(quantity),
                    available_from: available_from.as_ref().and_then(date_proto),
                    project_id: project_id
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                }
                .encode_to_vec(),
            ),
            _ => return None,
        };
        Some(ReactionRequest {
            service,
            command,
            body,
        })
    }
}

/// The item category a project's output is offered under.
fn category(area: Option<CapabilityArea>) -> String {
    match area {
        Some(CapabilityArea::Uav) => "uav",
        Some(CapabilityArea::Ground) => "ground",
        Some(CapabilityArea::Maritime) => "maritime",
        Some(CapabilityArea::ElectronicWarfare) => "electronic-warfare",
        Some(CapabilityArea::Ammunition) => "ammunition",
        Some(CapabilityArea::Explosives) => "explosives",
        Some(CapabilityArea::ResearchAndDevelopment) => "research",
        Some(CapabilityArea::Other) | None => "other",
    }
    .to_owned()
}

/// What the agreements service's `event` on aggregate `id` causes elsewhere;
/// `commitment` gives the commitment's state after the event, and is asked only for
/// the commitment events that can cause something (so a caller that must fold a long
/// stream to answer does so only then).
pub fn reactions_to(
    id: &AggregateId,
    event: &AgreementsEvent,
    commitment: impl FnOnce() -> Option<Commitment>,
) -> Vec<Reaction> {
    match event {
        AgreementsEvent::Board(BoardEvent::MotionAdopted {
            motion_id,
            subject: MotionSubject::ApproveProject { project_id },
        }) => vec![Reaction::Project(
            project_id.clone(),
            ProjectCommand::Approve {
                motion_id: motion_id.clone(),
                motion_adopted: true,
            },
        )],
        AgreementsEvent::Commitment(event) => {
            let change = match event {
                CommitmentEvent::Accepted { .. } => PriorityChange::Granted,
                CommitmentEvent::Amended { .. } => PriorityChange::Amended,
                CommitmentEvent::Withdrawn { .. } => PriorityChange::Withdrawn,
                _ => return Vec::new(),
            };
            let Some(commitment) = commitment() else {
                return Vec::new();
            };
            let (Some(terms), Some(obligor), Some(beneficiary)) = (
                &commitment.terms,
                &commitment.obligor,
                &commitment.beneficiary,
            ) else {
                return Vec::new();
            };
            let CommitmentKind::ProcurementPriority { item_categories } = &terms.kind else {
                return Vec::new();
            };
            vec![Reaction::Policy(UpdatePolicy {
                commitment_id: id.clone(),
                obligor: obligor.clone(),
                beneficiary: beneficiary.clone(),
                item_categories: item_categories.clone(),
                change,
            })]
        }
        _ => Vec::new(),
    }
}

/// What a project's `event` causes elsewhere; `project` gives its state after the
/// event, and is asked only for events that need it.
pub fn reactions_to_project(
    id: &AggregateId,
    event: &ProjectEvent,
    project: impl FnOnce() -> Project,
) -> Vec<Reaction> {
    match event {
        ProjectEvent::FundingPledged {
            amount,
            commitment_id: Some(commitment_id),
            ..
        } => vec![Reaction::Commitment(
            commitment_id.clone(),
            CommitmentCommand::RecordProgress {
                allocated: Some(Quantity {
                    amount: amount.minor_units,
                    unit: amount.currency.to_string(),
                }),
                delivered: None,
                reason: format!("funding pledged to project {id}"),
                documents: Vec::new(),
            },
        )],
        ProjectEvent::FundingDisbursed { party, amount } => {
            // Counted against the commitment the party pledged this currency under
            // on this project (its first such pledge).
            let commitment = project().pledges.into_iter().find_map(|pledge| {
                (&pledge.party == party && pledge.amount.currency == amount.currency)
                    .then_some(pledge.commitment_id)
                    .flatten()
            });
            commitment
                .map(|commitment_id| {
                    vec![Reaction::Commitment(
                        commitment_id,
                        CommitmentCommand::RecordProgress {
                            allocated: None,
                            delivered: Some(Quantity {
                                amount: amount.minor_units,
                                unit: amount.currency.to_string(),
                            }),
                            reason: format!("funding disbursed on project {id}"),
                            documents: Vec::new(),
                        },
                    )]
                })
                .unwrap_or_default()
        }
        ProjectEvent::OutputReported {
            item,
            quantity,
            period,
            supplier,
        } => {
            // A deterministic id, so a redelivered event offers nothing twice.
            let supply_id = AggregateId::new(format!("{id}-output-{}", period.to));
            supply_id
                .map(|supply_id| {
                    vec![Reaction::Market(
                        item.clone(),
                        MarketCommand::OfferSupply {
                            supply_id,
                            supplier: supplier.clone(),
                            // A project's output is its producer's supply.
                            controlled_by: supplier.clone(),
                            item: item.clone(),
                            item_category: category(project().area),
                            quantity: quantity.clone(),
                            available_from: Some(period.to),
                            project_id: Some(id.clone()),
                        },
                    )]
                })
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}
