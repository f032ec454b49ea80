//! Given/when/then tests of the agreement rules.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_agreements::agreement::{
    AgreementCommand as C, AgreementDecider as D, AgreementError as Err, AgreementEvent as E,
    AgreementKind, AgreementStatus,
};
use accord_agreements::board::{MotionStatus, MotionSubject};
use accord_agreements::AuthorisationError;
use accord_kernel::CapabilityArea;
use accord_testkit::given;
use common::{actor, authorisation, id, party};

fn drafted() -> E {
    E::Drafted {
        id: id("lt-ua"),
        kind: AgreementKind::StrategicCooperation,
        title: "Strategic cooperation in the defence industry".into(),
        parties: vec![party("LT"), party("UA")],
        areas: vec![CapabilityArea::Uav, CapabilityArea::Explosives],
        reason: "signing ceremony".into(),
        documents: Vec::new(),
    }
}

fn designated(who: &str, state: &str) -> E {
    E::SignatoryDesignated {
        actor: actor(who),
        party: party(state),
        role: "minister".into(),
    }
}

fn signed(who: &str, state: &str) -> E {
    E::Signed {
        actor: actor(who),
        party: party(state),
    }
}

fn in_force() -> Vec<E> {
    vec![
        drafted(),
        designated("armonaite", "LT"),
        designated("umerov", "UA"),
        signed("armonaite", "LT"),
        signed("umerov", "UA"),
        E::EnteredIntoForce,
    ]
}

fn other_motion(status: MotionStatus) -> accord_agreements::Authorisation {
    authorisation(
        status,
        MotionSubject::Other {
            description: "extend to maritime drones".into(),
        },
    )
}

#[test]
fn drafting_needs_two_distinct_parties() {
    let draft = |parties: Vec<&str>| C::Draft {
        id: id("a"),
        kind: AgreementKind::Memorandum,
        title: "t".into(),
        parties: parties.into_iter().map(party).collect(),
        areas: vec![],
        reason: "r".into(),
        documents: Vec::new(),
    };
    given::<D>([])
        .when(draft(vec!["LT"]))
        .then_error(|e| *e == Err::TooFewParties);
    given::<D>([])
        .when(draft(vec!["LT", "LT"]))
        .then_error(|e| *e == Err::DuplicateParty(party("LT")));
    let state = given::<D>([])
        .when(draft(vec!["LT", "UA"]))
        .then([E::Drafted {
            id: id("a"),
            kind: AgreementKind::Memorandum,
            title: "t".into(),
            parties: vec![party("LT"), party("UA")],
            areas: vec![],
            reason: "r".into(),
            documents: Vec::new(),
        }]);
    assert_eq!(state.status, AgreementStatus::Drafted);
    given::<D>([drafted()])
        .when(draft(vec!["LT", "UA"]))
        .then_error(|e| *e == Err::AlreadyDrafted);
}

#[test]
fn commands_before_drafting_are_refused() {
    given::<D>([])
        .when(C::Sign { actor: actor("x") })
        .then_error(|e| *e == Err::NotDrafted);
}

#[test]
fn signatories_must_belong_to_a_party_and_be_designated_once() {
    let designate = |who: &str, state: &str| C::DesignateSignatory {
        actor: actor(who),
        party: party(state),
        role: "minister".into(),
    };
    given::<D>([drafted()])
        .when(designate("kasciunas", "LT"))
        .then([designated("kasciunas", "LT")]);
    given::<D>([drafted()])
        .when(designate("x", "PL"))
        .then_error(|e| *e == Err::UnknownParty(party("PL")));
    given::<D>([drafted(), designated("kasciunas", "LT")])
        .when(designate("kasciunas", "LT"))
        .then_error(|e| *e == Err::AlreadyDesignated(actor("kasciunas")));
}

#[test]
fn the_agreement_enters_into_force_with_the_last_signature_only() {
    let history = vec![
        drafted(),
        designated("armonaite", "LT"),
        designated("umerov", "UA"),
    ];
    given::<D>(history.clone())
        .when(C::Sign {
            actor: actor("armonaite"),
        })
        .then([signed("armonaite", "LT")]);
    let mut one_signed = history.clone();
    one_signed.push(signed("armonaite", "LT"));
    let state = given::<D>(one_signed.clone())
        .when(C::Sign {
            actor: actor("umerov"),
        })
        .then([signed("umerov", "UA"), E::EnteredIntoForce]);
    assert_eq!(state.status, AgreementStatus::InForce);
    given::<D>(one_signed)
        .when(C::Sign {
            actor: actor("armonaite"),
        })
        .then_error(|e| *e == Err::AlreadySigned(actor("armonaite")));
}

#[test]
fn every_party_needs_a_signatory_before_the_agreement_is_in_force() {
    // Only Lithuania's signatory is designated: signing does not bring it into force.
    given::<D>([drafted(), designated("armonaite", "LT")])
        .when(C::Sign {
            actor: actor("armonaite"),
        })
        .then([signed("armonaite", "LT")]);
}

