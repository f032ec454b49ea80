//! The procurement queue: a pure fold over the procurement service's events, giving
//! per item the open requests ranked under the current policy with the reasons, and
//! every allocation made with the policy version it was made under.

use std::collections::BTreeMap;

use accord_kernel::{Decider, EventMeta};

use crate::market::{Market, MarketDecider, MarketEvent, Ranked};
use crate::policy::{Policy, PolicyDecider, PolicyUpdated};

/// Every event of the procurement service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProcurementEvent {
    Policy(PolicyUpdated),
    Market(MarketEvent),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcurementView {
    pub policy: Policy,
    /// Markets by item (their stream id).
    pub markets: BTreeMap<String, Market>,
    /// Every allocation, in log order, by item.
    pub allocations: BTreeMap<String, Vec<MarketEvent>>,
}

impl ProcurementView {
    pub fn apply(&mut self, meta: &EventMeta, event: &ProcurementEvent) {
        match event {
            ProcurementEvent::Policy(event) => {
                self.policy = PolicyDecider::evolve(std::mem::take(&mut self.policy), event);
            }
            ProcurementEvent::Market(event) => {
                let item = meta.stream.id().to_owned();
                if matches!(event, MarketEvent::SupplyAllocated { .. }) {
                    self.allocations
                        .entry(item.clone())
                        .or_default()
                        .push(event.clone());
                }
                let state = self.markets.remove(&item).unwrap_or_default();
                self.markets
                    .insert(item, MarketDecider::evolve(state, event));
            }
        }
    }

    /// The market (item) a request or supply id belongs to.
    pub fn market_of(&self, id: &accord_kernel::AggregateId) -> Option<String> {
        self.markets
            .iter()
            .find(|(_, m)| m.requests.contains_key(id) || m.supplies.contains_key(id))
            .map(|(item, _)| item.clone())
    }

    /// Whose supply the queue of `item` is worth showing for: every party that
    /// controls supply offered in it (sorted), or `[None]` (no grant applies) while
    /// nobody has offered any.
    pub fn controllers(&self, item: &str) -> Vec<Option<accord_kernel::PartyId>> {
        let mut controllers: Vec<_> = self
            .markets
            .get(item)
            .into_iter()
            .flat_map(|m| m.supplies.values().map(|s| s.controlled_by.clone()))
            .collect();
        controllers.sort();
        controllers.dedup();
        if controllers.is_empty() {
            return vec![None];
        }
        controllers.into_iter().map(Some).collect()
    }

    /// Every queue worth showing: each item (market) with each party controlling
    /// supply in it ([`ProcurementView::controllers`]).
    pub fn queue_keys(&self) -> Vec<(String, Option<accord_kernel::PartyId>)> {
        self.markets
            .keys()
            .flat_map(|item| {
                self.controllers(item)
                    .into_iter()
                    .map(move |controller| (item.clone(), controller))
            })
            .collect()
    }

    /// The open requests for `item`, ranked under the current policy for supply
    /// controlled by `controller` (`None`: no grant applies).
    pub fn queue(&self, item: &str, controller: Option<&accord_kernel::PartyId>) -> Vec<Ranked> {
        self.markets
            .get(item)
            .map(|m| m.queue(&self.policy, controller))
            .unwrap_or_default()
    }
}
