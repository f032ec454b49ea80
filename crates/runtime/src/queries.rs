//! Queries: each service's projections as the reply messages of `service.proto`.
//! Statuses and kinds are written as snake_case labels so any client can show them.

use accord_agreements::board::{BoardRole, MotionSubject};
use accord_agreements::projections::{AgreementsView, TimelineEntry};
use accord_boundary::{decode_body, Body, BoundaryError};
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_kernel::{Date, PartyId, RecordedEvent, WireName};
use accord_procurement::market::MarketEvent;
use accord_procurement::queue::ProcurementView;
use accord_projects::MilestoneStatus;
use accord_projects::Portfolio;
use prost::Message as _;

pub use crate::error::QueryError;
use crate::pages::{number_key, Page};

/// The wire name of an optional value; empty when there is none.
fn wire_name_of<T: WireName>(value: Option<T>) -> String {
    value.as_ref().map_or("", WireName::wire_name).to_owned()
}

/// The wire name of a status or kind (`in_force`): explicit strings in the domain
/// crates, so renaming a Rust variant never changes the contract.
fn wire_name(value: impl WireName) -> String {
    value.wire_name().to_owned()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub const AGREEMENTS_QUERIES: &[&str] = &[
    "AgreementRegister",
    "CommitmentLedger",
    "BoardDecisions",
    "CommitmentTimeline",
];
pub const PROJECTS_QUERIES: &[&str] = &["ProjectPortfolio"];
pub const PROCUREMENT_QUERIES: &[&str] =
    &["PriorityPolicy", "ProcurementQueue", "ProcurementMarkets"];

/// Answers an agreements list query: a page of it (see [`Page`]), with pages of at
/// most `page_bytes`.
/// `today` is the date days late are counted to (the service's clock).
pub fn agreements_query(
    name: &str,
    body: Body<'_>,
    view: &AgreementsView,
    page_bytes: usize,
    today: Date,
) -> Result<Outcome, QueryError> {
    if !AGREEMENTS_QUERIES.contains(&name) {
        return Err(QueryError::Unknown(name.to_owned()));
    }
    let page = Page::parse(body, page_bytes)?;
    Ok(match name {
        "AgreementRegister" => {
            let whole = agreement_register(view);
            let (agreements, next_after) = page.take(whole.agreements, |r| r.id.clone());
            Outcome::Agreements(pb::AgreementRegister {
                agreements,
                next_after,
            })
        }
        "CommitmentLedger" => {
            let whole = commitment_ledger(view, today);
            let (rows, next_after) = page.take(whole.rows, |r| r.id.clone());
            Outcome::Ledger(pb::CommitmentLedger {
                rows,
                totals: whole.totals,
                next_after,
            })
        }
        "BoardDecisions" => {
            let whole = board_decisions(view);
            let (decisions, next_after) =
                page.take(whole.decisions, |r| format!("{}\u{0}{}", r.board, r.motion));
            Outcome::Decisions(pb::BoardDecisions {
                decisions,
                next_after,
                members: whole.members,
            })
        }
        other => return Err(QueryError::Unknown(other.to_owned())),
    })
}

/// Most changes a `CommitmentTimeline` page holds.
pub const TIMELINE_PAGE_ENTRIES: u32 = 1000;
/// Most bytes a page's changes take: a reply stays well inside NATS' default 1 MiB
/// payload, whatever the lengths of the reasons (each up to a request's size).
pub const TIMELINE_PAGE_BYTES: usize = 512 * 1024;

/// What a `CommitmentTimeline` query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineQuery {
    pub commitment_id: String,
    /// The first stream version to list (1 or more).
    pub from_version: u64,
    /// At most this many changes (1 to [`TIMELINE_PAGE_ENTRIES`]).
    pub limit: u32,
}

impl TimelineQuery {
    pub fn parse(body: Body<'_>) -> Result<TimelineQuery, QueryError> {
        let query: pb::CommitmentTimelineQuery = decode_body(body)?;
        if query.commitment_id.is_empty() {
            return Err(BoundaryError::Missing {
                field: "commitment_id",
            }
            .into());
        }
        let limit = match query.limit {
            0 => TIMELINE_PAGE_ENTRIES,
            n => n.min(TIMELINE_PAGE_ENTRIES),
        };
        Ok(TimelineQuery {
            commitment_id: query.commitment_id,
            from_version: query.from_version.max(1),
            limit,
        })
    }
}

/// A `CommitmentTimeline` reply filled change by change until it is full.
#[derive(Debug)]
pub struct TimelinePage {
    reply: pb::CommitmentTimeline,
    limit: usize,
    bytes: usize,
}

