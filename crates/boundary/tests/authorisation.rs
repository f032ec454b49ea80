//! Who may do what in the agreements service, as its rule says (pure, no I/O):
//! given an authenticated sender and a command, when authorised, then allowed or
//! refused with `permission_denied` and the rule's reason. The projects and
//! procurement rules and the reactions' are in `authorisation_services.rs`.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::actor::{Actor, ActorCommand};
use accord_agreements::agreement::{Agreement, AgreementCommand, AgreementKind, AgreementStatus};
use accord_agreements::board::{Board, BoardCommand, BoardRole, Member};
use accord_agreements::commitment::{
    Commitment, CommitmentCommand, CommitmentKind, CommitmentTerms,
};
use accord_boundary::{
    AgreementsCommand, AgreementsModel, AgreementsState, Sender, ServiceDefinition,
};
use accord_kernel::{ActorId, AggregateId, PartyId, RefusalKind};

fn party(code: &str) -> PartyId {
    PartyId::new(code).unwrap()
}

fn id(value: &str) -> AggregateId {
    AggregateId::new(value).unwrap()
}

fn actor(value: &str) -> ActorId {
    ActorId::new(value).unwrap()
}

fn admin_of(code: &str) -> Sender {
    Sender {
        actor: actor(&format!("{}-admin", code.to_lowercase())),
        party: Some(party(code)),
        administers: Some(party(code)),
        service: None,
    }
}

fn person(name: &str, code: &str) -> Sender {
    Sender::actor_of(actor(name), Some(party(code)))
}

/// The agreements service as the scenario has it after its first steps: ua-umerov
/// (UA) and lt-kaunas (LT) registered, the LT–UA agreement drafted, c-funding owed
/// by LT to UA, and the board with lt-kaunas appointed by LT.
fn state() -> AgreementsState {
    let mut state = AgreementsState::default();
    for (name, code) in [("ua-umerov", "UA"), ("lt-kaunas", "LT")] {
        let registered = Actor {
            party: Some(party(code)),
            public_key: Some(vec![1; 32]),
            ..Actor::default()
        };
        state.actors.insert(name.into(), registered);
    }
    let agreement = Agreement {
        id: Some(id("lt-ua")),
        parties: vec![party("LT"), party("UA")],
        status: AgreementStatus::InForce,
        ..Agreement::default()
    };
    state.view.agreements.insert("lt-ua".into(), agreement);
    let commitment = Commitment {
        id: Some(id("c-funding")),
        agreement_id: Some(id("lt-ua")),
        obligor: Some(party("LT")),
        beneficiary: Some(party("UA")),
        ..Commitment::default()
    };
    state
        .view
        .commitments
        .insert("c-funding".into(), commitment);
    let mut board = Board {
        id: Some(id("board")),
        agreement_id: Some(id("lt-ua")),
        ..Board::default()
    };
    board.members.insert(
        actor("lt-kaunas"),
        Member {
            party: party("LT"),
            role: BoardRole::Member,
        },
    );
    state.view.boards.insert("board".into(), board);
    state
}

/// The refusal's kind and reason, or `None` when the rule allows the command.
fn denied(name: &str, command: &AgreementsCommand, sender: &Sender) -> Option<&'static str> {
    AgreementsModel::authorise(name, command, sender, &state())
        .err()
        .map(|refusal| {
            assert_eq!(refusal.kind, RefusalKind::PermissionDenied);
            refusal.reason
        })
}

fn register(name: &str, code: &str) -> AgreementsCommand {
    AgreementsCommand::Actor(
        id(name),
        ActorCommand::Register {
            id: actor(name),
            name: name.into(),
            party: party(code),
            role: "official".into(),
            public_key: vec![1; 32],
        },
    )
}

fn rotate(name: &str) -> AgreementsCommand {
    AgreementsCommand::Actor(
        id(name),
        ActorCommand::RotateKey {
            public_key: vec![2; 32],
            reason: "yearly".into(),
        },
    )
}

fn draft(parties: &[&str]) -> AgreementsCommand {
    AgreementsCommand::Agreement(
        id("lt-pl"),
        AgreementCommand::Draft {
            id: id("lt-pl"),
            kind: AgreementKind::Memorandum,
            title: "Memorandum".into(),
            parties: parties.iter().map(|code| party(code)).collect(),
            areas: vec![],
            reason: "talks".into(),
            documents: Vec::new(),
        },
    )
}

