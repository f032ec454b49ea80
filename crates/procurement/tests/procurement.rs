//! Given/when/then tests of the priority policy and of allocation in priority order.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::{Date, Decider, Quantity};
use accord_procurement::market::{
    MarketCommand as C, MarketDecider as D, MarketError as Err, MarketEvent as E, RequestStatus,
    Urgency,
};
use accord_procurement::policy::{
    Policy, PolicyDecider, PolicyError, PolicyUpdated, PriorityChange, UpdatePolicy,
};
use accord_testkit::fixtures::{date, id, party};
use accord_testkit::given;

fn shells(n: i64) -> Quantity {
    Quantity::new(n, "shell").unwrap()
}

fn update(change: PriorityChange, categories: &[&str]) -> UpdatePolicy {
    UpdatePolicy {
        commitment_id: id("c-priority"),
        obligor: party("LT"),
        beneficiary: party("UA"),
        item_categories: categories.iter().map(|c| c.to_string()).collect(),
        change,
    }
}

fn updated(version: u64, change: PriorityChange, categories: &[&str]) -> PolicyUpdated {
    let u = update(change, categories);
    PolicyUpdated {
        version,
        commitment_id: u.commitment_id,
        obligor: u.obligor,
        beneficiary: u.beneficiary,
        item_categories: u.item_categories,
        change,
    }
}

fn ua_priority() -> Policy {
    PolicyDecider::fold(&[updated(1, PriorityChange::Granted, &["ammunition"])])
}

#[test]
fn the_policy_is_versioned_and_follows_grants_amendments_and_withdrawals() {
    given::<PolicyDecider>([])
        .when(update(PriorityChange::Granted, &["ammunition"]))
        .then([updated(1, PriorityChange::Granted, &["ammunition"])]);
    let granted = [updated(1, PriorityChange::Granted, &["ammunition"])];
    given::<PolicyDecider>(granted.clone())
        .when(update(PriorityChange::Granted, &["ammunition"]))
        .then_error(|e| *e == PolicyError::AlreadyGranted(id("c-priority")));
    let policy = given::<PolicyDecider>(granted.clone())
        .when(update(PriorityChange::Amended, &["ammunition", "uav"]))
        .then([updated(2, PriorityChange::Amended, &["ammunition", "uav"])]);
    assert!(policy
        .priority_for(&party("UA"), "uav", &party("LT"))
        .is_some());
    assert!(
        policy
            .priority_for(&party("UA"), "uav", &party("PL"))
            .is_none(),
        "binds its obligor only"
    );
    let policy = given::<PolicyDecider>(granted)
        .when(update(PriorityChange::Withdrawn, &[]))
        .then([updated(2, PriorityChange::Withdrawn, &[])]);
    assert!(policy.grants.is_empty());
    given::<PolicyDecider>([])
        .when(update(PriorityChange::Withdrawn, &[]))
        .then_error(|e| *e == PolicyError::NotGranted(id("c-priority")));
    given::<PolicyDecider>([])
        .when(update(PriorityChange::Granted, &[]))
        .then_error(|e| *e == PolicyError::NoItemCategories);
}

fn request(
    request: &str,
    who: &str,
    amount: i64,
    urgency: Urgency,
    need_by: Date,
    sequence: u64,
) -> E {
    E::RequestSubmitted {
        request_id: id(request),
        party: party(who),
        item: "155mm shell".into(),
        item_category: "ammunition".into(),
        quantity: shells(amount),
        need_by,
        urgency,
        sequence,
    }
}

fn offer(amount: i64) -> E {
    E::SupplyOffered {
        supply_id: id("s1"),
        supplier: party("LT"),
        controlled_by: party("LT"),
        item: "155mm shell".into(),
        item_category: "ammunition".into(),
        quantity: shells(amount),
        available_from: None,
        project_id: None,
    }
}

/// Poland asked first and more urgently; Ukraine asked later.
fn market() -> Vec<E> {
    vec![
        request("r-pl", "PL", 600, Urgency::Critical, date(2025, 2, 1), 1),
        request("r-ua", "UA", 800, Urgency::Urgent, date(2025, 3, 1), 2),
        offer(1_000),
    ]
}

