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

/// A generic NATS client sees a refusal without decoding the body: the reply carries
/// the Services API's two error headers (and Accord's code and reason), its body is
/// still the `ErrorReply`, and `$SRV.STATS` counts it in `num_errors`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_carry_the_service_error_headers_and_are_counted() {
    let nats = NatsServer::start();
    let raw = async_nats::connect(nats.url()).await.unwrap();
    let bus = Bus::Nats(NatsBus::from_client(raw.clone()));
    let client = accord_bus::AccordClient::new(bus.clone());
    let projects = Node::start(ServiceKind::Projects, &bus);
    wait_ready(&client, "projects").await;

    let stats = |raw: async_nats::Client| async move {
        let reply = raw
            .request("$SRV.STATS.accord-projects", "".into())
            .await
            .unwrap();
        let stats: serde_json::Value = serde_json::from_slice(&reply.payload).unwrap();
        let commands = stats["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "commands")
            .unwrap()
            .clone();
        (
            commands["num_requests"].as_u64().unwrap(),
            commands["num_errors"].as_u64().unwrap(),
            commands["last_error"].as_str().unwrap().to_owned(),
        )
    };
    let (requests_before, errors_before, _) = stats(raw.clone()).await;

    let mut refused = 0;
    for project in ["uav-nowhere", "ugv-nowhere", "usv-nowhere"] {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(headers::ACTOR, "ua-kamyshin");
        headers.insert(headers::CONTENT_TYPE, JSON);
        let reply = raw
            .request_with_headers(
                "accord.projects.cmd.LaunchProject",
                headers,
                format!(r#"{{"projectId":"{project}"}}"#).into(),
            )
            .await
            .unwrap();
        let got = reply.headers.as_ref().unwrap();
        assert_eq!(
            got.get(headers::SERVICE_ERROR_CODE).unwrap().as_str(),
            "404"
        );
        assert_eq!(got.get(headers::ERROR_CODE).unwrap().as_str(), "not_found");
        assert_eq!(
            got.get(headers::ERROR_REASON).unwrap().as_str(),
            "project_not_found"
        );
        let Some(Outcome::Error(error)) = decode_reply("LaunchProject", &reply.payload, true)
            .unwrap()
            .outcome
        else {
            panic!("the body is still the ErrorReply")
        };
        assert_eq!(error.code, "not_found");
        assert_eq!(error.details["stream"], format!("project/{project}"));
        assert_eq!(
            got.get(headers::SERVICE_ERROR).unwrap().as_str(),
            error.message
        );
        refused += 1;
    }
    // A query that succeeds carries neither header and is not an error.
    let ok = raw
        .request("accord.projects.q.LogStatus", "".into())
        .await
        .unwrap();
    assert!(ok
        .headers
        .as_ref()
        .is_none_or(|h| h.get(headers::SERVICE_ERROR).is_none()));

    let (requests, errors, last_error) = stats(raw.clone()).await;
    assert_eq!(requests - requests_before, refused);
    assert_eq!(errors - errors_before, refused);
    assert!(last_error.starts_with("404:"), "{last_error}");
    projects.stop().await;
}
