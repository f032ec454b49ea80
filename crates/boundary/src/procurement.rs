//! Procurement service events: domain ⇄ protobuf.

use accord_contracts::v1 as pb;
use accord_procurement::market::{MarketEvent, Urgency};
use accord_procurement::policy::{PolicyUpdated, PriorityChange};
use accord_procurement::queue::ProcurementEvent;
use prost::Name;

use crate::values::*;
use crate::{decode, BoundaryError, EncodedEvent};

pub(crate) fn urgency(value: i32) -> Result<Urgency, BoundaryError> {
    use pb::Urgency as P;
    let field = "urgency";
    Ok(
        match P::try_from(value).map_err(|_| BoundaryError::UnknownEnum { field, value })? {
            P::Routine => Urgency::Routine,
            P::Priority => Urgency::Priority,
            P::Urgent => Urgency::Urgent,
            P::Critical => Urgency::Critical,
            P::Unspecified => return Err(BoundaryError::Missing { field }),
        },
    )
}

fn urgency_proto(urgency: Urgency) -> i32 {
    use pb::Urgency as P;
    (match urgency {
        Urgency::Routine => P::Routine,
        Urgency::Priority => P::Priority,
        Urgency::Urgent => P::Urgent,
        Urgency::Critical => P::Critical,
    }) as i32
}

pub(crate) fn change(value: i32) -> Result<PriorityChange, BoundaryError> {
    use pb::PriorityChange as P;
    let field = "change";
    Ok(
        match P::try_from(value).map_err(|_| BoundaryError::UnknownEnum { field, value })? {
            P::Granted => PriorityChange::Granted,
            P::Amended => PriorityChange::Amended,
            P::Withdrawn => PriorityChange::Withdrawn,
            P::Unspecified => return Err(BoundaryError::Missing { field }),
        },
    )
}

pub(crate) fn change_proto(change: PriorityChange) -> i32 {
    use pb::PriorityChange as P;
    (match change {
        PriorityChange::Granted => P::Granted,
        PriorityChange::Amended => P::Amended,
        PriorityChange::Withdrawn => P::Withdrawn,
    }) as i32
}

/// Encodes one event of the procurement service.
pub fn encode_procurement_event(event: &ProcurementEvent) -> EncodedEvent {
    use MarketEvent as M;
    match event {
        ProcurementEvent::Policy(p) => EncodedEvent::of(&pb::PriorityPolicyUpdated {
            policy_version: p.version,
            commitment_id: p.commitment_id.to_string(),
            obligor: party_ref(&p.obligor),
            beneficiary: party_ref(&p.beneficiary),
            item_categories: p.item_categories.clone(),
            change: change_proto(p.change),
        }),
        ProcurementEvent::Market(event) => match event {
            M::RequestSubmitted {
                request_id,
                party,
                item,
                item_category,
                quantity,
                need_by,
                urgency,
                sequence,
            } => EncodedEvent::of(&pb::RequestSubmitted {
                request_id: request_id.to_string(),
                requesting_party: party_ref(party),
                item: item.clone(),
                item_category: item_category.clone(),
                quantity: quantity_proto(quantity),
                need_by: date_proto(need_by),
                urgency: urgency_proto(*urgency),
                sequence: *sequence,
            }),
            M::SupplyOffered {
                supply_id,
                supplier,
                controlled_by,
                item,
                item_category,
                quantity,
                available_from,
                project_id,
            } => EncodedEvent::of(&pb::SupplyOffered {
                supply_id: supply_id.to_string(),
                supplier: party_ref(supplier),
                item: item.clone(),
                item_category: item_category.clone(),
                quantity: quantity_proto(quantity),
                available_from: available_from.as_ref().and_then(date_proto),
                project_id: project_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                controlled_by: party_ref(controlled_by),
            }),
            M::SupplyAllocated {
                supply_id,
                request_id,
                quantity,
                rank,
                policy_version,
                policy_tier,
                explanation,
            } => EncodedEvent::of(&pb::SupplyAllocated {
                supply_id: supply_id.to_string(),
                request_id: request_id.to_string(),
                quantity: quantity_proto(quantity),
                rank: *rank,
                policy_version: *policy_version,
                explanation: explanation.clone(),
                policy_tier: *policy_tier,
            }),
            M::RequestFulfilled { request_id, reason } => EncodedEvent::of(&pb::RequestFulfilled {
                request_id: request_id.to_string(),
                reason: reason.clone(),
            }),
            M::RequestCancelled { request_id, reason } => EncodedEvent::of(&pb::RequestCancelled {
                request_id: request_id.to_string(),
                reason: reason.clone(),
            }),
        },
    }
}

