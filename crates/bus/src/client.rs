//! A typed client for Accord's request/reply contract (`proto/accord/v1/service.proto`):
//! what reactions, the CLI and tests use to send commands and queries. Clients in
//! other languages do the same with any NATS library and the protos.

use std::time::Duration;

use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_contracts::ErrorCode;
use prost::Message as _;
use uuid::Uuid;

use accord_kernel::signature::ActorKey;
use accord_kernel::Timestamp;

use crate::bus::Bus;
use crate::message::{headers, BusError, Message, JSON};
use crate::signing::signature_for;
use crate::subject::{command_subject, query_subject};

/// Why a request got no result.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The bus failed: not connected, nobody serving, or no reply in time.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The service answered with an error.
    #[error("{code} ({reason}): {message}", code = .0.code, reason = .0.reason, message = .0.message)]
    Refused(pb::ErrorReply),
    /// The reply was not what the contract says.
    #[error("unexpected reply: {0}")]
    Unexpected(String),
}

impl ClientError {
    /// The error code: the service's, or `unavailable` when the bus failed; a code
    /// outside the fixed set (a newer service) reads as `internal`.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Refused(error) => error.code.parse().unwrap_or(ErrorCode::Internal),
            ClientError::Bus(_) => ErrorCode::Unavailable,
            ClientError::Unexpected(_) => ErrorCode::Internal,
        }
    }

    /// True when the same request may succeed later: the bus failed for now, or the
    /// service answered the contract's retryable `unavailable` (e.g. `registry_behind`
    /// while its copy of the actors registry catches up).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Bus(error) => error.is_transient(),
            ClientError::Refused(_) => self.code() == ErrorCode::Unavailable,
            ClientError::Unexpected(_) => false,
        }
    }

    /// The finer reason the service gave, if it answered.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ClientError::Refused(error) => Some(&error.reason),
            _ => None,
        }
    }
}

/// Everything a command carries besides its body.
#[derive(Debug, Clone)]
pub struct CommandOptions {
    pub actor: String,
    pub command_id: Uuid,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    /// RFC 3339 business time; the service's clock when absent.
    pub occurred_at: Option<String>,
    pub expected_version: Option<u64>,
    /// Send (and receive) the proto3 JSON mapping instead of protobuf.
    pub json: bool,
    /// The actor's key: when set, the request is signed (`Accord-Signature`, see
    /// proto/SIGNING.md), with the business time set to now if not given.
    pub key: Option<ActorKey>,
}

impl CommandOptions {
    pub fn new(actor: impl Into<String>) -> CommandOptions {
        CommandOptions {
            actor: actor.into(),
            command_id: Uuid::now_v7(),
            correlation_id: None,
            causation_id: None,
            occurred_at: None,
            expected_version: None,
            json: false,
            key: None,
        }
    }

    /// These options, signing with `key`.
    pub fn signed_with(mut self, key: ActorKey) -> CommandOptions {
        self.key = Some(key);
        self
    }

    /// The request of `command` to `service`; signed when a key is set. A request
    /// whose statement cannot be built (an unreadable business time) goes unsigned,
    /// and the service says why it refuses it.
    pub fn request(&self, service: &str, command: &str, body: Vec<u8>) -> Message {
        let message = self.apply(Message::new(command_subject(service, command), body));
        let Some(key) = &self.key else {
            return message;
        };
        let message = if message.header(headers::OCCURRED_AT).is_none() {
            let now = Timestamp::from_system_time(std::time::SystemTime::now())
                .unwrap_or(Timestamp::UNIX_EPOCH);
            message.with_header(headers::OCCURRED_AT, now.to_string())
        } else {
            message
        };
        match signature_for(&message, key) {
            Ok(signature) => message.with_header(headers::SIGNATURE, signature),
            Err(error) => {
                tracing::warn!(%error, "bus.client request left unsigned");
                message
            }
        }
    }

