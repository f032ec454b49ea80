//! Dead letters: what a reaction flow could not carry out, kept on the JetStream
//! stream `ACCORD_<SERVICE>_DEAD_LETTERS` of the service whose events start the flow,
//! on `accord.<service>.deadletter.<flow>`, for an operator to look into and, once the
//! cause is mended, send again. Before, such a reaction was only a log line and a
//! counter.
//!
//! * A command the target refused for good: the command request exactly as it was
//!   sent (body and headers, so sending it again to its `Accord-Target` is the same
//!   command with the same id), with `Accord-Target` and the refusal as
//!   `Accord-Error-Code`, `Accord-Error-Reason` and `Accord-Error-Message`. Its
//!   `Nats-Msg-Id` is the command id: a redelivered event refused again is kept once
//!   within the duplicate window.
//! * A delivered message that is not an event this service can read: its bytes and
//!   headers as delivered, with `Accord-Original-Subject` and the error headers
//!   (`invalid_argument` / `undecodable`).

use std::time::Duration;

use accord_bus::{
    dead_letter_stream_name, dead_letter_subject, headers, ClientError, Message, StreamSpec,
};

/// The dead-letter stream of `service`'s flows.
pub fn stream_spec(service: &str, replicas: usize) -> StreamSpec {
    let mut spec = StreamSpec::new(
        dead_letter_stream_name(service),
        vec![format!("accord.{service}.deadletter.>")],
    );
    spec.replicas = replicas;
    spec.duplicate_window = Duration::from_secs(120);
    spec
}

/// The dead letter of `request`, which the target refused for good with `error`.
pub fn refused_command(
    service: &str,
    flow: &str,
    request: &Message,
    error: &ClientError,
) -> Message {
    let mut letter = request.clone();
    letter.subject = dead_letter_subject(service, flow);
    if let Some(command_id) = request.header(headers::COMMAND_ID) {
        letter = letter.with_header(headers::MSG_ID, command_id.to_owned());
    }
    let (code, reason, message) = match error {
        // The code as the service wrote it, even one this build does not know.
        ClientError::Refused(reply) => (
            reply.code.clone(),
            reply.reason.clone(),
            reply.message.clone(),
        ),
        other => (
            other.code().as_str().to_owned(),
            String::new(),
            other.to_string(),
        ),
    };
    letter
        .with_header(headers::TARGET, request.subject.clone())
        .with_header(headers::ERROR_CODE, code)
        .with_header(headers::ERROR_REASON, reason)
        .with_header(headers::ERROR_MESSAGE, message)
}

/// The headers a dead letter adds to what it keeps.
const LETTER_HEADERS: [&str; 6] = [
    headers::MSG_ID,
    headers::TARGET,
    headers::ORIGINAL_SUBJECT,
    headers::ERROR_CODE,
    headers::ERROR_REASON,
    headers::ERROR_MESSAGE,
];

/// The command request a dead letter keeps, as it was sent; `None` for a letter that
/// keeps an unreadable delivery.
pub fn kept_command(letter: &Message) -> Option<Message> {
    let mut request = Message::new(letter.header(headers::TARGET)?, letter.payload.clone());
    request.headers = letter
        .headers
        .iter()
        .filter(|(name, _)| !LETTER_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Some(request)
}

/// The dead letter of a delivered message that is not an event `service` can read.
pub fn unreadable_delivery(
    service: &str,
    flow: &str,
    delivered: &Message,
    error: &dyn std::fmt::Display,
) -> Message {
    let mut letter = delivered.clone();
    letter.subject = dead_letter_subject(service, flow);
    letter
        .with_header(headers::ORIGINAL_SUBJECT, delivered.subject.clone())
        .with_header(headers::ERROR_CODE, "invalid_argument")
        .with_header(headers::ERROR_REASON, "undecodable")
        .with_header(headers::ERROR_MESSAGE, error.to_string())
}

#[cfg(test)]
mod tests {
    use accord_contracts::v1 as pb;

    use super::*;

    #[test]
    fn a_refused_command_keeps_its_request_and_says_why() {
        let request = Message::new("accord.projects.cmd.ApproveProject", vec![1, 2, 3])
            .with_header(headers::COMMAND_ID, "0193a3c0-0000-7000-8000-000000000001")
            .with_header(headers::ACTOR, "accord-reactions");
        let error = ClientError::Refused(pb::ErrorReply {
            code: "not_found".into(),
            reason: "unknown_reference".into(),
            message: "project rdx-plant is not known".into(),
            ..Default::default()
        });

        let letter = refused_command("agreements", "react-motion-adopted", &request, &error);

        assert_eq!(
            letter.subject,
            "accord.agreements.deadletter.react-motion-adopted"
        );
        assert_eq!(letter.payload, request.payload);
        assert_eq!(letter.header(headers::ACTOR), Some("accord-reactions"));
        assert_eq!(
            letter.header(headers::MSG_ID),
            request.header(headers::COMMAND_ID)
        );
        assert_eq!(
            letter.header(headers::TARGET),
            Some("accord.projects.cmd.ApproveProject")
        );
        assert_eq!(letter.header(headers::ERROR_CODE), Some("not_found"));
        assert_eq!(
            letter.header(headers::ERROR_REASON),
            Some("unknown_reference")
        );
        assert_eq!(
            letter.header(headers::ERROR_MESSAGE),
            Some("project rdx-plant is not known")
        );
    }

    #[test]
    fn a_letter_gives_back_the_command_as_it_was_sent_and_only_that() {
        let sent = Message::new("accord.projects.cmd.ApproveProject", vec![7])
            .with_header(headers::ACTOR, "accord-reactions")
            .with_header(headers::COMMAND_ID, "c-1");
        let error = ClientError::Unexpected("x".into());
        let letter = refused_command("agreements", "react-motion-adopted", &sent, &error);
        assert_eq!(kept_command(&letter), Some(sent));

        let delivered = Message::new("accord.agreements.evt.x.y.Z", vec![1]);
        let unreadable =
            unreadable_delivery("agreements", "react-motion-adopted", &delivered, &"bad");
        assert_eq!(kept_command(&unreadable), None);
    }

    #[test]
    fn an_unreadable_delivery_keeps_its_bytes_and_subject() {
        let delivered = Message::new(
            "accord.agreements.evt.board.b1.MotionAdopted",
            b"x".to_vec(),
        );

        let letter = unreadable_delivery("agreements", "react-motion-adopted", &delivered, &"bad");

        assert_eq!(letter.payload, b"x");
        assert_eq!(
            letter.header(headers::ORIGINAL_SUBJECT),
            Some("accord.agreements.evt.board.b1.MotionAdopted")
        );
        assert_eq!(letter.header(headers::ERROR_REASON), Some("undecodable"));
        assert_eq!(letter.header(headers::ERROR_MESSAGE), Some("bad"));
        assert_eq!(letter.header(headers::MSG_ID), None);
    }
}
