//! `deploy/` checked against the binary and a real nats-server: the compose file sets
//! only real settings, names real services and matching ports; the Dockerfile builds
//! a non-root image; the accounts config is enforced.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use accord::settings::KEYS;
use accord_runtime::{dead_letters, ServiceKind};
use accord_testkit::free_port;
use support::{deploy_dir, password, url, Ports, Server, PASSWORDS};

fn compose() -> serde_yaml::Value {
    let text = std::fs::read_to_string(deploy_dir().join("docker-compose.yml")).unwrap();
    let mut value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    value.apply_merge().unwrap();
    value
}

fn strings(value: &serde_yaml::Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| s.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn the_compose_file_matches_the_binary_and_the_nats_config() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let env_vars: Vec<&str> = KEYS.iter().map(|(_, var, _)| *var).collect();
    let nats_conf = std::fs::read_to_string(deploy_dir().join("nats/nats.conf")).unwrap();
    let accounts = std::fs::read_to_string(deploy_dir().join("nats/accounts.conf")).unwrap();

    // NATS: a pinned 2.1x image, its client port as in nats.conf, every password the
    // accounts file asks for.
    let nats = &compose["services"]["nats"];
    let image = nats["image"].as_str().unwrap();
    let version = image.strip_prefix("nats:2.1").expect(image);
    assert!(version.chars().next().unwrap().is_ascii_digit(), "{image}");
    assert!(nats_conf.contains("listen: 0.0.0.0:4222"));
    assert_eq!(strings(&nats["ports"]), ["4222:4222"]);
    for (var, _) in PASSWORDS {
        assert!(accounts.contains(&format!("${var}")), "{var} unused");
        assert!(nats["environment"][var].as_str().is_some(), "{var} not set");
    }

    let mut served = Vec::new();
    for (name, service) in services {
        let name = name.as_str().unwrap();
        if name == "nats" {
            continue;
        }
        let command = strings(&service["command"]);
        assert_eq!(command[0], "serve", "{name}");
        let kind: ServiceKind = command[1].parse().unwrap();
        served.push(kind);
        let environment = service["environment"].as_mapping().unwrap();
        for (var, _) in environment {
            let var = var.as_str().unwrap();
            assert!(
                env_vars.contains(&var),
                "{name} sets {var}, which is no setting"
            );
        }
        let nats_url = service["environment"]["ACCORD_NATS_URL"].as_str().unwrap();
        assert!(
            nats_url.starts_with(&format!("nats://{kind}:")),
            "{nats_url}"
        );
        assert!(nats_url.ends_with("@nats:4222"), "{nats_url}");
        let http = service["environment"]["ACCORD_HTTP_ADDR"].as_str().unwrap();
        let http_port = http.rsplit(':').next().unwrap();
        let published = strings(&service["ports"]);
        assert!(
            published[0].ends_with(&format!(":{http_port}")),
            "{published:?}"
        );
        let check = strings(&service["healthcheck"]["test"]).join(" ");
        assert!(
            check.contains("accord probe") && check.contains("/readyz"),
            "{check}"
        );
        assert!(check.contains(&format!(":{http_port}")), "{check}");
        assert_eq!(
            service["depends_on"]["nats"]["condition"].as_str(),
            Some("service_healthy")
        );
        let volume = strings(&service["volumes"]);
        assert_eq!(volume, [format!("{kind}-data:/data")]);
        assert_eq!(
            service["environment"]["ACCORD_DATA_DIR"].as_str(),
            Some("/data")
        );
    }
    served.sort_by_key(|k| k.name());
    let mut all = ServiceKind::ALL.to_vec();
    all.sort_by_key(|k| k.name());
    assert_eq!(served, all);
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged() {
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).unwrap();
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    // The runtime, the prebuilt-binary target before the Rust stage (so that
    // `--target prebuilt` never needs the Rust image), the Rust build, and the default
    // image from it, last.
    assert_eq!(
        stages,
        [
            "FROM debian:bookworm-slim AS runtime",
            "FROM runtime AS prebuilt",
            "FROM rust:1.95-slim-bookworm AS build",
            "FROM runtime",
        ]
    );
    assert!(dockerfile.contains("cargo build --release --locked -p accord"));
    assert_eq!(dockerfile.matches("USER accord").count(), 2);
    assert!(dockerfile.contains("ENTRYPOINT [\"accord\"]"));
    // The binary's place for the prebuilt target is in the repository.
    assert!(deploy_dir().join("prebuilt/README.md").is_file());
}

/// Connects as `user`; server errors (permission violations) arrive on the channel.
async fn connect(
    user: &str,
    password: &str,
    port: u16,
) -> Result<
    (
        async_nats::Client,
        tokio::sync::mpsc::UnboundedReceiver<String>,
    ),
    async_nats::ConnectError,
> {
    let (errors, received) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::with_user_and_password(user.into(), password.into())
        .event_callback(move |event| {
            let errors = errors.clone();
            async move {
                if let async_nats::Event::ServerError(error) = event {
                    let _ = errors.send(error.to_string());
                }
            }
        })
        .connect(format!("nats://127.0.0.1:{port}"))
        .await?;
    Ok((client, received))
}

