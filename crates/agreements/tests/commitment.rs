//! Given/when/then tests of the commitment rules.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_agreements::agreement::AgreementStatus;
use accord_agreements::board::{MotionStatus, MotionSubject};
use accord_agreements::commitment::{
    CommitmentCommand as C, CommitmentDecider as D, CommitmentError as Err, CommitmentEvent as E,
    CommitmentKind, CommitmentStatus, CommitmentTerms,
};
use accord_agreements::AuthorisationError;
use accord_kernel::{Currency, Date, Money, Period, Quantity};
use accord_testkit::given;
use common::{authorisation, id, party};

fn shells(amount: i64) -> Quantity {
    Quantity::new(amount, "shell").unwrap()
}

fn capacity_terms(amount: i64) -> CommitmentTerms {
    CommitmentTerms {
        kind: CommitmentKind::ProductionCapacity {
            item: "155mm shell".into(),
            quantity: shells(amount),
            period: Period::new(
                Date::new(2025, 1, 1).unwrap(),
                Date::new(2025, 12, 31).unwrap(),
            )
            .unwrap(),
        },
        text: "joint production of shells".into(),
    }
}

fn priority_terms(categories: &[&str]) -> CommitmentTerms {
    CommitmentTerms {
        kind: CommitmentKind::ProcurementPriority {
            item_categories: categories.iter().map(|c| c.to_string()).collect(),
        },
        text: "Lithuania prioritises Ukraine when acquiring defence products".into(),
    }
}

fn propose(terms: CommitmentTerms, agreement_status: AgreementStatus) -> C {
    C::Propose {
        id: id("c1"),
        agreement_id: id("lt-ua"),
        agreement_status,
        obligor: party("LT"),
        beneficiary: party("UA"),
        terms,
        due: None,
        reason: "agreement text".into(),
        also_benefiting: Vec::new(),
    }
}

fn proposed(terms: CommitmentTerms) -> E {
    E::Proposed {
        id: id("c1"),
        agreement_id: id("lt-ua"),
        obligor: party("LT"),
        beneficiary: party("UA"),
        terms,
        due: None,
        reason: "agreement text".into(),
        also_benefiting: Vec::new(),
    }
}

fn accepted_capacity() -> Vec<E> {
    vec![
        proposed(capacity_terms(10_000)),
        E::Accepted {
            reason: "signed".into(),
        },
    ]
}

fn amend_motion(status: MotionStatus, commitment: &str) -> accord_agreements::Authorisation {
    authorisation(
        status,
        MotionSubject::AmendCommitment {
            commitment_id: id(commitment),
        },
    )
}

#[test]
fn a_commitment_is_proposed_under_an_active_agreement_between_two_parties() {
    given::<D>([])
        .when(propose(capacity_terms(10), AgreementStatus::InForce))
        .then([proposed(capacity_terms(10))]);
    for status in [
        AgreementStatus::None,
        AgreementStatus::Suspended,
        AgreementStatus::Terminated,
    ] {
        given::<D>([])
            .when(propose(capacity_terms(10), status))
            .then_error(|e| *e == Err::AgreementNotActive(status));
    }
    let mut same = propose(capacity_terms(10), AgreementStatus::InForce);
    if let C::Propose { beneficiary, .. } = &mut same {
        *beneficiary = party("LT");
    }
    given::<D>([])
        .when(same)
        .then_error(|e| *e == Err::SameParty(party("LT")));
    given::<D>([])
        .when(propose(priority_terms(&[]), AgreementStatus::InForce))
        .then_error(|e| *e == Err::NoItemCategories);
    given::<D>([proposed(capacity_terms(10))])
        .when(propose(capacity_terms(10), AgreementStatus::InForce))
        .then_error(|e| *e == Err::AlreadyProposed);
}

#[test]
fn nothing_happens_to_a_commitment_that_was_never_proposed() {
    given::<D>([])
        .when(C::Accept { reason: "r".into() })
        .then_error(|e| *e == Err::NotProposed);
}

