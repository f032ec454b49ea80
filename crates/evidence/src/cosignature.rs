//! C2SP `tlog-cosignature`, the Ed25519 `cosignature/v1` type (signature type 0x04):
//! a witness's statement that, as of a time, the checkpoint is the largest
//! consistent tree head it has seen for that log. It is a signed-note signature line
//! on the checkpoint, `— <witness name> base64(key id || timestamp || signature)`,
//! with the key id SHA-256(name || 0x0A || 0x04 || public key)[:4], the timestamp a
//! u64 big-endian (POSIX seconds, at most 2^63 − 1) and the Ed25519 signature over
//!
//! ```text
//! cosignature/v1
//! time <timestamp, decimal, no leading zeros>
//! <the checkpoint's note text, with its final newline>
//! ```
//!
//! Keys are written like note keys, with type byte 0x04:
//! `<name>+<key id>+base64(0x04 || public key)` and
//! `PRIVATE+KEY+<name>+<key id>+base64(0x04 || seed)`.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use thiserror::Error;

use crate::note::{
    check_key_name, key_id, key_string, parse_key_string, Note, NoteError, NoteSignature,
};

/// The signature type byte of a `cosignature/v1`.
pub const COSIGNATURE_V1: u8 = 0x04;

/// The largest timestamp a cosignature may carry.
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;

/// Why a cosignature or a cosigner key is refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CosignatureError {
    /// A key string is not as written above.
    #[error("malformed cosigner key: {0}")]
    MalformedKey(String),
    /// The note carries no signature line of this cosigner (name and key id).
    #[error("no cosignature by {name}")]
    Missing {
        /// The cosigner's name.
        name: String,
    },
    /// The cosigner's line is not key id, timestamp and a 64-byte signature, or its
    /// timestamp is out of range.
    #[error("cosignature by {name} is malformed: {why}")]
    Malformed { name: String, why: String },
    /// The cosigner's signature does not verify over the checkpoint and its time.
    #[error("cosignature by {name} does not verify")]
    BadSignature { name: String },
    /// The note itself is refused.
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// The message a `cosignature/v1` signs: the header, the time line, the checkpoint.
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// A witness's public key: what a verifier is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignerKey {
    name: String,
    id: u32,
    public: VerifyingKey,
}

impl CosignerKey {
    /// The cosigner key for `public` under `name`, with the spec's key id.
    pub fn new(name: &str, public: VerifyingKey) -> Result<CosignerKey, CosignatureError> {
        check_key_name(name)?;
        Ok(CosignerKey {
            name: name.to_owned(),
            id: key_id(name, COSIGNATURE_V1, public.as_bytes()),
            public,
        })
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Finds this cosigner's line in `note` (a checkpoint), verifies it and answers
    /// its timestamp.
    pub fn verify(&self, note: &Note) -> Result<u64, CosignatureError> {
        let line = note
            .signatures
            .iter()
            .find(|s| s.name == self.name && s.id == self.id)
            .ok_or_else(|| CosignatureError::Missing {
                name: self.name.clone(),
            })?;
        self.verify_line(&note.text, line)
    }

    /// Verifies one signature line over the checkpoint text `text`.
    pub fn verify_line(&self, text: &str, line: &NoteSignature) -> Result<u64, CosignatureError> {
        let malformed = |why: &str| CosignatureError::Malformed {
            name: self.name.clone(),
            why: why.to_owned(),
        };
        if line.signature.len() != 8 + 64 {
            return Err(malformed("not an 8-byte timestamp and a 64-byte signature"));
        }
        let (time, signature) = line.signature.split_at(8);
        let mut be = [0u8; 8];
        be.copy_from_slice(time);
        let timestamp = u64::from_be_bytes(be);
        if timestamp > MAX_TIMESTAMP {
            return Err(malformed("timestamp above 2^63 - 1"));
        }
        let signature =
            Signature::from_slice(signature).map_err(|_| malformed("bad signature bytes"))?;
        self.public
            .verify_strict(signed_message(text, timestamp).as_bytes(), &signature)
            .map_err(|_| CosignatureError::BadSignature {
                name: self.name.clone(),
            })?;
        Ok(timestamp)
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&key_string(
            &self.name,
            self.id,
            COSIGNATURE_V1,
            self.public.as_bytes(),
        ))
    }
}

