//! Property: every domain event survives protobuf encoding and decoding unchanged,
//! and the contract's JSON mapping both ways, for every event of every service; and
//! bad payloads become typed errors.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::actor::ActorEvent;
use accord_agreements::agreement::{AgreementEvent, AgreementKind};
use accord_agreements::board::{BoardEvent, BoardRole, MotionSubject, Vote};
use accord_agreements::commitment::{CommitmentEvent, CommitmentKind, CommitmentTerms};
use accord_agreements::projections::AgreementsEvent;
use accord_boundary::*;
use accord_kernel::{
    ActorId, AggregateId, CapabilityArea, Currency, Date, DocumentRef, Money, PartyId, Period,
    Quantity,
};
use accord_procurement::market::{MarketEvent, Urgency};
use accord_procurement::policy::{PolicyUpdated, PriorityChange};
use accord_procurement::queue::ProcurementEvent;
use accord_projects::{Participant, ProjectEvent};
use proptest::prelude::*;

fn id() -> impl Strategy<Value = AggregateId> {
    "[a-z][a-z0-9-]{0,20}".prop_map(|s| AggregateId::new(s).unwrap())
}
fn actor() -> impl Strategy<Value = ActorId> {
    "[a-z][a-z0-9-]{0,20}".prop_map(|s| ActorId::new(s).unwrap())
}
fn party() -> impl Strategy<Value = PartyId> {
    prop_oneof!["[A-Z]{2}", "[a-z][a-z-]{2,12}"].prop_map(|s| PartyId::new(s).unwrap())
}
fn text() -> impl Strategy<Value = String> {
    "\\PC{0,30}"
}
fn date() -> impl Strategy<Value = Date> {
    (1900i32..2100, 1i32..=12, 1i32..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}
fn period() -> impl Strategy<Value = Period> {
    (date(), 0i64..3000).prop_map(|(from, _)| Period::new(from, from).unwrap())
}
fn quantity() -> impl Strategy<Value = Quantity> {
    (0i64..i64::MAX, "[a-z]{1,8}").prop_map(|(n, unit)| Quantity::new(n, unit).unwrap())
}
fn money() -> impl Strategy<Value = Money> {
    (
        0i64..i64::MAX,
        prop::sample::select(vec!["EUR", "UAH", "USD"]),
    )
        .prop_map(|(n, c)| Money::new(n, Currency::new(c).unwrap()).unwrap())
}
fn area() -> impl Strategy<Value = CapabilityArea> {
    use CapabilityArea::*;
    prop::sample::select(vec![
        Uav,
        Ground,
        Maritime,
        ElectronicWarfare,
        Ammunition,
        Explosives,
        ResearchAndDevelopment,
        Other,
    ])
}
fn subject() -> impl Strategy<Value = MotionSubject> {
    prop_oneof![
        id().prop_map(|project_id| MotionSubject::ApproveProject { project_id }),
        id().prop_map(|commitment_id| MotionSubject::AmendCommitment { commitment_id }),
        text().prop_map(|description| MotionSubject::Other { description }),
        (id(), party()).prop_map(|(agreement_id, party)| MotionSubject::AdmitParty {
            agreement_id,
            party
        }),
    ]
}
/// Up to three distinct documents, with and without a location.
fn documents() -> impl Strategy<Value = Vec<DocumentRef>> {
    let document = (
        "[A-Za-z][\\PC]{0,20}",
        "(application|text)/[a-z]{1,8}",
        any::<[u8; 32]>(),
        "([a-z:/.]{1,12})?",
    )
        .prop_map(|(title, media_type, hash, location)| {
            DocumentRef::new(
                title,
                media_type,
                &accord_kernel::signature::hex(&hash),
                location,
            )
            .unwrap()
        });
    prop::collection::vec(document, 0..3).prop_map(|mut documents| {
        documents.dedup_by_key(|d| d.sha256);
        documents
    })
}
fn terms() -> impl Strategy<Value = CommitmentTerms> {
    let kind = prop_oneof![
        prop::collection::vec("[a-z]{1,8}", 1..4)
            .prop_map(|item_categories| CommitmentKind::ProcurementPriority { item_categories }),
        money().prop_map(|amount| CommitmentKind::Funding { amount }),
        (text(), quantity(), period()).prop_map(|(item, quantity, period)| {
            CommitmentKind::ProductionCapacity {
                item,
                quantity,
                period,
            }
        }),
        text().prop_map(|topic| CommitmentKind::Research { topic }),
        (text(), any::<u32>()).prop_map(|(description, max_days)| CommitmentKind::Regulatory {
            description,
            max_days
        }),
        text().prop_map(|description| CommitmentKind::Other { description }),
    ];
    (kind, text()).prop_map(|(kind, text)| CommitmentTerms { kind, text })
}

/// An agreements event, with the id of the aggregate it belongs to.
fn agreements_event() -> impl Strategy<Value = (AggregateId, AgreementsEvent)> {
    use AgreementsEvent as S;
    let agreement = prop_oneof![
        (
            id(),
            prop::sample::select(vec![
                AgreementKind::StrategicCooperation,
                AgreementKind::LetterOfIntent,
                AgreementKind::Memorandum,
                AgreementKind::Contract
            ]),
            text(),
            prop::collection::vec(party(), 0..4),
            prop::collection::vec(area(), 0..4),
            text(),
            documents()
        )
            .prop_map(|(id, kind, title, parties, areas, reason, documents)| (
                id.clone(),
                AgreementEvent::Drafted {
                    id,
                    kind,
                    title,
                    parties,
                    areas,
                    reason,
                    documents,
                }
            )),
        (id(), actor(), party(), text()).prop_map(|(i, actor, party, role)| (
            i,
            AgreementEvent::SignatoryDesignated { actor, party, role }
        )),
        (id(), actor(), party())
            .prop_map(|(i, actor, party)| (i, AgreementEvent::Signed { actor, party })),
        id().prop_map(|i| (i, AgreementEvent::EnteredIntoForce)),
        (id(), text(), id(), text(), documents()).prop_map(
            |(i, summary, motion_id, reason, documents)| (
                i,
                AgreementEvent::Amended {
                    summary,
                    motion_id,
                    reason,
                    documents,
                }
            )
        ),
        (id(), party(), id(), text(), documents()).prop_map(
            |(i, party, motion_id, reason, documents)| (
                i,
                AgreementEvent::AccessionApproved {
                    party,
                    motion_id,
                    reason,
                    documents,
                }
            )
        ),
        (id(), party()).prop_map(|(i, party)| (i, AgreementEvent::PartyAcceded { party })),
        (id(), text()).prop_map(|(i, reason)| (i, AgreementEvent::Suspended { reason })),
        (id(), text()).prop_map(|(i, reason)| (i, AgreementEvent::Resumed { reason })),
        (id(), text()).prop_map(|(i, reason)| (i, AgreementEvent::Terminated { reason })),
        (id(), party(), prop::collection::vec(id(), 0..3), text()).prop_map(
            |(i, party, open_commitments, reason)| (
                i,
                AgreementEvent::PartyWithdrew {
                    party,
                    open_commitments,
                    reason
                }
            )
        ),
    ]
    .prop_map(|(i, e)| (i, S::Agreement(e)));
    let commitment = prop_oneof![
        (
            id(),
            id(),
            party(),
            party(),
            terms(),
            proptest::option::of(date()),
            text(),
            prop::collection::vec(party(), 0..3)
        )
            .prop_map(
                |(id, agreement_id, obligor, beneficiary, terms, due, reason, also_benefiting)| {
                    (
                        id.clone(),
                        CommitmentEvent::Proposed {
                            id,
                            agreement_id,
                            obligor,
                            beneficiary,
                            terms,
                            due,
                            reason,
                            also_benefiting,
                        },
                    )
                }
            ),
        (id(), text()).prop_map(|(i, reason)| (i, CommitmentEvent::Accepted { reason })),
        (id(), terms(), proptest::option::of(date()), id(), text()).prop_map(
            |(i, terms, due, motion_id, reason)| (
                i,
                CommitmentEvent::Amended {
                    terms,
                    due,
                    motion_id,
                    reason
                }
            )
        ),
        (
            id(),
            proptest::option::of(quantity()),
            proptest::option::of(quantity()),
            text(),
            documents()
        )
            .prop_map(|(i, allocated, delivered, reason, documents)| (
                i,
                CommitmentEvent::ProgressRecorded {
                    allocated,
                    delivered,
                    reason,
                    documents,
                }
            )),
        (id(), date(), date())
            .prop_map(|(i, due, noticed_on)| (i, CommitmentEvent::Overdue { due, noticed_on })),
        (id(), quantity(), text(), any::<bool>(), documents()).prop_map(
            |(i, quantity, reason, confirmed, documents)| (
                i,
                if confirmed {
                    CommitmentEvent::DeliveryConfirmed {
                        quantity,
                        reason,
                        documents,
                    }
                } else {
                    CommitmentEvent::DeliveryDisputed {
                        quantity,
                        reason,
                        documents,
                    }
                }
            )
        ),
        (id(), text()).prop_map(|(i, reason)| (i, CommitmentEvent::Fulfilled { reason })),
        (id(), text()).prop_map(|(i, reason)| (i, CommitmentEvent::Breached { reason })),
        (id(), text()).prop_map(|(i, reason)| (i, CommitmentEvent::Withdrawn { reason })),
    ]
    .prop_map(|(i, e)| (i, S::Commitment(e)));
    let role = prop::sample::select(vec![
        BoardRole::Chair,
        BoardRole::Member,
        BoardRole::Observer,
        BoardRole::Stakeholder,
    ]);
    let vote = prop::sample::select(vec![Vote::Approve, Vote::Reject, Vote::Abstain]);
    let board = prop_oneof![
        (id(), id(), text(), prop::collection::vec(party(), 0..3)).prop_map(
            |(id, agreement_id, name, state_parties)| (
                id.clone(),
                BoardEvent::Established {
                    id,
                    agreement_id,
                    name,
                    state_parties
                }
            )
        ),
        (id(), actor(), party(), role).prop_map(|(i, actor, party, role)| (
            i,
            BoardEvent::MemberAppointed { actor, party, role }
        )),
        (id(), actor(), text())
            .prop_map(|(i, actor, reason)| (i, BoardEvent::MemberRemoved { actor, reason })),
        (id(), id(), text(), subject(), actor(), documents()).prop_map(
            |(i, motion_id, title, subject, tabled_by, documents)| (
                i,
                BoardEvent::MotionTabled {
                    motion_id,
                    title,
                    subject,
                    tabled_by,
                    documents,
                }
            )
        ),
        (id(), party()).prop_map(|(i, party)| (i, BoardEvent::StatePartyAdmitted { party })),
        (id(), id(), actor(), party(), vote).prop_map(|(i, motion_id, actor, party, vote)| (
            i,
            BoardEvent::VoteCast {
                motion_id,
                actor,
                party,
                vote
            }
        )),
        (id(), id(), subject()).prop_map(|(i, motion_id, subject)| (
            i,
            BoardEvent::MotionAdopted { motion_id, subject }
        )),
        (id(), id(), party()).prop_map(|(i, motion_id, rejected_by)| (
            i,
            BoardEvent::MotionRejected {
                motion_id,
                rejected_by
            }
        )),
    ]
    .prop_map(|(i, e)| (i, S::Board(e)));
    let actor_event = prop_oneof![
        (
            actor(),
            text(),
            party(),
            text(),
            prop::collection::vec(any::<u8>(), 32)
        )
            .prop_map(|(id, name, party, role, public_key)| {
                (
                    AggregateId::new(id.to_string()).unwrap(),
                    ActorEvent::Registered {
                        id,
                        name,
                        party,
                        role,
                        public_key,
                    },
                )
            }),
        (id(), prop::collection::vec(any::<u8>(), 32), text())
            .prop_map(|(i, public_key, reason)| (i, ActorEvent::KeyRotated { public_key, reason })),
        (id(), text()).prop_map(|(i, reason)| (i, ActorEvent::KeyRevoked { reason })),
    ]
    .prop_map(|(i, e)| (i, S::Actor(e)));
    prop_oneof![agreement, commitment, board, actor_event]
}

fn project_event() -> impl Strategy<Value = (AggregateId, ProjectEvent)> {
    use ProjectEvent as E;
    let participant = (party(), text()).prop_map(|(party, role)| Participant { party, role });
    prop_oneof![
        (
            id(),
            text(),
            area(),
            "[A-Z]{2}",
            prop::collection::vec(participant, 0..3),
            proptest::option::of(id()),
            text()
        )
            .prop_map(
                |(id, title, area, host, participants, agreement_id, reason)| {
                    (
                        id.clone(),
                        E::Proposed {
                            id,
                            title,
                            area,
                            host_country: PartyId::new(host).unwrap(),
                            participants,
                            agreement_id,
                            reason,
                        },
                    )
                }
            ),
        (id(), id()).prop_map(|(i, motion_id)| (i, E::Approved { motion_id })),
        (id(), party(), money(), proptest::option::of(id())).prop_map(
            |(i, party, amount, commitment_id)| (
                i,
                E::FundingPledged {
                    party,
                    amount,
                    commitment_id
                }
            )
        ),
        (id(), party(), money())
            .prop_map(|(i, party, amount)| (i, E::FundingDisbursed { party, amount })),
        (id(), id(), text(), date()).prop_map(|(i, milestone_id, title, due)| (
            i,
            E::MilestonePlanned {
                milestone_id,
                title,
                due
            }
        )),
        (id(), id(), date()).prop_map(|(i, milestone_id, reached_on)| (
            i,
            E::MilestoneReached {
                milestone_id,
                reached_on
            }
        )),
        (id(), id(), date(), date(), text()).prop_map(
            |(i, milestone_id, previous_due, new_due, reason)| (
                i,
                E::MilestoneSlipped {
                    milestone_id,
                    previous_due,
                    new_due,
                    reason
                }
            )
        ),
        (id(), text(), quantity(), period()).prop_map(|(i, item, quantity, period)| (
            i,
            E::CapacityTargetSet {
                item,
                quantity,
                period
            }
        )),
        (id(), text(), quantity(), period(), party()).prop_map(
            |(i, item, quantity, period, supplier)| (
                i,
                E::OutputReported {
                    item,
                    quantity,
                    period,
                    supplier
                }
            )
        ),
        id().prop_map(|i| (i, E::Launched)),
        (id(), id(), date(), date()).prop_map(|(i, milestone_id, due, noticed_on)| (
            i,
            E::MilestoneOverdue {
                milestone_id,
                due,
                noticed_on
            }
        )),
        (
            id(),
            id(),
            text(),
            prop::collection::vec(party(), 1..4),
            text()
        )
            .prop_map(|(i, result_id, title, holders, reason)| (
                i,
                E::ResultRecorded {
                    result_id,
                    title,
                    holders,
                    reason
                }
            )),
        (id(), text()).prop_map(|(i, reason)| (i, E::Completed { reason })),
        (id(), text()).prop_map(|(i, reason)| (i, E::Cancelled { reason })),
    ]
}

fn procurement_event() -> impl Strategy<Value = ProcurementEvent> {
    use MarketEvent as M;
    let urgency = prop::sample::select(vec![
        Urgency::Routine,
        Urgency::Priority,
        Urgency::Urgent,
        Urgency::Critical,
    ]);
    let change = prop::sample::select(vec![
        PriorityChange::Granted,
        PriorityChange::Amended,
        PriorityChange::Withdrawn,
    ]);
    prop_oneof![
        (
            any::<u64>(),
            id(),
            party(),
            party(),
            prop::collection::vec("[a-z]{1,8}", 0..3),
            change
        )
            .prop_map(
                |(version, commitment_id, obligor, beneficiary, item_categories, change)| {
                    ProcurementEvent::Policy(PolicyUpdated {
                        version,
                        commitment_id,
                        obligor,
                        beneficiary,
                        item_categories,
                        change,
                    })
                }
            ),
        (
            id(),
            party(),
            text(),
            text(),
            quantity(),
            date(),
            urgency,
            any::<u64>()
        )
            .prop_map(
                |(request_id, party, item, item_category, quantity, need_by, urgency, sequence)| {
                    ProcurementEvent::Market(M::RequestSubmitted {
                        request_id,
                        party,
                        item,
                        item_category,
                        quantity,
                        need_by,
                        urgency,
                        sequence,
                    })
                }
            ),
        (
            id(),
            (party(), party()),
            text(),
            text(),
            quantity(),
            proptest::option::of(date()),
            proptest::option::of(id())
        )
            .prop_map(
                |(
                    supply_id,
                    (supplier, controlled_by),
                    item,
                    item_category,
                    quantity,
                    available_from,
                    project_id,
                )| {
                    ProcurementEvent::Market(M::SupplyOffered {
                        supply_id,
                        supplier,
                        controlled_by,
                        item,
                        item_category,
                        quantity,
                        available_from,
                        project_id,
                    })
                }
            ),
        (
            id(),
            id(),
            quantity(),
            any::<u32>(),
            any::<u64>(),
            any::<u32>(),
            text()
        )
            .prop_map(
                |(
                    supply_id,
                    request_id,
                    quantity,
                    rank,
                    policy_version,
                    policy_tier,
                    explanation,
                )| {
                    ProcurementEvent::Market(M::SupplyAllocated {
                        supply_id,
                        request_id,
                        quantity,
                        rank,
                        policy_version,
                        policy_tier,
                        explanation,
                    })
                }
            ),
        (id(), text()).prop_map(|(request_id, reason)| ProcurementEvent::Market(
            M::RequestFulfilled { request_id, reason }
        )),
        (id(), text()).prop_map(|(request_id, reason)| ProcurementEvent::Market(
            M::RequestCancelled { request_id, reason }
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn agreements_events_round_trip((aggregate, event) in agreements_event()) {
        let encoded = encode_agreements_event(&aggregate, &event);
        prop_assert!(encoded.event_type.starts_with("accord.v1."));
        prop_assert_eq!(decode_agreements_event(&encoded.event_type, &encoded.payload).unwrap(), event.clone());
        // And through the contract's JSON mapping, as clients in other languages see it.
        let json = accord_contracts::protobuf_to_json(&encoded.event_type, &encoded.payload).unwrap();
        let bytes = accord_contracts::json_to_protobuf(&encoded.event_type, &json.to_string()).unwrap();
        prop_assert_eq!(decode_agreements_event(&encoded.event_type, &bytes).unwrap(), event);
    }

    #[test]
    fn project_events_round_trip((aggregate, event) in project_event()) {
        let encoded = encode_project_event(&aggregate, &event);
        prop_assert_eq!(decode_project_event(&encoded.event_type, &encoded.payload).unwrap(), event.clone());
        let json = accord_contracts::protobuf_to_json(&encoded.event_type, &encoded.payload).unwrap();
        let bytes = accord_contracts::json_to_protobuf(&encoded.event_type, &json.to_string()).unwrap();
        prop_assert_eq!(decode_project_event(&encoded.event_type, &bytes).unwrap(), event);
    }

    #[test]
    fn procurement_events_round_trip(event in procurement_event()) {
        let encoded = encode_procurement_event(&event);
        prop_assert_eq!(decode_procurement_event(&encoded.event_type, encoded.schema_version, &encoded.payload).unwrap(), event.clone());
        let json = accord_contracts::protobuf_to_json(&encoded.event_type, &encoded.payload).unwrap();
        let bytes = accord_contracts::json_to_protobuf(&encoded.event_type, &json.to_string()).unwrap();
        prop_assert_eq!(decode_procurement_event(&encoded.event_type, encoded.schema_version, &bytes).unwrap(), event);
    }
}

#[test]
fn a_supply_offered_before_version_2_is_read_as_controlled_by_its_supplier() {
    use accord_contracts::v1 as pb;
    // Given a SupplyOffered as the code before schema version 2 wrote it
    let old = pb::SupplyOffered {
        supply_id: "s-1".into(),
        supplier: Some(pb::PartyRef {
            id: "lt-company".into(),
        }),
        item: "155mm shell".into(),
        item_category: "ammunition".into(),
        quantity: Some(pb::Quantity {
            amount: 10,
            unit: "shell".into(),
        }),
        available_from: None,
        project_id: String::new(),
        controlled_by: None,
    };
    let payload = prost::Message::encode_to_vec(&old);
    // When read at version 1, it is upcast; at version 2 the field is required
    let read = decode_procurement_event("accord.v1.SupplyOffered", 1, &payload).unwrap();
    assert!(matches!(
        read,
        ProcurementEvent::Market(accord_procurement::market::MarketEvent::SupplyOffered { ref controlled_by, ref supplier, .. })
            if controlled_by == supplier && supplier.as_str() == "lt-company"
    ));
    assert!(matches!(
        decode_procurement_event("accord.v1.SupplyOffered", 2, &payload),
        Err(BoundaryError::Missing {
            field: "controlled_by"
        })
    ));
    // And a version this build does not know is refused, not guessed
    assert!(matches!(
        decode_procurement_event("accord.v1.SupplyOffered", 3, &payload),
        Err(BoundaryError::UnknownSchemaVersion {
            version: 3,
            current: 2,
            ..
        })
    ));
    // And what today's code writes is version 2
    assert_eq!(
        encode_procurement_event(&read).schema_version,
        2,
        "SupplyOffered is written at its current version"
    );
}

#[test]
fn unknown_types_and_bad_payloads_are_typed_errors() {
    assert!(matches!(
        decode_agreements_event("accord.v1.ProjectLaunched", b""),
        Err(BoundaryError::UnknownEventType(_))
    ));
    assert!(matches!(
        decode_project_event("accord.v1.ProjectApproved", &[0xff, 0xff]),
        Err(BoundaryError::Decode { .. })
    ));
    // A message that decodes but carries an invalid value names the field.
    let bad_currency = prost::Message::encode_to_vec(&accord_contracts::v1::FundingPledged {
        project_id: "p".into(),
        party: Some(accord_contracts::v1::PartyRef { id: "LT".into() }),
        amount: Some(accord_contracts::v1::Money {
            minor_units: 5,
            currency: "euro".into(),
        }),
        commitment_id: String::new(),
    });
    assert!(matches!(
        decode_project_event("accord.v1.FundingPledged", &bad_currency),
        Err(BoundaryError::Invalid {
            field: "amount",
            ..
        })
    ));
    let no_party = prost::Message::encode_to_vec(&accord_contracts::v1::AgreementSigned {
        agreement_id: "a".into(),
        actor_id: "x".into(),
        party: None,
    });
    assert!(matches!(
        decode_agreements_event("accord.v1.AgreementSigned", &no_party),
        Err(BoundaryError::Missing { field: "party" })
    ));
}
