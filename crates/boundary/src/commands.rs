//! Commands: a command name and a body (protobuf, or JSON in the proto3 mapping)
//! become a domain command for one aggregate. Facts that belong to other aggregates
//! (an agreement's status, a motion's outcome, the priority policy) are asked of the
//! caller through [`Facts`], so the domain stays pure.
//!
//! Each command message has its own parser ([`ParseCommand`]), and each service one
//! table of its commands ([`CommandSpec`]s, in `commands/<service>.rs`): parsing
//! finds the command there, and the command lists (`$SRV.INFO`, docs) are read off
//! the same table, so the two cannot fall out of step. A command's wire name is its
//! protobuf message name (`prost::Name::NAME`), never a Rust identifier.

use accord_agreements::actor::ActorCommand;
use accord_agreements::agreement::{AgreementCommand, AgreementStatus};
use accord_agreements::board::BoardCommand;
use accord_agreements::commitment::CommitmentCommand;
use accord_agreements::Authorisation;
use accord_kernel::{bounded_text, ActorId, AggregateId, PartyId};
use accord_procurement::market::MarketCommand;
use accord_procurement::policy::{Policy, UpdatePolicy};

use crate::error::Field;
use crate::values::*;
use crate::BoundaryError;

mod agreements;
mod procurement;
mod projects;

pub use agreements::AGREEMENTS_COMMANDS;
pub use procurement::PROCUREMENT_COMMANDS;
pub use projects::PROJECTS_COMMANDS;

/// A command body as it arrived.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Protobuf(&'a [u8]),
    /// proto3 JSON mapping; unknown fields are refused.
    Json(&'a str),
}

/// Decodes a body as the message `M`: protobuf bytes, or JSON in the proto3 mapping
/// with unknown fields refused.
pub fn decode_body<M: prost::Message + prost::Name + Default>(
    body: Body<'_>,
) -> Result<M, BoundaryError> {
    match body {
        Body::Protobuf(bytes) => crate::decode(bytes).map_err(|error| match error {
            // JSON sent without its Content-Type fails as a protobuf wire error that
            // says nothing useful; say what is missing instead.
            BoundaryError::Decode { type_name, reason } if looks_like_json(bytes) => {
                BoundaryError::Decode {
                    type_name,
                    reason: format!(
                        "{reason}; the body looks like JSON: send it with the header \
                         Content-Type: application/json"
                    ),
                }
            }
            other => other,
        }),
        Body::Json(text) => accord_contracts::from_json(text).map_err(|e| match e {
            accord_contracts::JsonError::UnknownField { type_name, reason } => {
                BoundaryError::UnknownField { type_name, reason }
            }
            accord_contracts::JsonError::UnknownEnumValue { type_name, reason } => {
                BoundaryError::UnknownEnumName { type_name, reason }
            }
            other => BoundaryError::Json {
                type_name: M::full_name(),
                reason: other.to_string(),
            },
        }),
    }
}

/// Whether a body that failed as protobuf reads as a JSON object.
fn looks_like_json(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start();
    text.starts_with('{') && text.trim_end().ends_with('}')
}

/// What the shell knows about other aggregates, asked for while parsing. Each
/// service answers what it knows; the defaults say "unknown".
pub trait Facts {
    fn agreement_status(&self, _agreement_id: &AggregateId) -> AgreementStatus {
        AgreementStatus::None
    }
    /// The state parties of the agreement (empty if unknown).
    fn agreement_state_parties(&self, _agreement_id: &AggregateId) -> Vec<PartyId> {
        Vec::new()
    }
    /// The parties of the agreement the board belongs to (empty if unknown).
    fn board_agreement_parties(&self, _board_id: &AggregateId) -> Vec<PartyId> {
        Vec::new()
    }
    /// The motion with this id on whichever board tabled it.
    fn motion(&self, _motion_id: &AggregateId) -> Option<Authorisation> {
        None
    }
    fn policy(&self) -> Policy {
        Policy::default()
    }
    /// The commitments under `agreement_id` that `party` is obligor or beneficiary
    /// of and that are still open (not fulfilled, breached or withdrawn).
    fn open_commitments(&self, _agreement_id: &AggregateId, _party: &PartyId) -> Vec<AggregateId> {
        Vec::new()
    }
    /// The market (item) a request or supply id belongs to.
    fn market_of(&self, _request_or_supply_id: &AggregateId) -> Option<String> {
        None
    }
}

/// A parsed command of the agreements service, with the aggregate it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementsCommand {
    Agreement(AggregateId, AgreementCommand),
    Commitment(AggregateId, CommitmentCommand),
    Board(AggregateId, BoardCommand),
    Actor(AggregateId, ActorCommand),
}

/// A parsed command of the procurement service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcurementCommand {
    Policy(UpdatePolicy),
    /// For the market of one item (the stream id).
    Market(String, MarketCommand),
}

pub(crate) fn reason(value: &str) -> Result<String, BoundaryError> {
    bounded_text("reason", value).field("reason")
}

pub(crate) fn authorisation(
    facts: &dyn Facts,
    motion_id: &str,
) -> Result<Authorisation, BoundaryError> {
    let motion_id = aggregate_id("motion_id", motion_id)?;
    facts
        .motion(&motion_id)
        .ok_or_else(|| BoundaryError::UnknownMotion(motion_id.to_string()))
}

/// What parsing a command needs besides its message: who sends it, and what the
/// service knows of other aggregates.
#[derive(Clone, Copy)]
pub struct ParseContext<'a> {
    pub actor: &'a ActorId,
    pub facts: &'a dyn Facts,
}

impl std::fmt::Debug for ParseContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseContext")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// A command message that becomes a command of one service.
pub trait ParseCommand: prost::Message + prost::Name + Default {
    /// The service's command type.
    type Command;

    fn parse(self, context: &ParseContext<'_>) -> Result<Self::Command, BoundaryError>;
}

/// One command a service takes: its wire name (`accord.<service>.cmd.<name>`) and
/// how a body becomes the service's command.
pub struct CommandSpec<C: 'static> {
    pub name: &'static str,
    pub parse: fn(Body<'_>, &ParseContext<'_>) -> Result<C, BoundaryError>,
}

impl<C> std::fmt::Debug for CommandSpec<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSpec")
            .field("name", &self.name)
            .finish()
    }
}

/// The table entry of the command message `M`.
pub const fn command<M: ParseCommand>() -> CommandSpec<M::Command> {
    CommandSpec {
        name: M::NAME,
        parse: decode_and_parse::<M>,
    }
}

fn decode_and_parse<M: ParseCommand>(
    body: Body<'_>,
    context: &ParseContext<'_>,
) -> Result<M::Command, BoundaryError> {
    decode_body::<M>(body)?.parse(context)
}

/// Parses the command `name` of the service whose table is `commands`.
pub fn parse_command<C>(
    commands: &[CommandSpec<C>],
    name: &str,
    body: Body<'_>,
    context: &ParseContext<'_>,
) -> Result<C, BoundaryError> {
    let spec = commands
        .iter()
        .find(|spec| spec.name == name)
        .ok_or_else(|| BoundaryError::UnknownCommand(name.to_owned()))?;
    (spec.parse)(body, context)
}

/// The names in a command table, in its order.
pub fn command_names<C>(commands: &[CommandSpec<C>]) -> Vec<&'static str> {
    commands.iter().map(|spec| spec.name).collect()
}
