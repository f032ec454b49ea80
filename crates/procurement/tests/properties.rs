//! Properties of the market under random command sequences: replay equals the state
//! built step by step, allocations never exceed supply or request, and the queue is a
//! total order consistent with the ranking keys.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_kernel::{Date, Decider, Quantity};
use accord_procurement::market::{
    MarketCommand as C, MarketDecider as D, MarketEvent as E, Urgency,
};
use accord_procurement::policy::{Policy, PolicyDecider, PolicyUpdated, PriorityChange};
use accord_testkit::fixtures::{id, party};
use proptest::prelude::*;

fn policy(prioritise_ua: bool) -> Policy {
    if !prioritise_ua {
        return Policy::default();
    }
    PolicyDecider::fold(&[PolicyUpdated {
        version: 1,
        commitment_id: id("c"),
        obligor: party("LT"),
        beneficiary: party("UA"),
        item_categories: vec!["ammunition".into()],
        change: PriorityChange::Granted,
    }])
}

fn command() -> impl Strategy<Value = C> {
    let urgency = prop::sample::select(vec![
        Urgency::Routine,
        Urgency::Priority,
        Urgency::Urgent,
        Urgency::Critical,
    ]);
    let who = prop::sample::select(vec!["UA", "PL", "DE"]);
    prop_oneof![
        4 => (0u8..8, who, 0i64..500, urgency, 1i32..28).prop_map(|(n, who, amount, urgency, day)| C::SubmitRequest {
            request_id: id(format!("r{n}")),
            party: party(who),
            item: "shell".into(),
            item_category: "ammunition".into(),
            quantity: Quantity::new(amount, "shell").unwrap(),
            need_by: Date::new(2025, 3, day).unwrap(),
            urgency,
        }),
        2 => (0u8..4, 0i64..800, prop::sample::select(vec!["LT", "PL"])).prop_map(|(n, amount, whose)| C::OfferSupply {
            supply_id: id(format!("s{n}")),
            supplier: party(whose),
            controlled_by: party(whose),
            item: "shell".into(),
            item_category: "ammunition".into(),
            quantity: Quantity::new(amount, "shell").unwrap(),
            available_from: None,
            project_id: None,
        }),
        3 => (0u8..4, any::<bool>()).prop_map(|(n, ua)| C::Allocate { supply_id: id(format!("s{n}")), policy: policy(ua) }),
        1 => (0u8..8).prop_map(|n| C::Fulfil { request_id: id(format!("r{n}")), reason: "r".into() }),
        1 => (0u8..8).prop_map(|n| C::Cancel { request_id: id(format!("r{n}")), reason: "r".into() }),
    ]
}

proptest! {
    #[test]
    fn allocations_stay_within_supply_and_requests_and_ranks_are_a_total_order(commands in prop::collection::vec(command(), 0..60)) {
        let mut state = <D as Decider>::State::default();
        let mut events = Vec::new();
        for command in &commands {
            if let Ok(new) = D::decide(&state, command) {
                if let C::Allocate { policy, .. } = command {
                    // Ranks within one allocation increase strictly.
                    let ranks: Vec<u32> = new.iter().map(|e| match e { E::SupplyAllocated { rank, .. } => *rank, _ => 0 }).collect();
                    prop_assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{:?}", ranks);
                    let controller = &state.supplies[match command { C::Allocate { supply_id, .. } => supply_id, _ => unreachable!() }].controlled_by;
                    let queue = state.queue(policy, Some(controller));
                    prop_assert_eq!(queue.iter().map(|r| r.rank).collect::<Vec<_>>(), (1..=queue.len() as u32).collect::<Vec<_>>());
                }
                for event in new {
                    state = D::evolve(state, &event);
                    events.push(event);
                }
            }
            for supply in state.supplies.values() {
                prop_assert!(supply.remaining >= 0 && supply.remaining <= supply.quantity);
            }
            for request in state.requests.values() {
                prop_assert!(request.allocated >= 0 && request.allocated <= request.quantity);
            }
        }
        prop_assert_eq!(D::fold(&events), state.clone());
        // The queue follows the ranking keys: tier, then urgency (desc), need-by, sequence.
        for ua in [false, true] {
            let policy = policy(ua);
            let queue = state.queue(&policy, Some(&party("LT")));
            let keys: Vec<_> = queue.iter().map(|r| {
                let request = &state.requests[&r.request_id];
                (r.tier, std::cmp::Reverse(request.urgency), request.need_by, request.sequence)
            }).collect();
            prop_assert!(keys.windows(2).all(|w| w[0] < w[1]), "queue not strictly ordered");
        }
        // A grant binds its obligor only: Lithuania's grant to Ukraine never changes
        // how Polish supply, or supply nobody controls, is ranked.
        let order = |policy: &Policy, controller: Option<&accord_kernel::PartyId>| -> Vec<(String, u32)> {
            state.queue(policy, controller).into_iter().map(|r| (r.request_id.to_string(), r.tier)).collect()
        };
        let poland = party("PL");
        prop_assert_eq!(order(&policy(true), Some(&poland)), order(&policy(false), Some(&poland)));
        prop_assert_eq!(order(&policy(true), None), order(&policy(false), None));
    }
}
