//! Each service's projections and what its commands may ask of them (`Facts`),
//! apart from the definitions that fold into them, so that authorisation reads
//! them without depending on the definitions that call it.

use std::collections::BTreeMap;

use accord_agreements::actor::Actor;
use accord_agreements::agreement::AgreementStatus;
use accord_agreements::projections::AgreementsView;
use accord_agreements::Authorisation;
use accord_kernel::{AggregateId, PartyId};
use accord_procurement::policy::Policy;
use accord_procurement::queue::ProcurementView;
use accord_projects::Portfolio;

use crate::commands::Facts;

/// The agreements service's projections and actor registry.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AgreementsState {
    pub view: AgreementsView,
    pub actors: BTreeMap<String, Actor>,
}

impl Facts for AgreementsState {
    fn agreement_status(&self, agreement_id: &AggregateId) -> AgreementStatus {
        self.view.agreement_status(agreement_id.as_str())
    }
    fn agreement_state_parties(&self, agreement_id: &AggregateId) -> Vec<PartyId> {
        self.view.state_parties(agreement_id.as_str())
    }
    fn board_agreement_parties(&self, board_id: &AggregateId) -> Vec<PartyId> {
        self.view
            .boards
            .get(board_id.as_str())
            .and_then(|board| board.agreement_id.as_ref())
            .and_then(|agreement_id| self.view.agreements.get(agreement_id.as_str()))
            .map(|agreement| agreement.parties.clone())
            .unwrap_or_default()
    }
    fn motion(&self, motion_id: &AggregateId) -> Option<Authorisation> {
        self.view.motion(motion_id)
    }
    fn open_commitments(&self, agreement_id: &AggregateId, party: &PartyId) -> Vec<AggregateId> {
        self.view
            .commitments
            .iter()
            .filter(|(_, c)| {
                c.agreement_id.as_ref() == Some(agreement_id)
                    && !c.status.is_terminal()
                    && (c.obligor.as_ref() == Some(party) || c.beneficiaries().contains(party))
            })
            .filter_map(|(id, _)| AggregateId::new(id.clone()).ok())
            .collect()
    }
}

/// The projects service's projections.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ProjectsState {
    pub portfolio: Portfolio,
}

// The projects service does not see the board: it knows no motion, and approvals
// arrive as reactions to the agreements service's MotionAdopted events.
impl Facts for ProjectsState {}

/// The procurement service's projections.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ProcurementState {
    pub view: ProcurementView,
}

impl Facts for ProcurementState {
    fn policy(&self) -> Policy {
        self.view.policy.clone()
    }
    fn market_of(&self, id: &AggregateId) -> Option<String> {
        self.view.market_of(id)
    }
}