fn designate(name: &str, code: &str) -> AgreementsCommand {
    AgreementsCommand::Agreement(
        id("lt-ua"),
        AgreementCommand::DesignateSignatory {
            actor: actor(name),
            party: party(code),
            role: "minister".into(),
        },
    )
}

fn suspend(agreement: &str) -> AgreementsCommand {
    AgreementsCommand::Agreement(
        id(agreement),
        AgreementCommand::Suspend {
            reason: "review".into(),
        },
    )
}

fn appoint(name: &str, code: &str) -> AgreementsCommand {
    AgreementsCommand::Board(
        id("board"),
        BoardCommand::Appoint {
            actor: actor(name),
            party: party(code),
            role: BoardRole::Member,
        },
    )
}

fn commitment(command: CommitmentCommand) -> AgreementsCommand {
    AgreementsCommand::Commitment(id("c-funding"), command)
}

fn propose(obligor: &str, beneficiary: &str) -> AgreementsCommand {
    AgreementsCommand::Commitment(
        id("c-rd"),
        CommitmentCommand::Propose {
            id: id("c-rd"),
            agreement_id: id("lt-ua"),
            agreement_status: AgreementStatus::InForce,
            obligor: party(obligor),
            beneficiary: party(beneficiary),
            terms: CommitmentTerms {
                kind: CommitmentKind::Research {
                    topic: "counter-UAV".into(),
                },
                text: "joint research".into(),
            },
            due: None,
            reason: "agreed".into(),
            also_benefiting: Vec::new(),
        },
    )
}

fn accept() -> AgreementsCommand {
    commitment(CommitmentCommand::Accept {
        reason: "agreed".into(),
    })
}

fn record_progress() -> AgreementsCommand {
    commitment(CommitmentCommand::RecordProgress {
        allocated: None,
        delivered: None,
        reason: "first tranche".into(),
        documents: Vec::new(),
    })
}

#[test]
fn given_a_partys_administrator_when_it_registers_or_rotates_its_own_actors_then_allowed() {
    let ua = admin_of("UA");
    assert_eq!(
        denied("RegisterActor", &register("ua-fedorov", "UA"), &ua),
        None
    );
    assert_eq!(denied("RotateActorKey", &rotate("ua-umerov"), &ua), None);
}

#[test]
fn given_an_lt_administrator_when_it_registers_or_rotates_a_ua_actor_then_refused() {
    let lt = admin_of("LT");
    let refused = Some("not_party_administrator");
    assert_eq!(
        denied("RegisterActor", &register("ua-fedorov", "UA"), &lt),
        refused
    );
    assert_eq!(denied("RotateActorKey", &rotate("ua-umerov"), &lt), refused);
}

#[test]
fn given_a_registered_actor_who_administers_nothing_when_it_registers_then_refused() {
    assert_eq!(
        denied(
            "RegisterActor",
            &register("ua-fedorov", "UA"),
            &person("ua-umerov", "UA")
        ),
        Some("not_party_administrator")
    );
}

#[test]
fn given_an_actor_nobody_registered_when_its_key_is_rotated_then_the_rule_leaves_it_to_the_decider()
{
    assert_eq!(
        denied("RotateActorKey", &rotate("ua-nobody"), &admin_of("LT")),
        None
    );
}

#[test]
fn given_an_actor_of_a_party_when_it_drafts_an_agreement_of_its_party_then_allowed() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(denied("DraftAgreement", &draft(&["LT", "PL"]), &lt), None);
}

#[test]
fn given_an_actor_of_another_party_when_it_drafts_then_refused() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(
        denied("DraftAgreement", &draft(&["LT", "PL"]), &ua),
        Some("not_own_party")
    );
}

#[test]
fn given_a_ua_actor_when_it_designates_a_ua_signatory_then_allowed() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(
        denied("DesignateSignatory", &designate("ua-umerov", "UA"), &ua),
        None
    );
}

#[test]
fn given_an_lt_actor_when_it_designates_a_ua_signatory_then_refused() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        denied("DesignateSignatory", &designate("ua-umerov", "UA"), &lt),
        Some("not_own_party")
    );
}

#[test]
fn given_a_ua_actor_when_it_designates_an_lt_actor_for_ua_then_refused() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(
        denied("DesignateSignatory", &designate("lt-kaunas", "UA"), &ua),
        Some("actor_of_other_party")
    );
}

