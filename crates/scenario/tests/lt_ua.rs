//! The agreement from the source text, run through the boundary, the deciders and the
//! reactions: the projections show what the agreement set out to do.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::agreement::AgreementStatus;
use accord_agreements::board::MotionStatus;
use accord_agreements::commitment::CommitmentStatus;
use accord_kernel::{Currency, Quantity, Timestamp};
use accord_projects::ProjectStatus;
use accord_scenario::{Embedded, Scenario, ServiceEvent};
use sha2::Digest as _;

fn run() -> Embedded {
    let scenario = Scenario::lt_ua().unwrap();
    let mut embedded = Embedded::default();
    embedded.run(&scenario).unwrap();
    embedded
}

#[test]
fn the_agreement_is_in_force_after_the_four_ministers_sign() {
    let embedded = run();
    let register = embedded.agreements().register();
    let agreement = register
        .iter()
        .find(|r| r.id == "lt-ua-defence-industry")
        .unwrap();
    assert_eq!(agreement.status, AgreementStatus::InForce);
    // The four ministers, and later Poland's minister for its accession.
    assert_eq!((agreement.signatures, agreement.signatories), (5, 5));
    assert_eq!(
        agreement.in_force_since,
        Some(Timestamp::parse_rfc3339("2024-11-26T11:15:00Z").unwrap())
    );
    let loi = register.iter().find(|r| r.id == "rdx-plant-loi").unwrap();
    assert_eq!(loi.status, AgreementStatus::InForce);
}

#[test]
fn ukraine_ranks_first_for_items_the_priority_commitment_covers() {
    let embedded = run();
    let allocations = &embedded.procurement().allocations["155mm shell"];
    let summary: Vec<String> = allocations
        .iter()
        .map(|a| match a {
            accord_procurement::market::MarketEvent::SupplyAllocated {
                request_id,
                quantity,
                rank,
                policy_tier,
                policy_version,
                ..
            } => {
                format!(
                    "{request_id} {} rank {rank} tier {policy_tier} policy v{policy_version}",
                    quantity.amount
                )
            }
            other => panic!("{other:?}"),
        })
        .collect();
    // Poland asked first and more urgently. Poland's own supply (a Polish works')
    // ranks without Lithuania's grant: Poland first, Ukraine second, both tier 2.
    // Lithuania's supply is what its priority commitment binds: Ukraine first.
    assert_eq!(
        summary,
        [
            "req-pl-shells 6000 rank 1 tier 2 policy v1",
            "req-ua-shells 1000 rank 2 tier 2 policy v1",
            "req-ua-shells 7000 rank 1 tier 1 policy v1"
        ]
    );
    let explanation = |at: usize| match &allocations[at] {
        accord_procurement::market::MarketEvent::SupplyAllocated { explanation, .. } => {
            explanation.clone()
        }
        other => panic!("{other:?}"),
    };
    assert!(
        explanation(1).starts_with(
            "tier 2: UA's priority for ammunition binds LT (commitment c-priority), not PL"
        ),
        "{}",
        explanation(1)
    );
    assert!(
        explanation(2).starts_with("tier 1: UA prioritised by LT, which controls this supply"),
        "{}",
        explanation(2)
    );
    // The UAV output of the joint project was offered by the reaction and allocated.
    let uav = &embedded.procurement().markets["strike UAV"];
    assert_eq!(uav.requests.values().next().unwrap().allocated, 200);
    // After the amendment the policy covers electronic warfare too.
    assert_eq!(embedded.procurement().policy.version, 2);
    let grant = &embedded
        .procurement()
        .policy
        .grants
        .values()
        .next()
        .unwrap();
    assert!(grant
        .item_categories
        .contains(&"electronic-warfare".to_owned()));
}

