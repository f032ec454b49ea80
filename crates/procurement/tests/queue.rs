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

#[test]
fn the_queue_reranks_when_the_policy_changes() {
    let mut view = ProcurementView::default();
    view.apply(
        &meta("market", "155mm shell", 1),
        &submitted("r-pl", "PL", 1),
    );
    view.apply(
        &meta("market", "155mm shell", 2),
        &submitted("r-ua", "UA", 2),
    );
    let order = |view: &ProcurementView| -> Vec<String> {
        view.queue("155mm shell")
            .iter()
            .map(|r| r.request_id.to_string())
            .collect()
    };
    assert_eq!(order(&view), ["r-pl", "r-ua"]);
    view.apply(
        &meta("policy", "main", 3),
        &Ev::Policy(PolicyUpdated {
            version: 1,
            commitment_id: AggregateId::new("c-priority").unwrap(),
            obligor: PartyId::new("LT").unwrap(),
            beneficiary: PartyId::new("UA").unwrap(),
            item_categories: vec!["ammunition".into()],
            change: PriorityChange::Granted,
        }),
    );
    assert_eq!(order(&view), ["r-ua", "r-pl"]);
    let first = &view.queue("155mm shell")[0];
    assert_eq!((first.rank, first.tier), (1, 1));
    assert!(
        first.explanation.contains("under commitment c-priority"),
        "{}",
        first.explanation
    );
    assert!(view.queue("unknown item").is_empty());
}