#[test]
fn given_a_party_to_the_agreement_when_it_suspends_it_then_allowed() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(denied("SuspendAgreement", &suspend("lt-ua"), &lt), None);
}

#[test]
fn given_an_outsider_when_it_suspends_the_agreement_then_refused() {
    let pl = person("pl-procurement", "PL");
    assert_eq!(
        denied("SuspendAgreement", &suspend("lt-ua"), &pl),
        Some("not_own_party")
    );
}

#[test]
fn given_an_agreement_nobody_drafted_when_it_is_suspended_then_the_rule_leaves_it_to_the_decider() {
    let pl = person("pl-procurement", "PL");
    assert_eq!(denied("SuspendAgreement", &suspend("nowhere"), &pl), None);
}

#[test]
fn given_a_party_when_it_appoints_its_own_board_member_then_allowed() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(
        denied("AppointBoardMember", &appoint("ua-umerov", "UA"), &ua),
        None
    );
}

#[test]
fn given_a_party_when_it_appoints_for_another_party_or_another_partys_actor_then_refused() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        denied("AppointBoardMember", &appoint("ua-umerov", "UA"), &lt),
        Some("not_own_party")
    );
    assert_eq!(
        denied("AppointBoardMember", &appoint("ua-umerov", "LT"), &lt),
        Some("actor_of_other_party")
    );
}

#[test]
fn given_a_board_member_when_its_own_party_or_another_removes_it_then_only_its_own_may() {
    let remove = AgreementsCommand::Board(
        id("board"),
        BoardCommand::Remove {
            actor: actor("lt-kaunas"),
            reason: "rotation".into(),
        },
    );
    let lt = person("lt-admin", "LT");
    let ua = person("ua-umerov", "UA");
    assert_eq!(denied("RemoveBoardMember", &remove, &lt), None);
    assert_eq!(
        denied("RemoveBoardMember", &remove, &ua),
        Some("not_own_party")
    );
}

#[test]
fn given_the_obligors_actor_when_it_proposes_a_commitment_then_allowed() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(denied("ProposeCommitment", &propose("LT", "UA"), &lt), None);
}

#[test]
fn given_the_beneficiarys_actor_when_it_proposes_the_obligors_commitment_then_refused() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(
        denied("ProposeCommitment", &propose("LT", "UA"), &ua),
        Some("not_obligor")
    );
}

#[test]
fn given_the_beneficiarys_actor_when_it_accepts_the_commitment_then_allowed() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(denied("AcceptCommitment", &accept(), &ua), None);
}

#[test]
fn given_the_obligors_actor_when_it_accepts_its_own_commitment_then_refused() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        denied("AcceptCommitment", &accept(), &lt),
        Some("not_beneficiary")
    );
}

#[test]
fn given_the_obligors_actor_when_it_records_progress_then_allowed() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        denied("RecordCommitmentProgress", &record_progress(), &lt),
        None
    );
}

#[test]
fn given_the_beneficiarys_actor_when_it_records_progress_on_the_obligors_commitment_then_refused() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(
        denied("RecordCommitmentProgress", &record_progress(), &ua),
        Some("not_obligor")
    );
}

#[test]
fn given_the_projects_services_key_when_its_reaction_records_progress_then_allowed() {
    let service = Sender {
        service: Some("projects".into()),
        ..person("accord-projects", "LT")
    };
    assert_eq!(
        denied("RecordCommitmentProgress", &record_progress(), &service),
        None
    );
}

#[test]
fn given_the_procurement_services_key_when_it_sends_a_command_no_flow_of_it_sends_then_refused() {
    let service = Sender {
        service: Some("procurement".into()),
        ..person("accord-procurement", "LT")
    };
    assert_eq!(
        denied("RecordCommitmentProgress", &record_progress(), &service),
        Some("not_a_reaction")
    );
}

fn answer_delivery(confirm: bool) -> AgreementsCommand {
    let quantity = accord_kernel::Quantity::new(10, "EUR").unwrap();
    let reason = "counted on arrival".to_owned();
    commitment(if confirm {
        CommitmentCommand::ConfirmDelivery {
            quantity,
            reason,
            documents: Vec::new(),
        }
    } else {
        CommitmentCommand::DisputeDelivery {
            quantity,
            reason,
            documents: Vec::new(),
        }
    })
}

