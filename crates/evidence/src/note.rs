//! C2SP `signed-note` with Ed25519 (signature type 0x01): a text ending in a newline,
//! a blank line, and signature lines `— <key name> base64(key id || signature)`.
//!
//! Keys are written the way the Go ecosystem (`golang.org/x/mod/sumdb/note`) and the
//! C2SP vectors write them, so existing tools read Accord's:
//! verifier `<name>+<key id, 8 hex digits>+base64(0x01 || public key)`, signer
//! `PRIVATE+KEY+<name>+<key id>+base64(0x01 || seed)`.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The signature type byte of a plain Ed25519 note signature.
pub const ED25519: u8 = 0x01;

/// At most this many signature lines are read (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 64;

/// A note larger than this is refused before it is parsed.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

const DASH: &str = "\u{2014} ";

/// Why a note, a key or a signature is refused; each case says what was wrong.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NoteError {
    /// The bytes are not a note as the spec writes one.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A key name or key string is not as the spec writes it.
    #[error("malformed key: {0}")]
    MalformedKey(String),
    /// A signature by a known key does not verify: the note is rejected whole.
    #[error("signature by {name} does not verify")]
    BadSignature {
        /// The signing key's name.
        name: String,
    },
    /// No signature by any of the given keys.
    #[error("no signature by a known key (known: {known})")]
    NoKnownSignature {
        /// The names of the keys that were looked for.
        known: String,
    },
}

/// The spec's recommended key id: SHA-256(name || 0x0A || type || public key)[:4],
/// big-endian.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0x0A, signature_type]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Checks a key name: non-empty, no Unicode space, no `+`.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() {
        return Err(NoteError::MalformedKey("the key name is empty".into()));
    }
    if name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::MalformedKey(format!(
            "the key name {name:?} holds a space or a '+'"
        )));
    }
    Ok(())
}

/// A key that verifies notes: its name, id and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    public: VerifyingKey,
}

impl VerifierKey {
    /// The verifier key for `public` under `name`, with the spec's key id.
    pub fn new(name: &str, public: VerifyingKey) -> Result<VerifierKey, NoteError> {
        check_key_name(name)?;
        Ok(VerifierKey {
            name: name.to_owned(),
            id: key_id(name, ED25519, public.as_bytes()),
            public,
        })
    }

    /// The key's name (for a log: its origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The Ed25519 public key.
    pub fn public(&self) -> &VerifyingKey {
        &self.public
    }

    /// Whether `signature` (the bytes after the key id) verifies `text` under this key.
    fn verifies(&self, text: &str, signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.public
            .verify_strict(text.as_bytes(), &signature)
            .is_ok()
    }
}

impl FromStr for VerifierKey {
    type Err = NoteError;

    /// `<name>+<8 hex digits>+base64(0x01 || 32-byte public key)`; the id must be the
    /// one the name and key give.
    fn from_str(text: &str) -> Result<VerifierKey, NoteError> {
        let (name, id, public) = parse_key_string(text.trim(), ED25519)?;
        let public = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::MalformedKey("not an Ed25519 public key".into()))?;
        let key = VerifierKey::new(name, public)?;
        if key.id != id {
            return Err(NoteError::MalformedKey(format!(
                "key id {id:08x} is not the id of that name and key ({:08x})",
                key.id
            )));
        }
        Ok(key)
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&key_string(
            &self.name,
            self.id,
            ED25519,
            self.public.as_bytes(),
        ))
    }
}

/// `<name>+<key id, 8 hex digits>+base64(type || 32 key bytes)`: how signed-note
/// keys are written, verifier keys as they are and signer keys after `PRIVATE+KEY+`,
/// for any signature type (0x01 notes, 0x04 cosignatures).
pub(crate) fn key_string(name: &str, id: u32, signature_type: u8, key: &[u8; 32]) -> String {
    let mut bytes = vec![signature_type];
    bytes.extend_from_slice(key);
    format!("{name}+{id:08x}+{}", BASE64.encode(bytes))
}

