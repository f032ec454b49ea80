//! Accord's message bus: one interface ([`Bus`]) with two implementations — NATS
//! (requests through the Services API, events on JetStream streams, durable
//! consumers) and an embedded in-process bus for single-process runs — plus the relay
//! that publishes each service's log to its stream, exactly once in effect and in
//! log order, and the typed client for Accord's request/reply contract.

mod bus;
mod client;
mod embedded;
mod nats;
mod relay;
mod subject;

pub use bus::{
    AckDecision, Bus, BusError, ConsumerSpec, Delivery, EndpointSpec, Headers, Incoming, Message,
    Replier, Served, ServiceSpec, StoredMessage, StreamSpec, EMBEDDED_MAX_PAYLOAD,
};
pub use client::{decode_reply, headers, AccordClient, ClientError, CommandOptions, JSON};
pub use embedded::EmbeddedBus;
pub use nats::{redact, NatsBus};
pub use relay::{
    event_message, events_already_on_the_stream, run_relay, stream_behind_cursor, EventMessage,
    RelayConfig, MAX_TAIL_CHECK, RELAY_CURSOR,
};
pub use subject::{
    command_subject, dead_letter_stream_name, dead_letter_subject, event_subject, header_value,
    query_subject, stream_name, subject_matches, token,
};
