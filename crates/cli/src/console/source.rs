//! Where the console's pages get what they show: copies of data directories
//! (offline, `accord audit console`), or a running Accord (live, under `/console/`
//! on its HTTP address): now through the services' queries over the bus, page by
//! page as any client asks; as of an earlier instant by folding the logs the
//! process runs, as `accord audit replay` folds copies.

use std::path::PathBuf;
use std::sync::Mutex;

use accord_bus::AccordClient;
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_kernel::{Date, RecordedEvent, StreamId};
use accord_log::Log;
use accord_runtime::ServiceKind;
use prost::Message as _;
use serde_json::Value;

use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::note::VerifierKey;
use accord_runtime::authentication::Trusted;

use super::pages::AsOf;
use crate::audit::checkpoints::EvidenceKeys;
use crate::audit::history::{self, Entry, Subject};
use crate::audit::replay;
use crate::audit::Copy;
use crate::demo::Projections;

/// Rows of a list page (agreements, ledger, board, projects) on one page.
pub const LEDGER_PAGE_ROWS: u32 = 100;
/// Changes of a commitment's timeline on one page (live).
pub const TIMELINE_PAGE_CHANGES: u32 = 200;

/// Where the pages read from.
#[derive(Debug)]
pub enum Source {
    Offline(Offline),
    Live(Live),
}

/// Copies of data directories, made once when the console opens.
#[derive(Debug)]
pub struct Offline {
    pub dirs: Vec<PathBuf>,
    /// What the evidence page checks with, as `accord audit verify` takes them:
    /// the parties' trust roots (signatures checked when given), the logs' and the
    /// witnesses' public keys.
    pub roots: Option<Trusted>,
    pub keys: EvidenceKeys,
    copies: Vec<Copy>,
    /// The projections now (the copies never change), per day: overdue counts to it.
    now: Mutex<Option<(Date, Value)>>,
}

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

/// A proof that an event is in a log's witnessed tree, to download: the
/// `c2sp.org/tlog-proof@v1` text and the event's envelope beside it.
#[derive(Debug)]
pub struct Proof {
    pub text: Vec<u8>,
    pub envelope: Vec<u8>,
}

/// What a page shows of the projections. A list page shows the rows after
/// `after` (the previous page's last key; "" first), at most [`LEDGER_PAGE_ROWS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Agreements {
        after: String,
    },
    /// With the totals, which come whole on every page.
    Ledger {
        after: String,
    },
    Board {
        after: String,
    },
    Projects {
        after: String,
    },
    Procurement,
}

/// Where a list page's rows are in the projections' JSON, and each row's key.
struct Listed {
    /// The projection (`agreements`, `ledger`, ...), which also gets `nextAfter`.
    projection: &'static str,
    rows: &'static str,
    key: fn(&Value) -> String,
}

fn id_key(row: &Value) -> String {
    row["id"].as_str().unwrap_or_default().to_owned()
}

/// A board decision's key, as `BoardDecisions` pages them: board, NUL, motion.
fn decision_key(row: &Value) -> String {
    format!(
        "{}\u{0}{}",
        row["board"].as_str().unwrap_or_default(),
        row["motion"].as_str().unwrap_or_default()
    )
}

impl Part {
    /// The services whose projections the part shows.
    fn services(&self) -> &'static [ServiceKind] {
        match self {
            Part::Agreements { .. } | Part::Ledger { .. } | Part::Board { .. } => {
                &[ServiceKind::Agreements]
            }
            Part::Projects { .. } => &[ServiceKind::Agreements, ServiceKind::Projects],
            Part::Procurement => &[ServiceKind::Procurement],
        }
    }

    /// The list it pages, and from where.
    fn listed(&self) -> Option<(Listed, &str)> {
        let (projection, rows, key, after): (_, _, fn(&Value) -> String, _) = match self {
            Part::Agreements { after } => ("agreements", "agreements", id_key, after),
            Part::Ledger { after } => ("ledger", "rows", id_key, after),
            Part::Board { after } => ("decisions", "decisions", decision_key, after),
            Part::Projects { after } => ("portfolio", "projects", id_key, after),
            Part::Procurement => return None,
        };
        Some((
            Listed {
                projection,
                rows,
                key,
            },
            after.as_str(),
        ))
    }
}

/// A commitment's timeline as one page shows it.
#[derive(Debug)]
pub struct Timeline {
    pub entries: Vec<Entry>,
    /// The commitment's events up to the last one shown, for the chart; `None`
    /// when this process cannot read them (live, without the agreements log).
    pub events: Option<Vec<RecordedEvent>>,
    /// The `from` of the next page, when there is one.
    pub next_from: Option<u64>,
    /// What the table holds, in words.
    pub caption: &'static str,
}

