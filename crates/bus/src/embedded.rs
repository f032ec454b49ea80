//! The embedded bus: request/reply, streams and durable consumers inside one
//! process, for `accord demo` and single-process runs without NATS.
//!
//! It keeps everything in memory: streams and consumer positions are gone when the
//! process ends. That is safe for Accord because the logs are the source of truth:
//! on the next start the relay publishes each log again and the reactions run again,
//! changing nothing, since their command ids derive from the event ids.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify};

use crate::message::{
    AckDecision, BusError, ConsumerSpec, Delivery, Incoming, Message, Replier, Served, ServiceSpec,
    StoredMessage, StreamSpec,
};
use crate::subject::subject_matches;

/// Requests waiting for a service before it is dropped from the routing table.
const REQUEST_QUEUE: usize = 1024;

#[derive(Debug, Clone, Default)]
pub struct EmbeddedBus {
    inner: Arc<Mutex<Inner>>,
    /// Woken whenever a message is stored.
    stored: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Inner {
    endpoints: Vec<Route>,
    streams: BTreeMap<String, Stream>,
}

#[derive(Debug)]
struct Route {
    subject: String,
    endpoint: String,
    requests: mpsc::Sender<Incoming>,
}

#[derive(Debug, Default)]
struct Stream {
    subjects: Vec<String>,
    messages: Vec<Message>,
    ids: HashSet<String>,
    /// Durable consumers: the index of the next message to look at.
    consumers: BTreeMap<String, usize>,
}

impl EmbeddedBus {
    pub fn new() -> EmbeddedBus {
        EmbeddedBus::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) async fn request(
        &self,
        request: Message,
        timeout: Duration,
    ) -> Result<Message, BusError> {
        let subject = request.subject.clone();
        let route = {
            let mut inner = self.lock();
            inner.endpoints.retain(|r| !r.requests.is_closed());
            inner
                .endpoints
                .iter()
                .find(|r| subject_matches(&r.subject, &subject))
                .map(|r| (r.endpoint.clone(), r.requests.clone()))
        };
        let Some((endpoint, requests)) = route else {
            return Err(BusError::NoResponders { subject });
        };
        let (reply, replied) = Replier::channel();
        let incoming = Incoming {
            endpoint,
            message: request,
            reply,
        };
        if requests.send(incoming).await.is_err() {
            return Err(BusError::NoResponders { subject });
        }
        match tokio::time::timeout(timeout, replied).await {
            Ok(Ok(reply)) => Ok(reply),
            // The service dropped the request without answering: as on NATS, the
            // client sees no reply.
            Ok(Err(_)) | Err(_) => Err(BusError::Timeout {
                subject,
                after: timeout,
            }),
        }
    }

    pub(crate) fn serve(&self, spec: ServiceSpec) -> Result<Served, BusError> {
        let (sender, requests) = mpsc::channel(REQUEST_QUEUE);
        let (stop, stopped) = oneshot::channel::<()>();
        {
            let mut inner = self.lock();
            for endpoint in &spec.endpoints {
                inner.endpoints.push(Route {
                    subject: endpoint.subject.clone(),
                    endpoint: endpoint.name.clone(),
                    requests: sender.clone(),
                });
            }
        }
        // Serving ends when stopped: the routes go, so requests find no responders.
        let bus = self.clone();
        tokio::spawn(async move {
            let _ = stopped.await;
            bus.lock()
                .endpoints
                .retain(|r| !r.requests.same_channel(&sender));
        });
        Ok(Served {
            requests,
            stop: Some(stop),
        })
    }

    pub(crate) fn ensure_stream(&self, spec: &StreamSpec) -> Result<(), BusError> {
        let mut inner = self.lock();
        let stream = inner.streams.entry(spec.name.clone()).or_default();
        if stream.subjects.is_empty() {
            stream.subjects = spec.subjects.clone();
        } else if stream.subjects != spec.subjects {
            return Err(BusError::JetStream(format!(
                "stream {} exists with subjects {:?}",
                spec.name, stream.subjects
            )));
        }
        Ok(())
    }

    pub(crate) fn publish_batch(&self, messages: Vec<Message>) -> Result<(), BusError> {
        let mut inner = self.lock();
        for message in messages {
            let stream = inner
                .streams
                .values_mut()
                .find(|s| {
                    s.subjects
                        .iter()
                        .any(|p| subject_matches(p, &message.subject))
                })
                .ok_or_else(|| {
                    BusError::JetStream(format!("no stream for subject {}", message.subject))
                })?;
            if let Some(id) = message.header("Nats-Msg-Id") {
                if !stream.ids.insert(id.to_owned()) {
                    continue;
                }
            }
            stream.messages.push(message);
        }
        drop(inner);
        self.stored.notify_waiters();
        Ok(())
    }

