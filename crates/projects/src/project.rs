use std::collections::BTreeMap;

use accord_kernel::{
    AggregateId, CapabilityArea, Currency, Date, Decider, Money, PartyId, Period, Quantity,
    Refusal, RefusalKind, WireName,
};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Participant {
    pub party: PartyId,
    /// e.g. "lead", "partner", "host", "customer".
    pub role: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum ProjectStatus {
    #[default]
    None,
    Proposed,
    Approved,
    Launched,
    /// Launched and reporting output.
    Producing,
    Completed,
    Cancelled,
}

impl ProjectStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, ProjectStatus::Completed | ProjectStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MilestoneStatus {
    Planned,
    Slipped,
    Reached,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Milestone {
    pub title: String,
    /// The current due date (the latest after slips).
    pub due: Date,
    pub planned_due: Date,
    pub status: MilestoneStatus,
    pub reached_on: Option<Date>,
    /// The due date whose passing, unmet, was noticed (by the deadline watcher).
    pub overdue_noticed: Option<Date>,
}

impl Milestone {
    /// Whole days past its due date on `today`, while it is not reached.
    pub fn days_late(&self, today: Date) -> Option<i64> {
        let late = today.days_since(self.due);
        (self.status != MilestoneStatus::Reached && late > 0).then_some(late)
    }
}

/// A result of a joint research (R&D) project and the parties that hold it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResearchResult {
    pub title: String,
    /// The parties holding the result (e.g. its intellectual property), each a
    /// participant or the host of the project.
    pub holders: Vec<PartyId>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pledge {
    pub party: PartyId,
    pub amount: Money,
    pub commitment_id: Option<AggregateId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Project {
    pub id: Option<AggregateId>,
    pub title: String,
    pub area: Option<CapabilityArea>,
    pub host_country: Option<PartyId>,
    pub participants: Vec<Participant>,
    pub agreement_id: Option<AggregateId>,
    pub status: ProjectStatus,
    pub approved_by: Option<AggregateId>,
    pub pledges: Vec<Pledge>,
    /// Disbursed totals per party and currency, in minor units.
    #[serde(with = "accord_kernel::pairs")]
    pub disbursed: BTreeMap<(PartyId, Currency), i64>,
    pub milestones: BTreeMap<AggregateId, Milestone>,
    pub capacity_targets: BTreeMap<String, (Quantity, Period)>,
    /// Reported output per item, in the item's unit (production projects).
    pub output: BTreeMap<String, Quantity>,
    /// Results recorded, by result id (research projects).
    pub results: BTreeMap<AggregateId, ResearchResult>,
}

impl Project {
    /// Whether it is joint research (R&D), which records results, rather than
    /// production, which reports output.
    pub fn is_research(&self) -> bool {
        self.area == Some(CapabilityArea::ResearchAndDevelopment)
    }

    /// Whether `party` takes part in the project (its host or a participant).
    pub fn involves(&self, party: &PartyId) -> bool {
        self.host_country.as_ref() == Some(party)
            || self.participants.iter().any(|p| &p.party == party)
    }

    /// Pledged total of one party in one currency, in minor units.
    pub fn pledged(&self, party: &PartyId, currency: Currency) -> i64 {
        self.pledges
            .iter()
            .filter(|p| &p.party == party && p.amount.currency == currency)
            .map(|p| p.amount.minor_units)
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProjectCommand {
    Propose {
        id: AggregateId,
        title: String,
        area: CapabilityArea,
        host_country: PartyId,
        participants: Vec<Participant>,
        agreement_id: Option<AggregateId>,
        reason: String,
    },
    /// `motion_adopted` is what the shell found about `motion_id` on the board.
    Approve {
        motion_id: AggregateId,
        motion_adopted: bool,
    },
    PledgeFunding {
        party: PartyId,
        amount: Money,
        commitment_id: Option<AggregateId>,
    },
    DisburseFunding {
        party: PartyId,
        amount: Money,
    },
    PlanMilestone {
        milestone_id: AggregateId,
        title: String,
        due: Date,
    },
    ReachMilestone {
        milestone_id: AggregateId,
        reached_on: Date,
    },
    SlipMilestone {
        milestone_id: AggregateId,
        new_due: Date,
        reason: String,
    },
    /// The deadline watcher saw on `as_of` that the milestone's due date passed
    /// unmet (the shell puts the date in: the decider has no clock).
    NoticeMilestoneOverdue {
        milestone_id: AggregateId,
        as_of: Date,
    },
    SetCapacityTarget {
        item: String,
        quantity: Quantity,
        period: Period,
    },
    ReportOutput {
        item: String,
        quantity: Quantity,
        period: Period,
    },
    Launch,
    /// A research project records a result and its holders.
    RecordResult {
        result_id: AggregateId,
        title: String,
        holders: Vec<PartyId>,
        reason: String,
    },
    Complete {
        reason: String,
    },
    Cancel {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProjectEvent {
    Proposed {
        id: AggregateId,
        title: String,
        area: CapabilityArea,
        host_country: PartyId,
        participants: Vec<Participant>,
        agreement_id: Option<AggregateId>,
        reason: String,
    },
    Approved {
        motion_id: AggregateId,
    },
    FundingPledged {
        party: PartyId,
        amount: Money,
        commitment_id: Option<AggregateId>,
    },
    FundingDisbursed {
        party: PartyId,
        amount: Money,
    },
    MilestonePlanned {
        milestone_id: AggregateId,
        title: String,
        due: Date,
    },
    MilestoneReached {
        milestone_id: AggregateId,
        reached_on: Date,
    },
    MilestoneSlipped {
        milestone_id: AggregateId,
        previous_due: Date,
        new_due: Date,
        reason: String,
    },
    MilestoneOverdue {
        milestone_id: AggregateId,
        due: Date,
        noticed_on: Date,
    },
    CapacityTargetSet {
        item: String,
        quantity: Quantity,
        period: Period,
    },
    /// `supplier` is the host country, so procurement can offer the output.
    OutputReported {
        item: String,
        quantity: Quantity,
        period: Period,
        supplier: PartyId,
    },
    Launched,
    ResultRecorded {
        result_id: AggregateId,
        title: String,
        holders: Vec<PartyId>,
        reason: String,
    },
    Completed {
        reason: String,
    },
    Cancelled {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    #[error("project already proposed")]
    AlreadyProposed,
    #[error("project does not exist")]
    NotProposed,
    #[error("host country {0} is not a state")]
    HostNotAState(PartyId),
    #[error("a project needs at least one participant")]
    NoParticipants,
    #[error("project is {}; this needs it {needed}", .status.wire_name())]
    WrongStatus {
        status: ProjectStatus,
        needed: &'static str,
    },
    #[error("project is {}; nothing changes after that", .0.wire_name())]
    Terminal(ProjectStatus),
    #[error("motion {0} is not adopted")]
    MotionNotAdopted(AggregateId),
    #[error("amount must be positive")]
    ZeroAmount,
    #[error(
        "{party} would disburse {disbursed} {currency} minor units but pledged only {pledged}"
    )]
    DisbursementExceedsPledge {
        party: PartyId,
        currency: Currency,
        pledged: i64,
        disbursed: i64,
    },
    #[error("milestone {0} already planned")]
    DuplicateMilestone(AggregateId),
    #[error("milestone {0} does not exist")]
    UnknownMilestone(AggregateId),
    #[error("milestone {0} was already reached")]
    MilestoneReached(AggregateId),
    #[error("milestone {milestone} is due {due}: not overdue on {as_of}")]
    MilestoneNotYetDue {
        milestone: AggregateId,
        due: Date,
        as_of: Date,
    },
    #[error("milestone {milestone} was already noticed overdue for its due date {due}")]
    MilestoneOverdueNoticed { milestone: AggregateId, due: Date },
    #[error("a slip must move the due date later: {new_due} is not after {due}")]
    SlipNotLater { due: Date, new_due: Date },
    #[error("a research project records results, not production output or capacity")]
    ResearchHasNoOutput,
    #[error("only a research (R&D) project records results")]
    NotResearch,
    #[error("result {0} already recorded")]
    DuplicateResult(AggregateId),
    #[error("a result needs at least one holder")]
    NoHolders,
    #[error("{0} holds a result but takes no part in the project")]
    HolderNotParticipant(PartyId),
    #[error("output for {item} is in {given}, its target is in {target}")]
    UnitMismatch {
        item: String,
        given: String,
        target: String,
    },
}

/// The project decider.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum ProjectDecider {}

fn require(
    state: &Project,
    allowed: &[ProjectStatus],
    needed: &'static str,
) -> Result<(), ProjectError> {
    if !allowed.contains(&state.status) {
        return Err(ProjectError::WrongStatus {
            status: state.status,
            needed,
        });
    }
    Ok(())
}

const RUNNING: &[ProjectStatus] = &[ProjectStatus::Launched, ProjectStatus::Producing];

fn open_milestone<'a>(state: &'a Project, id: &AggregateId) -> Result<&'a Milestone, ProjectError> {
    let milestone = state
        .milestones
        .get(id)
        .ok_or_else(|| ProjectError::UnknownMilestone(id.clone()))?;
    if milestone.status == MilestoneStatus::Reached {
        return Err(ProjectError::MilestoneReached(id.clone()));
    }
    Ok(milestone)
}

impl Decider for ProjectDecider {
    type State = Project;
    type Command = ProjectCommand;
    type Event = ProjectEvent;
    type Error = ProjectError;

    fn decide(
        state: &Project,
        command: &ProjectCommand,
    ) -> Result<Vec<ProjectEvent>, ProjectError> {
        use ProjectCommand as C;
        use ProjectEvent as E;
        if state.status.is_terminal() {
            return Err(ProjectError::Terminal(state.status));
        }
        if state.status == ProjectStatus::None && !matches!(command, C::Propose { .. }) {
            return Err(ProjectError::NotProposed);
        }
        let event = match command {
            C::Propose {
                id,
                title,
                area,
                host_country,
                participants,
                agreement_id,
                reason,
            } => {
                if state.status != ProjectStatus::None {
                    return Err(ProjectError::AlreadyProposed);
                }
                if !host_country.is_state() {
                    return Err(ProjectError::HostNotAState(host_country.clone()));
                }
                if participants.is_empty() {
                    return Err(ProjectError::NoParticipants);
                }
                E::Proposed {
                    id: id.clone(),
                    title: title.clone(),
                    area: *area,
                    host_country: host_country.clone(),
                    participants: participants.clone(),
                    agreement_id: agreement_id.clone(),
                    reason: reason.clone(),
                }
            }
            C::Approve {
                motion_id,
                motion_adopted,
            } => {
                require(state, &[ProjectStatus::Proposed], "proposed")?;
                if !motion_adopted {
                    return Err(ProjectError::MotionNotAdopted(motion_id.clone()));
                }
                E::Approved {
                    motion_id: motion_id.clone(),
                }
            }
            C::PledgeFunding {
                party,
                amount,
                commitment_id,
            } => {
                if amount.minor_units == 0 {
                    return Err(ProjectError::ZeroAmount);
                }
                E::FundingPledged {
                    party: party.clone(),
                    amount: *amount,
                    commitment_id: commitment_id.clone(),
                }
            }
            C::DisburseFunding { party, amount } => {
                if amount.minor_units == 0 {
                    return Err(ProjectError::ZeroAmount);
                }
                let pledged = state.pledged(party, amount.currency);
                let key = (party.clone(), amount.currency);
                let disbursed =
                    state.disbursed.get(&key).copied().unwrap_or(0) + amount.minor_units;
                if disbursed > pledged {
                    return Err(ProjectError::DisbursementExceedsPledge {
                        party: party.clone(),
                        currency: amount.currency,
                        pledged,
                        disbursed,
                    });
                }
                E::FundingDisbursed {
                    party: party.clone(),
                    amount: *amount,
                }
            }
            C::PlanMilestone {
                milestone_id,
                title,
                due,
            } => {
                if state.milestones.contains_key(milestone_id) {
                    return Err(ProjectError::DuplicateMilestone(milestone_id.clone()));
                }
                E::MilestonePlanned {
                    milestone_id: milestone_id.clone(),
                    title: title.clone(),
                    due: *due,
                }
            }
            C::ReachMilestone {
                milestone_id,
                reached_on,
            } => {
                open_milestone(state, milestone_id)?;
                E::MilestoneReached {
                    milestone_id: milestone_id.clone(),
                    reached_on: *reached_on,
                }
            }
            C::SlipMilestone {
                milestone_id,
                new_due,
                reason,
            } => {
                let milestone = open_milestone(state, milestone_id)?;
                if *new_due <= milestone.due {
                    return Err(ProjectError::SlipNotLater {
                        due: milestone.due,
                        new_due: *new_due,
                    });
                }
                E::MilestoneSlipped {
                    milestone_id: milestone_id.clone(),
                    previous_due: milestone.due,
                    new_due: *new_due,
                    reason: reason.clone(),
                }
            }
            C::NoticeMilestoneOverdue {
                milestone_id,
                as_of,
            } => {
                let milestone = open_milestone(state, milestone_id)?;
                if *as_of <= milestone.due {
                    return Err(ProjectError::MilestoneNotYetDue {
                        milestone: milestone_id.clone(),
                        due: milestone.due,
                        as_of: *as_of,
                    });
                }
                if milestone.overdue_noticed == Some(milestone.due) {
                    return Err(ProjectError::MilestoneOverdueNoticed {
                        milestone: milestone_id.clone(),
                        due: milestone.due,
                    });
                }
                E::MilestoneOverdue {
                    milestone_id: milestone_id.clone(),
                    due: milestone.due,
                    noticed_on: *as_of,
                }
            }
            C::SetCapacityTarget {
                item,
                quantity,
                period,
            } => {
                if state.is_research() {
                    return Err(ProjectError::ResearchHasNoOutput);
                }
                E::CapacityTargetSet {
                    item: item.clone(),
                    quantity: quantity.clone(),
                    period: *period,
                }
            }
            C::ReportOutput {
                item,
                quantity,
                period,
            } => {
                require(state, RUNNING, "launched")?;
                if state.is_research() {
                    return Err(ProjectError::ResearchHasNoOutput);
                }
                if let Some((target, _)) = state.capacity_targets.get(item) {
                    if target.unit != quantity.unit {
                        return Err(ProjectError::UnitMismatch {
                            item: item.clone(),
                            given: quantity.unit.clone(),
                            target: target.unit.clone(),
                        });
                    }
                }
                let supplier = state
                    .host_country
                    .clone()
                    .ok_or(ProjectError::NotProposed)?;
                E::OutputReported {
                    item: item.clone(),
                    quantity: quantity.clone(),
                    period: *period,
                    supplier,
                }
            }
            C::Launch => {
                require(state, &[ProjectStatus::Approved], "approved")?;
                E::Launched
            }
            C::RecordResult {
                result_id,
                title,
                holders,
                reason,
            } => {
                if !state.is_research() {
                    return Err(ProjectError::NotResearch);
                }
                require(state, RUNNING, "launched")?;
                if state.results.contains_key(result_id) {
                    return Err(ProjectError::DuplicateResult(result_id.clone()));
                }
                if holders.is_empty() {
                    return Err(ProjectError::NoHolders);
                }
                if let Some(outsider) = holders.iter().find(|h| !state.involves(h)) {
                    return Err(ProjectError::HolderNotParticipant(outsider.clone()));
                }
                E::ResultRecorded {
                    result_id: result_id.clone(),
                    title: title.clone(),
                    holders: holders.clone(),
                    reason: reason.clone(),
                }
            }
            C::Complete { reason } => {
                require(state, RUNNING, "launched")?;
                E::Completed {
                    reason: reason.clone(),
                }
            }
            C::Cancel { reason } => E::Cancelled {
                reason: reason.clone(),
            },
        };
        Ok(vec![event])
    }

    fn evolve(mut state: Project, event: &ProjectEvent) -> Project {
        use ProjectEvent as E;
        match event {
            E::Proposed {
                id,
                title,
                area,
                host_country,
                participants,
                agreement_id,
                ..
            } => {
                state.id = Some(id.clone());
                state.title = title.clone();
                state.area = Some(*area);
                state.host_country = Some(host_country.clone());
                state.participants = participants.clone();
                state.agreement_id = agreement_id.clone();
                state.status = ProjectStatus::Proposed;
            }
            E::Approved { motion_id } => {
                state.approved_by = Some(motion_id.clone());
                state.status = ProjectStatus::Approved;
            }
            E::FundingPledged {
                party,
                amount,
                commitment_id,
            } => state.pledges.push(Pledge {
                party: party.clone(),
                amount: *amount,
                commitment_id: commitment_id.clone(),
            }),
            E::FundingDisbursed { party, amount } => {
                *state
                    .disbursed
                    .entry((party.clone(), amount.currency))
                    .or_default() += amount.minor_units;
            }
            E::MilestonePlanned {
                milestone_id,
                title,
                due,
            } => {
                state.milestones.insert(
                    milestone_id.clone(),
                    Milestone {
                        title: title.clone(),
                        due: *due,
                        planned_due: *due,
                        status: MilestoneStatus::Planned,
                        reached_on: None,
                        overdue_noticed: None,
                    },
                );
            }
            E::MilestoneReached {
                milestone_id,
                reached_on,
            } => {
                if let Some(m) = state.milestones.get_mut(milestone_id) {
                    m.status = MilestoneStatus::Reached;
                    m.reached_on = Some(*reached_on);
                }
            }
            E::MilestoneSlipped {
                milestone_id,
                new_due,
                ..
            } => {
                if let Some(m) = state.milestones.get_mut(milestone_id) {
                    m.status = MilestoneStatus::Slipped;
                    m.due = *new_due;
                }
            }
            E::MilestoneOverdue {
                milestone_id, due, ..
            } => {
                if let Some(m) = state.milestones.get_mut(milestone_id) {
                    m.overdue_noticed = Some(*due);
                }
            }
            E::CapacityTargetSet {
                item,
                quantity,
                period,
            } => {
                state
                    .capacity_targets
                    .insert(item.clone(), (quantity.clone(), *period));
            }
            E::OutputReported { item, quantity, .. } => {
                let total = state
                    .output
                    .entry(item.clone())
                    .or_insert_with(|| Quantity {
                        amount: 0,
                        unit: quantity.unit.clone(),
                    });
                total.amount += quantity.amount;
                state.status = ProjectStatus::Producing;
            }
            E::Launched => state.status = ProjectStatus::Launched,
            E::ResultRecorded {
                result_id,
                title,
                holders,
                ..
            } => {
                state.results.insert(
                    result_id.clone(),
                    ResearchResult {
                        title: title.clone(),
                        holders: holders.clone(),
                    },
                );
            }
            E::Completed { .. } => state.status = ProjectStatus::Completed,
            E::Cancelled { .. } => state.status = ProjectStatus::Cancelled,
        }
        state
    }
}

impl WireName for ProjectStatus {
    fn wire_name(&self) -> &'static str {
        match self {
            ProjectStatus::None => "none",
            ProjectStatus::Proposed => "proposed",
            ProjectStatus::Approved => "approved",
            ProjectStatus::Launched => "launched",
            ProjectStatus::Producing => "producing",
            ProjectStatus::Completed => "completed",
            ProjectStatus::Cancelled => "cancelled",
        }
    }
}

impl Refusal for ProjectError {
    fn kind(&self) -> RefusalKind {
        use ProjectError as E;
        match self {
            E::AlreadyProposed
            | E::DuplicateMilestone(_)
            | E::MilestoneReached(_)
            | E::MilestoneOverdueNoticed { .. }
            | E::DuplicateResult(_) => RefusalKind::Conflict,
            E::NotProposed | E::UnknownMilestone(_) => RefusalKind::NotFound,
            E::HostNotAState(_)
            | E::NoParticipants
            | E::ZeroAmount
            | E::SlipNotLater { .. }
            | E::NoHolders
            | E::HolderNotParticipant(_)
            | E::UnitMismatch { .. } => RefusalKind::InvalidArgument,
            E::ResearchHasNoOutput | E::NotResearch | E::MilestoneNotYetDue { .. } => {
                RefusalKind::FailedPrecondition
            }
            E::WrongStatus { .. }
            | E::Terminal(_)
            | E::MotionNotAdopted(_)
            | E::DisbursementExceedsPledge { .. } => RefusalKind::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        use ProjectError as E;
        match self {
            E::AlreadyProposed => "project_exists",
            E::NotProposed => "project_not_found",
            E::HostNotAState(_) => "host_not_a_state",
            E::NoParticipants => "no_participants",
            E::WrongStatus { .. } => "wrong_project_status",
            E::Terminal(_) => "project_closed",
            E::MotionNotAdopted(_) => "motion_not_adopted",
            E::ZeroAmount => "zero_amount",
            E::DisbursementExceedsPledge { .. } => "disbursement_exceeds_pledge",
            E::DuplicateMilestone(_) => "milestone_exists",
            E::UnknownMilestone(_) => "milestone_not_found",
            E::MilestoneReached(_) => "milestone_reached",
            E::SlipNotLater { .. } => "slip_not_later",
            E::UnitMismatch { .. } => "unit_mismatch",
            E::ResearchHasNoOutput => "research_has_no_output",
            E::NotResearch => "not_research",
            E::DuplicateResult(_) => "result_exists",
            E::NoHolders => "no_holders",
            E::MilestoneNotYetDue { .. } => "not_yet_due",
            E::MilestoneOverdueNoticed { .. } => "overdue_noticed",
            E::HolderNotParticipant(_) => "holder_not_participant",
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        use ProjectError as E;
        match self {
            E::HostNotAState(party) | E::HolderNotParticipant(party) => {
                vec![("party", party.to_string())]
            }
            E::DuplicateResult(result) => vec![("result", result.to_string())],
            E::MilestoneNotYetDue {
                milestone,
                due,
                as_of,
            } => vec![
                ("milestone", milestone.to_string()),
                ("due", due.to_string()),
                ("as_of", as_of.to_string()),
            ],
            E::MilestoneOverdueNoticed { milestone, due } => vec![
                ("milestone", milestone.to_string()),
                ("due", due.to_string()),
            ],
            E::WrongStatus { status, needed } => vec![
                ("status", status.wire_name().to_owned()),
                ("needed", (*needed).to_owned()),
            ],
            E::Terminal(status) => vec![("status", status.wire_name().to_owned())],
            E::MotionNotAdopted(motion) => vec![("motion", motion.to_string())],
            E::DisbursementExceedsPledge {
                party,
                currency,
                pledged,
                disbursed,
            } => vec![
                ("party", party.to_string()),
                ("currency", currency.to_string()),
                ("pledged", pledged.to_string()),
                ("disbursed", disbursed.to_string()),
            ],
            E::DuplicateMilestone(milestone)
            | E::UnknownMilestone(milestone)
            | E::MilestoneReached(milestone) => vec![("milestone", milestone.to_string())],
            E::SlipNotLater { due, new_due } => {
                vec![("due", due.to_string()), ("new_due", new_due.to_string())]
            }
            E::UnitMismatch {
                item,
                given,
                target,
            } => vec![
                ("item", item.clone()),
                ("given", given.clone()),
                ("target", target.clone()),
            ],
            _ => Vec::new(),
        }
    }
}
