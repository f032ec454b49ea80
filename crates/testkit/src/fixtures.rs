//! Values for tests, from literals: each panics on a literal that is not a valid
//! value, which in a test is the bug to see.

use accord_kernel::{
    ActorId, AggregateId, Currency, Date, EventHash, Money, PartyId, RecordedEvent, StreamId,
    Timestamp,
};

/// An aggregate id.
pub fn id(text: impl Into<String>) -> AggregateId {
    AggregateId::new(text).unwrap_or_else(|e| panic!("test id: {e}"))
}

/// A party, e.g. `party("UA")`.
pub fn party(code: &str) -> PartyId {
    PartyId::new(code).unwrap_or_else(|e| panic!("test party {code:?}: {e}"))
}

/// An actor, e.g. `actor("ua-umerov")`.
pub fn actor(text: &str) -> ActorId {
    ActorId::new(text).unwrap_or_else(|e| panic!("test actor {text:?}: {e}"))
}

/// A calendar date.
pub fn date(year: i32, month: i32, day: i32) -> Date {
    Date::new(year, month, day).unwrap_or_else(|e| panic!("test date: {e}"))
}

/// An amount in euro cents.
pub fn eur(minor: i64) -> Money {
    let euro = Currency::new("EUR").unwrap_or_else(|e| panic!("EUR: {e}"));
    Money::new(minor, euro).unwrap_or_else(|e| panic!("test money: {e}"))
}

/// A recorded event with every field at its zero value (stream `actor/x`, version
/// and position 1), for tests that set the fields they are about.
pub fn recorded_event() -> RecordedEvent {
    RecordedEvent {
        event_id: uuid::Uuid::nil(),
        stream: StreamId::new("actor", "x").unwrap_or_else(|e| panic!("test stream: {e}")),
        version: 1,
        position: 1,
        event_type: String::new(),
        schema_version: 1,
        payload: Vec::new(),
        occurred_at: Timestamp::UNIX_EPOCH,
        recorded_at: Timestamp::UNIX_EPOCH,
        actor: String::new(),
        command_id: uuid::Uuid::nil(),
        correlation_id: uuid::Uuid::nil(),
        causation_id: None,
        signature: None,
        prev_hash: EventHash::GENESIS,
        hash: EventHash::GENESIS,
        command_digest: None,
    }
}
