//! `accord audit verify --signatures` on a signed agreements log (made here by the
//! service itself on the embedded bus, signatures required): every event verifies
//! with the key its actor held then, counted per actor; and the tamper fixtures —
//! an actor changed and the chain re-hashed, signature bytes flipped, an event
//! signed with a key revoked before it — each fail with their code and exit 1.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use accord_bus::{AccordClient, Bus, CommandOptions, EmbeddedBus};
use accord_kernel::signature::ActorKey;
use accord_log::{compute_hash, decode_envelope, encode_envelope, Log};
use accord_runtime::authentication::TrustRoot;
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use accord_testkit::tamper::{envelope, set_envelope, set_head_hash, tamper, write_mark};
use base64::Engine as _;

fn key(label: &str) -> ActorKey {
    ActorKey::derived_for_tests(label)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn roots() -> String {
    format!("UA:ua-admin:{}", b64(&key("ua-admin").public_key()))
}

fn register(actor: &str) -> String {
    format!(
        r#"{{"actorId":"{actor}","name":"{actor}","party":{{"id":"UA"}},"role":"official","publicKey":"{}"}}"#,
        b64(&key(actor).public_key())
    )
}

fn draft(id: &str) -> String {
    format!(
        r#"{{"agreementId":"{id}","kind":"AGREEMENT_KIND_STRATEGIC_COOPERATION","title":"Strategic cooperation","parties":[{{"id":"LT"}},{{"id":"UA"}}],"areas":["CAPABILITY_AREA_UAV"],"reason":"signed"}}"#
    )
}

/// A signed agreements log in `dir`: 1 ua-umerov registered, 2 ua-umerov drafts,
/// 3 ua-fedorov registered, 4 ua-fedorov drafts, 5 ua-fedorov's key revoked.
fn signed_log(dir: &Path) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let log = Log::open(dir).unwrap();
        let bus = Bus::Embedded(EmbeddedBus::new());
        let mut config = NodeConfig::default();
        config.endpoints.require_signatures = true;
        config.endpoints.trusted.roots = vec![roots().parse::<TrustRoot>().unwrap()];
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run_service(
            ServiceKind::Agreements,
            log.clone(),
            bus.clone(),
            config,
            stopped,
        ));
        let client = AccordClient::new(bus).with_timeout(Duration::from_secs(10));
        let revoke = r#"{"actorId":"ua-fedorov","reason":"left office"}"#.to_owned();
        let steps = [
            ("ua-admin", "RegisterActor", register("ua-umerov")),
            ("ua-umerov", "DraftAgreement", draft("lt-ua")),
            ("ua-admin", "RegisterActor", register("ua-fedorov")),
            ("ua-fedorov", "DraftAgreement", draft("lt-ua-2")),
            ("ua-admin", "RevokeActorKey", revoke),
        ];
        for (actor, command, body) in steps {
            let mut options = CommandOptions::new(actor).signed_with(key(actor));
            options.json = true;
            let mut tries = 0;
            loop {
                let sent = client
                    .command("agreements", command, body.clone().into_bytes(), &options)
                    .await;
                match sent {
                    Ok(_) => break,
                    // The embedded bus answers no-responders until the service serves.
                    Err(error)
                        if tries < 100
                            && error.code() == accord_contracts::ErrorCode::Unavailable =>
                    {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(error) => panic!("{command} by {actor}: {error}"),
                }
            }
        }
        stop.send_replace(true);
        task.await.unwrap().unwrap();
        drop(log);
    });
}

fn verify(dir: &Path) -> (Output, serde_json::Value) {
    let roots = roots();
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "audit",
            "verify",
            "--json",
            "--signatures",
            "--trust-roots",
            &roots,
        ])
        .arg(dir)
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (output, report[0].clone())
}

