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
    fn board_agreement_parties(&self, board: &AggregateId) -> Vec<PartyId> {
        if board.as_str() != "board" {
            return Vec::new();
        }
        ["LT", "UA", "PL"]
            .map(|p| PartyId::new(p).unwrap())
            .to_vec()
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
                documents: Vec::new(),
            })
        } else {
            prost::Message::encode_to_vec(&accord_contracts::v1::DisputeDelivery {
                commitment_id: "c-funding".into(),
                quantity,
                reason: "received".into(),
                documents: Vec::new(),
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

const AGREEMENT_TEXT_SHA256: &str =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// Each command that cites documents, with a valid body lacking only them.
const CITING: &[(&str, &str)] = &[
    (
        "DraftAgreement",
        r#""agreementId":"a2","kind":"AGREEMENT_KIND_LETTER_OF_INTENT","title":"LoI","parties":[{"id":"LT"},{"id":"UA"}],"reason":"r""#,
    ),
    (
        "AmendAgreement",
        r#""agreementId":"lt-ua","summary":"s","motionId":"m1","reason":"r""#,
    ),
    (
        "ApproveAccession",
        r#""agreementId":"lt-ua","party":{"id":"PL"},"motionId":"m1","reason":"r""#,
    ),
    (
        "RecordCommitmentProgress",
        r#""commitmentId":"c1","delivered":{"amount":"5","unit":"EUR"},"reason":"r""#,
    ),
    (
        "ConfirmDelivery",
        r#""commitmentId":"c1","quantity":{"amount":"5","unit":"EUR"},"reason":"r""#,
    ),
    (
        "DisputeDelivery",
        r#""commitmentId":"c1","quantity":{"amount":"5","unit":"EUR"},"reason":"r""#,
    ),
    (
        "TableMotion",
        r#""boardId":"board","motionId":"m9","title":"t","subject":{"other":{"description":"d"}}"#,
    ),
];

fn document(sha256: &str) -> String {
    format!(
        r#"{{"title":"Agreement text","mediaType":"application/pdf","sha256":"{sha256}","location":"https://kam.lt/doc"}}"#
    )
}

#[test]
fn every_command_that_cites_documents_keeps_them_and_refuses_bad_ones() {
    for (name, body) in CITING {
        // Given a valid body, when it cites one document, then the command carries it.
        let with =
            |documents: &str| agreements(name, &format!(r#"{{{body},"documents":[{documents}]}}"#));
        let command = with(&document(AGREEMENT_TEXT_SHA256)).unwrap();
        let shown = format!("{command:?}");
        assert!(shown.contains(AGREEMENT_TEXT_SHA256), "{name}: {shown}");
        assert!(shown.contains("https://kam.lt/doc"), "{name}: {shown}");
        // Upper-case hex names the same document.
        let upper = with(&document(&AGREEMENT_TEXT_SHA256.to_uppercase())).unwrap();
        assert_eq!(upper, command, "{name}");
        // Without documents, the same command with none.
        let bare = agreements(name, &format!("{{{body}}}")).unwrap();
        assert!(
            !format!("{bare:?}").contains(AGREEMENT_TEXT_SHA256),
            "{name}"
        );
        // A hash that is not 64 hex digits, a document twice, too many documents, a
        // missing title or a media type without a subtype: typed errors, by field.
        let refused = |documents: String| {
            let error = with(&documents).unwrap_err();
            assert!(
                matches!(
                    error,
                    BoundaryError::Invalid {
                        field: "documents",
                        ..
                    }
                ),
                "{name}: {error:?}"
            );
        };
        refused(document(&AGREEMENT_TEXT_SHA256[..63]));
        refused(document(&AGREEMENT_TEXT_SHA256.replace('9', "z")));
        refused(format!(
            "{},{}",
            document(AGREEMENT_TEXT_SHA256),
            document(AGREEMENT_TEXT_SHA256)
        ));
        let many: Vec<String> = (0..17).map(|i| document(&format!("{i:064x}"))).collect();
        refused(many.join(","));
        refused(document(AGREEMENT_TEXT_SHA256).replace("Agreement text", ""));
        refused(document(AGREEMENT_TEXT_SHA256).replace("application/pdf", "pdf"));
        // An unknown field inside a document is refused like any unknown field.
        assert!(matches!(
            with(&document(AGREEMENT_TEXT_SHA256).replace("\"title\"", "\"name\"")),
            Err(BoundaryError::UnknownField { .. })
        ));
    }
}

#[test]
fn an_accession_and_a_seat_on_the_board_parse_alike_in_json_and_protobuf() {
    use accord_contracts::v1 as pb;
    let json = agreements(
        "ApproveAccession",
        r#"{"agreementId":"lt-ua","party":{"id":"PL"},"motionId":"m1","reason":"admitted"}"#,
    )
    .unwrap();
    let bytes = prost::Message::encode_to_vec(&pb::ApproveAccession {
        agreement_id: "lt-ua".into(),
        party: Some(pb::PartyRef { id: "PL".into() }),
        motion_id: "m1".into(),
        reason: "admitted".into(),
        documents: Vec::new(),
    });
    let protobuf =
        parse_agreements_command("ApproveAccession", Body::Protobuf(&bytes), &actor(), &Known)
            .unwrap();
    assert_eq!(json, protobuf);
    assert!(matches!(
        json,
        AgreementsCommand::Agreement(_, AgreementCommand::ApproveAccession { ref party, ref authorisation, .. })
            if party.as_str() == "PL" && authorisation.status == MotionStatus::Adopted
    ));
    assert!(matches!(
        agreements(
            "ApproveAccession",
            r#"{"agreementId":"lt-ua","party":{"id":"PL"},"motionId":"m-unknown","reason":"r"}"#
        ),
        Err(BoundaryError::UnknownMotion(_))
    ));
    assert!(matches!(
        agreements(
            "ApproveAccession",
            r#"{"agreementId":"lt-ua","motionId":"m1","reason":"r"}"#
        ),
        Err(BoundaryError::Missing { field: "party" })
    ));
    // The seat: the board's agreement's parties are filled in from what the service knows.
    let seat = agreements(
        "AdmitStateParty",
        r#"{"boardId":"board","party":{"id":"PL"}}"#,
    )
    .unwrap();
    match seat {
        AgreementsCommand::Board(
            _,
            accord_agreements::board::BoardCommand::AdmitStateParty {
                party,
                agreement_parties,
            },
        ) => {
            assert_eq!(party.as_str(), "PL");
            assert_eq!(
                agreement_parties,
                Known.board_agreement_parties(&AggregateId::new("board").unwrap())
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        agreements("AdmitStateParty", r#"{"boardId":"board"}"#),
        Err(BoundaryError::Missing { field: "party" })
    ));
}
