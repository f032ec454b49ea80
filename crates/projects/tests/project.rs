//! Given/when/then tests of the project rules.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::{CapabilityArea, Currency, Period, Quantity};
use accord_projects::{
    Participant, ProjectCommand as C, ProjectDecider as D, ProjectError as Err, ProjectEvent as E,
    ProjectStatus,
};
use accord_testkit::fixtures::{date, eur, id, party};
use accord_testkit::given;

fn tonnes(amount: i64) -> Quantity {
    Quantity::new(amount, "t").unwrap()
}

fn year_2026() -> Period {
    Period::new(date(2026, 1, 1), date(2026, 12, 31)).unwrap()
}

fn proposed() -> E {
    E::Proposed {
        id: id("rdx-plant"),
        title: "New-generation RDX explosives plant".into(),
        area: CapabilityArea::Explosives,
        host_country: party("LT"),
        participants: vec![Participant {
            party: party("ua-rdx-company"),
            role: "builder".into(),
        }],
        agreement_id: Some(id("rdx-loi")),
        reason: "letter of intent".into(),
    }
}

fn approved() -> Vec<E> {
    vec![
        proposed(),
        E::Approved {
            motion_id: id("m-rdx"),
        },
    ]
}

fn launched() -> Vec<E> {
    let mut events = approved();
    events.push(E::Launched);
    events
}

#[test]
fn a_project_is_proposed_with_a_state_host_and_participants() {
    let propose = |host: &str, participants: Vec<Participant>| C::Propose {
        id: id("rdx-plant"),
        title: "New-generation RDX explosives plant".into(),
        area: CapabilityArea::Explosives,
        host_country: party(host),
        participants,
        agreement_id: Some(id("rdx-loi")),
        reason: "letter of intent".into(),
    };
    let participants = || {
        vec![Participant {
            party: party("ua-rdx-company"),
            role: "builder".into(),
        }]
    };
    given::<D>([])
        .when(propose("LT", participants()))
        .then([proposed()]);
    given::<D>([])
        .when(propose("lt-emi", participants()))
        .then_error(|e| *e == Err::HostNotAState(party("lt-emi")));
    given::<D>([])
        .when(propose("LT", vec![]))
        .then_error(|e| *e == Err::NoParticipants);
    given::<D>([proposed()])
        .when(propose("LT", participants()))
        .then_error(|e| *e == Err::AlreadyProposed);
    given::<D>([])
        .when(C::Launch)
        .then_error(|e| *e == Err::NotProposed);
}

#[test]
fn approval_needs_an_adopted_motion_and_comes_before_launch() {
    let approve = |adopted| C::Approve {
        motion_id: id("m-rdx"),
        motion_adopted: adopted,
    };
    let state = given::<D>([proposed()])
        .when(approve(true))
        .then([E::Approved {
            motion_id: id("m-rdx"),
        }]);
    assert_eq!(state.status, ProjectStatus::Approved);
    given::<D>([proposed()])
        .when(approve(false))
        .then_error(|e| *e == Err::MotionNotAdopted(id("m-rdx")));
    given::<D>([proposed()]).when(C::Launch).then_error(|e| {
        matches!(
            e,
            Err::WrongStatus {
                status: ProjectStatus::Proposed,
                ..
            }
        )
    });
    given::<D>(approved())
        .when(approve(true))
        .then_error(|e| matches!(e, Err::WrongStatus { .. }));
    given::<D>(approved()).when(C::Launch).then([E::Launched]);
}

#[test]
fn disbursements_never_exceed_what_the_party_pledged_in_that_currency() {
    let pledge = E::FundingPledged {
        party: party("LT"),
        amount: eur(30_000_000_00),
        commitment_id: Some(id("c-funding")),
    };
    given::<D>([proposed()])
        .when(C::PledgeFunding {
            party: party("LT"),
            amount: eur(30_000_000_00),
            commitment_id: Some(id("c-funding")),
        })
        .then([pledge.clone()]);
    let disburse = |minor| C::DisburseFunding {
        party: party("LT"),
        amount: eur(minor),
    };
    let state = given::<D>([proposed(), pledge.clone()])
        .when(disburse(10_000_000_00))
        .then([E::FundingDisbursed {
            party: party("LT"),
            amount: eur(10_000_000_00),
        }]);
    assert_eq!(
        state.disbursed[&(party("LT"), Currency::new("EUR").unwrap())],
        10_000_000_00
    );
    given::<D>([proposed(), pledge])
        .when(disburse(30_000_000_01))
        .then_error(|e| {
            matches!(
                e,
                Err::DisbursementExceedsPledge {
                    pledged: 30_000_000_00,
                    ..
                }
            )
        });
    given::<D>([proposed()])
        .when(disburse(0))
        .then_error(|e| *e == Err::ZeroAmount);
}