#[test]
fn the_rdx_project_shows_its_funding_gap_and_milestones() {
    let embedded = run();
    let rows = embedded.portfolio().rows();
    let rdx = rows.iter().find(|r| r.id == "rdx-plant").unwrap();
    assert_eq!(rdx.status, ProjectStatus::Launched);
    let eur = Currency::new("EUR").unwrap();
    assert_eq!(
        rdx.funding[&eur],
        (12_000_000_00, 4_000_000_00, 8_000_000_00)
    );
    assert_eq!(
        (
            rdx.milestones_planned,
            rdx.milestones_reached,
            rdx.milestones_slipped
        ),
        (2, 1, 1)
    );
    assert_eq!(rdx.days_to_launch, Some(95));
    // The slipped milestone's new date (2025-09-01) passed unmet: the watcher's
    // notice, and its days late as the scenario's last day (2025-09-30) sees it.
    let last_day = accord_kernel::Date::new(2025, 9, 30).unwrap();
    let overdue = embedded.portfolio().overdue_milestones(last_day);
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    let (project, milestone, _, due, days_late) = &overdue[0];
    assert_eq!(
        (
            project.as_str(),
            milestone.as_str(),
            due.to_string(),
            *days_late
        ),
        (
            "rdx-plant",
            "construction-start",
            "2025-09-01".to_owned(),
            29
        )
    );
    let uav = rows.iter().find(|r| r.id == "uav-joint").unwrap();
    assert_eq!(uav.status, ProjectStatus::Producing);
    // Proposed 2024-12-05T10:00, launched 2025-01-15T09:00: 40 whole days.
    assert_eq!(uav.days_to_launch, Some(40));
    assert!(
        uav.results.is_empty(),
        "production reports output, not results"
    );
    // The joint research project records a result, held by both states.
    let research = rows.iter().find(|r| r.id == "rnd-counter-uav").unwrap();
    assert_eq!(research.status, ProjectStatus::Launched);
    let (result, held) = &research.results[0];
    assert_eq!(result, "res-jammer-prototype");
    assert_eq!(
        held.holders
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["UA", "LT"]
    );
}

#[test]
fn funding_pledged_to_projects_counts_against_the_funding_commitment() {
    let embedded = run();
    let ledger = embedded.agreements().ledger();
    let funding = ledger.iter().find(|r| r.id == "c-funding").unwrap();
    assert_eq!(
        funding.committed,
        Some(Quantity::new(30_000_000_00, "EUR").unwrap())
    );
    assert_eq!(funding.allocated, 17_000_000_00);
    // Disbursements count as delivered: 4M on the RDX plant, 5M on the UAV line.
    assert_eq!(funding.delivered, 9_000_000_00);
    assert_eq!(funding.gap, Some(21_000_000_00));
    // Ukraine confirmed 5M and disputed 1M of what was reported delivered.
    assert_eq!(
        (funding.confirmed, funding.disputed),
        (5_000_000_00, 1_000_000_00)
    );
    let timeline: Vec<String> = embedded
        .timeline("c-funding")
        .iter()
        .map(|e| e.change.clone())
        .collect();
    assert!(
        timeline.contains(&"progress: +400000000 EUR delivered".to_owned()),
        "{timeline:?}"
    );
    // The dispute cites the reconciliation by hash.
    assert!(
        timeline.iter().any(|line| line.starts_with(
            "delivery disputed: 100000000 EUR citing Reconciliation of disbursed funding"
        )),
        "{timeline:?}"
    );
    let shells = ledger.iter().find(|r| r.id == "c-shells").unwrap();
    // Shells "to ensure a steady supply for both countries": UA, and LT itself.
    assert_eq!(shells.beneficiary, "UA + LT");
    assert_eq!(
        (shells.allocated, shells.delivered, shells.gap),
        (20_000, 12_000, Some(88_000))
    );
    assert_eq!(shells.status, CommitmentStatus::Accepted);
}

#[test]
fn the_priority_commitments_timeline_names_actors_reasons_and_the_board_decision() {
    let embedded = run();
    let lines: Vec<String> = embedded
        .timeline("c-priority")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "2024-11-26T12:00:00Z | lt-kasciunas | proposed by LT to UA: priority for ammunition, explosives, uav | clause of the strategic cooperation agreement | -",
            "2024-11-27T09:00:00Z | ua-umerov | accepted | accepted by the beneficiary | -",
            "2025-04-04T09:00:00Z | lt-kasciunas | amended: priority for ammunition, explosives, uav, electronic-warfare | Steering Board decision m-priority-ew | m-priority-ew",
        ]
    );
    let decisions = embedded.agreements().decisions();
    assert_eq!(decisions.len(), 6);
    assert!(decisions.iter().all(|d| d.status == MotionStatus::Adopted));
}

#[test]
fn the_late_fact_occurred_before_it_was_recorded() {
    let embedded = run();
    let (meta, _) = embedded
        .log
        .iter()
        .find(|(meta, event)| {
            meta.stream.id() == "c-shells"
                && matches!(
                    event,
                    ServiceEvent::Agreements(
                        accord_agreements::projections::AgreementsEvent::Commitment(
                            accord_agreements::commitment::CommitmentEvent::ProgressRecorded { .. }
                        )
                    )
                )
        })
        .unwrap();
    assert!(meta.occurred_at < meta.recorded_at);
    assert_eq!(meta.occurred_at.to_string(), "2025-01-31T17:00:00Z");
    assert_eq!(meta.recorded_at.to_string(), "2025-04-10T09:00:00Z");
}

