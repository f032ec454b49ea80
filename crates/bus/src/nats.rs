//! The bus on NATS: requests through core NATS and the Services API, event streams
//! and durable consumers on JetStream.

use std::time::Duration;

use async_nats::connection::State;
use async_nats::header::{HeaderName, HeaderValue};
use async_nats::jetstream::{self, consumer, stream, AckKind};
use async_nats::{HeaderMap, RequestErrorKind};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use crate::message::{
    header_map, AckDecision, BusError, ConsumerSpec, Delivery, Headers, Incoming, Message, Replier,
    Served, ServiceSpec, StoredMessage, StreamSpec,
};
use crate::message::{EventMessage, NatsReply};
use crate::micro;

/// How long a consumer waits before fetching again after JetStream failed.
const CONSUMER_RETRY: Duration = Duration::from_millis(250);

/// Cheap to clone: the connection is shared.
#[derive(Debug, Clone)]
pub struct NatsBus {
    inner: std::sync::Arc<Connection>,
}

#[derive(Debug)]
struct Connection {
    client: async_nats::Client,
    js: jetstream::Context,
}

fn headers_of(map: Option<&HeaderMap>) -> Headers {
    let mut headers = Headers::new();
    if let Some(map) = map {
        for (name, values) in map.iter() {
            if let Some(value) = values.first() {
                headers.insert(name.to_string(), value.as_str().to_owned());
            }
        }
    }
    headers
}

/// Credentials given in a server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Credentials {
    UserPassword(String, String),
    Token(String),
}

/// The server URLs without credentials, and the first credentials found in them.
fn split_credentials(url: &str) -> (Vec<String>, Option<Credentials>) {
    let mut credentials = None;
    let servers = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|server| match (server.find("://"), server.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let given = &server[scheme + 3..at];
                if credentials.is_none() {
                    credentials = Some(match given.split_once(':') {
                        Some((user, password)) => {
                            Credentials::UserPassword(user.to_owned(), password.to_owned())
                        }
                        None => Credentials::Token(given.to_owned()),
                    });
                }
                format!("{}{}", &server[..scheme + 3], &server[at + 1..])
            }
            _ => server.to_owned(),
        })
        .collect();
    (servers, credentials)
}

