//! The agreements service's business rules, as pure deciders (see
//! [`accord_kernel::Decider`]): no I/O, no clock, no id generation.
//!
//! One aggregate per stream: an [`agreement`], each [`commitment`], each Steering
//! [`board`] (with its motions and votes), and each registered [`actor`].
//!
//! Facts that belong to another aggregate (is this motion adopted? is the agreement
//! in force?) are looked up by the shell and handed to the command as an
//! [`Authorisation`] or a status, so every rule stays a pure function of its inputs.

pub mod actor;
pub mod agreement;
pub mod board;
pub mod commitment;
pub mod projections;

use accord_kernel::{AggregateId, Refusal, RefusalKind, WireName};

/// What the shell found about the board motion a command cites as its authority.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Authorisation {
    pub board_id: AggregateId,
    pub motion_id: AggregateId,
    pub status: board::MotionStatus,
    pub subject: board::MotionSubject,
}

/// Why a cited motion does not authorise a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorisationError {
    #[error("motion {motion_id} is {}, not adopted", .status.wire_name())]
    NotAdopted {
        motion_id: AggregateId,
        status: board::MotionStatus,
    },
    #[error("motion {motion_id} is about {}, not this change", .subject.wire_name())]
    WrongSubject {
        motion_id: AggregateId,
        subject: board::MotionSubject,
    },
}

impl Authorisation {
    /// Checks the motion was adopted and is about what `expected` says.
    pub fn check(
        &self,
        expected: impl Fn(&board::MotionSubject) -> bool,
    ) -> Result<(), AuthorisationError> {
        if self.status != board::MotionStatus::Adopted {
            return Err(AuthorisationError::NotAdopted {
                motion_id: self.motion_id.clone(),
                status: self.status,
            });
        }
        if !expected(&self.subject) {
            return Err(AuthorisationError::WrongSubject {
                motion_id: self.motion_id.clone(),
                subject: self.subject.clone(),
            });
        }
        Ok(())
    }
}

impl Refusal for AuthorisationError {
    fn kind(&self) -> RefusalKind {
        RefusalKind::FailedPrecondition
    }

    fn reason(&self) -> &'static str {
        match self {
            AuthorisationError::NotAdopted { .. } => "motion_not_adopted",
            AuthorisationError::WrongSubject { .. } => "motion_about_another_change",
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            AuthorisationError::NotAdopted { motion_id, status } => vec![
                ("motion", motion_id.to_string()),
                ("status", status.wire_name().to_owned()),
            ],
            AuthorisationError::WrongSubject { motion_id, subject } => vec![
                ("motion", motion_id.to_string()),
                ("subject", subject.wire_name().to_owned()),
            ],
        }
    }
}