#[test]
fn every_event_of_the_run_round_trips_through_protobuf() {
    let embedded = run();
    let steps = Scenario::lt_ua().unwrap().steps.len();
    assert!(
        embedded.log.len() > steps,
        "{} events from {steps} steps",
        embedded.log.len()
    );
    for (meta, event) in &embedded.log {
        let id = accord_kernel::AggregateId::new(meta.stream.id()).unwrap();
        match event {
            ServiceEvent::Agreements(e) => {
                let encoded = accord_boundary::encode_agreements_event(&id, e);
                assert_eq!(
                    &accord_boundary::decode_agreements_event(
                        &encoded.event_type,
                        &encoded.payload
                    )
                    .unwrap(),
                    e
                );
            }
            ServiceEvent::Projects(e) => {
                let encoded = accord_boundary::encode_project_event(&id, e);
                assert_eq!(
                    &accord_boundary::decode_project_event(&encoded.event_type, &encoded.payload)
                        .unwrap(),
                    e
                );
            }
            ServiceEvent::Procurement(e) => {
                let encoded = accord_boundary::encode_procurement_event(e);
                assert_eq!(
                    &accord_boundary::decode_procurement_event(
                        &encoded.event_type,
                        encoded.schema_version,
                        &encoded.payload
                    )
                    .unwrap(),
                    e
                );
            }
        }
    }
}

#[test]
fn poland_accedes_and_the_board_then_needs_its_vote() {
    let scenario = Scenario::lt_ua().unwrap();
    // Cut just before Poland's member votes on the maritime motion.
    let last = scenario.steps.len() - 1;
    assert_eq!(scenario.steps[last].actor.as_str(), "pl-board-mod");
    let mut before = Embedded::default();
    before
        .run(&Scenario {
            steps: scenario.steps[..last].to_vec(),
            ..scenario.clone()
        })
        .unwrap();
    let agreement = &before.agreements().agreements["lt-ua-defence-industry"];
    assert_eq!(
        agreement
            .parties
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
        ["LT", "UA", "PL"]
    );
    assert!(agreement.acceding.is_empty());
    let board = &before.agreements().boards["lt-ua-steering-board"];
    assert_eq!(
        board
            .state_parties
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
        ["LT", "UA", "PL"]
    );
    let motion = |embedded: &Embedded, id: &str| {
        embedded.agreements().boards["lt-ua-steering-board"]
            .motion_status(&accord_kernel::AggregateId::new(id).unwrap())
    };
    // Admitted by Lithuania's and Ukraine's members alone, before Poland was in.
    assert_eq!(motion(&before, "m-admit-pl"), MotionStatus::Adopted);
    // Every LT and UA voting member approved the maritime motion: still open.
    assert_eq!(motion(&before, "m-maritime"), MotionStatus::Open);
    let after = run();
    assert_eq!(motion(&after, "m-maritime"), MotionStatus::Adopted);
    // The accession is on the agreement's record as an amendment by that motion.
    assert_eq!(
        after.agreements().agreements["lt-ua-defence-industry"].amendments,
        [accord_kernel::AggregateId::new("m-admit-pl").unwrap()]
    );
}

#[test]
fn the_documents_the_scenario_cites_are_the_files_beside_it() {
    let scenario = Scenario::lt_ua().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/documents");
    let mut cited = std::collections::BTreeMap::new();
    for step in &scenario.steps {
        let body: serde_json::Value = serde_json::from_str(&step.body).unwrap();
        for document in body["documents"].as_array().into_iter().flatten() {
            cited.insert(
                document["sha256"].as_str().unwrap().to_owned(),
                document["title"].as_str().unwrap().to_owned(),
            );
        }
    }
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "txt") {
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            let hash = accord_kernel::signature::hex(&sha2::Sha256::digest(&bytes));
            assert!(
                cited.contains_key(&hash),
                "{} is cited by no step",
                path.display()
            );
        }
    }
    // The agreement text, the Letter of Intent, the accession protocol and the
    // reconciliation: each cited, and nothing cited that is not here.
    assert_eq!((files, cited.len()), (4, 4), "{cited:?}");
}
