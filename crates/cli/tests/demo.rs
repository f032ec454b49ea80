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
        agreement.contains("in_force") && agreement.contains("4/4"),
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
