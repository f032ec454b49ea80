//! The procurement queue, folded from events: ranks and reasons follow the policy.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::{AggregateId, Date, EventMeta, PartyId, Quantity, StreamId, Timestamp};
use accord_procurement::market::{MarketEvent, Urgency};
use accord_procurement::policy::{PolicyUpdated, PriorityChange};
use accord_procurement::queue::{ProcurementEvent as Ev, ProcurementView};

fn meta(category: &str, stream: &str, position: u64) -> EventMeta {
    EventMeta {
        stream: StreamId::new(category, stream).unwrap(),
        position,
        occurred_at: Timestamp::new(position as i64, 0).unwrap(),
        recorded_at: Timestamp::new(position as i64, 0).unwrap(),
        actor: "procurement-officer".into(),
    }
}

fn submitted(request: &str, who: &str, sequence: u64) -> Ev {
    Ev::Market(MarketEvent::RequestSubmitted {
        request_id: AggregateId::new(request).unwrap(),
        party: PartyId::new(who).unwrap(),
        item: "155mm shell".into(),
        item_category: "ammunition".into(),
        quantity: Quantity::new(100, "shell").unwrap(),
        need_by: Date::new(2025, 3, 1).unwrap(),
        urgency: Urgency::Urgent,
        sequence,
    })
}

/// Lithuania's accepted priority commitment to Ukraine for ammunition.
fn lithuanias_grant_to_ukraine() -> Ev {
    Ev::Policy(PolicyUpdated {
        version: 1,
        commitment_id: AggregateId::new("c-priority").unwrap(),
        obligor: PartyId::new("LT").unwrap(),
        beneficiary: PartyId::new("UA").unwrap(),
        item_categories: vec!["ammunition".into()],
        change: PriorityChange::Granted,
    })
}

/// Poland asked first, Ukraine second, for the same shells.
fn poland_then_ukraine() -> ProcurementView {
    let mut view = ProcurementView::default();
    view.apply(
        &meta("market", "155mm shell", 1),
        &submitted("r-pl", "PL", 1),
    );
    view.apply(
        &meta("market", "155mm shell", 2),
        &submitted("r-ua", "UA", 2),
    );
    view
}

#[test]
fn the_queue_reranks_when_the_policy_changes() {
    let mut view = poland_then_ukraine();
    let order = |view: &ProcurementView| -> Vec<String> {
        view.queue("155mm shell", Some(&PartyId::new("LT").unwrap()))
            .iter()
            .map(|r| r.request_id.to_string())
            .collect()
    };
    assert_eq!(order(&view), ["r-pl", "r-ua"]);
    view.apply(&meta("policy", "main", 3), &lithuanias_grant_to_ukraine());
    assert_eq!(order(&view), ["r-ua", "r-pl"]);
    let first = &view.queue("155mm shell", Some(&PartyId::new("LT").unwrap()))[0];
    assert_eq!((first.rank, first.tier), (1, 1));
    assert!(
        first.explanation.contains("under commitment c-priority"),
        "{}",
        first.explanation
    );
    assert!(view.queue("unknown item", None).is_empty());
}

#[test]
fn given_lithuanias_grant_when_poland_controls_the_supply_then_it_ranks_without_it() {
    let mut view = poland_then_ukraine();
    view.apply(&meta("policy", "main", 3), &lithuanias_grant_to_ukraine());
    let ranked = |controller: Option<&str>| {
        let controller = controller.map(|c| PartyId::new(c).unwrap());
        view.queue("155mm shell", controller.as_ref())
    };
    // Lithuania's supply: Ukraine first, under Lithuania's commitment.
    let lithuanian = ranked(Some("LT"));
    assert_eq!(lithuanian[0].request_id.to_string(), "r-ua");
    assert!(lithuanian[0]
        .explanation
        .contains("prioritised by LT, which controls this supply"));
    // Poland's supply: in submission order, and the reason says why the grant did not apply.
    let polish = ranked(Some("PL"));
    assert_eq!(
        polish
            .iter()
            .map(|r| (r.request_id.to_string(), r.tier))
            .collect::<Vec<_>>(),
        [("r-pl".to_owned(), 2), ("r-ua".to_owned(), 2)]
    );
    assert!(
        polish[1]
            .explanation
            .contains("binds LT (commitment c-priority), not PL"),
        "{}",
        polish[1].explanation
    );
    assert!(
        polish[0].explanation.contains("no priority for PL"),
        "{}",
        polish[0].explanation
    );
    // Supply nobody controls with a promise: no grant applies either.
    assert!(ranked(None).iter().all(|r| r.tier == 2));
}

#[test]
fn the_queue_is_shown_for_each_party_whose_supply_is_in_the_market() {
    let mut view = ProcurementView::default();
    view.apply(
        &meta("market", "155mm shell", 1),
        &submitted("r-ua", "UA", 1),
    );
    assert_eq!(view.controllers("155mm shell"), [None]);
    for (position, (supply, whose)) in [("s-pl", "PL"), ("s-lt", "LT"), ("s-lt-2", "LT")]
        .into_iter()
        .enumerate()
    {
        view.apply(
            &meta("market", "155mm shell", position as u64 + 2),
            &Ev::Market(MarketEvent::SupplyOffered {
                supply_id: AggregateId::new(supply).unwrap(),
                supplier: PartyId::new(whose).unwrap(),
                controlled_by: PartyId::new(whose).unwrap(),
                item: "155mm shell".into(),
                item_category: "ammunition".into(),
                quantity: Quantity::new(10, "shell").unwrap(),
                available_from: None,
                project_id: None,
            }),
        );
    }
    assert_eq!(
        view.controllers("155mm shell"),
        [
            Some(PartyId::new("LT").unwrap()),
            Some(PartyId::new("PL").unwrap())
        ]
    );
}
