//! Every domain error variant as the reply carries it: its code and its stable
//! reason (snake_case, listed in the README), details by field name, and a message
//! without Rust `Debug` names. One sample of each variant, so a new variant without
//! a reason, or a renamed reason, fails here.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::actor::ActorError;
use accord_agreements::agreement::{AgreementError, AgreementStatus};
use accord_agreements::board::{BoardError, MotionStatus, MotionSubject};
use accord_agreements::commitment::{CommitmentError, CommitmentStatus};
use accord_agreements::AuthorisationError;
use accord_kernel::{ActorId, Currency, Date, PartyId};
use accord_procurement::market::{MarketError, RequestStatus};
use accord_procurement::policy::PolicyError;
use accord_projects::{ProjectError, ProjectStatus};
use accord_runtime::{DomainRefusal, ErrorCode};
use accord_testkit::fixtures::id;

fn actor() -> ActorId {
    ActorId::new("ua-umerov").unwrap()
}
fn party() -> PartyId {
    PartyId::new("UA").unwrap()
}
fn not_adopted() -> AuthorisationError {
    AuthorisationError::NotAdopted {
        motion_id: id("m-1"),
        status: MotionStatus::Open,
    }
}

/// (refusal, expected code, expected reason)
fn every_variant() -> Vec<(DomainRefusal, ErrorCode, &'static str)> {
    use ErrorCode::*;
    let of = |e: &dyn Fn() -> DomainRefusal, code, reason| (e(), code, reason);
    vec![
        of(
            &|| DomainRefusal::of(&AgreementError::AlreadyDrafted),
            Conflict,
            "agreement_exists",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::NotDrafted),
            NotFound,
            "agreement_not_found",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::TooFewParties),
            InvalidArgument,
            "too_few_parties",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::DuplicateParty(party())),
            InvalidArgument,
            "duplicate_party",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::UnknownParty(party())),
            InvalidArgument,
            "not_a_party",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::AlreadyDesignated(actor())),
            Conflict,
            "already_designated",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::NotASignatory(actor())),
            PermissionDenied,
            "not_a_signatory",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::AlreadySigned(actor())),
            Conflict,
            "already_signed",
        ),
        of(
            &|| {
                DomainRefusal::of(&AgreementError::NotOpenForSignature(
                    AgreementStatus::InForce,
                ))
            },
            FailedPrecondition,
            "not_open_for_signature",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::NotInForce(AgreementStatus::Suspended)),
            FailedPrecondition,
            "agreement_not_in_force",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::NotSuspended(AgreementStatus::InForce)),
            FailedPrecondition,
            "agreement_not_suspended",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::Terminated),
            FailedPrecondition,
            "agreement_terminated",
        ),
        of(
            &|| DomainRefusal::of(&AgreementError::Authorisation(not_adopted())),
            FailedPrecondition,
            "motion_not_adopted",
        ),
        of(
            &|| {
                DomainRefusal::of(&AuthorisationError::WrongSubject {
                    motion_id: id("m-1"),
                    subject: MotionSubject::ApproveProject {
                        project_id: id("p-1"),
                    },
                })
            },
            FailedPrecondition,
            "motion_about_another_change",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::AlreadyProposed),
            Conflict,
            "commitment_exists",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::NotProposed),
            NotFound,
            "commitment_not_found",
        ),
        of(
            &|| {
                DomainRefusal::of(&CommitmentError::AgreementNotActive(
                    AgreementStatus::Terminated,
                ))
            },
            FailedPrecondition,
            "agreement_not_active",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::SameParty(party())),
            InvalidArgument,
            "same_party",
        ),
        of(
            &|| {
                DomainRefusal::of(&CommitmentError::WrongStatus {
                    status: CommitmentStatus::Proposed,
                    needed: CommitmentStatus::Accepted,
                })
            },
            FailedPrecondition,
            "wrong_commitment_status",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::Terminal(CommitmentStatus::Fulfilled)),
            FailedPrecondition,
            "commitment_closed",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::NoItemCategories),
            InvalidArgument,
            "no_item_categories",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::NotQuantified),
            FailedPrecondition,
            "not_quantified",
        ),
        of(
            &|| {
                DomainRefusal::of(&CommitmentError::UnitMismatch {
                    given: "kg".into(),
                    committed: "t".into(),
                })
            },
            InvalidArgument,
            "unit_mismatch",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::EmptyProgress),
            InvalidArgument,
            "empty_progress",
        ),
        of(
            &|| {
                DomainRefusal::of(&CommitmentError::DeliveredExceedsAllocated {
                    delivered: 5,
                    allocated: 3,
                })
            },
            FailedPrecondition,
            "delivered_exceeds_allocated",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::KindChanged),
            InvalidArgument,
            "kind_changed",
        ),
        of(
            &|| DomainRefusal::of(&CommitmentError::Authorisation(not_adopted())),
            FailedPrecondition,
            "motion_not_adopted",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::AlreadyEstablished),
            Conflict,
            "board_exists",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::NotEstablished),
            NotFound,
            "board_not_found",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::NotAState("lt-emi".into())),
            InvalidArgument,
            "not_a_state",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::AlreadyMember(actor())),
            Conflict,
            "already_member",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::NotAMember(actor())),
            PermissionDenied,
            "not_a_member",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::NotAVotingMember(actor())),
            PermissionDenied,
            "not_a_voting_member",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::DuplicateMotion(id("m-1"))),
            Conflict,
            "motion_exists",
        ),
        of(
            &|| DomainRefusal::of(&BoardError::UnknownMotion(id("m-1"))),
            NotFound,
            "motion_not_found",
        ),
        of(
            &|| {
                DomainRefusal::of(&BoardError::MotionClosed {
                    motion_id: id("m-1"),
                    status: MotionStatus::Adopted,
                })
            },
            FailedPrecondition,
            "motion_closed",
        ),
        of(
            &|| {
                DomainRefusal::of(&BoardError::AlreadyVoted {
                    motion_id: id("m-1"),
                    actor: actor(),
                })
            },
            Conflict,
            "already_voted",
        ),
        of(
            &|| DomainRefusal::of(&ActorError::AlreadyRegistered),
            Conflict,
            "actor_exists",
        ),
        of(
            &|| DomainRefusal::of(&ActorError::NotRegistered),
            NotFound,
            "actor_not_found",
        ),
        of(
            &|| DomainRefusal::of(&ActorError::KeyLength(3)),
            InvalidArgument,
            "key_length",
        ),
        of(
            &|| DomainRefusal::of(&ActorError::SameKey),
            Conflict,
            "same_key",
        ),
        of(
            &|| DomainRefusal::of(&ActorError::Revoked),
            FailedPrecondition,
            "key_revoked",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::AlreadyProposed),
            Conflict,
            "project_exists",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::NotProposed),
            NotFound,
            "project_not_found",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::HostNotAState(party())),
            InvalidArgument,
            "host_not_a_state",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::NoParticipants),
            InvalidArgument,
            "no_participants",
        ),
        of(
            &|| {
                DomainRefusal::of(&ProjectError::WrongStatus {
                    status: ProjectStatus::Proposed,
                    needed: "approved",
                })
            },
            FailedPrecondition,
            "wrong_project_status",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::Terminal(ProjectStatus::Cancelled)),
            FailedPrecondition,
            "project_closed",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::MotionNotAdopted(id("m-1"))),
            FailedPrecondition,
            "motion_not_adopted",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::ZeroAmount),
            InvalidArgument,
            "zero_amount",
        ),
        of(
            &|| {
                DomainRefusal::of(&ProjectError::DisbursementExceedsPledge {
                    party: party(),
                    currency: Currency::new("EUR").unwrap(),
                    pledged: 1,
                    disbursed: 2,
                })
            },
            FailedPrecondition,
            "disbursement_exceeds_pledge",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::DuplicateMilestone(id("ms-1"))),
            Conflict,
            "milestone_exists",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::UnknownMilestone(id("ms-1"))),
            NotFound,
            "milestone_not_found",
        ),
        of(
            &|| DomainRefusal::of(&ProjectError::MilestoneReached(id("ms-1"))),
            Conflict,
            "milestone_reached",
        ),
        of(
            &|| {
                DomainRefusal::of(&ProjectError::SlipNotLater {
                    due: Date::new(2025, 3, 1).unwrap(),
                    new_due: Date::new(2025, 2, 1).unwrap(),
                })
            },
            InvalidArgument,
            "slip_not_later",
        ),
        of(
            &|| {
                DomainRefusal::of(&ProjectError::UnitMismatch {
                    item: "uav".into(),
                    given: "kg".into(),
                    target: "units".into(),
                })
            },
            InvalidArgument,
            "unit_mismatch",
        ),
        of(
            &|| {
                DomainRefusal::of(&MarketError::WrongItem {
                    market: "shells".into(),
                    given: "uav".into(),
                })
            },
            InvalidArgument,
            "wrong_item",
        ),
        of(
            &|| {
                DomainRefusal::of(&MarketError::UnitMismatch {
                    market: "units".into(),
                    given: "kg".into(),
                })
            },
            InvalidArgument,
            "unit_mismatch",
        ),
        of(
            &|| DomainRefusal::of(&MarketError::ZeroQuantity),
            InvalidArgument,
            "zero_quantity",
        ),
        of(
            &|| DomainRefusal::of(&MarketError::DuplicateRequest(id("r-1"))),
            Conflict,
            "request_exists",
        ),
        of(
            &|| DomainRefusal::of(&MarketError::DuplicateSupply(id("s-1"))),
            Conflict,
            "supply_exists",
        ),
        of(
            &|| DomainRefusal::of(&MarketError::UnknownRequest(id("r-1"))),
            NotFound,
            "request_not_found",
        ),
        of(
            &|| DomainRefusal::of(&MarketError::UnknownSupply(id("s-1"))),
            NotFound,
            "supply_not_found",
        ),
        of(
            &|| DomainRefusal::of(&MarketError::SupplyExhausted(id("s-1"))),
            FailedPrecondition,
            "supply_exhausted",
        ),
        of(
            &|| DomainRefusal::of(&MarketError::NoOpenRequests),
            FailedPrecondition,
            "no_open_requests",
        ),
        of(
            &|| {
                DomainRefusal::of(&MarketError::RequestClosed {
                    request_id: id("r-1"),
                    status: RequestStatus::Fulfilled,
                })
            },
            FailedPrecondition,
            "request_closed",
        ),
        of(
            &|| {
                DomainRefusal::of(&MarketError::NotFullyAllocated {
                    request_id: id("r-1"),
                    outstanding: 4,
                })
            },
            FailedPrecondition,
            "not_fully_allocated",
        ),
        of(
            &|| DomainRefusal::of(&PolicyError::AlreadyGranted(id("c-1"))),
            Conflict,
            "priority_granted",
        ),
        of(
            &|| DomainRefusal::of(&PolicyError::NotGranted(id("c-1"))),
            NotFound,
            "priority_not_granted",
        ),
        of(
            &|| DomainRefusal::of(&PolicyError::NoItemCategories),
            InvalidArgument,
            "no_item_categories",
        ),
    ]
}

