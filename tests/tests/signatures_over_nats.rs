//! Signed commands over a real nats-server (issue 15's bad-input table): with
//! `require_signatures` on, a command is decided only when `Accord-Signature` is its
//! actor's signature with the key the registry holds now; every other case is
//! `unauthenticated` with its own reason and appends nothing.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accord_bus::signing::sign_request;
use accord_bus::{decode_reply, headers, Bus, Message, NatsBus, JSON};
use accord_contracts::v1::reply::Outcome;
use accord_e2e::{wait_ready, Node};
use accord_kernel::signature::ActorKey;
use accord_runtime::authentication::{verify_stored, TrustRoot};
use accord_runtime::AgreementsModel;
use accord_runtime::{NodeConfig, ServiceKind};
use accord_testkit::{NatsServer, TempLog};
use base64::Engine as _;

fn key(label: &str) -> ActorKey {
    ActorKey::derived_for_tests(label)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A RegisterActor request for `new_actor`, sent by `actor` (unsigned).
fn register(actor: &str, new_actor: &str) -> Message {
    let body = format!(
        r#"{{"actorId":"{new_actor}","name":"{new_actor}","party":{{"id":"UA"}},"role":"official","publicKey":"{}"}}"#,
        b64(&key(new_actor).public_key())
    );
    command(actor, "RegisterActor", body)
}

/// A DraftAgreement body for agreement `id`.
fn draft(id: &str) -> String {
    format!(
        r#"{{"agreementId":"{id}","kind":"AGREEMENT_KIND_STRATEGIC_COOPERATION","title":"Strategic cooperation","parties":[{{"id":"LT"}},{{"id":"UA"}}],"areas":["CAPABILITY_AREA_UAV"],"reason":"signed at the ministry"}}"#
    )
}

fn command(actor: &str, name: &str, body: String) -> Message {
    Message::new(format!("accord.agreements.cmd.{name}"), body.into_bytes())
        .with_header(headers::ACTOR, actor)
        .with_header(headers::COMMAND_ID, uuid::Uuid::now_v7().to_string())
        .with_header(headers::OCCURRED_AT, "2024-11-26T12:00:00Z")
        .with_header(headers::CONTENT_TYPE, JSON)
}

fn signed(message: Message, with: &ActorKey) -> Message {
    sign_request(message, with).unwrap()
}

async fn send(bus: &Bus, message: Message) -> Outcome {
    let name = message.subject.rsplit('.').next().unwrap().to_owned();
    let reply = bus.request(message, Duration::from_secs(10)).await.unwrap();
    decode_reply(&name, &reply.payload, true)
        .unwrap()
        .outcome
        .unwrap()
}

async fn head(bus: &Bus) -> u64 {
    let client = accord_bus::AccordClient::new(bus.clone());
    accord::play::log_status(&client, "agreements")
        .await
        .unwrap()
        .head_position
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_command_signed_by_its_actors_current_key_is_decided() {
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "signatures").await.unwrap());
    let client = accord_bus::AccordClient::new(bus.clone());

    // Signatures required from the start; each party's registry grows from its
    // administrator's key, configured at deployment.
    let root = |party: &str, admin: &str| {
        format!("{party}:{admin}:{}", b64(&key(admin).public_key()))
            .parse::<TrustRoot>()
            .unwrap()
    };
    let mut config = NodeConfig::default();
    config.endpoints.require_signatures = true;
    config.endpoints.trusted.roots = vec![root("UA", "ua-admin"), root("LT", "lt-admin")];
    let node = Node::start_with(ServiceKind::Agreements, &bus, TempLog::new(), config);
    wait_ready(&client, "agreements").await;
    let admin = key("ua-admin");
    for actor in ["ua-umerov", "ua-fedorov", "ua-kubrakov"] {
        let reply = send(&bus, signed(register("ua-admin", actor), &admin)).await;
        assert!(matches!(reply, Outcome::Command(_)), "{reply:?}");
    }
    let rotate = format!(
        r#"{{"actorId":"ua-umerov","publicKey":"{}","reason":"yearly rotation"}}"#,
        b64(&key("ua-umerov-2").public_key())
    );
    let revoke = r#"{"actorId":"ua-kubrakov","reason":"left office"}"#.to_owned();
    for (name, body) in [("RotateActorKey", &rotate), ("RevokeActorKey", &revoke)] {
        let reply = send(
            &bus,
            signed(command("ua-admin", name, body.clone()), &admin),
        )
        .await;
        assert!(matches!(reply, Outcome::Command(_)), "{reply:?}");
    }
    // Each party administers its own actors only.
    let before = head(&bus).await;
    let lt_admin = key("lt-admin");
    for (case, message) in [
        (
            "LT registering a UA actor",
            signed(register("lt-admin", "ua-lt-made"), &lt_admin),
        ),
        (
            "LT rotating a UA actor's key",
            signed(
                command("lt-admin", "RotateActorKey", rotate.clone()),
                &lt_admin,
            ),
        ),
        (
            "a registered actor registering",
            signed(
                register("ua-fedorov", "ua-fedorov-made"),
                &key("ua-fedorov"),
            ),
        ),
    ] {
        let Outcome::Error(error) = send(&bus, message).await else {
            panic!("{case}: decided")
        };
        assert_eq!(
            (
                error.code.as_str(),
                error.reason.as_str(),
                error.details["party"].as_str()
            ),
            ("permission_denied", "not_party_administrator", "UA"),
            "{case}"
        );
        assert_eq!(head(&bus).await, before, "{case}: the log moved");
    }

    let current = key("ua-umerov-2");
    let before = head(&bus).await;
    let good = || {
        signed(
            command("ua-umerov", "DraftAgreement", draft("lt-ua")),
            &current,
        )
    };
    let changed = |change: &dyn Fn(&mut Message)| {
        let mut message = good();
        change(&mut message);
        message
    };
    let cases: Vec<(&str, Message, &str)> = vec![
        (
            "no signature",
            command("ua-umerov", "DraftAgreement", draft("lt-ua")),
            "unsigned",
        ),
        (
            "malformed signature",
            command("ua-umerov", "DraftAgreement", draft("lt-ua"))
                .with_header(headers::SIGNATURE, "bm90IGEgc2lnbmF0dXJl"),
            "malformed_signature",
        ),
        (
            "another actor's key",
            signed(
                command("ua-umerov", "DraftAgreement", draft("lt-ua")),
                &key("ua-fedorov"),
            ),
            "bad_signature",
        ),
        (
            "a revoked key",
            signed(
                command("ua-kubrakov", "DraftAgreement", draft("lt-ua")),
                &key("ua-kubrakov"),
            ),
            "revoked_key",
        ),
        (
            "the old key after a rotation",
            signed(
                command("ua-umerov", "DraftAgreement", draft("lt-ua")),
                &key("ua-umerov"),
            ),
            "superseded_key",
        ),
        (
            "another body",
            changed(&|m| m.payload = draft("lt-pl").into_bytes()),
            "bad_signature",
        ),
        (
            "another subject",
            changed(&|m| m.subject = "accord.agreements.cmd.RotateActorKey".into()),
            "bad_signature",
        ),
        (
            "another command id",
            changed(&|m| {
                m.headers
                    .insert(headers::COMMAND_ID.into(), uuid::Uuid::now_v7().to_string());
            }),
            "bad_signature",
        ),
        (
            "another actor",
            changed(&|m| {
                m.headers.insert(headers::ACTOR.into(), "ua-fedorov".into());
            }),
            "bad_signature",
        ),
        (
            "an expected version added",
            changed(&|m| {
                m.headers
                    .insert(headers::EXPECTED_VERSION.into(), "0".into());
            }),
            "bad_signature",
        ),
        (
            "an unknown actor",
            signed(
                command("ua-nobody", "DraftAgreement", draft("lt-ua")),
                &key("ua-nobody"),
            ),
            "unknown_actor",
        ),
    ];
    for (case, message, reason) in cases {
        let Outcome::Error(error) = send(&bus, message).await else {
            panic!("{case}: decided")
        };
        assert_eq!(
            (error.code.as_str(), error.reason.as_str()),
            ("unauthenticated", reason),
            "{case}: {}",
            error.message
        );
        assert_eq!(head(&bus).await, before, "{case}: the log moved");
    }

    // Signed by the actor's current key: decided.
    assert!(matches!(send(&bus, good()).await, Outcome::Command(_)));
    assert_eq!(head(&bus).await, before + 1);

    // The projects service learns the registry from the agreements service's actor
    // events on the bus: it decides a command signed with the current key (here:
    // not_found, as no project "p" exists) and refuses one signed with the old key.
    // Until its replica has caught up it answers a retryable `registry_behind`.
    let mut config = NodeConfig::default();
    config.endpoints.require_signatures = true;
    let projects = Node::start_with(ServiceKind::Projects, &bus, TempLog::new(), config);
    wait_ready(&client, "projects").await;
    let launch = || {
        Message::new(
            "accord.projects.cmd.LaunchProject",
            br#"{"projectId":"p"}"#.to_vec(),
        )
        .with_header(headers::ACTOR, "ua-umerov")
        .with_header(headers::COMMAND_ID, uuid::Uuid::now_v7().to_string())
        .with_header(headers::OCCURRED_AT, "2024-11-26T12:00:00Z")
        .with_header(headers::CONTENT_TYPE, JSON)
    };
    let mut answers = Vec::new();
    for _ in 0..100 {
        let Outcome::Error(error) = send(&bus, signed(launch(), &current)).await else {
            panic!("project p does not exist")
        };
        let answer = (error.code.clone(), error.reason.clone());
        answers.push(answer.clone());
        if answer != ("unavailable".to_owned(), "registry_behind".to_owned()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        answers.last().map(|(code, _)| code.as_str()),
        Some("not_found"),
        "{answers:?}"
    );
    assert!(answers
        .iter()
        .all(|(code, _)| code == "not_found" || code == "unavailable"));
    let Outcome::Error(error) = send(&bus, signed(launch(), &key("ua-umerov"))).await else {
        panic!("decided with a superseded key")
    };
    assert_eq!(
        (error.code.as_str(), error.reason.as_str()),
        ("unauthenticated", "superseded_key")
    );
    projects.stop().await;

    let log = node.stop().await;

    // The event keeps the signature: a copy re-verifies offline with the registry
    // replayed from the log, and fails once its actor is changed.
    let stream = accord_kernel::StreamId::new("agreement", "lt-ua").unwrap();
    let mut drafted = log.log().read_stream(&stream, 1).next().unwrap().unwrap();
    let replayed = accord_runtime::Service::<AgreementsModel>::start(log.log().clone());
    replayed.caught_up().await.unwrap();
    let trusted = accord_runtime::authentication::Trusted {
        roots: vec![root("UA", "ua-admin"), root("LT", "lt-admin")],
        services: vec![],
    };
    let registry = replayed.view().actors.clone();
    assert_eq!(verify_stored(&drafted, &trusted, &registry), Ok(()));
    drafted.actor = "ua-fedorov".into();
    assert_eq!(
        verify_stored(&drafted, &trusted, &registry).map_err(|e| e.code()),
        Err("bad_signature")
    );
    drop(replayed);
}
