//! Shared value types: ids, parties, money, quantities, dates, areas.

use accord_contracts::v1 as pb;
use accord_kernel::{
    ActorId, AggregateId, CapabilityArea, Currency, Date, DocumentRef, Money, PartyId, Period,
    Quantity,
};

use crate::error::{BoundaryError, Field};

pub(crate) fn aggregate_id(field: &'static str, value: &str) -> Result<AggregateId, BoundaryError> {
    AggregateId::new(value).field(field)
}

pub(crate) fn optional_id(
    field: &'static str,
    value: &str,
) -> Result<Option<AggregateId>, BoundaryError> {
    if value.is_empty() {
        return Ok(None);
    }
    aggregate_id(field, value).map(Some)
}

pub(crate) fn actor_id(field: &'static str, value: &str) -> Result<ActorId, BoundaryError> {
    ActorId::new(value).field(field)
}

pub(crate) fn party(
    field: &'static str,
    value: &Option<pb::PartyRef>,
) -> Result<PartyId, BoundaryError> {
    let value = value.as_ref().ok_or(BoundaryError::Missing { field })?;
    PartyId::new(value.id.clone()).field(field)
}

pub(crate) fn parties(
    field: &'static str,
    values: &[pb::PartyRef],
) -> Result<Vec<PartyId>, BoundaryError> {
    values
        .iter()
        .map(|p| PartyId::new(p.id.clone()).field(field))
        .collect()
}

pub(crate) fn party_ref(party: &PartyId) -> Option<pb::PartyRef> {
    Some(pb::PartyRef {
        id: party.to_string(),
    })
}

pub(crate) fn money(
    field: &'static str,
    value: &Option<pb::Money>,
) -> Result<Money, BoundaryError> {
    let value = value.as_ref().ok_or(BoundaryError::Missing { field })?;
    let currency = Currency::new(&value.currency).field(field)?;
    Money::new(value.minor_units, currency).field(field)
}

pub(crate) fn money_proto(money: &Money) -> Option<pb::Money> {
    Some(pb::Money {
        minor_units: money.minor_units,
        currency: money.currency.to_string(),
    })
}

pub(crate) fn quantity(
    field: &'static str,
    value: &Option<pb::Quantity>,
) -> Result<Quantity, BoundaryError> {
    let value = value.as_ref().ok_or(BoundaryError::Missing { field })?;
    Quantity::new(value.amount, value.unit.clone()).field(field)
}

pub(crate) fn optional_quantity(
    field: &'static str,
    value: &Option<pb::Quantity>,
) -> Result<Option<Quantity>, BoundaryError> {
    value.as_ref().map(|_| quantity(field, value)).transpose()
}

pub(crate) fn quantity_proto(quantity: &Quantity) -> Option<pb::Quantity> {
    Some(pb::Quantity {
        amount: quantity.amount,
        unit: quantity.unit.clone(),
    })
}

pub(crate) fn date(field: &'static str, value: &Option<pb::Date>) -> Result<Date, BoundaryError> {
    let value = value.as_ref().ok_or(BoundaryError::Missing { field })?;
    Date::new(value.year, value.month, value.day).field(field)
}

pub(crate) fn optional_date(
    field: &'static str,
    value: &Option<pb::Date>,
) -> Result<Option<Date>, BoundaryError> {
    value.as_ref().map(|_| date(field, value)).transpose()
}

pub(crate) fn date_proto(date: &Date) -> Option<pb::Date> {
    Some(pb::Date {
        year: date.year(),
        month: date.month(),
        day: date.day(),
    })
}

pub(crate) fn period(
    field: &'static str,
    value: &Option<pb::Period>,
) -> Result<Period, BoundaryError> {
    let value = value.as_ref().ok_or(BoundaryError::Missing { field })?;
    Period::new(date(field, &value.from)?, date(field, &value.to)?).field(field)
}

pub(crate) fn period_proto(period: &Period) -> Option<pb::Period> {
    Some(pb::Period {
        from: date_proto(&period.from),
        to: date_proto(&period.to),
    })
}

pub(crate) fn area(field: &'static str, value: i32) -> Result<CapabilityArea, BoundaryError> {
    use pb::CapabilityArea as P;
    Ok(
        match P::try_from(value).map_err(|_| BoundaryError::UnknownEnum { field, value })? {
            P::Uav => CapabilityArea::Uav,
            P::Ground => CapabilityArea::Ground,
            P::Maritime => CapabilityArea::Maritime,
            P::ElectronicWarfare => CapabilityArea::ElectronicWarfare,
            P::Ammunition => CapabilityArea::Ammunition,
            P::Explosives => CapabilityArea::Explosives,
            P::ResearchAndDevelopment => CapabilityArea::ResearchAndDevelopment,
            P::Other => CapabilityArea::Other,
            P::Unspecified => return Err(BoundaryError::Missing { field }),
        },
    )
}

pub(crate) fn area_proto(area: CapabilityArea) -> i32 {
    use pb::CapabilityArea as P;
    (match area {
        CapabilityArea::Uav => P::Uav,
        CapabilityArea::Ground => P::Ground,
        CapabilityArea::Maritime => P::Maritime,
        CapabilityArea::ElectronicWarfare => P::ElectronicWarfare,
        CapabilityArea::Ammunition => P::Ammunition,
        CapabilityArea::Explosives => P::Explosives,
        CapabilityArea::ResearchAndDevelopment => P::ResearchAndDevelopment,
        CapabilityArea::Other => P::Other,
    }) as i32
}

/// A command's or stored event's document references, each checked, and the list
/// checked as a whole (at most [`accord_kernel::MAX_DOCUMENTS`], none twice).
pub(crate) fn documents(values: &[pb::DocumentRef]) -> Result<Vec<DocumentRef>, BoundaryError> {
    let field = "documents";
    let documents = values
        .iter()
        .map(|d| DocumentRef::new(&d.title, &d.media_type, &d.sha256, &d.location).field(field))
        .collect::<Result<Vec<_>, _>>()?;
    accord_kernel::check_documents(&documents).field(field)?;
    Ok(documents)
}

/// Documents as the contract carries them.
pub fn documents_proto(documents: &[DocumentRef]) -> Vec<pb::DocumentRef> {
    documents
        .iter()
        .map(|d| pb::DocumentRef {
            title: d.title.clone(),
            media_type: d.media_type.clone(),
            sha256: d.sha256.to_hex(),
            location: d.location.clone().unwrap_or_default(),
        })
        .collect()
}
