//! Read models of the agreements service, as pure folds over its events: the
//! agreement register, the commitment ledger (committed, allocated, delivered and the
//! gap) and the board's decisions. Each can be rebuilt from any prefix of the log.
//!
//! A commitment's timeline is not kept here: it has one entry per event, so keeping
//! every timeline would make the service's memory grow with its log. [`timeline`]
//! builds one from the commitment's own events, which the log finds by stream.

use std::collections::BTreeMap;

use accord_kernel::{Decider, DocumentRef, EventMeta, Quantity, Timestamp};

use crate::actor::ActorEvent;
use crate::agreement::{
    Agreement, AgreementDecider, AgreementEvent, AgreementKind, AgreementStatus,
};
use crate::board::{Board, BoardDecider, BoardEvent, MotionStatus, MotionSubject, Vote};
use crate::commitment::{
    Commitment, CommitmentDecider, CommitmentEvent, CommitmentKind, CommitmentStatus,
};

/// Every event of the agreements service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AgreementsEvent {
    Agreement(AgreementEvent),
    Commitment(CommitmentEvent),
    Board(BoardEvent),
    Actor(ActorEvent),
}

/// All read models of the agreements service, kept together.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgreementsView {
    pub agreements: BTreeMap<String, Agreement>,
    pub commitments: BTreeMap<String, Commitment>,
    pub boards: BTreeMap<String, Board>,
    /// When each agreement entered into force (business time).
    pub in_force_since: BTreeMap<String, Timestamp>,
}

/// One change in a commitment's life.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimelineEntry {
    /// The event's position in the service's log.
    pub position: u64,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    pub actor: String,
    pub change: String,
    pub reason: String,
    /// The board motion that authorised the change, if any.
    pub motion: Option<String>,
    /// The documents the change cites, by hash.
    pub documents: Vec<accord_kernel::DocumentRef>,
}

impl std::fmt::Display for TimelineEntry {
    /// `occurred | actor | change | reason | motion` on one line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} | {} | {} | {} | {}",
            self.occurred_at,
            self.actor,
            self.change,
            self.reason,
            self.motion.as_deref().unwrap_or("-")
        )
    }
}

/// A row of the agreement register.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgreementRow {
    pub id: String,
    pub title: String,
    pub kind: Option<AgreementKind>,
    pub parties: Vec<String>,
    pub status: AgreementStatus,
    pub signatures: usize,
    pub signatories: usize,
    pub in_force_since: Option<Timestamp>,
    pub amendments: usize,
}

/// A row of the commitment ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LedgerRow {
    pub id: String,
    pub obligor: String,
    pub beneficiary: String,
    pub kind: &'static str,
    /// What is committed: the produced item, or the currency of funding.
    pub item: String,
    pub status: CommitmentStatus,
    pub committed: Option<Quantity>,
    pub allocated: i64,
    /// Reported delivered by the obligor.
    pub delivered: i64,
    /// Of what was reported, confirmed and disputed by the beneficiary.
    pub confirmed: i64,
    pub disputed: i64,
    /// The due date that passed with the commitment open, once noticed.
    pub overdue_since: Option<accord_kernel::Date>,
    /// Regulatory commitments: the most days promised from proposal to launch.
    pub max_days: Option<u32>,
    /// Committed minus delivered: what was pledged and has not arrived.
    pub gap: Option<i64>,
}

/// Ledger totals of one obligor for one item (unit).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LedgerTotal {
    pub committed: i64,
    pub allocated: i64,
    /// Reported delivered by the obligor.
    pub delivered: i64,
    pub confirmed: i64,
    pub disputed: i64,
    pub gap: i64,
}

/// A board decision (or a motion still open).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DecisionRow {
    pub board: String,
    pub motion: String,
    pub title: String,
    pub subject: MotionSubject,
    pub status: MotionStatus,
    pub votes: Vec<(String, String, Vote)>,
}