/// The URL(s) with any password replaced by `***`, for logs and messages.
pub fn redact(url: &str) -> String {
    url.split(',')
        .map(|server| match (server.find("://"), server.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let credentials = &server[scheme + 3..at];
                match credentials.split_once(':') {
                    Some((user, _)) => {
                        format!("{}{user}:***{}", &server[..scheme + 3], &server[at..])
                    }
                    None => server.to_owned(),
                }
            }
            _ => server.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn jetstream_error(error: impl std::fmt::Display) -> BusError {
    BusError::JetStream(error.to_string())
}

impl NatsBus {
    /// Connects to NATS at `url`: one URL, or several separated by commas (the
    /// servers of a cluster), each possibly with `user:password@`. After the first
    /// connection the client reconnects by itself, for ever.
    pub async fn connect(url: &str, name: &str) -> Result<NatsBus, BusError> {
        let (servers, credentials) = split_credentials(url);
        // async-nats takes credentials from its options, not from server URLs.
        let options = match credentials {
            Some(Credentials::UserPassword(user, password)) => {
                async_nats::ConnectOptions::with_user_and_password(user, password)
            }
            Some(Credentials::Token(token)) => async_nats::ConnectOptions::with_token(token),
            None => async_nats::ConnectOptions::new(),
        };
        let client = options
            .name(name)
            // Back off on reconnects, but never beyond a second: after an outage the
            // relay and the reactions should resume promptly.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64 * 100).min(1000))
            })
            .connect(servers)
            .await
            .map_err(|e| {
                BusError::Unavailable(format!("cannot connect to {}: {e}", redact(url)))
            })?;
        Ok(NatsBus::from_client(client))
    }

    pub fn from_client(client: async_nats::Client) -> NatsBus {
        let js = jetstream::new(client.clone());
        NatsBus {
            inner: std::sync::Arc::new(Connection { client, js }),
        }
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.inner.client
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.inner.client.connection_state() == State::Connected
    }

    /// The largest message (headers and payload) the server takes, as it said.
    pub(crate) fn max_payload(&self) -> usize {
        self.inner.client.server_info().max_payload
    }

    pub(crate) async fn request(
        &self,
        request: Message,
        timeout: Duration,
    ) -> Result<Message, BusError> {
        let subject = request.subject.clone();
        // While disconnected the client would queue the request and time out; say so now.
        if !self.is_connected() {
            return Err(BusError::Unavailable(format!(
                "not connected to nats (request on {subject})"
            )));
        }
        let nats_request = async_nats::Request::new()
            .headers(header_map(&request.headers))
            .payload(request.payload.into())
            .timeout(Some(timeout));
        match self
            .inner
            .client
            .send_request(subject.clone(), nats_request)
            .await
        {
            Ok(reply) => Ok(Message {
                subject: reply.subject.to_string(),
                headers: headers_of(reply.headers.as_ref()),
                payload: reply.payload.to_vec(),
            }),
            Err(error) => Err(match error.kind() {
                RequestErrorKind::NoResponders => BusError::NoResponders { subject },
                RequestErrorKind::TimedOut => BusError::Timeout {
                    subject,
                    after: timeout,
                },
                _ => BusError::Unavailable(error.to_string()),
            }),
        }
    }

    pub(crate) async fn serve(&self, spec: ServiceSpec) -> Result<Served, BusError> {
        let client = &self.inner.client;
        let instance = micro::Instance::new(spec.clone());
        let mut endpoints = Vec::new();
        for (index, endpoint) in spec.endpoints.iter().enumerate() {
            let subscriber = client
                .queue_subscribe(endpoint.subject.clone(), micro::QUEUE_GROUP.into())
                .await
                .map_err(|e| {
                    BusError::Unavailable(format!("cannot add endpoint {}: {e}", endpoint.name))
                })?;
            endpoints.push(subscriber.map(move |request| (index, request)));
        }
        let discovery = micro::subscribe_discovery(client, &instance).await?;
        // Until the server has processed the subscriptions a request may still find
        // no responder. `flush` only empties the socket; a request to this very
        // instance's `$SRV.PING` is a round trip through the server, which handles
        // one connection's messages in order: once it is answered, the
        // subscriptions sent before it are in place.
        let answering = tokio::spawn(micro::answer_discovery(
            client.clone(),
            instance.clone(),
            discovery,
        ));
        client
            .request(
                format!("$SRV.PING.{}.{}", spec.name, instance.id),
                "".into(),
            )
            .await
            .map_err(|e| BusError::Unavailable(format!("cannot register endpoints: {e}")))?;
        let (sender, requests) = mpsc::channel(1024);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let client = client.clone();
        tokio::spawn(async move {
            let mut all = futures_util::stream::select_all(endpoints);
            loop {
                let next = tokio::select! {
                    next = all.next() => next,
                    _ = &mut stopped => break,
                };
                let Some((index, request)) = next else {
                    break;
                };
                let received = std::time::Instant::now();
                let Some(subject) = request.reply.clone() else {
                    continue;
                };
                let message = Message {
                    subject: request.subject.to_string(),
                    headers: headers_of(request.headers.as_ref()),
                    payload: request.payload.to_vec(),
                };
                let counters = instance.clone();
                let reply = Replier::nats(NatsReply {
                    client: client.clone(),
                    subject,
                    answered: Box::new(move |headers| counters.record(index, received, headers)),
                });
                let incoming = Incoming {
                    endpoint: spec.endpoints[index].name.clone(),
                    message,
                    reply,
                };
                if sender.send(incoming).await.is_err() {
                    break;
                }
            }
            // Dropping the subscribers unsubscribes the endpoints; discovery ends too.
            drop(all);
            answering.abort();
        });
        Ok(Served {
            requests,
            stop: Some(stop),
        })
    }

    pub(crate) async fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        let wanted = stream::Config {
            name: spec.name.clone(),
            subjects: spec.subjects.clone(),
            storage: stream::StorageType::File,
            duplicate_window: spec.duplicate_window,
            num_replicas: spec.replicas,
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::New,
            max_bytes: spec.max_bytes,
            max_messages: -1,
            max_age: spec.max_age,
            ..Default::default()
        };
        let stream = self
            .inner
            .js
            .get_or_create_stream(wanted.clone())
            .await
            .map_err(jetstream_error)?;
        let actual = &stream.cached_info().config;
        if actual.subjects != wanted.subjects || actual.storage != wanted.storage {
            return Err(BusError::JetStream(format!(
                "stream {} exists with subjects {:?} and storage {:?}",
                wanted.name, actual.subjects, actual.storage
            )));
        }
        Ok(())
    }

    pub(crate) async fn publish_batch(&self, messages: Vec<Message>) -> Result<(), BusError> {
        self.publish_acknowledged(messages.into_iter().map(|message| {
            let headers = header_map(&message.headers);
            (message.subject, headers, message.payload)
        }))
        .await
    }

    /// The relay's events, their headers built straight into NATS headers.
    pub(crate) async fn publish_events(&self, events: Vec<EventMessage>) -> Result<(), BusError> {
        self.publish_acknowledged(events.into_iter().map(|event| {
            let mut headers = HeaderMap::new();
            for (name, value) in event.headers {
                headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
            }
            (event.subject, headers, event.payload)
        }))
        .await
    }

    /// Publishes every message, then waits for all of JetStream's acknowledgements.
    async fn publish_acknowledged(
        &self,
        messages: impl Iterator<Item = (String, HeaderMap, Vec<u8>)>,
    ) -> Result<(), BusError> {
        let mut acks = Vec::with_capacity(messages.size_hint().0);
        for (subject, headers, payload) in messages {
            let ack = self
                .inner
                .js
                .publish_with_headers(subject, headers, payload.into())
                .await
                .map_err(jetstream_error)?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(jetstream_error)?;
        }
        Ok(())
    }

    pub(crate) async fn consume(
        &self,
        spec: ConsumerSpec,
    ) -> Result<mpsc::Receiver<Delivery>, BusError> {
        if spec.from_start {
            // A consumer left from before would resume where it stopped.
            if let Ok(stream) = self.inner.js.get_stream(&spec.stream).await {
                let _ = stream.delete_consumer(&spec.durable).await;
            }
        }
        // Created now, so a missing stream is reported to the caller.
        self.pull_consumer(&spec).await?;
        let (deliveries, receiver) = mpsc::channel(1);
        tokio::spawn(self.clone().deliver(spec, deliveries));
        Ok(receiver)
    }

    async fn pull_consumer(
        &self,
        spec: &ConsumerSpec,
    ) -> Result<consumer::Consumer<consumer::pull::Config>, BusError> {
        let stream = self
            .inner
            .js
            .get_stream(&spec.stream)
            .await
            .map_err(jetstream_error)?;
        stream
            .get_or_create_consumer(
                &spec.durable,
                consumer::pull::Config {
                    durable_name: Some(spec.durable.clone()),
                    filter_subject: spec.filter_subject.clone(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    deliver_policy: consumer::DeliverPolicy::All,
                    ack_wait: spec.ack_wait,
                    // One at a time, so deliveries come in stream order.
                    max_ack_pending: 1,
                    ..Default::default()
                },
            )
            .await
            .map_err(jetstream_error)
    }

    /// Delivers until the receiver goes away, re-attaching to the consumer whenever
    /// JetStream fails (an outage, a restart).
    async fn deliver(self, spec: ConsumerSpec, deliveries: mpsc::Sender<Delivery>) {
        while !deliveries.is_closed() {
            if let Err(error) = self.deliver_attached(&spec, &deliveries).await {
                tracing::debug!(consumer = %spec.durable, %error, "bus.consumer reattaching");
                tokio::select! {
                    _ = tokio::time::sleep(CONSUMER_RETRY) => {}
                    _ = deliveries.closed() => return,
                }
            }
        }
    }

    async fn deliver_attached(
        &self,
        spec: &ConsumerSpec,
        deliveries: &mpsc::Sender<Delivery>,
    ) -> Result<(), BusError> {
        let consumer = self.pull_consumer(spec).await?;
        let mut messages = consumer.messages().await.map_err(jetstream_error)?;
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                _ = deliveries.closed() => return Ok(()),
            };
            let Some(next) = next else {
                return Err(BusError::JetStream("consumer stream ended".into()));
            };
            let message = next.map_err(jetstream_error)?;
            let attempt = message
                .info()
                .map(|info| u64::try_from(info.delivered).unwrap_or(1))
                .unwrap_or(1);
            let (decide, decided) = oneshot::channel();
            let delivery = Delivery {
                message: Message {
                    subject: message.subject.to_string(),
                    headers: headers_of(message.headers.as_ref()),
                    payload: message.payload.to_vec(),
                },
                attempt,
                decide,
            };
            if deliveries.send(delivery).await.is_err() {
                return Ok(());
            }
            let kind = match decided.await {
                Ok(AckDecision::Ack) => AckKind::Ack,
                Ok(AckDecision::Term) => AckKind::Term,
                Ok(AckDecision::Retry(delay)) => AckKind::Nak(Some(delay)),
                // Undecided: JetStream delivers it again after the ack wait.
                Err(_) => return Ok(()),
            };
            // An ack lost in an outage means a redelivery, which consumers tolerate.
            message.ack_with(kind).await.map_err(jetstream_error)?;
        }
    }

    pub(crate) async fn consumer_pending(
        &self,
        stream: &str,
        durable: &str,
    ) -> Result<u64, BusError> {
        let stream = self
            .inner
            .js
            .get_stream(stream)
            .await
            .map_err(jetstream_error)?;
        let mut consumer: consumer::Consumer<consumer::pull::Config> = stream
            .get_consumer(durable)
            .await
            .map_err(jetstream_error)?;
        let info = consumer.info().await.map_err(jetstream_error)?;
        Ok(info.num_pending + info.num_ack_pending as u64)
    }

    /// Every message stored on stream `name`, in stream order, from its first up to
    /// the last one stored when the read starts, through an ordered consumer (one
    /// flow of messages, not a request per message); and that last sequence number.
    /// The stream's first sequence is where the read starts: a stream that lost its
    /// head to limits shows it in the first message's sequence.
    pub async fn read_stream(
        &self,
        name: &str,
    ) -> Result<(u64, mpsc::Receiver<Result<StoredMessage, BusError>>), BusError> {
        let mut stream = self.existing_stream(name).await?;
        let last = stream
            .info()
            .await
            .map_err(jetstream_error)?
            .state
            .last_sequence;
        let (sender, receiver) = mpsc::channel(1024);
        if last == 0 {
            return Ok((0, receiver));
        }
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                deliver_policy: consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(jetstream_error)?;
        let mut messages = consumer.messages().await.map_err(jetstream_error)?;
        tokio::spawn(async move {
            while let Some(next) = messages.next().await {
                let read = next.map_err(jetstream_error).and_then(|message| {
                    let info = message.info().map_err(jetstream_error)?;
                    let sequence = info.stream_sequence;
                    let stored_at = accord_kernel::Timestamp::from_system_time(
                        std::time::SystemTime::from(info.published),
                    )
                    .map(|at| at.to_string())
                    .unwrap_or_default();
                    Ok(StoredMessage {
                        sequence,
                        stored_at,
                        message: Message {
                            subject: message.subject.to_string(),
                            headers: headers_of(message.headers.as_ref()),
                            payload: message.payload.to_vec(),
                        },
                    })
                });
                let done = read.as_ref().map_or(true, |m| m.sequence >= last);
                if sender.send(read).await.is_err() || done {
                    break;
                }
            }
        });
        Ok((last, receiver))
    }

    /// The stream `name`; [`BusError::NoStream`] when there is none.
    async fn existing_stream(&self, name: &str) -> Result<jetstream::stream::Stream, BusError> {
        self.inner
            .js
            .get_stream(name)
            .await
            .map_err(|error| match error.kind() {
                jetstream::context::GetStreamErrorKind::JetStream(error)
                    if error.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                {
                    BusError::NoStream(name.to_owned())
                }
                _ => jetstream_error(error),
            })
    }

    pub(crate) async fn stream_tail(
        &self,
        name: &str,
        count: u64,
    ) -> Result<Vec<StoredMessage>, BusError> {
        let mut stream = self.existing_stream(name).await?;
        let state = stream.info().await.map_err(jetstream_error)?.state.clone();
        if state.messages == 0 || count == 0 {
            return Ok(Vec::new());
        }
        let first = state
            .first_sequence
            .max(state.last_sequence.saturating_sub(count - 1));
        let mut messages = Vec::new();
        for sequence in first..=state.last_sequence {
            let stored = stream
                .get_raw_message(sequence)
                .await
                .map_err(jetstream_error)?;
            messages.push(stored_message(sequence, stored));
        }
        Ok(messages)
    }

    pub(crate) async fn stream_message(
        &self,
        name: &str,
        sequence: u64,
    ) -> Result<Option<StoredMessage>, BusError> {
        let stream = self.existing_stream(name).await?;
        match stream.get_raw_message(sequence).await {
            Ok(stored) => Ok(Some(stored_message(sequence, stored))),
            Err(error)
                if error.kind() == jetstream::stream::RawMessageErrorKind::NoMessageFound =>
            {
                Ok(None)
            }
            Err(error) => Err(jetstream_error(error)),
        }
    }
}

fn stored_message(sequence: u64, stored: jetstream::message::StreamMessage) -> StoredMessage {
    StoredMessage {
        sequence,
        stored_at: accord_kernel::Timestamp::from_system_time(std::time::SystemTime::from(
            stored.time,
        ))
        .map(|at| at.to_string())
        .unwrap_or_default(),
        message: Message {
            subject: stored.subject.to_string(),
            headers: headers_of(Some(&stored.headers)),
            payload: stored.payload.to_vec(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_out_of_the_urls() {
        let (servers, credentials) = split_credentials("nats://u:p@h:1, nats://u:p@h2:2");
        assert_eq!(servers, ["nats://h:1", "nats://h2:2"]);
        assert_eq!(
            credentials,
            Some(Credentials::UserPassword("u".into(), "p".into()))
        );
        let (servers, credentials) = split_credentials("nats://h:1");
        assert_eq!(
            (servers, credentials),
            (vec!["nats://h:1".to_owned()], None)
        );
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("nats://a:secret@h:1,nats://h2:2,nats://token@h3:3"),
            "nats://a:***@h:1,nats://h2:2,nats://token@h3:3"
        );
    }
}
