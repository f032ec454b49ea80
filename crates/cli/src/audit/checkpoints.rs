//! The checkpoints a log kept, as `accord audit verify` checks them: each one's root
//! against the log's Merkle tree at its size, its log signature (with the log's
//! public key, when given) and its witnesses' cosignatures (with their public keys,
//! when given); then, per witness, the last size it co-signed and how many events it
//! has not witnessed yet. The roots are read from the stored tree (O(log n) tiles
//! each), which the chain walk before has compared tile by tile with the tree
//! rebuilt from the events: nothing is hashed twice.

use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::merkle::Hash;
use accord_evidence::note::{Note, VerifierKey};
use serde::Serialize;

use super::problem::Problem;

/// The public keys checkpoints are checked with: log keys (matched by origin) and
/// witnesses' cosigner keys.
#[derive(Debug, Clone, Default)]
pub struct EvidenceKeys {
    pub logs: Vec<VerifierKey>,
    pub witnesses: Vec<CosignerKey>,
}

/// What one witness co-signed of a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessSummary {
    pub name: String,
    /// Whether its cosignatures were verified with its key (`--witness`); when not,
    /// its lines were only read.
    pub verified: bool,
    /// The largest checkpoint size it co-signed (0: none).
    pub last_size: u64,
    /// Events of the log after that size.
    pub not_witnessed: u64,
}

/// The checkpoints of one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointSummary {
    pub kept: u64,
    pub origin: Option<String>,
    pub latest_size: Option<u64>,
    /// `verified`, or why the log's signatures were not checked.
    pub log_signature: String,
    pub witnesses: Vec<WitnessSummary>,
}

/// The checkpoints a closed log kept, each with the root of the log's stored tree
/// at its size (`None` past the log's end).
#[derive(Debug)]
pub struct CheckpointCheck {
    kept: Vec<(u64, Vec<u8>)>,
    roots: Vec<Option<Hash>>,
}

fn problem(code: &'static str, size: u64, reason: String) -> Problem {
    Problem {
        code,
        position: Some(size),
        event_id: None,
        reason,
    }
}

impl CheckpointCheck {
    /// The checkpoints kept in the copy at `path` (a closed log whose chain and tree
    /// verified), smallest first, and the tree's root at each one's size.
    pub fn read(path: &std::path::Path) -> Result<CheckpointCheck, Problem> {
        let storage = |e: accord_log::LogError| Problem {
            code: "storage",
            position: None,
            event_id: None,
            reason: e.to_string(),
        };
        let db = accord_log::open_storage(path).map_err(storage)?;
        let kept = accord_log::stored_checkpoints(&db)
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        let roots = kept
            .iter()
            .map(|(size, _)| accord_log::stored_tree_root(&db, *size).ok())
            .collect();
        Ok(CheckpointCheck { kept, roots })
    }

    /// Checks every kept checkpoint against the roots seen, for a log of `events`
    /// events, and sums up who co-signed what.
    pub fn finish(self, events: u64, keys: &EvidenceKeys) -> Result<CheckpointSummary, Problem> {
        let mut summary = CheckpointSummary {
            kept: self.kept.len() as u64,
            origin: None,
            latest_size: self.kept.last().map(|(size, _)| *size),
            log_signature: "no checkpoints".into(),
            witnesses: keys
                .witnesses
                .iter()
                .map(|w| WitnessSummary {
                    name: w.name().to_owned(),
                    verified: true,
                    last_size: 0,
                    not_witnessed: events,
                })
                .collect(),
        };
        for (index, (size, bytes)) in self.kept.iter().enumerate() {
            let size = *size;
            let malformed = |why: String| problem("checkpoint_malformed", size, why);
            let note = Note::parse(bytes).map_err(|e| malformed(e.to_string()))?;
            let checkpoint =
                Checkpoint::parse_text(&note.text).map_err(|e| malformed(e.to_string()))?;
            if checkpoint.size != size {
                return Err(malformed(format!(
                    "kept under size {size} but says size {}",
                    checkpoint.size
                )));
            }
            match &summary.origin {
                Some(origin) if *origin != checkpoint.origin => {
                    return Err(problem(
                        "checkpoint_origin",
                        size,
                        format!(
                            "origin {} where the earlier checkpoints say {origin}",
                            checkpoint.origin
                        ),
                    ))
                }
                _ => summary.origin = Some(checkpoint.origin.clone()),
            }
            let Some(root) = self.roots.get(index).copied().flatten() else {
                return Err(problem(
                    "checkpoint_beyond_log",
                    size,
                    format!("a checkpoint of size {size} is kept, but the log holds {events} events: it was cut back"),
                ));
            };
            if root != checkpoint.root {
                return Err(problem(
                    "checkpoint_mismatch",
                    size,
                    format!("the tree of the first {size} events is not the one the log signed: the events up to {size} were changed after it"),
                ));
            }
            summary.log_signature = match keys.logs.iter().find(|k| k.name() == checkpoint.origin) {
                Some(key) => {
                    Checkpoint::open(bytes, key)
                        .map_err(|e| problem("checkpoint_bad_signature", size, e.to_string()))?;
                    "verified".into()
                }
                None => format!("not checked: no --log-key for {}", checkpoint.origin),
            };
            for line in note
                .signatures
                .iter()
                .filter(|s| s.name != checkpoint.origin)
            {
                let key = keys
                    .witnesses
                    .iter()
                    .find(|k| k.name() == line.name && k.id() == line.id);
                if let Some(key) = key {
                    key.verify_line(&note.text, line)
                        .map_err(|e| problem("bad_cosignature", size, e.to_string()))?;
                }
                let at = match summary.witnesses.iter().position(|w| w.name == line.name) {
                    Some(at) => at,
                    None => {
                        summary.witnesses.push(WitnessSummary {
                            name: line.name.clone(),
                            verified: key.is_some(),
                            last_size: 0,
                            not_witnessed: events,
                        });
                        summary.witnesses.len() - 1
                    }
                };
                let witness = &mut summary.witnesses[at];
                witness.last_size = witness.last_size.max(size);
                witness.not_witnessed = events - witness.last_size;
            }
        }
        Ok(summary)
    }
}
