//! The bus's vocabulary, shared by the bus, its two implementations, the relay and
//! the client: messages and their headers, what is served and streamed, and the
//! errors. It imports nothing else of the crate but subject naming, so the bus files
//! depend on it and never on each other in a circle.

use std::collections::BTreeMap;
use std::time::Duration;

use accord_kernel::RecordedEvent;
use async_nats::HeaderMap;
use tokio::sync::{mpsc, oneshot};

use crate::subject::{event_subject, header_value};

/// The header naming an event's position in its log.
pub(crate) const POSITION_HEADER: &str = "Accord-Position";

/// Request header names.
pub mod headers {
    pub const CONTENT_TYPE: &str = "Content-Type";
    pub const ACTOR: &str = "Accord-Actor";
    pub const COMMAND_ID: &str = "Accord-Command-Id";
    pub const CORRELATION_ID: &str = "Accord-Correlation-Id";
    pub const CAUSATION_ID: &str = "Accord-Causation-Id";
    pub const OCCURRED_AT: &str = "Accord-Occurred-At";
    pub const EXPECTED_VERSION: &str = "Accord-Expected-Version";
    /// The actor's Ed25519 signature over the command's statement (proto/SIGNING.md).
    pub const SIGNATURE: &str = "Accord-Signature";
    /// JetStream's message id: a second message with the same id is dropped.
    pub const MSG_ID: &str = "Nats-Msg-Id";
    /// On a dead letter: the subject its command was sent to.
    pub const TARGET: &str = "Accord-Target";
    /// On a dead letter: the subject the message it keeps was delivered on.
    pub const ORIGINAL_SUBJECT: &str = "Accord-Original-Subject";
    /// On a dead letter: why it is one, as an `ErrorReply`'s code, reason and message.
    pub const ERROR_CODE: &str = "Accord-Error-Code";
    pub const ERROR_REASON: &str = "Accord-Error-Reason";
    pub const ERROR_MESSAGE: &str = "Accord-Error-Message";
    /// On an error reply (the NATS Services API convention): a one-line description
    /// and a numeric, HTTP-like status; `$SRV.STATS` counts replies carrying them.
    pub const SERVICE_ERROR: &str = "Nats-Service-Error";
    pub const SERVICE_ERROR_CODE: &str = "Nats-Service-Error-Code";
}

/// The content type of JSON bodies (the proto3 JSON mapping).
pub const JSON: &str = "application/json";

/// Message headers; one value per name.
pub type Headers = BTreeMap<String, String>;

/// A message on the bus: a request, a reply or a stored event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