impl TimelinePage {
    pub fn new(query: &TimelineQuery) -> TimelinePage {
        TimelinePage {
            reply: pb::CommitmentTimeline {
                commitment_id: query.commitment_id.clone(),
                entries: Vec::new(),
                next_version: 0,
            },
            limit: query.limit as usize,
            bytes: 0,
        }
    }

    /// Whether the page holds as many changes as it may.
    pub fn is_full(&self) -> bool {
        self.reply.entries.len() >= self.limit
    }

    /// Ends the page: the next one starts at stream version `version`.
    pub fn continue_at(&mut self, version: u64) {
        self.reply.next_version = version;
    }

    /// Adds the change `event` recorded (at its stream version), unless it would take the page past
    /// its bytes: then the next page starts there. Returns whether it was added. A
    /// page always takes its first change, so every page moves on.
    pub fn push(&mut self, event: &RecordedEvent, entry: TimelineEntry) -> bool {
        let version = event.version;
        let entry = pb::TimelineEntry {
            position: entry.position,
            occurred_at: entry.occurred_at.to_string(),
            recorded_at: entry.recorded_at.to_string(),
            actor: entry.actor,
            change: entry.change,
            reason: entry.reason,
            motion: entry.motion.unwrap_or_default(),
            version,
            event_id: event.event_id.to_string(),
            documents: accord_boundary::documents_proto(&entry.documents),
            signed: event.signature.is_some(),
        };
        // The entry, its field tag and its length's varint.
        let encoded = entry.encoded_len();
        let size = 1 + prost::length_delimiter_len(encoded) + encoded;
        if !self.reply.entries.is_empty() && self.bytes + size > TIMELINE_PAGE_BYTES {
            self.continue_at(version);
            return false;
        }
        self.bytes += size;
        self.reply.entries.push(entry);
        true
    }

    pub fn finish(self) -> pb::CommitmentTimeline {
        self.reply
    }
}

pub fn agreement_register(view: &AgreementsView) -> pb::AgreementRegister {
    pb::AgreementRegister {
        agreements: view
            .register()
            .into_iter()
            .map(|row| pb::AgreementRow {
                id: row.id,
                title: row.title,
                kind: wire_name_of(row.kind),
                parties: row.parties,
                status: wire_name(row.status),
                signatures: count(row.signatures),
                signatories: count(row.signatories),
                in_force_since: row
                    .in_force_since
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                amendments: count(row.amendments),
            })
            .collect(),
        ..Default::default()
    }
}

/// The commitment ledger, with days late counted to `today`.
pub fn commitment_ledger(view: &AgreementsView, today: Date) -> pb::CommitmentLedger {
    pb::CommitmentLedger {
        rows: view
            .ledger()
            .into_iter()
            .map(|row| pb::LedgerRow {
                id: row.id,
                obligor: row.obligor,
                beneficiary: row.beneficiary,
                kind: row.kind.to_owned(),
                item: row.item,
                status: wire_name(row.status),
                committed: row.committed.map(|q| pb::Quantity {
                    amount: q.amount,
                    unit: q.unit,
                }),
                allocated: row.allocated,
                delivered: row.delivered,
                gap: row.gap,
                confirmed: row.confirmed,
                disputed: row.disputed,
                overdue_since: row
                    .overdue_since
                    .map(|due| due.to_string())
                    .unwrap_or_default(),
                days_late: row
                    .overdue_since
                    .map_or(0, |due| today.days_since(due).max(0)),
                max_days: row.max_days,
            })
            .collect(),
        totals: view
            .ledger_totals()
            .into_iter()
            .map(|((obligor, item), t)| pb::LedgerTotalRow {
                obligor,
                item,
                committed: t.committed,
                allocated: t.allocated,
                delivered: t.delivered,
                gap: t.gap,
                confirmed: t.confirmed,
                disputed: t.disputed,
            })
            .collect(),
        ..Default::default()
    }
}

fn subject(subject: &MotionSubject) -> String {
    match subject {
        MotionSubject::ApproveProject { project_id } => format!("approve_project {project_id}"),
        MotionSubject::AmendCommitment { commitment_id } => {
            format!("amend_commitment {commitment_id}")
        }
        MotionSubject::AdmitParty {
            agreement_id,
            party,
        } => format!("admit_party {party} to {agreement_id}"),
        MotionSubject::Other { description } => format!("other {description}"),
    }
}

