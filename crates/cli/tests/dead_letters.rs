//! `accord dead-letters` as a subprocess against a real nats-server and `accord up`:
//! the board adopts a motion approving a project the projects service never heard
//! of; the refused `ApproveProject` is listed (table and JSON), cannot be found under
//! another service or number, and, once the project is proposed, is sent again and
//! approves it (a second resend changes nothing).

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Output};
use std::time::Duration;

use accord::play::{project_statuses, send_step_retrying, wait_ready};
use accord_bus::{AccordClient, Bus, NatsBus};
use accord_scenario::Scenario;
use accord_testkit::NatsServer;
use support::Process;

const PATIENCE: Duration = Duration::from_secs(30);

fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_LOG_LEVEL", "warn")
        .env_remove("ACCORD_NATS_URL")
        .output()
        .unwrap()
}

/// Runs `accord` with `args`, expects exit 0, and returns what it printed.
fn succeeds(args: &[&str]) -> String {
    let output = accord(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `accord` with `args`, expects exit `code`, and returns its error output.
fn fails_with(code: i32, args: &[&str]) -> String {
    let output = accord(args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(!stderr.is_empty(), "{args:?}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reaction_is_listed_and_sent_again_once_mended() {
    let nats = NatsServer::start();
    let url = nats.url();
    let data = tempfile::tempdir().unwrap();
    let _up = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["up", "--nats", &url, "--http", "", "--data"])
            .arg(data.path())
            // Not about signatures: it sends unsigned commands (signed `accord up`: up_over_nats.rs).
            .env("ACCORD_REQUIRE_SIGNATURES", "false")
            .env("ACCORD_LOG_LEVEL", "warn"),
    );
    let client = AccordClient::new(Bus::Nats(NatsBus::connect(&url, "test").await.unwrap()));
    for service in ["agreements", "projects", "procurement"] {
        wait_ready(&client, service, PATIENCE).await.unwrap();
    }
    let nothing_yet = succeeds(&["dead-letters", "list", "--nats", &url]);
    assert!(nothing_yet.contains("(none)"), "{nothing_yet}");

    // The scenario up to the board adopting its motion to approve rdx-plant, with
    // no project proposed.
    let scenario = Scenario::lt_ua().unwrap();
    let steps = &scenario.steps[..=first_adoption(&scenario)];
    for step in steps.iter().filter(|s| s.command != "ProposeProject") {
        send_step_retrying(&client, step, false, PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", step.command));
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let letters: serde_json::Value = loop {
        let listed = succeeds(&["dead-letters", "list", "--json", "--nats", &url]);
        let letters: serde_json::Value = serde_json::from_str(&listed).unwrap();
        if !letters.as_array().unwrap().is_empty() {
            break letters;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let letters = letters.as_array().unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["service"], "agreements");
    assert_eq!(letter["sequence"], 1);
    assert_eq!(letter["flow"], "react-motion-adopted");
    assert_eq!(letter["target"], "accord.projects.cmd.ApproveProject");
    assert_eq!(letter["code"], "not_found");
    assert_eq!(letter["reason"], "project_not_found");
    assert!(!letter["stored_at"].as_str().unwrap().is_empty());
    let table = succeeds(&[
        "dead-letters",
        "list",
        "--service",
        "agreements",
        "--nats",
        &url,
    ]);
    assert!(
        table.contains("react-motion-adopted")
            && table.contains("accord.projects.cmd.ApproveProject"),
        "{table}"
    );

    // Not there, or not a service with flows: bad usage, nothing sent.
    for args in [
        vec!["dead-letters", "resend", "agreements", "2", "--nats", &url],
        vec!["dead-letters", "resend", "projects", "1", "--nats", &url],
        vec![
            "dead-letters",
            "list",
            "--service",
            "procurement",
            "--nats",
            &url,
        ],
        vec!["dead-letters", "list"],
    ] {
        fails_with(2, &args);
    }
    // Sent again before it is mended: refused again, exit 1.
    let again = fails_with(
        1,
        &["dead-letters", "resend", "agreements", "1", "--nats", &url],
    );
    assert!(again.contains("refused"), "{again}");

    // Mended: the projects proposed; the letter sent again approves rdx-plant.
    for step in steps.iter().filter(|s| s.command == "ProposeProject") {
        send_step_retrying(&client, step, false, PATIENCE)
            .await
            .unwrap();
    }
    let resent = succeeds(&["dead-letters", "resend", "agreements", "1", "--nats", &url]);
    assert!(
        resent.contains("sent again and carried out: project/"),
        "{resent}"
    );
    let statuses = project_statuses(&client).await.unwrap();
    let approved = statuses.values().filter(|s| *s == "approved").count();
    assert_eq!(approved, 1, "{statuses:?}");
    // The same command id: a second resend changes nothing.
    let twice = succeeds(&["dead-letters", "resend", "agreements", "1", "--nats", &url]);
    assert!(twice.contains("already carried out before"), "{twice}");
}

/// The vote that adopts the board's first motion (approve rdx-plant).
fn first_adoption(scenario: &Scenario) -> usize {
    scenario.last_step("CastVote", "m-approve-rdx").unwrap()
}
