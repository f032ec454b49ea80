//! The relay: tails a service's log from its saved cursor and publishes every event
//! to the bus (JetStream on NATS), never inline with the command that produced it.
//!
//! * Stream `ACCORD_<SERVICE>` on `accord.<service>.evt.>`, file storage, a duplicate
//!   window, replicas configurable; created or checked at start.
//! * Subject `accord.<service>.evt.<category>.<id>.<EventType>` (id bytes outside
//!   `A-Za-z0-9_-` written as `%HH`, so any id is one subject token).
//! * Message = the stored `accord.v1.EventEnvelope` bytes; headers `Nats-Msg-Id` (the
//!   event id, so JetStream drops a republished event), and `Accord-Event-Type`,
//!   `Accord-Stream` (`category/id`, bytes outside printable ASCII and `%` written as
//!   `%HH`: NATS headers are ASCII), `Accord-Version`, `Accord-Position`,
//!   `Accord-Correlation-Id`, `Accord-Causation-Id`.
//! * The cursor is saved in the log's database after JetStream acknowledged the
//!   batch; after a crash or an outage the relay resumes from it. The cursor is not
//!   synced on its own: it reaches disk with the log's next group commit or sled's
//!   flush (every 500 ms), so after a `kill -9` it can be up to half a second behind
//!   the stream. Before publishing, the relay therefore reads the stream's last
//!   messages: when they are the events right after its cursor, in log order, it
//!   moves the cursor past them instead of publishing them again
//!   ([`events_already_on_the_stream`]). Whatever it does publish again (the stream's
//!   tail did not match, or more than [`MAX_TAIL_CHECK`] events were on it past the
//!   cursor) JetStream drops within the duplicate window; after that a consumer
//!   drops it by its event id (`Nats-Msg-Id`), as the reaction flows do through
//!   their command ids.

use std::time::Duration;

use accord_kernel::RecordedEvent;
use accord_log::{encode_envelope, Log};
use tokio::sync::watch;
use uuid::Uuid;

use crate::bus::Bus;
use crate::message::headers;
use crate::message::{BusError, EventMessage, Message, StreamSpec, POSITION_HEADER};
use crate::subject::stream_name;

/// The relay's cursor name in the log.
pub const RELAY_CURSOR: &str = "relay";

/// Most events past the cursor looked for on the stream when the relay (re)starts.
/// A `kill -9` leaves the cursor at most half a second of events behind.
pub const MAX_TAIL_CHECK: usize = 65_536;

/// The relay's default linger: 5 ms (as Kafka's producers linger by default). At one
/// command at a time, about one command in five then meets the relay's publishing,
/// not every one (BENCHMARKS §11).
pub const DEFAULT_RELAY_LINGER: Duration = Duration::from_millis(5);

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The service whose log this is, e.g. `agreements`.
    pub service: String,
    pub replicas: usize,
    /// How long JetStream remembers message ids to drop republished events.
    pub duplicate_window: Duration,
    /// Most events published before waiting for their acknowledgements.
    pub max_in_flight: usize,
    /// How long the relay waits after a new event before publishing what is ready
    /// (0: at once; default [`DEFAULT_RELAY_LINGER`]). The commands that made the
    /// events answer their senders in that time, so the relay's publishing (and
    /// nats-server's storing) does not compete with the answers for the CPU, and a
    /// burst goes out together. Events reach the bus that much later (BENCHMARKS §11).
    pub linger: Duration,
    /// Wait before retrying after the bus failed.
    pub retry_delay: Duration,
    /// Whether to resume from the cursor saved in the log (it is always saved). Off for
    /// the embedded bus, which keeps nothing across restarts: there the relay publishes
    /// the whole log again on each start.
    pub resume_from_cursor: bool,
}

impl RelayConfig {
    pub fn new(service: impl Into<String>) -> RelayConfig {
        RelayConfig {
            service: service.into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            max_in_flight: 256,
            linger: DEFAULT_RELAY_LINGER,
            retry_delay: Duration::from_millis(250),
            resume_from_cursor: true,
        }
    }

    pub fn stream_name(&self) -> String {
        stream_name(&self.service)
    }

    pub fn stream_spec(&self) -> StreamSpec {
        let mut spec = StreamSpec::new(
            self.stream_name(),
            vec![format!("accord.{}.evt.>", self.service)],
        );
        spec.replicas = self.replicas;
        spec.duplicate_window = self.duplicate_window;
        spec
    }
}

/// The message an event is published as.
pub fn event_message(service: &str, event: &RecordedEvent) -> Message {
    EventMessage::new(service, event, encode_envelope(event)).into_message()
}