#[test]
fn milestones_are_planned_once_slip_only_later_and_are_reached_once() {
    let planned = E::MilestonePlanned {
        milestone_id: id("construction-start"),
        title: "Construction starts".into(),
        due: date(2025, 6, 1),
    };
    given::<D>([proposed()])
        .when(C::PlanMilestone {
            milestone_id: id("construction-start"),
            title: "Construction starts".into(),
            due: date(2025, 6, 1),
        })
        .then([planned.clone()]);
    given::<D>([proposed(), planned.clone()])
        .when(C::PlanMilestone {
            milestone_id: id("construction-start"),
            title: "again".into(),
            due: date(2025, 6, 1),
        })
        .then_error(|e| *e == Err::DuplicateMilestone(id("construction-start")));
    let slip = |new_due| C::SlipMilestone {
        milestone_id: id("construction-start"),
        new_due,
        reason: "permits".into(),
    };
    let state = given::<D>([proposed(), planned.clone()])
        .when(slip(date(2025, 9, 1)))
        .then([E::MilestoneSlipped {
            milestone_id: id("construction-start"),
            previous_due: date(2025, 6, 1),
            new_due: date(2025, 9, 1),
            reason: "permits".into(),
        }]);
    assert_eq!(
        state.milestones[&id("construction-start")].planned_due,
        date(2025, 6, 1)
    );
    given::<D>([proposed(), planned.clone()])
        .when(slip(date(2025, 5, 1)))
        .then_error(|e| matches!(e, Err::SlipNotLater { .. }));
    let reached = E::MilestoneReached {
        milestone_id: id("construction-start"),
        reached_on: date(2025, 5, 30),
    };
    given::<D>([proposed(), planned.clone()])
        .when(C::ReachMilestone {
            milestone_id: id("construction-start"),
            reached_on: date(2025, 5, 30),
        })
        .then([reached.clone()]);
    given::<D>([proposed(), planned, reached])
        .when(slip(date(2026, 1, 1)))
        .then_error(|e| *e == Err::MilestoneReached(id("construction-start")));
    given::<D>([proposed()])
        .when(C::ReachMilestone {
            milestone_id: id("nope"),
            reached_on: date(2025, 1, 1),
        })
        .then_error(|e| *e == Err::UnknownMilestone(id("nope")));
}

#[test]
fn output_is_reported_once_launched_in_the_target_unit_and_names_the_host() {
    let target = E::CapacityTargetSet {
        item: "RDX".into(),
        quantity: tonnes(1_000),
        period: year_2026(),
    };
    let report = |quantity| C::ReportOutput {
        item: "RDX".into(),
        quantity,
        period: year_2026(),
    };
    let mut history = launched();
    history.push(target.clone());
    let state = given::<D>(history.clone())
        .when(report(tonnes(120)))
        .then([E::OutputReported {
            item: "RDX".into(),
            quantity: tonnes(120),
            period: year_2026(),
            supplier: party("LT"),
        }]);
    assert_eq!(state.status, ProjectStatus::Producing);
    assert_eq!(state.output["RDX"], tonnes(120));
    given::<D>(history)
        .when(report(Quantity::new(5, "kg").unwrap()))
        .then_error(|e| matches!(e, Err::UnitMismatch { .. }));
    given::<D>(approved())
        .when(report(tonnes(1)))
        .then_error(|e| {
            matches!(
                e,
                Err::WrongStatus {
                    status: ProjectStatus::Approved,
                    ..
                }
            )
        });
}

#[test]
fn completed_or_cancelled_projects_do_not_change() {
    let mut completed = launched();
    given::<D>(completed.clone())
        .when(C::Complete {
            reason: "built".into(),
        })
        .then([E::Completed {
            reason: "built".into(),
        }]);
    completed.push(E::Completed {
        reason: "built".into(),
    });
    given::<D>(completed)
        .when(C::Cancel { reason: "x".into() })
        .then_error(|e| *e == Err::Terminal(ProjectStatus::Completed));
    given::<D>([proposed()])
        .when(C::Complete { reason: "x".into() })
        .then_error(|e| matches!(e, Err::WrongStatus { .. }));
    let cancelled = vec![
        proposed(),
        E::Cancelled {
            reason: "funding".into(),
        },
    ];
    given::<D>(cancelled)
        .when(C::PledgeFunding {
            party: party("LT"),
            amount: eur(1),
            commitment_id: None,
        })
        .then_error(|e| *e == Err::Terminal(ProjectStatus::Cancelled));
}

/// A joint research project, launched: hosted by UA with LT as partner.
fn research_launched() -> Vec<E> {
    vec![
        E::Proposed {
            id: id("rnd-counter-uav"),
            title: "Joint counter-UAV research".into(),
            area: CapabilityArea::ResearchAndDevelopment,
            host_country: party("UA"),
            participants: vec![Participant {
                party: party("LT"),
                role: "partner".into(),
            }],
            agreement_id: None,
            reason: "shared R&D".into(),
        },
        E::Approved {
            motion_id: id("m-rnd"),
        },
        E::Launched,
    ]
}

