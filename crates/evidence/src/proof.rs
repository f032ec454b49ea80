//! C2SP `tlog-proof` (`c2sp.org/tlog-proof@v1`): a self-contained, offline proof
//! that an entry is in a log whose checkpoint witnesses co-signed.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <zero-based leaf index>
//! <base64 inclusion proof hash, from the leaf's sibling up>...
//!
//! <the co-signed checkpoint, verbatim>
//! ```
//!
//! For Accord the entry at index i is the event at position i + 1, and the leaf is
//! SHA-256(0x00 || the event's hash) (`proto/EVIDENCE.md`).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use thiserror::Error;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::cosignature::{CosignatureError, CosignerKey};
use crate::merkle::{verify_inclusion, Hash, VerifyError};
use crate::note::VerifierKey;

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A proof file's contents, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data.
    pub extra: Option<Vec<u8>>,
    /// The entry's zero-based index in the log.
    pub index: u64,
    /// The inclusion proof in the checkpoint's tree.
    pub path: Vec<Hash>,
    /// The checkpoint with its signatures, verbatim.
    pub checkpoint: String,
}

/// Why a proof does not hold.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProofFileError {
    /// The file is not a tlog-proof.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The checkpoint is not the log's.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The entry is not in the checkpoint's tree.
    #[error("the entry at index {index} is not in the tree of size {size}: {why}")]
    NotIncluded {
        index: u64,
        size: u64,
        why: VerifyError,
    },
    /// A witness's cosignature is there but does not verify.
    #[error(transparent)]
    Cosignature(CosignatureError),
    /// Fewer trusted witnesses co-signed than asked for.
    #[error("{got} of the trusted witnesses co-signed, {want} required (co-signed: {signed})")]
    BelowThreshold {
        got: usize,
        want: usize,
        signed: String,
    },
}

/// What a verified proof shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub checkpoint: Checkpoint,
    /// The trusted witnesses that co-signed, with their timestamps.
    pub witnesses: Vec<(String, u64)>,
}

