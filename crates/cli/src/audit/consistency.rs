//! `accord audit consistency CHECKPOINT DIR`: does the log in DIR extend a checkpoint
//! the auditor kept earlier? The tree is recomputed from the copy's events (not read
//! from its stored tiles, which whoever holds the data could have recomputed too):
//! the root of its first `size` events must be the checkpoint's root.

use std::path::Path;

use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::merkle::{leaf_hash, Hash};
use accord_evidence::note::VerifierKey;
use accord_evidence::tiles::TileBuilder;
use base64::Engine as _;

use super::{events, Copy};

/// What the comparison found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConsistencyReport {
    pub origin: String,
    /// The checkpoint's size and root (base64).
    pub checkpoint_size: u64,
    pub checkpoint_root: String,
    /// The witnesses given whose cosignature on the checkpoint verifies, with its time.
    pub cosigned_by: Vec<(String, u64)>,
    /// Events in the log now, and the root of them all (base64).
    pub log_size: u64,
    pub log_root: String,
    /// Whether the log extends the checkpoint.
    pub consistent: bool,
    /// Why not, when it does not.
    pub problem: Option<String>,
}

/// Why the comparison could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum ConsistencyError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Checkpoint { path: String, why: String },
    #[error(transparent)]
    Audit(#[from] super::AuditError),
    #[error(transparent)]
    Log(#[from] accord_log::LogError),
    #[error("the tree could not be recomputed: {0}")]
    Tree(String),
}

fn base64(hash: &Hash) -> String {
    base64::engine::general_purpose::STANDARD.encode(hash)
}

/// Compares the log in `dir` (copied first) with the signed checkpoint in
/// `checkpoint`, which must open with `log_key`; `witnesses` are checked for their
/// cosignatures on it.
pub fn check(
    checkpoint: &Path,
    dir: &Path,
    log_key: &VerifierKey,
    witnesses: &[CosignerKey],
) -> Result<ConsistencyReport, ConsistencyError> {
    let bytes = std::fs::read(checkpoint).map_err(|source| ConsistencyError::Read {
        path: checkpoint.display().to_string(),
        source,
    })?;
    let (kept, note) =
        Checkpoint::open(&bytes, log_key).map_err(|e| ConsistencyError::Checkpoint {
            path: checkpoint.display().to_string(),
            why: e.to_string(),
        })?;
    let mut cosigned_by = Vec::new();
    for witness in witnesses {
        if let Ok(time) = witness.verify(&note) {
            cosigned_by.push((witness.name().to_owned(), time));
        }
    }
    let copy = Copy::of(dir)?;
    // Only the edge is kept: memory stays O(log n) however long the log.
    let mut tree = TileBuilder::new().storing_from(u32::MAX);
    let root_of = |tree: &TileBuilder| {
        tree.root()
            .map_err(|e| ConsistencyError::Tree(e.to_string()))
    };
    let mut at_checkpoint = if kept.size == 0 {
        Some(root_of(&tree)?)
    } else {
        None
    };
    for event in events(&copy)? {
        let event = event?;
        tree.push(leaf_hash(&event.hash.0));
        if tree.size() == kept.size {
            at_checkpoint = Some(root_of(&tree)?);
        }
    }
    let problem = match at_checkpoint {
        None => Some(format!(
            "the log holds {} events, but the checkpoint names {}: events {} to {} are gone \
             (the log was cut back, or this is another log)",
            tree.size(),
            kept.size,
            tree.size() + 1,
            kept.size
        )),
        Some(root) if root != kept.root => Some(format!(
            "the first {} events of this log have root {}, not the checkpoint's {}: \
             history at or before position {} was changed after the checkpoint was made",
            kept.size,
            base64(&root),
            base64(&kept.root),
            kept.size
        )),
        Some(_) => None,
    };
    Ok(ConsistencyReport {
        origin: kept.origin,
        checkpoint_size: kept.size,
        checkpoint_root: base64(&kept.root),
        cosigned_by,
        log_size: tree.size(),
        log_root: base64(&root_of(&tree)?),
        consistent: problem.is_none(),
        problem,
    })
}

/// The report as text.
pub fn render(report: &ConsistencyReport) -> String {
    let mut out = format!(
        "checkpoint {} size {} root {}\n",
        report.origin, report.checkpoint_size, report.checkpoint_root
    );
    if report.cosigned_by.is_empty() {
        out.push_str("co-signed by none of the witnesses given\n");
    }
    for (name, time) in &report.cosigned_by {
        out.push_str(&format!("co-signed by {name} at {time} (unix seconds)\n"));
    }
    out.push_str(&format!(
        "log now {} events, root {}\n",
        report.log_size, report.log_root
    ));
    match &report.problem {
        None => out.push_str("consistent: the log extends the checkpoint\n"),
        Some(problem) => out.push_str(&format!("NOT CONSISTENT: {problem}\n")),
    }
    out
}