/// `deploy/nats/nats.conf` on free ports, its store under `dir`; and its client port.
fn single_server(dir: &std::path::Path) -> (Server, u16) {
    let port = free_port();
    let server = Server::start(
        "nats.conf",
        Ports {
            client: port,
            http: free_port(),
            cluster: None,
        },
        dir,
    );
    (server, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_config_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = single_server(dir.path());

    assert!(
        connect("intruder", "guess", port).await.is_err(),
        "unknown user"
    );
    assert!(
        connect("projects", "wrong", port).await.is_err(),
        "wrong password"
    );
    assert!(
        async_nats::connect(format!("nats://127.0.0.1:{port}"))
            .await
            .is_err(),
        "no credentials"
    );

    let (agreements, _) = connect("agreements", password("agreements"), port)
        .await
        .unwrap();
    let mut commands = agreements
        .subscribe("accord.agreements.cmd.*")
        .await
        .unwrap();
    agreements.flush().await.unwrap();
    let (projects, mut violations) = connect("projects", password("projects"), port)
        .await
        .unwrap();

    // The commands its reactions send: allowed, and delivered.
    projects
        .publish("accord.agreements.cmd.RecordCommitmentProgress", "x".into())
        .await
        .unwrap();
    projects.flush().await.unwrap();
    let delivered = tokio::time::timeout(Duration::from_secs(5), futures_next(&mut commands))
        .await
        .unwrap();
    assert_eq!(
        delivered.as_deref(),
        Some("accord.agreements.cmd.RecordCommitmentProgress")
    );

    // The agreements service's own subjects: refused.
    for subject in [
        "accord.agreements.evt.commitment.c-1.CommitmentAmended",
        "accord.agreements.cmd.DraftAgreement",
    ] {
        assert_refused(&projects, &mut violations, subject).await;
    }
    // Nothing refused reached the agreements service.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), futures_next(&mut commands))
            .await
            .is_err()
    );

    // Evidence: the service publishes its own checkpoints and asks a witness; the
    // witness user answers add-checkpoint requests and may not send commands or
    // publish checkpoints; a service may not publish another's checkpoints.
    let (witness, mut witness_violations) =
        connect("witness", password("witness"), port).await.unwrap();
    let mut asked = witness
        .subscribe("accord.witness.w_lt.add-checkpoint")
        .await
        .unwrap();
    witness.flush().await.unwrap();
    let (agreements_out, mut agreements_violations) =
        connect("agreements", password("agreements"), port)
            .await
            .unwrap();
    agreements_out
        .publish("accord.witness.w_lt.add-checkpoint", "old 0\n\n".into())
        .await
        .unwrap();
    agreements_out.flush().await.unwrap();
    let delivered = tokio::time::timeout(Duration::from_secs(5), futures_next(&mut asked))
        .await
        .unwrap();
    assert_eq!(
        delivered.as_deref(),
        Some("accord.witness.w_lt.add-checkpoint")
    );
    assert_refused(
        &agreements_out,
        &mut agreements_violations,
        "accord.projects.checkpoint",
    )
    .await;
    for subject in [
        "accord.agreements.cmd.DraftAgreement",
        "accord.agreements.checkpoint",
    ] {
        assert_refused(&witness, &mut witness_violations, subject).await;
    }

    // The client user: commands yes; events, and approving projects, no.
    let (client, mut client_violations) =
        connect("client", password("client"), port).await.unwrap();
    for subject in [
        "accord.agreements.evt.x.y.Z",
        "accord.projects.cmd.ApproveProject",
    ] {
        assert_refused(&client, &mut client_violations, subject).await;
    }
}