/// Decodes one stored event of the procurement service by its event type.
pub fn decode_procurement_event(
    event_type: &str,
    schema_version: u32,
    payload: &[u8],
) -> Result<ProcurementEvent, BoundaryError> {
    use MarketEvent as M;
    crate::evolution::readable(event_type, schema_version)?;
    macro_rules! is {
        ($message:ty) => {
            event_type == <$message>::full_name()
        };
    }
    let event = if is!(pb::PriorityPolicyUpdated) {
        let m: pb::PriorityPolicyUpdated = decode(payload)?;
        ProcurementEvent::Policy(PolicyUpdated {
            version: m.policy_version,
            commitment_id: aggregate_id("commitment_id", &m.commitment_id)?,
            obligor: party("obligor", &m.obligor)?,
            beneficiary: party("beneficiary", &m.beneficiary)?,
            item_categories: m.item_categories,
            change: change(m.change)?,
        })
    } else if is!(pb::RequestSubmitted) {
        let m: pb::RequestSubmitted = decode(payload)?;
        ProcurementEvent::Market(M::RequestSubmitted {
            request_id: aggregate_id("request_id", &m.request_id)?,
            party: party("requesting_party", &m.requesting_party)?,
            item: m.item,
            item_category: m.item_category,
            quantity: quantity("quantity", &m.quantity)?,
            need_by: date("need_by", &m.need_by)?,
            urgency: urgency(m.urgency)?,
            sequence: m.sequence,
        })
    } else if is!(pb::SupplyOffered) {
        let m = crate::evolution::supply_offered(decode(payload)?, schema_version);
        ProcurementEvent::Market(M::SupplyOffered {
            supply_id: aggregate_id("supply_id", &m.supply_id)?,
            supplier: party("supplier", &m.supplier)?,
            controlled_by: party("controlled_by", &m.controlled_by)?,
            item: m.item,
            item_category: m.item_category,
            quantity: quantity("quantity", &m.quantity)?,
            available_from: optional_date("available_from", &m.available_from)?,
            project_id: optional_id("project_id", &m.project_id)?,
        })
    } else if is!(pb::SupplyAllocated) {
        let m: pb::SupplyAllocated = decode(payload)?;
        ProcurementEvent::Market(M::SupplyAllocated {
            supply_id: aggregate_id("supply_id", &m.supply_id)?,
            request_id: aggregate_id("request_id", &m.request_id)?,
            quantity: quantity("quantity", &m.quantity)?,
            rank: m.rank,
            policy_version: m.policy_version,
            policy_tier: m.policy_tier,
            explanation: m.explanation,
        })
    } else if is!(pb::RequestFulfilled) {
        let m: pb::RequestFulfilled = decode(payload)?;
        ProcurementEvent::Market(M::RequestFulfilled {
            request_id: aggregate_id("request_id", &m.request_id)?,
            reason: m.reason,
        })
    } else if is!(pb::RequestCancelled) {
        let m: pb::RequestCancelled = decode(payload)?;
        ProcurementEvent::Market(M::RequestCancelled {
            request_id: aggregate_id("request_id", &m.request_id)?,
            reason: m.reason,
        })
    } else {
        return Err(BoundaryError::UnknownEventType(event_type.to_owned()));
    };
    Ok(event)
}
