//! Projects service events: domain ⇄ protobuf.

use accord_contracts::v1 as pb;
use accord_kernel::AggregateId;
use accord_projects::{Participant, ProjectEvent};
use prost::Name;

use crate::values::*;
use crate::{decode, BoundaryError, EncodedEvent};

pub(crate) fn participants(values: &[pb::Participant]) -> Result<Vec<Participant>, BoundaryError> {
    values
        .iter()
        .map(|p| {
            Ok(Participant {
                party: party("participants.party", &p.party)?,
                role: p.role.clone(),
            })
        })
        .collect()
}

/// Encodes one event of a project; `id` is the project's id.
pub fn encode_project_event(id: &AggregateId, event: &ProjectEvent) -> EncodedEvent {
    use ProjectEvent as E;
    let project_id = id.to_string();
    match event {
        E::Proposed {
            title,
            area,
            host_country,
            participants,
            agreement_id,
            reason,
            ..
        } => EncodedEvent::of(&pb::ProjectProposed {
            project_id,
            title: title.clone(),
            area: area_proto(*area),
            host_country: host_country.to_string(),
            participants: participants
                .iter()
                .map(|p| pb::Participant {
                    party: party_ref(&p.party),
                    role: p.role.clone(),
                })
                .collect(),
            agreement_id: agreement_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            reason: reason.clone(),
        }),
        E::Approved { motion_id } => EncodedEvent::of(&pb::ProjectApproved {
            project_id,
            motion_id: motion_id.to_string(),
        }),
        E::FundingPledged {
            party,
            amount,
            commitment_id,
        } => EncodedEvent::of(&pb::FundingPledged {
            project_id,
            party: party_ref(party),
            amount: money_proto(amount),
            commitment_id: commitment_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        }),
        E::FundingDisbursed { party, amount } => EncodedEvent::of(&pb::FundingDisbursed {
            project_id,
            party: party_ref(party),
            amount: money_proto(amount),
        }),
        E::MilestonePlanned {
            milestone_id,
            title,
            due,
        } => EncodedEvent::of(&pb::MilestonePlanned {
            project_id,
            milestone_id: milestone_id.to_string(),
            title: title.clone(),
            due: date_proto(due),
        }),
        E::MilestoneReached {
            milestone_id,
            reached_on,
        } => EncodedEvent::of(&pb::MilestoneReached {
            project_id,
            milestone_id: milestone_id.to_string(),
            reached_on: date_proto(reached_on),
        }),
        E::MilestoneSlipped {
            milestone_id,
            previous_due,
            new_due,
            reason,
        } => EncodedEvent::of(&pb::MilestoneSlipped {
            project_id,
            milestone_id: milestone_id.to_string(),
            previous_due: date_proto(previous_due),
            new_due: date_proto(new_due),
            reason: reason.clone(),
        }),
        E::MilestoneOverdue {
            milestone_id,
            due,
            noticed_on,
        } => EncodedEvent::of(&pb::MilestoneOverdue {
            project_id,
            milestone_id: milestone_id.to_string(),
            due: date_proto(due),
            noticed_on: date_proto(noticed_on),
        }),
        E::CapacityTargetSet {
            item,
            quantity,
            period,
        } => EncodedEvent::of(&pb::CapacityTargetSet {
            project_id,
            item: item.clone(),
            quantity: quantity_proto(quantity),
            period: period_proto(period),
        }),
        E::OutputReported {
            item,
            quantity,
            period,
            supplier,
        } => EncodedEvent::of(&pb::OutputReported {
            project_id,
            item: item.clone(),
            quantity: quantity_proto(quantity),
            period: period_proto(period),
            supplier: party_ref(supplier),
        }),
        E::Launched => EncodedEvent::of(&pb::ProjectLaunched { project_id }),
        E::ResultRecorded {
            result_id,
            title,
            holders,
            reason,
        } => EncodedEvent::of(&pb::ResearchResultRecorded {
            project_id,
            result_id: result_id.to_string(),
            title: title.clone(),
            holders: holders.iter().filter_map(party_ref).collect(),
            reason: reason.clone(),
        }),
        E::Completed { reason } => EncodedEvent::of(&pb::ProjectCompleted {
            project_id,
            reason: reason.clone(),
        }),
        E::Cancelled { reason } => EncodedEvent::of(&pb::ProjectCancelled {
            project_id,
            reason: reason.clone(),
        }),
    }
}

