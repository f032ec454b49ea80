//! A commitment: one party's promise to another under an agreement. Proposed, then
//! accepted; progress recorded as quantities allocated and delivered against what was
//! committed; amended only with an adopted Steering Board motion; finally fulfilled,
//! breached or withdrawn, after which nothing changes.
//!
//! Delivery is two-sided: what the obligor records as delivered is *reported*; the
//! beneficiary confirms it or disputes it, with a reason, and never answers for more
//! than was reported.

use accord_kernel::{
    AggregateId, Date, Decider, DocumentRef, Money, PartyId, Period, Quantity, Refusal,
    RefusalKind, WireName,
};

use crate::agreement::AgreementStatus;
use crate::board::MotionSubject;
use crate::{Authorisation, AuthorisationError};

/// What is promised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CommitmentKind {
    /// The obligor prioritises the beneficiary when acquiring these item categories.
    ProcurementPriority {
        item_categories: Vec<String>,
    },
    Funding {
        amount: Money,
    },
    ProductionCapacity {
        item: String,
        quantity: Quantity,
        period: Period,
    },
    Research {
        topic: String,
    },
    /// e.g. "time to launch a defence-industry project at most `max_days` days".
    Regulatory {
        description: String,
        max_days: u32,
    },
    Other {
        description: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitmentTerms {
    pub kind: CommitmentKind,
    /// The terms in words, as the parties wrote them.
    pub text: String,
}

impl CommitmentTerms {
    /// The quantity promised, for kinds that have one: funding in minor units of its
    /// currency, production capacity in its unit.
    pub fn committed(&self) -> Option<Quantity> {
        match &self.kind {
            CommitmentKind::Funding { amount } => Some(Quantity {
                amount: amount.minor_units,
                unit: amount.currency.to_string(),
            }),
            CommitmentKind::ProductionCapacity { quantity, .. } => Some(quantity.clone()),
            _ => None,
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum CommitmentStatus {
    #[default]
    None,
    Proposed,
    Accepted,
    Fulfilled,
    Breached,
    Withdrawn,
}

impl CommitmentStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CommitmentStatus::Fulfilled | CommitmentStatus::Breached | CommitmentStatus::Withdrawn
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Commitment {
    pub id: Option<AggregateId>,
    pub agreement_id: Option<AggregateId>,
    pub obligor: Option<PartyId>,
    pub beneficiary: Option<PartyId>,
    /// Further parties the commitment benefits ("for both countries"; the obligor
    /// may be one). The beneficiary accepts, fulfils or breaches; any beneficiary
    /// other than the obligor confirms or disputes deliveries.
    pub also_benefiting: Vec<PartyId>,
    pub terms: Option<CommitmentTerms>,
    pub due: Option<Date>,
    pub status: CommitmentStatus,
    /// Totals in the unit of the committed quantity. `delivered` is what the
    /// obligor reported delivered; `confirmed` and `disputed` are the beneficiary's
    /// answers to it.
    pub allocated: i64,
    pub delivered: i64,
    pub confirmed: i64,
    pub disputed: i64,
    /// Board motions that authorised each amendment, in order.
    pub amendments: Vec<AggregateId>,
    /// The due date whose passing, unmet, was noticed (by the deadline watcher).
    pub overdue_noticed: Option<Date>,
}

impl Commitment {
    /// Every party the commitment benefits: the beneficiary, then the others.
    pub fn beneficiaries(&self) -> Vec<PartyId> {
        self.beneficiary
            .iter()
            .chain(&self.also_benefiting)
            .cloned()
            .collect()
    }

    /// Whether `party` answers the obligor's reported deliveries: a beneficiary
    /// that is not the obligor itself.
    pub fn answers_deliveries(&self, party: &PartyId) -> bool {
        self.obligor.as_ref() != Some(party) && self.beneficiaries().contains(party)
    }

    pub fn committed(&self) -> Option<Quantity> {
        self.terms.as_ref().and_then(CommitmentTerms::committed)
    }

    /// Whole days past its due date on `today`, once noticed overdue and while it is
    /// open (not fulfilled, breached or withdrawn, nor given a later due date).
    pub fn days_late(&self, today: Date) -> Option<i64> {
        let due = self.due?;
        let late = today.days_since(due);
        (self.overdue_noticed == Some(due) && !self.status.is_terminal() && late > 0)
            .then_some(late)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CommitmentCommand {
    /// `agreement_status` is the status of `agreement_id` as the shell found it.
    Propose {
        id: AggregateId,
        agreement_id: AggregateId,
        agreement_status: AgreementStatus,
        obligor: PartyId,
        beneficiary: PartyId,
        also_benefiting: Vec<PartyId>,
        terms: CommitmentTerms,
        due: Option<Date>,
        reason: String,
    },
    Accept {
        reason: String,
    },
    Amend {
        terms: CommitmentTerms,
        due: Option<Date>,
        authorisation: Authorisation,
        reason: String,
    },
    /// Quantities newly allocated and delivered (increments, not totals).
    RecordProgress {
        allocated: Option<Quantity>,
        delivered: Option<Quantity>,
        reason: String,
        /// Delivery notes, acceptance certificates.
        documents: Vec<DocumentRef>,
    },
    /// The deadline watcher saw on `as_of` that the due date passed while the
    /// commitment was still open (the shell puts the date in: no clock here).
    NoticeOverdue {
        as_of: Date,
    },
    /// The beneficiary confirms receipt of `quantity` of what was reported delivered.
    ConfirmDelivery {
        quantity: Quantity,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    /// The beneficiary disputes `quantity` of what was reported delivered.
    DisputeDelivery {
        quantity: Quantity,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    Fulfil {
        reason: String,
    },
    Breach {
        reason: String,
    },
    Withdraw {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CommitmentEvent {
    Proposed {
        id: AggregateId,
        agreement_id: AggregateId,
        obligor: PartyId,
        beneficiary: PartyId,
        also_benefiting: Vec<PartyId>,
        terms: CommitmentTerms,
        due: Option<Date>,
        reason: String,
    },
    Accepted {
        reason: String,
    },
    Amended {
        terms: CommitmentTerms,
        due: Option<Date>,
        motion_id: AggregateId,
        reason: String,
    },
    ProgressRecorded {
        allocated: Option<Quantity>,
        delivered: Option<Quantity>,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    Overdue {
        due: Date,
        noticed_on: Date,
    },
    DeliveryConfirmed {
        quantity: Quantity,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    DeliveryDisputed {
        quantity: Quantity,
        reason: String,
        documents: Vec<DocumentRef>,
    },
    Fulfilled {
        reason: String,
    },
    Breached {
        reason: String,
    },
    Withdrawn {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    #[error("commitment already proposed")]
    AlreadyProposed,
    #[error("commitment does not exist")]
    NotProposed,
    #[error(
        "agreement is {}: commitments are made under a drafted or in-force agreement",
        .0.wire_name()
    )]
    AgreementNotActive(AgreementStatus),
    #[error("obligor and beneficiary are both {0}")]
    SameParty(PartyId),
    #[error("{0} is named as a beneficiary twice")]
    DuplicateBeneficiary(PartyId),
    #[error("commitment is {}; this needs it {}", .status.wire_name(), .needed.wire_name())]
    WrongStatus {
        status: CommitmentStatus,
        needed: CommitmentStatus,
    },
    #[error("commitment is {}; nothing changes after that", .0.wire_name())]
    Terminal(CommitmentStatus),
    #[error("a priority commitment must name at least one item category")]
    NoItemCategories,
    #[error(
        "progress can only be recorded on a quantified commitment (funding or production capacity)"
    )]
    NotQuantified,
    #[error("progress is in {given}, the commitment is in {committed}")]
    UnitMismatch { given: String, committed: String },
    #[error("progress records neither an allocation nor a delivery")]
    EmptyProgress,
    #[error("delivered {delivered} would exceed allocated {allocated}")]
    DeliveredExceedsAllocated { delivered: i64, allocated: i64 },
    #[error("an amendment cannot change the kind of commitment")]
    KindChanged,
    #[error("the commitment has no due date")]
    NoDueDate,
    #[error("the commitment is due {due}: not overdue on {as_of}")]
    NotYetDue { due: Date, as_of: Date },
    #[error("the commitment was already noticed overdue for its due date {due}")]
    OverdueNoticed { due: Date },
    #[error("a confirmation or dispute needs a positive quantity")]
    NothingAnswered,
    #[error("{answered} confirmed or disputed would exceed the {reported} reported delivered")]
    ExceedsReported { answered: i64, reported: i64 },
    #[error(transparent)]
    Authorisation(#[from] AuthorisationError),
}

/// The commitment decider.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum CommitmentDecider {}

fn validate_terms(terms: &CommitmentTerms) -> Result<(), CommitmentError> {
    match &terms.kind {
        CommitmentKind::ProcurementPriority { item_categories } if item_categories.is_empty() => {
            Err(CommitmentError::NoItemCategories)
        }
        _ => Ok(()),
    }
}

fn require(state: &Commitment, needed: CommitmentStatus) -> Result<(), CommitmentError> {
    if state.status != needed {
        return Err(CommitmentError::WrongStatus {
            status: state.status,
            needed,
        });
    }
    Ok(())
}

impl Decider for CommitmentDecider {
    type State = Commitment;
    type Command = CommitmentCommand;
    type Event = CommitmentEvent;
    type Error = CommitmentError;

    fn decide(
        state: &Commitment,
        command: &CommitmentCommand,
    ) -> Result<Vec<CommitmentEvent>, CommitmentError> {
        use CommitmentCommand as C;
        use CommitmentEvent as E;
        if state.status.is_terminal() {
            return Err(CommitmentError::Terminal(state.status));
        }
        if state.status == CommitmentStatus::None && !matches!(command, C::Propose { .. }) {
            return Err(CommitmentError::NotProposed);
        }
        match command {
            C::Propose {
                id,
                agreement_id,
                agreement_status,
                obligor,
                beneficiary,
                also_benefiting,
                terms,
                due,
                reason,
            } => {
                if state.status != CommitmentStatus::None {
                    return Err(CommitmentError::AlreadyProposed);
                }
                if !matches!(
                    agreement_status,
                    AgreementStatus::Drafted | AgreementStatus::InForce
                ) {
                    return Err(CommitmentError::AgreementNotActive(*agreement_status));
                }
                if obligor == beneficiary {
                    return Err(CommitmentError::SameParty(obligor.clone()));
                }
                for (i, party) in also_benefiting.iter().enumerate() {
                    if party == beneficiary || also_benefiting[..i].contains(party) {
                        return Err(CommitmentError::DuplicateBeneficiary(party.clone()));
                    }
                }
                validate_terms(terms)?;
                Ok(vec![E::Proposed {
                    id: id.clone(),
                    agreement_id: agreement_id.clone(),
                    obligor: obligor.clone(),
                    beneficiary: beneficiary.clone(),
                    also_benefiting: also_benefiting.clone(),
                    terms: terms.clone(),
                    due: *due,
                    reason: reason.clone(),
                }])
            }
            C::Accept { reason } => {
                require(state, CommitmentStatus::Proposed)?;
                Ok(vec![E::Accepted {
                    reason: reason.clone(),
                }])
            }
            C::Amend {
                terms,
                due,
                authorisation,
                reason,
            } => {
                require(state, CommitmentStatus::Accepted)?;
                let id = state.id.clone();
                authorisation.check(|subject| {
                    matches!(subject, MotionSubject::AmendCommitment { commitment_id } if Some(commitment_id) == id.as_ref())
                })?;
                validate_terms(terms)?;
                let current = state
                    .terms
                    .as_ref()
                    .map(|t| std::mem::discriminant(&t.kind));
                if current != Some(std::mem::discriminant(&terms.kind)) {
                    return Err(CommitmentError::KindChanged);
                }
                Ok(vec![E::Amended {
                    terms: terms.clone(),
                    due: *due,
                    motion_id: authorisation.motion_id.clone(),
                    reason: reason.clone(),
                }])
            }
            C::RecordProgress {
                allocated,
                delivered,
                reason,
                documents,
            } => {
                require(state, CommitmentStatus::Accepted)?;
                let committed = state.committed().ok_or(CommitmentError::NotQuantified)?;
                if allocated.is_none() && delivered.is_none() {
                    return Err(CommitmentError::EmptyProgress);
                }
                for q in [allocated, delivered].into_iter().flatten() {
                    if q.unit != committed.unit {
                        return Err(CommitmentError::UnitMismatch {
                            given: q.unit.clone(),
                            committed: committed.unit.clone(),
                        });
                    }
                }
                let allocated_total = state.allocated + allocated.as_ref().map_or(0, |q| q.amount);
                let delivered_total = state.delivered + delivered.as_ref().map_or(0, |q| q.amount);
                if delivered_total > allocated_total {
                    return Err(CommitmentError::DeliveredExceedsAllocated {
                        delivered: delivered_total,
                        allocated: allocated_total,
                    });
                }
                Ok(vec![E::ProgressRecorded {
                    allocated: allocated.clone(),
                    delivered: delivered.clone(),
                    reason: reason.clone(),
                    documents: documents.clone(),
                }])
            }
            C::NoticeOverdue { as_of } => {
                require(state, CommitmentStatus::Accepted)?;
                let due = state.due.ok_or(CommitmentError::NoDueDate)?;
                if *as_of <= due {
                    return Err(CommitmentError::NotYetDue { due, as_of: *as_of });
                }
                if state.overdue_noticed == Some(due) {
                    return Err(CommitmentError::OverdueNoticed { due });
                }
                Ok(vec![E::Overdue {
                    due,
                    noticed_on: *as_of,
                }])
            }
            C::ConfirmDelivery {
                quantity,
                reason,
                documents,
            }
            | C::DisputeDelivery {
                quantity,
                reason,
                documents,
            } => {
                require(state, CommitmentStatus::Accepted)?;
                let committed = state.committed().ok_or(CommitmentError::NotQuantified)?;
                if quantity.unit != committed.unit {
                    return Err(CommitmentError::UnitMismatch {
                        given: quantity.unit.clone(),
                        committed: committed.unit,
                    });
                }
                if quantity.amount <= 0 {
                    return Err(CommitmentError::NothingAnswered);
                }
                let answered = state.confirmed + state.disputed + quantity.amount;
                if answered > state.delivered {
                    return Err(CommitmentError::ExceedsReported {
                        answered,
                        reported: state.delivered,
                    });
                }
                let (quantity, reason, documents) =
                    (quantity.clone(), reason.clone(), documents.clone());
                Ok(vec![match command {
                    C::ConfirmDelivery { .. } => E::DeliveryConfirmed {
                        quantity,
                        reason,
                        documents,
                    },
                    _ => E::DeliveryDisputed {
                        quantity,
                        reason,
                        documents,
                    },
                }])
            }
            C::Fulfil { reason } => {
                require(state, CommitmentStatus::Accepted)?;
                Ok(vec![E::Fulfilled {
                    reason: reason.clone(),
                }])
            }
            C::Breach { reason } => {
                require(state, CommitmentStatus::Accepted)?;
                Ok(vec![E::Breached {
                    reason: reason.clone(),
                }])
            }
            C::Withdraw { reason } => Ok(vec![E::Withdrawn {
                reason: reason.clone(),
            }]),
        }
    }

    fn evolve(mut state: Commitment, event: &CommitmentEvent) -> Commitment {
        use CommitmentEvent as E;
        match event {
            E::Proposed {
                id,
                agreement_id,
                obligor,
                beneficiary,
                also_benefiting,
                terms,
                due,
                ..
            } => {
                state.id = Some(id.clone());
                state.agreement_id = Some(agreement_id.clone());
                state.obligor = Some(obligor.clone());
                state.beneficiary = Some(beneficiary.clone());
                state.also_benefiting = also_benefiting.clone();
                state.terms = Some(terms.clone());
                state.due = *due;
                state.status = CommitmentStatus::Proposed;
            }
            E::Accepted { .. } => state.status = CommitmentStatus::Accepted,
            E::Amended {
                terms,
                due,
                motion_id,
                ..
            } => {
                state.terms = Some(terms.clone());
                state.due = *due;
                state.amendments.push(motion_id.clone());
            }
            E::ProgressRecorded {
                allocated,
                delivered,
                ..
            } => {
                state.allocated += allocated.as_ref().map_or(0, |q| q.amount);
                state.delivered += delivered.as_ref().map_or(0, |q| q.amount);
            }
            E::Overdue { due, .. } => state.overdue_noticed = Some(*due),
            E::DeliveryConfirmed { quantity, .. } => state.confirmed += quantity.amount,
            E::DeliveryDisputed { quantity, .. } => state.disputed += quantity.amount,
            E::Fulfilled { .. } => state.status = CommitmentStatus::Fulfilled,
            E::Breached { .. } => state.status = CommitmentStatus::Breached,
            E::Withdrawn { .. } => state.status = CommitmentStatus::Withdrawn,
        }
        state
    }
}

impl WireName for CommitmentStatus {
    fn wire_name(&self) -> &'static str {
        match self {
            CommitmentStatus::None => "none",
            CommitmentStatus::Proposed => "proposed",
            CommitmentStatus::Accepted => "accepted",
            CommitmentStatus::Fulfilled => "fulfilled",
            CommitmentStatus::Breached => "breached",
            CommitmentStatus::Withdrawn => "withdrawn",
        }
    }
}

impl Refusal for CommitmentError {
    fn kind(&self) -> RefusalKind {
        use CommitmentError as E;
        match self {
            E::AlreadyProposed | E::OverdueNoticed { .. } => RefusalKind::Conflict,
            E::NotProposed => RefusalKind::NotFound,
            E::SameParty(_)
            | E::DuplicateBeneficiary(_)
            | E::NoItemCategories
            | E::UnitMismatch { .. }
            | E::EmptyProgress
            | E::NothingAnswered
            | E::KindChanged => RefusalKind::InvalidArgument,
            E::AgreementNotActive(_)
            | E::WrongStatus { .. }
            | E::Terminal(_)
            | E::NotQuantified
            | E::DeliveredExceedsAllocated { .. }
            | E::ExceedsReported { .. }
            | E::NoDueDate
            | E::NotYetDue { .. } => RefusalKind::FailedPrecondition,
            E::Authorisation(error) => error.kind(),
        }
    }

    fn reason(&self) -> &'static str {
        use CommitmentError as E;
        match self {
            E::AlreadyProposed => "commitment_exists",
            E::NotProposed => "commitment_not_found",
            E::AgreementNotActive(_) => "agreement_not_active",
            E::SameParty(_) => "same_party",
            E::DuplicateBeneficiary(_) => "duplicate_beneficiary",
            E::WrongStatus { .. } => "wrong_commitment_status",
            E::Terminal(_) => "commitment_closed",
            E::NoItemCategories => "no_item_categories",
            E::NotQuantified => "not_quantified",
            E::UnitMismatch { .. } => "unit_mismatch",
            E::EmptyProgress => "empty_progress",
            E::DeliveredExceedsAllocated { .. } => "delivered_exceeds_allocated",
            E::KindChanged => "kind_changed",
            E::NothingAnswered => "nothing_answered",
            E::NoDueDate => "no_due_date",
            E::NotYetDue { .. } => "not_yet_due",
            E::OverdueNoticed { .. } => "overdue_noticed",
            E::ExceedsReported { .. } => "exceeds_reported",
            E::Authorisation(error) => error.reason(),
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        use CommitmentError as E;
        match self {
            E::AgreementNotActive(status) => vec![("status", status.wire_name().to_owned())],
            E::SameParty(party) | E::DuplicateBeneficiary(party) => {
                vec![("party", party.to_string())]
            }
            E::WrongStatus { status, needed } => vec![
                ("status", status.wire_name().to_owned()),
                ("needed", needed.wire_name().to_owned()),
            ],
            E::Terminal(status) => vec![("status", status.wire_name().to_owned())],
            E::UnitMismatch { given, committed } => {
                vec![("given", given.clone()), ("committed", committed.clone())]
            }
            E::DeliveredExceedsAllocated {
                delivered,
                allocated,
            } => vec![
                ("delivered", delivered.to_string()),
                ("allocated", allocated.to_string()),
            ],
            E::NotYetDue { due, as_of } => {
                vec![("due", due.to_string()), ("as_of", as_of.to_string())]
            }
            E::OverdueNoticed { due } => vec![("due", due.to_string())],
            E::ExceedsReported { answered, reported } => vec![
                ("answered", answered.to_string()),
                ("reported", reported.to_string()),
            ],
            E::Authorisation(error) => error.details(),
            _ => Vec::new(),
        }
    }
}
