//! One conformance suite, run against both bus implementations: NATS (a real
//! nats-server on a free port per test) and the embedded in-process bus. Whatever the
//! services rely on is here, so either bus can carry them.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::{
    AckDecision, Bus, BusError, ConsumerSpec, Delivery, EmbeddedBus, EndpointSpec, Message,
    NatsBus, ServiceSpec, StreamSpec,
};
use accord_testkit::NatsServer;
use tokio::sync::mpsc;

/// A bus of each kind; the server (if any) lives as long as the fixture.
struct Fixture {
    bus: Bus,
    _server: Option<NatsServer>,
}

async fn nats() -> Fixture {
    let server = NatsServer::start();
    let bus = NatsBus::connect(&server.url(), "conformance")
        .await
        .unwrap();
    Fixture {
        bus: Bus::Nats(bus),
        _server: Some(server),
    }
}

fn embedded() -> Fixture {
    Fixture {
        bus: Bus::Embedded(EmbeddedBus::new()),
        _server: None,
    }
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod on_nats {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = super::nats().await;
                    super::$case(fixture.bus.clone()).await;
                }
            )*
        }
        mod on_embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = super::embedded();
                    super::$case(fixture.bus.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    a_request_reaches_its_endpoint_and_the_reply_comes_back,
    a_request_nobody_serves_fails_at_once_with_no_responders,
    an_unanswered_request_times_out,
    a_stopped_service_takes_no_more_requests,
    publishing_keeps_order_and_drops_repeated_message_ids,
    a_stream_with_other_subjects_is_refused,
    a_durable_consumer_delivers_in_order_and_resumes_where_it_was,
    a_retried_delivery_comes_again_and_a_terminated_one_never,
    consuming_a_missing_stream_is_an_error,
    stored_messages_are_read_back_by_sequence_and_from_the_tail,
);

const SECOND: Duration = Duration::from_secs(1);

fn spec(service: &str) -> ServiceSpec {
    ServiceSpec {
        name: format!("test-{service}"),
        version: "0.1.0".into(),
        description: "conformance".into(),
        endpoints: vec![
            EndpointSpec {
                name: "commands".into(),
                subject: format!("t.{service}.cmd.*"),
                metadata: Default::default(),
            },
            EndpointSpec {
                name: "queries".into(),
                subject: format!("t.{service}.q.*"),
                metadata: Default::default(),
            },
        ],
    }
}

fn stream(name: &str) -> StreamSpec {
    StreamSpec::new(name, vec![format!("{}.>", name.to_lowercase())])
}

async fn a_request_reaches_its_endpoint_and_the_reply_comes_back(bus: Bus) {
    let mut served = bus.serve(spec("echo")).await.unwrap();
    tokio::spawn(async move {
        while let Some(incoming) = served.requests.recv().await {
            let reply = Message::new("", incoming.message.payload.clone())
                .with_header("Endpoint", incoming.endpoint.clone())
                .with_header("Subject", incoming.message.subject.clone())
                .with_header(
                    "Echo",
                    incoming.message.header("Accord-Actor").unwrap_or("-"),
                );
            incoming.reply.send(reply).await.unwrap();
        }
    });
    let request =
        Message::new("t.echo.q.Status", b"ping".to_vec()).with_header("Accord-Actor", "lt-mod");
    let reply = bus.request(request, SECOND * 5).await.unwrap();
    assert_eq!(reply.payload, b"ping");
    assert_eq!(reply.header("Endpoint"), Some("queries"));
    assert_eq!(reply.header("Subject"), Some("t.echo.q.Status"));
    assert_eq!(reply.header("Echo"), Some("lt-mod"));
}

async fn a_request_nobody_serves_fails_at_once_with_no_responders(bus: Bus) {
    let error = bus
        .request(Message::new("t.absent.cmd.X", vec![]), SECOND * 30)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, BusError::NoResponders { subject } if subject == "t.absent.cmd.X"),
        "{error:?}"
    );
    assert!(error.to_string().contains("is it running"), "{error}");
}

