//! `accord send` and `accord query` against a service on a real nats-server that
//! requires signatures: a command signed with `--key` (a file from `accord keys
//! new`) is accepted, the same unsigned is refused (exit 1, the reason printed), and
//! `accord query` reads the log's head.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use accord_bus::{Bus, NatsBus};
use accord_runtime::authentication::TrustRoot;
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use accord_testkit::{NatsServer, TempLog};
use base64::Engine as _;

fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_signed_command_is_sent_accepted_and_queried() {
    let keys = tempfile::tempdir().unwrap();
    let admin_file = keys.path().join("ua-admin.pem");
    let admin = accord::keys::new_key_file(&admin_file).unwrap();
    let admin_public = base64::engine::general_purpose::STANDARD.encode(admin.public_key());

    let nats = NatsServer::start();
    let url = nats.url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let log = TempLog::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = runtime.spawn({
        let log = log.log().clone();
        let url = url.clone();
        async move {
            let bus = Bus::Nats(NatsBus::connect(&url, "send-test").await?);
            let mut config = NodeConfig::default();
            config.endpoints.require_signatures = true;
            config.endpoints.trusted.roots = vec![format!("UA:ua-admin:{admin_public}")
                .parse::<TrustRoot>()
                .unwrap()];
            run_service(ServiceKind::Agreements, log, bus, config, stopped).await
        }
    });
    // Ready once a query is answered.
    let mut ready = false;
    for _ in 0..100 {
        if accord(&["query", "agreements", "LogStatus", "--nats", &url])
            .status
            .success()
        {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ready, "the service never answered");

    let body = format!(
        r#"{{"actorId":"ua-umerov","name":"Rustem Umerov","party":{{"id":"UA"}},"role":"Minister of Defence","publicKey":"{}"}}"#,
        base64::engine::general_purpose::STANDARD.encode([3u8; 32])
    );
    let key = admin_file.to_str().unwrap();
    let unsigned = accord(&[
        "send",
        "agreements",
        "RegisterActor",
        "--json",
        &body,
        "--actor",
        "ua-admin",
        "--nats",
        &url,
    ]);
    assert_eq!(unsigned.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unsigned.stdout).contains("\"unsigned\""),
        "{unsigned:?}"
    );

    let signed = accord(&[
        "send",
        "agreements",
        "RegisterActor",
        "--json",
        &body,
        "--actor",
        "ua-admin",
        "--key",
        key,
        "--nats",
        &url,
    ]);
    let stdout = String::from_utf8_lossy(&signed.stdout);
    assert!(signed.status.success(), "{signed:?}");
    let reply: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(reply["command"]["stream"]["id"], "ua-umerov", "{stdout}");

    let status = accord(&["query", "agreements", "LogStatus", "--nats", &url]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["logStatus"]["headPosition"], "1", "{status}");

    stop.send_replace(true);
    runtime.block_on(task).unwrap().unwrap();
}
