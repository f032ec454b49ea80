//! The project portfolio, folded from events with their metadata.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::{CapabilityArea, Currency, Date, EventMeta, StreamId, Timestamp};
use accord_projects::{Participant, Portfolio, ProjectEvent as E, ProjectStatus};
use accord_testkit::fixtures::{eur, id, party};

fn meta(position: u64, day: i64) -> EventMeta {
    EventMeta {
        stream: StreamId::new("project", "rdx-plant").unwrap(),
        position,
        occurred_at: Timestamp::new(day * 86_400 + 3_600, 0).unwrap(),
        recorded_at: Timestamp::new(day * 86_400 + 7_200, 0).unwrap(),
        actor: "lt-emi".into(),
    }
}

#[test]
fn the_portfolio_shows_funding_gap_milestones_and_days_to_launch() {
    let events = vec![
        (
            meta(1, 100),
            E::Proposed {
                id: id("rdx-plant"),
                title: "RDX plant".into(),
                area: CapabilityArea::Explosives,
                host_country: party("LT"),
                participants: vec![Participant {
                    party: party("ua-company"),
                    role: "builder".into(),
                }],
                agreement_id: None,
                reason: "loi".into(),
            },
        ),
        (
            meta(2, 110),
            E::FundingPledged {
                party: party("LT"),
                amount: eur(50_000_000_00),
                commitment_id: None,
            },
        ),
        (
            meta(3, 120),
            E::FundingDisbursed {
                party: party("LT"),
                amount: eur(12_000_000_00),
            },
        ),
        (
            meta(4, 121),
            E::MilestonePlanned {
                milestone_id: id("permit"),
                title: "permit".into(),
                due: Date::new(2025, 3, 1).unwrap(),
            },
        ),
        (
            meta(5, 122),
            E::MilestonePlanned {
                milestone_id: id("build"),
                title: "build".into(),
                due: Date::new(2025, 6, 1).unwrap(),
            },
        ),
        (
            meta(6, 130),
            E::MilestoneReached {
                milestone_id: id("permit"),
                reached_on: Date::new(2025, 2, 20).unwrap(),
            },
        ),
        (
            meta(7, 131),
            E::MilestoneSlipped {
                milestone_id: id("build"),
                previous_due: Date::new(2025, 6, 1).unwrap(),
                new_due: Date::new(2025, 9, 1).unwrap(),
                reason: "supply".into(),
            },
        ),
        (meta(8, 140), E::Approved { motion_id: id("m") }),
        (meta(9, 145), E::Launched),
    ];
    let mut portfolio = Portfolio::default();
    for (meta, event) in &events {
        portfolio.apply(meta, event);
    }
    let rows = portfolio.rows();
    let row = &rows[0];
    assert_eq!(row.status, ProjectStatus::Launched);
    let eur_code = Currency::new("EUR").unwrap();
    assert_eq!(
        row.funding[&eur_code],
        (50_000_000_00, 12_000_000_00, 38_000_000_00)
    );
    assert_eq!(
        (
            row.milestones_planned,
            row.milestones_reached,
            row.milestones_slipped
        ),
        (2, 1, 1)
    );
    assert_eq!(row.days_to_launch, Some(45));
    assert_eq!(
        portfolio.by_area_and_status()[&("explosives".to_owned(), "launched".to_owned())],
        1
    );

    let mut before_launch = Portfolio::default();
    for (meta, event) in &events[..8] {
        before_launch.apply(meta, event);
    }
    assert_eq!(before_launch.rows()[0].days_to_launch, None);
}
