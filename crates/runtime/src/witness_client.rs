//! Asking a witness to co-sign: the C2SP `tlog-witness` add-checkpoint request carried
//! over NATS request/reply (proto/EVIDENCE.md), as the services' checkpoint issuer
//! and the tests send it.

use std::time::Duration;

use accord_bus::{witness_subject, Bus, BusError, Message};
use accord_evidence::witness::AddCheckpoint;

/// The header carrying the tlog-witness status of an answer (200, 400, 403, 404,
/// 409, 422, 503).
pub const STATUS_HEADER: &str = "Accord-Witness-Status";

/// What a witness answered a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessAnswer {
    pub status: u16,
    pub body: String,
}

/// Asks the witness named `name` to co-sign: the add-checkpoint request over the
/// bus, and its answer (status 200: the body is the cosignature line).
pub async fn ask(
    bus: &Bus,
    name: &str,
    request: &AddCheckpoint,
    timeout: Duration,
) -> Result<WitnessAnswer, BusError> {
    let message = Message::new(witness_subject(name), request.to_text().into_bytes());
    let reply = bus.request(message, timeout).await?;
    let status = reply
        .header(STATUS_HEADER)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(WitnessAnswer {
        status,
        body: String::from_utf8_lossy(&reply.payload).into_owned(),
    })
}
