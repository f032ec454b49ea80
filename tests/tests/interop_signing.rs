//! Another language signs from the docs alone: a Python checker written from
//! `proto/SIGNING.md` (`tests/interop/check_signature_vectors.py`, with the
//! `cryptography` package) answers every case of the signing vectors right.
//!
//! `.ci/run` makes a virtual environment with `cryptography` and names its Python in
//! `ACCORD_PYTHON`; elsewhere `python3` is tried. Without `cryptography` the test
//! says so and passes, except under CI (`CI=true`), where it fails.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use accord_bus::{AccordClient, Bus, NatsBus};
use accord_e2e::{wait_ready, Node};
use accord_kernel::signature::{hex, ActorKey};
use accord_runtime::authentication::TrustRoot;
use accord_runtime::{NodeConfig, ServiceKind};
use accord_testkit::{python_with, NatsServer, TempLog};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn a_python_client_written_from_the_docs_checks_the_signing_vectors() {
    let Some(python) = python_with("cryptography") else {
        return;
    };
    let root = root();
    let output = Command::new(&python)
        .arg(root.join("tests/interop/check_signature_vectors.py"))
        .arg(root.join("proto/vectors/command-signature.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("11 cases, 0 failures"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_signs_commands_that_are_accepted_and_a_forged_one_is_refused() {
    let Some(python) = python_with("cryptography, nats") else {
        return;
    };
    let nats = NatsServer::start();
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "interop").await.unwrap());
    let client = AccordClient::new(bus.clone());
    let admin_seed = [7u8; 32];
    let actor_seed = [9u8; 32];
    let admin_key = base64_of(&ActorKey::from_seed(&admin_seed).public_key());
    let mut config = NodeConfig::default();
    config.endpoints.require_signatures = true;
    config.endpoints.trusted.roots = vec![format!("UA:ua-admin:{admin_key}")
        .parse::<TrustRoot>()
        .unwrap()];
    let node = Node::start_with(ServiceKind::Agreements, &bus, TempLog::new(), config);
    wait_ready(&client, "agreements").await;

    let mut python = Command::new(&python);
    python
        .arg(root().join("tests/interop/signed_commands_over_nats.py"))
        .arg(nats.url())
        .arg(hex(&admin_seed))
        .arg(hex(&actor_seed));
    let output = tokio::task::spawn_blocking(move || python.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        4,
        "{stdout}"
    );
    // Two registrations and the draft were appended; the forged draft was not.
    let status = accord::play::log_status(&client, "agreements")
        .await
        .unwrap();
    assert_eq!(status.head_position, 3, "{stdout}");
    node.stop().await;
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
