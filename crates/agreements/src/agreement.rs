//! An agreement: drafted between parties, signed by each designated signatory, in
//! force once all have signed; then amended (by adopted board motion), suspended,
//! resumed or terminated. A party may withdraw; the withdrawal states which of its
//! commitments under the agreement were still open (they stay as they are, for
//! their parties to fulfil, withdraw or breach), and an agreement left with fewer
//! than two parties is terminated by it.
//!
//! A state joins later by accession: the board adopts a motion admitting it, the
//! accession is recorded on the agreement (an amendment citing that motion), the
//! acceding state designates its signatories, and once they have all signed it is a
//! party. Commands that rest on documents (the text, a Letter of Intent, an
//! amendment) cite them by hash.

use accord_kernel::{
    ActorId, AggregateId, CapabilityArea, Decider, DocumentRef, PartyId, Refusal, RefusalKind,
    WireName,
};

use crate::{Authorisation, AuthorisationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum AgreementKind {
    StrategicCooperation,
    LetterOfIntent,
    Memorandum,
    Contract,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum AgreementStatus {
    /// No agreement yet.
    #[default]
    None,
    /// Drafted; signatures being collected.
    Drafted,
    InForce,
    Suspended,
    Terminated,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signatory {
    pub actor: ActorId,
    pub party: PartyId,
    pub role: String,
    pub signed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Agreement {
    pub id: Option<AggregateId>,
    pub kind: Option<AgreementKind>,
    pub title: String,
    pub parties: Vec<PartyId>,
    pub areas: Vec<CapabilityArea>,
    pub signatories: Vec<Signatory>,
    pub status: AgreementStatus,
    pub amendments: Vec<AggregateId>,
    /// States whose accession was approved and who have not yet signed.
    pub acceding: Vec<PartyId>,
}

impl Agreement {
    /// The parties that are states: those whose members vote on the board.
    pub fn state_parties(&self) -> Vec<PartyId> {
        self.parties
            .iter()
            .filter(|p| p.is_state())
            .cloned()
            .collect()
    }

    /// Whether `party`'s signatories may be designated and sign now: every party's
    /// while drafted; an acceding state's while the agreement is in force.
    fn collecting_signatures(&self) -> bool {
        self.status == AgreementStatus::Drafted
            || (self.status == AgreementStatus::InForce && !self.acceding.is_empty())
    }

    fn open_for_signature_by(&self, party: &PartyId) -> bool {
        match self.status {
            AgreementStatus::Drafted => true,
            AgreementStatus::InForce => self.acceding.contains(party),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AgreementCommand {
    Draft {
        id: AggregateId,
        kind: AgreementKind,
        title: String,
        parties: Vec<PartyId>,
        areas: Vec<CapabilityArea>,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    DesignateSignatory {
        actor: ActorId,
        party: PartyId,
        role: String,
    },
    /// Signed by `actor`, the command's authenticated actor.
    Sign {
        actor: ActorId,
    },
    Amend {
        summary: String,
        authorisation: Authorisation,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    /// The accession of `party`, as the board's adopted motion admitting it decided.
    ApproveAccession {
        party: PartyId,
        authorisation: Authorisation,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    Suspend {
        reason: String,
    },
    Resume {
        reason: String,
    },
    Terminate {
        reason: String,
    },
    /// `party` withdraws; `open_commitments` are its commitments under the
    /// agreement (as obligor or beneficiary) still open, as the shell found them.
    Withdraw {
        party: PartyId,
        open_commitments: Vec<AggregateId>,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AgreementEvent {
    Drafted {
        id: AggregateId,
        kind: AgreementKind,
        title: String,
        parties: Vec<PartyId>,
        areas: Vec<CapabilityArea>,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    SignatoryDesignated {
        actor: ActorId,
        party: PartyId,
        role: String,
    },
    Signed {
        actor: ActorId,
        party: PartyId,
    },
    EnteredIntoForce,
    Amended {
        summary: String,
        motion_id: AggregateId,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    AccessionApproved {
        party: PartyId,
        motion_id: AggregateId,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    /// Every signatory of the acceding state has signed: it is a party.
    PartyAcceded {
        party: PartyId,
    },
    Suspended {
        reason: String,
    },
    Resumed {
        reason: String,
    },
    Terminated {
        reason: String,
    },
    PartyWithdrew {
        party: PartyId,
        /// Its commitments under the agreement still open when it withdrew.
        open_commitments: Vec<AggregateId>,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    #[error("agreement already drafted")]
    AlreadyDrafted,
    #[error("agreement does not exist")]
    NotDrafted,
    #[error("an agreement needs at least two distinct parties")]
    TooFewParties,
    #[error("party {0} appears twice")]
    DuplicateParty(PartyId),
    #[error("party {0} is not a party to the agreement")]
    UnknownParty(PartyId),
    #[error("{0} is already a designated signatory")]
    AlreadyDesignated(ActorId),
    #[error("{0} is not a designated signatory")]
    NotASignatory(ActorId),
    #[error("{0} has already signed")]
    AlreadySigned(ActorId),
    #[error("the agreement is {}: signatures are collected only while drafted", .0.wire_name())]
    NotOpenForSignature(AgreementStatus),
    #[error("the agreement is {}, not in force", .0.wire_name())]
    NotInForce(AgreementStatus),
    #[error("the agreement is {}, not suspended", .0.wire_name())]
    NotSuspended(AgreementStatus),
    #[error("the agreement is terminated; nothing changes after that")]
    Terminated,
    #[error("{0} is already a party to the agreement")]
    AlreadyAParty(PartyId),
    #[error("the accession of {0} is already approved; its signatories sign next")]
    AccessionPending(PartyId),
    #[error("{0} is not a state: only states accede")]
    NotAState(PartyId),
    #[error(transparent)]
    Authorisation(#[from] AuthorisationError),
}

/// The agreement decider.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum AgreementDecider {}

impl Decider for AgreementDecider {
    type State = Agreement;
    type Command = AgreementCommand;
    type Event = AgreementEvent;
    type Error = AgreementError;

    fn decide(
        state: &Agreement,
        command: &AgreementCommand,
    ) -> Result<Vec<AgreementEvent>, AgreementError> {
        use AgreementCommand as C;
        use AgreementEvent as E;
        if state.status == AgreementStatus::Terminated {
            return Err(AgreementError::Terminated);
        }
        if state.status == AgreementStatus::None && !matches!(command, C::Draft { .. }) {
            return Err(AgreementError::NotDrafted);
        }
        match command {
            C::Draft {
                id,
                kind,
                title,
                parties,
                areas,
                reason,
                documents,
            } => {
                if state.status != AgreementStatus::None {
                    return Err(AgreementError::AlreadyDrafted);
                }
                for (i, party) in parties.iter().enumerate() {
                    if parties[..i].contains(party) {
                        return Err(AgreementError::DuplicateParty(party.clone()));
                    }
                }
                if parties.len() < 2 {
                    return Err(AgreementError::TooFewParties);
                }
                Ok(vec![E::Drafted {
                    id: id.clone(),
                    kind: *kind,
                    title: title.clone(),
                    parties: parties.clone(),
                    areas: areas.clone(),
                    reason: reason.clone(),
                    documents: documents.clone(),
                }])
            }
            C::DesignateSignatory { actor, party, role } => {
                if !state.open_for_signature_by(party) {
                    return Err(AgreementError::NotOpenForSignature(state.status));
                }
                if !state.parties.contains(party) && !state.acceding.contains(party) {
                    return Err(AgreementError::UnknownParty(party.clone()));
                }
                if state.signatories.iter().any(|s| &s.actor == actor) {
                    return Err(AgreementError::AlreadyDesignated(actor.clone()));
                }
                Ok(vec![E::SignatoryDesignated {
                    actor: actor.clone(),
                    party: party.clone(),
                    role: role.clone(),
                }])
            }
            C::Sign { actor } => {
                let found = state.signatories.iter().find(|s| &s.actor == actor);
                let signatory = match found {
                    Some(s) if state.open_for_signature_by(&s.party) => s,
                    None if state.collecting_signatures() => {
                        return Err(AgreementError::NotASignatory(actor.clone()))
                    }
                    _ => return Err(AgreementError::NotOpenForSignature(state.status)),
                };
                if signatory.signed {
                    return Err(AgreementError::AlreadySigned(actor.clone()));
                }
                let mut events = vec![E::Signed {
                    actor: actor.clone(),
                    party: signatory.party.clone(),
                }];
                if state.acceding.contains(&signatory.party) {
                    // An acceding state is a party once all its signatories signed.
                    let party_signed = state
                        .signatories
                        .iter()
                        .filter(|s| s.party == signatory.party && &s.actor != actor)
                        .all(|s| s.signed);
                    if party_signed {
                        events.push(E::PartyAcceded {
                            party: signatory.party.clone(),
                        });
                    }
                    return Ok(events);
                }
                let others_signed = state
                    .signatories
                    .iter()
                    .filter(|s| &s.actor != actor)
                    .all(|s| s.signed);
                // Every party must have signed through at least one signatory.
                let every_party_covered = state
                    .parties
                    .iter()
                    .all(|p| state.signatories.iter().any(|s| &s.party == p));
                if others_signed && every_party_covered {
                    events.push(E::EnteredIntoForce);
                }
                Ok(events)
            }
            C::Amend {
                summary,
                authorisation,
                reason,
                documents,
            } => {
                if state.status != AgreementStatus::InForce {
                    return Err(AgreementError::NotInForce(state.status));
                }
                authorisation.check(|subject| {
                    matches!(subject, crate::board::MotionSubject::Other { .. })
                })?;
                Ok(vec![E::Amended {
                    summary: summary.clone(),
                    motion_id: authorisation.motion_id.clone(),
                    reason: reason.clone(),
                    documents: documents.clone(),
                }])
            }
            C::ApproveAccession {
                party,
                authorisation,
                reason,
                documents,
            } => {
                if state.status != AgreementStatus::InForce {
                    return Err(AgreementError::NotInForce(state.status));
                }
                if !party.is_state() {
                    return Err(AgreementError::NotAState(party.clone()));
                }
                if state.parties.contains(party) {
                    return Err(AgreementError::AlreadyAParty(party.clone()));
                }
                if state.acceding.contains(party) {
                    return Err(AgreementError::AccessionPending(party.clone()));
                }
                authorisation.check(|subject| {
                    matches!(
                        subject,
                        crate::board::MotionSubject::AdmitParty { agreement_id, party: admitted }
                            if Some(agreement_id) == state.id.as_ref() && admitted == party
                    )
                })?;
                Ok(vec![E::AccessionApproved {
                    party: party.clone(),
                    motion_id: authorisation.motion_id.clone(),
                    reason: reason.clone(),
                    documents: documents.clone(),
                }])
            }
            C::Suspend { reason } => {
                if state.status != AgreementStatus::InForce {
                    return Err(AgreementError::NotInForce(state.status));
                }
                Ok(vec![E::Suspended {
                    reason: reason.clone(),
                }])
            }
            C::Resume { reason } => {
                if state.status != AgreementStatus::Suspended {
                    return Err(AgreementError::NotSuspended(state.status));
                }
                Ok(vec![E::Resumed {
                    reason: reason.clone(),
                }])
            }
            C::Terminate { reason } => Ok(vec![E::Terminated {
                reason: reason.clone(),
            }]),
            C::Withdraw {
                party,
                open_commitments,
                reason,
            } => {
                if !matches!(
                    state.status,
                    AgreementStatus::InForce | AgreementStatus::Suspended
                ) {
                    return Err(AgreementError::NotInForce(state.status));
                }
                if !state.parties.contains(party) {
                    return Err(AgreementError::UnknownParty(party.clone()));
                }
                let mut events = vec![E::PartyWithdrew {
                    party: party.clone(),
                    open_commitments: open_commitments.clone(),
                    reason: reason.clone(),
                }];
                if state.parties.len() <= 2 {
                    events.push(E::Terminated {
                        reason: format!("{party} withdrew: fewer than two parties remain"),
                    });
                }
                Ok(events)
            }
        }
    }

    fn evolve(mut state: Agreement, event: &AgreementEvent) -> Agreement {
        use AgreementEvent as E;
        match event {
            E::Drafted {
                id,
                kind,
                title,
                parties,
                areas,
                ..
            } => {
                state.id = Some(id.clone());
                state.kind = Some(*kind);
                state.title = title.clone();
                state.parties = parties.clone();
                state.areas = areas.clone();
                state.status = AgreementStatus::Drafted;
            }
            E::SignatoryDesignated { actor, party, role } => state.signatories.push(Signatory {
                actor: actor.clone(),
                party: party.clone(),
                role: role.clone(),
                signed: false,
            }),
            E::Signed { actor, .. } => {
                if let Some(s) = state.signatories.iter_mut().find(|s| &s.actor == actor) {
                    s.signed = true;
                }
            }
            E::EnteredIntoForce | E::Resumed { .. } => state.status = AgreementStatus::InForce,
            E::Amended { motion_id, .. } => state.amendments.push(motion_id.clone()),
            E::AccessionApproved {
                party, motion_id, ..
            } => {
                state.amendments.push(motion_id.clone());
                state.acceding.push(party.clone());
            }
            E::PartyAcceded { party } => {
                state.acceding.retain(|p| p != party);
                state.parties.push(party.clone());
            }
            E::Suspended { .. } => state.status = AgreementStatus::Suspended,
            E::Terminated { .. } => state.status = AgreementStatus::Terminated,
            E::PartyWithdrew { party, .. } => {
                state.parties.retain(|p| p != party);
                state.acceding.retain(|p| p != party);
            }
        }
        state
    }
}

impl WireName for AgreementStatus {
    fn wire_name(&self) -> &'static str {
        match self {
            AgreementStatus::None => "none",
            AgreementStatus::Drafted => "drafted",
            AgreementStatus::InForce => "in_force",
            AgreementStatus::Suspended => "suspended",
            AgreementStatus::Terminated => "terminated",
        }
    }
}

impl Refusal for AgreementError {
    fn kind(&self) -> RefusalKind {
        use AgreementError as E;
        match self {
            E::AlreadyDrafted
            | E::AlreadyDesignated(_)
            | E::AlreadySigned(_)
            | E::AlreadyAParty(_)
            | E::AccessionPending(_) => RefusalKind::Conflict,
            E::NotDrafted => RefusalKind::NotFound,
            E::TooFewParties | E::DuplicateParty(_) | E::UnknownParty(_) | E::NotAState(_) => {
                RefusalKind::InvalidArgument
            }
            E::NotASignatory(_) => RefusalKind::PermissionDenied,
            E::NotOpenForSignature(_) | E::NotInForce(_) | E::NotSuspended(_) | E::Terminated => {
                RefusalKind::FailedPrecondition
            }
            E::Authorisation(error) => error.kind(),
        }
    }

    fn reason(&self) -> &'static str {
        use AgreementError as E;
        match self {
            E::AlreadyDrafted => "agreement_exists",
            E::NotDrafted => "agreement_not_found",
            E::TooFewParties => "too_few_parties",
            E::DuplicateParty(_) => "duplicate_party",
            E::UnknownParty(_) => "not_a_party",
            E::AlreadyDesignated(_) => "already_designated",
            E::NotASignatory(_) => "not_a_signatory",
            E::AlreadySigned(_) => "already_signed",
            E::NotOpenForSignature(_) => "not_open_for_signature",
            E::NotInForce(_) => "agreement_not_in_force",
            E::NotSuspended(_) => "agreement_not_suspended",
            E::Terminated => "agreement_terminated",
            E::AlreadyAParty(_) => "already_a_party",
            E::AccessionPending(_) => "accession_pending",
            E::NotAState(_) => "not_a_state",
            E::Authorisation(error) => error.reason(),
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        use AgreementError as E;
        match self {
            E::DuplicateParty(party)
            | E::UnknownParty(party)
            | E::AlreadyAParty(party)
            | E::AccessionPending(party)
            | E::NotAState(party) => vec![("party", party.to_string())],
            E::AlreadyDesignated(actor) | E::NotASignatory(actor) | E::AlreadySigned(actor) => {
                vec![("actor", actor.to_string())]
            }
            E::NotOpenForSignature(status) | E::NotInForce(status) | E::NotSuspended(status) => {
                vec![("status", status.wire_name().to_owned())]
            }
            E::Authorisation(error) => error.details(),
            _ => Vec::new(),
        }
    }
}

impl WireName for AgreementKind {
    fn wire_name(&self) -> &'static str {
        match self {
            AgreementKind::StrategicCooperation => "strategic_cooperation",
            AgreementKind::LetterOfIntent => "letter_of_intent",
            AgreementKind::Memorandum => "memorandum",
            AgreementKind::Contract => "contract",
        }
    }
}
