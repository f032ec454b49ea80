//! What a witness decides, per C2SP `tlog-witness` (`add-checkpoint`), without I/O:
//! given the logs it trusts and the last checkpoint it co-signed for each, a request
//! (old size, consistency proof, new signed checkpoint) is co-signed only if the new
//! checkpoint is signed by the log and extends what the witness co-signed before.
//! Anything else — a rewritten history, a log cut back to an earlier size, a split
//! view — is refused with the spec's reason, and the witness's record is unchanged.
//!
//! The caller keeps the record durably *before* it answers (the spec's atomic
//! check-and-update; see `accord witness`).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use thiserror::Error;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::cosignature::Cosigner;
use crate::merkle::{verify_consistency, Hash};
use crate::note::{NoteError, VerifierKey};

/// At most this many consistency proof lines (the spec's limit).
pub const MAX_PROOF_LINES: usize = 63;

/// An `add-checkpoint` request: the body the spec defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the log believes the witness co-signed last.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the new checkpoint's size.
    pub proof: Vec<Hash>,
    /// The new checkpoint, a signed note, verbatim.
    pub checkpoint: String,
}

/// What the witness keeps per log: the last checkpoint it co-signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub size: u64,
    pub root: Hash,
    /// The co-signed checkpoint as it came (the log's signed note).
    pub checkpoint: String,
}

/// Why a witness refuses; each maps to the spec's HTTP status.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The body is not an add-checkpoint request (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The checkpoint's origin is not a log this witness trusts (404).
    #[error("unknown log {0:?}")]
    UnknownLog(String),
    /// No signature by the log's key verifies (403).
    #[error("the checkpoint is not signed by the log: {0}")]
    NotSigned(String),
    /// The old size is not the size the witness co-signed last (409, with that size).
    #[error("the witness co-signed size {latest} last, not {claimed}")]
    StaleOldSize { claimed: u64, latest: u64 },
    /// Same size as the last co-signed checkpoint, another root: a split view or a
    /// rewrite (409).
    #[error(
        "size {size} was co-signed with another root: the log was rewritten or shows two views"
    )]
    RootMismatch { size: u64 },
    /// The new checkpoint is smaller than the old size (400): a truncated log.
    #[error("the checkpoint's size {new} is below the old size {old}: the log was cut back")]
    Shrinks { old: u64, new: u64 },
    /// The consistency proof does not verify (422): the new tree does not extend the
    /// co-signed one.
    #[error("the checkpoint of size {new} does not extend the co-signed one of size {old}: {why}")]
    Inconsistent { old: u64, new: u64, why: String },
}

impl Refusal {
    /// The HTTP status `tlog-witness` gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) | Refusal::Shrinks { .. } => 400,
            Refusal::NotSigned(_) => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::StaleOldSize { .. } | Refusal::RootMismatch { .. } => 409,
            Refusal::Inconsistent { .. } => 422,
        }
    }

    /// Whether the request is evidence that the log misbehaved (signed by the log,
    /// yet not an extension of what the witness co-signed): an alarm to raise.
    pub fn is_alarm(&self) -> bool {
        matches!(
            self,
            Refusal::RootMismatch { .. } | Refusal::Shrinks { .. } | Refusal::Inconsistent { .. }
        )
    }
}

impl AddCheckpoint {
    /// The request body: `old N`, proof lines, an empty line, the checkpoint.
    pub fn to_text(&self) -> String {
        let mut text = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            text.push_str(&BASE64.encode(hash));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint);
        text
    }

    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, Refusal> {
        let bad = |why: &str| Refusal::BadRequest(why.to_owned());
        let text = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|line| line.strip_prefix("old "))
            .ok_or_else(|| bad("the first line is not `old <size>`"))?;
        if old.is_empty()
            || (old.len() > 1 && old.starts_with('0'))
            || !old.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("the old size is not a decimal without leading zeros"));
        }
        let old_size = old
            .parse()
            .map_err(|_| bad("the old size is out of range"))?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("more than 63 consistency proof lines"));
            }
            let bytes = BASE64
                .decode(line)
                .map_err(|_| bad("a proof line is not base64"))?;
            let hash: Hash = bytes
                .try_into()
                .map_err(|_| bad("a proof line is not a 32-byte hash"))?;
            proof.push(hash);
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