pub fn board_decisions(view: &AgreementsView) -> pb::BoardDecisions {
    pb::BoardDecisions {
        decisions: view
            .decisions()
            .into_iter()
            .map(|row| pb::DecisionRow {
                board: row.board,
                motion: row.motion,
                title: row.title,
                subject: subject(&row.subject),
                status: wire_name(row.status),
                votes: row
                    .votes
                    .into_iter()
                    .map(|(member, party, vote)| pb::VoteRow {
                        member,
                        party,
                        vote: wire_name(vote),
                    })
                    .collect(),
            })
            .collect(),
        members: view
            .boards
            .iter()
            .flat_map(|(board, state)| {
                state
                    .members
                    .iter()
                    .map(move |(member, m)| pb::BoardMemberRow {
                        board: board.clone(),
                        member: member.to_string(),
                        party: m.party.to_string(),
                        role: match m.role {
                            BoardRole::Chair => "chair",
                            BoardRole::Member => "member",
                            BoardRole::Observer => "observer",
                            BoardRole::Stakeholder => "stakeholder",
                        }
                        .to_owned(),
                    })
            })
            .collect(),
        ..Default::default()
    }
}

/// Answers a projects list query: a page of it (see [`Page`]).
/// `today` is the date days late are counted to (the service's clock).
pub fn projects_query(
    name: &str,
    body: Body<'_>,
    portfolio: &Portfolio,
    page_bytes: usize,
    today: Date,
) -> Result<Outcome, QueryError> {
    match name {
        "ProjectPortfolio" => {
            let page = Page::parse(body, page_bytes)?;
            let whole = project_portfolio(portfolio, today);
            let (projects, next_after) = page.take(whole.projects, |r| r.id.clone());
            Ok(Outcome::Portfolio(pb::ProjectPortfolio {
                projects,
                next_after,
            }))
        }
        other => Err(QueryError::Unknown(other.to_owned())),
    }
}