fn record_result(result: &str, holders: &[&str]) -> C {
    C::RecordResult {
        result_id: id(result),
        title: "Jammer prototype".into(),
        holders: holders.iter().map(|h| party(h)).collect(),
        reason: "tested".into(),
    }
}

#[test]
fn a_research_project_records_results_held_by_its_parties_once_launched() {
    let state = given::<D>(research_launched())
        .when(record_result("res-1", &["UA", "LT"]))
        .then([E::ResultRecorded {
            result_id: id("res-1"),
            title: "Jammer prototype".into(),
            holders: vec![party("UA"), party("LT")],
            reason: "tested".into(),
        }]);
    assert_eq!(state.results[&id("res-1")].holders.len(), 2);
    let mut recorded = research_launched();
    recorded.push(E::ResultRecorded {
        result_id: id("res-1"),
        title: "Jammer prototype".into(),
        holders: vec![party("UA")],
        reason: "tested".into(),
    });
    given::<D>(recorded)
        .when(record_result("res-1", &["UA"]))
        .then_error(|e| *e == Err::DuplicateResult(id("res-1")));
    given::<D>(research_launched())
        .when(record_result("res-2", &["PL"]))
        .then_error(|e| *e == Err::HolderNotParticipant(party("PL")));
    given::<D>(research_launched())
        .when(record_result("res-2", &[]))
        .then_error(|e| *e == Err::NoHolders);
    // Not before launch.
    given::<D>(research_launched()[..2].to_vec())
        .when(record_result("res-2", &["UA"]))
        .then_error(|e| matches!(e, Err::WrongStatus { .. }));
}

#[test]
fn production_projects_report_output_and_research_projects_results_not_the_other_way() {
    given::<D>(launched())
        .when(record_result("res-1", &["LT"]))
        .then_error(|e| *e == Err::NotResearch);
    given::<D>(research_launched())
        .when(C::ReportOutput {
            item: "jammer".into(),
            quantity: tonnes(1),
            period: year_2026(),
        })
        .then_error(|e| *e == Err::ResearchHasNoOutput);
    given::<D>(research_launched())
        .when(C::SetCapacityTarget {
            item: "jammer".into(),
            quantity: tonnes(1),
            period: year_2026(),
        })
        .then_error(|e| *e == Err::ResearchHasNoOutput);
}

fn with_milestone() -> Vec<E> {
    let mut events = launched();
    events.push(E::MilestonePlanned {
        milestone_id: id("construction-start"),
        title: "Construction starts".into(),
        due: date(2025, 6, 1),
    });
    events
}

fn notice(day: (i32, i32, i32)) -> C {
    C::NoticeMilestoneOverdue {
        milestone_id: id("construction-start"),
        as_of: date(day.0, day.1, day.2),
    }
}

#[test]
fn a_milestone_past_its_due_date_unmet_is_noticed_once_per_due_date() {
    let state = given::<D>(with_milestone())
        .when(notice((2025, 6, 2)))
        .then([E::MilestoneOverdue {
            milestone_id: id("construction-start"),
            due: date(2025, 6, 1),
            noticed_on: date(2025, 6, 2),
        }]);
    let milestone = &state.milestones[&id("construction-start")];
    assert_eq!(milestone.days_late(date(2025, 6, 30)), Some(29));
    // Not before it is due, and not twice for the same due date.
    given::<D>(with_milestone())
        .when(notice((2025, 6, 1)))
        .then_error(|e| matches!(e, Err::MilestoneNotYetDue { .. }));
    let mut noticed = with_milestone();
    noticed.push(E::MilestoneOverdue {
        milestone_id: id("construction-start"),
        due: date(2025, 6, 1),
        noticed_on: date(2025, 6, 2),
    });
    given::<D>(noticed.clone())
        .when(notice((2025, 6, 3)))
        .then_error(|e| matches!(e, Err::MilestoneOverdueNoticed { .. }));
    // A slip gives it a new due date, which may pass unmet in its turn.
    noticed.push(E::MilestoneSlipped {
        milestone_id: id("construction-start"),
        previous_due: date(2025, 6, 1),
        new_due: date(2025, 9, 1),
        reason: "supplier late".into(),
    });
    given::<D>(noticed)
        .when(notice((2025, 9, 2)))
        .then([E::MilestoneOverdue {
            milestone_id: id("construction-start"),
            due: date(2025, 9, 1),
            noticed_on: date(2025, 9, 2),
        }]);
    // A reached milestone is never overdue.
    let mut reached = with_milestone();
    reached.push(E::MilestoneReached {
        milestone_id: id("construction-start"),
        reached_on: date(2025, 5, 30),
    });
    given::<D>(reached)
        .when(notice((2025, 6, 2)))
        .then_error(|e| matches!(e, Err::MilestoneReached(_)));
}