/// What the witness answers when it co-signs: the new record to keep (durably,
/// before answering) and the cosignature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    pub record: Record,
    /// The cosignature, one note signature line with its newline.
    pub line: String,
}

/// Decides an add-checkpoint request. `logs` are the log keys the witness trusts
/// (named by their origin); `latest` finds the record kept for an origin.
pub fn add_checkpoint(
    logs: &[VerifierKey],
    latest: impl FnOnce(&str) -> Option<Record>,
    request: &AddCheckpoint,
    cosigner: &Cosigner,
    now: u64,
) -> Result<Cosigned, Refusal> {
    let origin = request
        .checkpoint
        .split('\n')
        .next()
        .unwrap_or_default()
        .to_owned();
    let log = logs
        .iter()
        .find(|key| key.name() == origin)
        .ok_or_else(|| Refusal::UnknownLog(origin.clone()))?;
    let (checkpoint, note) =
        Checkpoint::open(request.checkpoint.as_bytes(), log).map_err(|e| match e {
            CheckpointError::Note(NoteError::Malformed(why)) => Refusal::BadRequest(why),
            CheckpointError::Malformed(why) => Refusal::BadRequest(why),
            other => Refusal::NotSigned(other.to_string()),
        })?;
    let record = latest(&origin);
    let (latest_size, latest_root) = record
        .as_ref()
        .map_or((0, None), |r| (r.size, Some(r.root)));
    if request.old_size > checkpoint.size {
        return Err(Refusal::Shrinks {
            old: request.old_size,
            new: checkpoint.size,
        });
    }
    if request.old_size != latest_size {
        return Err(Refusal::StaleOldSize {
            claimed: request.old_size,
            latest: latest_size,
        });
    }
    match latest_root {
        None => {
            if !request.proof.is_empty() {
                return Err(Refusal::BadRequest(
                    "a proof from size 0 must be empty".into(),
                ));
            }
        }
        Some(root) if latest_size == checkpoint.size => {
            if root != checkpoint.root {
                return Err(Refusal::RootMismatch { size: latest_size });
            }
        }
        Some(root) => {
            verify_consistency(
                latest_size,
                checkpoint.size,
                &request.proof,
                &root,
                &checkpoint.root,
            )
            .map_err(|e| Refusal::Inconsistent {
                old: latest_size,
                new: checkpoint.size,
                why: e.to_string(),
            })?;
        }
    }
    let line = cosigner.cosign(&note.text, now).to_line();
    Ok(Cosigned {
        record: Record {
            size: checkpoint.size,
            root: checkpoint.root,
            checkpoint: request.checkpoint.clone(),
        },
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{consistency_proof, leaf_hash, root, MemoryTree};
    use crate::note::NoteSigner;

    const ORIGIN: &str = "accord.example/lt-ua/agreements";

    fn log_key() -> NoteSigner {
        let Ok(key) = NoteSigner::from_seed(ORIGIN, [3; 32]) else {
            panic!("valid origin");
        };
        key
    }

    fn witness() -> Cosigner {
        let Ok(w) = Cosigner::from_seed("witness.lt.example", [9; 32]) else {
            panic!("valid name");
        };
        w
    }

    fn tree(leaves: &[&str]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(leaf_hash(leaf.as_bytes()));
        }
        tree
    }

    fn signed(tree: &MemoryTree, size: u64, key: &NoteSigner) -> String {
        let Ok(at) = root(tree, size);
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: at,
            extensions: vec![],
        };
        let Ok(note) = checkpoint.sign(key) else {
            panic!("signs");
        };
        note
    }

    fn request(tree: &MemoryTree, old: u64, new: u64, key: &NoteSigner) -> AddCheckpoint {
        let proof = if old == 0 {
            vec![]
        } else {
            let Ok(proof) = consistency_proof(tree, old, new) else {
                panic!("proof");
            };
            proof
        };
        AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: signed(tree, new, key),
        }
    }

    fn decide(record: Option<Record>, request: &AddCheckpoint) -> Result<Cosigned, Refusal> {
        let logs = [log_key().verifier().clone()];
        add_checkpoint(&logs, |_| record, request, &witness(), 1_733_000_000)
    }

    const HISTORY: [&str; 6] = [
        "sign",
        "accept",
        "progress 10",
        "progress 20",
        "amend",
        "progress 30",
    ];

    #[test]
    fn given_a_growing_log_then_each_extension_is_cosigned_and_the_cosignature_verifies() {
        let log = tree(&HISTORY);
        let Ok(first) = decide(None, &request(&log, 0, 3, &log_key())) else {
            panic!("first checkpoint cosigned");
        };
        assert_eq!(first.record.size, 3);
        let Ok(second) = decide(Some(first.record.clone()), &request(&log, 3, 6, &log_key()))
        else {
            panic!("extension cosigned");
        };
        assert_eq!(second.record.size, 6);
        let whole = format!("{}{}", second.record.checkpoint, second.line);
        let Ok(note) = crate::note::Note::parse(whole.as_bytes()) else {
            panic!("cosigned checkpoint parses");
        };
        assert_eq!(witness().verifier().verify(&note), Ok(1_733_000_000));
        // The same checkpoint again is cosigned again (same size, same root).
        assert!(decide(
            Some(second.record.clone()),
            &request(&log, 6, 6, &log_key())
        )
        .is_ok());
    }

    #[test]
    fn given_a_rewritten_history_then_the_witness_refuses_and_raises_an_alarm() {
        let log = tree(&HISTORY);
        let Ok(seen) = decide(None, &request(&log, 0, 4, &log_key())) else {
            panic!("cosigned");
        };
        // The operator changes event 2 and re-signs with the log key.
        let mut rewritten = HISTORY;
        rewritten[1] = "accept, amount doubled";
        let forged = tree(&rewritten);
        for (old, new) in [(4, 6), (4, 4)] {
            let refusal = decide(
                Some(seen.record.clone()),
                &request(&forged, old, new, &log_key()),
            );
            let Err(refusal) = refusal else {
                panic!("a rewrite must be refused ({old} -> {new})");
            };
            assert!(refusal.is_alarm(), "{refusal}");
            assert!(matches!(refusal.status(), 409 | 422), "{refusal:?}");
        }
        // A log cut back to 3 events is refused as well.
        let cut = decide(Some(seen.record.clone()), &request(&log, 3, 3, &log_key()));
        assert_eq!(
            cut,
            Err(Refusal::StaleOldSize {
                claimed: 3,
                latest: 4
            })
        );
        let shrink = AddCheckpoint {
            old_size: 4,
            proof: vec![],
            checkpoint: signed(&log, 3, &log_key()),
        };
        let refusal = decide(Some(seen.record.clone()), &shrink);
        assert_eq!(refusal, Err(Refusal::Shrinks { old: 4, new: 3 }));
    }

    #[test]
    fn given_unknown_logs_forged_signatures_or_bad_bodies_then_refused_with_the_specs_status() {
        let log = tree(&HISTORY);
        let Ok(stranger) = NoteSigner::from_seed(ORIGIN, [4; 32]) else {
            panic!("key");
        };
        let forged = decide(None, &request(&log, 0, 2, &stranger));
        assert_eq!(forged.map_err(|r| r.status()), Err(403));
        let Ok(other_log) = NoteSigner::from_seed("accord.example/other", [3; 32]) else {
            panic!("key");
        };
        let mut unknown = request(&log, 0, 2, &log_key());
        unknown.checkpoint = {
            let Ok(at) = root(&log, 2);
            let Ok(note) = Checkpoint {
                origin: "accord.example/other".into(),
                size: 2,
                root: at,
                extensions: vec![],
            }
            .sign(&other_log) else {
                panic!("signs");
            };
            note
        };
        assert_eq!(decide(None, &unknown).map_err(|r| r.status()), Err(404));
        for body in [
            &b"old 01\n\nx"[..],
            b"old 1\nnot base64!\n\nx",
            b"new 1\n\nx",
            b"old 1\n",
        ] {
            assert_eq!(
                AddCheckpoint::parse(body)
                    .map(|_| ())
                    .map_err(|r| r.status()),
                Err(400),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let sent = request(&log, 2, 5, &log_key());
        assert_eq!(AddCheckpoint::parse(sent.to_text().as_bytes()), Ok(sent));
    }
}
