//! `accord audit export DIR... --format jsonl|csv [--from POS] [--to POS]`: every
//! event, streamed one at a time (constant memory), as
//! * JSONL: `{"service":..,"envelope":<EventEnvelope, proto3 JSON>,"payload":<the
//!   payload message, proto3 JSON>}` per line — the envelope parses back into the
//!   exact protobuf envelope the log stores;
//! * CSV: the envelope's fields, then the payload as JSON.

use std::io::Write;
use std::path::Path;

use accord_contracts::v1 as pb;
use accord_kernel::RecordedEvent;
use accord_log::encode_envelope;
use prost::Message as _;

use super::{service_of, Copy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

/// The CSV header.
pub const CSV_COLUMNS: &[&str] = &[
    "service",
    "position",
    "event_id",
    "stream",
    "version",
    "event_type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "actor",
    "command_id",
    "correlation_id",
    "causation_id",
    "prev_hash",
    "hash",
    "payload",
];

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn payload_json(event: &RecordedEvent) -> serde_json::Value {
    // An event whose payload no longer maps is still exported, as base64 in the envelope.
    accord_contracts::protobuf_to_json(&event.event_type, &event.payload)
        .unwrap_or(serde_json::Value::Null)
}

fn write_event(
    out: &mut impl Write,
    format: Format,
    service: &str,
    event: &RecordedEvent,
) -> anyhow::Result<()> {
    match format {
        Format::Jsonl => {
            let envelope = pb::EventEnvelope::decode(encode_envelope(event).as_slice())?;
            let line = serde_json::json!({
                "service": service,
                "envelope": accord_contracts::to_json(&envelope)?,
                "payload": payload_json(event),
            });
            writeln!(out, "{line}")?;
        }
        Format::Csv => {
            let fields = [
                service.to_owned(),
                event.position.to_string(),
                event.event_id.to_string(),
                event.stream.to_string(),
                event.version.to_string(),
                event.event_type.clone(),
                event.schema_version.to_string(),
                event.occurred_at.to_string(),
                event.recorded_at.to_string(),
                event.actor.clone(),
                event.command_id.to_string(),
                event.correlation_id.to_string(),
                event
                    .causation_id
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                event.prev_hash.to_hex(),
                event.hash.to_hex(),
                payload_json(event).to_string(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            writeln!(out, "{}", row.join(","))?;
        }
    }
    Ok(())
}

/// Exports the events of the log in `dir` with positions in `from..=to`; returns how
/// many. `progress` is called every 10,000 events with the position reached. Memory
/// stays flat however long the log: the copy is read with [`accord_log::scan_path`].
pub fn export_dir(
    dir: &Path,
    format: Format,
    from: u64,
    to: u64,
    out: &mut impl Write,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<u64> {
    let copy = Copy::of(dir)?;
    let mut events = accord_log::scan_path(copy.path(), from.max(1))?.peekable();
    let service = {
        let first = match events.peek() {
            Some(Ok(event)) => Some((event.event_type.as_str(), event.payload.as_slice())),
            _ => None,
        };
        service_of(dir, first)
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let mut written = 0;
    for event in events {
        let event = event?;
        if event.position > to {
            break;
        }
        write_event(out, format, &service, &event)?;
        written += 1;
        if written % 10_000 == 0 {
            progress(event.position);
        }
    }
    out.flush()?;
    Ok(written)
}
