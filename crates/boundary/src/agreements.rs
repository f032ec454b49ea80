//! Agreements service events: domain ⇄ protobuf.

use accord_agreements::actor::ActorEvent;
use accord_agreements::agreement::{AgreementEvent, AgreementKind};
use accord_agreements::board::{BoardEvent, BoardRole, MotionSubject, Vote};
use accord_agreements::commitment::{CommitmentEvent, CommitmentKind, CommitmentTerms};
use accord_agreements::projections::AgreementsEvent;
use accord_contracts::v1 as pb;
use accord_kernel::AggregateId;
use prost::Name;

use crate::values::*;
use crate::{decode, BoundaryError, EncodedEvent};

pub(crate) fn kind(value: i32) -> Result<AgreementKind, BoundaryError> {
    use pb::AgreementKind as P;
    let field = "kind";
    Ok(
        match P::try_from(value).map_err(|_| BoundaryError::UnknownEnum { field, value })? {
            P::StrategicCooperation => AgreementKind::StrategicCooperation,
            P::LetterOfIntent => AgreementKind::LetterOfIntent,
            P::Memorandum => AgreementKind::Memorandum,
            P::Contract => AgreementKind::Contract,
            P::Unspecified => return Err(BoundaryError::Missing { field }),
        },
    )
}

fn kind_proto(kind: AgreementKind) -> i32 {
    use pb::AgreementKind as P;
    (match kind {
        AgreementKind::StrategicCooperation => P::StrategicCooperation,
        AgreementKind::LetterOfIntent => P::LetterOfIntent,
        AgreementKind::Memorandum => P::Memorandum,
        AgreementKind::Contract => P::Contract,
    }) as i32
}

pub(crate) fn role(value: i32) -> Result<BoardRole, BoundaryError> {
    use pb::BoardRole as P;
    let field = "role";
    Ok(
        match P::try_from(value).map_err(|_| BoundaryError::UnknownEnum { field, value })? {
            P::Chair => BoardRole::Chair,
            P::Member => BoardRole::Member,
            P::Observer => BoardRole::Observer,
            P::Stakeholder => BoardRole::Stakeholder,
            P::Unspecified => return Err(BoundaryError::Missing { field }),
        },
    )
}

fn role_proto(role: BoardRole) -> i32 {
    use pb::BoardRole as P;
    (match role {
        BoardRole::Chair => P::Chair,
        BoardRole::Member => P::Member,
        BoardRole::Observer => P::Observer,
        BoardRole::Stakeholder => P::Stakeholder,
    }) as i32
}

pub(crate) fn vote(value: i32) -> Result<Vote, BoundaryError> {
    use pb::Vote as P;
    let field = "vote";
    Ok(
        match P::try_from(value).map_err(|_| BoundaryError::UnknownEnum { field, value })? {
            P::Approve => Vote::Approve,
            P::Reject => Vote::Reject,
            P::Abstain => Vote::Abstain,
            P::Unspecified => return Err(BoundaryError::Missing { field }),
        },
    )
}

fn vote_proto(vote: Vote) -> i32 {
    use pb::Vote as P;
    (match vote {
        Vote::Approve => P::Approve,
        Vote::Reject => P::Reject,
        Vote::Abstain => P::Abstain,
    }) as i32
}

pub(crate) fn subject(value: &Option<pb::MotionSubject>) -> Result<MotionSubject, BoundaryError> {
    use pb::motion_subject::Kind;
    let field = "subject";
    let kind = value
        .as_ref()
        .and_then(|s| s.kind.as_ref())
        .ok_or(BoundaryError::Missing { field })?;
    Ok(match kind {
        Kind::ApproveProject(p) => MotionSubject::ApproveProject {
            project_id: aggregate_id("subject.project_id", &p.project_id)?,
        },
        Kind::AmendCommitment(c) => MotionSubject::AmendCommitment {
            commitment_id: aggregate_id("subject.commitment_id", &c.commitment_id)?,
        },
        Kind::Other(o) => MotionSubject::Other {
            description: o.description.clone(),
        },
        Kind::AdmitParty(a) => MotionSubject::AdmitParty {
            agreement_id: aggregate_id("subject.agreement_id", &a.agreement_id)?,
            party: party("subject.party", &a.party)?,
        },
    })
}

