//! `accord dead-letters`: what the services' reaction flows could not carry out, read
//! from their dead-letter streams on NATS (see `accord_runtime::dead_letters`), and a
//! refused command sent again once its cause is mended.

use accord_bus::{
    dead_letter_stream_name, headers, AccordClient, Bus, BusError, ClientError, StoredMessage,
};
use accord_contracts::v1 as pb;
use accord_runtime::dead_letters::kept_command;
use accord_runtime::ServiceKind;
use serde::Serialize;

use crate::tables::{or_dash, Table};

/// One dead letter, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Letter {
    pub service: String,
    pub sequence: u64,
    pub stored_at: String,
    /// The reaction flow that kept it.
    pub flow: String,
    /// The subject its command went to; empty for a delivery that was not an event.
    pub target: String,
    /// The subject the unreadable message was delivered on; empty for a command.
    pub original_subject: String,
    pub code: String,
    pub reason: String,
    pub message: String,
    pub command_id: String,
    pub body_bytes: usize,
}

impl Letter {
    fn of(service: &str, stored: &StoredMessage) -> Letter {
        let header = |name: &str| stored.message.header(name).unwrap_or_default().to_owned();
        Letter {
            service: service.to_owned(),
            sequence: stored.sequence,
            stored_at: stored.stored_at.clone(),
            flow: stored
                .message
                .subject
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_owned(),
            target: header(headers::TARGET),
            original_subject: header(headers::ORIGINAL_SUBJECT),
            code: header(headers::ERROR_CODE),
            reason: header(headers::ERROR_REASON),
            message: header(headers::ERROR_MESSAGE),
            command_id: header(headers::COMMAND_ID),
            body_bytes: stored.message.payload.len(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("{service} has no reaction flows, so no dead letters")]
    NoFlows { service: String },
    #[error("{service} has no dead letter {sequence}")]
    NotFound { service: String, sequence: u64 },
    #[error("dead letter {sequence} of {service} is a message that was not an event ({subject}), not a command: there is nothing to send again")]
    NotACommand {
        service: String,
        sequence: u64,
        subject: String,
    },
    #[error("cannot read the dead letters of {service}: {error}")]
    Bus { service: String, error: BusError },
    #[error("sent again, dead letter {sequence} of {service} was refused: {error}")]
    Refused {
        service: String,
        sequence: u64,
        error: Box<ClientError>,
    },
}

/// The services whose flows keep dead letters: `only`, or every one with flows.
pub fn services(only: Option<ServiceKind>) -> Result<Vec<ServiceKind>, DeadLetterError> {
    match only {
        Some(kind) if kind.flows().is_empty() => Err(DeadLetterError::NoFlows {
            service: kind.name().to_owned(),
        }),
        Some(kind) => Ok(vec![kind]),
        None => Ok(ServiceKind::ALL
            .into_iter()
            .filter(|k| !k.flows().is_empty())
            .collect()),
    }
}

/// The last `limit` dead letters of each service, oldest first. A service whose flows
/// never kept one has no stream yet, and no letters.
pub async fn list(
    bus: &Bus,
    services: &[ServiceKind],
    limit: u64,
) -> Result<Vec<Letter>, DeadLetterError> {
    let mut letters = Vec::new();
    for kind in services {
        let service = kind.name();
        let stream = dead_letter_stream_name(service);
        match bus.stream_tail(&stream, limit).await {
            Ok(stored) => letters.extend(stored.iter().map(|s| Letter::of(service, s))),
            Err(BusError::NoStream(_)) => {}
            Err(error) => {
                return Err(DeadLetterError::Bus {
                    service: service.to_owned(),
                    error,
                })
            }
        }
    }
    Ok(letters)
}

/// The letters as a table.
pub fn table(letters: &[Letter]) -> String {
    let mut table = Table::new(
        "Dead letters",
        &[
            "service",
            "seq",
            "stored at",
            "flow",
            "sent to",
            "code",
            "reason",
            "message",
        ],
    );
    for letter in letters {
        let sent_to = if letter.target.is_empty() {
            format!("(not an event: {})", letter.original_subject)
        } else {
            letter.target.clone()
        };
        table.row(vec![
            letter.service.clone(),
            letter.sequence.to_string(),
            or_dash(&letter.stored_at),
            letter.flow.clone(),
            sent_to,
            or_dash(&letter.code),
            or_dash(&letter.reason),
            or_dash(&letter.message),
        ]);
    }
    table.render()
}

/// Sends dead letter `sequence` of `service` again: its body and the command's own
/// headers (same command id, actor, causation) to the subject it went to first.
pub async fn resend(
    client: &AccordClient,
    service: ServiceKind,
    sequence: u64,
) -> Result<pb::CommandResult, DeadLetterError> {
    let name = service.name().to_owned();
    let not_found = || DeadLetterError::NotFound {
        service: name.clone(),
        sequence,
    };
    let stored = match client
        .bus()
        .stream_message(&dead_letter_stream_name(&name), sequence)
        .await
    {
        Ok(Some(stored)) => stored,
        // No stream: its flows never kept a letter.
        Ok(None) | Err(BusError::NoStream(_)) => return Err(not_found()),
        Err(error) => {
            return Err(DeadLetterError::Bus {
                service: name.clone(),
                error,
            })
        }
    };
    let request = kept_command(&stored.message).ok_or_else(|| DeadLetterError::NotACommand {
        service: name.clone(),
        sequence,
        subject: stored
            .message
            .header(headers::ORIGINAL_SUBJECT)
            .unwrap_or_default()
            .to_owned(),
    })?;
    let json = request.header(headers::CONTENT_TYPE).is_some();
    client
        .send_command(request, json)
        .await
        .map_err(|error| DeadLetterError::Refused {
            service: name,
            sequence,
            error: Box::new(error),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_services_with_flows_keep_dead_letters() {
        assert_eq!(
            services(None).unwrap(),
            vec![ServiceKind::Agreements, ServiceKind::Projects]
        );
        assert!(matches!(
            services(Some(ServiceKind::Procurement)),
            Err(DeadLetterError::NoFlows { .. })
        ));
    }
}
