//! The bus interface Accord's services use, with two implementations: NATS (core
//! request/reply through the Services API, JetStream for event streams and durable
//! consumers) and an embedded in-process bus for single-process runs without NATS.
//! Both pass the same conformance suite (`tests/conformance.rs`). The types they
//! share are in `message`.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::embedded::EmbeddedBus;
use crate::message::{
    headers, BusError, ConsumerSpec, Delivery, EventMessage, Message, Served, ServiceSpec,
    StoredMessage, StreamSpec, EMBEDDED_MAX_PAYLOAD,
};
use crate::nats::NatsBus;

/// The bus: NATS, or the embedded in-process bus.
#[derive(Debug, Clone)]
pub enum Bus {
    Nats(NatsBus),
    Embedded(EmbeddedBus),
}

impl Bus {
    /// Sends a request and waits up to `timeout` for the reply. Fails at once with
    /// [`BusError::Unavailable`] when not connected and [`BusError::NoResponders`] when
    /// nothing serves the subject.
    pub async fn request(&self, request: Message, timeout: Duration) -> Result<Message, BusError> {
        match self {
            Bus::Nats(bus) => bus.request(request, timeout).await,
            Bus::Embedded(bus) => bus.request(request, timeout).await,
        }
    }

    /// Starts serving a service; its requests arrive on the returned channel until the
    /// [`Served`] handle is stopped or dropped.
    pub async fn serve(&self, spec: ServiceSpec) -> Result<Served, BusError> {
        match self {
            Bus::Nats(bus) => bus.serve(spec).await,
            Bus::Embedded(bus) => bus.serve(spec),
        }
    }

    /// Creates the stream, or checks an existing one has these subjects and settings.
    pub async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        match self {
            Bus::Nats(bus) => bus.ensure_stream(spec).await,
            Bus::Embedded(bus) => bus.ensure_stream(spec),
        }
    }

    /// Stores messages on the streams their subjects belong to, in order; returns once
    /// every one is stored (or dropped as a duplicate of its `Nats-Msg-Id`).
    pub async fn publish_batch(&self, messages: Vec<Message>) -> Result<(), BusError> {
        match self {
            Bus::Nats(bus) => bus.publish_batch(messages).await,
            Bus::Embedded(bus) => bus.publish_batch(messages),
        }
    }

    /// [`Bus::publish_batch`] for the relay's events.
    pub async fn publish_events(&self, events: Vec<EventMessage>) -> Result<(), BusError> {
        match self {
            Bus::Nats(bus) => bus.publish_events(events).await,
            Bus::Embedded(bus) => {
                bus.publish_batch(events.into_iter().map(EventMessage::into_message).collect())
            }
        }
    }

    /// Starts (or resumes) a durable consumer; deliveries arrive on the channel.
    pub async fn consume(&self, spec: ConsumerSpec) -> Result<mpsc::Receiver<Delivery>, BusError> {
        match self {
            Bus::Nats(bus) => bus.consume(spec).await,
            Bus::Embedded(bus) => bus.consume(spec),
        }
    }

    /// The ids (`Nats-Msg-Id`) of every message stored on a stream, in stream order.
    pub async fn stream_message_ids(&self, stream: &str) -> Result<Vec<String>, BusError> {
        self.stream_last_ids(stream, u64::MAX).await
    }

    /// The ids (`Nats-Msg-Id`) of the last `count` messages stored on a stream (all
    /// of them when it holds fewer), in stream order.
    pub async fn stream_last_ids(&self, stream: &str, count: u64) -> Result<Vec<String>, BusError> {
        Ok(self
            .stream_tail(stream, count)
            .await?
            .into_iter()
            .map(|stored| {
                stored
                    .message
                    .header(headers::MSG_ID)
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect())
    }

    /// The message stored on a stream at `sequence`, if there is one.
    pub async fn stream_message(
        &self,
        stream: &str,
        sequence: u64,
    ) -> Result<Option<StoredMessage>, BusError> {
        match self {
            Bus::Nats(bus) => bus.stream_message(stream, sequence).await,
            Bus::Embedded(bus) => bus.stream_message(stream, sequence),
        }
    }

    /// The last `count` messages stored on a stream (all of them when it holds
    /// fewer), in stream order, with their sequence numbers.
    pub async fn stream_tail(
        &self,
        stream: &str,
        count: u64,
    ) -> Result<Vec<StoredMessage>, BusError> {
        match self {
            Bus::Nats(bus) => bus.stream_tail(stream, count).await,
            Bus::Embedded(bus) => bus.stream_tail(stream, count),
        }
    }

    /// How many messages a durable consumer has yet to finish (pending and unacknowledged).
    pub async fn consumer_pending(&self, stream: &str, durable: &str) -> Result<u64, BusError> {
        match self {
            Bus::Nats(bus) => bus.consumer_pending(stream, durable).await,
            Bus::Embedded(bus) => bus.consumer_pending(stream, durable),
        }
    }

    /// The largest message (headers and payload) the bus carries: the NATS
    /// server's `max_payload`; on the embedded bus NATS' default, 1 MiB, so a reply
    /// too large for NATS is too large in the demo as well.
    pub fn max_payload(&self) -> usize {
        match self {
            Bus::Nats(bus) => bus.max_payload(),
            Bus::Embedded(_) => EMBEDDED_MAX_PAYLOAD,
        }
    }

    /// Whether the bus is connected now.
    pub fn is_connected(&self) -> bool {
        match self {
            Bus::Nats(bus) => bus.is_connected(),
            Bus::Embedded(_) => true,
        }
    }
}