fn subject_proto(subject: &MotionSubject) -> Option<pb::MotionSubject> {
    use pb::motion_subject::{AdmitParty, AmendCommitment, ApproveProject, Kind, Other};
    Some(pb::MotionSubject {
        kind: Some(match subject {
            MotionSubject::ApproveProject { project_id } => Kind::ApproveProject(ApproveProject {
                project_id: project_id.to_string(),
            }),
            MotionSubject::AmendCommitment { commitment_id } => {
                Kind::AmendCommitment(AmendCommitment {
                    commitment_id: commitment_id.to_string(),
                })
            }
            MotionSubject::Other { description } => Kind::Other(Other {
                description: description.clone(),
            }),
            MotionSubject::AdmitParty {
                agreement_id,
                party,
            } => Kind::AdmitParty(AdmitParty {
                agreement_id: agreement_id.to_string(),
                party: party_ref(party),
            }),
        }),
    })
}

pub(crate) fn terms(value: &Option<pb::CommitmentTerms>) -> Result<CommitmentTerms, BoundaryError> {
    use pb::commitment_terms::Kind;
    let value = value
        .as_ref()
        .ok_or(BoundaryError::Missing { field: "terms" })?;
    let kind = value.kind.as_ref().ok_or(BoundaryError::Missing {
        field: "terms.kind",
    })?;
    let kind = match kind {
        Kind::ProcurementPriority(p) => CommitmentKind::ProcurementPriority {
            item_categories: p.item_categories.clone(),
        },
        Kind::Funding(f) => CommitmentKind::Funding {
            amount: money("terms.funding.amount", &f.amount)?,
        },
        Kind::ProductionCapacity(c) => CommitmentKind::ProductionCapacity {
            item: c.item.clone(),
            quantity: quantity("terms.production_capacity.quantity", &c.quantity)?,
            period: period("terms.production_capacity.period", &c.period)?,
        },
        Kind::Research(r) => CommitmentKind::Research {
            topic: r.topic.clone(),
        },
        Kind::Regulatory(r) => CommitmentKind::Regulatory {
            description: r.description.clone(),
            max_days: r.max_days,
        },
        Kind::Other(o) => CommitmentKind::Other {
            description: o.description.clone(),
        },
    };
    Ok(CommitmentTerms {
        kind,
        text: value.text.clone(),
    })
}

fn terms_proto(terms: &CommitmentTerms) -> Option<pb::CommitmentTerms> {
    use pb::commitment_terms::Kind;
    let kind = match &terms.kind {
        CommitmentKind::ProcurementPriority { item_categories } => {
            Kind::ProcurementPriority(pb::ProcurementPriorityTerms {
                item_categories: item_categories.clone(),
            })
        }
        CommitmentKind::Funding { amount } => Kind::Funding(pb::FundingTerms {
            amount: money_proto(amount),
        }),
        CommitmentKind::ProductionCapacity {
            item,
            quantity,
            period,
        } => Kind::ProductionCapacity(pb::ProductionCapacityTerms {
            item: item.clone(),
            quantity: quantity_proto(quantity),
            period: period_proto(period),
        }),
        CommitmentKind::Research { topic } => Kind::Research(pb::ResearchTerms {
            topic: topic.clone(),
        }),
        CommitmentKind::Regulatory {
            description,
            max_days,
        } => Kind::Regulatory(pb::RegulatoryTerms {
            description: description.clone(),
            max_days: *max_days,
        }),
        CommitmentKind::Other { description } => Kind::Other(pb::OtherTerms {
            description: description.clone(),
        }),
    };
    Some(pb::CommitmentTerms {
        kind: Some(kind),
        text: terms.text.clone(),
    })
}

/// Encodes one event of the agreements service; `id` is its aggregate's id.
pub fn encode_agreements_event(id: &AggregateId, event: &AgreementsEvent) -> EncodedEvent {
    let id = id.to_string();
    match event {
        AgreementsEvent::Agreement(event) => encode_agreement(id, event),
        AgreementsEvent::Commitment(event) => encode_commitment(id, event),
        AgreementsEvent::Board(event) => encode_board(id, event),
        AgreementsEvent::Actor(event) => encode_actor(id, event),
    }
}

