//! Who may do what in the projects and procurement services, and what reactions
//! may send (pure, no I/O): given an authenticated sender and a command, when
//! authorised, then allowed or refused with `permission_denied` and the rule's
//! reason.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_boundary::{
    ProcurementCommand, ProcurementModel, ProcurementState, ProjectsModel, ProjectsState, Sender,
    ServiceDefinition,
};
use accord_kernel::{
    ActorId, AggregateId, CapabilityArea, Currency, Date, Money, PartyId, Quantity, RefusalKind,
};
use accord_procurement::market::{Market, MarketCommand, Request, RequestStatus, Urgency};
use accord_procurement::policy::{PriorityChange, UpdatePolicy};
use accord_projects::{Participant, Project, ProjectCommand};

fn party(code: &str) -> PartyId {
    PartyId::new(code).unwrap()
}

fn id(value: &str) -> AggregateId {
    AggregateId::new(value).unwrap()
}

fn person(name: &str, code: &str) -> Sender {
    Sender::actor_of(ActorId::new(name).unwrap(), Some(party(code)))
}

fn service_key(service: &str) -> Sender {
    Sender {
        service: Some(service.into()),
        ..person(&format!("accord-{service}"), "LT")
    }
}

fn participant(code: &str, role: &str) -> Participant {
    Participant {
        party: party(code),
        role: role.into(),
    }
}

/// The projects service holding p-uav, a UA-hosted project with an LT partner.
fn projects_state() -> ProjectsState {
    let mut state = ProjectsState::default();
    let project = Project {
        id: Some(id("p-uav")),
        host_country: Some(party("UA")),
        participants: vec![participant("LT", "partner")],
        ..Project::default()
    };
    state.portfolio.projects.insert("p-uav".into(), project);
    state
}

fn project_denied(name: &str, command: ProjectCommand, sender: &Sender) -> Option<&'static str> {
    ProjectsModel::authorise(name, &(id("p-uav"), command), sender, &projects_state())
        .err()
        .map(|refusal| {
            assert_eq!(refusal.kind, RefusalKind::PermissionDenied);
            refusal.reason
        })
}

fn propose_project(host: &str, partner: &str) -> ProjectCommand {
    ProjectCommand::Propose {
        id: id("p-uav"),
        title: "Interceptor UAVs".into(),
        area: CapabilityArea::Uav,
        host_country: party(host),
        participants: vec![participant(partner, "partner")],
        agreement_id: Some(id("lt-ua")),
        reason: "joint production".into(),
    }
}

fn pledge(code: &str) -> ProjectCommand {
    ProjectCommand::PledgeFunding {
        party: party(code),
        amount: Money::new(1_000_000, Currency::new("EUR").unwrap()).unwrap(),
        commitment_id: None,
    }
}

fn approve() -> ProjectCommand {
    ProjectCommand::Approve {
        motion_id: id("m-1"),
        motion_adopted: true,
    }
}

/// The procurement service with one open UA request for shells.
fn procurement_state() -> ProcurementState {
    let mut state = ProcurementState::default();
    let mut market = Market::default();
    market.requests.insert(
        id("r-ua-1"),
        Request {
            party: party("UA"),
            item_category: "ammunition".into(),
            quantity: 1000,
            need_by: Date::new(2025, 6, 1).unwrap(),
            urgency: Urgency::Urgent,
            sequence: 1,
            allocated: 0,
            status: RequestStatus::Open,
        },
    );
    state.view.markets.insert("shells-155".into(), market);
    state
}

fn procurement_denied(
    name: &str,
    command: ProcurementCommand,
    sender: &Sender,
) -> Option<&'static str> {
    ProcurementModel::authorise(name, &command, sender, &procurement_state())
        .err()
        .map(|refusal| {
            assert_eq!(refusal.kind, RefusalKind::PermissionDenied);
            refusal.reason
        })
}

fn submit_request(code: &str) -> ProcurementCommand {
    ProcurementCommand::Market(
        "shells-155".into(),
        MarketCommand::SubmitRequest {
            request_id: id("r-2"),
            party: party(code),
            item: "shells-155".into(),
            item_category: "ammunition".into(),
            quantity: Quantity::new(500, "rounds").unwrap(),
            need_by: Date::new(2025, 9, 1).unwrap(),
            urgency: Urgency::Priority,
        },
    )
}

fn offer_supply(code: &str) -> ProcurementCommand {
    offer_supply_of(code, code)
}

/// Supply offered by `supplier` (a party, or a company of one), controlled by `controller`.
fn offer_supply_of(supplier: &str, controller: &str) -> ProcurementCommand {
    ProcurementCommand::Market(
        "shells-155".into(),
        MarketCommand::OfferSupply {
            supply_id: id("s-1"),
            supplier: party(supplier),
            controlled_by: party(controller),
            item: "shells-155".into(),
            item_category: "ammunition".into(),
            quantity: Quantity::new(500, "rounds").unwrap(),
            available_from: None,
            project_id: None,
        },
    )
}

fn fulfil_ua_request() -> ProcurementCommand {
    ProcurementCommand::Market(
        "shells-155".into(),
        MarketCommand::Fulfil {
            request_id: id("r-ua-1"),
            reason: "delivered".into(),
        },
    )
}

fn update_policy() -> ProcurementCommand {
    ProcurementCommand::Policy(UpdatePolicy {
        commitment_id: id("c-priority"),
        obligor: party("LT"),
        beneficiary: party("UA"),
        item_categories: vec!["ammunition".into()],
        change: PriorityChange::Granted,
    })
}

#[test]
fn given_the_host_or_a_participant_when_it_proposes_the_project_then_allowed() {
    let ua = person("ua-fedorov", "UA");
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        project_denied("ProposeProject", propose_project("UA", "LT"), &ua),
        None
    );
    assert_eq!(
        project_denied("ProposeProject", propose_project("UA", "LT"), &lt),
        None
    );
}

