//! The market for one item: requests from parties, supply offered, and allocation of
//! supply to open requests in a deterministic priority order:
//!
//! 1. policy tier (1: the requesting party is prioritised for the item's category by
//!    an accepted procurement-priority commitment *of the party that controls the
//!    supply*; 2: everyone else — a commitment binds its obligor only, so it orders
//!    the obligor's supply and nobody else's),
//! 2. urgency (critical first),
//! 3. need-by date (earliest first),
//! 4. submission order.
//!
//! The last key is unique, so the ranking is a total order.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use accord_kernel::{
    AggregateId, Date, Decider, PartyId, Quantity, Refusal, RefusalKind, WireName,
};

use crate::policy::Policy;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Urgency {
    Routine,
    Priority,
    Urgent,
    Critical,
}

impl std::fmt::Display for Urgency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Urgency::Routine => "routine",
            Urgency::Priority => "priority",
            Urgency::Urgent => "urgent",
            Urgency::Critical => "critical",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RequestStatus {
    Open,
    Fulfilled,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Request {
    pub party: PartyId,
    pub item_category: String,
    pub quantity: i64,
    pub need_by: Date,
    pub urgency: Urgency,
    /// Order of submission in this market, from 1.
    pub sequence: u64,
    pub allocated: i64,
    pub status: RequestStatus,
}

impl Request {
    pub fn outstanding(&self) -> i64 {
        self.quantity - self.allocated
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Supply {
    pub supplier: PartyId,
    /// The party whose supply this is (the supplier itself, or the state a company
    /// or facility belongs to): the obligor whose priority commitments apply.
    pub controlled_by: PartyId,
    pub quantity: i64,
    pub remaining: i64,
    pub available_from: Option<Date>,
    pub project_id: Option<AggregateId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Market {
    pub item: Option<String>,
    /// The unit every request and offer in this market uses (set by the first).
    pub unit: Option<String>,
    pub requests: BTreeMap<AggregateId, Request>,
    pub supplies: BTreeMap<AggregateId, Supply>,
}

/// Where an open request stands in the queue, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ranked {
    pub request_id: AggregateId,
    /// 1-based position in the queue.
    pub rank: u32,
    pub tier: u32,
    pub explanation: String,
}

impl Market {
    /// The open requests with something outstanding, in priority order under `policy`
    /// for supply controlled by `controller` (`None`: supply nobody promised priority
    /// for, so no grant applies).
    pub fn queue(&self, policy: &Policy, controller: Option<&PartyId>) -> Vec<Ranked> {
        let mut open: Vec<(&AggregateId, &Request, u32, String)> = self
            .requests
            .iter()
            .filter(|(_, r)| r.status == RequestStatus::Open && r.outstanding() > 0)
            .map(|(id, r)| {
                let (tier, why) = tier_of(policy, r, controller);
                let explanation = format!(
                    "{why}; urgency {}; need by {}; request #{} (policy v{})",
                    r.urgency, r.need_by, r.sequence, policy.version
                );
                (id, r, tier, explanation)
            })
            .collect();
        open.sort_by_key(|(_, r, tier, _)| (*tier, Reverse(r.urgency), r.need_by, r.sequence));
        open.into_iter()
            .zip(1u32..)
            .map(|((id, _, tier, explanation), rank)| Ranked {
                request_id: id.clone(),
                rank,
                tier,
                explanation,
            })
            .collect()
    }
}

/// A request's policy tier for supply controlled by `controller`, and why: which
/// grant applied, or why none did.
fn tier_of(policy: &Policy, r: &Request, controller: Option<&PartyId>) -> (u32, String) {
    let category = &r.item_category;
    if let Some((commitment, grant)) =
        controller.and_then(|c| policy.priority_for(&r.party, category, c))
    {
        return (
            1,
            format!(
                "tier 1: {} prioritised by {}, which controls this supply, for {category} under commitment {commitment}",
                r.party, grant.obligor
            ),
        );
    }
    let elsewhere: Vec<String> = policy
        .grants_for(&r.party, category)
        .map(|(commitment, grant)| format!("{} (commitment {commitment})", grant.obligor))
        .collect();
    let why = match (elsewhere.is_empty(), controller) {
        (true, _) => format!("tier 2: no priority for {} in {category}", r.party),
        (false, Some(controller)) => format!(
            "tier 2: {}'s priority for {category} binds {}, not {controller}, which controls this supply",
            r.party,
            elsewhere.join(", ")
        ),
        (false, None) => format!(
            "tier 2: {}'s priority for {category} binds {} only, for the supply it controls",
            r.party,
            elsewhere.join(", ")
        ),
    };
    (2, why)
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MarketCommand {
    SubmitRequest {
        request_id: AggregateId,
        party: PartyId,
        item: String,
        item_category: String,
        quantity: Quantity,
        need_by: Date,
        urgency: Urgency,
    },
    OfferSupply {
        supply_id: AggregateId,
        supplier: PartyId,
        /// The party whose supply it is (see [`Supply::controlled_by`]).
        controlled_by: PartyId,
        item: String,
        item_category: String,
        quantity: Quantity,
        available_from: Option<Date>,
        project_id: Option<AggregateId>,
    },
    /// Allocates what remains of the offer under `policy`, the current priority
    /// policy as the shell found it.
    Allocate {
        supply_id: AggregateId,
        policy: Policy,
    },
    Fulfil {
        request_id: AggregateId,
        reason: String,
    },
    Cancel {
        request_id: AggregateId,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MarketEvent {
    RequestSubmitted {
        request_id: AggregateId,
        party: PartyId,
        item: String,
        item_category: String,
        quantity: Quantity,
        need_by: Date,
        urgency: Urgency,
        sequence: u64,
    },
    SupplyOffered {
        supply_id: AggregateId,
        supplier: PartyId,
        controlled_by: PartyId,
        item: String,
        item_category: String,
        quantity: Quantity,
        available_from: Option<Date>,
        project_id: Option<AggregateId>,
    },
    SupplyAllocated {
        supply_id: AggregateId,
        request_id: AggregateId,
        quantity: Quantity,
        rank: u32,
        policy_version: u64,
        policy_tier: u32,
        explanation: String,
    },
    RequestFulfilled {
        request_id: AggregateId,
        reason: String,
    },
    RequestCancelled {
        request_id: AggregateId,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    #[error("this market trades {market}, not {given}")]
    WrongItem { market: String, given: String },
    #[error("this market counts in {market}, not {given}")]
    UnitMismatch { market: String, given: String },
    #[error("quantity must be positive")]
    ZeroQuantity,
    #[error("request {0} already exists")]
    DuplicateRequest(AggregateId),
    #[error("supply {0} already exists")]
    DuplicateSupply(AggregateId),
    #[error("request {0} does not exist")]
    UnknownRequest(AggregateId),
    #[error("supply {0} does not exist")]
    UnknownSupply(AggregateId),
    #[error("supply {0} is fully allocated")]
    SupplyExhausted(AggregateId),
    #[error("no open request needs this item")]
    NoOpenRequests,
    #[error("request {request_id} is {}, not open", .status.wire_name())]
    RequestClosed {
        request_id: AggregateId,
        status: RequestStatus,
    },
    #[error("request {request_id} has {outstanding} still to allocate")]
    NotFullyAllocated {
        request_id: AggregateId,
        outstanding: i64,
    },
}

/// The market decider.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum MarketDecider {}

impl MarketDecider {
    fn check_listing(state: &Market, item: &str, quantity: &Quantity) -> Result<(), MarketError> {
        if let Some(market) = &state.item {
            if market != item {
                return Err(MarketError::WrongItem {
                    market: market.clone(),
                    given: item.to_owned(),
                });
            }
        }
        if let Some(unit) = &state.unit {
            if unit != &quantity.unit {
                return Err(MarketError::UnitMismatch {
                    market: unit.clone(),
                    given: quantity.unit.clone(),
                });
            }
        }
        if quantity.amount == 0 {
            return Err(MarketError::ZeroQuantity);
        }
        Ok(())
    }

    fn open_request<'a>(state: &'a Market, id: &AggregateId) -> Result<&'a Request, MarketError> {
        let request = state
            .requests
            .get(id)
            .ok_or_else(|| MarketError::UnknownRequest(id.clone()))?;
        if request.status != RequestStatus::Open {
            return Err(MarketError::RequestClosed {
                request_id: id.clone(),
                status: request.status,
            });
        }
        Ok(request)
    }
}

impl Decider for MarketDecider {
    type State = Market;
    type Command = MarketCommand;
    type Event = MarketEvent;
    type Error = MarketError;

    fn decide(state: &Market, command: &MarketCommand) -> Result<Vec<MarketEvent>, MarketError> {
        use MarketCommand as C;
        use MarketEvent as E;
        match command {
            C::SubmitRequest {
                request_id,
                party,
                item,
                item_category,
                quantity,
                need_by,
                urgency,
            } => {
                Self::check_listing(state, item, quantity)?;
                if state.requests.contains_key(request_id) {
                    return Err(MarketError::DuplicateRequest(request_id.clone()));
                }
                Ok(vec![E::RequestSubmitted {
                    request_id: request_id.clone(),
                    party: party.clone(),
                    item: item.clone(),
                    item_category: item_category.clone(),
                    quantity: quantity.clone(),
                    need_by: *need_by,
                    urgency: *urgency,
                    sequence: state.requests.len() as u64 + 1,
                }])
            }
            C::OfferSupply {
                supply_id,
                supplier,
                controlled_by,
                item,
                item_category,
                quantity,
                available_from,
                project_id,
            } => {
                Self::check_listing(state, item, quantity)?;
                if state.supplies.contains_key(supply_id) {
                    return Err(MarketError::DuplicateSupply(supply_id.clone()));
                }
                Ok(vec![E::SupplyOffered {
                    supply_id: supply_id.clone(),
                    supplier: supplier.clone(),
                    controlled_by: controlled_by.clone(),
                    item: item.clone(),
                    item_category: item_category.clone(),
                    quantity: quantity.clone(),
                    available_from: *available_from,
                    project_id: project_id.clone(),
                }])
            }
            C::Allocate { supply_id, policy } => {
                let supply = state
                    .supplies
                    .get(supply_id)
                    .ok_or_else(|| MarketError::UnknownSupply(supply_id.clone()))?;
                if supply.remaining == 0 {
                    return Err(MarketError::SupplyExhausted(supply_id.clone()));
                }
                let queue = state.queue(policy, Some(&supply.controlled_by));
                if queue.is_empty() {
                    return Err(MarketError::NoOpenRequests);
                }
                let unit = state.unit.clone().unwrap_or_default();
                let mut remaining = supply.remaining;
                let mut events = Vec::new();
                for ranked in queue {
                    if remaining == 0 {
                        break;
                    }
                    let outstanding = state.requests[&ranked.request_id].outstanding();
                    let amount = outstanding.min(remaining);
                    remaining -= amount;
                    events.push(E::SupplyAllocated {
                        supply_id: supply_id.clone(),
                        request_id: ranked.request_id,
                        quantity: Quantity {
                            amount,
                            unit: unit.clone(),
                        },
                        rank: ranked.rank,
                        policy_version: policy.version,
                        policy_tier: ranked.tier,
                        explanation: ranked.explanation,
                    });
                }
                Ok(events)
            }
            C::Fulfil { request_id, reason } => {
                let request = Self::open_request(state, request_id)?;
                if request.outstanding() > 0 {
                    return Err(MarketError::NotFullyAllocated {
                        request_id: request_id.clone(),
                        outstanding: request.outstanding(),
                    });
                }
                Ok(vec![E::RequestFulfilled {
                    request_id: request_id.clone(),
                    reason: reason.clone(),
                }])
            }
            C::Cancel { request_id, reason } => {
                Self::open_request(state, request_id)?;
                Ok(vec![E::RequestCancelled {
                    request_id: request_id.clone(),
                    reason: reason.clone(),
                }])
            }
        }
    }

    fn evolve(mut state: Market, event: &MarketEvent) -> Market {
        use MarketEvent as E;
        match event {
            E::RequestSubmitted {
                request_id,
                party,
                item,
                item_category,
                quantity,
                need_by,
                urgency,
                sequence,
            } => {
                state.item.get_or_insert_with(|| item.clone());
                state.unit.get_or_insert_with(|| quantity.unit.clone());
                state.requests.insert(
                    request_id.clone(),
                    Request {
                        party: party.clone(),
                        item_category: item_category.clone(),
                        quantity: quantity.amount,
                        need_by: *need_by,
                        urgency: *urgency,
                        sequence: *sequence,
                        allocated: 0,
                        status: RequestStatus::Open,
                    },
                );
            }
            E::SupplyOffered {
                supply_id,
                supplier,
                controlled_by,
                item,
                quantity,
                available_from,
                project_id,
                ..
            } => {
                state.item.get_or_insert_with(|| item.clone());
                state.unit.get_or_insert_with(|| quantity.unit.clone());
                state.supplies.insert(
                    supply_id.clone(),
                    Supply {
                        supplier: supplier.clone(),
                        controlled_by: controlled_by.clone(),
                        quantity: quantity.amount,
                        remaining: quantity.amount,
                        available_from: *available_from,
                        project_id: project_id.clone(),
                    },
                );
            }
            E::SupplyAllocated {
                supply_id,
                request_id,
                quantity,
                ..
            } => {
                if let Some(supply) = state.supplies.get_mut(supply_id) {
                    supply.remaining -= quantity.amount;
                }
                if let Some(request) = state.requests.get_mut(request_id) {
                    request.allocated += quantity.amount;
                }
            }
            E::RequestFulfilled { request_id, .. } => {
                if let Some(request) = state.requests.get_mut(request_id) {
                    request.status = RequestStatus::Fulfilled;
                }
            }
            E::RequestCancelled { request_id, .. } => {
                if let Some(request) = state.requests.get_mut(request_id) {
                    request.status = RequestStatus::Cancelled;
                }
            }
        }
        state
    }
}

impl WireName for RequestStatus {
    fn wire_name(&self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Fulfilled => "fulfilled",
            RequestStatus::Cancelled => "cancelled",
        }
    }
}

impl Refusal for MarketError {
    fn kind(&self) -> RefusalKind {
        use MarketError as E;
        match self {
            E::WrongItem { .. } | E::UnitMismatch { .. } | E::ZeroQuantity => {
                RefusalKind::InvalidArgument
            }
            E::DuplicateRequest(_) | E::DuplicateSupply(_) => RefusalKind::Conflict,
            E::UnknownRequest(_) | E::UnknownSupply(_) => RefusalKind::NotFound,
            E::SupplyExhausted(_)
            | E::NoOpenRequests
            | E::RequestClosed { .. }
            | E::NotFullyAllocated { .. } => RefusalKind::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        use MarketError as E;
        match self {
            E::WrongItem { .. } => "wrong_item",
            E::UnitMismatch { .. } => "unit_mismatch",
            E::ZeroQuantity => "zero_quantity",
            E::DuplicateRequest(_) => "request_exists",
            E::DuplicateSupply(_) => "supply_exists",
            E::UnknownRequest(_) => "request_not_found",
            E::UnknownSupply(_) => "supply_not_found",
            E::SupplyExhausted(_) => "supply_exhausted",
            E::NoOpenRequests => "no_open_requests",
            E::RequestClosed { .. } => "request_closed",
            E::NotFullyAllocated { .. } => "not_fully_allocated",
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        use MarketError as E;
        match self {
            E::WrongItem { market, given } | E::UnitMismatch { market, given } => {
                vec![("market", market.clone()), ("given", given.clone())]
            }
            E::DuplicateRequest(id) | E::UnknownRequest(id) => vec![("request", id.to_string())],
            E::DuplicateSupply(id) | E::UnknownSupply(id) | E::SupplyExhausted(id) => {
                vec![("supply", id.to_string())]
            }
            E::RequestClosed { request_id, status } => vec![
                ("request", request_id.to_string()),
                ("status", status.wire_name().to_owned()),
            ],
            E::NotFullyAllocated {
                request_id,
                outstanding,
            } => vec![
                ("request", request_id.to_string()),
                ("outstanding", outstanding.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}
