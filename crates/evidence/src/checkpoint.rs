//! C2SP `tlog-checkpoint`: the note text `<origin>\n<tree size>\n<base64 root>\n`
//! (extension lines, not recommended, are kept but Accord writes none), signed by
//! the log's key. Accord names the log's key after its origin and requires that
//! match when it opens a checkpoint, so a checkpoint of one log never passes for
//! another's.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use thiserror::Error;

use crate::merkle::Hash;
use crate::note::{Note, NoteError, NoteSigner, VerifierKey};

/// A tree head: which log, how many leaves, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `accord.example/lt-ua/agreements`.
    pub origin: String,
    /// The number of leaves (events).
    pub size: u64,
    /// The RFC 9162 root at that size.
    pub root: Hash,
    /// Extension lines, in order (opaque).
    pub extensions: Vec<String>,
}

/// Why a checkpoint is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CheckpointError {
    /// The note text is not a checkpoint.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// The note around it failed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// Signed by the log's key but for another origin.
    #[error("checkpoint origin {found:?} is not the log {expected:?}")]
    WrongOrigin {
        /// The origin the key names.
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },
}

impl Checkpoint {
    /// The note text, each line ending in a newline.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Reads a checkpoint's note text (not its signatures).
    pub fn parse_text(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or_else(|| {
            CheckpointError::Malformed("the text does not end in a newline".into())
        })?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed(
                "a checkpoint has an origin, a tree size and a root hash line".into(),
            ));
        };
        if origin.is_empty() {
            return Err(CheckpointError::Malformed("the origin is empty".into()));
        }
        let leading_zero = size.len() > 1 && size.starts_with('0');
        if size.is_empty() || leading_zero || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CheckpointError::Malformed(format!(
                "tree size {size:?} is not a decimal without leading zeroes"
            )));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| CheckpointError::Malformed(format!("tree size {size:?} is too large")))?;
        let root: Hash = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                CheckpointError::Malformed(format!("root {root:?} is not 32 bytes in base64"))
            })?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Malformed(
                "an extension line is empty".into(),
            ));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint signed by the log: a whole signed note.
    pub fn sign(&self, log: &NoteSigner) -> Result<String, CheckpointError> {
        if log.verifier().name() != self.origin {
            return Err(CheckpointError::WrongOrigin {
                expected: log.verifier().name().to_owned(),
                found: self.origin.clone(),
            });
        }
        Ok(log.sign(&self.to_text())?)
    }

    /// Opens a signed checkpoint: the log's signature must verify and the origin must
    /// be the log key's name. Answers the checkpoint and the note (whose other
    /// signatures, such as witnesses' cosignatures, the caller may check).
    pub fn open(bytes: &[u8], log: &VerifierKey) -> Result<(Checkpoint, Note), CheckpointError> {
        let note = Note::parse(bytes)?;
        note.verify(std::slice::from_ref(log))?;
        let checkpoint = Checkpoint::parse_text(&note.text)?;
        if checkpoint.origin != log.name() {
            return Err(CheckpointError::WrongOrigin {
                expected: log.name().to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok((checkpoint, note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    fn log() -> NoteSigner {
        let Ok(signer) = NoteSigner::from_seed("accord.test/agreements", [3; 32]) else {
            panic!("a valid name");
        };
        signer
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "accord.test/agreements".into(),
            size: 20852163,
            root: leaf_hash(b"x"),
            extensions: vec![],
        }
    }

    #[test]
    fn given_a_signed_checkpoint_when_opened_with_the_log_key_then_it_reads_back() {
        let Ok(note) = checkpoint().sign(&log()) else {
            panic!("signs");
        };
        assert!(note.starts_with("accord.test/agreements\n20852163\n"));
        let opened = Checkpoint::open(note.as_bytes(), log().verifier());
        assert_eq!(opened.map(|(c, _)| c), Ok(checkpoint()));
    }

    #[test]
    fn given_a_checkpoint_when_any_byte_of_its_text_changes_then_it_no_longer_opens() {
        let Ok(note) = checkpoint().sign(&log()) else {
            panic!("signs");
        };
        let text_len = checkpoint().to_text().len();
        for at in 0..text_len - 1 {
            let mut bytes = note.clone().into_bytes();
            bytes[at] ^= 0x01;
            assert!(
                Checkpoint::open(&bytes, log().verifier()).is_err(),
                "byte {at}"
            );
        }
    }

    #[test]
    fn given_malformed_texts_when_parsed_then_each_is_refused() {
        let root = BASE64.encode([0u8; 32]);
        for bad in [
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("\n1\n{root}\n"),
            "o\n1\nAAAA\n".to_owned(),
            "o\n1\n".to_owned(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}"),
        ] {
            assert!(Checkpoint::parse_text(&bad).is_err(), "{bad:?}");
        }
        let Ok(empty) = Checkpoint::parse_text(&format!("o\n0\n{root}\next\n")) else {
            panic!("size 0 with an extension is a checkpoint");
        };
        assert_eq!((empty.size, empty.extensions), (0, vec!["ext".to_owned()]));
    }

    #[test]
    fn given_a_checkpoint_of_another_origin_when_signed_or_opened_then_refused() {
        let mut other = checkpoint();
        other.origin = "accord.test/projects".into();
        assert!(matches!(
            other.sign(&log()),
            Err(CheckpointError::WrongOrigin { .. })
        ));
        let Ok(forged) = log().sign(&other.to_text()) else {
            panic!("a note");
        };
        assert!(matches!(
            Checkpoint::open(forged.as_bytes(), log().verifier()),
            Err(CheckpointError::WrongOrigin { .. })
        ));
    }
}