fn allocated(events: &[E]) -> Vec<(String, i64, u32, u32)> {
    events
        .iter()
        .map(|e| match e {
            E::SupplyAllocated {
                request_id,
                quantity,
                rank,
                policy_tier,
                ..
            } => (request_id.to_string(), quantity.amount, *rank, *policy_tier),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn without_priority_urgency_decides_and_with_it_the_prioritised_party_comes_first() {
    let state = D::fold(&market());
    let plain = D::decide(
        &state,
        &C::Allocate {
            supply_id: id("s1"),
            policy: Policy::default(),
        },
    )
    .unwrap();
    assert_eq!(
        allocated(&plain),
        [("r-pl".into(), 600, 1, 2), ("r-ua".into(), 400, 2, 2)]
    );

    let prioritised = D::decide(
        &state,
        &C::Allocate {
            supply_id: id("s1"),
            policy: ua_priority(),
        },
    )
    .unwrap();
    assert_eq!(
        allocated(&prioritised),
        [("r-ua".into(), 800, 1, 1), ("r-pl".into(), 200, 2, 2)]
    );
    match &prioritised[0] {
        E::SupplyAllocated {
            policy_version,
            explanation,
            ..
        } => {
            assert_eq!(*policy_version, 1);
            assert_eq!(
                explanation,
                "tier 1: UA prioritised by LT, which controls this supply, for ammunition \
                 under commitment c-priority; urgency urgent; need by 2025-03-01; request #2 \
                 (policy v1)"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn within_a_tier_urgency_then_need_by_then_submission_order_rank() {
    let history = vec![
        request("late", "PL", 10, Urgency::Urgent, date(2025, 6, 1), 1),
        request("early", "DE", 10, Urgency::Urgent, date(2025, 4, 1), 2),
        request("routine", "FR", 10, Urgency::Routine, date(2025, 1, 1), 3),
        request("tie", "CZ", 10, Urgency::Urgent, date(2025, 4, 1), 4),
    ];
    let queue: Vec<String> = D::fold(&history)
        .queue(&Policy::default(), None)
        .into_iter()
        .map(|r| r.request_id.to_string())
        .collect();
    assert_eq!(queue, ["early", "tie", "late", "routine"]);
}

#[test]
fn allocation_needs_known_remaining_supply_and_open_requests() {
    let allocate = |supply: &str| C::Allocate {
        supply_id: id(supply),
        policy: Policy::default(),
    };
    given::<D>(market())
        .when(allocate("nope"))
        .then_error(|e| *e == Err::UnknownSupply(id("nope")));
    given::<D>([offer(5)])
        .when(allocate("s1"))
        .then_error(|e| *e == Err::NoOpenRequests);
    let mut exhausted = market();
    exhausted.extend(D::decide(&D::fold(&market()), &allocate("s1")).unwrap());
    given::<D>(exhausted)
        .when(allocate("s1"))
        .then_error(|e| *e == Err::SupplyExhausted(id("s1")));
}

#[test]
fn listings_are_checked_against_the_market() {
    let submit = |request: &str, item: &str, quantity: Quantity| C::SubmitRequest {
        request_id: id(request),
        party: party("UA"),
        item: item.into(),
        item_category: "ammunition".into(),
        quantity,
        need_by: date(2025, 1, 1),
        urgency: Urgency::Routine,
    };
    given::<D>(market())
        .when(submit("r-new", "155mm shell", shells(5)))
        .then([request(
            "r-new",
            "UA",
            5,
            Urgency::Routine,
            date(2025, 1, 1),
            3,
        )]);
    given::<D>(market())
        .when(submit("r-ua", "155mm shell", shells(5)))
        .then_error(|e| *e == Err::DuplicateRequest(id("r-ua")));
    given::<D>(market())
        .when(submit("r-x", "RDX", shells(5)))
        .then_error(|e| matches!(e, Err::WrongItem { .. }));
    given::<D>(market())
        .when(submit("r-x", "155mm shell", Quantity::new(5, "t").unwrap()))
        .then_error(|e| matches!(e, Err::UnitMismatch { .. }));
    given::<D>(market())
        .when(submit("r-x", "155mm shell", shells(0)))
        .then_error(|e| *e == Err::ZeroQuantity);
    given::<D>(market())
        .when(C::OfferSupply {
            supply_id: id("s1"),
            supplier: party("LT"),
            controlled_by: party("LT"),
            item: "155mm shell".into(),
            item_category: "ammunition".into(),
            quantity: shells(1),
            available_from: None,
            project_id: None,
        })
        .then_error(|e| *e == Err::DuplicateSupply(id("s1")));
}

#[test]
fn requests_are_fulfilled_only_when_fully_allocated_and_close_for_good() {
    let mut history = market();
    history.extend(
        D::decide(
            &D::fold(&market()),
            &C::Allocate {
                supply_id: id("s1"),
                policy: ua_priority(),
            },
        )
        .unwrap(),
    );
    let fulfil = |request: &str| C::Fulfil {
        request_id: id(request),
        reason: "delivered".into(),
    };
    let state = given::<D>(history.clone())
        .when(fulfil("r-ua"))
        .then([E::RequestFulfilled {
            request_id: id("r-ua"),
            reason: "delivered".into(),
        }]);
    assert_eq!(state.requests[&id("r-ua")].status, RequestStatus::Fulfilled);
    given::<D>(history.clone())
        .when(fulfil("r-pl"))
        .then_error(|e| {
            matches!(
                e,
                Err::NotFullyAllocated {
                    outstanding: 400,
                    ..
                }
            )
        });
    given::<D>(history.clone())
        .when(C::Cancel {
            request_id: id("r-pl"),
            reason: "bought elsewhere".into(),
        })
        .then([E::RequestCancelled {
            request_id: id("r-pl"),
            reason: "bought elsewhere".into(),
        }]);
    history.push(E::RequestCancelled {
        request_id: id("r-pl"),
        reason: "bought elsewhere".into(),
    });
    given::<D>(history)
        .when(C::Cancel {
            request_id: id("r-pl"),
            reason: "again".into(),
        })
        .then_error(|e| {
            matches!(
                e,
                Err::RequestClosed {
                    status: RequestStatus::Cancelled,
                    ..
                }
            )
        });
    given::<D>(market())
        .when(fulfil("nope"))
        .then_error(|e| *e == Err::UnknownRequest(id("nope")));
}