fn kind_label(kind: &CommitmentKind) -> &'static str {
    match kind {
        CommitmentKind::ProcurementPriority { .. } => "procurement priority",
        CommitmentKind::Funding { .. } => "funding",
        CommitmentKind::ProductionCapacity { .. } => "production capacity",
        CommitmentKind::Research { .. } => "R&D",
        CommitmentKind::Regulatory { .. } => "regulatory",
        CommitmentKind::Other { .. } => "other",
    }
}

fn describe(kind: &CommitmentKind) -> String {
    match kind {
        CommitmentKind::ProcurementPriority { item_categories } => {
            format!("priority for {}", item_categories.join(", "))
        }
        CommitmentKind::Funding { amount } => format!("funding {amount}"),
        CommitmentKind::ProductionCapacity {
            item,
            quantity,
            period,
        } => {
            format!(
                "capacity {quantity} of {item} from {} to {}",
                period.from, period.to
            )
        }
        CommitmentKind::Research { topic } => format!("R&D on {topic}"),
        CommitmentKind::Regulatory {
            description,
            max_days,
        } => format!("{description} within {max_days} days"),
        CommitmentKind::Other { description } => description.clone(),
    }
}

/// " citing Title (sha256 9f86d081…)" for each document, or nothing.
pub fn citing(documents: &[DocumentRef]) -> String {
    documents
        .iter()
        .map(|d| format!(" citing {} (sha256 {}…)", d.title, &d.sha256.to_hex()[..16]))
        .collect()
}

fn commitment_change(event: &CommitmentEvent) -> (String, String, Option<String>) {
    use CommitmentEvent as E;
    match event {
        E::Proposed {
            terms,
            obligor,
            beneficiary,
            also_benefiting,
            reason,
            ..
        } => (
            format!(
                "proposed by {obligor} to {beneficiary}{}: {}",
                if also_benefiting.is_empty() {
                    String::new()
                } else {
                    let others: Vec<String> =
                        also_benefiting.iter().map(ToString::to_string).collect();
                    format!(" (also benefiting {})", others.join(", "))
                },
                describe(&terms.kind)
            ),
            reason.clone(),
            None,
        ),
        E::Accepted { reason } => ("accepted".into(), reason.clone(), None),
        E::Amended {
            terms,
            motion_id,
            reason,
            ..
        } => (
            format!("amended: {}", describe(&terms.kind)),
            reason.clone(),
            Some(motion_id.to_string()),
        ),
        E::ProgressRecorded {
            allocated,
            delivered,
            reason,
            documents,
        } => {
            let parts: Vec<String> = [("allocated", allocated), ("delivered", delivered)]
                .into_iter()
                .filter_map(|(what, q)| q.as_ref().map(|q| format!("+{q} {what}")))
                .collect();
            (
                format!("progress: {}{}", parts.join(", "), citing(documents)),
                reason.clone(),
                None,
            )
        }
        E::Overdue { due, noticed_on } => (
            format!("overdue: due {due}, noticed {noticed_on}"),
            "the due date passed with the commitment still open".into(),
            None,
        ),
        E::DeliveryConfirmed {
            quantity,
            reason,
            documents,
        } => (
            format!("delivery confirmed: {quantity}{}", citing(documents)),
            reason.clone(),
            None,
        ),
        E::DeliveryDisputed {
            quantity,
            reason,
            documents,
        } => (
            format!("delivery disputed: {quantity}{}", citing(documents)),
            reason.clone(),
            None,
        ),
        E::Fulfilled { reason } => ("fulfilled".into(), reason.clone(), None),
        E::Breached { reason } => ("breached".into(), reason.clone(), None),
        E::Withdrawn { reason } => ("withdrawn".into(), reason.clone(), None),
    }
}

