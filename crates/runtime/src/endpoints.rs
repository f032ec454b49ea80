//! A service's endpoints on the bus: `accord.<service>.cmd.*` for commands and
//! `accord.<service>.q.*` for queries (see `proto/accord/v1/service.proto` for the
//! headers and replies). Every request gets a `Reply`: a result, or an error with a
//! code from the fixed set, a stable reason, a message and details. A refused
//! request appends nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use accord_boundary::{Body, BoundaryError};
use accord_bus::{headers, Bus, BusError, EndpointSpec, Incoming, Message, ServiceSpec, JSON};
use accord_contracts::v1::{self as pb, reply::Outcome};
use accord_kernel::{ActorId, Timestamp};
use accord_log::AppendOutcome;
use prost::Message as _;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::authentication::Trusted;
use crate::error::QueryError;
use crate::error::{CommandError, ErrorCode};
use crate::metrics::Metrics;
use crate::service::{now, CommandMeta, Model, Service};
use accord_bus::RELAY_CURSOR;

/// Settings of a service's endpoints.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Largest request body taken; larger ones are refused as `oversize`.
    pub max_request_bytes: usize,
    /// How far past the service's clock a command's `Accord-Occurred-At` may be;
    /// later is refused as `occurred_in_future` (a fact cannot have happened yet).
    pub max_future_skew: std::time::Duration,
    /// Whether every command must be signed by its actor's registered key
    /// (`require_signatures`; see proto/SIGNING.md). On by default; the service
    /// warns at start when it is off.
    pub require_signatures: bool,
    /// The keys trusted without the registry: each party's administrators
    /// (`trust_roots`), who alone sign the party's registry commands, and each
    /// service's reaction key (`service_keys`).
    pub trusted: Trusted,
    /// Where commands are counted and timed.
    pub metrics: Arc<Metrics>,
}

impl Default for EndpointConfig {
    fn default() -> EndpointConfig {
        EndpointConfig {
            max_request_bytes: 64 * 1024,
            max_future_skew: std::time::Duration::from_secs(300),
            require_signatures: true,
            trusted: Trusted::default(),
            metrics: Arc::default(),
        }
    }
}

/// The service as the bus announces it (`$SRV.INFO` on NATS).
pub fn service_spec<M: Model>() -> ServiceSpec {
    let service = M::SERVICE;
    let mut queries = vec!["LogStatus"];
    queries.extend(M::QUERIES);
    ServiceSpec {
        name: format!("accord-{service}"),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        description: format!("Accord {service} service: commands and queries"),
        endpoints: vec![
            EndpointSpec {
                name: "commands".into(),
                subject: format!("accord.{service}.cmd.*"),
                metadata: BTreeMap::from([(
                    "commands".to_owned(),
                    accord_boundary::command_names(M::COMMANDS).join(","),
                )]),
            },
            EndpointSpec {
                name: "queries".into(),
                subject: format!("accord.{service}.q.*"),
                metadata: BTreeMap::from([("queries".to_owned(), queries.join(","))]),
            },
        ],
    }
}

/// Serves the service's endpoints until `shutdown` turns true; then stops taking
/// requests, answers those already taken, and returns.
pub async fn serve<M: Model>(
    service: Arc<Service<M>>,
    bus: Bus,
    config: EndpointConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    let mut served = bus.serve(service_spec::<M>()).await?;
    // A reply must fit in one message: list pages are bounded by half of it, and
    // whatever still does not fit is refused in words (`reply_too_large`).
    let max_reply = bus.max_payload();
    service.limit_pages_to(max_reply / 2);
    // The bus has registered every endpoint (on NATS: the server confirmed the
    // subscriptions), so a request sent from now on finds a responder.
    config.metrics.set_serving(M::SERVICE, true);
    tracing::info!(service = M::SERVICE, "runtime.endpoints serving");
    if !config.require_signatures {
        tracing::warn!(
            service = M::SERVICE,
            "signatures are not required (require_signatures = false): any client may act as any actor"
        );
    }
    let mut in_flight = JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            incoming = served.requests.recv() => {
                let Some(incoming) = incoming else { break };
                let service = service.clone();
                let config = config.clone();
                in_flight.spawn(async move {
                    let Incoming { endpoint, message, reply } = incoming;
                    let answer = respond(&service, &endpoint, &message, &config).await;
                    let answer = fit(answer, max_reply, wants_json(&message));
                    if let Err(error) = reply.send(answer).await {
                        tracing::warn!(service = M::SERVICE, %error, "runtime.endpoints reply");
                    }
                });
            }
            _ = shutdown.changed() => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }
    config.metrics.set_serving(M::SERVICE, false);
    served.stop();
    while in_flight.join_next().await.is_some() {}
    tracing::info!(service = M::SERVICE, "runtime.endpoints stopped");
    Ok(())
}

