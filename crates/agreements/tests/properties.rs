//! Properties of the agreements deciders under random command sequences:
//! folding the emitted events gives the state built step by step, nothing changes
//! after a terminal state, and no amendment happens without an adopted motion.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_agreements::agreement::AgreementStatus;
use accord_agreements::board::{
    BoardCommand, BoardDecider, BoardEvent, BoardRole, MotionStatus, MotionSubject, Vote,
};
use accord_agreements::commitment::{
    CommitmentCommand, CommitmentDecider, CommitmentEvent, CommitmentKind, CommitmentTerms,
};
use accord_kernel::{Date, Decider, Period, Quantity};
use common::{actor, authorisation, id, party};
use proptest::prelude::*;

fn terms(amount: i64) -> CommitmentTerms {
    CommitmentTerms {
        kind: CommitmentKind::ProductionCapacity {
            item: "shell".into(),
            quantity: Quantity::new(amount, "shell").unwrap(),
            period: Period::new(
                Date::new(2025, 1, 1).unwrap(),
                Date::new(2025, 12, 31).unwrap(),
            )
            .unwrap(),
        },
        text: "t".into(),
    }
}

fn motion_status() -> impl Strategy<Value = MotionStatus> {
    prop_oneof![
        Just(MotionStatus::Adopted),
        Just(MotionStatus::Open),
        Just(MotionStatus::Rejected),
        Just(MotionStatus::Unknown)
    ]
}

fn commitment_command() -> impl Strategy<Value = CommitmentCommand> {
    let reason = || Just("r".to_string());
    prop_oneof![
        (1i64..10_000).prop_map(|n| CommitmentCommand::Propose {
            id: id("c1"),
            agreement_id: id("a"),
            agreement_status: AgreementStatus::InForce,
            obligor: party("LT"),
            beneficiary: party("UA"),
            terms: terms(n),
            due: None,
            reason: "r".into(),
            also_benefiting: Vec::new(),
        }),
        reason().prop_map(|reason| CommitmentCommand::Accept { reason }),
        (1i64..10_000, motion_status(), any::<bool>()).prop_map(|(n, status, about_this)| {
            let target = if about_this { "c1" } else { "other" };
            CommitmentCommand::Amend {
                terms: terms(n),
                due: None,
                authorisation: authorisation(
                    status,
                    MotionSubject::AmendCommitment {
                        commitment_id: id(target),
                    },
                ),
                reason: "r".into(),
            }
        }),
        (
            proptest::option::of(0i64..500),
            proptest::option::of(0i64..500)
        )
            .prop_map(|(a, d)| {
                CommitmentCommand::RecordProgress {
                    allocated: a.map(|n| Quantity::new(n, "shell").unwrap()),
                    delivered: d.map(|n| Quantity::new(n, "shell").unwrap()),
                    reason: "r".into(),
                    documents: Vec::new(),
                }
            }),
        (0i64..300, any::<bool>()).prop_map(|(n, confirm)| {
            let quantity = Quantity::new(n, "shell").unwrap();
            let reason = "r".to_owned();
            if confirm {
                CommitmentCommand::ConfirmDelivery {
                    quantity,
                    reason,
                    documents: Vec::new(),
                }
            } else {
                CommitmentCommand::DisputeDelivery {
                    quantity,
                    reason,
                    documents: Vec::new(),
                }
            }
        }),
        reason().prop_map(|reason| CommitmentCommand::Fulfil { reason }),
        reason().prop_map(|reason| CommitmentCommand::Breach { reason }),
        reason().prop_map(|reason| CommitmentCommand::Withdraw { reason }),
    ]
}

fn board_command() -> impl Strategy<Value = BoardCommand> {
    let who = prop::sample::select(vec!["lt-1", "lt-2", "ua-1", "ua-2", "pl-1", "org-1"]);
    let motion = prop::sample::select(vec!["m1", "m2"]);
    let role = prop::sample::select(vec![
        BoardRole::Chair,
        BoardRole::Member,
        BoardRole::Observer,
        BoardRole::Stakeholder,
    ]);
    // Approvals weigh most, so that adoptions (which need every voter) happen.
    let vote =
        prop_oneof![4 => Just(Vote::Approve), 1 => Just(Vote::Reject), 1 => Just(Vote::Abstain)];
    prop_oneof![
        1 => Just(BoardCommand::Establish {
            id: id("b"),
            agreement_id: id("a"),
            name: "board".into(),
            state_parties: vec![party("LT"), party("UA")],
        }),
        3 => (who.clone(), role).prop_map(|(who, role)| {
            let of = match &who[..2] { "lt" => "LT", "ua" => "UA", "pl" => "PL", _ => "lt-industry" };
            BoardCommand::Appoint { actor: actor(who), party: party(of), role }
        }),
        1 => who.clone().prop_map(|who| BoardCommand::Remove { actor: actor(who), reason: "r".into() }),
        // Poland, once acceded, takes its seat: from then on adoption needs it too.
        1 => Just(BoardCommand::AdmitStateParty {
            party: party("PL"),
            agreement_parties: vec![party("LT"), party("UA"), party("PL")],
        }),
        2 => (motion.clone(), who.clone()).prop_map(|(motion, who)| BoardCommand::TableMotion {
            motion_id: id(motion),
            title: "t".into(),
            subject: MotionSubject::Other { description: "d".into() },
            actor: actor(who),
            documents: Vec::new(),
        }),
        6 => (motion, who, vote).prop_map(|(motion, who, vote)| BoardCommand::CastVote {
            motion_id: id(motion),
            actor: actor(who),
            vote,
        }),
    ]
}

