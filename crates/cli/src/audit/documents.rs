//! Documents cited as evidence: which events cite a file (`accord audit
//! find-document FILE DIR...`), and the citations an event carries, for `history`.
//!
//! A citation is any `documents` list of `DocumentRef`s in an event's payload, found
//! through the contract's JSON mapping, so an event type that gains documents later
//! is searched without a change here.

use std::io::Read;
use std::path::{Path, PathBuf};

use accord_kernel::{DocumentHash, RecordedEvent};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Copy;
use crate::tables::Table;

/// One document as an event cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cited {
    pub title: String,
    pub media_type: String,
    pub sha256: String,
    pub location: String,
}

impl Cited {
    /// "Title (sha256 9f86d081884c7d65…)", for a table cell.
    pub fn short(&self) -> String {
        format!(
            "{} (sha256 {}…)",
            self.title,
            self.sha256.get(..16).unwrap_or(&self.sha256)
        )
    }
}

/// The documents `payload` (an event in the contract's JSON mapping) cites, wherever
/// in the message they are.
pub fn cited_in(payload: &serde_json::Value) -> Vec<Cited> {
    let mut found = Vec::new();
    collect(payload, &mut found);
    found
}

fn collect(value: &serde_json::Value, found: &mut Vec<Cited>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("documents", serde_json::Value::Array(items)) => {
                        found.extend(items.iter().map(|item| {
                            let text = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
                            Cited {
                                title: text("title"),
                                media_type: text("mediaType"),
                                sha256: text("sha256").to_lowercase(),
                                location: text("location"),
                            }
                        }));
                    }
                    _ => collect(value, found),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect(item, found)),
        _ => {}
    }
}

/// The documents a recorded event cites.
pub fn cited_by(event: &RecordedEvent) -> Vec<Cited> {
    accord_contracts::protobuf_to_json(&event.event_type, &event.payload)
        .map(|payload| cited_in(&payload))
        .unwrap_or_default()
}

/// SHA-256 of a file, read in blocks (a scanned treaty may be large).
pub fn hash_file(path: &Path) -> std::io::Result<DocumentHash> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(DocumentHash(hasher.finalize().into()))
}

/// One event that cites the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The data directory given.
    pub dir: String,
    pub service: String,
    pub position: u64,
    pub stream: String,
    pub event: String,
    pub occurred_at: String,
    pub recorded_at: String,
    pub actor: String,
    /// The document as this event names it (titles may differ between events).
    pub title: String,
    pub media_type: String,
    pub location: String,
    pub event_id: String,
    /// The event's hash in its log's chain: `accord audit prove` proves it.
    pub event_hash: String,
}

/// What `find-document` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub sha256: String,
    pub events_read: u64,
    pub citations: Vec<Citation>,
}

/// Every event in the logs of `dirs` (read from copies) that cites `sha256`.
pub fn find(sha256: DocumentHash, dirs: &[PathBuf]) -> anyhow::Result<Found> {
    let wanted = sha256.to_hex();
    let mut found = Found {
        sha256: wanted.clone(),
        events_read: 0,
        citations: Vec::new(),
    };
    for dir in dirs {
        let copy = Copy::of(dir)?;
        let service = super::service_of_copy(&copy)
            .map(|s| s.to_string())
            .unwrap_or_default();
        for event in super::events_logged(&copy)? {
            let event = event?;
            found.events_read += 1;
            // Cheap first: only payloads holding the hash's bytes in hex can cite it.
            if !contains(&event.payload, wanted.as_bytes())
                && !contains(&event.payload, wanted.to_uppercase().as_bytes())
            {
                continue;
            }
            for cited in cited_by(&event).into_iter().filter(|c| c.sha256 == wanted) {
                found.citations.push(Citation {
                    dir: dir.display().to_string(),
                    service: service.clone(),
                    position: event.position,
                    stream: event.stream.to_string(),
                    event: short_type(&event.event_type),
                    occurred_at: event.occurred_at.to_string(),
                    recorded_at: event.recorded_at.to_string(),
                    actor: event.actor.clone(),
                    title: cited.title,
                    media_type: cited.media_type,
                    location: cited.location,
                    event_id: event.event_id.to_string(),
                    event_hash: event.hash.to_hex(),
                });
            }
        }
    }
    Ok(found)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn short_type(event_type: &str) -> String {
    event_type
        .rsplit('.')
        .next()
        .unwrap_or(event_type)
        .to_owned()
}

pub fn table(found: &Found) -> Table {
    let mut table = Table::new(
        &format!("Events citing sha256 {}", found.sha256),
        &[
            "service", "position", "stream", "event", "occurred", "actor", "title", "location",
        ],
    );
    for c in &found.citations {
        table.row(vec![
            c.service.clone(),
            c.position.to_string(),
            c.stream.clone(),
            c.event.clone(),
            c.occurred_at.clone(),
            c.actor.clone(),
            c.title.clone(),
            crate::tables::or_dash(&c.location),
        ]);
    }
    table
}
