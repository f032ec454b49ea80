//! The relay: tails a service's log from its saved cursor and publishes every event
//! to JetStream, never inline with the command that produced it.
//!
//! * Stream `ACCORD_<SERVICE>` on `accord.<service>.evt.>`, file storage, a duplicate
//!   window, replicas configurable; created or checked at start.
//! * Subject `accord.<service>.evt.<category>.<id>.<EventType>` (id bytes outside
//!   `A-Za-z0-9_-` written as `%HH`, so any id is one subject token).
//! * Message = the stored `accord.v1.EventEnvelope` bytes; headers `Nats-Msg-Id` (the
//!   event id, so JetStream drops a republished event), and `Accord-Event-Type`,
//!   `Accord-Stream`, `Accord-Version`, `Accord-Position`, `Accord-Correlation-Id`,
//!   `Accord-Causation-Id`.
//! * The cursor is saved in the log's database after JetStream acknowledged the
//!   batch; after a crash or an outage the relay resumes from it. Events published
//!   again after a crash fall within the duplicate window and are dropped.

use std::time::Duration;

use accord_kernel::RecordedEvent;
use accord_log::{encode_envelope, Log, LogError};
use async_nats::jetstream::{self, stream};
use async_nats::HeaderMap;
use tokio::sync::watch;

/// The relay's cursor name in the log.
const CURSOR: &str = "relay";

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The service whose log this is, e.g. `agreements`.
    pub service: String,
    pub replicas: usize,
    /// How long JetStream remembers message ids to drop republished events.
    pub duplicate_window: Duration,
    /// Most events published before waiting for their acknowledgements.
    pub max_in_flight: usize,
    /// Wait before retrying after NATS failed.
    pub retry_delay: Duration,
}

impl RelayConfig {
    pub fn new(service: impl Into<String>) -> RelayConfig {
        RelayConfig {
            service: service.into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            max_in_flight: 256,
            retry_delay: Duration::from_millis(250),
        }
    }

    pub fn stream_name(&self) -> String {
        format!("ACCORD_{}", self.service.to_uppercase())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("jetstream: {0}")]
    JetStream(String),
    #[error(transparent)]
    Log(#[from] LogError),
}

/// Creates the service's stream, or checks an existing one has the settings Accord
/// relies on (its subjects, file storage and a duplicate window).
pub async fn ensure_stream(
    js: &jetstream::Context,
    config: &RelayConfig,
) -> Result<stream::Stream, BusError> {
    let wanted = stream::Config {
        name: config.stream_name(),
        subjects: vec![format!("accord.{}.evt.>", config.service)],
        storage: stream::StorageType::File,
        duplicate_window: config.duplicate_window,
        num_replicas: config.replicas,
        ..Default::default()
    };
    let stream = js
        .get_or_create_stream(wanted.clone())
        .await
        .map_err(|e| BusError::JetStream(e.to_string()))?;
    let actual = &stream.cached_info().config;
    if actual.subjects != wanted.subjects || actual.storage != wanted.storage {
        return Err(BusError::JetStream(format!(
            "stream {} exists with subjects {:?} and storage {:?}",
            wanted.name, actual.subjects, actual.storage
        )));
    }
    Ok(stream)
}

/// One subject token for any aggregate id.
fn token(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The subject an event is published on.
pub fn event_subject(service: &str, event: &RecordedEvent) -> String {
    let short = event
        .event_type
        .rsplit('.')
        .next()
        .unwrap_or(&event.event_type);
    format!(
        "accord.{service}.evt.{}.{}.{}",
        event.stream.category(),
        token(event.stream.id()),
        token(short)
    )
}

fn headers(event: &RecordedEvent) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", event.event_id.to_string().as_str());
    headers.insert("Accord-Event-Type", event.event_type.as_str());
    headers.insert("Accord-Stream", event.stream.to_string().as_str());
    headers.insert("Accord-Version", event.version.to_string().as_str());
    headers.insert("Accord-Position", event.position.to_string().as_str());
    headers.insert(
        "Accord-Correlation-Id",
        event.correlation_id.to_string().as_str(),
    );
    if let Some(causation) = event.causation_id {
        headers.insert("Accord-Causation-Id", causation.to_string().as_str());
    }
    headers
}

/// Publishes the log to JetStream until `shutdown` turns true, resuming from the
/// saved cursor and retrying through NATS outages. Returns after saving the cursor
/// of everything acknowledged.
pub async fn run_relay(
    log: Log,
    js: jetstream::Context,
    config: RelayConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        match relay_from_cursor(&log, &js, &config, &mut shutdown).await {
            Ok(()) => return Ok(()),
            Err(BusError::Log(error)) => return Err(BusError::Log(error)),
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

async fn relay_from_cursor(
    log: &Log,
    js: &jetstream::Context,
    config: &RelayConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), BusError> {
    ensure_stream(js, config).await?;
    let mut subscription = log.subscribe(log.cursor(CURSOR)? + 1);
    loop {
        // Wait for one event (or shutdown), then take what is ready, up to the limit.
        let first = tokio::select! {
            event = subscription.next() => event,
            _ = shutdown.changed() => return Ok(()),
        };
        let Some(first) = first else {
            return Ok(());
        };
        let mut batch = vec![first?];
        while batch.len() < config.max_in_flight {
            match tokio::time::timeout(Duration::ZERO, subscription.next()).await {
                Ok(Some(event)) => batch.push(event?),
                Ok(None) | Err(_) => break,
            }
        }
        let mut acks = Vec::with_capacity(batch.len());
        for event in &batch {
            let ack = js
                .publish_with_headers(
                    event_subject(&config.service, event),
                    headers(event),
                    encode_envelope(event).into(),
                )
                .await
                .map_err(|e| BusError::JetStream(e.to_string()))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| BusError::JetStream(e.to_string()))?;
        }
        if let Some(last) = batch.last() {
            log.save_cursor(CURSOR, last.position)?;
        }
    }
}