fn encode_agreement(agreement_id: String, event: &AgreementEvent) -> EncodedEvent {
    use AgreementEvent as E;
    match event {
        E::Drafted {
            kind,
            title,
            parties,
            areas,
            reason,
            documents,
            ..
        } => EncodedEvent::of(&pb::AgreementDrafted {
            agreement_id,
            kind: kind_proto(*kind),
            title: title.clone(),
            parties: parties.iter().filter_map(party_ref).collect(),
            areas: areas.iter().map(|a| area_proto(*a)).collect(),
            reason: reason.clone(),
            documents: documents_proto(documents),
        }),
        E::SignatoryDesignated { actor, party, role } => {
            EncodedEvent::of(&pb::SignatoryDesignated {
                agreement_id,
                actor_id: actor.to_string(),
                party: party_ref(party),
                role: role.clone(),
            })
        }
        E::Signed { actor, party } => EncodedEvent::of(&pb::AgreementSigned {
            agreement_id,
            actor_id: actor.to_string(),
            party: party_ref(party),
        }),
        E::EnteredIntoForce => EncodedEvent::of(&pb::AgreementEnteredIntoForce { agreement_id }),
        E::Amended {
            summary,
            motion_id,
            reason,
            documents,
        } => EncodedEvent::of(&pb::AgreementAmended {
            agreement_id,
            summary: summary.clone(),
            motion_id: motion_id.to_string(),
            reason: reason.clone(),
            documents: documents_proto(documents),
        }),
        E::AccessionApproved {
            party,
            motion_id,
            reason,
            documents,
        } => EncodedEvent::of(&pb::AccessionApproved {
            agreement_id,
            party: party_ref(party),
            motion_id: motion_id.to_string(),
            reason: reason.clone(),
            documents: documents_proto(documents),
        }),
        E::PartyAcceded { party } => EncodedEvent::of(&pb::PartyAcceded {
            agreement_id,
            party: party_ref(party),
        }),
        E::Suspended { reason } => EncodedEvent::of(&pb::AgreementSuspended {
            agreement_id,
            reason: reason.clone(),
        }),
        E::Resumed { reason } => EncodedEvent::of(&pb::AgreementResumed {
            agreement_id,
            reason: reason.clone(),
        }),
        E::Terminated { reason } => EncodedEvent::of(&pb::AgreementTerminated {
            agreement_id,
            reason: reason.clone(),
        }),
        E::PartyWithdrew {
            party,
            open_commitments,
            reason,
        } => EncodedEvent::of(&pb::PartyWithdrew {
            agreement_id,
            party: party_ref(party),
            open_commitments: open_commitments.iter().map(ToString::to_string).collect(),
            reason: reason.clone(),
        }),
    }
}

fn encode_commitment(commitment_id: String, event: &CommitmentEvent) -> EncodedEvent {
    use CommitmentEvent as E;
    match event {
        E::Proposed {
            agreement_id,
            obligor,
            beneficiary,
            also_benefiting,
            terms,
            due,
            reason,
            ..
        } => EncodedEvent::of(&pb::CommitmentProposed {
            commitment_id,
            agreement_id: agreement_id.to_string(),
            obligor: party_ref(obligor),
            beneficiary: party_ref(beneficiary),
            also_benefiting: also_benefiting.iter().filter_map(party_ref).collect(),
            terms: terms_proto(terms),
            due: due.as_ref().and_then(date_proto),
            reason: reason.clone(),
        }),
        E::Accepted { reason } => EncodedEvent::of(&pb::CommitmentAccepted {
            commitment_id,
            reason: reason.clone(),
        }),
        E::Amended {
            terms,
            due,
            motion_id,
            reason,
        } => EncodedEvent::of(&pb::CommitmentAmended {
            commitment_id,
            terms: terms_proto(terms),
            due: due.as_ref().and_then(date_proto),
            motion_id: motion_id.to_string(),
            reason: reason.clone(),
        }),
        E::ProgressRecorded {
            allocated,
            delivered,
            reason,
            documents,
        } => EncodedEvent::of(&pb::CommitmentProgressRecorded {
            commitment_id,
            allocated: allocated.as_ref().and_then(quantity_proto),
            delivered: delivered.as_ref().and_then(quantity_proto),
            reason: reason.clone(),
            documents: documents_proto(documents),
        }),
        E::Overdue { due, noticed_on } => EncodedEvent::of(&pb::CommitmentOverdue {
            commitment_id,
            due: date_proto(due),
            noticed_on: date_proto(noticed_on),
        }),
        E::DeliveryConfirmed {
            quantity,
            reason,
            documents,
        } => EncodedEvent::of(&pb::DeliveryConfirmed {
            commitment_id,
            quantity: quantity_proto(quantity),
            reason: reason.clone(),
            documents: documents_proto(documents),
        }),
        E::DeliveryDisputed {
            quantity,
            reason,
            documents,
        } => EncodedEvent::of(&pb::DeliveryDisputed {
            commitment_id,
            quantity: quantity_proto(quantity),
            reason: reason.clone(),
            documents: documents_proto(documents),
        }),
        E::Fulfilled { reason } => EncodedEvent::of(&pb::CommitmentFulfilled {
            commitment_id,
            reason: reason.clone(),
        }),
        E::Breached { reason } => EncodedEvent::of(&pb::CommitmentBreached {
            commitment_id,
            reason: reason.clone(),
        }),
        E::Withdrawn { reason } => EncodedEvent::of(&pb::CommitmentWithdrawn {
            commitment_id,
            reason: reason.clone(),
        }),
    }
}

