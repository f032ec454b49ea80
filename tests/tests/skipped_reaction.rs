//! Bytes on a service's event stream that are not an event envelope, over a real
//! nats-server: the reaction flow that consumes them counts them as skipped, keeps
//! them as a dead letter, terminates the message (it is not redelivered for ever),
//! sends no command, and goes on reacting to the events that follow.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::{dead_letter_stream_name, headers, stream_name, AccordClient, Bus, NatsBus};
use accord_e2e::{metrics_with, reacting_services, send_step_retrying, PATIENCE};
use accord_scenario::Scenario;
use accord_testkit::NatsServer;

const FLOW: &str = "react-motion-adopted";
const SKIPPED: &str =
    "accord_reaction_events_skipped_total{service=\"agreements\",flow=\"react-motion-adopted\"} 1";
const SENT: &str = "accord_reaction_commands_total{service=\"agreements\",flow=\"react-motion-adopted\",outcome=\"sent\"} 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_are_not_an_event_are_skipped_and_the_flow_goes_on() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client.clone());
    let bus = Bus::Nats(NatsBus::from_client(client));
    let (agreements, projects, metrics) = reacting_services(&bus).await;
    let accord = AccordClient::new(bus.clone());
    let stream = stream_name("agreements");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while js.get_stream(&stream).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "no stream {stream}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    js.publish(
        "accord.agreements.evt.board.b1.MotionAdopted",
        b"not an envelope".as_slice().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let text = metrics_with(&metrics, SKIPPED).await;
    assert!(!text.contains("outcome=\"sent\""), "{text}");
    assert!(projects.log_ids().is_empty(), "the projects log moved");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while bus.consumer_pending(&stream, FLOW).await.unwrap() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the skipped message is still pending on {FLOW}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut dead_letters = js
        .get_stream(dead_letter_stream_name("agreements"))
        .await
        .unwrap();
    let letter = dead_letters.get_raw_message(1).await.unwrap();
    assert_eq!(letter.payload.as_ref(), b"not an envelope");
    assert_eq!(
        letter
            .headers
            .get(headers::ORIGINAL_SUBJECT)
            .unwrap()
            .as_str(),
        "accord.agreements.evt.board.b1.MotionAdopted"
    );
    assert_eq!(
        letter.headers.get(headers::ERROR_REASON).unwrap().as_str(),
        "undecodable"
    );

    // The scenario up to the board adopting its first motion (approve rdx-plant):
    // the flow reacts to it as if nothing had happened.
    let scenario = Scenario::lt_ua().unwrap();
    for step in &scenario.steps[..=accord_e2e::first_adoption(&scenario)] {
        send_step_retrying(&accord, step, false, PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", step.command));
    }
    let text = metrics_with(&metrics, SENT).await;
    assert!(text.lines().any(|l| l == SKIPPED), "{text}");
    // The motion's reaction was carried out: nothing more is a dead letter.
    assert_eq!(dead_letters.info().await.unwrap().state.messages, 1);

    projects.stop().await;
    agreements.stop().await;
}
