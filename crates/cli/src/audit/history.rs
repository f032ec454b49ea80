//! `accord audit history commitment|agreement|project|request ID DIR...`: the whole
//! life of one aggregate, and across the services the events it caused and the events
//! that caused it (by causation id), in time order: when (business and log time), who,
//! which event, the fields it set, the reason and the authorising motion.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use accord_kernel::RecordedEvent;
use serde::Serialize;
use uuid::Uuid;

use super::Copy;
use crate::tables::{or_dash, Table};

/// What kind of aggregate to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Subject {
    Commitment,
    Agreement,
    Project,
    Request,
}

/// One line of a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub occurred_at: String,
    pub recorded_at: String,
    pub service: String,
    /// `self` for the aggregate's own events; `caused` or `cause` for related ones.
    pub relation: &'static str,
    pub stream: String,
    pub actor: String,
    /// The actor's party, from the actor registry in the agreements log ("" if unknown).
    pub party: String,
    pub event: String,
    /// What the event changed. For the aggregate's own events, a field-level diff of
    /// its recorded state: `field: old -> new`, or `field=value` for a field set the
    /// first time; for related events, the fields they set. Ids, reason and motion
    /// are shown apart.
    pub change: String,
    pub reason: String,
    pub motion: String,
    /// The documents the event cites, by hash.
    pub documents: Vec<super::documents::Cited>,
    pub event_id: String,
    /// Whether the event keeps its actor's signature of the command (checked by
    /// `audit verify --signatures`).
    pub signed: bool,
}

/// Fields not shown as changes: they are the event's addressing or shown apart.
const NOT_CHANGES: &[&str] = &[
    "commitmentId",
    "agreementId",
    "projectId",
    "reason",
    "motionId",
    "documents",
];

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if prefix.is_empty() && NOT_CHANGES.contains(&key.as_str()) {
                    continue;
                }
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, value, out);
            }
        }
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => s.clone(),
                    // A party or other reference: its id.
                    serde_json::Value::Object(o) if o.len() == 1 && o["id"].is_string() => {
                        o["id"].as_str().unwrap_or_default().to_owned()
                    }
                    other => other.to_string(),
                })
                .collect();
            out.push(format!("{prefix}=[{}]", items.join(", ")));
        }
        serde_json::Value::String(s) => out.push(format!("{prefix}={s}")),
        other => out.push(format!("{prefix}={other}")),
    }
}