/// Room left in a message for the reply's headers.
const HEADER_ROOM: usize = 1024;

/// `answer`, or in its place an `ErrorReply` saying why it cannot be sent, when it
/// would not fit in one bus message of `max_payload` bytes.
fn fit(answer: Message, max_payload: usize, json: bool) -> Message {
    let size = answer.payload.len();
    if size + HEADER_ROOM <= max_payload {
        return answer;
    }
    let error = detail(
        detail(
            refusal(
                ErrorCode::InvalidArgument,
                "reply_too_large",
                format!(
                    "the answer takes {size} bytes, more than the bus carries in one message \
                     ({max_payload} bytes); ask for a smaller page (limit)"
                ),
            ),
            "reply_bytes",
            size,
        ),
        "max_payload",
        max_payload,
    );
    encode_reply(
        pb::Reply {
            outcome: Some(Outcome::Error(error)),
        },
        json,
    )
}

fn wants_json(message: &Message) -> bool {
    message
        .header(headers::CONTENT_TYPE)
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with(JSON))
}

/// Builds the reply to one request.
async fn respond<M: Model>(
    service: &Service<M>,
    endpoint: &str,
    message: &Message,
    config: &EndpointConfig,
) -> Message {
    let json = wants_json(message);
    let outcome = match endpoint {
        "commands" => {
            let started = std::time::Instant::now();
            let outcome = command(service, message, json, config).await;
            let label = match &outcome {
                Ok(_) => "ok",
                Err(error) => error.code.as_str(),
            };
            config.metrics.command(M::SERVICE, label, started.elapsed());
            outcome
        }
        "queries" => query(service, message, json, config).await,
        other => Err(refusal(
            ErrorCode::Internal,
            "unknown_endpoint",
            format!("no endpoint {other}"),
        )),
    };
    let reply = pb::Reply {
        outcome: Some(outcome.unwrap_or_else(Outcome::Error)),
    };
    encode_reply(reply, json)
}

fn encode_reply(reply: pb::Reply, json: bool) -> Message {
    let mut answer = match &reply.outcome {
        Some(Outcome::Error(error)) => error_headers(error),
        _ => Message::new("", Vec::new()),
    };
    if json {
        // Every reply message is part of the contract, so mapping cannot fail; if it
        // did, the client still gets a reply it can read.
        answer.payload = accord_contracts::to_json_string(&reply)
            .unwrap_or_else(|e| format!(r#"{{"error":{{"code":"internal","message":"{e}"}}}}"#))
            .into_bytes();
        answer = answer.with_header(headers::CONTENT_TYPE, JSON);
    } else {
        answer.payload = reply.encode_to_vec();
    }
    answer
}

/// The longest `Nats-Service-Error` description sent; the body has the whole message.
const MAX_DESCRIPTION: usize = 256;

/// An error reply's headers: the NATS Services API pair, so `$SRV.STATS` counts the
/// error and a generic client sees it without decoding the body, and Accord's own
/// code and reason.
fn error_headers(error: &pb::ErrorReply) -> Message {
    let status = error
        .code
        .parse::<ErrorCode>()
        .map_or(500, ErrorCode::http_status);
    let mut description: String = error
        .message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if description.len() > MAX_DESCRIPTION {
        let mut end = MAX_DESCRIPTION;
        while !description.is_char_boundary(end) {
            end -= 1;
        }
        description.truncate(end);
    }
    Message::new("", Vec::new())
        .with_header(headers::SERVICE_ERROR, description)
        .with_header(headers::SERVICE_ERROR_CODE, status.to_string())
        .with_header(headers::ERROR_CODE, error.code.clone())
        .with_header(headers::ERROR_REASON, error.reason.clone())
}

fn refusal(code: ErrorCode, reason: &str, message: String) -> pb::ErrorReply {
    pb::ErrorReply {
        code: code.as_str().to_owned(),
        reason: reason.to_owned(),
        message,
        details: Default::default(),
    }
}

fn detail(mut error: pb::ErrorReply, key: &str, value: impl ToString) -> pb::ErrorReply {
    error.details.insert(key.to_owned(), value.to_string());
    error
}

/// The last token of the subject: the command or query name.
fn name_of(message: &Message) -> &str {
    message.subject.rsplit('.').next().unwrap_or_default()
}

fn body<'a>(
    message: &'a Message,
    json: bool,
    config: &EndpointConfig,
) -> Result<Body<'a>, pb::ErrorReply> {
    let size = message.payload.len();
    if size > config.max_request_bytes {
        let error = refusal(
            ErrorCode::InvalidArgument,
            "oversize",
            format!(
                "request body is {size} bytes; the limit is {}",
                config.max_request_bytes
            ),
        );
        return Err(detail(
            detail(error, "limit", config.max_request_bytes),
            "size",
            size,
        ));
    }
    if json {
        std::str::from_utf8(&message.payload)
            .map(Body::Json)
            .map_err(|e| {
                refusal(
                    ErrorCode::InvalidArgument,
                    "malformed",
                    format!("json body is not utf-8: {e}"),
                )
            })
    } else {
        Ok(Body::Protobuf(&message.payload))
    }
}