impl Message {
    pub fn new(subject: impl Into<String>, payload: Vec<u8>) -> Message {
        Message {
            subject: subject.into(),
            headers: Headers::new(),
            payload,
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Message {
        self.headers.insert(name.to_owned(), value.into());
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// A request a served endpoint received; answer it through `reply`.
#[derive(Debug)]
pub struct Incoming {
    /// The endpoint's name, as given in its [`EndpointSpec`].
    pub endpoint: String,
    pub message: Message,
    pub reply: Replier,
}

/// Where the answer to one request goes. On NATS the handler publishes it itself, so
/// an answer takes no hand-off to another task on its way out.
#[derive(Debug)]
pub struct Replier(ReplyTo);

#[derive(Debug)]
enum ReplyTo {
    Channel(oneshot::Sender<Message>),
    Nats(Box<NatsReply>),
}

/// Where a request that came over NATS is answered, and what counts the answer.
pub(crate) struct NatsReply {
    pub(crate) client: async_nats::Client,
    pub(crate) subject: async_nats::Subject,
    /// Called with the answer's headers once it is sent (the `$SRV.STATS` counters).
    pub(crate) answered: Box<dyn FnOnce(&Headers) + Send>,
}

impl std::fmt::Debug for NatsReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsReply")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Replier {
    /// A replier handing the answer to whoever holds the receiving end.
    pub fn channel() -> (Replier, oneshot::Receiver<Message>) {
        let (sender, receiver) = oneshot::channel();
        (Replier(ReplyTo::Channel(sender)), receiver)
    }

    pub(crate) fn nats(reply: NatsReply) -> Replier {
        Replier(ReplyTo::Nats(Box::new(reply)))
    }

    /// Sends the answer. An error means it could not be sent: the requester is gone
    /// or the bus is down, and the requester sees a timeout, as for no answer.
    pub async fn send(self, answer: Message) -> Result<(), BusError> {
        match self.0 {
            ReplyTo::Channel(sender) => sender
                .send(answer)
                .map_err(|_| BusError::Unavailable("the requester is gone".into())),
            ReplyTo::Nats(reply) => {
                let NatsReply {
                    client,
                    subject,
                    answered,
                } = *reply;
                let sent = if answer.headers.is_empty() {
                    client.publish(subject, answer.payload.into()).await
                } else {
                    client
                        .publish_with_headers(
                            subject,
                            header_map(&answer.headers),
                            answer.payload.into(),
                        )
                        .await
                };
                answered(&answer.headers);
                sent.map_err(|e| BusError::Unavailable(format!("reply not sent: {e}")))
            }
        }
    }
}

/// One endpoint of a served service.
#[derive(Debug, Clone)]
pub struct EndpointSpec {
    pub name: String,
    /// The subject, possibly with wildcards (`accord.agreements.cmd.*`).
    pub subject: String,
    pub metadata: BTreeMap<String, String>,
}

/// A service to serve, discoverable by name (on NATS through `$SRV.*`).
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    pub version: String,
    pub description: String,
    pub endpoints: Vec<EndpointSpec>,
}

/// A durable stream of events.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    pub name: String,
    pub subjects: Vec<String>,
    pub replicas: usize,
    /// How long message ids (`Nats-Msg-Id`) are remembered to drop republished messages.
    pub duplicate_window: Duration,
    /// Most bytes the stream keeps; -1 for no limit. When full, JetStream refuses new
    /// events (the relay waits, its lag shows) rather than dropping old ones: the log
    /// stays the source of truth and no consumer silently misses an event.
    pub max_bytes: i64,
    /// How long events are kept; zero for ever.
    pub max_age: Duration,
}

impl StreamSpec {
    /// A stream on `subjects` with Accord's defaults: one replica, a two-minute
    /// duplicate window, no size or age limit.
    pub fn new(name: impl Into<String>, subjects: Vec<String>) -> StreamSpec {
        StreamSpec {
            name: name.into(),
            subjects,
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            max_bytes: -1,
            max_age: Duration::ZERO,
        }
    }
}

/// What a consumer decided about one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckDecision {
    /// Done: deliver the next message.
    Ack,
    /// Not now: deliver this message again after the delay.
    Retry(Duration),
    /// Never: skip this message for good.
    Term,
}

/// A stored message delivered to a durable consumer; every delivery must be decided.
/// Deliveries come in stream order, one at a time: the next comes after a decision.
#[derive(Debug)]
pub struct Delivery {
    pub message: Message,
    /// How often this message was delivered, this delivery included.
    pub attempt: u64,
    pub decide: oneshot::Sender<AckDecision>,
}

/// A durable consumer of one stream, filtered by subject.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub stream: String,
    pub durable: String,
    pub filter_subject: String,
    /// How long JetStream waits for a decision before delivering a message again. It
    /// also bounds how long a message stays stuck after a consumer went away while a
    /// fetch of its was outstanding (the message went to the old fetch).
    pub ack_wait: Duration,
    /// Deliver from the stream's first message again, whatever the consumer had
    /// acknowledged before: for a reader that keeps what it reads in memory only.
    pub from_start: bool,
}