/// Publishes the log to the bus until `shutdown` turns true, resuming from the saved
/// cursor and retrying through outages. Returns after saving the cursor of everything
/// acknowledged.
pub async fn run_relay(
    log: Log,
    bus: Bus,
    config: RelayConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    let mut published = if config.resume_from_cursor {
        log.cursor(RELAY_CURSOR)?
    } else {
        0
    };
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        match relay_from(&log, &bus, &config, &mut published, &mut shutdown).await {
            Ok(()) => return Ok(()),
            Err(
                error @ (BusError::Log(_)
                | BusError::StreamAhead { .. }
                | BusError::StreamDiverged { .. }),
            ) => {
                tracing::error!(service = %config.service, %error, "bus.relay stopped");
                return Err(error);
            }
            Err(error) => {
                tracing::warn!(service = %config.service, %error, "bus.relay retrying");
                tokio::select! {
                    _ = tokio::time::sleep(config.retry_delay) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

async fn relay_from(
    log: &Log,
    bus: &Bus,
    config: &RelayConfig,
    published: &mut u64,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), BusError> {
    bus.ensure_stream(&config.stream_spec()).await?;
    if config.resume_from_cursor {
        if let Some(behind) = stream_behind_cursor(log, bus, config, *published).await? {
            tracing::warn!(service = %config.service, cursor = *published, stream_position = behind, "bus.relay the stream is behind the log (a lost or new JetStream store): publishing again from there");
            *published = behind;
            log.save_cursor(RELAY_CURSOR, behind)?;
        }
        let on_the_stream = events_already_on_the_stream(log, bus, config, *published).await?;
        if on_the_stream > 0 {
            *published += on_the_stream;
            log.save_cursor(RELAY_CURSOR, *published)?;
            tracing::info!(service = %config.service, on_the_stream, cursor = *published, "bus.relay found events already published");
        }
    }
    let mut subscription = log.subscribe(*published + 1);
    loop {
        // Wait for one event (or shutdown), then take what is ready, up to the limit.
        let first = tokio::select! {
            event = subscription.next_stored() => event,
            _ = shutdown.changed() => return Ok(()),
        };
        let Some(first) = first else {
            return Ok(());
        };
        let mut batch = vec![first?];
        if !config.linger.is_zero() {
            // Shutdown does not cut the linger short: the batch is published and its
            // cursor saved either way.
            tokio::time::sleep(config.linger).await;
        }
        while batch.len() < config.max_in_flight {
            match subscription.try_next_stored() {
                Some(event) => batch.push(event?),
                None => break,
            }
        }
        let last = batch.last().map_or(*published, |(e, _)| e.position);
        let messages = batch
            .into_iter()
            .map(|(event, envelope)| EventMessage::new(&config.service, &event, envelope))
            .collect();
        bus.publish_events(messages).await?;
        *published = last;
        log.save_cursor(RELAY_CURSOR, last)?;
    }
}

/// How many of the events right after `published` are already the stream's last
/// messages, in log order: published before a crash or an outage, while the cursor
/// saying so was not yet on disk. 0 when the stream's tail is anything else (the
/// relay then publishes from the cursor, and JetStream or the consumers drop what is
/// there twice). The stream's last message is read first, so a cursor that is not
/// behind costs one request; then as many as it shows were published.
pub async fn events_already_on_the_stream(
    log: &Log,
    bus: &Bus,
    config: &RelayConfig,
    published: u64,
) -> Result<u64, BusError> {
    if log.durable_position() <= published {
        return Ok(0);
    }
    let stream = config.stream_name();
    let last = match bus.stream_last_ids(&stream, 1).await {
        Ok(mut ids) => ids.pop(),
        Err(error) => return Ok(tail_unreadable(config, &error)),
    };
    // Not an event id: not one of this log's events.
    let Some(last) = last.and_then(|id| Uuid::parse_str(&id).ok()) else {
        return Ok(0);
    };
    let mut after_cursor = Vec::new();
    for event in log.read_all(published + 1).take(MAX_TAIL_CHECK) {
        let id = event?.event_id;
        after_cursor.push(id);
        if id == last {
            let count = after_cursor.len() as u64;
            return match bus.stream_last_ids(&stream, count).await {
                Ok(tail) if ids_are(&tail, &after_cursor) => Ok(count),
                Ok(_) => Ok(0),
                Err(error) => Ok(tail_unreadable(config, &error)),
            };
        }
    }
    Ok(0)
}

/// Where the stream's last event stands against the log: `Some(position)` when the
/// stream ends before the relay's cursor (its store was lost or is new: what lies
/// past that position must be published again), `None` when it reaches the cursor
/// or cannot be placed (empty with nothing relayed, not one of this log's events).
/// Refuses, before anything is published, a stream that holds an event past the
/// log's end ([`BusError::StreamAhead`]) or another event than the log's at the
/// same position ([`BusError::StreamDiverged`]).
pub async fn stream_behind_cursor(
    log: &Log,
    bus: &Bus,
    config: &RelayConfig,
    cursor: u64,
) -> Result<Option<u64>, BusError> {
    let stream = config.stream_name();
    let last = match bus.stream_tail(&stream, 1).await {
        Ok(mut tail) => tail.pop(),
        Err(BusError::NoStream(_)) => None,
        Err(error) => {
            tail_unreadable(config, &error);
            return Ok(None);
        }
    };
    let Some(last) = last else {
        return Ok((cursor > 0).then_some(0));
    };
    let position = last
        .message
        .header(POSITION_HEADER)
        .and_then(|p| p.parse::<u64>().ok());
    let id = last
        .message
        .header(headers::MSG_ID)
        .and_then(|id| Uuid::parse_str(id).ok());
    let (Some(position), Some(id)) = (position, id) else {
        return Ok(None);
    };
    let log_position = log.durable_position();
    if position > log_position {
        return Err(BusError::StreamAhead {
            stream,
            stream_position: position,
            log_position,
        });
    }
    let ours = match log.read_all(position).next() {
        Some(event) => event?.event_id,
        None => return Ok(None),
    };
    if ours != id {
        return Err(BusError::StreamDiverged {
            stream,
            position,
            stream_event: id.to_string(),
            log_event: ours.to_string(),
        });
    }
    Ok((position < cursor).then_some(position))
}

/// Whether the message ids `tail` are the event ids `events`, in order.
fn ids_are(tail: &[String], events: &[Uuid]) -> bool {
    tail.len() == events.len()
        && tail
            .iter()
            .zip(events)
            .all(|(id, event)| Uuid::parse_str(id).is_ok_and(|id| id == *event))
}

/// A stream whose tail cannot be read is published to from the cursor, as before
/// the check: it costs duplicates at worst, never an event.
fn tail_unreadable(config: &RelayConfig, error: &BusError) -> u64 {
    tracing::warn!(service = %config.service, %error, "bus.relay could not read the stream's tail; publishing from the cursor");
    0
}