async fn an_unanswered_request_times_out(bus: Bus) {
    let mut served = bus.serve(spec("silent")).await.unwrap();
    // Takes requests and holds them unanswered.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Some(incoming) = served.requests.recv().await {
            held.push(incoming);
        }
    });
    let error = bus
        .request(
            Message::new("t.silent.cmd.X", vec![]),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, BusError::Timeout { .. }), "{error:?}");
    holder.abort();
}

async fn a_stopped_service_takes_no_more_requests(bus: Bus) {
    let mut served = bus.serve(spec("stopping")).await.unwrap();
    served.stop();
    // Stopping is asynchronous on both buses; it completes promptly.
    let deadline = tokio::time::Instant::now() + SECOND * 10;
    loop {
        match bus
            .request(
                Message::new("t.stopping.cmd.X", vec![]),
                Duration::from_millis(200),
            )
            .await
        {
            Err(BusError::NoResponders { .. }) => break,
            other => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still served: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

fn event(subject: &str, id: &str) -> Message {
    Message::new(subject, id.as_bytes().to_vec()).with_header("Nats-Msg-Id", id)
}

async fn publishing_keeps_order_and_drops_repeated_message_ids(bus: Bus) {
    bus.ensure_stream(&stream("ORDERS")).await.unwrap();
    bus.publish_batch(vec![
        event("orders.a", "1"),
        event("orders.b", "2"),
        event("orders.a", "1"),
    ])
    .await
    .unwrap();
    bus.publish_batch(vec![event("orders.c", "2"), event("orders.c", "3")])
        .await
        .unwrap();
    assert_eq!(
        bus.stream_message_ids("ORDERS").await.unwrap(),
        vec!["1", "2", "3"]
    );
    // Creating it again is a check, not a reset.
    bus.ensure_stream(&stream("ORDERS")).await.unwrap();
    assert_eq!(bus.stream_message_ids("ORDERS").await.unwrap().len(), 3);
}

async fn stored_messages_are_read_back_by_sequence_and_from_the_tail(bus: Bus) {
    bus.ensure_stream(&stream("LETTERS")).await.unwrap();
    let messages: Vec<Message> = (1..=4)
        .map(|i| event(&format!("letters.{i}"), &i.to_string()).with_header("X-Why", "because"))
        .collect();
    bus.publish_batch(messages.clone()).await.unwrap();

    let tail = bus.stream_tail("LETTERS", 2).await.unwrap();
    assert_eq!(
        tail.iter().map(|m| m.sequence).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(tail[1].message, messages[3]);
    assert_eq!(bus.stream_tail("LETTERS", 10).await.unwrap().len(), 4);
    assert_eq!(bus.stream_last_ids("LETTERS", 1).await.unwrap(), vec!["4"]);

    let second = bus.stream_message("LETTERS", 2).await.unwrap().unwrap();
    assert_eq!((second.sequence, &second.message), (2, &messages[1]));
    assert!(bus.stream_message("LETTERS", 5).await.unwrap().is_none());
    let missing = bus.stream_message("NO_SUCH", 1).await.unwrap_err();
    assert!(
        matches!(missing, BusError::NoStream(ref s) if s == "NO_SUCH"),
        "{missing:?}"
    );
    let missing = bus.stream_tail("NO_SUCH", 1).await.unwrap_err();
    assert!(matches!(missing, BusError::NoStream(_)), "{missing:?}");
}

async fn a_stream_with_other_subjects_is_refused(bus: Bus) {
    bus.ensure_stream(&stream("SHAPES")).await.unwrap();
    let mut other = stream("SHAPES");
    other.subjects = vec!["elsewhere.>".into()];
    let error = bus.ensure_stream(&other).await.unwrap_err();
    assert!(matches!(error, BusError::JetStream(_)), "{error:?}");
}

async fn next(deliveries: &mut mpsc::Receiver<Delivery>) -> Delivery {
    tokio::time::timeout(SECOND * 10, deliveries.recv())
        .await
        .expect("a delivery in time")
        .expect("deliveries continue")
}

async fn a_durable_consumer_delivers_in_order_and_resumes_where_it_was(bus: Bus) {
    bus.ensure_stream(&stream("LEDGER")).await.unwrap();
    bus.publish_batch(vec![
        event("ledger.x.a", "1"),
        event("ledger.y.a", "2"),
        event("ledger.x.b", "3"),
    ])
    .await
    .unwrap();
    // A message published while no consumer is attached may go to the old consumer's
    // last fetch; it comes again after the ack wait, kept short here.
    let consumer = ConsumerSpec {
        ack_wait: Duration::from_secs(2),
        ..ConsumerSpec::new("LEDGER", "only-x", "ledger.x.>")
    };
    let mut deliveries = bus.consume(consumer.clone()).await.unwrap();
    let first = next(&mut deliveries).await;
    assert_eq!(first.message.payload, b"1");
    assert_eq!(first.message.subject, "ledger.x.a");
    assert_eq!(first.attempt, 1);
    first.decide.send(AckDecision::Ack).unwrap();
    let second = next(&mut deliveries).await;
    assert_eq!(second.message.payload, b"3");
    second.decide.send(AckDecision::Ack).unwrap();
    // Let the last acknowledgement land before the consumer goes away.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(deliveries);

    bus.publish_batch(vec![event("ledger.x.c", "4"), event("ledger.y.c", "5")])
        .await
        .unwrap();
    let mut resumed = bus.consume(consumer).await.unwrap();
    let third = next(&mut resumed).await;
    assert_eq!(
        third.message.payload, b"4",
        "resumes after the last acknowledged"
    );
    third.decide.send(AckDecision::Ack).unwrap();
    // Messages published later arrive too.
    bus.publish_batch(vec![event("ledger.x.d", "6"), event("ledger.y.d", "7")])
        .await
        .unwrap();
    let sixth = next(&mut resumed).await;
    assert_eq!(sixth.message.payload, b"6");
    assert!(bus.consumer_pending("LEDGER", "only-x").await.unwrap() >= 1);
    sixth.decide.send(AckDecision::Ack).unwrap();
    // Nothing left that passes the filter: nothing pending.
    let deadline = tokio::time::Instant::now() + SECOND * 10;
    while bus.consumer_pending("LEDGER", "only-x").await.unwrap() != 0 {
        assert!(tokio::time::Instant::now() < deadline, "still pending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_retried_delivery_comes_again_and_a_terminated_one_never(bus: Bus) {
    bus.ensure_stream(&stream("RETRY")).await.unwrap();
    bus.publish_batch(vec![event("retry.a", "1"), event("retry.a", "2")])
        .await
        .unwrap();
    let mut deliveries = bus
        .consume(ConsumerSpec::new("RETRY", "r", "retry.>"))
        .await
        .unwrap();
    let first = next(&mut deliveries).await;
    first
        .decide
        .send(AckDecision::Retry(Duration::from_millis(50)))
        .unwrap();
    let again = next(&mut deliveries).await;
    assert_eq!(again.message.payload, b"1");
    assert_eq!(again.attempt, 2);
    again.decide.send(AckDecision::Term).unwrap();
    let second = next(&mut deliveries).await;
    assert_eq!(second.message.payload, b"2");
    assert_eq!(second.attempt, 1);
}

async fn consuming_a_missing_stream_is_an_error(bus: Bus) {
    let error = bus
        .consume(ConsumerSpec::new("NOPE", "d", "nope.>"))
        .await
        .unwrap_err();
    assert!(matches!(error, BusError::JetStream(_)), "{error:?}");
}
