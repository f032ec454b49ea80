//! Commands at the boundary: JSON and protobuf bodies become domain commands, and
//! every kind of bad input becomes a typed error naming what is wrong.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::agreement::{AgreementCommand, AgreementStatus};
use accord_agreements::board::{MotionStatus, MotionSubject};
use accord_agreements::commitment::CommitmentCommand;
use accord_agreements::Authorisation;
use accord_boundary::*;
use accord_kernel::{ActorId, AggregateId, PartyId};

/// Facts for pure tests: one agreement in force, one adopted motion.
struct Known;

impl Facts for Known {
    fn agreement_status(&self, id: &AggregateId) -> AgreementStatus {
        if id.as_str() == "lt-ua" {
            AgreementStatus::InForce
        } else {
            AgreementStatus::None
        }
    }
    fn agreement_state_parties(&self, _: &AggregateId) -> Vec<PartyId> {
        vec![PartyId::new("LT").unwrap(), PartyId::new("UA").unwrap()]
    }
    fn open_commitments(&self, agreement: &AggregateId, party: &PartyId) -> Vec<AggregateId> {
        if agreement.as_str() == "lt-ua" && party.as_str() == "UA" {
            vec![AggregateId::new("c-rnd").unwrap()]
        } else {
            Vec::new()
        }
    }
    fn motion(&self, id: &AggregateId) -> Option<Authorisation> {
        (id.as_str() == "m1").then(|| Authorisation {
            board_id: AggregateId::new("board").unwrap(),
            motion_id: id.clone(),
            status: MotionStatus::Adopted,
            subject: MotionSubject::AmendCommitment {
                commitment_id: AggregateId::new("c1").unwrap(),
            },
        })
    }
}

fn actor() -> ActorId {
    ActorId::new("ua-umerov").unwrap()
}

fn parse_agreements_command(
    name: &str,
    body: Body<'_>,
    actor: &ActorId,
    facts: &dyn Facts,
) -> Result<AgreementsCommand, BoundaryError> {
    parse_command(
        AGREEMENTS_COMMANDS,
        name,
        body,
        &ParseContext { actor, facts },
    )
}

fn parse_project_command(
    name: &str,
    body: Body<'_>,
    facts: &dyn Facts,
) -> Result<(AggregateId, accord_projects::ProjectCommand), BoundaryError> {
    let context = ParseContext {
        actor: &actor(),
        facts,
    };
    parse_command(PROJECTS_COMMANDS, name, body, &context)
}

fn parse_procurement_command(
    name: &str,
    body: Body<'_>,
    facts: &dyn Facts,
) -> Result<ProcurementCommand, BoundaryError> {
    let context = ParseContext {
        actor: &actor(),
        facts,
    };
    parse_command(PROCUREMENT_COMMANDS, name, body, &context)
}

fn agreements(name: &str, json: &str) -> Result<AgreementsCommand, BoundaryError> {
    parse_agreements_command(name, Body::Json(json), &actor(), &Known)
}

#[test]
fn json_and_protobuf_bodies_parse_to_the_same_command() {
    let json = agreements("SignAgreement", r#"{"agreementId":"lt-ua"}"#).unwrap();
    let bytes = prost::Message::encode_to_vec(&accord_contracts::v1::SignAgreement {
        agreement_id: "lt-ua".into(),
    });
    let protobuf =
        parse_agreements_command("SignAgreement", Body::Protobuf(&bytes), &actor(), &Known)
            .unwrap();
    assert_eq!(json, protobuf);
    assert_eq!(
        json,
        AgreementsCommand::Agreement(
            AggregateId::new("lt-ua").unwrap(),
            AgreementCommand::Sign { actor: actor() }
        )
    );
}

#[test]
fn facts_from_other_aggregates_are_filled_in() {
    let command = agreements(
        "AmendCommitment",
        r#"{"commitmentId":"c1","motionId":"m1","reason":"board decision",
            "terms":{"procurementPriority":{"itemCategories":["ammunition"]}}}"#,
    )
    .unwrap();
    match command {
        AgreementsCommand::Commitment(_, CommitmentCommand::Amend { authorisation, .. }) => {
            assert_eq!(authorisation.status, MotionStatus::Adopted);
        }
        other => panic!("{other:?}"),
    }
    let err = agreements(
        "AmendCommitment",
        r#"{"commitmentId":"c1","motionId":"m-unknown","reason":"r","terms":{"other":{"description":"x"}}}"#,
    )
    .unwrap_err();
    assert_eq!(err, BoundaryError::UnknownMotion("m-unknown".into()));
}

