use accord_kernel::ValueError;

/// Why a message could not become a domain value. Callers match on variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundaryError {
    #[error("{field}: {error}")]
    Invalid {
        field: &'static str,
        error: ValueError,
    },
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field}: unknown value {value}")]
    UnknownEnum { field: &'static str, value: i32 },
    #[error("unknown event type {0}")]
    UnknownEventType(String),
    #[error("unknown command {0}")]
    UnknownCommand(String),
    #[error("motion {0} is not known to any board")]
    UnknownMotion(String),
    #[error("{kind} {id} is not known")]
    UnknownReference { kind: &'static str, id: String },
    #[error("body is not valid json for {type_name}: {reason}")]
    Json { type_name: String, reason: String },
    #[error("body names a field {type_name} does not have: {reason}")]
    UnknownField { type_name: String, reason: String },
    /// A JSON enum value by a name the enum does not have.
    #[error("body names an enum value {type_name} does not know: {reason}")]
    UnknownEnumName { type_name: String, reason: String },
    #[error("payload does not decode as {type_name}: {reason}")]
    Decode { type_name: String, reason: String },
    /// A stored event of a schema version this code cannot read (see `evolution`).
    #[error("{event_type} schema version {version} is not readable by this build (it reads 1 to {current})")]
    UnknownSchemaVersion {
        event_type: String,
        version: u32,
        current: u32,
    },
}

/// Attaches the field name to a value error.
pub(crate) trait Field<T> {
    fn field(self, field: &'static str) -> Result<T, BoundaryError>;
}

impl<T> Field<T> for Result<T, ValueError> {
    fn field(self, field: &'static str) -> Result<T, BoundaryError> {
        self.map_err(|error| BoundaryError::Invalid { field, error })
    }
}