fn fields(event: &RecordedEvent) -> (serde_json::Value, Vec<(String, String)>) {
    let payload = accord_contracts::protobuf_to_json(&event.event_type, &event.payload)
        .unwrap_or(serde_json::Value::Null);
    let mut flat = Vec::new();
    flatten("", &payload, &mut flat);
    let pairs = flat
        .into_iter()
        .filter_map(|f| f.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    (payload, pairs)
}

/// The aggregate's fields as its events so far set them, for diffs.
type State = BTreeMap<String, String>;

fn entry(
    service: &str,
    relation: &'static str,
    event: &RecordedEvent,
    state: Option<&mut State>,
    parties: &BTreeMap<String, String>,
) -> Entry {
    let (payload, pairs) = fields(event);
    let change: Vec<String> = match state {
        Some(state) => pairs
            .into_iter()
            .filter_map(
                |(field, value)| match state.insert(field.clone(), value.clone()) {
                    None => Some(format!("{field}={value}")),
                    Some(old) if old != value => Some(format!("{field}: {old} -> {value}")),
                    Some(_) => None,
                },
            )
            .collect(),
        None => pairs.into_iter().map(|(f, v)| format!("{f}={v}")).collect(),
    };
    let text = |key: &str| payload[key].as_str().unwrap_or_default().to_owned();
    Entry {
        occurred_at: event.occurred_at.to_string(),
        recorded_at: event.recorded_at.to_string(),
        service: service.to_owned(),
        relation,
        stream: event.stream.to_string(),
        actor: event.actor.clone(),
        party: parties.get(&event.actor).cloned().unwrap_or_default(),
        event: event
            .event_type
            .rsplit('.')
            .next()
            .unwrap_or(&event.event_type)
            .to_owned(),
        change: change.join("; "),
        reason: text("reason"),
        motion: text("motionId"),
        documents: super::documents::cited_in(&payload),
        event_id: event.event_id.to_string(),
        signed: event.signature.is_some(),
    }
}

/// Whether `event` belongs to the aggregate.
fn is_own(subject: Subject, id: &str, event: &RecordedEvent) -> bool {
    match subject {
        Subject::Commitment => event.stream.category() == "commitment" && event.stream.id() == id,
        Subject::Agreement => event.stream.category() == "agreement" && event.stream.id() == id,
        Subject::Project => event.stream.category() == "project" && event.stream.id() == id,
        // A request lives in its item's market: its events name it.
        Subject::Request => {
            event.stream.category() == "market"
                && accord_contracts::protobuf_to_json(&event.event_type, &event.payload)
                    .is_ok_and(|p| p["requestId"] == id)
        }
    }
}

/// The history of `id` across the logs in `dirs`, in business-time order.
pub fn history(subject: Subject, id: &str, dirs: &[PathBuf]) -> anyhow::Result<Vec<Entry>> {
    let copies = dirs
        .iter()
        .map(|dir| Copy::of(dir))
        .collect::<Result<Vec<_>, _>>()?;
    history_in(subject, id, &copies)
}

/// [`history`] on copies already made (the console keeps its copies).
pub fn history_in(subject: Subject, id: &str, copies: &[Copy]) -> anyhow::Result<Vec<Entry>> {
    // Each log is read twice (own events, then related ones) rather than held in memory.
    let mut logs = Vec::new();
    for copy in copies {
        let service = super::service_of_copy(copy)
            .map(|s| s.to_string())
            .unwrap_or_else(|| copy.source.display().to_string());
        logs.push((service, copy));
    }
    // Who belongs to which party: the actor registry, wherever it is in the logs.
    let mut parties = BTreeMap::new();
    for (_, copy) in &logs {
        for event in super::events_logged(copy)? {
            let event = event?;
            if event.event_type == "accord.v1.ActorRegistered" {
                let (payload, _) = fields(&event);
                if let (Some(actor), Some(party)) =
                    (payload["actorId"].as_str(), payload["party"]["id"].as_str())
                {
                    parties.insert(actor.to_owned(), party.to_owned());
                }
            }
        }
    }
    let mut entries = Vec::new();
    let mut own_ids: BTreeSet<Uuid> = BTreeSet::new();
    let mut causes: BTreeSet<Uuid> = BTreeSet::new();
    let mut state = State::new();
    for (service, copy) in &logs {
        for event in super::events_logged(copy)? {
            let event = event?;
            if is_own(subject, id, &event) {
                own_ids.insert(event.event_id);
                causes.extend(event.causation_id);
                let own = entry(service, "self", &event, Some(&mut state), &parties);
                entries.push(((event.occurred_at, event.recorded_at), own));
            }
        }
    }
    if entries.is_empty() {
        anyhow::bail!("no {subject:?} {id} in the logs given");
    }
    for (service, copy) in &logs {
        for event in super::events_logged(copy)? {
            let event = event?;
            if own_ids.contains(&event.event_id) {
                continue;
            }
            if event.causation_id.is_some_and(|c| own_ids.contains(&c)) {
                entries.push((
                    (event.occurred_at, event.recorded_at),
                    entry(service, "caused", &event, None, &parties),
                ));
            } else if causes.contains(&event.event_id) {
                entries.push((
                    (event.occurred_at, event.recorded_at),
                    entry(service, "cause", &event, None, &parties),
                ));
            }
        }
    }
    // Stable: business time, then log time, then the order read.
    entries.sort_by_key(|(when, _)| *when);
    Ok(entries.into_iter().map(|(_, entry)| entry).collect())
}

pub fn table(title: &str, entries: &[Entry]) -> Table {
    let mut table = Table::new(
        title,
        &[
            "occurred",
            "recorded",
            "service",
            "relation",
            "actor",
            "party",
            "event",
            "change",
            "reason",
            "motion",
            "documents",
        ],
    );
    for e in entries {
        table.row(vec![
            e.occurred_at.clone(),
            e.recorded_at.clone(),
            e.service.clone(),
            e.relation.to_owned(),
            e.actor.clone(),
            or_dash(&e.party),
            e.event.clone(),
            e.change.clone(),
            e.reason.clone(),
            or_dash(&e.motion),
            or_dash(
                &e.documents
                    .iter()
                    .map(super::documents::Cited::short)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ]);
    }
    table
}
