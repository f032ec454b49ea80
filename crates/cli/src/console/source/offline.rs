//! The console offline: copies of data directories, folded as `accord audit replay`
//! folds them.

use std::path::PathBuf;
use std::sync::Mutex;

use accord_kernel::Date;
use accord_runtime::authentication::Trusted;
use serde_json::Value;

use super::{no_proof, read_proof, Proof, Timeline};
use crate::audit::checkpoints::EvidenceKeys;
use crate::audit::history::{self, Subject};
use crate::audit::replay;
use crate::audit::Copy;
use crate::console::as_of::AsOf;

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
    pub(super) fn proof(&self, event_id: uuid::Uuid) -> anyhow::Result<Proof> {
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
    pub(super) fn projections(&self, as_of: &AsOf) -> anyhow::Result<Value> {
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

    pub(super) fn timeline(&self, id: &str) -> anyhow::Result<Timeline> {
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
