//! Signed command requests (`proto/SIGNING.md`): the statement of a request, built
//! from its subject, headers and body, and the `Accord-Signature` header that carries
//! the actor's signature over it. The client signs with it; the service and the
//! audit tools verify with the same function.

use accord_kernel::signature::{decode_signature, ActorKey, CommandStatement, SIGNATURE_LEN};
use accord_kernel::Timestamp;
use uuid::Uuid;

use crate::message::{headers, Message, JSON};

/// Why a request's statement cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("a signed command needs the header {0}")]
    Missing(&'static str),
    #[error("header {header} is not valid: {reason}")]
    Invalid {
        header: &'static str,
        reason: String,
    },
}

fn required<'a>(message: &'a Message, name: &'static str) -> Result<&'a str, StatementError> {
    message.header(name).ok_or(StatementError::Missing(name))
}

fn uuid_header(message: &Message, name: &'static str) -> Result<Option<Uuid>, StatementError> {
    message
        .header(name)
        .map(|text| {
            Uuid::parse_str(text.trim()).map_err(|e| StatementError::Invalid {
                header: name,
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// The statement a signature over `message` must be over (its bytes are
/// `to_bytes()`): the subject, the command id, actor, business time, expected
/// version, correlation, causation, the body's encoding and its SHA-256.
pub fn statement_of(message: &Message) -> Result<CommandStatement<'_>, StatementError> {
    let command_id = uuid_header(message, headers::COMMAND_ID)?
        .ok_or(StatementError::Missing(headers::COMMAND_ID))?;
    let occurred_at = required(message, headers::OCCURRED_AT)?;
    let occurred_at =
        Timestamp::parse_rfc3339(occurred_at.trim()).map_err(|e| StatementError::Invalid {
            header: headers::OCCURRED_AT,
            reason: e.to_string(),
        })?;
    let expected_version = message
        .header(headers::EXPECTED_VERSION)
        .map(|text| {
            text.trim()
                .parse::<u64>()
                .map_err(|e| StatementError::Invalid {
                    header: headers::EXPECTED_VERSION,
                    reason: e.to_string(),
                })
        })
        .transpose()?;
    let json = message
        .header(headers::CONTENT_TYPE)
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with(JSON));
    Ok(CommandStatement {
        subject: &message.subject,
        command_id,
        actor: required(message, headers::ACTOR)?,
        occurred_at,
        expected_version,
        correlation_id: uuid_header(message, headers::CORRELATION_ID)?.unwrap_or(command_id),
        causation_id: uuid_header(message, headers::CAUSATION_ID)?,
        json,
        body_sha256: CommandStatement::body_digest(&message.payload),
    })
}

/// The signature bytes a request carries: `None` when it carries none.
pub fn signature_of(
    message: &Message,
) -> Option<Result<[u8; SIGNATURE_LEN], accord_kernel::signature::SignatureError>> {
    message.header(headers::SIGNATURE).map(decode_signature)
}

/// `message` with the signature of `key` over its statement in `Accord-Signature`.
pub fn sign_request(message: Message, key: &ActorKey) -> Result<Message, StatementError> {
    let signature = signature_for(&message, key)?;
    Ok(message.with_header(headers::SIGNATURE, signature))
}

/// The `Accord-Signature` value of `key` over `message`'s statement.
pub fn signature_for(message: &Message, key: &ActorKey) -> Result<String, StatementError> {
    Ok(key.sign(&statement_of(message)?.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Message {
        Message::new("accord.agreements.cmd.SignAgreement", b"{}".to_vec())
            .with_header(headers::ACTOR, "ua-umerov")
            .with_header(headers::COMMAND_ID, Uuid::now_v7().to_string())
            .with_header(headers::OCCURRED_AT, "2024-11-26T12:00:00.000Z")
            .with_header(headers::CONTENT_TYPE, JSON)
    }

    #[test]
    fn given_a_signed_request_then_its_signature_verifies_over_its_statement() {
        let key = ActorKey::derived_for_tests("ua-umerov");
        let signed = sign_request(request(), &key).unwrap_or_else(|e| panic!("{e}"));
        let signature = signature_of(&signed)
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("signed"));
        let statement = statement_of(&signed).unwrap_or_else(|e| panic!("{e}"));
        // The time is signed in its canonical form, whatever form it was sent in.
        let text = String::from_utf8(statement.to_bytes()).unwrap_or_default();
        assert!(
            text.contains("occurred-at: 2024-11-26T12:00:00Z\n"),
            "{text}"
        );
        assert_eq!(
            accord_kernel::signature::verify(&key.public_key(), &statement.to_bytes(), &signature),
            Ok(())
        );
    }

    #[test]
    fn given_a_request_without_its_time_or_id_then_no_statement_is_built() {
        let mut no_time = request();
        no_time.headers.remove(headers::OCCURRED_AT);
        assert_eq!(
            statement_of(&no_time).map(|_| ()),
            Err(StatementError::Missing(headers::OCCURRED_AT))
        );
        let bad_id = request().with_header(headers::COMMAND_ID, "nope");
        assert!(matches!(
            statement_of(&bad_id),
            Err(StatementError::Invalid {
                header: headers::COMMAND_ID,
                ..
            })
        ));
    }
}
