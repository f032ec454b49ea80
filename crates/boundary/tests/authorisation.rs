//! Who may do what, as the service definitions rule it (pure, no I/O): given an
//! authenticated sender and a command, when authorised, then allowed or refused
//! with `permission_denied` and the rule's reason.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_agreements::actor::{Actor, ActorCommand};
use accord_boundary::{
    AgreementsCommand, AgreementsModel, AgreementsState, Sender, ServiceDefinition,
};
use accord_kernel::{ActorId, AggregateId, PartyId, RefusalKind};

fn party(code: &str) -> PartyId {
    PartyId::new(code).unwrap()
}

fn admin_of(code: &str) -> Sender {
    Sender {
        actor: ActorId::new(format!("{}-admin", code.to_lowercase())).unwrap(),
        party: Some(party(code)),
        administers: Some(party(code)),
    }
}

fn registered(actor: &str, code: &str) -> Sender {
    Sender {
        actor: ActorId::new(actor).unwrap(),
        party: Some(party(code)),
        administers: None,
    }
}

fn register(actor: &str, code: &str) -> AgreementsCommand {
    AgreementsCommand::Actor(
        AggregateId::new(actor).unwrap(),
        ActorCommand::Register {
            id: ActorId::new(actor).unwrap(),
            name: actor.into(),
            party: party(code),
            role: "official".into(),
            public_key: vec![1; 32],
        },
    )
}

fn rotate(actor: &str) -> AgreementsCommand {
    AgreementsCommand::Actor(
        AggregateId::new(actor).unwrap(),
        ActorCommand::RotateKey {
            public_key: vec![2; 32],
            reason: "yearly".into(),
        },
    )
}

/// The registry holding ua-umerov of UA.
fn view() -> AgreementsState {
    let mut state = AgreementsState::default();
    state.actors.insert(
        "ua-umerov".into(),
        Actor {
            party: Some(party("UA")),
            public_key: Some(vec![1; 32]),
            ..Actor::default()
        },
    );
    state
}

fn denied(command: &AgreementsCommand, sender: &Sender) -> Option<(RefusalKind, &'static str)> {
    AgreementsModel::authorise(command, sender, &view())
        .err()
        .map(|refusal| (refusal.kind, refusal.reason))
}

#[test]
fn given_a_partys_administrator_when_it_registers_or_rotates_its_own_actors_then_allowed() {
    assert_eq!(denied(&register("ua-fedorov", "UA"), &admin_of("UA")), None);
    assert_eq!(denied(&rotate("ua-umerov"), &admin_of("UA")), None);
}

#[test]
fn given_another_partys_administrator_when_it_registers_or_rotates_then_refused() {
    let refused = Some((RefusalKind::PermissionDenied, "not_party_administrator"));
    assert_eq!(
        denied(&register("ua-fedorov", "UA"), &admin_of("LT")),
        refused
    );
    assert_eq!(denied(&rotate("ua-umerov"), &admin_of("LT")), refused);
}

#[test]
fn given_a_registered_actor_who_administers_nothing_when_it_registers_then_refused() {
    assert_eq!(
        denied(
            &register("ua-fedorov", "UA"),
            &registered("ua-umerov", "UA")
        ),
        Some((RefusalKind::PermissionDenied, "not_party_administrator"))
    );
}

#[test]
fn given_any_sender_when_the_command_is_not_a_registry_command_then_this_rule_allows_it() {
    let draft = AgreementsCommand::Agreement(
        AggregateId::new("lt-ua").unwrap(),
        accord_agreements::agreement::AgreementCommand::Suspend {
            reason: "review".into(),
        },
    );
    assert_eq!(denied(&draft, &registered("ua-umerov", "UA")), None);
}