impl ConsumerSpec {
    /// A consumer with the default 30-second ack wait.
    pub fn new(
        stream: impl Into<String>,
        durable: impl Into<String>,
        filter_subject: impl Into<String>,
    ) -> ConsumerSpec {
        ConsumerSpec {
            stream: stream.into(),
            durable: durable.into(),
            filter_subject: filter_subject.into(),
            ack_wait: Duration::from_secs(30),
            from_start: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Nothing serves the subject: the service is not running (or the name is wrong).
    #[error("no service answers on {subject}: is it running?")]
    NoResponders { subject: String },
    /// A service took the request but did not answer in time.
    #[error("no reply on {subject} within {after:?}")]
    Timeout { subject: String, after: Duration },
    /// The bus cannot be reached now; retrying later may succeed.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// JetStream refused or failed an operation on a stream or consumer.
    #[error("jetstream: {0}")]
    JetStream(String),
    /// The stream read from does not exist (yet).
    #[error("no stream {0}")]
    NoStream(String),
    /// A request or reply body did not decode.
    #[error("undecodable reply on {subject}: {reason}")]
    Decode { subject: String, reason: String },
    /// The service's stream holds events past the end of its log: the log lost
    /// events that were acknowledged and published. The service must not append at
    /// positions already given.
    #[error(
        "stream {stream} holds events up to position {stream_position}, but the log ends at \
         {log_position}: the log lost events; restore it from the stream with `accord restore` (see README, \"recovery\")"
    )]
    StreamAhead {
        stream: String,
        stream_position: u64,
        log_position: u64,
    },
    /// The stream's event at a position is not the log's event there: one of the two
    /// was rewritten or belongs to another log.
    #[error(
        "stream {stream} holds event {stream_event} at position {position}, but the log holds \
         {log_event} there: the stream and the log diverge"
    )]
    StreamDiverged {
        stream: String,
        position: u64,
        stream_event: String,
        log_event: String,
    },
    #[error(transparent)]
    Log(#[from] accord_log::LogError),
}

impl BusError {
    /// True when trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BusError::NoResponders { .. }
                | BusError::Timeout { .. }
                | BusError::Unavailable(_)
                | BusError::JetStream(_)
        )
    }
}

/// [`Bus::max_payload`] of the embedded bus.
pub const EMBEDDED_MAX_PAYLOAD: usize = 1024 * 1024;

/// A message as a stream stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its sequence number on the stream, from 1.
    pub sequence: u64,
    /// When the stream stored it (RFC 3339); empty on the embedded bus.
    pub stored_at: String,
    pub message: Message,
}

/// A served service: its requests, and the handle that stops serving.
#[derive(Debug)]
pub struct Served {
    pub requests: mpsc::Receiver<Incoming>,
    pub(crate) stop: Option<oneshot::Sender<()>>,
}

impl Served {
    /// Stops taking requests; those already received can still be answered.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An event as the relay publishes it, with header names fixed by the contract, so
/// the NATS bus builds its headers without copying names or values again (the
/// relay's largest cost per event after JetStream itself; see BENCHMARKS.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    pub subject: String,
    pub headers: Vec<(&'static str, String)>,
    /// The stored `accord.v1.EventEnvelope` bytes.
    pub payload: Vec<u8>,
}

impl EventMessage {
    pub fn new(service: &str, event: &RecordedEvent, envelope: Vec<u8>) -> EventMessage {
        let mut headers = Vec::with_capacity(7);
        headers.push(("Nats-Msg-Id", event.event_id.to_string()));
        headers.push(("Accord-Event-Type", event.event_type.clone()));
        headers.push(("Accord-Stream", header_value(&event.stream.to_string())));
        headers.push(("Accord-Version", event.version.to_string()));
        headers.push((POSITION_HEADER, event.position.to_string()));
        headers.push(("Accord-Correlation-Id", event.correlation_id.to_string()));
        if let Some(causation) = event.causation_id {
            headers.push(("Accord-Causation-Id", causation.to_string()));
        }
        EventMessage {
            subject: event_subject(service, event),
            headers,
            payload: envelope,
        }
    }

    /// The same message in the bus's general form.
    pub fn into_message(self) -> Message {
        let mut message = Message::new(self.subject, self.payload);
        message.headers = self
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        message
    }
}

pub(crate) fn header_map(headers: &Headers) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(name.as_str(), value.as_str());
    }
    map
}