    pub(crate) fn consume(&self, spec: ConsumerSpec) -> Result<mpsc::Receiver<Delivery>, BusError> {
        {
            let mut inner = self.lock();
            let stream = inner
                .streams
                .get_mut(&spec.stream)
                .ok_or_else(|| BusError::JetStream(format!("no stream {}", spec.stream)))?;
            let position = stream.consumers.entry(spec.durable.clone()).or_insert(0);
            if spec.from_start {
                *position = 0;
            }
        }
        let (deliveries, receiver) = mpsc::channel(1);
        tokio::spawn(self.clone().deliver(spec, deliveries));
        Ok(receiver)
    }

    /// The next message at or after the consumer's position that passes its filter.
    /// Messages it passes over are done with: the position moves past them.
    fn next_for(&self, spec: &ConsumerSpec) -> Option<(usize, Message)> {
        let mut inner = self.lock();
        let stream = inner.streams.get_mut(&spec.stream)?;
        let from = *stream.consumers.get(&spec.durable)?;
        let next = stream
            .messages
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, m)| subject_matches(&spec.filter_subject, &m.subject))
            .map(|(index, m)| (index, m.clone()));
        let scanned = next.as_ref().map_or(stream.messages.len(), |(i, _)| *i);
        stream.consumers.insert(spec.durable.clone(), scanned);
        next
    }

    fn advance(&self, spec: &ConsumerSpec, to: usize) {
        if let Some(stream) = self.lock().streams.get_mut(&spec.stream) {
            stream.consumers.insert(spec.durable.clone(), to);
        }
    }

    async fn deliver(self, spec: ConsumerSpec, deliveries: mpsc::Sender<Delivery>) {
        let mut attempt = 0;
        loop {
            // Register for the wake-up before looking, so a store in between is not missed.
            let stored = self.stored.notified();
            let Some((index, message)) = self.next_for(&spec) else {
                tokio::select! {
                    _ = stored => continue,
                    _ = deliveries.closed() => return,
                }
            };
            attempt += 1;
            let (decide, decided) = oneshot::channel();
            let delivery = Delivery {
                message,
                attempt,
                decide,
            };
            if deliveries.send(delivery).await.is_err() {
                return;
            }
            match decided.await {
                Ok(AckDecision::Ack | AckDecision::Term) => {
                    self.advance(&spec, index + 1);
                    attempt = 0;
                }
                Ok(AckDecision::Retry(delay)) => tokio::time::sleep(delay).await,
                // The consumer went away undecided: the message stays for the next one.
                Err(_) => return,
            }
        }
    }

    pub(crate) fn consumer_pending(&self, stream: &str, durable: &str) -> Result<u64, BusError> {
        let inner = self.lock();
        let stream = inner
            .streams
            .get(stream)
            .ok_or_else(|| BusError::JetStream(format!("no stream {stream}")))?;
        let from = *stream
            .consumers
            .get(durable)
            .ok_or_else(|| BusError::JetStream(format!("no consumer {durable}")))?;
        Ok(stream.messages.len().saturating_sub(from) as u64)
    }

    pub(crate) fn stream_tail(
        &self,
        stream: &str,
        count: u64,
    ) -> Result<Vec<StoredMessage>, BusError> {
        let inner = self.lock();
        let messages = &stored(&inner, stream)?.messages;
        let skip = messages
            .len()
            .saturating_sub(usize::try_from(count).unwrap_or(usize::MAX));
        Ok((skip..messages.len())
            .map(|index| stored_message(messages, index))
            .collect())
    }

    pub(crate) fn stream_message(
        &self,
        stream: &str,
        sequence: u64,
    ) -> Result<Option<StoredMessage>, BusError> {
        let inner = self.lock();
        let messages = &stored(&inner, stream)?.messages;
        let index = usize::try_from(sequence)
            .unwrap_or(usize::MAX)
            .checked_sub(1);
        Ok(index
            .filter(|&index| index < messages.len())
            .map(|index| stored_message(messages, index)))
    }
}

/// The stream `name`, for reading what it stores.
fn stored<'a>(inner: &'a Inner, name: &str) -> Result<&'a Stream, BusError> {
    inner
        .streams
        .get(name)
        .ok_or_else(|| BusError::NoStream(name.to_owned()))
}

/// The message at `index`, as stored at sequence `index + 1`. The embedded bus keeps
/// no store times.
fn stored_message(messages: &[Message], index: usize) -> StoredMessage {
    StoredMessage {
        sequence: index as u64 + 1,
        stored_at: String::new(),
        message: messages[index].clone(),
    }
}
