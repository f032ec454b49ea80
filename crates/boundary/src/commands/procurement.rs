//! The procurement service's commands, one parser per command message.

use accord_contracts::v1 as pb;
use accord_kernel::{bounded_text, AggregateId};
use accord_procurement::market::MarketCommand as C;
use accord_procurement::policy::UpdatePolicy;

use super::ProcurementCommand as S;
use super::{command, reason, CommandSpec, Facts, ParseCommand, ParseContext, ProcurementCommand};
use crate::error::Field;
use crate::procurement::{change, urgency};
use crate::values::*;
use crate::BoundaryError;

/// The procurement service's commands, in the contract's order: the one list from which
/// both parsing and the command list (`$SRV.INFO`, docs) come.
pub const PROCUREMENT_COMMANDS: &[CommandSpec<ProcurementCommand>] = &[
    command::<pb::SubmitRequest>(),
    command::<pb::UpdatePriorityPolicy>(),
    command::<pb::OfferSupply>(),
    command::<pb::AllocateSupply>(),
    command::<pb::FulfilRequest>(),
    command::<pb::CancelRequest>(),
];

/// The market (item) a request or supply belongs to, as the service knows it.
fn market_of(
    facts: &dyn Facts,
    kind: &'static str,
    id: &AggregateId,
) -> Result<String, BoundaryError> {
    facts
        .market_of(id)
        .ok_or_else(|| BoundaryError::UnknownReference {
            kind,
            id: id.to_string(),
        })
}

impl ParseCommand for pb::SubmitRequest {
    type Command = ProcurementCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<ProcurementCommand, BoundaryError> {
        let item = bounded_text("item", self.item).field("item")?;
        Ok(S::Market(
            item.clone(),
            C::SubmitRequest {
                request_id: aggregate_id("request_id", &self.request_id)?,
                party: party("requesting_party", &self.requesting_party)?,
                item,
                item_category: bounded_text("item_category", self.item_category)
                    .field("item_category")?,
                quantity: quantity("quantity", &self.quantity)?,
                need_by: date("need_by", &self.need_by)?,
                urgency: urgency(self.urgency)?,
            },
        ))
    }
}

impl ParseCommand for pb::UpdatePriorityPolicy {
    type Command = ProcurementCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<ProcurementCommand, BoundaryError> {
        Ok(S::Policy(UpdatePolicy {
            commitment_id: aggregate_id("commitment_id", &self.commitment_id)?,
            obligor: party("obligor", &self.obligor)?,
            beneficiary: party("beneficiary", &self.beneficiary)?,
            item_categories: self.item_categories,
            change: change(self.change)?,
        }))
    }
}

impl ParseCommand for pb::OfferSupply {
    type Command = ProcurementCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<ProcurementCommand, BoundaryError> {
        let item = bounded_text("item", self.item).field("item")?;
        Ok(S::Market(
            item.clone(),
            C::OfferSupply {
                supply_id: aggregate_id("supply_id", &self.supply_id)?,
                controlled_by: match &self.controlled_by {
                    Some(_) => party("controlled_by", &self.controlled_by)?,
                    None => party("supplier", &self.supplier)?,
                },
                supplier: party("supplier", &self.supplier)?,
                item,
                item_category: bounded_text("item_category", self.item_category)
                    .field("item_category")?,
                quantity: quantity("quantity", &self.quantity)?,
                available_from: optional_date("available_from", &self.available_from)?,
                project_id: optional_id("project_id", &self.project_id)?,
            },
        ))
    }
}

impl ParseCommand for pb::AllocateSupply {
    type Command = ProcurementCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<ProcurementCommand, BoundaryError> {
        let supply_id = aggregate_id("supply_id", &self.supply_id)?;
        Ok(S::Market(
            market_of(cx.facts, "supply", &supply_id)?,
            C::Allocate {
                supply_id,
                policy: cx.facts.policy(),
            },
        ))
    }
}

impl ParseCommand for pb::FulfilRequest {
    type Command = ProcurementCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<ProcurementCommand, BoundaryError> {
        let request_id = aggregate_id("request_id", &self.request_id)?;
        Ok(S::Market(
            market_of(cx.facts, "request", &request_id)?,
            C::Fulfil {
                request_id,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::CancelRequest {
    type Command = ProcurementCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<ProcurementCommand, BoundaryError> {
        let request_id = aggregate_id("request_id", &self.request_id)?;
        Ok(S::Market(
            market_of(cx.facts, "request", &request_id)?,
            C::Cancel {
                request_id,
                reason: reason(&self.reason)?,
            },
        ))
    }
}
