//! The agreements read models, folded from events with their metadata.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_agreements::agreement::{AgreementEvent, AgreementKind, AgreementStatus};
use accord_agreements::board::{BoardEvent, BoardRole, MotionStatus, MotionSubject, Vote};
use accord_agreements::commitment::{
    CommitmentEvent, CommitmentKind, CommitmentStatus, CommitmentTerms,
};
use accord_agreements::projections::{timeline, AgreementsEvent as Ev, AgreementsView};
use accord_kernel::{Date, EventMeta, Period, Quantity, StreamId, Timestamp};
use common::{actor, id, party};

fn meta(category: &str, stream: &str, position: u64, occurred: i64, actor: &str) -> EventMeta {
    EventMeta {
        stream: StreamId::new(category, stream).unwrap(),
        position,
        occurred_at: Timestamp::new(occurred, 0).unwrap(),
        recorded_at: Timestamp::new(occurred + 60, 0).unwrap(),
        actor: actor.into(),
    }
}

fn capacity(amount: i64) -> CommitmentTerms {
    CommitmentTerms {
        kind: CommitmentKind::ProductionCapacity {
            item: "155mm shell".into(),
            quantity: Quantity::new(amount, "shell").unwrap(),
            period: Period::new(
                Date::new(2025, 1, 1).unwrap(),
                Date::new(2025, 12, 31).unwrap(),
            )
            .unwrap(),
        },
        text: "shells".into(),
    }
}

fn history() -> Vec<(EventMeta, Ev)> {
    use AgreementEvent as A;
    use BoardEvent as B;
    use CommitmentEvent as C;
    let shells = |n| Quantity::new(n, "shell").unwrap();
    vec![
        (
            meta("agreement", "lt-ua", 1, 100, "lt-mod"),
            Ev::Agreement(A::Drafted {
                id: id("lt-ua"),
                kind: AgreementKind::StrategicCooperation,
                title: "LT-UA".into(),
                parties: vec![party("LT"), party("UA")],
                areas: vec![],
                reason: "r".into(),
                documents: Vec::new(),
            }),
        ),
        (
            meta("agreement", "lt-ua", 2, 101, "lt-mod"),
            Ev::Agreement(A::SignatoryDesignated {
                actor: actor("a"),
                party: party("LT"),
                role: "m".into(),
            }),
        ),
        (
            meta("agreement", "lt-ua", 3, 102, "lt-mod"),
            Ev::Agreement(A::SignatoryDesignated {
                actor: actor("b"),
                party: party("UA"),
                role: "m".into(),
            }),
        ),
        (
            meta("agreement", "lt-ua", 4, 200, "a"),
            Ev::Agreement(A::Signed {
                actor: actor("a"),
                party: party("LT"),
            }),
        ),
        (
            meta("agreement", "lt-ua", 5, 300, "b"),
            Ev::Agreement(A::Signed {
                actor: actor("b"),
                party: party("UA"),
            }),
        ),
        (
            meta("agreement", "lt-ua", 6, 300, "b"),
            Ev::Agreement(A::EnteredIntoForce),
        ),
        (
            meta("commitment", "c-shells", 7, 400, "lt-mod"),
            Ev::Commitment(C::Proposed {
                id: id("c-shells"),
                agreement_id: id("lt-ua"),
                obligor: party("LT"),
                beneficiary: party("UA"),
                terms: capacity(10_000),
                due: None,
                reason: "clause 3".into(),
                also_benefiting: Vec::new(),
            }),
        ),
        (
            meta("commitment", "c-shells", 8, 500, "ua-mod"),
            Ev::Commitment(C::Accepted {
                reason: "welcome".into(),
            }),
        ),
        (
            meta("board", "board", 9, 600, "lt-mod"),
            Ev::Board(B::Established {
                id: id("board"),
                agreement_id: id("lt-ua"),
                name: "Steering Board".into(),
                state_parties: vec![party("LT"), party("UA")],
            }),
        ),
        (
            meta("board", "board", 10, 601, "lt-mod"),
            Ev::Board(B::MemberAppointed {
                actor: actor("a"),
                party: party("LT"),
                role: BoardRole::Chair,
            }),
        ),
        (
            meta("board", "board", 11, 602, "lt-mod"),
            Ev::Board(B::MotionTabled {
                motion_id: id("m1"),
                title: "double shells".into(),
                subject: MotionSubject::AmendCommitment {
                    commitment_id: id("c-shells"),
                },
                tabled_by: actor("a"),
                documents: Vec::new(),
            }),
        ),
        (
            meta("board", "board", 12, 603, "a"),
            Ev::Board(B::VoteCast {
                motion_id: id("m1"),
                actor: actor("a"),
                party: party("LT"),
                vote: Vote::Approve,
            }),
        ),
        (
            meta("board", "board", 13, 603, "a"),
            Ev::Board(B::MotionAdopted {
                motion_id: id("m1"),
                subject: MotionSubject::AmendCommitment {
                    commitment_id: id("c-shells"),
                },
            }),
        ),
        (
            meta("commitment", "c-shells", 14, 700, "lt-mod"),
            Ev::Commitment(C::Amended {
                terms: capacity(20_000),
                due: None,
                motion_id: id("m1"),
                reason: "board decision".into(),
            }),
        ),
        (
            meta("commitment", "c-shells", 15, 800, "lt-mod"),
            Ev::Commitment(C::ProgressRecorded {
                allocated: Some(shells(6_000)),
                delivered: Some(shells(2_500)),
                reason: "quarterly report".into(),
                documents: Vec::new(),
            }),
        ),
    ]
}