fn header_value<T, E: std::fmt::Display>(
    message: &Message,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, pb::ErrorReply> {
    message
        .header(name)
        .map(|value| {
            parse(value.trim()).map_err(|e| {
                detail(
                    refusal(
                        ErrorCode::InvalidArgument,
                        "invalid_value",
                        format!("header {name}: {e}"),
                    ),
                    "header",
                    name,
                )
            })
        })
        .transpose()
}

fn command_meta(message: &Message) -> Result<CommandMeta, pb::ErrorReply> {
    let actor = header_value(message, headers::ACTOR, |v| ActorId::new(v))?.ok_or_else(|| {
        detail(
            refusal(
                ErrorCode::InvalidArgument,
                "missing_header",
                format!(
                    "header {} is required: who issues the command",
                    headers::ACTOR
                ),
            ),
            "header",
            headers::ACTOR,
        )
    })?;
    let command_id =
        header_value(message, headers::COMMAND_ID, Uuid::parse_str)?.unwrap_or_else(Uuid::now_v7);
    Ok(CommandMeta {
        actor,
        command_id,
        correlation_id: header_value(message, headers::CORRELATION_ID, Uuid::parse_str)?
            .unwrap_or(command_id),
        causation_id: header_value(message, headers::CAUSATION_ID, Uuid::parse_str)?,
        occurred_at: header_value(message, headers::OCCURRED_AT, Timestamp::parse_rfc3339)?
            .unwrap_or_else(now),
        expected_version: header_value(message, headers::EXPECTED_VERSION, str::parse::<u64>)?,
        command_digest: Some(crate::digest::command_digest(message)),
        sender: None,
        signature: None,
    })
}

/// Refuses a business time later than the service's clock plus the allowed skew.
fn occurred_not_in_future(
    meta: &CommandMeta,
    config: &EndpointConfig,
) -> Result<(), pb::ErrorReply> {
    let skew = i64::try_from(config.max_future_skew.as_secs()).unwrap_or(i64::MAX);
    let now = now();
    let latest =
        Timestamp::new(now.seconds().saturating_add(skew), now.nanos() as i32).unwrap_or(now);
    if meta.occurred_at <= latest {
        return Ok(());
    }
    Err(detail(
        detail(
            refusal(
                ErrorCode::InvalidArgument,
                "occurred_in_future",
                format!(
                    "{} {} is later than the service's clock ({now}) by more than the \
                     allowed {} s: a command states a fact that happened",
                    headers::OCCURRED_AT,
                    meta.occurred_at,
                    skew
                ),
            ),
            "header",
            headers::OCCURRED_AT,
        ),
        "max_future_skew_secs",
        skew,
    ))
}

fn command_error(error: &CommandError) -> pb::ErrorReply {
    let reply = refusal(error.code(), error.reason(), error.to_string());
    match error {
        CommandError::Stale {
            stream,
            expected,
            actual,
        } => detail(
            detail(detail(reply, "stream", stream), "expected", expected),
            "actual",
            actual,
        ),
        CommandError::Refused(refusal) => refusal
            .details
            .iter()
            .fold(reply, |reply, (key, value)| detail(reply, key, value)),
        CommandError::Unauthenticated(error) => error
            .details()
            .into_iter()
            .fold(reply, |reply, (key, value)| detail(reply, key, value)),
        CommandError::Invalid(accord_boundary::BoundaryError::Invalid { field, .. })
        | CommandError::Invalid(accord_boundary::BoundaryError::Missing { field })
        | CommandError::Invalid(accord_boundary::BoundaryError::UnknownEnum { field, .. }) => {
            detail(reply, "field", field)
        }
        _ => reply,
    }
}

fn result(outcome: AppendOutcome) -> pb::CommandResult {
    pb::CommandResult {
        stream: Some(pb::StreamRef {
            category: outcome.stream.category().to_owned(),
            id: outcome.stream.id().to_owned(),
        }),
        version: outcome.last_version,
        event_ids: outcome.event_ids.iter().map(ToString::to_string).collect(),
        first_position: outcome.first_position,
        last_position: outcome.last_position,
        duplicate: outcome.duplicate,
    }
}

async fn command<M: Model>(
    service: &Service<M>,
    message: &Message,
    json: bool,
    config: &EndpointConfig,
) -> Result<Outcome, pb::ErrorReply> {
    let name = name_of(message);
    let body = body(message, json, config)?;
    let mut meta = command_meta(message)?;
    occurred_not_in_future(&meta, config)?;
    if config.require_signatures {
        let authenticated = service
            .authenticate(message, &config.trusted)
            .await
            .map_err(|error| detail(command_error(&error), "command", name))?;
        meta.sender = Some(authenticated.sender);
        meta.signature = Some(authenticated.evidence);
    }
    let span = tracing::info_span!("runtime.endpoint.command", service = M::SERVICE, command = name, command_id = %meta.command_id);
    // Instrumented, not entered: a span entered across an await stays entered on the
    // worker thread while other requests run there, and their logs would carry it.
    let handled = service
        .handle(name, body, &meta)
        .instrument(span.clone())
        .await;
    match handled {
        Ok(outcome) => Ok(Outcome::Command(result(outcome))),
        Err(error) => {
            span.in_scope(|| tracing::debug!(%error, code = error.code().as_str(), "refused"));
            Err(detail(command_error(&error), "command", name))
        }
    }
}

async fn query<M: Model>(
    service: &Service<M>,
    message: &Message,
    json: bool,
    config: &EndpointConfig,
) -> Result<Outcome, pb::ErrorReply> {
    let name = name_of(message);
    let body = body(message, json, config)?;
    if name == "LogStatus" {
        let log = service.log();
        let head = log.head().ok().flatten();
        return Ok(Outcome::LogStatus(pb::LogStatus {
            service: M::SERVICE.to_owned(),
            head_position: head.map_or(0, |h| h.position),
            head_hash: head.map(|h| h.hash.to_string()).unwrap_or_default(),
            relay_position: log.cursor(RELAY_CURSOR).unwrap_or(0),
            applied_position: service.applied_position(),
        }));
    }
    service
        .query(name, body)
        .await
        .map_err(|error| query_error::<M>(name, &error))
}

fn query_error<M: Model>(name: &str, error: &QueryError) -> pb::ErrorReply {
    let message = match error {
        QueryError::Unknown(_) => format!("{error}; known: LogStatus,{}", M::QUERIES.join(",")),
        _ => error.to_string(),
    };
    let reply = refusal(error.code(), error.reason(), message);
    match error {
        QueryError::Unknown(_) => detail(reply, "query", name),
        QueryError::NotFound { kind, id } => detail(reply, kind, id),
        QueryError::Invalid(
            BoundaryError::Invalid { field, .. }
            | BoundaryError::Missing { field }
            | BoundaryError::UnknownEnum { field, .. },
        ) => detail(reply, "field", field),
        QueryError::Undecodable { position, .. } => detail(reply, "position", position),
        _ => reply,
    }
}