#[test]
fn each_kind_of_bad_input_gets_its_own_error() {
    assert_eq!(
        agreements("LaunchRockets", "{}").unwrap_err(),
        BoundaryError::UnknownCommand("LaunchRockets".into())
    );
    assert!(matches!(
        agreements("SignAgreement", r#"{"agreementId":"a","extra":1}"#),
        Err(BoundaryError::UnknownField { .. })
    ));
    assert!(matches!(
        agreements("SignAgreement", r#"{"agreementId":"#),
        Err(BoundaryError::Json { .. })
    ));
    assert!(matches!(
        parse_agreements_command(
            "SignAgreement",
            Body::Protobuf(&[0xff, 0x01]),
            &actor(),
            &Known
        ),
        Err(BoundaryError::Decode { .. })
    ));
    assert!(matches!(
        agreements("SignAgreement", r#"{"agreementId":""}"#),
        Err(BoundaryError::Invalid {
            field: "agreement_id",
            ..
        })
    ));
    assert!(matches!(
        agreements("AcceptCommitment", r#"{"commitmentId":"c1","reason":"  "}"#),
        Err(BoundaryError::Invalid {
            field: "reason",
            ..
        })
    ));
    assert!(matches!(
        agreements(
            "DesignateSignatory",
            r#"{"agreementId":"a","actorId":"x","role":"r"}"#
        ),
        Err(BoundaryError::Missing { field: "party" })
    ));
    assert!(matches!(
        agreements("CastVote", r#"{"boardId":"b","motionId":"m1","vote":99}"#),
        Err(BoundaryError::UnknownEnum {
            field: "vote",
            value: 99
        })
    ));
    assert!(matches!(
        parse_project_command(
            "PledgeFunding",
            Body::Json(
                r#"{"projectId":"p","party":{"id":"LT"},"amount":{"minorUnits":"5","currency":"euro"}}"#
            ),
            &Known
        ),
        Err(BoundaryError::Invalid {
            field: "amount",
            ..
        })
    ));
    assert!(matches!(
        parse_procurement_command(
            "AllocateSupply",
            Body::Json(r#"{"supplyId":"s-none"}"#),
            &Known
        ),
        Err(BoundaryError::UnknownReference { kind: "supply", .. })
    ));
}

#[test]
fn supply_names_the_party_that_controls_it_or_is_its_suppliers() {
    use accord_procurement::market::MarketCommand;
    let offer = |controlled_by: &str| {
        parse_procurement_command(
            "OfferSupply",
            Body::Json(&format!(
                r#"{{"supplyId":"s-1","supplier":{{"id":"lt-works"}},{controlled_by}
                    "item":"155mm shell","itemCategory":"ammunition",
                    "quantity":{{"amount":"10","unit":"shell"}}}}"#
            )),
            &Known,
        )
    };
    let controller = |parsed: Result<ProcurementCommand, BoundaryError>| match parsed {
        Ok(ProcurementCommand::Market(_, MarketCommand::OfferSupply { controlled_by, .. })) => {
            controlled_by.to_string()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(controller(offer(r#""controlledBy":{"id":"LT"},"#)), "LT");
    assert_eq!(controller(offer("")), "lt-works", "default: the supplier");
    assert!(matches!(
        offer(r#""controlledBy":{"id":""},"#),
        Err(BoundaryError::Invalid {
            field: "controlled_by",
            ..
        })
    ));
    assert!(matches!(
        offer(r#""controlledBy":"LT","#),
        Err(BoundaryError::Json { .. })
    ));
}

#[test]
fn a_delivery_is_confirmed_or_disputed_alike_in_json_and_protobuf_and_bad_ones_are_refused() {
    for (name, confirm) in [("ConfirmDelivery", true), ("DisputeDelivery", false)] {
        let json = agreements(
            name,
            r#"{"commitmentId":"c-funding","quantity":{"amount":"500","unit":"EUR"},"reason":"received"}"#,
        )
        .unwrap();
        let quantity = Some(accord_contracts::v1::Quantity {
            amount: 500,
            unit: "EUR".into(),
        });
        let bytes = if confirm {
            prost::Message::encode_to_vec(&accord_contracts::v1::ConfirmDelivery {
                commitment_id: "c-funding".into(),
                quantity,
                reason: "received".into(),
            })
        } else {
            prost::Message::encode_to_vec(&accord_contracts::v1::DisputeDelivery {
                commitment_id: "c-funding".into(),
                quantity,
                reason: "received".into(),
            })
        };
        let protobuf =
            parse_agreements_command(name, Body::Protobuf(&bytes), &actor(), &Known).unwrap();
        assert_eq!(json, protobuf, "{name}");
        assert!(matches!(
            agreements(name, r#"{"commitmentId":"c-funding","reason":"r"}"#),
            Err(BoundaryError::Missing { field: "quantity" })
        ));
        assert!(matches!(
            agreements(
                name,
                r#"{"commitmentId":"c-funding","quantity":{"amount":"-1","unit":"EUR"},"reason":"r"}"#
            ),
            Err(BoundaryError::Invalid {
                field: "quantity",
                ..
            })
        ));
        assert!(matches!(
            agreements(
                name,
                r#"{"commitmentId":"c-funding","quantity":{"amount":"1","unit":"EUR"},"reason":" "}"#
            ),
            Err(BoundaryError::Invalid {
                field: "reason",
                ..
            })
        ));
    }
}

#[test]
fn a_research_result_names_its_holders_and_bad_ones_are_refused() {
    use accord_projects::ProjectCommand;
    let parsed = parse_project_command(
        "RecordResearchResult",
        Body::Json(
            r#"{"projectId":"rnd-1","resultId":"res-1","title":"Jammer prototype",
                "holders":[{"id":"UA"},{"id":"LT"}],"reason":"tested"}"#,
        ),
        &Known,
    )
    .unwrap();
    match parsed {
        (project, ProjectCommand::RecordResult { holders, .. }) => {
            assert_eq!(project.to_string(), "rnd-1");
            assert_eq!(
                holders.iter().map(ToString::to_string).collect::<Vec<_>>(),
                ["UA", "LT"]
            );
        }
        other => panic!("{other:?}"),
    }
    for (bad, field) in [
        (
            r#"{"projectId":"rnd-1","title":"t","holders":[{"id":"UA"}],"reason":"r"}"#,
            "result_id",
        ),
        (
            r#"{"projectId":"rnd-1","resultId":"r","title":"t","holders":[{"id":""}],"reason":"r"}"#,
            "holders",
        ),
        (
            r#"{"projectId":"rnd-1","resultId":"r","title":"","holders":[{"id":"UA"}],"reason":"r"}"#,
            "title",
        ),
    ] {
        match parse_project_command("RecordResearchResult", Body::Json(bad), &Known) {
            Err(BoundaryError::Invalid { field: f, .. }) => assert_eq!(f, field, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn a_withdrawal_states_the_partys_open_commitments_as_the_service_knows_them() {
    let parsed = agreements(
        "WithdrawFromAgreement",
        r#"{"agreementId":"lt-ua","party":{"id":"UA"},"reason":"national decision"}"#,
    )
    .unwrap();
    assert_eq!(
        parsed,
        AgreementsCommand::Agreement(
            AggregateId::new("lt-ua").unwrap(),
            AgreementCommand::Withdraw {
                party: PartyId::new("UA").unwrap(),
                open_commitments: vec![AggregateId::new("c-rnd").unwrap()],
                reason: "national decision".into(),
            }
        )
    );
    assert!(matches!(
        agreements(
            "WithdrawFromAgreement",
            r#"{"agreementId":"lt-ua","reason":"r"}"#
        ),
        Err(BoundaryError::Missing { field: "party" })
    ));
    // What the client might claim about its commitments is not the contract's.
    assert!(matches!(
        agreements(
            "WithdrawFromAgreement",
            r#"{"agreementId":"lt-ua","party":{"id":"UA"},"reason":"r","openCommitments":["c-x"]}"#
        ),
        Err(BoundaryError::UnknownField { .. })
    ));
}
