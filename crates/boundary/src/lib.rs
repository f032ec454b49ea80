//! The boundary between the wire contract (`accord-contracts`, generated from
//! `proto/`) and the pure domain crates. Protobuf messages become domain types here,
//! once, and every bad value becomes a [`BoundaryError`] naming the field; domain
//! events become protobuf payloads here for the log and the bus.
//!
//! Domain crates depend on the kernel only and the contracts crate holds no logic, so
//! the conversions live here, as functions per service.

mod agreements;
pub mod authorisation;
mod commands;
pub mod definition;
mod error;
pub mod evolution;
mod procurement;
mod projects;
pub mod reactions;
pub mod state;
mod values;

pub use agreements::{decode_agreements_event, encode_agreements_event};
pub use authorisation::{Denied, Sender};
pub use commands::{
    command, command_names, decode_body, parse_command, AgreementsCommand, Body, CommandSpec,
    Facts, ParseCommand, ParseContext, ProcurementCommand, AGREEMENTS_COMMANDS,
    PROCUREMENT_COMMANDS, PROJECTS_COMMANDS,
};
pub use definition::{
    AgreementsModel, DomainRefusal, ProcurementModel, ProjectsModel, ServiceDefinition,
};
pub use error::BoundaryError;
pub use procurement::{decode_procurement_event, encode_procurement_event};
pub use projects::{decode_project_event, encode_project_event};
pub use state::{AgreementsState, ProcurementState, ProjectsState};
pub use values::documents_proto;

/// A domain event as the log stores it: the payload's message name, its schema
/// version ([`evolution`]) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    /// Fully qualified protobuf message name, e.g. `accord.v1.CommitmentAmended`.
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Vec<u8>,
}

impl EncodedEvent {
    pub(crate) fn of<M: prost::Message + prost::Name>(message: &M) -> EncodedEvent {
        let event_type = M::full_name();
        EncodedEvent {
            schema_version: evolution::current_version(&event_type),
            event_type,
            payload: message.encode_to_vec(),
        }
    }
}

pub(crate) fn decode<M: prost::Message + prost::Name + Default>(
    payload: &[u8],
) -> Result<M, BoundaryError> {
    M::decode(payload).map_err(|e| BoundaryError::Decode {
        type_name: M::full_name(),
        reason: e.to_string(),
    })
}
