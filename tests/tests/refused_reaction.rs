//! A reaction its target refuses for good, over a real nats-server: the board adopts
//! a motion approving a project the projects service never heard of. The reaction
//! flow sends `ApproveProject`, the projects service refuses it and appends nothing,
//! and the flow counts the command as refused on its metrics instead of retrying it,
//! and keeps it as a dead letter: sent again once the project is proposed, it
//! approves the project.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use accord_bus::{dead_letter_stream_name, headers, AccordClient, Bus, Message, NatsBus};
use accord_contracts::v1 as pb;
use accord_e2e::{metrics_with, project_statuses, reacting_services, send_step_retrying, PATIENCE};
use accord_scenario::Scenario;
use accord_testkit::NatsServer;
use prost::Message as _;

const REFUSED: &str = "accord_reaction_commands_total{service=\"agreements\",flow=\"react-motion-adopted\",outcome=\"refused\"} 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_refused_for_good_is_counted_and_changes_nothing() {
    let nats = NatsServer::start();
    let raw = async_nats::connect(nats.url()).await.unwrap();
    let bus = Bus::Nats(NatsBus::from_client(raw.clone()));
    let (agreements, projects, metrics) = reacting_services(&bus).await;
    let client = AccordClient::new(bus.clone());

    // The scenario up to the board's first motion (approve rdx-plant) being adopted,
    // without the steps that propose the projects.
    let scenario = Scenario::lt_ua().unwrap();
    for step in &scenario.steps[..=accord_e2e::first_adoption(&scenario)] {
        if step.command == "ProposeProject" {
            continue;
        }
        send_step_retrying(&client, step, false, PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", step.command));
    }

    let text = metrics_with(&metrics, REFUSED).await;
    assert!(
        !text.contains("flow=\"react-motion-adopted\",outcome=\"sent\""),
        "{text}"
    );
    assert!(projects.log_ids().is_empty(), "the projects log moved");

    // The dead letter: the command as it was sent, and why it was refused.
    let js = async_nats::jetstream::new(raw);
    let mut dead_letters = js
        .get_stream(dead_letter_stream_name("agreements"))
        .await
        .unwrap();
    assert_eq!(dead_letters.info().await.unwrap().state.messages, 1);
    let letter = dead_letters.get_raw_message(1).await.unwrap();
    assert_eq!(
        letter.subject.as_str(),
        "accord.agreements.deadletter.react-motion-adopted"
    );
    let header = |name: &str| {
        letter
            .headers
            .get(name)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        header(headers::TARGET),
        "accord.projects.cmd.ApproveProject"
    );
    assert_eq!(header(headers::ERROR_CODE), "not_found");
    assert_eq!(header(headers::ERROR_REASON), "project_not_found");
    assert!(!header(headers::ERROR_MESSAGE).is_empty());
    assert_eq!(header(headers::ACTOR), "accord-reactions");
    assert_eq!(header(headers::MSG_ID), header(headers::COMMAND_ID));
    let approve = pb::ApproveProject::decode(letter.payload.as_ref()).unwrap();

    // Mended: the project proposed, the dead letter sent again as it is.
    for step in &scenario.steps[..=accord_e2e::first_adoption(&scenario)] {
        if step.command == "ProposeProject" {
            send_step_retrying(&client, step, false, PATIENCE)
                .await
                .unwrap();
        }
    }
    let mut again = Message::new(header(headers::TARGET), letter.payload.to_vec());
    for (name, values) in letter.headers.iter() {
        again = again.with_header(name.as_ref(), values[0].to_string());
    }
    let result = client.send_command(again, false).await.unwrap();
    assert!(!result.duplicate);
    let statuses = project_statuses(&client).await.unwrap();
    assert_eq!(statuses[&approve.project_id], "approved", "{statuses:?}");

    projects.stop().await;
    agreements.stop().await;
}
