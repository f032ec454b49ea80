//! Logs written before issue 17 still read (issue 17, item 7 and acceptance 3): the
//! demo's three logs as the code before the domain changes wrote them
//! (`tests/fixtures/before-issue-17`) verify, replay, and give the projections they
//! gave then, plus the new fields' defaults: their `SupplyOffered` events are schema
//! version 1, read through the upcasting step as controlled by their supplier.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/before-issue-17")
}

fn logs() -> Vec<PathBuf> {
    ["agreements", "projects", "procurement"]
        .iter()
        .map(|service| fixture().join(service))
        .collect()
}

fn accord(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .args(logs())
        .env("ACCORD_LOG_LEVEL", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stdout}{stderr}");
    (output.status.success(), stdout)
}

/// Removes every `key` (a field issue 17 or 19 added) and answers the values it held,
/// each with the `item` or `id` of the object that held it.
fn take_new_fields(value: &mut Value, key: &str, found: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            if let Some(held) = map.remove(key) {
                let owner = ["item", "id"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(Value::as_str))
                    .unwrap_or("");
                found.push((owner.to_owned(), held));
            }
            for inner in map.values_mut() {
                take_new_fields(inner, key, found);
            }
        }
        Value::Array(items) => {
            for inner in items {
                take_new_fields(inner, key, found);
            }
        }
        _ => {}
    }
}

#[test]
fn logs_written_before_issue_17_verify_and_replay_to_the_same_projections() {
    let before = std::fs::read(fixture().join("procurement/db")).unwrap();

    let (verified, table) = accord(&["audit", "verify"]);
    assert!(verified);
    assert_eq!(table.matches(" ok").count(), 3, "{table}");

    let (_, printed) = accord(&[
        "audit",
        "replay",
        "--as-of",
        "2030-01-01T00:00:00Z",
        "--json",
    ]);
    let mut now: Value = serde_json::from_str(&printed).unwrap();
    let then: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture().join("projections.json")).unwrap())
            .unwrap();
    let mut new = |key: &str| {
        let mut found = Vec::new();
        take_new_fields(&mut now, key, &mut found);
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    };
    // The new fields' defaults: each market's supply read as its supplier's; the
    // regulatory commitment's promised days from its terms; and the new report of
    // launches against that promise.
    let controllers = new("controlledBy");
    let max_days = new("maxDays");
    let launch_times = new("launch_times");
    // Issue 19's report fields: the board's members and each project's milestones.
    let members = new("members");
    let milestones = new("milestones");
    assert_eq!(now, then, "the projections the old logs gave then");
    let members = &members[0].1;
    assert_eq!(members.as_array().map(Vec::len), Some(5), "{members}");
    assert!(members
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["member"] == "lt-board-chair" && m["role"] == "chair"));
    assert_eq!(milestones.len(), 1, "only the RDX plant has milestones");
    let slipped = &milestones[0].1[0];
    assert_eq!(
        (&slipped["plannedDue"], &slipped["due"], &slipped["status"]),
        (
            &Value::from("2025-06-01"),
            &Value::from("2025-09-01"),
            &Value::from("slipped")
        )
    );
    assert_eq!(
        controllers,
        [
            ("155mm shell".to_owned(), Value::from("LT")),
            ("strike UAV".to_owned(), Value::from("UA"))
        ]
    );
    assert_eq!(max_days, [("c-launch-time".to_owned(), Value::from(90))]);
    let report = &launch_times[0].1[0];
    assert_eq!(
        (
            &report["project"],
            &report["days_to_launch"],
            &report["verdict"]
        ),
        (
            &Value::from("rdx-plant"),
            &Value::from(95),
            &Value::from("at risk")
        )
    );
    assert_eq!(
        std::fs::read(fixture().join("procurement/db")).unwrap(),
        before,
        "the fixture is read through copies"
    );
}