fn encode_board(board_id: String, event: &BoardEvent) -> EncodedEvent {
    use BoardEvent as E;
    match event {
        E::Established {
            agreement_id,
            name,
            state_parties,
            ..
        } => EncodedEvent::of(&pb::BoardEstablished {
            board_id,
            agreement_id: agreement_id.to_string(),
            name: name.clone(),
            state_parties: state_parties.iter().filter_map(party_ref).collect(),
        }),
        E::MemberAppointed { actor, party, role } => EncodedEvent::of(&pb::BoardMemberAppointed {
            board_id,
            actor_id: actor.to_string(),
            party: party_ref(party),
            role: role_proto(*role),
        }),
        E::MemberRemoved { actor, reason } => EncodedEvent::of(&pb::BoardMemberRemoved {
            board_id,
            actor_id: actor.to_string(),
            reason: reason.clone(),
        }),
        E::StatePartyAdmitted { party } => EncodedEvent::of(&pb::StatePartyAdmitted {
            board_id,
            party: party_ref(party),
        }),
        E::MotionTabled {
            motion_id,
            title,
            subject,
            tabled_by,
            documents,
        } => EncodedEvent::of(&pb::MotionTabled {
            board_id,
            motion_id: motion_id.to_string(),
            title: title.clone(),
            subject: subject_proto(subject),
            tabled_by: tabled_by.to_string(),
            documents: documents_proto(documents),
        }),
        E::VoteCast {
            motion_id,
            actor,
            party,
            vote,
        } => EncodedEvent::of(&pb::VoteCast {
            board_id,
            motion_id: motion_id.to_string(),
            actor_id: actor.to_string(),
            party: party_ref(party),
            vote: vote_proto(*vote),
        }),
        E::MotionAdopted { motion_id, subject } => EncodedEvent::of(&pb::MotionAdopted {
            board_id,
            motion_id: motion_id.to_string(),
            subject: subject_proto(subject),
        }),
        E::MotionRejected {
            motion_id,
            rejected_by,
        } => EncodedEvent::of(&pb::MotionRejected {
            board_id,
            motion_id: motion_id.to_string(),
            rejected_by: party_ref(rejected_by),
        }),
    }
}

fn encode_actor(actor_id: String, event: &ActorEvent) -> EncodedEvent {
    match event {
        ActorEvent::Registered {
            name,
            party,
            role,
            public_key,
            ..
        } => EncodedEvent::of(&pb::ActorRegistered {
            actor_id,
            name: name.clone(),
            party: party_ref(party),
            role: role.clone(),
            public_key: public_key.clone(),
        }),
        ActorEvent::KeyRotated { public_key, reason } => EncodedEvent::of(&pb::ActorKeyRotated {
            actor_id,
            public_key: public_key.clone(),
            reason: reason.clone(),
        }),
        ActorEvent::KeyRevoked { reason } => EncodedEvent::of(&pb::ActorKeyRevoked {
            actor_id,
            reason: reason.clone(),
        }),
    }
}