#[test]
fn given_the_beneficiarys_actor_when_it_confirms_or_disputes_a_delivery_then_allowed() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(denied("ConfirmDelivery", &answer_delivery(true), &ua), None);
    assert_eq!(
        denied("DisputeDelivery", &answer_delivery(false), &ua),
        None
    );
}

#[test]
fn given_the_obligors_actor_when_it_confirms_or_disputes_its_own_delivery_then_refused() {
    let lt = person("lt-kaunas", "LT");
    for (name, confirm) in [("ConfirmDelivery", true), ("DisputeDelivery", false)] {
        assert_eq!(
            denied(name, &answer_delivery(confirm), &lt),
            Some("not_beneficiary"),
            "{name}"
        );
    }
}

fn withdraw(code: &str) -> AgreementsCommand {
    AgreementsCommand::Agreement(
        id("lt-ua"),
        AgreementCommand::Withdraw {
            party: party(code),
            open_commitments: vec![],
            reason: "national decision".into(),
        },
    )
}

#[test]
fn given_a_partys_actor_when_it_withdraws_its_own_party_or_another_then_only_its_own() {
    let ua = person("ua-umerov", "UA");
    assert_eq!(denied("WithdrawFromAgreement", &withdraw("UA"), &ua), None);
    assert_eq!(
        denied("WithdrawFromAgreement", &withdraw("LT"), &ua),
        Some("not_own_party")
    );
}

fn take_seat(code: &str) -> AgreementsCommand {
    AgreementsCommand::Board(
        id("board"),
        BoardCommand::AdmitStateParty {
            party: party(code),
            agreement_parties: vec![party("LT"), party("UA"), party(code)],
        },
    )
}

#[test]
fn given_an_acceded_state_when_its_own_actor_takes_its_board_seat_then_allowed_and_others_refused()
{
    let pl = person("pl-minister", "PL");
    assert_eq!(denied("AdmitStateParty", &take_seat("PL"), &pl), None);
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        denied("AdmitStateParty", &take_seat("PL"), &lt),
        Some("not_own_party")
    );
}

#[test]
fn given_an_accession_when_a_party_records_it_then_allowed_and_the_acceding_state_itself_refused() {
    let approve = AgreementsCommand::Agreement(
        id("lt-ua"),
        AgreementCommand::ApproveAccession {
            party: party("PL"),
            authorisation: accord_agreements::Authorisation {
                board_id: id("board"),
                motion_id: id("m-admit"),
                status: accord_agreements::board::MotionStatus::Adopted,
                subject: accord_agreements::board::MotionSubject::AdmitParty {
                    agreement_id: id("lt-ua"),
                    party: party("PL"),
                },
            },
            reason: "admitted".into(),
            documents: Vec::new(),
        },
    );
    let lt = person("lt-kaunas", "LT");
    assert_eq!(denied("ApproveAccession", &approve, &lt), None);
    // Not yet a party: the parties record the accession the board decided.
    let pl = person("pl-minister", "PL");
    assert_eq!(
        denied("ApproveAccession", &approve, &pl),
        Some("not_own_party")
    );
}

#[test]
fn given_a_commitment_for_several_parties_when_another_beneficiary_answers_a_delivery_then_allowed_but_not_the_obligor(
) {
    let mut state = state();
    let held = state.view.commitments.get_mut("c-funding").unwrap();
    // LT's funding benefits UA, and PL and LT itself as well.
    held.also_benefiting = vec![party("PL"), party("LT")];
    let rule = |name: &str, sender: &Sender| {
        AgreementsModel::authorise(
            name,
            &answer_delivery(name == "ConfirmDelivery"),
            sender,
            &state,
        )
        .err()
        .map(|refusal| refusal.reason)
    };
    for name in ["ConfirmDelivery", "DisputeDelivery"] {
        assert_eq!(rule(name, &person("pl-minister", "PL")), None, "{name}");
        assert_eq!(rule(name, &person("ua-umerov", "UA")), None, "{name}");
        assert_eq!(
            rule(name, &person("lt-kaunas", "LT")),
            Some("not_beneficiary"),
            "{name}"
        );
        assert_eq!(
            rule(name, &person("ee-minister", "EE")),
            Some("not_beneficiary"),
            "{name}"
        );
    }
    // Accepting stays the beneficiary's own.
    assert_eq!(
        AgreementsModel::authorise(
            "AcceptCommitment",
            &accept(),
            &person("pl-minister", "PL"),
            &state
        )
        .err()
        .map(|refusal| refusal.reason),
        Some("not_beneficiary")
    );
}