/// Changes the envelopes from `position` on (`change` sees each, with its
/// position) and re-chains them, as a forger holding the directory would: the hash
/// chain is whole again.
fn forge(
    dir: &Path,
    position: u64,
    mut change: impl FnMut(u64, &mut accord_kernel::RecordedEvent),
) {
    let last = accord_log::verify_path(dir).unwrap().events;
    let mut head = [0; 32];
    tamper(dir, |records| {
        let mut prev = None;
        for at in position..=last {
            let mut event = decode_envelope(&envelope(records, at)).unwrap();
            change(at, &mut event);
            if let Some(prev) = prev {
                event.prev_hash = prev;
            }
            event.hash = compute_hash(&event);
            prev = Some(event.hash);
            head = event.hash.0;
            set_envelope(records, at, encode_envelope(&event));
        }
    });
    set_head_hash(dir, head);
    write_mark(dir, last, head);
    // The forgery is good enough for the chain: only the signatures can tell.
    accord_log::verify_path(dir).unwrap();
}

fn expect(dir: &Path, code: &str, position: u64) {
    let (output, report) = verify(dir);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(report["problem"]["code"], code, "{report}");
    assert_eq!(report["problem"]["position"], position, "{report}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[test]
fn a_signed_log_verifies_and_each_forgery_is_named() {
    let made = tempfile::tempdir().unwrap();
    let original = made.path().join("agreements");
    signed_log(&original);

    let (output, report) = verify(&original);
    assert!(output.status.success(), "{report}");
    assert_eq!(report["signatures"]["verified"], 5, "{report}");
    assert_eq!(report["signatures"]["by_actor"]["ua-admin"], 3, "{report}");
    assert_eq!(report["signatures"]["by_actor"]["ua-umerov"], 1, "{report}");
    assert_eq!(
        report["signatures"]["by_actor"]["ua-fedorov"], 1,
        "{report}"
    );

    let copy = |name: &str| {
        let dir = made.path().join(name).join("agreements");
        accord_testkit::tamper::copy_dir(&original, &dir);
        dir
    };
    // The actor of ua-fedorov's draft changed to another registered actor, the
    // chain re-hashed.
    let dir = copy("actor");
    forge(&dir, 4, |at, event| {
        if at == 4 {
            event.actor = "ua-umerov".into();
        }
    });
    expect(&dir, "bad_signature", 4);
    // Changed to an actor not registered yet at that point.
    let dir = copy("unknown");
    forge(&dir, 2, |at, event| {
        if at == 2 {
            event.actor = "ua-fedorov".into();
        }
    });
    expect(&dir, "unknown_key", 2);
    // A byte of the stored signature flipped.
    let dir = copy("flipped");
    forge(&dir, 2, |at, event| {
        if at == 2 {
            let signature = event.signature.as_mut().unwrap();
            let byte = signature.len() - 3;
            signature[byte] ^= 0x01;
        }
    });
    let (_, report) = verify(&dir);
    assert!(
        ["bad_signature", "malformed_signature"]
            .contains(&report["problem"]["code"].as_str().unwrap()),
        "{report}"
    );
    assert_eq!(report["problem"]["position"], 2);
    // ua-fedorov's draft moved after the revocation of its key (events 4 and 5
    // swapped, versions and chain mended): signed by a key revoked before it.
    let dir = copy("revoked");
    let mut revoked_first = None;
    tamper(&dir, |records| {
        let draft = decode_envelope(&envelope(records, 4)).unwrap();
        let revocation = decode_envelope(&envelope(records, 5)).unwrap();
        revoked_first = Some((draft, revocation));
    });
    let (draft, revocation) = revoked_first.unwrap();
    forge(&dir, 4, |at, event| {
        let (moved, recorded_at) = match at {
            4 => (revocation.clone(), revocation.recorded_at),
            // The draft takes the revocation's log time: log time never goes back.
            _ => (draft.clone(), revocation.recorded_at),
        };
        *event = accord_kernel::RecordedEvent {
            position: at,
            prev_hash: event.prev_hash,
            recorded_at,
            ..moved
        };
    });
    expect(&dir, "revoked_key", 5);

    // Without --signatures the same forged log passes: the chain alone cannot tell.
    let plain = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["audit", "verify"])
        .arg(made.path().join("actor").join("agreements"))
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(plain.status.success());
}