impl AgreementsView {
    /// Folds one event of the service's log into every read model.
    pub fn apply(&mut self, meta: &EventMeta, event: &AgreementsEvent) {
        let id = meta.stream.id();
        match event {
            AgreementsEvent::Agreement(event) => {
                if matches!(event, AgreementEvent::EnteredIntoForce) {
                    self.in_force_since.insert(id.to_owned(), meta.occurred_at);
                }
                fold::<AgreementDecider>(&mut self.agreements, id, event);
            }
            AgreementsEvent::Commitment(event) => {
                fold::<CommitmentDecider>(&mut self.commitments, id, event);
            }
            AgreementsEvent::Board(event) => {
                fold::<BoardDecider>(&mut self.boards, id, event);
            }
            // The actor registry has no read model here yet; its events are in the log.
            AgreementsEvent::Actor(_) => {}
        }
    }

    /// The status of an agreement (`None` if unknown).
    pub fn agreement_status(&self, agreement_id: &str) -> AgreementStatus {
        self.agreements
            .get(agreement_id)
            .map_or(AgreementStatus::None, |a| a.status)
    }

    /// The state parties of an agreement (empty if unknown).
    pub fn state_parties(&self, agreement_id: &str) -> Vec<accord_kernel::PartyId> {
        self.agreements
            .get(agreement_id)
            .map(|a| a.state_parties())
            .unwrap_or_default()
    }

    /// The motion with this id, on whichever board tabled it, as an authorisation.
    pub fn motion(&self, motion_id: &accord_kernel::AggregateId) -> Option<crate::Authorisation> {
        self.boards.values().find_map(|board| {
            let motion = board.motions.get(motion_id)?;
            Some(crate::Authorisation {
                board_id: board.id.clone()?,
                motion_id: motion_id.clone(),
                status: motion.status,
                subject: motion.subject.clone(),
            })
        })
    }

    /// The agreement register, by agreement id.
    pub fn register(&self) -> Vec<AgreementRow> {
        self.agreements
            .iter()
            .map(|(id, a)| AgreementRow {
                id: id.clone(),
                title: a.title.clone(),
                kind: a.kind,
                parties: a.parties.iter().map(ToString::to_string).collect(),
                status: a.status,
                signatures: a.signatories.iter().filter(|s| s.signed).count(),
                signatories: a.signatories.len(),
                in_force_since: self.in_force_since.get(id).copied(),
                amendments: a.amendments.len(),
            })
            .collect()
    }

