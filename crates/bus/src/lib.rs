//! Accord's message bus: one interface ([`Bus`]) with two implementations — NATS
//! (requests through the Services API, events on JetStream streams, durable
//! consumers) and an embedded in-process bus for single-process runs — plus the relay
//! that publishes each service's log to its stream, exactly once in effect and in
//! log order, and the typed client for Accord's request/reply contract.

mod bus;
mod client;
mod embedded;
mod message;
mod micro;
mod nats;
mod relay;
pub mod signing;
mod subject;

pub use bus::Bus;
pub use client::{decode_reply, AccordClient, ClientError, CommandOptions};
pub use embedded::EmbeddedBus;
pub use message::{
    headers, AckDecision, BusError, ConsumerSpec, Delivery, EndpointSpec, EventMessage, Headers,
    Incoming, Message, Replier, Served, ServiceSpec, StoredMessage, StreamSpec,
    EMBEDDED_MAX_PAYLOAD, JSON,
};
pub use nats::{redact, NatsBus};
pub use relay::{
    event_message, events_already_on_the_stream, run_relay, stream_behind_cursor, RelayConfig,
    DEFAULT_RELAY_LINGER, MAX_TAIL_CHECK, RELAY_CURSOR,
};
pub use subject::{
    checkpoint_stream_name, checkpoint_subject, command_subject, dead_letter_stream_name,
    dead_letter_subject, event_subject, header_value, query_subject, stream_name, subject_matches,
    token, witness_subject,
};
