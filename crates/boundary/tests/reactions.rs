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
                documents: Vec::new(),
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
                controlled_by: PartyId::new("lt-company").unwrap(),
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
        // The deadline watchers' notices.
        Reaction::Commitment(
            id("c-launch-time"),
            CommitmentCommand::NoticeOverdue {
                as_of: Date::new(2025, 7, 1).unwrap(),
            },
        ),
        Reaction::Project(
            id("rdx-plant"),
            ProjectCommand::NoticeMilestoneOverdue {
                milestone_id: id("construction-start"),
                as_of: Date::new(2025, 9, 2).unwrap(),
            },
        ),
    ]
}

#[test]
fn every_reaction_request_parses_back_into_the_same_command() {
    // Reactions are sent as the reactions actor, whose ApproveProject carries the
    // adopted motion's word.
    let reactions_actor = ActorId::new(REACTIONS_ACTOR).unwrap();
    let context = ParseContext {
        actor: &reactions_actor,
        facts: &Adopted,
    };
    for reaction in reactions() {
        let request = reaction.request().expect("a request");
        let body = Body::Protobuf(&request.body);
        let parsed = match request.service {
            "projects" => {
                let (project, command) =
                    parse_command(PROJECTS_COMMANDS, request.command, body, &context).unwrap();
                Reaction::Project(project, command)
            }
            "agreements" => {
                match parse_command(AGREEMENTS_COMMANDS, request.command, body, &context).unwrap() {
                    AgreementsCommand::Commitment(id, command) => Reaction::Commitment(id, command),
                    other => panic!("not a commitment command: {other:?}"),
                }
            }
            "procurement" => {
                match parse_command(PROCUREMENT_COMMANDS, request.command, body, &context).unwrap()
                {
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
fn every_command_in_a_table_is_parsed_by_its_own_message_and_nothing_else_is() {
    let context = ParseContext {
        actor: &actor(),
        facts: &Adopted,
    };
    let known = |error: &BoundaryError| !matches!(error, BoundaryError::UnknownCommand(_));
    // An empty protobuf body decodes as any message: the command is found, then
    // refused (or parsed) by its own parser, never unknown.
    let mut names = Vec::new();
    for name in command_names(AGREEMENTS_COMMANDS) {
        if let Err(error) = parse_command(AGREEMENTS_COMMANDS, name, Body::Protobuf(&[]), &context)
        {
            assert!(known(&error), "{name}: {error}");
        }
        names.push(name);
    }
    for name in command_names(PROJECTS_COMMANDS) {
        if let Err(error) = parse_command(PROJECTS_COMMANDS, name, Body::Protobuf(&[]), &context) {
            assert!(known(&error), "{name}: {error}");
        }
        names.push(name);
    }
    for name in command_names(PROCUREMENT_COMMANDS) {
        if let Err(error) = parse_command(PROCUREMENT_COMMANDS, name, Body::Protobuf(&[]), &context)
        {
            assert!(known(&error), "{name}: {error}");
        }
        names.push(name);
    }
    // 28 + 14 + 6 commands, each named once across the services.
    let distinct: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!((names.len(), distinct.len()), (48, 48));
    // A JSON body is decoded as the table's message: a field of another command's
    // message is unknown to it.
    assert!(matches!(
        parse_command(
            AGREEMENTS_COMMANDS,
            "SignAgreement",
            Body::Json(r#"{"commitmentId":"c1"}"#),
            &context
        ),
        Err(BoundaryError::UnknownField { .. })
    ));
    assert_eq!(
        parse_command(
            PROJECTS_COMMANDS,
            "DraftAgreement",
            Body::Protobuf(&[]),
            &context
        )
        .unwrap_err(),
        BoundaryError::UnknownCommand("DraftAgreement".into())
    );
}

#[test]
fn given_funding_pledged_against_a_commitment_when_it_is_disbursed_then_it_counts_as_delivered() {
    use accord_boundary::reactions::reactions_to_project;
    use accord_kernel::{Currency, Money};
    use accord_projects::{Pledge, Project, ProjectEvent};
    let eur = |minor_units| Money {
        minor_units,
        currency: Currency::new("EUR").unwrap(),
    };
    let lt = PartyId::new("LT").unwrap();
    let ua = PartyId::new("UA").unwrap();
    let project = Project {
        pledges: vec![
            Pledge {
                party: ua.clone(),
                amount: eur(3_00),
                commitment_id: None,
            },
            Pledge {
                party: lt.clone(),
                amount: eur(12_00),
                commitment_id: Some(id("c-funding")),
            },
        ],
        ..Project::default()
    };
    let disbursed = |party: &PartyId| ProjectEvent::FundingDisbursed {
        party: party.clone(),
        amount: eur(4_00),
    };
    assert_eq!(
        reactions_to_project(&id("rdx-plant"), &disbursed(&lt), || project.clone()),
        [Reaction::Commitment(
            id("c-funding"),
            CommitmentCommand::RecordProgress {
                allocated: None,
                delivered: Some(Quantity {
                    amount: 4_00,
                    unit: "EUR".into(),
                }),
                reason: "funding disbursed on project rdx-plant".into(),
                documents: Vec::new(),
            },
        )]
    );
    // Funding pledged against no commitment moves none.
    assert!(reactions_to_project(&id("rdx-plant"), &disbursed(&ua), || project.clone()).is_empty());
}