#[test]
fn only_designated_signatories_sign_and_only_while_drafted() {
    given::<D>([drafted()])
        .when(C::Sign {
            actor: actor("someone"),
        })
        .then_error(|e| *e == Err::NotASignatory(actor("someone")));
    given::<D>(in_force())
        .when(C::Sign {
            actor: actor("umerov"),
        })
        .then_error(|e| *e == Err::NotOpenForSignature(AgreementStatus::InForce));
}

#[test]
fn amendments_need_an_adopted_motion_and_an_agreement_in_force() {
    let amend = |status| C::Amend {
        summary: "adds maritime drones".into(),
        authorisation: other_motion(status),
        reason: "board decision".into(),
        documents: Vec::new(),
    };
    given::<D>(in_force())
        .when(amend(MotionStatus::Adopted))
        .then([E::Amended {
            summary: "adds maritime drones".into(),
            motion_id: id("motion-1"),
            reason: "board decision".into(),
            documents: Vec::new(),
        }]);
    given::<D>(in_force())
        .when(amend(MotionStatus::Open))
        .then_error(|e| {
            matches!(
                e,
                Err::Authorisation(AuthorisationError::NotAdopted {
                    status: MotionStatus::Open,
                    ..
                })
            )
        });
    given::<D>([drafted()])
        .when(amend(MotionStatus::Adopted))
        .then_error(|e| *e == Err::NotInForce(AgreementStatus::Drafted));
    let wrong = C::Amend {
        summary: "s".into(),
        authorisation: authorisation(
            MotionStatus::Adopted,
            MotionSubject::ApproveProject {
                project_id: id("p"),
            },
        ),
        reason: "r".into(),
        documents: Vec::new(),
    };
    given::<D>(in_force()).when(wrong).then_error(|e| {
        matches!(
            e,
            Err::Authorisation(AuthorisationError::WrongSubject { .. })
        )
    });
}

#[test]
fn suspension_resumption_and_termination_follow_the_status() {
    let suspend = C::Suspend {
        reason: "review".into(),
    };
    given::<D>(in_force())
        .when(suspend.clone())
        .then([E::Suspended {
            reason: "review".into(),
        }]);
    given::<D>([drafted()])
        .when(suspend)
        .then_error(|e| *e == Err::NotInForce(AgreementStatus::Drafted));
    let mut suspended = in_force();
    suspended.push(E::Suspended {
        reason: "review".into(),
    });
    given::<D>(suspended.clone())
        .when(C::Resume {
            reason: "done".into(),
        })
        .then([E::Resumed {
            reason: "done".into(),
        }]);
    given::<D>(in_force())
        .when(C::Resume { reason: "x".into() })
        .then_error(|e| *e == Err::NotSuspended(AgreementStatus::InForce));
    let mut terminated = suspended;
    terminated.push(E::Terminated {
        reason: "ended".into(),
    });
    for command in [
        C::Resume { reason: "x".into() },
        C::Terminate { reason: "x".into() },
        C::Sign {
            actor: actor("umerov"),
        },
    ] {
        given::<D>(terminated.clone())
            .when(command)
            .then_error(|e| *e == Err::Terminated);
    }
}

/// An agreement of three parties, in force.
fn in_force_among_three() -> Vec<E> {
    let mut events = in_force();
    events[0] = E::Drafted {
        id: id("lt-ua"),
        kind: AgreementKind::StrategicCooperation,
        title: "Strategic cooperation in the defence industry".into(),
        parties: vec![party("LT"), party("UA"), party("PL")],
        areas: vec![CapabilityArea::Uav],
        reason: "signing ceremony".into(),
        documents: Vec::new(),
    };
    events.insert(3, designated("pl-minister", "PL"));
    events.insert(6, signed("pl-minister", "PL"));
    events
}

fn withdraw(who: &str, open: &[&str]) -> C {
    C::Withdraw {
        party: party(who),
        open_commitments: open.iter().map(|c| id(c)).collect(),
        reason: "national decision".into(),
    }
}

#[test]
fn a_party_withdraws_stating_its_open_commitments_and_the_rest_stay_bound() {
    let state = given::<D>(in_force_among_three())
        .when(withdraw("PL", &["c-pl-shells"]))
        .then([E::PartyWithdrew {
            party: party("PL"),
            open_commitments: vec![id("c-pl-shells")],
            reason: "national decision".into(),
        }]);
    assert_eq!(state.parties, [party("LT"), party("UA")]);
    assert_eq!(state.status, AgreementStatus::InForce);
    // Between two parties, a withdrawal ends the agreement.
    let state = given::<D>(in_force()).when(withdraw("UA", &[])).then([
        E::PartyWithdrew {
            party: party("UA"),
            open_commitments: vec![],
            reason: "national decision".into(),
        },
        E::Terminated {
            reason: "UA withdrew: fewer than two parties remain".into(),
        },
    ]);
    assert_eq!(state.status, AgreementStatus::Terminated);
    // Only a party withdraws, and only from an agreement in force or suspended.
    given::<D>(in_force())
        .when(withdraw("PL", &[]))
        .then_error(|e| *e == Err::UnknownParty(party("PL")));
    given::<D>([drafted()])
        .when(withdraw("UA", &[]))
        .then_error(|e| matches!(e, Err::NotInForce(AgreementStatus::Drafted)));
}