fn board_commands() -> impl Strategy<Value = Vec<BoardCommand>> {
    // Mostly start with the board established, so the rest of the sequence matters.
    (any::<bool>(), prop::collection::vec(board_command(), 0..60)).prop_map(
        |(establish, mut rest)| {
            if establish {
                rest.insert(
                    0,
                    BoardCommand::Establish {
                        id: id("b"),
                        agreement_id: id("a"),
                        name: "board".into(),
                        state_parties: vec![party("LT"), party("UA")],
                    },
                );
            }
            rest
        },
    )
}

/// What one command did: the state it met, and the decision.
type Step<D> = (
    <D as Decider>::State,
    Result<Vec<<D as Decider>::Event>, <D as Decider>::Error>,
);

/// Runs the commands, returning the state built step by step, every event, and each step.
fn run<D: Decider>(commands: &[D::Command]) -> (D::State, Vec<D::Event>, Vec<Step<D>>) {
    let mut state = D::State::default();
    let mut all = Vec::new();
    let mut steps = Vec::new();
    for command in commands {
        let result = D::decide(&state, command);
        let before = state.clone();
        if let Ok(events) = &result {
            for event in events {
                state = D::evolve(state, event);
                all.push(event.clone());
            }
        }
        steps.push((before, result));
    }
    (state, all, steps)
}

proptest! {
    #[test]
    fn commitment_replay_equals_step_by_step_and_rules_hold(commands in prop::collection::vec(commitment_command(), 0..40)) {
        let (state, events, steps) = run::<CommitmentDecider>(&commands);
        prop_assert_eq!(CommitmentDecider::fold(&events), state.clone());
        for ((before, result), command) in steps.iter().zip(&commands) {
            if before.status.is_terminal() {
                prop_assert!(result.is_err(), "changed after {:?}", before.status);
            }
            if let (Ok(events), CommitmentCommand::Amend { authorisation, .. }) = (result, command) {
                prop_assert!(!events.is_empty());
                prop_assert_eq!(authorisation.status, MotionStatus::Adopted);
                prop_assert_eq!(&authorisation.subject, &MotionSubject::AmendCommitment { commitment_id: id("c1") });
            }
            if let Ok(events) = result {
                for event in events {
                    if let CommitmentEvent::Amended { .. } = event {
                        let is_amend = matches!(command, CommitmentCommand::Amend { .. });
                        prop_assert!(is_amend, "amended by {:?}", command);
                    }
                }
            }
        }
        prop_assert!(state.delivered <= state.allocated);
        // The beneficiary never confirms (or disputes) more than was reported.
        prop_assert!(state.confirmed >= 0 && state.disputed >= 0);
        prop_assert!(state.confirmed + state.disputed <= state.delivered);
    }

    #[test]
    fn board_replay_equals_step_by_step_and_adoption_needs_every_state(commands in board_commands()) {
        let (state, events, _) = run::<BoardDecider>(&commands);
        prop_assert_eq!(BoardDecider::fold(&events), state.clone());
        for (i, event) in events.iter().enumerate() {
            if let BoardEvent::MotionAdopted { motion_id, .. } = event {
                // Replay up to the adoption: every state had a voting member, and all
                // of that state's voting members approved.
                let at = BoardDecider::fold(&events[..i]);
                let motion = &at.motions[motion_id];
                for state_party in &at.state_parties {
                    let voters: Vec<_> = at.members.iter()
                        .filter(|(_, m)| m.role.votes() && &m.party == state_party)
                        .collect();
                    prop_assert!(!voters.is_empty());
                    for (voter, _) in voters {
                        let approved = matches!(motion.votes.get(voter), Some((_, Vote::Approve)));
                        prop_assert!(approved, "{} did not approve {}", voter, motion_id);
                    }
                }
            }
        }
        for (id, motion) in &state.motions {
            if motion.status != MotionStatus::Open {
                // A closed motion closed once: one adoption or rejection event.
                let closes = |e: &&BoardEvent| match e {
                    BoardEvent::MotionAdopted { motion_id, .. } | BoardEvent::MotionRejected { motion_id, .. } => {
                        motion_id == id
                    }
                    _ => false,
                };
                let closings = events.iter().filter(closes).count();
                prop_assert_eq!(closings, 1);
            }
        }
    }
}

/// The properties above are only as good as the sequences reach adoptions and
/// rejections; this checks that they do.
#[test]
fn random_board_sequences_reach_both_adoption_and_rejection() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut adopted, mut rejected, mut adopted_with_poland) = (0, 0, 0);
    for _ in 0..256 {
        let commands = board_commands().new_tree(&mut runner).unwrap().current();
        let (_, events, _) = run::<BoardDecider>(&commands);
        adopted += events
            .iter()
            .filter(|e| matches!(e, BoardEvent::MotionAdopted { .. }))
            .count();
        // Adoptions with Poland seated: its member's approval was needed.
        if let Some(seated) = events
            .iter()
            .position(|e| matches!(e, BoardEvent::StatePartyAdmitted { .. }))
        {
            adopted_with_poland += events[seated..]
                .iter()
                .filter(|e| matches!(e, BoardEvent::MotionAdopted { .. }))
                .count();
        }
        rejected += events
            .iter()
            .filter(|e| matches!(e, BoardEvent::MotionRejected { .. }))
            .count();
    }
    assert!(
        adopted > 0 && rejected > 0 && adopted_with_poland > 0,
        "adopted {adopted} ({adopted_with_poland} with Poland seated), rejected {rejected}"
    );
}
