//! Properties of the project decider under random command sequences: replay equals
//! the state built step by step, disbursements never exceed pledges, and nothing
//! changes after completion or cancellation.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::{CapabilityArea, Date, Decider, Period, Quantity};
use accord_projects::{Participant, ProjectCommand as C, ProjectDecider as D};
use accord_testkit::fixtures::{eur, id, party};
use proptest::prelude::*;

fn command() -> impl Strategy<Value = C> {
    let who = prop::sample::select(vec!["LT", "UA"]);
    let milestone = prop::sample::select(vec!["m1", "m2"]);
    prop_oneof![
        1 => Just(C::Propose {
            id: id("p"),
            title: "UAV line".into(),
            area: CapabilityArea::Uav,
            host_country: party("UA"),
            participants: vec![Participant { party: party("LT"), role: "partner".into() }],
            agreement_id: None,
            reason: "r".into(),
        }),
        1 => any::<bool>().prop_map(|adopted| C::Approve { motion_id: id("m"), motion_adopted: adopted }),
        3 => (who.clone(), 0i64..1000).prop_map(|(who, n)| C::PledgeFunding { party: party(who), amount: eur(n), commitment_id: None }),
        3 => (who, 0i64..1000).prop_map(|(who, n)| C::DisburseFunding { party: party(who), amount: eur(n) }),
        1 => milestone.clone().prop_map(|m| C::PlanMilestone { milestone_id: id(m), title: "t".into(), due: Date::new(2025, 6, 1).unwrap() }),
        1 => (milestone.clone(), 1i32..12).prop_map(|(m, month)| C::SlipMilestone { milestone_id: id(m), new_due: Date::new(2025, month, 1).unwrap(), reason: "r".into() }),
        1 => milestone.prop_map(|m| C::ReachMilestone { milestone_id: id(m), reached_on: Date::new(2025, 5, 1).unwrap() }),
        1 => Just(C::Launch),
        2 => (0i64..100).prop_map(|n| C::ReportOutput {
            item: "uav".into(),
            quantity: Quantity::new(n, "unit").unwrap(),
            period: Period::new(Date::new(2025, 1, 1).unwrap(), Date::new(2025, 1, 31).unwrap()).unwrap(),
        }),
        1 => Just(C::Complete { reason: "r".into() }),
        1 => Just(C::Cancel { reason: "r".into() }),
    ]
}

proptest! {
    #[test]
    fn replay_matches_and_disbursements_stay_within_pledges(commands in prop::collection::vec(command(), 0..50)) {
        let mut state = <D as Decider>::State::default();
        let mut events = Vec::new();
        for command in &commands {
            let result = D::decide(&state, command);
            if state.status.is_terminal() {
                prop_assert!(result.is_err());
            }
            for event in result.into_iter().flatten() {
                state = D::evolve(state, &event);
                events.push(event);
            }
            for ((who, currency), disbursed) in &state.disbursed {
                prop_assert!(*disbursed <= state.pledged(who, *currency));
            }
        }
        prop_assert_eq!(D::fold(&events), state);
    }
}
