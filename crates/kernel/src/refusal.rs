//! Refusals a client can tell apart: every domain error says what kind of refusal
//! it is (which error code the client sees), a stable snake_case reason per variant,
//! and the variant's fields as details. Callers match on these, never on text.

/// What kind of refusal a domain error is; the shell maps it to an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RefusalKind {
    /// The aggregate (or what the command names) does not exist.
    NotFound,
    /// It exists already, or the command was already carried out.
    Conflict,
    /// The command is well formed but the state does not allow it now.
    FailedPrecondition,
    /// A value of the command makes no sense, whatever the state.
    InvalidArgument,
    /// The actor may not do this.
    PermissionDenied,
}

/// A domain error as a refusal. Reasons are part of the contract: listed in the
/// README, never derived from Rust names.
pub trait Refusal: std::error::Error {
    fn kind(&self) -> RefusalKind;
    /// Stable, snake_case, unique per variant (e.g. `not_a_signatory`).
    fn reason(&self) -> &'static str;
    /// The variant's fields, by name, as the reply's details.
    fn details(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// A name on the wire: statuses and kinds as clients see them (`in_force`), given
/// explicitly so that renaming a Rust variant never changes the contract.
pub trait WireName {
    fn wire_name(&self) -> &'static str;
}