/// Splits a key string of type 0x04 (see [`crate::note`]'s key strings).
fn key_parts(text: &str) -> Result<(&str, u32, [u8; 32]), CosignatureError> {
    parse_key_string(text.trim(), COSIGNATURE_V1)
        .map_err(|e| CosignatureError::MalformedKey(e.to_string()))
}

impl FromStr for CosignerKey {
    type Err = CosignatureError;

    fn from_str(text: &str) -> Result<CosignerKey, CosignatureError> {
        let (name, id, public) = key_parts(text)?;
        let public = VerifyingKey::from_bytes(&public)
            .map_err(|_| CosignatureError::MalformedKey("not an Ed25519 public key".into()))?;
        let parsed = CosignerKey::new(name, public)?;
        if parsed.id != id {
            return Err(CosignatureError::MalformedKey(format!(
                "key id {id:08x} is not the id of that name and key"
            )));
        }
        Ok(parsed)
    }
}

/// A witness's signing key. Its `Debug` never shows the seed.
#[derive(Clone)]
pub struct Cosigner {
    verifier: CosignerKey,
    key: SigningKey,
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosigner")
            .field("verifier", &self.verifier.to_string())
            .finish_non_exhaustive()
    }
}

impl Cosigner {
    /// The cosigner named `name` with the Ed25519 key of `seed`.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Cosigner, CosignatureError> {
        let key = SigningKey::from_bytes(&seed);
        Ok(Cosigner {
            verifier: CosignerKey::new(name, key.verifying_key())?,
            key,
        })
    }

    /// The public key that checks this cosigner's signatures.
    pub fn verifier(&self) -> &CosignerKey {
        &self.verifier
    }

    /// The signer key string, a secret.
    pub fn to_secret_string(&self) -> String {
        let (name, id) = (&self.verifier.name, self.verifier.id);
        format!(
            "PRIVATE+KEY+{}",
            key_string(name, id, COSIGNATURE_V1, self.key.as_bytes())
        )
    }

    /// The cosignature line of checkpoint text `text` at `timestamp` (clamped to
    /// [`MAX_TIMESTAMP`]).
    pub fn cosign(&self, text: &str, timestamp: u64) -> NoteSignature {
        let timestamp = timestamp.min(MAX_TIMESTAMP);
        let signature = self.key.sign(signed_message(text, timestamp).as_bytes());
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        NoteSignature {
            name: self.verifier.name.clone(),
            id: self.verifier.id,
            signature: bytes,
        }
    }
}

impl FromStr for Cosigner {
    type Err = CosignatureError;

