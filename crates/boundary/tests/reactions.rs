//! Reactions on the wire: each reaction's request parses, through the target
//! service's own command parser, back into exactly the command the reaction meant;
//! and every command name a service lists is one its parser knows.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::board::{MotionStatus, MotionSubject};
use accord_agreements::commitment::CommitmentCommand;
use accord_agreements::Authorisation;
use accord_boundary::reactions::{Reaction, REACTIONS_ACTOR};
use accord_boundary::*;
use accord_kernel::{ActorId, AggregateId, Date, PartyId, Quantity};
use accord_procurement::market::MarketCommand;
use accord_procurement::policy::{PriorityChange, UpdatePolicy};
use accord_projects::ProjectCommand;

/// Every motion is adopted, as the reaction that approves a project knows.
struct Adopted;

impl Facts for Adopted {
    fn motion(&self, id: &AggregateId) -> Option<Authorisation> {
        Some(Authorisation {
            board_id: AggregateId::new("board").unwrap(),
            motion_id: id.clone(),
            status: MotionStatus::Adopted,
            subject: MotionSubject::Other {
                description: "-".into(),
            },
        })
    }
}

fn id(value: &str) -> AggregateId {
    AggregateId::new(value).unwrap()
}

fn actor() -> ActorId {
    ActorId::new(REACTIONS_ACTOR).unwrap()
}

fn reactions() -> Vec<Reaction> {
    vec![
        Reaction::Project(
            id("uav-1"),
            ProjectCommand::Approve {
                motion_id: id("m-1"),
                motion_adopted: true,
            },
        ),
        Reaction::Commitment(
            id("funding-1"),
            CommitmentCommand::RecordProgress {
                allocated: Some(Quantity {
                    amount: 5_000_000_00,
                    unit: "EUR".into(),
                }),
                delivered: None,
                reason: "funding pledged to project uav-1".into(),
            },
        ),
        Reaction::Policy(UpdatePolicy {
            commitment_id: id("priority-1"),
            obligor: PartyId::new("LT").unwrap(),
            beneficiary: PartyId::new("UA").unwrap(),
            item_categories: vec!["uav".into(), "ammunition".into()],
            change: PriorityChange::Amended,
        }),
        Reaction::Market(
            "155mm shell".into(),
            MarketCommand::OfferSupply {
                supply_id: id("shells-output-2027-06-30"),
                supplier: PartyId::new("lt-company").unwrap(),
                item: "155mm shell".into(),
                item_category: "ammunition".into(),
                quantity: Quantity {
                    amount: 10_000,
                    unit: "shell".into(),
                },
                available_from: Some(Date::new(2027, 6, 30).unwrap()),
                project_id: Some(id("shells")),
            },
        ),
    ]
}

#[test]
fn every_reaction_request_parses_back_into_the_same_command() {
    for reaction in reactions() {
        let request = reaction.request().expect("a request");
        let body = Body::Protobuf(&request.body);
        let parsed = match request.service {
            "projects" => {
                let (project, command) =
                    parse_project_command(request.command, body, &Adopted).unwrap();
                Reaction::Project(project, command)
            }
            "agreements" => {
                match parse_agreements_command(request.command, body, &actor(), &Adopted).unwrap() {
                    AgreementsCommand::Commitment(id, command) => Reaction::Commitment(id, command),
                    other => panic!("not a commitment command: {other:?}"),
                }
            }
            "procurement" => {
                match parse_procurement_command(request.command, body, &Adopted).unwrap() {
                    ProcurementCommand::Policy(update) => Reaction::Policy(update),
                    ProcurementCommand::Market(item, command) => Reaction::Market(item, command),
                }
            }
            other => panic!("unknown service {other}"),
        };
        assert_eq!(parsed, reaction, "{}", request.command);
    }
}

#[test]
fn every_listed_command_is_known_to_its_parser_and_nothing_else_is() {
    let known = |error: &BoundaryError| !matches!(error, BoundaryError::UnknownCommand(_));
    for name in AGREEMENTS_COMMANDS {
        if let Err(error) = parse_agreements_command(name, Body::Protobuf(&[]), &actor(), &Adopted)
        {
            assert!(known(&error), "{name}: {error}");
        }
    }
    for name in PROJECTS_COMMANDS {
        if let Err(error) = parse_project_command(name, Body::Protobuf(&[]), &Adopted) {
            assert!(known(&error), "{name}: {error}");
        }
    }
    for name in PROCUREMENT_COMMANDS {
        if let Err(error) = parse_procurement_command(name, Body::Protobuf(&[]), &Adopted) {
            assert!(known(&error), "{name}: {error}");
        }
    }
    assert_eq!(
        parse_project_command("DraftAgreement", Body::Protobuf(&[]), &Adopted).unwrap_err(),
        BoundaryError::UnknownCommand("DraftAgreement".into())
    );
}
