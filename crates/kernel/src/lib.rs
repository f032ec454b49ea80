//! Accord's shared vocabulary, used by the domain crates and the adapters alike:
//! stream ids and versions, timestamps, hashes, the recorded-event envelope, the
//! `Decider` trait and the value types the domains share.
//!
//! No I/O, no clock, no async runtime: everything here is plain data and pure
//! functions, so domain crates can depend on it and stay pure.

mod decider;
mod document;
mod envelope;
pub mod pairs;
mod refusal;
pub mod signature;
mod stream;
mod time;
mod values;

pub use decider::Decider;
pub use document::{check_documents, DocumentHash, DocumentRef, MAX_DOCUMENTS};
pub use envelope::{EventHash, EventMeta, RecordedEvent};
pub use refusal::{Refusal, RefusalKind, WireName};
pub use stream::{ExpectedVersion, StreamId, StreamIdError, MAX_CATEGORY_LEN, MAX_ID_LEN};
pub use time::{Timestamp, TimestampError, TimestampParseError};
pub use uuid::Uuid;
pub use values::{
    bounded_text, ActorId, AggregateId, CapabilityArea, Currency, Date, Money, PartyId, Period,
    Quantity, ValueError,
};