    fn from_str(text: &str) -> Result<Cosigner, CosignatureError> {
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(|| {
            CosignatureError::MalformedKey("a signer key starts with PRIVATE+KEY+".into())
        })?;
        let (name, id, seed) = key_parts(rest)?;
        let cosigner = Cosigner::from_seed(name, seed)?;
        if cosigner.verifier.id != id {
            return Err(CosignatureError::MalformedKey(format!(
                "key id {id:08x} is not the id of that name and key"
            )));
        }
        Ok(cosigner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;

    const CHECKPOINT: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    fn witness() -> Cosigner {
        let Ok(cosigner) = Cosigner::from_seed("witness.example/lt", [7; 32]) else {
            panic!("a valid name");
        };
        cosigner
    }

    #[test]
    fn given_the_specs_example_line_then_its_key_id_and_timestamp_read_as_the_spec_says() {
        // The example cosignature of C2SP tlog-cosignature: its payload starts with
        // the key id, then 1679315147 (the example's `time` line) as a u64.
        let Ok(note) = Note::parse(
            format!("{CHECKPOINT}\n\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n").as_bytes(),
        ) else {
            panic!("the spec's example parses");
        };
        let line = &note.signatures[0];
        assert_eq!(line.id, 0x8d66_cf3f);
        assert_eq!(line.signature.len(), 72);
        assert_eq!(
            u64::from_be_bytes(line.signature[..8].try_into().unwrap_or_default()),
            1_679_315_147
        );
    }

    #[test]
    fn given_a_cosignature_when_verified_then_its_time_is_answered_and_any_change_fails() {
        let witness = witness();
        let line = witness.cosign(CHECKPOINT, 1_733_000_000);
        let Ok(note) = Note::parse(format!("{CHECKPOINT}\n{}", line.to_line()).as_bytes()) else {
            panic!("a cosigned checkpoint parses");
        };
        assert_eq!(witness.verifier().verify(&note), Ok(1_733_000_000));
        // The key id is the spec's, with type 0x04: not the note key id of 0x01.
        assert_eq!(
            witness.verifier().id(),
            key_id(
                "witness.example/lt",
                0x04,
                witness.verifier().public.as_bytes()
            )
        );
        assert_ne!(
            witness.verifier().id(),
            key_id(
                "witness.example/lt",
                0x01,
                witness.verifier().public.as_bytes()
            )
        );
        // Another time, another checkpoint, a flipped signature bit: refused.
        let mut later = line.clone();
        later.signature[7] ^= 1;
        assert!(matches!(
            witness.verifier().verify_line(CHECKPOINT, &later),
            Err(CosignatureError::BadSignature { .. })
        ));
        let other = CHECKPOINT.replace("20852163", "20852164");
        assert!(witness.verifier().verify_line(&other, &line).is_err());
        for byte in 8..72 {
            let mut bad = line.clone();
            bad.signature[byte] ^= 0x10;
            assert!(
                witness.verifier().verify_line(CHECKPOINT, &bad).is_err(),
                "byte {byte}"
            );
        }
        let mut short = line.clone();
        short.signature.pop();
        assert!(matches!(
            witness.verifier().verify_line(CHECKPOINT, &short),
            Err(CosignatureError::Malformed { .. })
        ));
        let Ok(alone) =
            Note::parse(format!("{CHECKPOINT}\n\u{2014} someone AAAAAAAA\n").as_bytes())
        else {
            panic!("parses");
        };
        assert!(matches!(
            witness.verifier().verify(&alone),
            Err(CosignatureError::Missing { .. })
        ));
    }

    #[test]
    fn given_key_strings_then_they_round_trip_and_a_wrong_type_or_id_is_refused() {
        let witness = witness();
        let public = witness.verifier().to_string();
        assert_eq!(
            public.parse::<CosignerKey>().as_ref(),
            Ok(witness.verifier())
        );
        let secret = witness.to_secret_string();
        let Ok(parsed) = secret.parse::<Cosigner>() else {
            panic!("the secret string parses");
        };
        assert_eq!(parsed.verifier(), witness.verifier());
        assert!(format!("{witness:?}").contains(&public));
        assert!(!format!("{witness:?}").contains(&secret));
        // The same key as a note key (type 0x01) is not a cosigner key.
        let mut bytes = vec![0x01];
        bytes.extend_from_slice(witness.verifier().public.as_bytes());
        let as_note_key = format!(
            "witness.example/lt+{:08x}+{}",
            witness.verifier().id(),
            BASE64.encode(bytes)
        );
        assert!(as_note_key.parse::<CosignerKey>().is_err());
        let wrong_id = public.replacen(&format!("{:08x}", witness.verifier().id()), "00000000", 1);
        assert!(wrong_id.parse::<CosignerKey>().is_err());
    }
}
