//! The shell around the pure deciders. A [`Service`] takes a command (name and body,
//! protobuf or JSON), parses it at the boundary, loads the aggregate's stream from the
//! service's log, decides, and appends the events with the expected version —
//! retrying a bounded number of times when another command got there first. It
//! answers only once the events are durable and its projections have applied them,
//! so a query after an acknowledged command sees it.
//!
//! Around it: [`endpoints`] serve commands and queries on the bus, the relay
//! publishes the log, and [`reactions`] turn one service's events into commands for
//! another, keeping what they cannot carry out as [`dead_letters`]. [`run_service`] runs all of that for one service.
//!
//! One [`Model`] per service (agreements, projects, procurement) says how its
//! commands, events and projections are typed; the machinery is shared.

pub mod authentication;
pub mod checkpoints;
pub mod dead_letters;
pub mod deadlines;
mod digest;
pub mod endpoints;
mod error;
mod follower;
mod metrics;
mod models;
mod node;
pub mod pages;
mod projection;
mod projection_snapshot;
pub mod queries;
pub mod reactions;
pub mod replica;
mod service;
pub mod witness_client;

pub use accord_boundary::{command_names, ServiceDefinition};
pub use accord_bus::RELAY_CURSOR;
pub use checkpoints::{run_checkpoints, CheckpointConfig, CheckpointError};
pub use digest::command_digest;
pub use endpoints::{serve, service_spec, EndpointConfig};
pub use error::{boundary_reason, code_of_refusal, CommandError, DomainRefusal, ErrorCode};
pub use metrics::{Metrics, ReactionOutcome};
pub use models::{
    AgreementsModel, AgreementsState, ProcurementModel, ProcurementState, ProjectsModel,
    ProjectsState,
};
pub use node::{run_open_service, run_service, NodeConfig, OpenService, ServiceKind};
pub use projection_snapshot::load as load_projection_snapshot;
pub use reactions::{reaction_command_id, run_reactions, ReactionConfig};
pub use service::{now, CommandMeta, Model, Service, MAX_CONFLICT_RETRIES};
