//! `accord send` and `accord query`: one command or query to a running service over
//! NATS, as a person at a terminal sends it. The body is the contract's JSON
//! mapping; with `--key` the command is signed (proto/SIGNING.md). The reply is
//! printed as the contract's JSON; a refusal also goes to stderr and exits 1.

use std::path::PathBuf;
use std::time::Duration;

use accord_bus::{query_subject, Bus, CommandOptions, Message, JSON};

/// What `accord send` sends.
#[derive(Debug, Clone)]
pub struct SendArgs {
    pub service: String,
    pub command: String,
    pub body: String,
    pub actor: String,
    pub key: Option<PathBuf>,
    pub expected_version: Option<u64>,
    pub occurred_at: Option<String>,
}

/// Why nothing was sent or no answer came.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Key(#[from] crate::keys::KeyFileError),
    #[error("no answer from {subject}: {reason}")]
    Bus { subject: String, reason: String },
}

/// The reply as JSON text, and whether it is a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub json: String,
    pub refused: bool,
}

fn answer(reply: Message) -> Answer {
    let json = String::from_utf8_lossy(&reply.payload).into_owned();
    let refused = serde_json::from_str::<serde_json::Value>(&json)
        .map(|value| value.get("error").is_some())
        .unwrap_or(true);
    Answer { json, refused }
}

async fn ask(bus: &Bus, request: Message, timeout: Duration) -> Result<Answer, SendError> {
    let subject = request.subject.clone();
    bus.request(request, timeout)
        .await
        .map(answer)
        .map_err(|e| SendError::Bus {
            subject,
            reason: e.to_string(),
        })
}

/// Sends one command; signs it when a key file is given.
pub async fn send(bus: &Bus, args: &SendArgs, timeout: Duration) -> Result<Answer, SendError> {
    let mut options = CommandOptions::new(args.actor.clone());
    options.json = true;
    options.expected_version = args.expected_version;
    options.occurred_at = args.occurred_at.clone();
    if let Some(path) = &args.key {
        options = options.signed_with(crate::keys::read_key_file(path)?);
    }
    let request = options.request(&args.service, &args.command, args.body.clone().into_bytes());
    ask(bus, request, timeout).await
}

/// Asks one query.
pub async fn query(
    bus: &Bus,
    service: &str,
    query: &str,
    body: &str,
    timeout: Duration,
) -> Result<Answer, SendError> {
    let request = Message::new(query_subject(service, query), body.as_bytes().to_vec())
        .with_header(accord_bus::headers::CONTENT_TYPE, JSON);
    ask(bus, request, timeout).await
}