/// Splits a [`key_string`], checking the name, the id's form, the type byte and the
/// key's length (the id's agreement with the key is the caller's to check).
pub(crate) fn parse_key_string(
    text: &str,
    signature_type: u8,
) -> Result<(&str, u32, [u8; 32]), NoteError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::MalformedKey(
            "a key is <name>+<key id>+<base64 key>".into(),
        ));
    };
    check_key_name(name)?;
    let id = parse_id(id)?;
    let bytes = BASE64
        .decode(key)
        .map_err(|e| NoteError::MalformedKey(format!("the key is not base64: {e}")))?;
    match bytes.split_first() {
        Some((&found, key)) if found == signature_type => {
            let key = key.try_into().map_err(|_| {
                NoteError::MalformedKey("an Ed25519 key or seed is 32 bytes".into())
            })?;
            Ok((name, id, key))
        }
        _ => Err(NoteError::MalformedKey(format!(
            "only keys of type 0x{signature_type:02x} are accepted here"
        ))),
    }
}

fn parse_id(hex: &str) -> Result<u32, NoteError> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey(format!(
            "key id {hex:?} is not 8 hex digits"
        )));
    }
    u32::from_str_radix(hex, 16)
        .map_err(|_| NoteError::MalformedKey(format!("key id {hex:?} is not hex")))
}

/// A key that signs notes. Its `Debug` never shows the seed.
#[derive(Clone)]
pub struct NoteSigner {
    verifier: VerifierKey,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("verifier", &self.verifier.to_string())
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// The signer named `name` with the Ed25519 key of `seed`.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<NoteSigner, NoteError> {
        let key = SigningKey::from_bytes(&seed);
        Ok(NoteSigner {
            verifier: VerifierKey::new(name, key.verifying_key())?,
            key,
        })
    }

    /// The verifier key that checks this signer's notes.
    pub fn verifier(&self) -> &VerifierKey {
        &self.verifier
    }

    /// The signer key string, `PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)`: a secret.
    pub fn to_secret_string(&self) -> String {
        let name = &self.verifier.name;
        let seed = self.key.as_bytes();
        format!(
            "PRIVATE+KEY+{}",
            key_string(name, self.verifier.id, ED25519, seed)
        )
    }

    /// The signature line for `text` (the note text, ending in a newline), with its
    /// final newline.
    pub fn signature_line(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut bytes = self.verifier.id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        format!("{DASH}{} {}\n", self.verifier.name, BASE64.encode(bytes))
    }

    /// `text` signed as a whole note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        Ok(format!("{text}\n{}", self.signature_line(text)))
    }
}

impl FromStr for NoteSigner {
    type Err = NoteError;

    fn from_str(text: &str) -> Result<NoteSigner, NoteError> {
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(|| {
            NoteError::MalformedKey("a signer key starts with PRIVATE+KEY+".into())
        })?;
        let (name, id, seed) = parse_key_string(rest, ED25519)?;
        let signer = NoteSigner::from_seed(name, seed)?;
        if signer.verifier.id != id {
            return Err(NoteError::MalformedKey(format!(
                "key id {id:08x} is not the id of that name and key"
            )));
        }
        Ok(signer)
    }
}

/// One signature line: who (name and id) and the signature bytes after the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id.
    pub id: u32,
    /// The signature, without the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line as the note writes it, with its newline.
    pub fn to_line(&self) -> String {
        let mut bytes = self.id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{DASH}{} {}\n", self.name, BASE64.encode(bytes))
    }
}

/// A parsed note: its text (with the final newline) and its signature lines, not yet
/// verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline.
    pub text: String,
    /// The signatures, in the order written.
    pub signatures: Vec<NoteSignature>,
}