#[test]
fn acceptance_follows_proposal_once() {
    let state = given::<D>([proposed(capacity_terms(10))])
        .when(C::Accept {
            reason: "ok".into(),
        })
        .then([E::Accepted {
            reason: "ok".into(),
        }]);
    assert_eq!(state.status, CommitmentStatus::Accepted);
    given::<D>(accepted_capacity())
        .when(C::Accept {
            reason: "again".into(),
        })
        .then_error(|e| {
            matches!(
                e,
                Err::WrongStatus {
                    status: CommitmentStatus::Accepted,
                    ..
                }
            )
        });
}

#[test]
fn amending_an_accepted_commitment_needs_an_adopted_motion_about_it() {
    let amend = |auth| C::Amend {
        terms: capacity_terms(20_000),
        due: None,
        authorisation: auth,
        reason: "capacity doubled".into(),
    };
    let state = given::<D>(accepted_capacity())
        .when(amend(amend_motion(MotionStatus::Adopted, "c1")))
        .then([E::Amended {
            terms: capacity_terms(20_000),
            due: None,
            motion_id: id("motion-1"),
            reason: "capacity doubled".into(),
        }]);
    assert_eq!(state.committed(), Some(shells(20_000)));
    assert_eq!(state.amendments, vec![id("motion-1")]);
    given::<D>(accepted_capacity())
        .when(amend(amend_motion(MotionStatus::Open, "c1")))
        .then_error(|e| matches!(e, Err::Authorisation(AuthorisationError::NotAdopted { .. })));
    given::<D>(accepted_capacity())
        .when(amend(amend_motion(MotionStatus::Adopted, "another")))
        .then_error(|e| {
            matches!(
                e,
                Err::Authorisation(AuthorisationError::WrongSubject { .. })
            )
        });
    given::<D>([proposed(capacity_terms(10))])
        .when(amend(amend_motion(MotionStatus::Adopted, "c1")))
        .then_error(|e| {
            matches!(
                e,
                Err::WrongStatus {
                    status: CommitmentStatus::Proposed,
                    ..
                }
            )
        });
    let change_kind = C::Amend {
        terms: priority_terms(&["shells"]),
        due: None,
        authorisation: amend_motion(MotionStatus::Adopted, "c1"),
        reason: "r".into(),
    };
    given::<D>(accepted_capacity())
        .when(change_kind)
        .then_error(|e| *e == Err::KindChanged);
}

#[test]
fn progress_tracks_allocated_and_delivered_in_the_committed_unit() {
    let progress = |allocated: Option<i64>, delivered: Option<i64>| C::RecordProgress {
        allocated: allocated.map(shells),
        delivered: delivered.map(shells),
        reason: "monthly report".into(),
        documents: Vec::new(),
    };
    let state = given::<D>(accepted_capacity())
        .when(progress(Some(4_000), Some(1_500)))
        .then([E::ProgressRecorded {
            allocated: Some(shells(4_000)),
            delivered: Some(shells(1_500)),
            reason: "monthly report".into(),
            documents: Vec::new(),
        }]);
    assert_eq!((state.allocated, state.delivered), (4_000, 1_500));
    given::<D>(accepted_capacity())
        .when(progress(Some(10), Some(11)))
        .then_error(|e| {
            matches!(
                e,
                Err::DeliveredExceedsAllocated {
                    delivered: 11,
                    allocated: 10
                }
            )
        });
    given::<D>(accepted_capacity())
        .when(progress(None, None))
        .then_error(|e| *e == Err::EmptyProgress);
    given::<D>(accepted_capacity())
        .when(C::RecordProgress {
            allocated: Some(Quantity::new(5, "t").unwrap()),
            delivered: None,
            reason: "r".into(),
            documents: Vec::new(),
        })
        .then_error(|e| matches!(e, Err::UnitMismatch { .. }));
    given::<D>([
        proposed(priority_terms(&["shells"])),
        E::Accepted { reason: "r".into() },
    ])
    .when(progress(Some(1), None))
    .then_error(|e| *e == Err::NotQuantified);
}

