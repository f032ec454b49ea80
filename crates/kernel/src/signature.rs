//! Signed commands (see `proto/SIGNING.md`): the statement an actor signs, built the
//! same way by the client that signs, the service that verifies before deciding,
//! and the auditor who re-verifies a stored event offline.

use std::fmt::Write as _;

use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::Timestamp;

/// The first line of every statement: what the signature is for, so a signature over
/// anything else never verifies as a command.
pub const STATEMENT_VERSION: &str = "v1";

/// The content type a JSON body is sent with; a protobuf body has none.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Length of an Ed25519 public key, in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature, in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// Everything a command's signature binds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandStatement<'a> {
    /// `accord.<service>.cmd.<Command>`.
    pub subject: &'a str,
    pub command_id: uuid::Uuid,
    pub actor: &'a str,
    pub occurred_at: Timestamp,
    pub expected_version: Option<u64>,
    /// The correlation id in effect (the command id when the sender gave none).
    pub correlation_id: uuid::Uuid,
    pub causation_id: Option<uuid::Uuid>,
    /// `true` for a JSON body, `false` for protobuf.
    pub json: bool,
    pub body_sha256: [u8; 32],
}

impl CommandStatement<'_> {
    /// The SHA-256 of a body, as the statement binds it.
    pub fn body_digest(body: &[u8]) -> [u8; 32] {
        Sha256::digest(body).into()
    }

    /// The statement's exact bytes: `name: value\n` lines in the documented order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = String::with_capacity(512);
        let mut line = |name: &str, value: &dyn std::fmt::Display| {
            // Writing to a String cannot fail.
            let _ = writeln!(text, "{name}: {value}");
        };
        line("accord-command-signature", &STATEMENT_VERSION);
        line("subject", &self.subject);
        line("command-id", &self.command_id.hyphenated());
        line("actor", &self.actor);
        line("occurred-at", &self.occurred_at);
        line(
            "expected-version",
            &self
                .expected_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
        );
        line("correlation-id", &self.correlation_id.hyphenated());
        line(
            "causation-id",
            &self
                .causation_id
                .map(|id| id.hyphenated().to_string())
                .unwrap_or_default(),
        );
        line(
            "content-type",
            &if self.json { JSON_CONTENT_TYPE } else { "" },
        );
        line("body-sha256", &hex(&self.body_sha256));
        text.into_bytes()
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The 32 bytes written as 64 hex digits (a seed, a key, a digest); `None` otherwise.
pub fn from_hex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(bytes)
}

/// Why a signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature is not base64 of {SIGNATURE_LEN} bytes")]
    Malformed,
    #[error("the public key is not {PUBLIC_KEY_LEN} bytes of a valid Ed25519 key")]
    BadKey,
    #[error("the signature does not verify with the actor's key")]
    Invalid,
}

/// An actor's private key, from its 32-byte seed (RFC 8032 §5.1.5).
#[derive(Clone)]
pub struct ActorKey(SigningKey);

impl std::fmt::Debug for ActorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ActorKey")
            .field(&hex(&self.public_key()))
            .finish()
    }
}

impl ActorKey {
    pub fn from_seed(seed: &[u8; 32]) -> ActorKey {
        ActorKey(SigningKey::from_bytes(seed))
    }

    /// A key derived from a label, for tests and the demo only: the same label gives
    /// the same key, so their outputs stay stable. Never for a real actor.
    pub fn derived_for_tests(label: &str) -> ActorKey {
        let seed: [u8; 32] = Sha256::digest(format!("accord test key\0{label}")).into();
        ActorKey::from_seed(&seed)
    }

    /// The 32-byte seed the key is made from, to write it to a key file.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0.verifying_key().to_bytes()
    }

    /// The public key in standard base64, as `RegisterActor.public_key` takes it in
    /// JSON and the `trust_roots` and `service_keys` settings name it.
    pub fn public_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.public_key())
    }

    /// The signature of `statement`, as the `Accord-Signature` header carries it.
    pub fn sign(&self, statement: &[u8]) -> String {
        encode_signature(&self.0.sign(statement).to_bytes())
    }
}

/// Standard base64 with padding.
pub fn encode_signature(signature: &[u8; SIGNATURE_LEN]) -> String {
    base64::engine::general_purpose::STANDARD.encode(signature)
}

/// The signature bytes of an `Accord-Signature` header value.
pub fn decode_signature(text: &str) -> Result<[u8; SIGNATURE_LEN], SignatureError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| SignatureError::Malformed)?;
    bytes.try_into().map_err(|_| SignatureError::Malformed)
}

/// Checks `signature` (bytes) over `statement` with `public_key` (32 bytes). Strict
/// verification: rejects non-canonical and small-order encodings.
pub fn verify(
    public_key: &[u8],
    statement: &[u8],
    signature: &[u8; SIGNATURE_LEN],
) -> Result<(), SignatureError> {
    PublicKey::from_bytes(public_key)?.verify(statement, signature)
}