fn admit(state: &str, status: MotionStatus) -> accord_agreements::Authorisation {
    authorisation(
        status,
        MotionSubject::AdmitParty {
            agreement_id: id("lt-ua"),
            party: party(state),
        },
    )
}

fn approve_accession(state: &str, status: MotionStatus) -> C {
    C::ApproveAccession {
        party: party(state),
        authorisation: admit(state, status),
        reason: "the board admitted it".into(),
        documents: vec![accession_treaty()],
    }
}

fn accession_treaty() -> accord_kernel::DocumentRef {
    accord_kernel::DocumentRef::new(
        "Accession protocol",
        "application/pdf",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "",
    )
    .unwrap()
}

fn accession_approved(state: &str) -> E {
    E::AccessionApproved {
        party: party(state),
        motion_id: id("motion-1"),
        reason: "the board admitted it".into(),
        documents: vec![accession_treaty()],
    }
}

#[test]
fn a_state_accedes_by_an_adopted_motion_then_its_signatories_sign() {
    // Approved by the board's adopted motion admitting that state to this agreement,
    // citing the accession protocol by hash.
    let state = given::<D>(in_force())
        .when(approve_accession("PL", MotionStatus::Adopted))
        .then([accession_approved("PL")]);
    assert_eq!(state.acceding, [party("PL")]);
    assert_eq!(state.parties, [party("LT"), party("UA")]);
    // The acceding state designates two signatories; it is a party only when both
    // have signed.
    let mut history = in_force();
    history.push(accession_approved("PL"));
    given::<D>(history.clone())
        .when(C::DesignateSignatory {
            actor: actor("pl-minister"),
            party: party("PL"),
            role: "minister".into(),
        })
        .then([designated("pl-minister", "PL")]);
    history.push(designated("pl-minister", "PL"));
    history.push(designated("pl-deputy", "PL"));
    given::<D>(history.clone())
        .when(C::Sign {
            actor: actor("pl-minister"),
        })
        .then([signed("pl-minister", "PL")]);
    history.push(signed("pl-minister", "PL"));
    let state = given::<D>(history.clone())
        .when(C::Sign {
            actor: actor("pl-deputy"),
        })
        .then([
            signed("pl-deputy", "PL"),
            E::PartyAcceded { party: party("PL") },
        ]);
    assert_eq!(state.parties, [party("LT"), party("UA"), party("PL")]);
    assert!(state.acceding.is_empty());
    assert_eq!(state.status, AgreementStatus::InForce);
    assert_eq!(state.amendments, [id("motion-1")]);
}

#[test]
fn an_accession_is_refused_without_the_right_motion_or_for_a_party_or_non_state() {
    given::<D>(in_force())
        .when(approve_accession("PL", MotionStatus::Open))
        .then_error(|e| matches!(e, Err::Authorisation(AuthorisationError::NotAdopted { .. })));
    // A motion admitting another state does not admit this one.
    let mut wrong = approve_accession("PL", MotionStatus::Adopted);
    if let C::ApproveAccession { authorisation, .. } = &mut wrong {
        *authorisation = admit("EE", MotionStatus::Adopted);
    }
    given::<D>(in_force()).when(wrong).then_error(|e| {
        matches!(
            e,
            Err::Authorisation(AuthorisationError::WrongSubject { .. })
        )
    });
    given::<D>(in_force())
        .when(approve_accession("UA", MotionStatus::Adopted))
        .then_error(|e| *e == Err::AlreadyAParty(party("UA")));
    given::<D>(in_force())
        .when(approve_accession("pl-works", MotionStatus::Adopted))
        .then_error(|e| *e == Err::NotAState(party("pl-works")));
    let mut pending = in_force();
    pending.push(accession_approved("PL"));
    given::<D>(pending)
        .when(approve_accession("PL", MotionStatus::Adopted))
        .then_error(|e| *e == Err::AccessionPending(party("PL")));
    given::<D>([drafted()])
        .when(approve_accession("PL", MotionStatus::Adopted))
        .then_error(|e| matches!(e, Err::NotInForce(AgreementStatus::Drafted)));
    // Without an approved accession, an agreement in force takes no new signatory.
    given::<D>(in_force())
        .when(C::DesignateSignatory {
            actor: actor("pl-minister"),
            party: party("PL"),
            role: "minister".into(),
        })
        .then_error(|e| matches!(e, Err::NotOpenForSignature(AgreementStatus::InForce)));
    // While one state accedes, the parties' own signatories do not sign again.
    let mut acceding = in_force();
    acceding.push(accession_approved("PL"));
    given::<D>(acceding.clone())
        .when(C::Sign {
            actor: actor("umerov"),
        })
        .then_error(|e| matches!(e, Err::NotOpenForSignature(AgreementStatus::InForce)));
    given::<D>(acceding)
        .when(C::Sign {
            actor: actor("nobody"),
        })
        .then_error(|e| *e == Err::NotASignatory(actor("nobody")));
}
