//! The priority policy: which beneficiaries are prioritised for which item
//! categories, and under which commitment. Versioned: every change increments it.

use std::collections::BTreeMap;

use accord_kernel::{AggregateId, Decider, PartyId, Refusal, RefusalKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PriorityChange {
    Granted,
    Amended,
    Withdrawn,
}

/// One procurement-priority commitment in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub obligor: PartyId,
    pub beneficiary: PartyId,
    pub item_categories: Vec<String>,
}

impl Grant {
    /// Whether it prioritises `party` for `category`.
    pub fn grants(&self, party: &PartyId, category: &str) -> bool {
        &self.beneficiary == party && self.item_categories.iter().any(|c| c == category)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    pub version: u64,
    pub grants: BTreeMap<AggregateId, Grant>,
}

impl Policy {
    /// The commitment by which `obligor` prioritises `party` for `category`, if any
    /// (the first by commitment id, so the answer is deterministic). A grant binds
    /// its obligor only: it orders the supply the obligor controls, nobody else's.
    pub fn priority_for(
        &self,
        party: &PartyId,
        category: &str,
        obligor: &PartyId,
    ) -> Option<(&AggregateId, &Grant)> {
        self.grants
            .iter()
            .find(|(_, g)| &g.obligor == obligor && g.grants(party, category))
    }

    /// Every grant prioritising `party` for `category`, whoever its obligor.
    pub fn grants_for<'a>(
        &'a self,
        party: &'a PartyId,
        category: &'a str,
    ) -> impl Iterator<Item = (&'a AggregateId, &'a Grant)> + 'a {
        self.grants
            .iter()
            .filter(move |(_, g)| g.grants(party, category))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UpdatePolicy {
    pub commitment_id: AggregateId,
    pub obligor: PartyId,
    pub beneficiary: PartyId,
    pub item_categories: Vec<String>,
    pub change: PriorityChange,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyUpdated {
    pub version: u64,
    pub commitment_id: AggregateId,
    pub obligor: PartyId,
    pub beneficiary: PartyId,
    pub item_categories: Vec<String>,
    pub change: PriorityChange,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("commitment {0} already grants priority")]
    AlreadyGranted(AggregateId),
    #[error("commitment {0} grants no priority")]
    NotGranted(AggregateId),
    #[error("a priority grant needs at least one item category")]
    NoItemCategories,
}

/// The priority policy decider.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum PolicyDecider {}

impl Decider for PolicyDecider {
    type State = Policy;
    type Command = UpdatePolicy;
    type Event = PolicyUpdated;
    type Error = PolicyError;

    fn decide(state: &Policy, command: &UpdatePolicy) -> Result<Vec<PolicyUpdated>, PolicyError> {
        let known = state.grants.contains_key(&command.commitment_id);
        match command.change {
            PriorityChange::Granted if known => {
                return Err(PolicyError::AlreadyGranted(command.commitment_id.clone()));
            }
            PriorityChange::Amended | PriorityChange::Withdrawn if !known => {
                return Err(PolicyError::NotGranted(command.commitment_id.clone()));
            }
            _ => {}
        }
        if command.change != PriorityChange::Withdrawn && command.item_categories.is_empty() {
            return Err(PolicyError::NoItemCategories);
        }
        Ok(vec![PolicyUpdated {
            version: state.version + 1,
            commitment_id: command.commitment_id.clone(),
            obligor: command.obligor.clone(),
            beneficiary: command.beneficiary.clone(),
            item_categories: command.item_categories.clone(),
            change: command.change,
        }])
    }

    fn evolve(mut state: Policy, event: &PolicyUpdated) -> Policy {
        state.version = event.version;
        match event.change {
            PriorityChange::Granted | PriorityChange::Amended => {
                state.grants.insert(
                    event.commitment_id.clone(),
                    Grant {
                        obligor: event.obligor.clone(),
                        beneficiary: event.beneficiary.clone(),
                        item_categories: event.item_categories.clone(),
                    },
                );
            }
            PriorityChange::Withdrawn => {
                state.grants.remove(&event.commitment_id);
            }
        }
        state
    }
}

impl Refusal for PolicyError {
    fn kind(&self) -> RefusalKind {
        match self {
            PolicyError::AlreadyGranted(_) => RefusalKind::Conflict,
            PolicyError::NotGranted(_) => RefusalKind::NotFound,
            PolicyError::NoItemCategories => RefusalKind::InvalidArgument,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            PolicyError::AlreadyGranted(_) => "priority_granted",
            PolicyError::NotGranted(_) => "priority_not_granted",
            PolicyError::NoItemCategories => "no_item_categories",
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            PolicyError::AlreadyGranted(id) | PolicyError::NotGranted(id) => {
                vec![("commitment", id.to_string())]
            }
            PolicyError::NoItemCategories => Vec::new(),
        }
    }
}
