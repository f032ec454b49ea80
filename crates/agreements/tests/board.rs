//! Given/when/then tests of the Steering Board: membership, motions and the rule that
//! a motion needs every state party's voting members and dies on one state's veto.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_agreements::board::{
    BoardCommand as C, BoardDecider as D, BoardError as Err, BoardEvent as E, BoardRole,
    MotionStatus, MotionSubject, Vote,
};
use accord_testkit::given;
use common::{actor, id, party};

fn established() -> E {
    E::Established {
        id: id("board"),
        agreement_id: id("lt-ua"),
        name: "LT-UA Steering Board".into(),
        state_parties: vec![party("LT"), party("UA")],
    }
}

fn appointed(who: &str, of: &str, role: BoardRole) -> E {
    E::MemberAppointed {
        actor: actor(who),
        party: party(of),
        role,
    }
}

fn subject() -> MotionSubject {
    MotionSubject::ApproveProject {
        project_id: id("rdx-plant"),
    }
}

/// Two LT voters, one UA voter, an industry stakeholder, and an open motion.
fn board_with_motion() -> Vec<E> {
    vec![
        established(),
        appointed("lt-chair", "LT", BoardRole::Chair),
        appointed("lt-member", "LT", BoardRole::Member),
        appointed("ua-member", "UA", BoardRole::Member),
        appointed(
            "industry",
            "lt-defence-industry-association",
            BoardRole::Stakeholder,
        ),
        E::MotionTabled {
            motion_id: id("m1"),
            title: "Approve the RDX plant".into(),
            subject: subject(),
            tabled_by: actor("lt-chair"),
            documents: Vec::new(),
        },
    ]
}

fn vote(who: &str, vote: Vote) -> C {
    C::CastVote {
        motion_id: id("m1"),
        actor: actor(who),
        vote,
    }
}

fn cast(who: &str, of: &str, vote: Vote) -> E {
    E::VoteCast {
        motion_id: id("m1"),
        actor: actor(who),
        party: party(of),
        vote,
    }
}

#[test]
fn a_board_is_established_once_for_state_parties() {
    let establish = |parties: Vec<&str>| C::Establish {
        id: id("board"),
        agreement_id: id("lt-ua"),
        name: "LT-UA Steering Board".into(),
        state_parties: parties.into_iter().map(party).collect(),
    };
    given::<D>([])
        .when(establish(vec!["LT", "UA"]))
        .then([established()]);
    given::<D>([established()])
        .when(establish(vec!["LT", "UA"]))
        .then_error(|e| *e == Err::AlreadyEstablished);
    given::<D>([])
        .when(establish(vec!["LT", "lt-emi"]))
        .then_error(|e| matches!(e, Err::NotAState(_)));
    given::<D>([])
        .when(establish(vec![]))
        .then_error(|e| matches!(e, Err::NotAState(_)));
    given::<D>([])
        .when(C::Remove {
            actor: actor("x"),
            reason: "r".into(),
        })
        .then_error(|e| *e == Err::NotEstablished);
}

#[test]
fn members_are_appointed_once_and_removed_only_if_present() {
    let appoint = C::Appoint {
        actor: actor("lt-chair"),
        party: party("LT"),
        role: BoardRole::Chair,
    };
    given::<D>([established()])
        .when(appoint.clone())
        .then([appointed("lt-chair", "LT", BoardRole::Chair)]);
    given::<D>([established(), appointed("lt-chair", "LT", BoardRole::Chair)])
        .when(appoint)
        .then_error(|e| *e == Err::AlreadyMember(actor("lt-chair")));
    let remove = |who: &str| C::Remove {
        actor: actor(who),
        reason: "rotation".into(),
    };
    given::<D>([established(), appointed("lt-chair", "LT", BoardRole::Chair)])
        .when(remove("lt-chair"))
        .then([E::MemberRemoved {
            actor: actor("lt-chair"),
            reason: "rotation".into(),
        }]);
    given::<D>([established()])
        .when(remove("nobody"))
        .then_error(|e| *e == Err::NotAMember(actor("nobody")));
}

#[test]
fn motions_are_tabled_by_members_with_unique_ids() {
    let table = |who: &str, motion: &str| C::TableMotion {
        motion_id: id(motion),
        title: "t".into(),
        subject: subject(),
        actor: actor(who),
        documents: Vec::new(),
    };
    given::<D>(board_with_motion())
        .when(table("outsider", "m2"))
        .then_error(|e| *e == Err::NotAMember(actor("outsider")));
    given::<D>(board_with_motion())
        .when(table("ua-member", "m1"))
        .then_error(|e| *e == Err::DuplicateMotion(id("m1")));
    given::<D>(board_with_motion())
        .when(table("industry", "m2"))
        .then([E::MotionTabled {
            motion_id: id("m2"),
            title: "t".into(),
            subject: subject(),
            tabled_by: actor("industry"),
            documents: Vec::new(),
        }]);
}

