//! The README's run command: `accord demo` plays the scenario on the embedded bus,
//! prints the projections and a successful verification of every log.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn accord() -> Command {
    Command::new(env!("CARGO_BIN_EXE_accord"))
}

#[test]
fn the_demo_prints_the_projections_and_a_successful_verification() {
    let data = tempfile::tempdir().unwrap();
    let output = accord()
        .args(["demo", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for table in [
        "Agreements",
        "Commitment ledger",
        "Steering Board decisions",
        "Project portfolio",
        "Procurement: 155mm shell",
        "Log verification",
    ] {
        assert!(stdout.contains(table), "no {table} table:\n{stdout}");
    }
    let agreement = stdout
        .lines()
        .find(|l| l.starts_with("lt-ua-defence-industry"))
        .unwrap();
    assert!(
        // Four ministers, then Poland's on its accession.
        agreement.contains("in_force") && agreement.contains("5/5"),
        "{agreement}"
    );
    // The commitment the board's motion amended, with its trail to the motion.
    let timeline = stdout
        .split("\n\n")
        .find(|t| t.starts_with("Timeline of commitment c-priority"))
        .unwrap_or_else(|| panic!("no timeline of c-priority:\n{stdout}"));
    assert!(
        timeline
            .lines()
            .any(|l| l.contains("amended") && l.contains("m-priority-ew")),
        "{timeline}"
    );
    let verified = stdout
        .lines()
        .filter(|l| l.contains("ok: hash chain"))
        .count();
    assert_eq!(verified, 3, "{stdout}");
    // The regulatory promise (launch within 90 days) against the RDX plant's 95, and
    // the milestone the deadline watcher noticed overdue.
    assert!(
        stdout.lines().any(|l| l.starts_with("c-launch-time")
            && l.contains("90 days")
            && l.contains("rdx-plant")
            && l.contains("95 days")
            && l.contains("at risk")),
        "{stdout}"
    );
    // Days late are counted to the scenario's last day (2025-11-04, its last vote).
    assert!(
        stdout.contains("construction-start overdue since 2025-09-01: 64 days late"),
        "{stdout}"
    );
    // Each log's latest checkpoint, co-signed by Lithuania's and Ukraine's witnesses.
    let checkpoints = stdout
        .split("\n\n")
        .find(|t| t.starts_with("Checkpoints"))
        .unwrap_or_else(|| panic!("no checkpoints table:\n{stdout}"));
    for service in ["agreements", "projects", "procurement"] {
        assert!(
            checkpoints.lines().any(|l| l.starts_with(service)
                && l.contains(&format!("accord.demo/lt-ua/{service}"))
                && l.contains("witness.lt.demo, witness.ua.demo")),
            "{checkpoints}"
        );
    }
    // With --data, a proof of the priority commitment's acceptance, which checks.
    let proof = data.path().join("priority-acceptance.tlog-proof");
    let check = stdout
        .lines()
        .find_map(|l| l.strip_prefix("check it offline: accord "))
        .unwrap_or_else(|| panic!("no check command:\n{stdout}"));
    assert!(check.contains(proof.to_str().unwrap()), "{check}");
    let checked = accord().args(check.split(' ')).output().unwrap();
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{said}");
    assert!(said.contains("accord.v1.CommitmentAccepted"), "{said}");
    // The logs stay in the given directory and verify on their own.
    for service in ["agreements", "projects", "procurement"] {
        let report = accord_log::verify_path(data.path().join(service)).unwrap();
        assert!(report.events > 0, "{service}");
    }
}

#[test]
fn the_demo_refuses_a_directory_that_is_not_empty() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("something"), b"x").unwrap();
    let output = accord()
        .args(["demo", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "bad usage: {stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(data.path()).unwrap().count(),
        1,
        "nothing written"
    );
}

#[test]
fn invalid_configuration_exits_2_naming_the_key() {
    let output = accord()
        .args(["config", "print"])
        .env("ACCORD_MAX_REQUEST_BYTES", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("max_request_bytes"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accord.toml");
    std::fs::write(&file, "nats_url = \"nats://x:4222\"\nstream_replicas = 3\n").unwrap();
    let output = accord()
        .args(["config", "print", "--config"])
        .arg(&file)
        .env("ACCORD_STREAM_REPLICAS", "2")
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed.contains("nats_url = \"nats://x:4222\""),
        "{printed}"
    );
    assert!(printed.contains("stream_replicas = 2"), "{printed}");
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["up", "--help"],
        vec!["serve", "--help"],
        vec!["config", "--help"],
        vec!["config", "print", "--help"],
    ] {
        let output = accord().args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
}
