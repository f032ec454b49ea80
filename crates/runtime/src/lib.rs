//! The shell around the pure deciders: a [`Service`] takes a command (name and body,
//! protobuf or JSON), parses it at the boundary, loads the aggregate's stream from the
//! service's log, decides, and appends the events with the expected version —
//! retrying a bounded number of times when another command got there first. It
//! answers only once the events are durable and its projections have applied them,
//! so a query after an acknowledged command sees it.
//!
//! One [`Model`] per service (agreements, projects, procurement) says how its
//! commands, events and projections are typed; the machinery is shared.

mod error;
mod models;
mod service;

pub use error::{CommandError, ErrorCode};
pub use models::{
    AgreementsModel, AgreementsState, ProcurementModel, ProcurementState, ProjectsModel,
    ProjectsState,
};
pub use service::{CommandMeta, Model, Service, MAX_CONFLICT_RETRIES};