#[test]
fn the_beneficiary_confirms_or_disputes_what_was_reported_delivered_and_never_more() {
    let mut reported = accepted_capacity();
    reported.push(E::ProgressRecorded {
        allocated: Some(shells(5_000)),
        delivered: Some(shells(3_000)),
        reason: "March deliveries".into(),
        documents: Vec::new(),
    });
    let state = given::<D>(reported.clone())
        .when(C::ConfirmDelivery {
            quantity: shells(2_000),
            reason: "received at the depot".into(),
            documents: Vec::new(),
        })
        .then([E::DeliveryConfirmed {
            quantity: shells(2_000),
            reason: "received at the depot".into(),
            documents: Vec::new(),
        }]);
    assert_eq!((state.confirmed, state.disputed), (2_000, 0));
    reported.push(E::DeliveryConfirmed {
        quantity: shells(2_000),
        reason: "received".into(),
        documents: Vec::new(),
    });
    let state = given::<D>(reported.clone())
        .when(C::DisputeDelivery {
            quantity: shells(1_000),
            reason: "1,000 never arrived".into(),
            documents: Vec::new(),
        })
        .then([E::DeliveryDisputed {
            quantity: shells(1_000),
            reason: "1,000 never arrived".into(),
            documents: Vec::new(),
        }]);
    assert_eq!(
        (state.delivered, state.confirmed, state.disputed),
        (3_000, 2_000, 1_000)
    );
    // More than was reported and not yet answered: refused.
    given::<D>(reported.clone())
        .when(C::DisputeDelivery {
            quantity: shells(1_001),
            reason: "r".into(),
            documents: Vec::new(),
        })
        .then_error(|e| {
            *e == Err::ExceedsReported {
                answered: 3_001,
                reported: 3_000,
            }
        });
    given::<D>(reported.clone())
        .when(C::ConfirmDelivery {
            quantity: shells(0),
            reason: "r".into(),
            documents: Vec::new(),
        })
        .then_error(|e| *e == Err::NothingAnswered);
    given::<D>(reported)
        .when(C::ConfirmDelivery {
            quantity: Quantity::new(5, "t").unwrap(),
            reason: "r".into(),
            documents: Vec::new(),
        })
        .then_error(|e| matches!(e, Err::UnitMismatch { .. }));
    // Nothing reported yet: nothing to confirm.
    given::<D>(accepted_capacity())
        .when(C::ConfirmDelivery {
            quantity: shells(1),
            reason: "r".into(),
            documents: Vec::new(),
        })
        .then_error(|e| {
            *e == Err::ExceedsReported {
                answered: 1,
                reported: 0,
            }
        });
}

#[test]
fn funding_is_committed_in_minor_units_of_its_currency() {
    let eur = Currency::new("EUR").unwrap();
    let terms = CommitmentTerms {
        kind: CommitmentKind::Funding {
            amount: Money::new(5_000_000_00, eur).unwrap(),
        },
        text: "funding for joint projects".into(),
    };
    let state = given::<D>([proposed(terms), E::Accepted { reason: "r".into() }])
        .when(C::RecordProgress {
            allocated: Some(Quantity::new(1_000_000_00, "EUR").unwrap()),
            delivered: None,
            reason: "pledged to the UAV project".into(),
            documents: Vec::new(),
        })
        .then([E::ProgressRecorded {
            allocated: Some(Quantity::new(1_000_000_00, "EUR").unwrap()),
            delivered: None,
            reason: "pledged to the UAV project".into(),
            documents: Vec::new(),
        }]);
    assert_eq!(state.committed().unwrap().amount, 5_000_000_00);
}