    fn apply(&self, mut message: Message) -> Message {
        message = message
            .with_header(headers::ACTOR, self.actor.clone())
            .with_header(headers::COMMAND_ID, self.command_id.to_string());
        if let Some(id) = self.correlation_id {
            message = message.with_header(headers::CORRELATION_ID, id.to_string());
        }
        if let Some(id) = self.causation_id {
            message = message.with_header(headers::CAUSATION_ID, id.to_string());
        }
        if let Some(at) = &self.occurred_at {
            message = message.with_header(headers::OCCURRED_AT, at.clone());
        }
        if let Some(version) = self.expected_version {
            message = message.with_header(headers::EXPECTED_VERSION, version.to_string());
        }
        if self.json {
            message = message.with_header(headers::CONTENT_TYPE, JSON);
        }
        message
    }
}

#[derive(Debug, Clone)]
pub struct AccordClient {
    bus: Bus,
    timeout: Duration,
}

impl AccordClient {
    pub fn new(bus: Bus) -> AccordClient {
        AccordClient {
            bus,
            timeout: Duration::from_secs(10),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> AccordClient {
        self.timeout = timeout;
        self
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Sends a command whose body is already encoded (protobuf, or JSON text when
    /// `options.json`), and returns what it did.
    pub async fn command(
        &self,
        service: &str,
        command: &str,
        body: Vec<u8>,
        options: &CommandOptions,
    ) -> Result<pb::CommandResult, ClientError> {
        self.send_command(options.request(service, command, body), options.json)
            .await
    }

    /// Sends a command request built with [`CommandOptions::request`].
    pub async fn send_command(
        &self,
        request: Message,
        json: bool,
    ) -> Result<pb::CommandResult, ClientError> {
        match self.send(request, json).await? {
            Outcome::Command(result) => Ok(result),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Sends a query with a protobuf body and returns the reply's outcome.
    pub async fn query(
        &self,
        service: &str,
        query: &str,
        body: Vec<u8>,
    ) -> Result<Outcome, ClientError> {
        self.send(Message::new(query_subject(service, query), body), false)
            .await
    }

    /// Sends any request and decodes the [`pb::Reply`]; an error reply is an error.
    pub async fn send(&self, request: Message, json: bool) -> Result<Outcome, ClientError> {
        let subject = request.subject.clone();
        let reply = self.bus.request(request, self.timeout).await?;
        let reply = decode_reply(&subject, &reply.payload, json)?;
        match reply.outcome {
            Some(Outcome::Error(error)) => Err(ClientError::Refused(error)),
            Some(outcome) => Ok(outcome),
            None => Err(ClientError::Unexpected("empty reply".into())),
        }
    }
}

/// Decodes a reply body, protobuf or JSON.
pub fn decode_reply(subject: &str, payload: &[u8], json: bool) -> Result<pb::Reply, BusError> {
    let decoded = if json {
        std::str::from_utf8(payload)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                accord_contracts::from_json::<pb::Reply>(text).map_err(|e| e.to_string())
            })
    } else {
        pb::Reply::decode(payload).map_err(|e| e.to_string())
    };
    decoded.map_err(|reason| BusError::Decode {
        subject: subject.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: &str, reason: &str) -> ClientError {
        ClientError::Refused(pb::ErrorReply {
            code: code.into(),
            reason: reason.into(),
            ..Default::default()
        })
    }

    #[test]
    fn given_a_refusal_or_a_bus_failure_then_only_the_contracts_retryable_ones_are_retryable() {
        assert!(refused("unavailable", "registry_behind").is_retryable());
        assert!(!refused("conflict", "contended").is_retryable());
        assert!(!refused("unauthenticated", "unknown_actor").is_retryable());
        assert!(ClientError::Bus(BusError::Unavailable("down".into())).is_retryable());
        let undecodable = BusError::Decode {
            subject: "s".into(),
            reason: "r".into(),
        };
        assert!(!ClientError::Bus(undecodable).is_retryable());
        assert!(!ClientError::Unexpected("odd".into()).is_retryable());
    }
}