/// Decodes one stored event of the projects service by its event type.
pub fn decode_project_event(
    event_type: &str,
    payload: &[u8],
) -> Result<ProjectEvent, BoundaryError> {
    use ProjectEvent as E;
    macro_rules! is {
        ($message:ty) => {
            event_type == <$message>::full_name()
        };
    }
    let event = if is!(pb::ProjectProposed) {
        let m: pb::ProjectProposed = decode(payload)?;
        E::Proposed {
            id: aggregate_id("project_id", &m.project_id)?,
            title: m.title,
            area: area("area", m.area)?,
            host_country: accord_kernel::PartyId::new(m.host_country).map_err(|error| {
                BoundaryError::Invalid {
                    field: "host_country",
                    error,
                }
            })?,
            participants: participants(&m.participants)?,
            agreement_id: optional_id("agreement_id", &m.agreement_id)?,
            reason: m.reason,
        }
    } else if is!(pb::ProjectApproved) {
        let m: pb::ProjectApproved = decode(payload)?;
        E::Approved {
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
        }
    } else if is!(pb::FundingPledged) {
        let m: pb::FundingPledged = decode(payload)?;
        E::FundingPledged {
            party: party("party", &m.party)?,
            amount: money("amount", &m.amount)?,
            commitment_id: optional_id("commitment_id", &m.commitment_id)?,
        }
    } else if is!(pb::FundingDisbursed) {
        let m: pb::FundingDisbursed = decode(payload)?;
        E::FundingDisbursed {
            party: party("party", &m.party)?,
            amount: money("amount", &m.amount)?,
        }
    } else if is!(pb::MilestonePlanned) {
        let m: pb::MilestonePlanned = decode(payload)?;
        E::MilestonePlanned {
            milestone_id: aggregate_id("milestone_id", &m.milestone_id)?,
            title: m.title,
            due: date("due", &m.due)?,
        }
    } else if is!(pb::MilestoneReached) {
        let m: pb::MilestoneReached = decode(payload)?;
        E::MilestoneReached {
            milestone_id: aggregate_id("milestone_id", &m.milestone_id)?,
            reached_on: date("reached_on", &m.reached_on)?,
        }
    } else if is!(pb::MilestoneSlipped) {
        let m: pb::MilestoneSlipped = decode(payload)?;
        E::MilestoneSlipped {
            milestone_id: aggregate_id("milestone_id", &m.milestone_id)?,
            previous_due: date("previous_due", &m.previous_due)?,
            new_due: date("new_due", &m.new_due)?,
            reason: m.reason,
        }
    } else if is!(pb::MilestoneOverdue) {
        let m: pb::MilestoneOverdue = decode(payload)?;
        E::MilestoneOverdue {
            milestone_id: aggregate_id("milestone_id", &m.milestone_id)?,
            due: date("due", &m.due)?,
            noticed_on: date("noticed_on", &m.noticed_on)?,
        }
    } else if is!(pb::CapacityTargetSet) {
        let m: pb::CapacityTargetSet = decode(payload)?;
        E::CapacityTargetSet {
            item: m.item,
            quantity: quantity("quantity", &m.quantity)?,
            period: period("period", &m.period)?,
        }
    } else if is!(pb::OutputReported) {
        let m: pb::OutputReported = decode(payload)?;
        E::OutputReported {
            item: m.item,
            quantity: quantity("quantity", &m.quantity)?,
            period: period("period", &m.period)?,
            supplier: party("supplier", &m.supplier)?,
        }
    } else if is!(pb::ResearchResultRecorded) {
        let m: pb::ResearchResultRecorded = decode(payload)?;
        E::ResultRecorded {
            result_id: aggregate_id("result_id", &m.result_id)?,
            title: m.title,
            holders: parties("holders", &m.holders)?,
            reason: m.reason,
        }
    } else if is!(pb::ProjectLaunched) {
        let _: pb::ProjectLaunched = decode(payload)?;
        E::Launched
    } else if is!(pb::ProjectCompleted) {
        let m: pb::ProjectCompleted = decode(payload)?;
        E::Completed { reason: m.reason }
    } else if is!(pb::ProjectCancelled) {
        let m: pb::ProjectCancelled = decode(payload)?;
        E::Cancelled { reason: m.reason }
    } else {
        return Err(BoundaryError::UnknownEventType(event_type.to_owned()));
    };
    Ok(event)
}
