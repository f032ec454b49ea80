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

mod deadlines {
    use super::*;
    use accord_kernel::{EventMeta, StreamId, Timestamp};
    use accord_projects::{Portfolio, ProjectEvent as E};

    /// A day of the watcher's life: it looks (and restarts, or not), or a person
    /// slips or reaches a milestone.
    #[derive(Debug, Clone)]
    enum Day {
        Look { restarted: bool },
        Slip(&'static str, i64),
        Reach(&'static str),
    }

    fn day() -> impl Strategy<Value = Day> {
        let milestone = prop::sample::select(vec!["m1", "m2"]);
        prop_oneof![
            4 => any::<bool>().prop_map(|restarted| Day::Look { restarted }),
            1 => (milestone.clone(), 1i64..60).prop_map(|(m, days)| Day::Slip(m, days)),
            1 => milestone.prop_map(Day::Reach),
        ]
    }

    fn date_after(start: Date, days: i64) -> Date {
        let epoch = start.days_since_epoch() + days;
        Timestamp::new(epoch * 86_400, 0).unwrap().date()
    }

    proptest! {
        #[test]
        fn no_deadline_is_noticed_twice_however_often_the_watcher_looks_or_restarts(
            days in prop::collection::vec(day(), 1..80)
        ) {
            let start = Date::new(2025, 1, 1).unwrap();
            let stream = StreamId::new("project", "p").unwrap();
            let mut events: Vec<E> = vec![
                E::Proposed {
                    id: id("p"),
                    title: "line".into(),
                    area: CapabilityArea::Uav,
                    host_country: party("UA"),
                    participants: vec![Participant { party: party("LT"), role: "partner".into() }],
                    agreement_id: None,
                    reason: "r".into(),
                },
                E::MilestonePlanned { milestone_id: id("m1"), title: "one".into(), due: date_after(start, 10) },
                E::MilestonePlanned { milestone_id: id("m2"), title: "two".into(), due: date_after(start, 25) },
            ];
            let fold = |events: &[E]| {
                let mut portfolio = Portfolio::default();
                for (position, event) in events.iter().enumerate() {
                    let at = Timestamp::new(position as i64, 0).unwrap();
                    let meta = EventMeta { stream: stream.clone(), position: position as u64 + 1, occurred_at: at, recorded_at: at, actor: "a".into() };
                    portfolio.apply(&meta, event);
                }
                portfolio
            };
            let mut portfolio = fold(&events);
            for (n, day) in days.iter().enumerate() {
                let today = date_after(start, n as i64);
                let command = match day {
                    Day::Look { restarted } => {
                        if *restarted {
                            // A restart: the watcher knows only what the log replays.
                            portfolio = fold(&events);
                        }
                        for (_, notice) in portfolio.overdue_notices(today) {
                            let state = D::fold(&events);
                            let new = D::decide(&state, &notice).unwrap();
                            for event in &new {
                                portfolio = {
                                    let mut p = portfolio;
                                    let at = Timestamp::new(events.len() as i64, 0).unwrap();
                                    p.apply(&EventMeta { stream: stream.clone(), position: events.len() as u64 + 1, occurred_at: at, recorded_at: at, actor: "w".into() }, event);
                                    p
                                };
                            }
                            events.extend(new);
                        }
                        // Having noticed, the watcher has nothing left to send today.
                        prop_assert!(portfolio.overdue_notices(today).is_empty());
                        continue;
                    }
                    Day::Slip(m, by) => {
                        let due = D::fold(&events).milestones[&id(*m)].due;
                        C::SlipMilestone { milestone_id: id(*m), new_due: date_after(due, *by), reason: "r".into() }
                    }
                    Day::Reach(m) => C::ReachMilestone { milestone_id: id(*m), reached_on: today },
                };
                if let Ok(new) = D::decide(&D::fold(&events), &command) {
                    events.extend(new);
                    portfolio = fold(&events);
                }
            }
            // Each (milestone, due date) noticed at most once.
            let mut noticed: Vec<(String, Date)> = events.iter().filter_map(|e| match e {
                E::MilestoneOverdue { milestone_id, due, .. } => Some((milestone_id.to_string(), *due)),
                _ => None,
            }).collect();
            let all = noticed.len();
            noticed.sort();
            noticed.dedup();
            prop_assert_eq!(noticed.len(), all, "a deadline noticed twice");
        }
    }
}