/// The spec's rules for a note text: ends in a newline, no control character but
/// newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the note text does not end in a newline".into(),
        ));
    }
    if let Some(c) = text.chars().find(|&c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(format!(
            "the note holds control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

impl Note {
    /// Parses a signed note from its bytes.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed(format!(
                "{} bytes, more than the {MAX_NOTE_BYTES} accepted",
                bytes.len()
            )));
        }
        let whole = std::str::from_utf8(bytes)
            .map_err(|_| NoteError::Malformed("the note is not UTF-8".into()))?;
        check_text(whole)?;
        // The text ends at the last blank line.
        let split = whole
            .rfind("\n\n")
            .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
        let text = &whole[..=split];
        let block = &whole[split + 2..];
        let mut signatures = Vec::new();
        for line in block.split_terminator('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::Malformed(format!(
                    "more than {MAX_SIGNATURES} signatures"
                )));
            }
            signatures.push(parse_signature_line(line)?);
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signature lines".into()));
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Verifies the note against `keys`: every signature by a known key (same name
    /// and id) must verify, and at least one must be there. Signatures by unknown
    /// keys are ignored, as the spec says. Answers the keys that signed.
    pub fn verify<'k>(&self, keys: &'k [VerifierKey]) -> Result<Vec<&'k VerifierKey>, NoteError> {
        let mut signed = Vec::new();
        for signature in &self.signatures {
            let Some(key) = keys
                .iter()
                .find(|k| k.name == signature.name && k.id == signature.id)
            else {
                continue;
            };
            if !key.verifies(&self.text, &signature.signature) {
                return Err(NoteError::BadSignature {
                    name: key.name.clone(),
                });
            }
            if !signed.contains(&key) {
                signed.push(key);
            }
        }
        if signed.is_empty() {
            return Err(NoteError::NoKnownSignature {
                known: keys
                    .iter()
                    .map(|k| format!("{}+{:08x}", k.name, k.id))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(signed)
    }

    /// The note as it is written.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.text);
        for signature in &self.signatures {
            out.push_str(&signature.to_line());
        }
        out
    }
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, NoteError> {
    let rest = line.strip_prefix(DASH).ok_or_else(|| {
        NoteError::Malformed(format!("signature line {line:?} does not start with '— '"))
    })?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| NoteError::Malformed(format!("signature line {line:?} has no signature")))?;
    check_key_name(name).map_err(|e| NoteError::Malformed(e.to_string()))?;
    let bytes = BASE64
        .decode(encoded)
        .map_err(|e| NoteError::Malformed(format!("the signature of {name} is not base64: {e}")))?;
    if bytes.len() < 5 {
        return Err(NoteError::Malformed(format!(
            "the signature of {name} is too short"
        )));
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        id: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        signature: bytes[4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> NoteSigner {
        let Ok(signer) = NoteSigner::from_seed("accord.test/agreements", [7; 32]) else {
            panic!("a valid name");
        };
        signer
    }

    #[test]
    fn given_a_signer_when_signing_then_its_verifier_accepts_and_a_stranger_is_ignored() {
        let signer = signer();
        let Ok(note) = signer.sign("hello\nworld\n") else {
            panic!("signable");
        };
        let Ok(parsed) = Note::parse(note.as_bytes()) else {
            panic!("parses: {note}");
        };
        assert_eq!(parsed.text, "hello\nworld\n");
        assert_eq!(parsed.to_text(), note);
        let keys = [signer.verifier().clone()];
        assert_eq!(parsed.verify(&keys).map(|k| k.len()), Ok(1));
        let Ok(stranger) = NoteSigner::from_seed("accord.test/other", [8; 32]) else {
            panic!("a valid name");
        };
        assert!(matches!(
            parsed.verify(&[stranger.verifier().clone()]),
            Err(NoteError::NoKnownSignature { .. })
        ));
    }

    #[test]
    fn given_key_strings_when_round_tripped_then_they_read_back_and_a_wrong_id_is_refused() {
        let signer = signer();
        let verifier = signer.verifier().to_string();
        assert_eq!(
            verifier.parse::<VerifierKey>().as_ref(),
            Ok(signer.verifier())
        );
        let secret = signer.to_secret_string();
        assert_eq!(
            secret.parse::<NoteSigner>().map(|s| s.verifier().clone()),
            Ok(signer.verifier().clone())
        );
        let mut parts: Vec<&str> = verifier.split('+').collect();
        parts[1] = "00000000";
        assert!(matches!(
            parts.join("+").parse::<VerifierKey>(),
            Err(NoteError::MalformedKey(_))
        ));
        assert!(!format!("{signer:?}").contains(&secret[20..]));
    }

    #[test]
    fn given_malformed_notes_when_parsed_then_each_is_refused() {
        for bad in [
            "no newline",
            "text\n",
            "text\n\n",
            "text\n\nnot a signature\n",
            "text\n\n\u{2014} name !!!\n",
            "te\u{7}xt\n\n\u{2014} name AAAAAAA=\n",
        ] {
            assert!(
                matches!(Note::parse(bad.as_bytes()), Err(NoteError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert!(check_key_name("a+b").is_err());
        assert!(check_key_name("a b").is_err());
        assert!(check_key_name("").is_err());
    }
}