/// Publishes on `subject` and expects the server to report a permissions violation
/// naming it.
async fn assert_refused(
    client: &async_nats::Client,
    violations: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    subject: &str,
) {
    client
        .publish(subject.to_owned(), "x".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    let violation = tokio::time::timeout(Duration::from_secs(5), violations.recv())
        .await
        .expect("a permissions violation")
        .unwrap();
    assert!(
        violation.to_lowercase().contains("permissions violation"),
        "{violation}"
    );
    assert!(violation.contains(subject), "{violation}");
}

async fn futures_next(subscriber: &mut async_nats::Subscriber) -> Option<String> {
    use futures_util::StreamExt;
    subscriber.next().await.map(|m| m.subject.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_user_reads_the_event_streams_but_not_through_the_services_consumers() {
    use async_nats::jetstream::{self, consumer::pull};
    use futures_util::StreamExt as _;

    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = single_server(dir.path());

    // The agreements service's stream with two events, and its reaction consumer.
    let (agreements, _) = connect("agreements", password("agreements"), port)
        .await
        .unwrap();
    let service = jetstream::new(agreements);
    let stream = service
        .create_stream(jetstream::stream::Config {
            name: "ACCORD_AGREEMENTS".into(),
            subjects: vec!["accord.agreements.evt.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    for event in ["first", "second"] {
        service
            .publish(
                format!("accord.agreements.evt.commitment.c-1.{event}"),
                event.into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    stream
        .create_consumer(pull::Config {
            durable_name: Some("react-motion-adopted".into()),
            ..Default::default()
        })
        .await
        .unwrap();

    // An integrator reads the events through a consumer of its own, and acks them.
    let (client, mut violations) = connect("client", password("client"), port).await.unwrap();
    let reader = jetstream::new(client.clone());
    let events = reader.get_stream("ACCORD_AGREEMENTS").await.unwrap();
    let consumer = events
        .create_consumer(pull::Config {
            durable_name: Some("ministry-reader".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut batch = consumer
        .fetch()
        .max_messages(2)
        .expires(Duration::from_secs(5))
        .messages()
        .await
        .unwrap();
    let mut read = Vec::new();
    while let Some(message) = batch.next().await {
        let message = message.unwrap();
        read.push(String::from_utf8(message.payload.to_vec()).unwrap());
        message.ack().await.unwrap();
    }
    assert_eq!(read, ["first", "second"]);
    // And through an ordered consumer, whose deliveries come to its inbox.
    let ordered = events
        .create_consumer(jetstream::consumer::push::OrderedConfig {
            deliver_subject: client.new_inbox(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = ordered.messages().await.unwrap();
    let mut replayed = Vec::new();
    while replayed.len() < 2 {
        let message = tokio::time::timeout(Duration::from_secs(5), messages.next())
            .await
            .expect("an ordered delivery")
            .unwrap()
            .unwrap();
        replayed.push(String::from_utf8(message.payload.to_vec()).unwrap());
    }
    assert_eq!(replayed, ["first", "second"]);

    // It may not change the streams, nor create, read, ack or delete any reaction
    // consumer of any service.
    for kind in ServiceKind::ALL {
        let stream = accord_bus::stream_name(kind.name());
        for verb in ["DELETE", "PURGE", "UPDATE"] {
            let subject = format!("$JS.API.STREAM.{verb}.{stream}");
            assert_refused(&client, &mut violations, &subject).await;
        }
        for (flow, _) in kind.flows() {
            for subject in [
                format!("$JS.API.CONSUMER.DELETE.{stream}.{flow}"),
                format!("$JS.API.CONSUMER.INFO.{stream}.{flow}"),
                format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{flow}"),
                format!("$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{flow}"),
                format!("$JS.API.CONSUMER.CREATE.{stream}.{flow}"),
                format!("$JS.API.CONSUMER.CREATE.{stream}.{flow}.accord.x.evt.>"),
                format!("$JS.ACK.{stream}.{flow}.1.1.1.1.0"),
            ] {
                assert_refused(&client, &mut violations, &subject).await;
            }
        }
    }
    // The service's consumer still has both events to deliver.
    let info = stream
        .get_consumer::<pull::Config>("react-motion-adopted")
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .clone();
    assert_eq!(info.num_pending, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_keeps_its_dead_letters_and_the_client_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = single_server(dir.path());

    // The agreements service creates its dead-letter stream and keeps a letter, as
    // its reaction flows do.
    let agreements = accord_bus::Bus::Nats(
        accord_bus::NatsBus::connect(&url("agreements", &[port]), "agreements")
            .await
            .unwrap(),
    );
    agreements
        .ensure_stream(&dead_letters::stream_spec("agreements", 1))
        .await
        .unwrap();
    let request = accord_bus::Message::new("accord.projects.cmd.ApproveProject", b"x".to_vec());
    let refusal = accord_bus::ClientError::Unexpected("test".into());
    agreements
        .publish_batch(vec![dead_letters::refused_command(
            "agreements",
            "react-motion-adopted",
            &request,
            &refusal,
        )])
        .await
        .unwrap();

    // Another service may not write there, nor the client.
    let (projects, mut violations) = connect("projects", password("projects"), port)
        .await
        .unwrap();
    let subject = accord_bus::dead_letter_subject("agreements", "react-motion-adopted");
    assert_refused(&projects, &mut violations, &subject).await;
    let (client, mut violations) = connect("client", password("client"), port).await.unwrap();
    assert_refused(&client, &mut violations, &subject).await;

    // The client reads the letter, and may not change the stream.
    let stream_name = accord_bus::dead_letter_stream_name("agreements");
    let letters = async_nats::jetstream::new(client.clone())
        .get_stream(&stream_name)
        .await
        .unwrap();
    let letter = letters.get_raw_message(1).await.unwrap();
    assert_eq!(letter.payload.as_ref(), b"x");
    assert_eq!(
        letter.headers.get("Accord-Target").unwrap().as_str(),
        "accord.projects.cmd.ApproveProject"
    );
    for verb in ["DELETE", "PURGE", "UPDATE"] {
        let subject = format!("$JS.API.STREAM.{verb}.{stream_name}");
        assert_refused(&client, &mut violations, &subject).await;
    }
}