#[test]
fn closing_commitments_is_final() {
    for (command, event, status) in [
        (
            C::Fulfil {
                reason: "done".into(),
            },
            E::Fulfilled {
                reason: "done".into(),
            },
            CommitmentStatus::Fulfilled,
        ),
        (
            C::Breach {
                reason: "late".into(),
            },
            E::Breached {
                reason: "late".into(),
            },
            CommitmentStatus::Breached,
        ),
        (
            C::Withdraw {
                reason: "moot".into(),
            },
            E::Withdrawn {
                reason: "moot".into(),
            },
            CommitmentStatus::Withdrawn,
        ),
    ] {
        let state = given::<D>(accepted_capacity())
            .when(command)
            .then([event.clone()]);
        assert_eq!(state.status, status);
        let mut closed = accepted_capacity();
        closed.push(event);
        given::<D>(closed)
            .when(C::Accept { reason: "r".into() })
            .then_error(|e| *e == Err::Terminal(status));
    }
    // A proposal can be withdrawn before acceptance, but not fulfilled.
    given::<D>([proposed(capacity_terms(1))])
        .when(C::Withdraw { reason: "r".into() })
        .then([E::Withdrawn { reason: "r".into() }]);
    given::<D>([proposed(capacity_terms(1))])
        .when(C::Fulfil { reason: "r".into() })
        .then_error(|e| matches!(e, Err::WrongStatus { .. }));
}

fn due_capacity(due: Date) -> Vec<E> {
    vec![
        E::Proposed {
            id: id("c1"),
            agreement_id: id("lt-ua"),
            obligor: party("LT"),
            beneficiary: party("UA"),
            terms: capacity_terms(10_000),
            due: Some(due),
            reason: "agreement text".into(),
            also_benefiting: Vec::new(),
        },
        E::Accepted {
            reason: "signed".into(),
        },
    ]
}

#[test]
fn an_open_commitment_past_its_due_date_is_noticed_overdue_once() {
    let due = Date::new(2025, 6, 30).unwrap();
    let notice = |y, m, d| C::NoticeOverdue {
        as_of: Date::new(y, m, d).unwrap(),
    };
    let state = given::<D>(due_capacity(due))
        .when(notice(2025, 7, 1))
        .then([E::Overdue {
            due,
            noticed_on: Date::new(2025, 7, 1).unwrap(),
        }]);
    assert_eq!(state.days_late(Date::new(2025, 7, 31).unwrap()), Some(31));
    given::<D>(due_capacity(due))
        .when(notice(2025, 6, 30))
        .then_error(|e| matches!(e, Err::NotYetDue { .. }));
    let mut noticed = due_capacity(due);
    noticed.push(E::Overdue {
        due,
        noticed_on: Date::new(2025, 7, 1).unwrap(),
    });
    given::<D>(noticed.clone())
        .when(notice(2025, 7, 2))
        .then_error(|e| *e == Err::OverdueNoticed { due });
    // Fulfilled: closed, so neither noticed nor late.
    noticed.push(E::Fulfilled {
        reason: "delivered".into(),
    });
    let closed = given::<D>(noticed).state().clone();
    assert_eq!(closed.days_late(Date::new(2025, 8, 1).unwrap()), None);
    given::<D>(accepted_capacity())
        .when(notice(2025, 7, 1))
        .then_error(|e| *e == Err::NoDueDate);
}

#[test]
fn a_commitment_for_both_countries_names_its_other_beneficiaries_once_each() {
    let both = |others: &[&str]| {
        let mut command = propose(capacity_terms(10_000), AgreementStatus::InForce);
        if let C::Propose {
            also_benefiting, ..
        } = &mut command
        {
            *also_benefiting = others.iter().map(|p| party(p)).collect();
        }
        command
    };
    // Lithuania's production for both countries: the obligor may benefit too.
    let mut expected = proposed(capacity_terms(10_000));
    if let E::Proposed {
        also_benefiting, ..
    } = &mut expected
    {
        *also_benefiting = vec![party("LT")];
    }
    let state = given::<D>([]).when(both(&["LT"])).then([expected]);
    assert_eq!(state.beneficiaries(), [party("UA"), party("LT")]);
    // Ukraine answers deliveries; Lithuania, the obligor, does not answer its own.
    assert!(state.answers_deliveries(&party("UA")));
    assert!(!state.answers_deliveries(&party("LT")));
    assert!(!state.answers_deliveries(&party("PL")));
    given::<D>([])
        .when(both(&["UA"]))
        .then_error(|e| *e == Err::DuplicateBeneficiary(party("UA")));
    given::<D>([])
        .when(both(&["PL", "PL"]))
        .then_error(|e| *e == Err::DuplicateBeneficiary(party("PL")));
}
