//! The console live, in a running Accord: now through the services' queries over
//! the bus, earlier instants and evidence from the logs the process runs.

use accord_bus::AccordClient;
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::note::VerifierKey;
use accord_kernel::StreamId;
use accord_log::Log;
use accord_runtime::ServiceKind;
use prost::Message as _;
use serde_json::Value;

use super::{no_proof, read_proof, Part, Proof, Timeline, LIST_PAGE_ROWS, TIMELINE_PAGE_CHANGES};
use crate::audit::history::Entry;
use crate::audit::replay;
use crate::console::as_of::AsOf;
use crate::demo::Projections;

/// A running Accord: its bus, the logs of the services this process runs, and
/// their log keys' public halves (to prove an event against a kept checkpoint).
#[derive(Debug, Clone)]
pub struct Live {
    pub client: AccordClient,
    pub logs: Vec<(ServiceKind, Log)>,
    pub log_keys: Vec<VerifierKey>,
    /// The witnesses the services ask (the `witnesses` setting), to verify their
    /// cosignatures on the kept checkpoints.
    pub witnesses: Vec<CosignerKey>,
}

/// What the evidence page says of one log a running process holds.
#[derive(Debug)]
pub struct LiveEvidence {
    pub service: ServiceKind,
    /// The chain walked in place (`Log::verify`): events and head hash, or why not.
    pub chain: Result<(u64, String), String>,
    pub kept: usize,
    /// The latest kept checkpoint: its size, whether a log key opened it, and the
    /// witnesses whose cosignature on it verifies.
    pub latest: Option<(u64, bool, Vec<String>)>,
    pub durable: u64,
}

