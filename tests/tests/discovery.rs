//! Discovery through the NATS Services API, and what a client sees when a service is
//! not running.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::{AccordClient, Bus, BusError, ClientError, CommandOptions, NatsBus};
use accord_e2e::Services;
use accord_runtime::{
    command_names, AgreementsModel, ProcurementModel, ProjectsModel, ServiceDefinition,
};
use accord_testkit::NatsServer;

async fn request_json(client: &async_nats::Client, subject: &str) -> serde_json::Value {
    let reply = client.request(subject.to_owned(), "".into()).await.unwrap();
    serde_json::from_slice(&reply.payload).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srv_info_lists_each_services_endpoints() {
    let nats = NatsServer::start();
    let raw = async_nats::connect(nats.url()).await.unwrap();
    let bus = Bus::Nats(NatsBus::from_client(raw.clone()));
    let services = Services::start(&bus).await;

    // The lists come from the services' command tables, the same the parsers use.
    let tables = [
        command_names(<AgreementsModel as ServiceDefinition>::COMMANDS),
        command_names(<ProjectsModel as ServiceDefinition>::COMMANDS),
        command_names(<ProcurementModel as ServiceDefinition>::COMMANDS),
    ];
    for ((service, command, query), table) in [
        ("agreements", "DraftAgreement", "CommitmentLedger"),
        ("projects", "ApproveProject", "ProjectPortfolio"),
        ("procurement", "SubmitRequest", "ProcurementQueue"),
    ]
    .into_iter()
    .zip(tables)
    {
        let info = request_json(&raw, &format!("$SRV.INFO.accord-{service}")).await;
        assert_eq!(info["name"], format!("accord-{service}"));
        let mut endpoints = info["endpoints"].as_array().unwrap().clone();
        endpoints.sort_by_key(|e| e["name"].as_str().unwrap().to_owned());
        let subjects: Vec<&str> = endpoints
            .iter()
            .map(|e| e["subject"].as_str().unwrap())
            .collect();
        assert_eq!(
            subjects,
            [
                format!("accord.{service}.cmd.*"),
                format!("accord.{service}.q.*")
            ]
        );
        let commands = endpoints[0]["metadata"]["commands"].as_str().unwrap();
        assert!(commands.split(',').any(|c| c == command), "{commands}");
        assert_eq!(commands.split(',').collect::<Vec<_>>(), table);
        let queries = endpoints[1]["metadata"]["queries"].as_str().unwrap();
        assert!(queries.split(',').any(|q| q == query), "{queries}");
        assert!(queries.split(',').any(|q| q == "LogStatus"), "{queries}");

        let ping = request_json(&raw, &format!("$SRV.PING.accord-{service}")).await;
        assert_eq!(ping["type"], "io.nats.micro.v1.ping_response");
        let stats = request_json(&raw, &format!("$SRV.STATS.accord-{service}")).await;
        assert_eq!(stats["type"], "io.nats.micro.v1.stats_response");
    }
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_to_a_service_that_is_not_running_fails_with_a_clear_error() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "lonely").await.unwrap());
    let client = AccordClient::new(bus).with_timeout(Duration::from_secs(2));
    let error = client
        .command(
            "procurement",
            "SubmitRequest",
            Vec::new(),
            &CommandOptions::new("ua-mod"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ClientError::Bus(BusError::NoResponders { subject }) if subject == "accord.procurement.cmd.SubmitRequest"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "no service answers on accord.procurement.cmd.SubmitRequest: is it running?"
    );
    assert_eq!(error.code(), accord_contracts::ErrorCode::Unavailable);
}
