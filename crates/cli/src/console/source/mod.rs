//! Where the console's pages get what they show: copies of data directories
//! (offline, `accord audit console`), or a running Accord (live, under `/console/`
//! on its HTTP address): now through the services' queries over the bus, page by
//! page as any client asks; as of an earlier instant by folding the logs the
//! process runs, as `accord audit replay` folds copies.

use accord_kernel::RecordedEvent;
use accord_runtime::ServiceKind;
use serde_json::Value;

use super::as_of::AsOf;
use crate::audit::history::Entry;

mod live;
mod offline;

pub use live::{Live, LiveEvidence};
pub use offline::Offline;

/// Rows of a list page (agreements, ledger, board, projects) on one page.
pub const LIST_PAGE_ROWS: u32 = 100;
/// Changes of a commitment's timeline on one page (live).
pub const TIMELINE_PAGE_CHANGES: u32 = 200;

/// Where the pages read from.
#[derive(Debug)]
pub enum Source {
    Offline(Offline),
    Live(Live),
}

/// A proof that an event is in a log's witnessed tree, to download: the
/// `c2sp.org/tlog-proof@v1` text and the event's envelope beside it.
#[derive(Debug)]
pub struct Proof {
    pub text: Vec<u8>,
    pub envelope: Vec<u8>,
}

/// What a page shows of the projections. A list page shows the rows after
/// `after` (the previous page's last key; "" first), at most [`LIST_PAGE_ROWS`].
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
/// `after`, at most [`LIST_PAGE_ROWS`].
fn page_part(value: &mut Value, part: &Part) {
    if let Some((listed, after)) = part.listed() {
        page_rows(
            &mut value[listed.projection],
            listed.rows,
            listed.key,
            after,
            LIST_PAGE_ROWS as usize,
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