impl Live {
    /// Each log's chain (walked in place, reading the whole log) and checkpoints.
    pub fn evidence(&self) -> Vec<LiveEvidence> {
        self.logs
            .iter()
            .map(|(kind, log)| {
                let chain = log
                    .verify()
                    .map(|r| (r.events, r.head_hash.to_hex()))
                    .map_err(|e| e.to_string());
                let latest = log.latest_checkpoint().ok().flatten().map(|(size, bytes)| {
                    let opened = self
                        .log_keys
                        .iter()
                        .find_map(|key| Checkpoint::open(&bytes, key).ok());
                    let cosigned = opened
                        .as_ref()
                        .map(|(_, note)| {
                            self.witnesses
                                .iter()
                                .filter(|w| w.verify(note).is_ok())
                                .map(|w| w.name().to_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    (size, opened.is_some(), cosigned)
                });
                LiveEvidence {
                    service: *kind,
                    chain,
                    kept: log.checkpoints().count(),
                    latest,
                    durable: log.durable_position(),
                }
            })
            .collect()
    }

    pub(super) fn proof(&self, event_id: uuid::Uuid) -> anyhow::Result<Proof> {
        let scratch = tempfile::tempdir()?;
        let out = scratch.path().join("event.tlog-proof");
        let mut refusals = Vec::new();
        for (kind, log) in &self.logs {
            for key in &self.log_keys {
                let name = kind.to_string();
                match crate::audit::prove::prove_in(log, &name, event_id, None, key, &out) {
                    Ok(_) => return read_proof(&out),
                    Err(error) => refusals.push(format!("{kind}: {error}")),
                }
            }
        }
        let hint = self.log_keys.is_empty().then_some(
            "this process has no log keys (log_key_dir), so its services keep no signed checkpoints",
        );
        Err(no_proof(event_id, hint, &refusals))
    }

    fn log_of(&self, kind: ServiceKind) -> Option<&Log> {
        self.logs.iter().find(|(k, _)| *k == kind).map(|(_, l)| l)
    }

    async fn query(&self, service: &str, name: &str, body: Vec<u8>) -> anyhow::Result<Outcome> {
        self.client
            .query(service, name, body)
            .await
            .map_err(|e| anyhow::anyhow!("{service} {name}: {e}"))
    }

    /// Every page of a list query, joined.
    async fn all_pages<T>(
        &self,
        service: &str,
        name: &str,
        mut take: impl FnMut(Outcome) -> Option<(Vec<T>, String)>,
    ) -> anyhow::Result<Vec<T>> {
        let mut rows = Vec::new();
        let mut after = String::new();
        loop {
            let body = pb::PageQuery { after, limit: 0 }.encode_to_vec();
            let outcome = self.query(service, name, body).await?;
            let (page, next) = take(outcome)
                .ok_or_else(|| anyhow::anyhow!("{service} {name}: an unexpected reply"))?;
            rows.extend(page);
            if next.is_empty() {
                return Ok(rows);
            }
            after = next;
        }
    }

    /// One page of a list query, after `after`.
    async fn page(&self, service: &str, name: &str, after: &str) -> anyhow::Result<Outcome> {
        let body = pb::PageQuery {
            after: after.to_owned(),
            limit: LIST_PAGE_ROWS,
        }
        .encode_to_vec();
        self.query(service, name, body).await
    }

    async fn ledger(&self, after: &str, limit: u32) -> anyhow::Result<pb::CommitmentLedger> {
        let body = pb::PageQuery {
            after: after.to_owned(),
            limit,
        }
        .encode_to_vec();
        match self.query("agreements", "CommitmentLedger", body).await? {
            Outcome::Ledger(ledger) => Ok(ledger),
            _ => anyhow::bail!("agreements CommitmentLedger: an unexpected reply"),
        }
    }

    /// What `part` shows now, through the services' queries.
    pub(super) async fn now(&self, part: &Part) -> anyhow::Result<Value> {
        let mut p = Projections::default();
        match part {
            Part::Agreements { after } => {
                if let Outcome::Agreements(r) =
                    self.page("agreements", "AgreementRegister", after).await?
                {
                    p.agreements = Some(r);
                }
            }
            Part::Ledger { after } => p.ledger = Some(self.ledger(after, LIST_PAGE_ROWS).await?),
            Part::Board { after } => {
                if let Outcome::Decisions(d) =
                    self.page("agreements", "BoardDecisions", after).await?
                {
                    p.decisions = Some(d);
                }
            }
            Part::Projects { after } => {
                if let Outcome::Portfolio(r) =
                    self.page("projects", "ProjectPortfolio", after).await?
                {
                    p.portfolio = Some(r);
                }
                // The regulatory promises are weighed against every commitment.
                let mut whole = self.ledger("", 0).await?;
                while !whole.next_after.is_empty() {
                    let next = self.ledger(&whole.next_after, 0).await?;
                    whole.rows.extend(next.rows);
                    whole.next_after = next.next_after;
                }
                p.ledger = Some(whole);
            }
            Part::Procurement => {
                let grants = self
                    .all_pages("procurement", "PriorityPolicy", |o| match o {
                        Outcome::Policy(r) => Some((r.grants, r.next_after)),
                        _ => None,
                    })
                    .await?;
                p.policy = Some(pb::PriorityPolicy {
                    grants,
                    ..Default::default()
                });
                let Outcome::Markets(markets) = self
                    .query("procurement", "ProcurementMarkets", vec![])
                    .await?
                else {
                    anyhow::bail!("procurement ProcurementMarkets: an unexpected reply");
                };
                for market in markets.markets {
                    let body = pb::ProcurementQueueQuery {
                        item: market.item,
                        controlled_by: market.controlled_by,
                        ..Default::default()
                    }
                    .encode_to_vec();
                    if let Outcome::Queue(queue) =
                        self.query("procurement", "ProcurementQueue", body).await?
                    {
                        p.queues.push(queue);
                    }
                }
            }
        }
        let mut value = replay::to_json(&p)?;
        if matches!(part, Part::Projects { .. }) {
            // Only the launch times needed the whole ledger.
            if let Value::Object(map) = &mut value {
                map.remove("ledger");
            }
        }
        Ok(value)
    }

    /// What `part` showed as of an earlier instant, folded from this process's logs.
    pub(super) fn as_of(&self, part: &Part, as_of: &AsOf) -> anyhow::Result<Value> {
        let mut projections = Projections::default();
        for &kind in part.services() {
            let log = self.log_of(kind).ok_or_else(|| {
                anyhow::anyhow!(
                    "as of an earlier instant this page needs the {kind} log, which this process does not run: open the console of the process that runs it, or `accord audit console` on a copy of its data directory"
                )
            })?;
            replay::fold_into(
                &mut projections,
                kind,
                log.read_all(1),
                as_of.at,
                as_of.time,
            )?;
        }
        replay::to_json(&projections)
    }

    pub(super) async fn timeline(&self, id: &str, from: u64) -> anyhow::Result<Timeline> {
        let body = pb::CommitmentTimelineQuery {
            commitment_id: id.to_owned(),
            from_version: from,
            limit: TIMELINE_PAGE_CHANGES,
        }
        .encode_to_vec();
        let Outcome::Timeline(page) = self.query("agreements", "CommitmentTimeline", body).await?
        else {
            anyhow::bail!("agreements CommitmentTimeline: an unexpected reply");
        };
        let last = page.entries.last().map_or(0, |e| e.version);
        let entries = page
            .entries
            .into_iter()
            .map(|e| Entry {
                occurred_at: e.occurred_at,
                recorded_at: e.recorded_at,
                service: "agreements".to_owned(),
                relation: "self",
                stream: format!("commitment-{id}"),
                actor: e.actor,
                party: String::new(),
                event: format!("version {}, position {}", e.version, e.position),
                change: e.change,
                reason: e.reason,
                motion: e.motion,
                documents: e
                    .documents
                    .into_iter()
                    .map(|d| crate::audit::documents::Cited {
                        title: d.title,
                        media_type: d.media_type,
                        sha256: d.sha256,
                        location: d.location,
                    })
                    .collect(),
                event_id: e.event_id,
                signed: e.signed,
            })
            .collect();
        // The chart needs the amounts, which only the events hold: from this
        // process's agreements log, up to the last change shown.
        let events = match self.log_of(ServiceKind::Agreements) {
            None => None,
            Some(log) => {
                let stream = StreamId::new("commitment", id)?;
                let mut events = Vec::new();
                for event in log.read_stream(&stream, 1) {
                    let event = event?;
                    if event.version > last {
                        break;
                    }
                    events.push(event);
                }
                Some(events)
            }
        };
        Ok(Timeline {
            entries,
            events,
            next_from: (page.next_version != 0).then_some(page.next_version),
            caption: "Its changes, as the agreements service's CommitmentTimeline query lists them, a page at a time (the events they caused are in the offline view)",
        })
    }
}