#[test]
fn a_motion_is_adopted_when_every_voting_member_of_every_state_approves() {
    let mut history = board_with_motion();
    history.push(cast("lt-chair", "LT", Vote::Approve));
    history.push(cast("ua-member", "UA", Vote::Approve));
    // Lithuania's second member has not voted: still open.
    given::<D>(board_with_motion())
        .when(vote("ua-member", Vote::Approve))
        .then([cast("ua-member", "UA", Vote::Approve)]);
    let state = given::<D>(history)
        .when(vote("lt-member", Vote::Approve))
        .then([
            cast("lt-member", "LT", Vote::Approve),
            E::MotionAdopted {
                motion_id: id("m1"),
                subject: subject(),
            },
        ]);
    assert_eq!(state.motion_status(&id("m1")), MotionStatus::Adopted);
}

#[test]
fn one_state_rejecting_rejects_the_motion() {
    given::<D>(board_with_motion())
        .when(vote("ua-member", Vote::Reject))
        .then([
            cast("ua-member", "UA", Vote::Reject),
            E::MotionRejected {
                motion_id: id("m1"),
                rejected_by: party("UA"),
            },
        ]);
}

#[test]
fn an_abstention_keeps_the_motion_open() {
    let mut history = board_with_motion();
    history.push(cast("lt-chair", "LT", Vote::Approve));
    history.push(cast("ua-member", "UA", Vote::Approve));
    given::<D>(history)
        .when(vote("lt-member", Vote::Abstain))
        .then([cast("lt-member", "LT", Vote::Abstain)]);
}

#[test]
fn only_voting_members_vote_once_on_open_motions() {
    given::<D>(board_with_motion())
        .when(vote("industry", Vote::Approve))
        .then_error(|e| *e == Err::NotAVotingMember(actor("industry")));
    let mut voted = board_with_motion();
    voted.push(cast("lt-chair", "LT", Vote::Approve));
    given::<D>(voted)
        .when(vote("lt-chair", Vote::Reject))
        .then_error(|e| matches!(e, Err::AlreadyVoted { .. }));
    let mut rejected = board_with_motion();
    rejected.push(cast("ua-member", "UA", Vote::Reject));
    rejected.push(E::MotionRejected {
        motion_id: id("m1"),
        rejected_by: party("UA"),
    });
    given::<D>(rejected)
        .when(vote("lt-chair", Vote::Approve))
        .then_error(|e| {
            matches!(
                e,
                Err::MotionClosed {
                    status: MotionStatus::Rejected,
                    ..
                }
            )
        });
    given::<D>(board_with_motion())
        .when(C::CastVote {
            motion_id: id("nope"),
            actor: actor("lt-chair"),
            vote: Vote::Approve,
        })
        .then_error(|e| *e == Err::UnknownMotion(id("nope")));
}

fn admit(state: &str, agreement_parties: &[&str]) -> C {
    C::AdmitStateParty {
        party: party(state),
        agreement_parties: agreement_parties.iter().map(|p| party(p)).collect(),
    }
}

#[test]
fn an_acceded_state_joins_the_board_and_motions_then_need_its_vote() {
    // Before: LT and UA voting members approving adopt the motion.
    let mut history = board_with_motion();
    history.push(cast("lt-chair", "LT", Vote::Approve));
    history.push(cast("lt-member", "LT", Vote::Approve));
    let state = given::<D>(history.clone())
        .when(admit("PL", &["LT", "UA", "PL"]))
        .then([E::StatePartyAdmitted { party: party("PL") }]);
    assert_eq!(state.state_parties, [party("LT"), party("UA"), party("PL")]);
    // After: the same last vote leaves the motion open until PL's members approve.
    history.push(E::StatePartyAdmitted { party: party("PL") });
    history.push(appointed("pl-member", "PL", BoardRole::Member));
    given::<D>(history.clone())
        .when(vote("ua-member", Vote::Approve))
        .then([cast("ua-member", "UA", Vote::Approve)]);
    history.push(cast("ua-member", "UA", Vote::Approve));
    let state = given::<D>(history.clone())
        .when(vote("pl-member", Vote::Approve))
        .then([
            cast("pl-member", "PL", Vote::Approve),
            E::MotionAdopted {
                motion_id: id("m1"),
                subject: subject(),
            },
        ]);
    assert_eq!(state.motion_status(&id("m1")), MotionStatus::Adopted);
    // And its veto counts like any state's.
    given::<D>(history)
        .when(vote("pl-member", Vote::Reject))
        .then([
            cast("pl-member", "PL", Vote::Reject),
            E::MotionRejected {
                motion_id: id("m1"),
                rejected_by: party("PL"),
            },
        ]);
}

#[test]
fn only_a_state_that_is_a_party_joins_and_only_once() {
    given::<D>(board_with_motion())
        .when(admit("PL", &["LT", "UA"]))
        .then_error(|e| *e == Err::NotAPartyOfAgreement(party("PL")));
    given::<D>(board_with_motion())
        .when(admit("UA", &["LT", "UA"]))
        .then_error(|e| *e == Err::AlreadyStateParty(party("UA")));
    given::<D>(board_with_motion())
        .when(admit("pl-works", &["LT", "UA", "pl-works"]))
        .then_error(|e| matches!(e, Err::NotAState(_)));
    given::<D>([])
        .when(admit("PL", &["PL"]))
        .then_error(|e| *e == Err::NotEstablished);
}