    /// The commitment ledger, by commitment id.
    pub fn ledger(&self) -> Vec<LedgerRow> {
        self.commitments
            .iter()
            .map(|(id, c)| {
                let committed = c.committed();
                LedgerRow {
                    id: id.clone(),
                    obligor: c
                        .obligor
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    beneficiary: c
                        .beneficiaries()
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" + "),
                    kind: c.terms.as_ref().map_or("", |t| kind_label(&t.kind)),
                    item: match c.terms.as_ref().map(|t| &t.kind) {
                        Some(CommitmentKind::ProductionCapacity { item, .. }) => item.clone(),
                        Some(CommitmentKind::Funding { amount }) => amount.currency.to_string(),
                        _ => String::new(),
                    },
                    status: c.status,
                    gap: committed.as_ref().map(|q| q.amount - c.delivered),
                    committed,
                    allocated: c.allocated,
                    delivered: c.delivered,
                    confirmed: c.confirmed,
                    disputed: c.disputed,
                    overdue_since: c
                        .due
                        .filter(|due| c.overdue_noticed == Some(*due) && !c.status.is_terminal()),
                    max_days: match c.terms.as_ref().map(|t| &t.kind) {
                        Some(CommitmentKind::Regulatory { max_days, .. }) => Some(*max_days),
                        _ => None,
                    },
                }
            })
            .collect()
    }

    /// Committed, allocated, reported, confirmed and disputed totals and the gap per
    /// obligor and unit, over commitments that are accepted or fulfilled.
    pub fn ledger_totals(&self) -> BTreeMap<(String, String), LedgerTotal> {
        let mut totals: BTreeMap<(String, String), LedgerTotal> = BTreeMap::new();
        for row in self.ledger() {
            let counted = matches!(
                row.status,
                CommitmentStatus::Accepted | CommitmentStatus::Fulfilled
            );
            if let (true, Some(committed)) = (counted, &row.committed) {
                let t = totals
                    .entry((row.obligor.clone(), committed.unit.clone()))
                    .or_default();
                t.committed += committed.amount;
                t.allocated += row.allocated;
                t.delivered += row.delivered;
                t.confirmed += row.confirmed;
                t.disputed += row.disputed;
                t.gap += committed.amount - row.delivered;
            }
        }
        totals
    }

    /// What the deadline watcher sends on `today`: a notice for each accepted
    /// commitment whose due date has passed and was not noticed yet. Pure: the
    /// shell gives the date, so a replay decides the same.
    pub fn overdue_notices(
        &self,
        today: accord_kernel::Date,
    ) -> Vec<(String, crate::commitment::CommitmentCommand)> {
        self.commitments
            .iter()
            .filter(|(_, c)| {
                c.status == CommitmentStatus::Accepted
                    && c.due
                        .is_some_and(|due| due < today && c.overdue_noticed != Some(due))
            })
            .map(|(id, _)| {
                (
                    id.clone(),
                    crate::commitment::CommitmentCommand::NoticeOverdue { as_of: today },
                )
            })
            .collect()
    }

    /// Every motion of every board, in board then motion order.
    pub fn decisions(&self) -> Vec<DecisionRow> {
        self.boards
            .iter()
            .flat_map(|(board, b)| {
                b.motions.iter().map(move |(motion, m)| DecisionRow {
                    board: board.clone(),
                    motion: motion.to_string(),
                    title: m.title.clone(),
                    subject: m.subject.clone(),
                    status: m.status,
                    votes: m
                        .votes
                        .iter()
                        .map(|(actor, (party, vote))| (actor.to_string(), party.to_string(), *vote))
                        .collect(),
                })
            })
            .collect()
    }
}

/// Folds `event` into the state kept for `id`: one lookup, the id copied only for a
/// new entry.
fn fold<D: Decider>(states: &mut BTreeMap<String, D::State>, id: &str, event: &D::Event) {
    match states.get_mut(id) {
        Some(state) => *state = D::evolve(std::mem::take(state), event),
        None => {
            states.insert(id.to_owned(), D::evolve(D::State::default(), event));
        }
    }
}

/// The timeline of commitment `commitment_id`, oldest change first, from the
/// service's events in log order (those of other streams are passed over).
pub fn timeline<'a>(
    commitment_id: &str,
    events: impl IntoIterator<Item = (&'a EventMeta, &'a AgreementsEvent)>,
) -> Vec<TimelineEntry> {
    events
        .into_iter()
        .filter_map(|(meta, event)| match event {
            AgreementsEvent::Commitment(event) if meta.stream.id() == commitment_id => {
                Some((meta, event))
            }
            _ => None,
        })
        .map(|(meta, event)| timeline_entry(meta, event))
        .collect()
}

/// One change in a commitment's timeline: `event`, recorded with `meta`.
pub fn timeline_entry(meta: &EventMeta, event: &CommitmentEvent) -> TimelineEntry {
    let (change, reason, motion) = commitment_change(event);
    let documents = match event {
        CommitmentEvent::ProgressRecorded { documents, .. }
        | CommitmentEvent::DeliveryConfirmed { documents, .. }
        | CommitmentEvent::DeliveryDisputed { documents, .. } => documents.clone(),
        _ => Vec::new(),
    };
    TimelineEntry {
        position: meta.position,
        occurred_at: meta.occurred_at,
        recorded_at: meta.recorded_at,
        actor: meta.actor.clone(),
        change,
        reason,
        motion,
        documents,
    }
}