#[test]
fn every_domain_error_has_its_code_reason_and_a_message_in_wire_names() {
    let readme = include_str!("../../../README.md");
    for (refusal, code, reason) in every_variant() {
        assert_eq!(
            (
                accord_runtime::code_of_refusal(refusal.kind),
                refusal.reason
            ),
            (code, reason),
            "{refusal:?}"
        );
        assert!(
            reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{reason}"
        );
        assert_ne!(reason, "rejected");
        assert!(
            readme.contains(&format!("`{reason}`")),
            "README lists no reason {reason}"
        );
        // No Rust variant name of a status leaks into what a client reads.
        for debug in [
            "InForce",
            "Drafted",
            "Suspended",
            "Terminated",
            "Adopted",
            "Open",
            "Proposed",
            "Accepted",
            "Fulfilled",
            "Cancelled",
            "ApproveProject",
        ] {
            assert!(!refusal.message.contains(debug), "{refusal:?}");
        }
        for (key, _) in &refusal.details {
            assert!(
                key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{key}"
            );
        }
    }
}

#[test]
fn a_refusal_names_its_fields_as_details() {
    let refusal = DomainRefusal::of(&BoardError::MotionClosed {
        motion_id: id("m-7"),
        status: MotionStatus::Adopted,
    });
    assert_eq!(
        refusal.details,
        [
            ("motion", "m-7".to_owned()),
            ("status", "adopted".to_owned())
        ]
    );
    assert_eq!(
        refusal.message,
        "motion m-7 is adopted; votes are taken only while open"
    );
}