fn view(events: &[(EventMeta, Ev)]) -> AgreementsView {
    let mut view = AgreementsView::default();
    for (meta, event) in events {
        view.apply(meta, event);
    }
    view
}

#[test]
fn the_register_shows_signatures_and_entry_into_force() {
    let rows = view(&history()).register();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row.status, row.signatures, row.signatories),
        (AgreementStatus::InForce, 2, 2)
    );
    assert_eq!(row.in_force_since, Some(Timestamp::new(300, 0).unwrap()));
    assert_eq!(row.parties, ["LT", "UA"]);
}

#[test]
fn the_ledger_shows_committed_allocated_delivered_and_the_gap() {
    let view = view(&history());
    let row = &view.ledger()[0];
    assert_eq!(row.kind, "production capacity");
    assert_eq!(row.status, CommitmentStatus::Accepted);
    assert_eq!(row.committed, Some(Quantity::new(20_000, "shell").unwrap()));
    assert_eq!(
        (row.allocated, row.delivered, row.gap),
        (6_000, 2_500, Some(17_500))
    );
    let totals = view.ledger_totals();
    let total = &totals[&("LT".to_owned(), "shell".to_owned())];
    assert_eq!(
        (total.committed, total.allocated, total.delivered, total.gap),
        (20_000, 6_000, 2_500, 17_500)
    );
}

#[test]
fn decisions_show_the_motion_its_votes_and_outcome() {
    let decisions = view(&history()).decisions();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].status, MotionStatus::Adopted);
    assert_eq!(
        decisions[0].votes,
        [("a".to_owned(), "LT".to_owned(), Vote::Approve)]
    );
}

#[test]
fn the_timeline_names_when_who_what_why_and_the_authorising_motion() {
    let events = history();
    let timeline = timeline("c-shells", events.iter().map(|(meta, event)| (meta, event)));
    let lines: Vec<String> = timeline.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "1970-01-01T00:06:40Z | lt-mod | proposed by LT to UA: capacity 10000 shell of 155mm shell from 2025-01-01 to 2025-12-31 | clause 3 | -",
            "1970-01-01T00:08:20Z | ua-mod | accepted | welcome | -",
            "1970-01-01T00:11:40Z | lt-mod | amended: capacity 20000 shell of 155mm shell from 2025-01-01 to 2025-12-31 | board decision | m1",
            "1970-01-01T00:13:20Z | lt-mod | progress: +6000 shell allocated, +2500 shell delivered | quarterly report | -",
        ]
    );
    assert_eq!(timeline[0].recorded_at, Timestamp::new(460, 0).unwrap());
}

#[test]
fn any_prefix_of_the_log_folds_to_the_state_as_of_that_point() {
    let events = history();
    let before_amendment = view(&events[..13]);
    assert_eq!(
        before_amendment.ledger()[0].committed,
        Some(Quantity::new(10_000, "shell").unwrap())
    );
    let before_force = view(&events[..5]);
    assert_eq!(before_force.register()[0].status, AgreementStatus::Drafted);
    assert_eq!(before_force.register()[0].in_force_since, None);
}
