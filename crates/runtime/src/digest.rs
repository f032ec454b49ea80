//! The digest of a command as received: what tells a retry (the same command sent
//! again under its id) from a command id reused for another command. It covers what
//! the command says, not how it travelled: the subject (service and command name),
//! the actor, the body's encoding and bytes, and the business time and causation
//! when they were given. Correlation and expected version are left out: they steer
//! the conversation and the precondition, not what the command asks for.
//!
//! Layout hashed (SHA-256): `accord.v1.Command\0`, then for each part in that order
//! (subject, actor, content type, body, occurred-at, causation) `0` when absent or
//! `1`, its length (u32 big-endian) and its bytes.

use accord_bus::{headers, Message};
use sha2::{Digest, Sha256};

const DOMAIN: &[u8] = b"accord.v1.Command\x00";

/// The digest of `message`, a command request.
pub fn command_digest(message: &Message) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    let mut part = |bytes: Option<&[u8]>| match bytes {
        None => hasher.update([0]),
        Some(bytes) => {
            hasher.update([1]);
            // Requests are bounded by the bus's max payload, far below u32::MAX.
            hasher.update((bytes.len() as u32).to_be_bytes());
            hasher.update(bytes);
        }
    };
    part(Some(message.subject.as_bytes()));
    for name in [headers::ACTOR, headers::CONTENT_TYPE] {
        part(message.header(name).map(str::as_bytes));
    }
    part(Some(&message.payload));
    for name in [headers::OCCURRED_AT, headers::CAUSATION_ID] {
        part(message.header(name).map(str::as_bytes));
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> Message {
        Message::new(
            "accord.agreements.cmd.DraftAgreement",
            b"{\"title\":\"a\"}".to_vec(),
        )
        .with_header(headers::ACTOR, "lt-mod")
        .with_header(headers::CONTENT_TYPE, "application/json")
    }

    #[test]
    fn given_the_same_command_then_the_digest_is_the_same_whatever_its_conversation() {
        let again = command()
            .with_header(headers::CORRELATION_ID, uuid::Uuid::now_v7().to_string())
            .with_header(headers::EXPECTED_VERSION, "3");
        assert_eq!(command_digest(&command()), command_digest(&again));
    }

    #[test]
    fn given_another_body_actor_subject_or_time_then_the_digest_differs() {
        let digest = command_digest(&command());
        let mut body = command();
        body.payload = b"{\"title\":\"b\"}".to_vec();
        let mut subject = command();
        subject.subject = "accord.agreements.cmd.SignAgreement".into();
        let others = [
            body,
            subject,
            command().with_header(headers::ACTOR, "ua-mod"),
            command().with_header(headers::OCCURRED_AT, "2024-11-26T12:00:00Z"),
            command().with_header(headers::CAUSATION_ID, uuid::Uuid::nil().to_string()),
        ];
        for other in &others {
            assert_ne!(command_digest(other), digest, "{other:?}");
        }
    }
}