#[test]
fn given_an_outsider_when_it_proposes_a_project_for_others_then_refused() {
    let pl = person("pl-procurement", "PL");
    assert_eq!(
        project_denied("ProposeProject", propose_project("UA", "LT"), &pl),
        Some("not_project_participant")
    );
}

#[test]
fn given_a_participant_when_it_launches_the_project_then_allowed() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        project_denied("LaunchProject", ProjectCommand::Launch, &lt),
        None
    );
}

#[test]
fn given_an_outsider_when_it_launches_the_project_then_refused() {
    let pl = person("pl-procurement", "PL");
    assert_eq!(
        project_denied("LaunchProject", ProjectCommand::Launch, &pl),
        Some("not_project_participant")
    );
}

#[test]
fn given_a_participant_when_it_pledges_its_own_funds_then_allowed() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(project_denied("PledgeFunding", pledge("LT"), &lt), None);
}

#[test]
fn given_a_participant_when_it_pledges_another_partys_funds_then_refused() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        project_denied("PledgeFunding", pledge("UA"), &lt),
        Some("not_own_party")
    );
}

#[test]
fn given_a_person_when_it_approves_a_project_then_refused_as_reaction_only() {
    let ua = person("ua-fedorov", "UA");
    assert_eq!(
        project_denied("ApproveProject", approve(), &ua),
        Some("reaction_only")
    );
}

#[test]
fn given_the_agreements_services_key_when_its_reaction_approves_a_project_then_allowed() {
    assert_eq!(
        project_denied("ApproveProject", approve(), &service_key("agreements")),
        None
    );
}

#[test]
fn given_a_service_key_when_it_sends_what_its_reactions_do_not_then_refused() {
    let refused = Some("not_a_reaction");
    let procurement = service_key("procurement");
    assert_eq!(
        project_denied("ApproveProject", approve(), &procurement),
        refused
    );
    let agreements = service_key("agreements");
    assert_eq!(
        project_denied("LaunchProject", ProjectCommand::Launch, &agreements),
        refused
    );
}

#[test]
fn given_a_party_when_it_requests_supply_for_itself_then_allowed() {
    let ua = person("ua-procurement", "UA");
    assert_eq!(
        procurement_denied("SubmitRequest", submit_request("UA"), &ua),
        None
    );
}

#[test]
fn given_a_party_when_it_requests_supply_for_another_party_then_refused() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        procurement_denied("SubmitRequest", submit_request("UA"), &lt),
        Some("not_own_party")
    );
}

#[test]
fn given_a_party_when_it_offers_its_own_supply_or_another_partys_then_only_its_own_is_allowed() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        procurement_denied("OfferSupply", offer_supply("LT"), &lt),
        None
    );
    assert_eq!(
        procurement_denied("OfferSupply", offer_supply("PL"), &lt),
        Some("not_own_party")
    );
}

#[test]
fn given_a_company_of_a_party_when_that_party_offers_its_supply_then_allowed_and_nobody_else() {
    let lt = person("lt-kaunas", "LT");
    let pl = person("pl-procurement", "PL");
    // Lithuania offers the supply of a Lithuanian company as its own.
    assert_eq!(
        procurement_denied("OfferSupply", offer_supply_of("lt-company", "LT"), &lt),
        None
    );
    // Poland may not claim Lithuanian control of supply (nor its own of Lithuania's).
    assert_eq!(
        procurement_denied("OfferSupply", offer_supply_of("pl-company", "LT"), &pl),
        Some("not_own_party")
    );
    assert_eq!(
        procurement_denied("OfferSupply", offer_supply_of("lt-company", "LT"), &pl),
        Some("not_own_party")
    );
}

#[test]
fn given_a_ua_request_when_ua_or_lt_fulfils_it_then_only_ua_may() {
    let ua = person("ua-procurement", "UA");
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        procurement_denied("FulfilRequest", fulfil_ua_request(), &ua),
        None
    );
    assert_eq!(
        procurement_denied("FulfilRequest", fulfil_ua_request(), &lt),
        Some("not_own_party")
    );
}

#[test]
fn given_the_projects_services_key_when_its_reaction_offers_supply_then_allowed() {
    assert_eq!(
        procurement_denied("OfferSupply", offer_supply("LT"), &service_key("projects")),
        None
    );
}

#[test]
fn given_a_person_or_the_agreements_key_when_the_policy_is_updated_then_only_the_reaction_may() {
    let lt = person("lt-kaunas", "LT");
    assert_eq!(
        procurement_denied("UpdatePriorityPolicy", update_policy(), &lt),
        Some("reaction_only")
    );
    assert_eq!(
        procurement_denied(
            "UpdatePriorityPolicy",
            update_policy(),
            &service_key("agreements")
        ),
        None
    );
}

#[test]
fn given_the_projects_own_key_when_its_watcher_notices_a_milestone_overdue_then_allowed_and_nobody_else(
) {
    let notice = || ProjectCommand::NoticeMilestoneOverdue {
        milestone_id: id("construction-start"),
        as_of: Date::new(2025, 9, 2).unwrap(),
    };
    assert_eq!(
        project_denied("NoticeMilestoneOverdue", notice(), &service_key("projects")),
        None
    );
    // Not a person, however involved; not another service's key.
    assert_eq!(
        project_denied(
            "NoticeMilestoneOverdue",
            notice(),
            &person("ua-fedorov", "UA")
        ),
        Some("reaction_only")
    );
    assert_eq!(
        project_denied(
            "NoticeMilestoneOverdue",
            notice(),
            &service_key("agreements")
        ),
        Some("not_a_reaction")
    );
}
