//! Small constructors shared by the agreements tests.
#![allow(dead_code, clippy::unwrap_used)]

use accord_agreements::board::{MotionStatus, MotionSubject};
use accord_agreements::Authorisation;
use accord_kernel::{ActorId, AggregateId, PartyId};

pub(crate) fn id(text: &str) -> AggregateId {
    AggregateId::new(text).unwrap()
}

pub(crate) fn actor(text: &str) -> ActorId {
    ActorId::new(text).unwrap()
}

pub(crate) fn party(text: &str) -> PartyId {
    PartyId::new(text).unwrap()
}

pub(crate) fn authorisation(status: MotionStatus, subject: MotionSubject) -> Authorisation {
    Authorisation {
        board_id: id("board-1"),
        motion_id: id("motion-1"),
        status,
        subject,
    }
}