/// Decodes one stored event of the agreements service by its event type.
pub fn decode_agreements_event(
    event_type: &str,
    payload: &[u8],
) -> Result<AgreementsEvent, BoundaryError> {
    use AgreementsEvent as S;
    macro_rules! is {
        ($message:ty) => {
            event_type == <$message>::full_name()
        };
    }
    let event = if is!(pb::AgreementDrafted) {
        let m: pb::AgreementDrafted = decode(payload)?;
        S::Agreement(AgreementEvent::Drafted {
            id: aggregate_id("agreement_id", &m.agreement_id)?,
            kind: kind(m.kind)?,
            title: m.title,
            parties: parties("parties", &m.parties)?,
            areas: m
                .areas
                .iter()
                .map(|a| area("areas", *a))
                .collect::<Result<_, _>>()?,
            reason: m.reason,
            documents: documents(&m.documents)?,
        })
    } else if is!(pb::SignatoryDesignated) {
        let m: pb::SignatoryDesignated = decode(payload)?;
        S::Agreement(AgreementEvent::SignatoryDesignated {
            actor: actor_id("actor_id", &m.actor_id)?,
            party: party("party", &m.party)?,
            role: m.role,
        })
    } else if is!(pb::AgreementSigned) {
        let m: pb::AgreementSigned = decode(payload)?;
        S::Agreement(AgreementEvent::Signed {
            actor: actor_id("actor_id", &m.actor_id)?,
            party: party("party", &m.party)?,
        })
    } else if is!(pb::AgreementEnteredIntoForce) {
        let _: pb::AgreementEnteredIntoForce = decode(payload)?;
        S::Agreement(AgreementEvent::EnteredIntoForce)
    } else if is!(pb::AgreementAmended) {
        let m: pb::AgreementAmended = decode(payload)?;
        S::Agreement(AgreementEvent::Amended {
            summary: m.summary,
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
            reason: m.reason,
            documents: documents(&m.documents)?,
        })
    } else if is!(pb::AccessionApproved) {
        let m: pb::AccessionApproved = decode(payload)?;
        S::Agreement(AgreementEvent::AccessionApproved {
            party: party("party", &m.party)?,
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
            reason: m.reason,
            documents: documents(&m.documents)?,
        })
    } else if is!(pb::PartyAcceded) {
        let m: pb::PartyAcceded = decode(payload)?;
        S::Agreement(AgreementEvent::PartyAcceded {
            party: party("party", &m.party)?,
        })
    } else if is!(pb::AgreementSuspended) {
        let m: pb::AgreementSuspended = decode(payload)?;
        S::Agreement(AgreementEvent::Suspended { reason: m.reason })
    } else if is!(pb::AgreementResumed) {
        let m: pb::AgreementResumed = decode(payload)?;
        S::Agreement(AgreementEvent::Resumed { reason: m.reason })
    } else if is!(pb::AgreementTerminated) {
        let m: pb::AgreementTerminated = decode(payload)?;
        S::Agreement(AgreementEvent::Terminated { reason: m.reason })
    } else if is!(pb::PartyWithdrew) {
        let m: pb::PartyWithdrew = decode(payload)?;
        S::Agreement(AgreementEvent::PartyWithdrew {
            party: party("party", &m.party)?,
            open_commitments: m
                .open_commitments
                .iter()
                .map(|id| aggregate_id("open_commitments", id))
                .collect::<Result<_, _>>()?,
            reason: m.reason,
        })
    } else if is!(pb::CommitmentProposed) {
        let m: pb::CommitmentProposed = decode(payload)?;
        S::Commitment(CommitmentEvent::Proposed {
            id: aggregate_id("commitment_id", &m.commitment_id)?,
            agreement_id: aggregate_id("agreement_id", &m.agreement_id)?,
            obligor: party("obligor", &m.obligor)?,
            beneficiary: party("beneficiary", &m.beneficiary)?,
            also_benefiting: parties("also_benefiting", &m.also_benefiting)?,
            terms: terms(&m.terms)?,
            due: optional_date("due", &m.due)?,
            reason: m.reason,
        })
    } else if is!(pb::CommitmentAccepted) {
        let m: pb::CommitmentAccepted = decode(payload)?;
        S::Commitment(CommitmentEvent::Accepted { reason: m.reason })
    } else if is!(pb::CommitmentAmended) {
        let m: pb::CommitmentAmended = decode(payload)?;
        S::Commitment(CommitmentEvent::Amended {
            terms: terms(&m.terms)?,
            due: optional_date("due", &m.due)?,
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
            reason: m.reason,
        })
    } else if is!(pb::CommitmentProgressRecorded) {
        let m: pb::CommitmentProgressRecorded = decode(payload)?;
        S::Commitment(CommitmentEvent::ProgressRecorded {
            allocated: optional_quantity("allocated", &m.allocated)?,
            delivered: optional_quantity("delivered", &m.delivered)?,
            reason: m.reason,
            documents: documents(&m.documents)?,
        })
    } else if is!(pb::CommitmentOverdue) {
        let m: pb::CommitmentOverdue = decode(payload)?;
        S::Commitment(CommitmentEvent::Overdue {
            due: date("due", &m.due)?,
            noticed_on: date("noticed_on", &m.noticed_on)?,
        })
    } else if is!(pb::DeliveryConfirmed) {
        let m: pb::DeliveryConfirmed = decode(payload)?;
        S::Commitment(CommitmentEvent::DeliveryConfirmed {
            quantity: quantity("quantity", &m.quantity)?,
            reason: m.reason,
            documents: documents(&m.documents)?,
        })
    } else if is!(pb::DeliveryDisputed) {
        let m: pb::DeliveryDisputed = decode(payload)?;
        S::Commitment(CommitmentEvent::DeliveryDisputed {
            quantity: quantity("quantity", &m.quantity)?,
            reason: m.reason,
            documents: documents(&m.documents)?,
        })
    } else if is!(pb::CommitmentFulfilled) {
        let m: pb::CommitmentFulfilled = decode(payload)?;
        S::Commitment(CommitmentEvent::Fulfilled { reason: m.reason })
    } else if is!(pb::CommitmentBreached) {
        let m: pb::CommitmentBreached = decode(payload)?;
        S::Commitment(CommitmentEvent::Breached { reason: m.reason })
    } else if is!(pb::CommitmentWithdrawn) {
        let m: pb::CommitmentWithdrawn = decode(payload)?;
        S::Commitment(CommitmentEvent::Withdrawn { reason: m.reason })
    } else if is!(pb::BoardEstablished) {
        let m: pb::BoardEstablished = decode(payload)?;
        S::Board(BoardEvent::Established {
            id: aggregate_id("board_id", &m.board_id)?,
            agreement_id: aggregate_id("agreement_id", &m.agreement_id)?,
            name: m.name,
            state_parties: parties("state_parties", &m.state_parties)?,
        })
    } else if is!(pb::BoardMemberAppointed) {
        let m: pb::BoardMemberAppointed = decode(payload)?;
        S::Board(BoardEvent::MemberAppointed {
            actor: actor_id("actor_id", &m.actor_id)?,
            party: party("party", &m.party)?,
            role: role(m.role)?,
        })
    } else if is!(pb::BoardMemberRemoved) {
        let m: pb::BoardMemberRemoved = decode(payload)?;
        S::Board(BoardEvent::MemberRemoved {
            actor: actor_id("actor_id", &m.actor_id)?,
            reason: m.reason,
        })
    } else if is!(pb::StatePartyAdmitted) {
        let m: pb::StatePartyAdmitted = decode(payload)?;
        S::Board(BoardEvent::StatePartyAdmitted {
            party: party("party", &m.party)?,
        })
    } else if is!(pb::MotionTabled) {
        let m: pb::MotionTabled = decode(payload)?;
        S::Board(BoardEvent::MotionTabled {
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
            title: m.title,
            subject: subject(&m.subject)?,
            tabled_by: actor_id("tabled_by", &m.tabled_by)?,
            documents: documents(&m.documents)?,
        })
    } else if is!(pb::VoteCast) {
        let m: pb::VoteCast = decode(payload)?;
        S::Board(BoardEvent::VoteCast {
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
            actor: actor_id("actor_id", &m.actor_id)?,
            party: party("party", &m.party)?,
            vote: vote(m.vote)?,
        })
    } else if is!(pb::MotionAdopted) {
        let m: pb::MotionAdopted = decode(payload)?;
        S::Board(BoardEvent::MotionAdopted {
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
            subject: subject(&m.subject)?,
        })
    } else if is!(pb::MotionRejected) {
        let m: pb::MotionRejected = decode(payload)?;
        S::Board(BoardEvent::MotionRejected {
            motion_id: aggregate_id("motion_id", &m.motion_id)?,
            rejected_by: party("rejected_by", &m.rejected_by)?,
        })
    } else if is!(pb::ActorRegistered) {
        let m: pb::ActorRegistered = decode(payload)?;
        S::Actor(ActorEvent::Registered {
            id: actor_id("actor_id", &m.actor_id)?,
            name: m.name,
            party: party("party", &m.party)?,
            role: m.role,
            public_key: m.public_key,
        })
    } else if is!(pb::ActorKeyRotated) {
        let m: pb::ActorKeyRotated = decode(payload)?;
        S::Actor(ActorEvent::KeyRotated {
            public_key: m.public_key,
            reason: m.reason,
        })
    } else if is!(pb::ActorKeyRevoked) {
        let m: pb::ActorKeyRevoked = decode(payload)?;
        S::Actor(ActorEvent::KeyRevoked { reason: m.reason })
    } else {
        return Err(BoundaryError::UnknownEventType(event_type.to_owned()));
    };
    Ok(event)
}
