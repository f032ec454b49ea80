//! The Steering Board of an agreement: members from each state party and other
//! stakeholders; motions tabled and voted on. A motion is adopted only when the
//! voting members of every state party have all approved it, and rejected as soon as
//! a voting member of a state party rejects it (each state holds a veto).
//!
//! A state that accedes to the agreement joins the board as a state party
//! (`AdmitStateParty`, once the agreement counts it as a party); from then on no
//! motion still open or tabled later is adopted without its voting members.

use std::collections::BTreeMap;

use accord_kernel::{
    ActorId, AggregateId, Decider, DocumentRef, PartyId, Refusal, RefusalKind, WireName,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum BoardRole {
    Chair,
    Member,
    Observer,
    Stakeholder,
}

impl BoardRole {
    /// Chairs and members vote; observers and stakeholders take part without a vote.
    pub fn votes(self) -> bool {
        matches!(self, BoardRole::Chair | BoardRole::Member)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Vote {
    Approve,
    Reject,
    Abstain,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum MotionStatus {
    /// The motion is not known to the board.
    #[default]
    Unknown,
    Open,
    Adopted,
    Rejected,
}

/// What a motion decides.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MotionSubject {
    ApproveProject {
        project_id: AggregateId,
    },
    AmendCommitment {
        commitment_id: AggregateId,
    },
    /// A state's accession to an agreement.
    AdmitParty {
        agreement_id: AggregateId,
        party: PartyId,
    },
    Other {
        description: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub party: PartyId,
    pub role: BoardRole,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Motion {
    pub title: String,
    pub subject: MotionSubject,
    pub tabled_by: ActorId,
    pub votes: BTreeMap<ActorId, (PartyId, Vote)>,
    pub status: MotionStatus,
    /// The documents the motion was tabled with (a draft, minutes).
    pub documents: Vec<DocumentRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Board {
    pub id: Option<AggregateId>,
    pub agreement_id: Option<AggregateId>,
    pub name: String,
    pub state_parties: Vec<PartyId>,
    pub members: BTreeMap<ActorId, Member>,
    pub motions: BTreeMap<AggregateId, Motion>,
}

impl Board {
    pub fn motion_status(&self, motion_id: &AggregateId) -> MotionStatus {
        self.motions
            .get(motion_id)
            .map_or(MotionStatus::Unknown, |m| m.status)
    }

    /// Whether `votes` settle the motion: rejected if a voting member of a state
    /// party rejected, adopted if every state party has voting members and all of
    /// them approved, open otherwise.
    fn outcome(&self, votes: &BTreeMap<ActorId, (PartyId, Vote)>) -> MotionStatus {
        let voting_member_of_state = |actor: &ActorId| {
            self.members
                .get(actor)
                .filter(|m| m.role.votes() && self.state_parties.contains(&m.party))
        };
        let rejected = votes.iter().any(|(actor, (_, vote))| {
            *vote == Vote::Reject && voting_member_of_state(actor).is_some()
        });
        if rejected {
            return MotionStatus::Rejected;
        }
        let every_state_approves = self.state_parties.iter().all(|state| {
            let mut voters = self
                .members
                .iter()
                .filter(|(_, m)| m.role.votes() && &m.party == state)
                .peekable();
            voters.peek().is_some()
                && voters.all(|(actor, _)| matches!(votes.get(actor), Some((_, Vote::Approve))))
        });
        if every_state_approves {
            MotionStatus::Adopted
        } else {
            MotionStatus::Open
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BoardCommand {
    /// `state_parties` are the agreement's states, as the shell found them.
    Establish {
        id: AggregateId,
        agreement_id: AggregateId,
        name: String,
        state_parties: Vec<PartyId>,
    },
    Appoint {
        actor: ActorId,
        party: PartyId,
        role: BoardRole,
    },
    Remove {
        actor: ActorId,
        reason: String,
    },
    /// `party` takes its seat as a state party; `agreement_parties` are the parties
    /// of the board's agreement, as the shell found them.
    AdmitStateParty {
        party: PartyId,
        agreement_parties: Vec<PartyId>,
    },
    /// Tabled by `actor`, who must be a member.
    TableMotion {
        motion_id: AggregateId,
        title: String,
        subject: MotionSubject,
        actor: ActorId,
        documents: Vec<DocumentRef>,
    },
    /// Cast by `actor`, who must be a voting member.
    CastVote {
        motion_id: AggregateId,
        actor: ActorId,
        vote: Vote,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BoardEvent {
    Established {
        id: AggregateId,
        agreement_id: AggregateId,
        name: String,
        state_parties: Vec<PartyId>,
    },
    MemberAppointed {
        actor: ActorId,
        party: PartyId,
        role: BoardRole,
    },
    MemberRemoved {
        actor: ActorId,
        reason: String,
    },
    StatePartyAdmitted {
        party: PartyId,
    },
    MotionTabled {
        motion_id: AggregateId,
        title: String,
        subject: MotionSubject,
        tabled_by: ActorId,
        documents: Vec<DocumentRef>,
    },
    VoteCast {
        motion_id: AggregateId,
        actor: ActorId,
        party: PartyId,
        vote: Vote,
    },
    MotionAdopted {
        motion_id: AggregateId,
        subject: MotionSubject,
    },
    MotionRejected {
        motion_id: AggregateId,
        rejected_by: PartyId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    #[error("board already established")]
    AlreadyEstablished,
    #[error("board does not exist")]
    NotEstablished,
    #[error("a board needs at least one state party, and {0} is not a state")]
    NotAState(String),
    #[error("{0} is already a member")]
    AlreadyMember(ActorId),
    #[error("{0} is already a state party of the board")]
    AlreadyStateParty(PartyId),
    #[error("{0} is not a party to the board's agreement")]
    NotAPartyOfAgreement(PartyId),
    #[error("{0} is not a member")]
    NotAMember(ActorId),
    #[error("{0} is not a voting member")]
    NotAVotingMember(ActorId),
    #[error("motion {0} already exists")]
    DuplicateMotion(AggregateId),
    #[error("motion {0} does not exist")]
    UnknownMotion(AggregateId),
    #[error("motion {motion_id} is {}; votes are taken only while open", .status.wire_name())]
    MotionClosed {
        motion_id: AggregateId,
        status: MotionStatus,
    },
    #[error("{actor} already voted on motion {motion_id}")]
    AlreadyVoted {
        motion_id: AggregateId,
        actor: ActorId,
    },
}

/// The Steering Board decider.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum BoardDecider {}

impl Decider for BoardDecider {
    type State = Board;
    type Command = BoardCommand;
    type Event = BoardEvent;
    type Error = BoardError;

    fn decide(state: &Board, command: &BoardCommand) -> Result<Vec<BoardEvent>, BoardError> {
        use BoardCommand as C;
        use BoardEvent as E;
        if state.id.is_none() && !matches!(command, C::Establish { .. }) {
            return Err(BoardError::NotEstablished);
        }
        match command {
            C::Establish {
                id,
                agreement_id,
                name,
                state_parties,
            } => {
                if state.id.is_some() {
                    return Err(BoardError::AlreadyEstablished);
                }
                if let Some(party) = state_parties.iter().find(|p| !p.is_state()) {
                    return Err(BoardError::NotAState(party.to_string()));
                }
                if state_parties.is_empty() {
                    return Err(BoardError::NotAState("(none)".into()));
                }
                Ok(vec![E::Established {
                    id: id.clone(),
                    agreement_id: agreement_id.clone(),
                    name: name.clone(),
                    state_parties: state_parties.clone(),
                }])
            }
            C::Appoint { actor, party, role } => {
                if state.members.contains_key(actor) {
                    return Err(BoardError::AlreadyMember(actor.clone()));
                }
                Ok(vec![E::MemberAppointed {
                    actor: actor.clone(),
                    party: party.clone(),
                    role: *role,
                }])
            }
            C::Remove { actor, reason } => {
                if !state.members.contains_key(actor) {
                    return Err(BoardError::NotAMember(actor.clone()));
                }
                Ok(vec![E::MemberRemoved {
                    actor: actor.clone(),
                    reason: reason.clone(),
                }])
            }
            C::AdmitStateParty {
                party,
                agreement_parties,
            } => {
                if !party.is_state() {
                    return Err(BoardError::NotAState(party.to_string()));
                }
                if state.state_parties.contains(party) {
                    return Err(BoardError::AlreadyStateParty(party.clone()));
                }
                if !agreement_parties.contains(party) {
                    return Err(BoardError::NotAPartyOfAgreement(party.clone()));
                }
                Ok(vec![E::StatePartyAdmitted {
                    party: party.clone(),
                }])
            }
            C::TableMotion {
                motion_id,
                title,
                subject,
                actor,
                documents,
            } => {
                if !state.members.contains_key(actor) {
                    return Err(BoardError::NotAMember(actor.clone()));
                }
                if state.motions.contains_key(motion_id) {
                    return Err(BoardError::DuplicateMotion(motion_id.clone()));
                }
                Ok(vec![E::MotionTabled {
                    motion_id: motion_id.clone(),
                    title: title.clone(),
                    subject: subject.clone(),
                    tabled_by: actor.clone(),
                    documents: documents.clone(),
                }])
            }
            C::CastVote {
                motion_id,
                actor,
                vote,
            } => {
                let motion = state
                    .motions
                    .get(motion_id)
                    .ok_or_else(|| BoardError::UnknownMotion(motion_id.clone()))?;
                if motion.status != MotionStatus::Open {
                    return Err(BoardError::MotionClosed {
                        motion_id: motion_id.clone(),
                        status: motion.status,
                    });
                }
                let member = state
                    .members
                    .get(actor)
                    .filter(|m| m.role.votes())
                    .ok_or_else(|| BoardError::NotAVotingMember(actor.clone()))?;
                if motion.votes.contains_key(actor) {
                    return Err(BoardError::AlreadyVoted {
                        motion_id: motion_id.clone(),
                        actor: actor.clone(),
                    });
                }
                let mut events = vec![E::VoteCast {
                    motion_id: motion_id.clone(),
                    actor: actor.clone(),
                    party: member.party.clone(),
                    vote: *vote,
                }];
                let mut votes = motion.votes.clone();
                votes.insert(actor.clone(), (member.party.clone(), *vote));
                match state.outcome(&votes) {
                    MotionStatus::Adopted => events.push(E::MotionAdopted {
                        motion_id: motion_id.clone(),
                        subject: motion.subject.clone(),
                    }),
                    MotionStatus::Rejected => events.push(E::MotionRejected {
                        motion_id: motion_id.clone(),
                        rejected_by: member.party.clone(),
                    }),
                    MotionStatus::Open | MotionStatus::Unknown => {}
                }
                Ok(events)
            }
        }
    }

    fn evolve(mut state: Board, event: &BoardEvent) -> Board {
        use BoardEvent as E;
        match event {
            E::Established {
                id,
                agreement_id,
                name,
                state_parties,
            } => {
                state.id = Some(id.clone());
                state.agreement_id = Some(agreement_id.clone());
                state.name = name.clone();
                state.state_parties = state_parties.clone();
            }
            E::MemberAppointed { actor, party, role } => {
                state.members.insert(
                    actor.clone(),
                    Member {
                        party: party.clone(),
                        role: *role,
                    },
                );
            }
            E::MemberRemoved { actor, .. } => {
                state.members.remove(actor);
            }
            E::StatePartyAdmitted { party } => state.state_parties.push(party.clone()),
            E::MotionTabled {
                motion_id,
                title,
                subject,
                tabled_by,
                documents,
            } => {
                state.motions.insert(
                    motion_id.clone(),
                    Motion {
                        title: title.clone(),
                        subject: subject.clone(),
                        tabled_by: tabled_by.clone(),
                        votes: BTreeMap::new(),
                        status: MotionStatus::Open,
                        documents: documents.clone(),
                    },
                );
            }
            E::VoteCast {
                motion_id,
                actor,
                party,
                vote,
            } => {
                if let Some(motion) = state.motions.get_mut(motion_id) {
                    motion.votes.insert(actor.clone(), (party.clone(), *vote));
                }
            }
            E::MotionAdopted { motion_id, .. } => {
                if let Some(motion) = state.motions.get_mut(motion_id) {
                    motion.status = MotionStatus::Adopted;
                }
            }
            E::MotionRejected { motion_id, .. } => {
                if let Some(motion) = state.motions.get_mut(motion_id) {
                    motion.status = MotionStatus::Rejected;
                }
            }
        }
        state
    }
}

impl WireName for MotionStatus {
    fn wire_name(&self) -> &'static str {
        match self {
            MotionStatus::Unknown => "unknown",
            MotionStatus::Open => "open",
            MotionStatus::Adopted => "adopted",
            MotionStatus::Rejected => "rejected",
        }
    }
}

impl WireName for MotionSubject {
    fn wire_name(&self) -> &'static str {
        match self {
            MotionSubject::ApproveProject { .. } => "approve_project",
            MotionSubject::AmendCommitment { .. } => "amend_commitment",
            MotionSubject::AdmitParty { .. } => "admit_party",
            MotionSubject::Other { .. } => "other",
        }
    }
}

impl Refusal for BoardError {
    fn kind(&self) -> RefusalKind {
        use BoardError as E;
        match self {
            E::AlreadyEstablished
            | E::AlreadyStateParty(_)
            | E::AlreadyMember(_)
            | E::DuplicateMotion(_)
            | E::AlreadyVoted { .. } => RefusalKind::Conflict,
            E::NotEstablished | E::UnknownMotion(_) => RefusalKind::NotFound,
            E::NotAState(_) => RefusalKind::InvalidArgument,
            E::NotAPartyOfAgreement(_) => RefusalKind::FailedPrecondition,
            E::NotAMember(_) | E::NotAVotingMember(_) => RefusalKind::PermissionDenied,
            E::MotionClosed { .. } => RefusalKind::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        use BoardError as E;
        match self {
            E::AlreadyEstablished => "board_exists",
            E::NotEstablished => "board_not_found",
            E::NotAState(_) => "not_a_state",
            E::AlreadyMember(_) => "already_member",
            E::AlreadyStateParty(_) => "already_state_party",
            E::NotAPartyOfAgreement(_) => "not_a_party",
            E::NotAMember(_) => "not_a_member",
            E::NotAVotingMember(_) => "not_a_voting_member",
            E::DuplicateMotion(_) => "motion_exists",
            E::UnknownMotion(_) => "motion_not_found",
            E::MotionClosed { .. } => "motion_closed",
            E::AlreadyVoted { .. } => "already_voted",
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        use BoardError as E;
        match self {
            E::NotAState(party) => vec![("party", party.clone())],
            E::AlreadyStateParty(party) | E::NotAPartyOfAgreement(party) => {
                vec![("party", party.to_string())]
            }
            E::AlreadyMember(actor) | E::NotAMember(actor) | E::NotAVotingMember(actor) => {
                vec![("actor", actor.to_string())]
            }
            E::DuplicateMotion(motion) | E::UnknownMotion(motion) => {
                vec![("motion", motion.to_string())]
            }
            E::MotionClosed { motion_id, status } => vec![
                ("motion", motion_id.to_string()),
                ("status", status.wire_name().to_owned()),
            ],
            E::AlreadyVoted { motion_id, actor } => vec![
                ("motion", motion_id.to_string()),
                ("actor", actor.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}

impl WireName for Vote {
    fn wire_name(&self) -> &'static str {
        match self {
            Vote::Approve => "approve",
            Vote::Reject => "reject",
            Vote::Abstain => "abstain",
        }
    }
}