impl Offline {
    pub fn open(
        dirs: Vec<PathBuf>,
        roots: Option<Trusted>,
        keys: EvidenceKeys,
    ) -> anyhow::Result<Offline> {
        let copies = dirs
            .iter()
            .map(|dir| Copy::of(dir))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Offline {
            dirs,
            roots,
            keys,
            copies,
            now: Mutex::new(None),
        })
    }

    /// The proof of `event_id` from whichever directory holds it, against the kept
    /// checkpoint with the most cosignatures (each directory is copied for it, as
    /// `accord audit prove` does).
    fn proof(&self, event_id: uuid::Uuid) -> anyhow::Result<Proof> {
        let scratch = tempfile::tempdir()?;
        let out = scratch.path().join("event.tlog-proof");
        let mut refusals = Vec::new();
        for dir in &self.dirs {
            for key in &self.keys.logs {
                match crate::audit::prove::prove(dir, event_id, None, key, &out) {
                    Ok(_) => return read_proof(&out),
                    Err(error) => refusals.push(format!("{}: {error}", dir.display())),
                }
            }
        }
        let hint =
            self.keys.logs.is_empty().then_some(
                "start the console with --log-key VKEY (as `accord keys log` prints it)",
            );
        Err(no_proof(event_id, hint, &refusals))
    }

    /// Every projection as of `as_of`; now is folded once a day, not per page.
    fn projections(&self, as_of: &AsOf) -> anyhow::Result<Value> {
        if as_of.chosen {
            let projections = replay::replay_in(&self.copies, as_of.at, as_of.time)?;
            return replay::to_json(&projections);
        }
        let today = as_of.at.date();
        let mut now = self
            .now
            .lock()
            .map_err(|_| anyhow::anyhow!("a page failed while folding"))?;
        if let Some((day, value)) = now.as_ref() {
            if *day == today {
                return Ok(value.clone());
            }
        }
        let projections = replay::replay_in(&self.copies, as_of.at, as_of.time)?;
        let value = replay::to_json(&projections)?;
        *now = Some((today, value.clone()));
        Ok(value)
    }

    fn timeline(&self, id: &str) -> anyhow::Result<Timeline> {
        let entries = history::history_in(Subject::Commitment, id, &self.copies)?;
        let mut events = Vec::new();
        for copy in &self.copies {
            for event in crate::audit::events(copy)? {
                let event = event?;
                if event.stream.category() == "commitment" && event.stream.id() == id {
                    events.push(event);
                }
            }
        }
        Ok(Timeline {
            entries,
            events: Some(events),
            next_from: None,
            caption: "Its whole timeline, with the events it caused and that caused it",
        })
    }
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

    fn proof(&self, event_id: uuid::Uuid) -> anyhow::Result<Proof> {
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
            limit: LEDGER_PAGE_ROWS,
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
    async fn now(&self, part: &Part) -> anyhow::Result<Value> {
        let mut p = Projections::default();
        match part {
            Part::Agreements { after } => {
                if let Outcome::Agreements(r) =
                    self.page("agreements", "AgreementRegister", after).await?
                {
                    p.agreements = Some(r);
                }
            }
            Part::Ledger { after } => p.ledger = Some(self.ledger(after, LEDGER_PAGE_ROWS).await?),
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
    fn as_of(&self, part: &Part, as_of: &AsOf) -> anyhow::Result<Value> {
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

    async fn timeline(&self, id: &str, from: u64) -> anyhow::Result<Timeline> {
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

impl Source {
    /// What `part` shows as of `as_of`, in the proto3 JSON mapping of the query
    /// replies; a ledger page also gets `nextAfter` when more rows follow.
    pub async fn part(&self, part: Part, as_of: &AsOf) -> anyhow::Result<Value> {
        match self {
            Source::Offline(offline) => {
                let mut value = blocking_here(|| offline.projections(as_of))?;
                page_part(&mut value, &part);
                Ok(value)
            }
            Source::Live(live) if !as_of.chosen => live.now(&part).await,
            Source::Live(live) => {
                let mut value = blocking_here(|| live.as_of(&part, as_of))?;
                page_part(&mut value, &part);
                Ok(value)
            }
        }
    }

    /// The commitment's timeline from version `from` (live pages; offline shows it
    /// whole, with the events it caused and that caused it).
    pub async fn timeline(&self, id: &str, from: u64) -> anyhow::Result<Timeline> {
        match self {
            Source::Offline(offline) => blocking_here(|| offline.timeline(id)),
            Source::Live(live) => live.timeline(id, from).await,
        }
    }

    /// The proof that event `event_id` is in its log's witnessed tree.
    pub fn proof(&self, event_id: uuid::Uuid) -> anyhow::Result<Proof> {
        match self {
            Source::Offline(offline) => blocking_here(|| offline.proof(event_id)),
            Source::Live(live) => blocking_here(|| live.proof(event_id)),
        }
    }

    /// What the index page says the console reads.
    pub fn describe(&self) -> Vec<String> {
        match self {
            Source::Offline(offline) => offline
                .dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
            Source::Live(live) => live
                .logs
                .iter()
                .map(|(kind, _)| format!("the {kind} service's log (this process)"))
                .collect(),
        }
    }
}

fn read_proof(out: &std::path::Path) -> anyhow::Result<Proof> {
    Ok(Proof {
        text: std::fs::read(out)?,
        envelope: std::fs::read(crate::audit::prove::envelope_path(out))?,
    })
}

/// Why no proof of `event_id` could be made, in words.
/// `no_keys` says why there is no key to open a kept checkpoint with.
fn no_proof(event_id: uuid::Uuid, no_keys: Option<&str>, refusals: &[String]) -> anyhow::Error {
    if let Some(why) = no_keys {
        return anyhow::anyhow!(
            "no proof of event {event_id}: a proof is made against a kept checkpoint, which is opened with the log's public key; {why}"
        );
    }
    // An event in no log is said once, not once per log and key.
    if refusals
        .iter()
        .all(|r| r.contains(&format!("no event {event_id}")))
    {
        return anyhow::anyhow!("no event {event_id} in these logs");
    }
    let reasons: Vec<&String> = refusals
        .iter()
        .filter(|r| !r.contains(&format!("no event {event_id}")))
        .collect();
    anyhow::anyhow!(
        "no proof of event {event_id}: {}",
        reasons
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// Runs `work`, which reads a whole log, without holding up the other requests on
/// this async worker (where the runtime has more than one).
fn blocking_here<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Keeps one page of the list `part` shows (all of it folded): the rows after its
/// `after`, at most [`LEDGER_PAGE_ROWS`].
fn page_part(value: &mut Value, part: &Part) {
    if let Some((listed, after)) = part.listed() {
        page_rows(
            &mut value[listed.projection],
            listed.rows,
            listed.key,
            after,
            LEDGER_PAGE_ROWS as usize,
        );
    }
}

/// Keeps the rows (in ascending key order) after `after`, at most `limit` of them,
/// and says in `nextAfter` where the next page starts ("" at the end).
fn page_rows(
    projection: &mut Value,
    rows: &str,
    key: fn(&Value) -> String,
    after: &str,
    limit: usize,
) {
    let Some(all) = projection[rows].as_array() else {
        return;
    };
    let rest: Vec<Value> = all
        .iter()
        .filter(|row| after.is_empty() || key(row).as_str() > after)
        .cloned()
        .collect();
    let more = rest.len() > limit;
    let page: Vec<Value> = rest.into_iter().take(limit).collect();
    let next = match (more, page.last()) {
        (true, Some(last)) => key(last),
        _ => String::new(),
    };
    projection[rows] = Value::Array(page);
    projection["nextAfter"] = Value::String(next);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_more_rows_than_a_page_when_paged_then_the_next_page_starts_after_the_last_shown() {
        let rows = serde_json::json!({
            "rows": [{"id": "c-1"}, {"id": "c-2"}, {"id": "c-3"}],
        });
        let mut first = rows.clone();
        page_rows(&mut first, "rows", id_key, "", 2);
        assert_eq!(first["rows"].as_array().map(Vec::len), Some(2));
        assert_eq!(first["nextAfter"], "c-2");
        let mut rest = rows;
        page_rows(&mut rest, "rows", id_key, "c-2", 2);
        assert_eq!(rest["rows"], serde_json::json!([{"id": "c-3"}]));
        assert_eq!(rest["nextAfter"], "");
    }

    #[test]
    fn given_board_decisions_when_paged_then_they_continue_by_board_and_motion() {
        let mut decisions = serde_json::json!({
            "decisions": [
                {"board": "b-1", "motion": "m-2"},
                {"board": "b-2", "motion": "m-1"},
            ],
        });
        page_part(
            &mut serde_json::json!({"decisions": decisions.clone()}),
            &Part::Board {
                after: String::new(),
            },
        );
        page_rows(&mut decisions, "decisions", decision_key, "b-1\u{0}m-2", 10);
        assert_eq!(
            decisions["decisions"],
            serde_json::json!([{"board": "b-2", "motion": "m-1"}])
        );
    }
}