/// An Ed25519 public key decoded once: decoding decompresses a curve point, a
/// sizeable part of a verification, so a verifier that sees the same keys again and
/// again (a service's actors) keeps them decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "[u8; PUBLIC_KEY_LEN]", try_from = "[u8; PUBLIC_KEY_LEN]")]
pub struct PublicKey(VerifyingKey);

impl From<PublicKey> for [u8; PUBLIC_KEY_LEN] {
    fn from(key: PublicKey) -> Self {
        key.0.to_bytes()
    }
}

impl TryFrom<[u8; PUBLIC_KEY_LEN]> for PublicKey {
    type Error = SignatureError;
    fn try_from(bytes: [u8; PUBLIC_KEY_LEN]) -> Result<Self, Self::Error> {
        PublicKey::from_bytes(&bytes)
    }
}

impl PublicKey {
    pub fn from_bytes(public_key: &[u8]) -> Result<PublicKey, SignatureError> {
        let key: [u8; PUBLIC_KEY_LEN] =
            public_key.try_into().map_err(|_| SignatureError::BadKey)?;
        VerifyingKey::from_bytes(&key)
            .map(PublicKey)
            .map_err(|_| SignatureError::BadKey)
    }

    /// Strict verification, as [`verify`].
    pub fn verify(
        &self,
        statement: &[u8],
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<(), SignatureError> {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.0
            .verify_strict(statement, &signature)
            .map_err(|_| SignatureError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(body: &[u8]) -> CommandStatement<'static> {
        let id = uuid::Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
        CommandStatement {
            subject: "accord.agreements.cmd.SignAgreement",
            command_id: id,
            actor: "ua-umerov",
            occurred_at: Timestamp::parse_rfc3339("2024-11-26T12:00:00Z")
                .unwrap_or_else(|e| panic!("{e}")),
            expected_version: None,
            correlation_id: id,
            causation_id: None,
            json: true,
            body_sha256: CommandStatement::body_digest(body),
        }
    }

    #[test]
    fn given_a_signed_statement_then_only_that_statement_verifies() {
        let key = ActorKey::derived_for_tests("ua-umerov");
        let signed = statement(b"{}");
        let signature =
            decode_signature(&key.sign(&signed.to_bytes())).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            verify(&key.public_key(), &signed.to_bytes(), &signature),
            Ok(())
        );
        let others = [
            CommandStatement {
                subject: "accord.agreements.cmd.DraftAgreement",
                ..statement(b"{}")
            },
            CommandStatement {
                subject: "accord.projects.cmd.SignAgreement",
                ..statement(b"{}")
            },
            CommandStatement {
                actor: "lt-kasciunas",
                ..statement(b"{}")
            },
            CommandStatement {
                expected_version: Some(0),
                ..statement(b"{}")
            },
            CommandStatement {
                json: false,
                ..statement(b"{}")
            },
            statement(b"{ }"),
        ];
        for other in others {
            assert_eq!(
                verify(&key.public_key(), &other.to_bytes(), &signature),
                Err(SignatureError::Invalid),
                "{other:?}"
            );
        }
        let stranger = ActorKey::derived_for_tests("lt-kasciunas");
        assert_eq!(
            verify(&stranger.public_key(), &signed.to_bytes(), &signature),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn hex_reads_back_and_refuses_what_is_not_32_bytes() {
        let bytes: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        assert_eq!(from_hex32(&hex(&bytes)), Some(bytes));
        assert_eq!(from_hex32("00"), None);
        assert_eq!(from_hex32(&"zz".repeat(32)), None);
    }

    #[test]
    fn malformed_signatures_and_keys_are_told_apart_from_wrong_ones() {
        assert_eq!(
            decode_signature("not base64!"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(decode_signature("AAAA"), Err(SignatureError::Malformed));
        assert_eq!(
            verify(&[1, 2, 3], b"x", &[0; SIGNATURE_LEN]),
            Err(SignatureError::BadKey)
        );
    }

    #[test]
    fn the_statement_is_the_documented_lines() {
        let text = String::from_utf8(statement(b"").to_bytes()).unwrap_or_default();
        assert_eq!(
            text,
            "accord-command-signature: v1\n\
             subject: accord.agreements.cmd.SignAgreement\n\
             command-id: 01920000-0000-7000-8000-000000000001\n\
             actor: ua-umerov\n\
             occurred-at: 2024-11-26T12:00:00Z\n\
             expected-version: \n\
             correlation-id: 01920000-0000-7000-8000-000000000001\n\
             causation-id: \n\
             content-type: application/json\n\
             body-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        );
    }
}