/// The project portfolio, with milestones' days late counted to `today`.
pub fn project_portfolio(portfolio: &Portfolio, today: Date) -> pb::ProjectPortfolio {
    let overdue = portfolio.overdue_milestones(today);
    pb::ProjectPortfolio {
        projects: portfolio
            .rows()
            .into_iter()
            .map(|row| pb::PortfolioRow {
                overdue_milestones: overdue
                    .iter()
                    .filter(|(project, ..)| *project == row.id)
                    .map(
                        |(_, milestone_id, title, due, days_late)| pb::OverdueMilestone {
                            milestone_id: milestone_id.clone(),
                            title: title.clone(),
                            due: due.to_string(),
                            days_late: *days_late,
                        },
                    )
                    .collect(),
                id: row.id,
                title: row.title,
                area: wire_name_of(row.area),
                host: row.host,
                status: wire_name(row.status),
                funding: row
                    .funding
                    .into_iter()
                    .map(
                        |(currency, (pledged, disbursed, outstanding))| pb::FundingRow {
                            currency: currency.to_string(),
                            pledged,
                            disbursed,
                            outstanding,
                        },
                    )
                    .collect(),
                milestones_planned: count(row.milestones_planned),
                milestones_reached: count(row.milestones_reached),
                milestones_slipped: count(row.milestones_slipped),
                days_to_launch: row.days_to_launch,
                results: row
                    .results
                    .into_iter()
                    .map(|(result_id, result)| pb::ResearchResultRow {
                        result_id,
                        title: result.title,
                        holders: result.holders.iter().map(ToString::to_string).collect(),
                    })
                    .collect(),
                milestones: row
                    .milestones
                    .into_iter()
                    .map(|(milestone_id, m)| pb::MilestoneRow {
                        milestone_id,
                        title: m.title,
                        planned_due: m.planned_due.to_string(),
                        due: m.due.to_string(),
                        status: match m.status {
                            MilestoneStatus::Planned => "planned",
                            MilestoneStatus::Slipped => "slipped",
                            MilestoneStatus::Reached => "reached",
                        }
                        .to_owned(),
                        reached_on: m.reached_on.map(|d| d.to_string()).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
        ..Default::default()
    }
}

/// Answers a procurement list query: a page of it (see [`Page`]).
pub fn procurement_query(
    name: &str,
    body: Body<'_>,
    view: &ProcurementView,
    page_bytes: usize,
) -> Result<Outcome, QueryError> {
    match name {
        "PriorityPolicy" => {
            let page = Page::parse(body, page_bytes)?;
            let whole = priority_policy(view);
            let (grants, next_after) = page.take(whole.grants, |g| g.commitment_id.clone());
            Ok(Outcome::Policy(pb::PriorityPolicy {
                version: whole.version,
                grants,
                next_after,
            }))
        }
        "ProcurementQueue" => {
            let query: pb::ProcurementQueueQuery = decode_body(body)?;
            let controller = optional_party(&query.controlled_by)?;
            let whole = procurement_queue(view, &query.item, controller.as_ref());
            // Each list gets half the bytes, so the two together fit as one page does.
            let requests = Page::new(query.after, query.limit, page_bytes / 2);
            let (requests, next_after) =
                requests.take(whole.requests, |r| number_key(u64::from(r.rank)));
            let allocations = Page::new(query.after_allocation, query.limit, page_bytes / 2);
            // Allocations are only ever added: their place in the list is their key.
            let (allocations, next_after_allocation) = allocations.take_keyed(
                (1u64..)
                    .zip(whole.allocations)
                    .map(|(place, row)| (number_key(place), row))
                    .collect(),
            );
            Ok(Outcome::Queue(pb::ProcurementQueue {
                controlled_by: whole.controlled_by,
                item: whole.item,
                requests,
                allocations,
                next_after,
                next_after_allocation,
            }))
        }
        "ProcurementMarkets" => {
            let _: pb::NoParameters = decode_body(body)?;
            Ok(Outcome::Markets(procurement_markets(view)))
        }
        other => Err(QueryError::Unknown(other.to_owned())),
    }
}

/// Every queue there is: one per item and party controlling supply of it.
pub fn procurement_markets(view: &ProcurementView) -> pb::ProcurementMarkets {
    pb::ProcurementMarkets {
        markets: view
            .queue_keys()
            .into_iter()
            .map(|(item, controller)| pb::MarketRow {
                item,
                controlled_by: controller.map(|p| p.to_string()).unwrap_or_default(),
            })
            .collect(),
    }
}

/// A party named in a query, or none when empty.
fn optional_party(text: &str) -> Result<Option<PartyId>, QueryError> {
    if text.is_empty() {
        return Ok(None);
    }
    PartyId::new(text.to_owned()).map(Some).map_err(|error| {
        QueryError::Invalid(BoundaryError::Invalid {
            field: "controlled_by",
            error,
        })
    })
}

pub fn priority_policy(view: &ProcurementView) -> pb::PriorityPolicy {
    pb::PriorityPolicy {
        version: view.policy.version,
        grants: view
            .policy
            .grants
            .iter()
            .map(|(commitment, grant)| pb::PriorityGrant {
                commitment_id: commitment.to_string(),
                obligor: grant.obligor.to_string(),
                beneficiary: grant.beneficiary.to_string(),
                item_categories: grant.item_categories.clone(),
            })
            .collect(),
        ..Default::default()
    }
}

/// The queue of `item` ranked for supply controlled by `controller` (`None`: no
/// priority commitment applies).
pub fn procurement_queue(
    view: &ProcurementView,
    item: &str,
    controller: Option<&PartyId>,
) -> pb::ProcurementQueue {
    pb::ProcurementQueue {
        item: item.to_owned(),
        controlled_by: controller.map(ToString::to_string).unwrap_or_default(),
        requests: view
            .queue(item, controller)
            .into_iter()
            .map(|ranked| pb::RankedRequest {
                request_id: ranked.request_id.to_string(),
                rank: ranked.rank,
                tier: ranked.tier,
                explanation: ranked.explanation,
            })
            .collect(),
        allocations: view
            .allocations
            .get(item)
            .into_iter()
            .flatten()
            .filter_map(|event| match event {
                MarketEvent::SupplyAllocated {
                    supply_id,
                    request_id,
                    quantity,
                    rank,
                    policy_version,
                    policy_tier,
                    explanation,
                } => Some(pb::AllocationRow {
                    request_id: request_id.to_string(),
                    supply_id: supply_id.to_string(),
                    quantity: Some(pb::Quantity {
                        amount: quantity.amount,
                        unit: quantity.unit.clone(),
                    }),
                    rank: *rank,
                    tier: *policy_tier,
                    policy_version: *policy_version,
                    explanation: explanation.clone(),
                }),
                _ => None,
            })
            .collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Rust name that differs from its wire name, as a rename would leave it.
    enum Status {
        EnForce,
    }

    impl WireName for Status {
        fn wire_name(&self) -> &'static str {
            "in_force"
        }
    }

    #[test]
    fn wire_names_are_the_explicit_strings_and_none_is_empty() {
        assert_eq!(wire_name(Status::EnForce), "in_force");
        assert_eq!(wire_name_of(Some(Status::EnForce)), "in_force");
        assert_eq!(wire_name_of(None::<Status>), "");
    }
}
