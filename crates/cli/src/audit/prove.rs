//! `accord audit prove` and `accord audit check-proof`: a C2SP tlog-proof that one
//! event is in a log's tree at a checkpoint, written beside the event's envelope,
//! and its check offline with public keys only.
//!
//! `prove` proves against a checkpoint the log kept (the one with the most
//! cosignatures among those that cover the event, the latest of them) or one given
//! as a file, and refuses a checkpoint unless the copy's tree has its root.

use std::path::{Path, PathBuf};

use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::merkle::leaf_hash;
use accord_evidence::note::VerifierKey;
use accord_evidence::proof::TlogProof;
use accord_log::{compute_hash, decode_envelope, encode_envelope, Log};

use super::Copy;

/// Why a proof could not be written or does not hold.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Audit(#[from] super::AuditError),
    #[error(transparent)]
    Log(#[from] accord_log::LogError),
}

fn read(path: &Path) -> Result<Vec<u8>, ProveError> {
    std::fs::read(path).map_err(|source| ProveError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ProveError> {
    std::fs::write(path, bytes).map_err(|source| ProveError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The envelope file written beside a proof file.
pub fn envelope_path(proof: &Path) -> PathBuf {
    let mut name = proof.as_os_str().to_owned();
    name.push(".envelope");
    PathBuf::from(name)
}

/// The checkpoint `log` kept that covers `position`, opens with `log_key` and has
/// the most cosignatures (the latest of those).
fn best_kept(log: &Log, position: u64, log_key: &VerifierKey) -> Result<Vec<u8>, ProveError> {
    let mut best: Option<(usize, Vec<u8>)> = None;
    for kept in log.checkpoints() {
        let (size, bytes) = kept?;
        if size < position {
            continue;
        }
        let Ok((_, note)) = Checkpoint::open(&bytes, log_key) else {
            continue;
        };
        let signatures = note.signatures.len();
        if best.as_ref().is_none_or(|(most, _)| signatures >= *most) {
            best = Some((signatures, bytes));
        }
    }
    best.map(|(_, bytes)| bytes).ok_or_else(|| {
        ProveError::Refused(format!(
            "the log keeps no checkpoint signed by {} that covers position {position}: give one \
             with --checkpoint, or wait for the service's next checkpoint",
            log_key.name()
        ))
    })
}

/// Writes the proof that event `event_id` of the log in `dir` is in the tree of
/// `checkpoint` (a signed note, opened with `log_key`; `None`: the best one the
/// log kept) to `out`, and the event's envelope to `<out>.envelope`. Answers the
/// event's position.
pub fn prove(
    dir: &Path,
    event_id: uuid::Uuid,
    checkpoint: Option<&Path>,
    log_key: &VerifierKey,
    out: &Path,
) -> Result<u64, ProveError> {
    let copy = Copy::of(dir)?;
    let log = Log::open(copy.path())?;
    prove_in(
        &log,
        &dir.display().to_string(),
        event_id,
        checkpoint,
        log_key,
        out,
    )
}

/// [`prove`] on an open log, named `dir` in errors.
pub fn prove_in(
    log: &Log,
    dir: &str,
    event_id: uuid::Uuid,
    checkpoint: Option<&Path>,
    log_key: &VerifierKey,
    out: &Path,
) -> Result<u64, ProveError> {
    let event = log
        .read_all(1)
        .find(|e| e.as_ref().map_or(true, |e| e.event_id == event_id))
        .transpose()?
        .ok_or_else(|| ProveError::Refused(format!("no event {event_id} in {dir}")))?;
    let (text, named) = match checkpoint {
        Some(path) => (read(path)?, path.display().to_string()),
        None => (
            best_kept(log, event.position, log_key)?,
            "the kept checkpoint".to_owned(),
        ),
    };
    let (kept, _) = Checkpoint::open(&text, log_key)
        .map_err(|e| ProveError::Refused(format!("{named}: {e}")))?;
    if event.position > kept.size {
        return Err(ProveError::Refused(format!(
            "event {event_id} is at position {}, after the checkpoint's size {}: prove it \
             against a later checkpoint",
            event.position, kept.size
        )));
    }
    if log.durable_position() < kept.size || log.tree_root(kept.size)? != kept.root {
        return Err(ProveError::Refused(format!(
            "the log in {dir} does not have the checkpoint's root at size {}: it does not \
             extend that checkpoint (see `accord audit consistency`)",
            kept.size
        )));
    }
    let proof = TlogProof {
        extra: None,
        index: event.position - 1,
        path: log.inclusion_proof(event.position, kept.size)?,
        checkpoint: String::from_utf8_lossy(&text).into_owned(),
    };
    write(out, proof.to_text().as_bytes())?;
    write(&envelope_path(out), &encode_envelope(&event))?;
    Ok(event.position)
}

/// What a proof showed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProofReport {
    pub origin: String,
    pub position: u64,
    pub event_id: String,
    pub event_type: String,
    pub checkpoint_size: u64,
    pub cosigned_by: Vec<(String, u64)>,
}

/// Checks the proof in `proof` for the envelope in `envelope` with public keys only:
/// the envelope's own hash, its position, its inclusion in the checkpoint's tree,
/// the log's signature and at least `threshold` of `witnesses`' cosignatures.
pub fn check(
    proof: &Path,
    envelope: &Path,
    log_key: &VerifierKey,
    witnesses: &[CosignerKey],
    threshold: usize,
) -> Result<ProofReport, ProveError> {
    let parsed = TlogProof::parse(&read(proof)?)
        .map_err(|e| ProveError::Refused(format!("{}: {e}", proof.display())))?;
    let event = decode_envelope(&read(envelope)?).map_err(|e| {
        ProveError::Refused(format!("{}: not an envelope: {e}", envelope.display()))
    })?;
    if compute_hash(&event) != event.hash {
        return Err(ProveError::Refused(format!(
            "{}: the event does not hash to its stored hash: it was altered",
            envelope.display()
        )));
    }
    if event.position != parsed.index + 1 {
        return Err(ProveError::Refused(format!(
            "the event is at position {}, the proof is for index {} (position {})",
            event.position,
            parsed.index,
            parsed.index + 1
        )));
    }
    let verified = parsed
        .verify(&leaf_hash(&event.hash.0), log_key, witnesses, threshold)
        .map_err(|e| ProveError::Refused(e.to_string()))?;
    Ok(ProofReport {
        origin: verified.checkpoint.origin,
        position: event.position,
        event_id: event.event_id.to_string(),
        event_type: event.event_type,
        checkpoint_size: verified.checkpoint.size,
        cosigned_by: verified.witnesses,
    })
}
