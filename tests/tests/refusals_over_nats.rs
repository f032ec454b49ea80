//! Domain refusals of the projects and procurement services over a real
//! nats-server, as a client in any language reads them: the code of the rule's
//! kind and the rule's own reason, never a bare `rejected` (the agreements service's
//! are in `bad_input.rs`; every variant's code and reason in the runtime's
//! `refusals.rs`).

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::{decode_reply, headers, Bus, Message, NatsBus, JSON};
use accord_contracts::v1::reply::Outcome;
use accord_e2e::{wait_ready, Node};
use accord_runtime::ServiceKind;
use accord_testkit::NatsServer;

async fn send(bus: &Bus, service: &str, command: &str, body: &str) -> Outcome {
    let request = Message::new(
        format!("accord.{service}.cmd.{command}"),
        body.as_bytes().to_vec(),
    )
    .with_header(headers::ACTOR, "ua-kamyshin")
    .with_header(headers::CONTENT_TYPE, JSON);
    let reply = bus.request(request, Duration::from_secs(10)).await.unwrap();
    decode_reply(command, &reply.payload, true)
        .unwrap()
        .outcome
        .unwrap()
}

fn refusal(outcome: Outcome) -> (String, String, std::collections::HashMap<String, String>) {
    let Outcome::Error(error) = outcome else {
        panic!("expected a refusal, got {outcome:?}")
    };
    (error.code, error.reason, error.details)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_and_procurement_refusals_carry_their_rules_reasons() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "refusals").await.unwrap());
    let client = accord_bus::AccordClient::new(bus.clone());
    let projects = Node::start(ServiceKind::Projects, &bus);
    let procurement = Node::start(ServiceKind::Procurement, &bus);
    wait_ready(&client, "projects").await;
    wait_ready(&client, "procurement").await;

    // Launching a project nobody proposed: not found.
    let (code, reason, _) = refusal(
        send(
            &bus,
            "projects",
            "LaunchProject",
            r#"{"projectId":"uav-nowhere"}"#,
        )
        .await,
    );
    assert_eq!(
        (code.as_str(), reason.as_str()),
        ("not_found", "project_not_found")
    );

    // The same request submitted twice: the second is a conflict naming the request.
    let submit = r#"{"requestId":"req-pl-shells","requestingParty":{"id":"PL"},
        "item":"155mm shell","itemCategory":"ammunition",
        "quantity":{"amount":"6000","unit":"shell"},
        "needBy":{"year":2025,"month":4,"day":1},"urgency":"URGENCY_CRITICAL"}"#;
    assert!(matches!(
        send(&bus, "procurement", "SubmitRequest", submit).await,
        Outcome::Command(_)
    ));
    let (code, reason, details) = refusal(send(&bus, "procurement", "SubmitRequest", submit).await);
    assert_eq!(
        (code.as_str(), reason.as_str()),
        ("conflict", "request_exists")
    );
    assert_eq!(details["request"], "req-pl-shells");
    projects.stop().await;
    procurement.stop().await;
}