impl TlogProof {
    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            text.push_str(&format!("extra {}\n", BASE64.encode(extra)));
        }
        text.push_str(&format!("index {}\n", self.index));
        for hash in &self.path {
            text.push_str(&BASE64.encode(hash));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint);
        text
    }

    /// Parses a proof file.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, ProofFileError> {
        let bad = |why: &str| ProofFileError::Malformed(why.to_owned());
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n').peekable();
        if lines.next() != Some(HEADER) {
            return Err(bad("the first line is not c2sp.org/tlog-proof@v1"));
        }
        let extra = match lines.peek().and_then(|l| l.strip_prefix("extra ")) {
            Some(data) => {
                let data = BASE64
                    .decode(data)
                    .map_err(|_| bad("extra is not base64"))?;
                lines.next();
                Some(data)
            }
            None => None,
        };
        let index = lines
            .next()
            .and_then(|l| l.strip_prefix("index "))
            .ok_or_else(|| bad("no `index <n>` line"))?;
        if index.is_empty()
            || (index.len() > 1 && index.starts_with('0'))
            || !index.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("the index is not a decimal without leading zeros"));
        }
        let index = index
            .parse()
            .map_err(|_| bad("the index is out of range"))?;
        let mut path = Vec::new();
        for line in lines {
            if path.len() == 64 {
                return Err(bad("more than 64 proof hashes"));
            }
            let hash = BASE64
                .decode(line)
                .map_err(|_| bad("a proof line is not base64"))?;
            path.push(
                hash.try_into()
                    .map_err(|_| bad("a proof line is not a 32-byte hash"))?,
            );
        }
        Ok(TlogProof {
            extra,
            index,
            path,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Verifies the proof for an entry whose leaf hash is `leaf`: the checkpoint is
    /// signed by `log` (and names it), the entry is in its tree, and at least
    /// `threshold` of `witnesses` co-signed it (a cosignature by a trusted witness
    /// that does not verify fails the proof whole).
    pub fn verify(
        &self,
        leaf: &Hash,
        log: &VerifierKey,
        witnesses: &[CosignerKey],
        threshold: usize,
    ) -> Result<Verified, ProofFileError> {
        let (checkpoint, note) = Checkpoint::open(self.checkpoint.as_bytes(), log)?;
        verify_inclusion(
            self.index,
            checkpoint.size,
            leaf,
            &self.path,
            &checkpoint.root,
        )
        .map_err(|why| ProofFileError::NotIncluded {
            index: self.index,
            size: checkpoint.size,
            why,
        })?;
        let mut cosigned = Vec::new();
        for witness in witnesses {
            match witness.verify(&note) {
                Ok(time) => cosigned.push((witness.name().to_owned(), time)),
                Err(CosignatureError::Missing { .. }) => {}
                Err(other) => return Err(ProofFileError::Cosignature(other)),
            }
        }
        if cosigned.len() < threshold {
            return Err(ProofFileError::BelowThreshold {
                got: cosigned.len(),
                want: threshold,
                signed: cosigned
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(Verified {
            checkpoint,
            witnesses: cosigned,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::Cosigner;
    use crate::merkle::{inclusion_proof, leaf_hash, MemoryTree};
    use crate::note::NoteSigner;

    const ORIGIN: &str = "accord.example/lt-ua/agreements";

    fn keys() -> (NoteSigner, Cosigner, Cosigner) {
        let (Ok(log), Ok(lt), Ok(ua)) = (
            NoteSigner::from_seed(ORIGIN, [1; 32]),
            Cosigner::from_seed("witness.lt.example", [2; 32]),
            Cosigner::from_seed("witness.ua.example", [3; 32]),
        ) else {
            panic!("valid names");
        };
        (log, lt, ua)
    }

    fn proof_of(index: u64, leaves: &[Hash], cosigners: &[&Cosigner]) -> TlogProof {
        let (log, _, _) = keys();
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            tree.push(*leaf);
        }
        let size = tree.size();
        let Ok(path) = inclusion_proof(&tree, index, size) else {
            panic!("proof");
        };
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: tree.root(),
            extensions: vec![],
        };
        let Ok(mut note) = checkpoint.sign(&log) else {
            panic!("signs");
        };
        let text = checkpoint.to_text();
        for cosigner in cosigners {
            note.push_str(&cosigner.cosign(&text, 1_733_000_000 + index).to_line());
        }
        TlogProof {
            extra: None,
            index,
            path,
            checkpoint: note,
        }
    }

    fn leaves() -> Vec<Hash> {
        (0..11u8).map(|i| leaf_hash(&[i; 32])).collect()
    }

    #[test]
    fn given_a_cosigned_proof_then_it_round_trips_and_verifies_with_public_keys_only() {
        let (log, lt, ua) = keys();
        let leaves = leaves();
        let proof = proof_of(6, &leaves, &[&lt, &ua]);
        let text = proof.to_text();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\nindex 6\n"));
        assert_eq!(TlogProof::parse(text.as_bytes()).as_ref(), Ok(&proof));
        let trusted = [lt.verifier().clone(), ua.verifier().clone()];
        let Ok(verified) = proof.verify(&leaves[6], log.verifier(), &trusted, 2) else {
            panic!("verifies");
        };
        assert_eq!(verified.checkpoint.size, 11);
        assert_eq!(verified.witnesses.len(), 2);
        // Another event, or a proof moved to another index, does not verify.
        assert!(matches!(
            proof.verify(&leaves[5], log.verifier(), &trusted, 2),
            Err(ProofFileError::NotIncluded { .. })
        ));
        let mut moved = proof.clone();
        moved.index = 5;
        assert!(moved
            .verify(&leaves[6], log.verifier(), &trusted, 0)
            .is_err());
        let with_extra = TlogProof {
            extra: Some(b"accord".to_vec()),
            ..proof.clone()
        };
        assert_eq!(
            TlogProof::parse(with_extra.to_text().as_bytes()),
            Ok(with_extra)
        );
    }

    #[test]
    fn given_too_few_or_bad_cosignatures_then_the_proof_fails() {
        let (log, lt, ua) = keys();
        let leaves = leaves();
        let trusted = [lt.verifier().clone(), ua.verifier().clone()];
        let only_lt = proof_of(2, &leaves, &[&lt]);
        assert!(only_lt
            .verify(&leaves[2], log.verifier(), &trusted, 1)
            .is_ok());
        assert!(matches!(
            only_lt.verify(&leaves[2], log.verifier(), &trusted, 2),
            Err(ProofFileError::BelowThreshold {
                got: 1,
                want: 2,
                ..
            })
        ));
        // A cosignature changed in transit fails the proof whole.
        let mut tampered = proof_of(2, &leaves, &[&lt, &ua]);
        let at = tampered.checkpoint.len() - 10;
        let replacement = if &tampered.checkpoint[at..=at] == "A" {
            "B"
        } else {
            "A"
        };
        tampered.checkpoint.replace_range(at..=at, replacement);
        assert!(tampered
            .verify(&leaves[2], log.verifier(), &trusted, 1)
            .is_err());
        // Signed by another key under the log's name: not the log's checkpoint.
        let Ok(impostor) = NoteSigner::from_seed(ORIGIN, [9; 32]) else {
            panic!("key");
        };
        assert!(matches!(
            only_lt.verify(&leaves[2], impostor.verifier(), &trusted, 0),
            Err(ProofFileError::Checkpoint(_))
        ));
        for bad in [
            &b"c2sp.org/tlog-proof@v2\nindex 1\n\nx"[..],
            b"c2sp.org/tlog-proof@v1\nindex 01\n\nx",
            b"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx",
        ] {
            assert!(matches!(
                TlogProof::parse(bad),
                Err(ProofFileError::Malformed(_))
            ));
        }
    }
}
