use accord_boundary::BoundaryError;
pub use accord_boundary::DomainRefusal;
pub use accord_contracts::ErrorCode;
use accord_kernel::RefusalKind;
use accord_log::LogError;

use crate::authentication::Unauthenticated;

/// The code of a domain refusal of `kind`.
pub fn code_of_refusal(kind: RefusalKind) -> ErrorCode {
    match kind {
        RefusalKind::NotFound => ErrorCode::NotFound,
        RefusalKind::Conflict => ErrorCode::Conflict,
        RefusalKind::FailedPrecondition => ErrorCode::FailedPrecondition,
        RefusalKind::InvalidArgument => ErrorCode::InvalidArgument,
        RefusalKind::PermissionDenied => ErrorCode::PermissionDenied,
    }
}

/// Why a command was not carried out. Nothing was appended in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command could not be parsed into a domain command.
    #[error(transparent)]
    Invalid(#[from] BoundaryError),
    /// The domain refused it: the decider's error, typed (see [`DomainRefusal`]).
    #[error("{}", .0.message)]
    Refused(DomainRefusal),
    /// The sender expected another stream version than the stream has.
    #[error("stream {stream} is at version {actual}, not the expected {expected}")]
    Stale {
        stream: String,
        expected: u64,
        actual: u64,
    },
    /// Other commands kept changing the stream; the caller may retry.
    #[error("stream {stream} kept changing: gave up after {attempts} attempts")]
    Contended { stream: String, attempts: u32 },
    /// The log failed or refused the append.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The service is shutting down.
    #[error("service is stopping")]
    Stopping,
    /// The sender is not established: the signature is missing or does not verify
    /// with the actor's registered key.
    #[error(transparent)]
    Unauthenticated(#[from] Unauthenticated),
    /// The signature did not verify with the registry this service follows from
    /// the agreements service, which has not caught up yet: try again shortly.
    #[error("{0}, but this service's copy of the actors registry is catching up: retry shortly")]
    RegistryBehind(Unauthenticated),
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::Invalid(
                BoundaryError::UnknownMotion(_) | BoundaryError::UnknownReference { .. },
            ) => ErrorCode::NotFound,
            CommandError::Invalid(_) => ErrorCode::InvalidArgument,
            CommandError::Refused(refusal) => code_of_refusal(refusal.kind),
            CommandError::Contended { .. } | CommandError::Stale { .. } => ErrorCode::Conflict,
            CommandError::Log(error) => log_code(error),
            CommandError::Stopping | CommandError::RegistryBehind(_) => ErrorCode::Unavailable,
            CommandError::Unauthenticated(_) => ErrorCode::Unauthenticated,
        }
    }

    /// A stable reason finer than the code (see `ErrorReply.reason` in service.proto).
    pub fn reason(&self) -> &'static str {
        match self {
            CommandError::Invalid(error) => boundary_reason(error),
            CommandError::Refused(refusal) => refusal.reason,
            CommandError::Stale { .. } => "stale_version",
            CommandError::Contended { .. } => "contended",
            CommandError::Log(error) => log_reason(error),
            CommandError::Stopping => "stopping",
            CommandError::Unauthenticated(error) => error.reason(),
            CommandError::RegistryBehind(_) => "registry_behind",
        }
    }
}

/// The code for a log that failed or refused, whether writing a command's events
/// or reading for a query.
pub(crate) fn log_code(error: &LogError) -> ErrorCode {
    match error {
        LogError::Conflict { .. }
        | LogError::CommandIdReused { .. }
        | LogError::CommandIdPayloadMismatch { .. } => ErrorCode::Conflict,
        LogError::InvalidInput(_) => ErrorCode::InvalidArgument,
        LogError::Closed | LogError::Locked(_) | LogError::StorageFull(_) => ErrorCode::Unavailable,
        LogError::Corrupt(_) | LogError::Storage(_) => ErrorCode::Internal,
    }
}

/// The reason beside [`log_code`].
pub(crate) fn log_reason(error: &LogError) -> &'static str {
    match error {
        LogError::Conflict { .. } => "stale_version",
        LogError::CommandIdReused { .. } => "command_id_reused",
        LogError::CommandIdPayloadMismatch { .. } => "command_id_payload_mismatch",
        LogError::InvalidInput(_) => "invalid_value",
        LogError::Closed | LogError::Locked(_) => "stopping",
        LogError::Corrupt(_) => "corrupt",
        LogError::Storage(_) => "storage",
        LogError::StorageFull(_) => "storage_full",
    }
}

/// The reason for a body that did not become a domain command.
pub fn boundary_reason(error: &BoundaryError) -> &'static str {
    match error {
        BoundaryError::Invalid { .. }
        | BoundaryError::Missing { .. }
        | BoundaryError::UnknownEnum { .. }
        | BoundaryError::UnknownEnumName { .. } => "invalid_value",
        BoundaryError::UnknownCommand(_) => "unknown_command",
        BoundaryError::UnknownMotion(_) | BoundaryError::UnknownReference { .. } => {
            "unknown_reference"
        }
        BoundaryError::UnknownField { .. } => "unknown_field",
        BoundaryError::Json { .. } | BoundaryError::Decode { .. } => "malformed",
        BoundaryError::UnknownEventType(_) | BoundaryError::UnknownSchemaVersion { .. } => {
            "internal"
        }
    }
}

/// Why a query was not answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("unknown query {0}")]
    Unknown(String),
    /// The query's body did not parse.
    #[error(transparent)]
    Invalid(#[from] BoundaryError),
    /// What the query asks about has no events, e.g. an unknown commitment.
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    /// The log could not be read.
    #[error(transparent)]
    Log(#[from] LogError),
    /// An event in the log did not decode: the log and this build disagree.
    #[error("event at position {position} does not decode: {error}")]
    Undecodable { position: u64, error: BoundaryError },
}

impl QueryError {
    pub fn code(&self) -> ErrorCode {
        match self {
            QueryError::Unknown(_) | QueryError::Invalid(_) => ErrorCode::InvalidArgument,
            QueryError::NotFound { .. } => ErrorCode::NotFound,
            QueryError::Log(error) => log_code(error),
            QueryError::Undecodable { .. } => ErrorCode::Internal,
        }
    }

    /// A stable reason finer than the code (see `ErrorReply.reason` in service.proto).
    pub fn reason(&self) -> &'static str {
        match self {
            QueryError::Unknown(_) => "unknown_query",
            QueryError::Invalid(error) => boundary_reason(error),
            QueryError::NotFound { .. } => "unknown_reference",
            QueryError::Log(error) => log_reason(error),
            QueryError::Undecodable { .. } => "corrupt",
        }
    }
}
