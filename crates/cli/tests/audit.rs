//! The auditor's commands on the scenario's data (made by `accord demo --data`):
//! `verify` passes on it and fails with the right code and position on each tamper
//! fixture, without panicking; `export` re-imports into the exact stored envelopes;
//! and neither writes a byte into the directories it reads.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::snapshot;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use accord_contracts::v1 as pb;
use accord_log::{compute_hash, decode_envelope, encode_envelope, Log};
use accord_testkit::tamper::{
    copy_dir, envelope, locate, set_envelope, set_head_hash, tamper, write_mark,
};
use prost::Message as _;

fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

/// The scenario's data, made once by the demo and kept for this test binary.
fn scenario_data() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("accord-audit-fixture-")
            .tempdir()
            .unwrap()
            .keep();
        let data = dir.join("data");
        let output = accord(&["demo", "--data", data.to_str().unwrap()]);
        assert!(output.status.success(), "{output:?}");
        data
    })
}

/// A private copy of one service's log from the scenario's data.
fn copy_of(service: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&scenario_data().join(service), &copy.path().join(service));
    copy
}

fn verify_json(dir: &Path) -> (bool, serde_json::Value) {
    let output = accord(&["audit", "verify", "--json", dir.to_str().unwrap()]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (output.status.success(), report[0].clone())
}

#[test]
fn the_scenarios_logs_verify() {
    let dirs: Vec<String> = ["agreements", "projects", "procurement"]
        .iter()
        .map(|s| scenario_data().join(s).display().to_string())
        .collect();
    let mut args = vec!["audit", "verify"];
    args.extend(dirs.iter().map(String::as_str));
    let output = accord(&args);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.trim_end().ends_with(" ok"))
            .count(),
        3,
        "{stdout}"
    );
    let (ok, report) = verify_json(&scenario_data().join("agreements"));
    assert!(ok);
    assert_eq!(report["service"], "agreements");
    assert_eq!(report["ok"], true);
    assert!(report["events"].as_u64().unwrap() > 50);
}

/// Tampers with a copy of the agreements log and checks verify's verdict.
fn expect_failure(change: impl FnOnce(&Path), code: &str, position: u64) {
    let copy = copy_of("agreements");
    let dir = copy.path().join("agreements");
    change(&dir);
    let (ok, report) = verify_json(&dir);
    assert!(!ok, "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problem"]["code"], code, "{report}");
    assert_eq!(report["problem"]["position"], position, "{report}");
    // The human-readable failure names the position too, and the exit is non-zero.
    let output = accord(&["audit", "verify", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{code} at position {position}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn events(dir: &Path) -> u64 {
    accord_log::verify_path(dir).unwrap().events
}

#[test]
fn a_flipped_payload_byte_is_a_hash_mismatch_at_its_position() {
    expect_failure(
        |dir| {
            tamper(dir, |records| {
                let mut event = decode_envelope(&envelope(records, 10)).unwrap();
                event.payload[2] ^= 0x01;
                set_envelope(records, 10, encode_envelope(&event));
            })
        },
        "hash_mismatch",
        10,
    );
}

#[test]
fn a_flipped_hash_byte_is_found_at_its_position() {
    expect_failure(
        |dir| {
            tamper(dir, |records| {
                let mut event = decode_envelope(&envelope(records, 20)).unwrap();
                event.hash.0[0] ^= 0x80;
                set_envelope(records, 20, encode_envelope(&event));
            })
        },
        "hash_mismatch",
        20,
    );
}

#[test]
fn a_deleted_event_is_a_gap() {
    expect_failure(
        |dir| {
            tamper(dir, |records| {
                let (r, i) = locate(records, 30);
                records[r].1.remove(i);
                // Keep the later events where they were stored.
                if i == 0 {
                    records[r].0 += 1;
                }
            })
        },
        "gap",
        30,
    );
}

#[test]
fn two_swapped_events_are_misplaced() {
    expect_failure(
        |dir| {
            tamper(dir, |records| {
                let a = envelope(records, 40);
                let b = envelope(records, 41);
                set_envelope(records, 40, b);
                set_envelope(records, 41, a);
            })
        },
        "misplaced",
        40,
    );
}

#[test]
fn a_tail_truncated_after_the_recorded_head_is_a_head_mismatch() {
    let copy = copy_of("agreements");
    let last = events(&copy.path().join("agreements"));
    expect_failure(
        |dir| {
            tamper(dir, |records| {
                let (r, i) = locate(records, last);
                records[r].1.truncate(i);
            })
        },
        "head_mismatch",
        last,
    );
}

#[test]
fn a_log_without_its_high_water_mark_is_mark_missing() {
    let copy = copy_of("agreements");
    let last = events(&copy.path().join("agreements"));
    expect_failure(
        |dir| std::fs::remove_file(dir.join(accord_log::MARK_FILE)).unwrap(),
        "mark_missing",
        last,
    );
}

#[test]
fn a_log_that_ends_before_its_high_water_mark_is_behind_mark_and_does_not_open() {
    // As after sled recovered a damaged data file to an earlier, consistent state:
    // the mark remembers that one more event was acknowledged.
    let copy = copy_of("agreements");
    let last = events(&copy.path().join("agreements"));
    expect_failure(
        |dir| write_mark(dir, last + 1, [7; 32]),
        "behind_mark",
        last,
    );
    let dir = copy.path().join("agreements");
    write_mark(&dir, last + 1, [7; 32]);
    let error = Log::open(&dir).unwrap_err().to_string();
    assert!(
        error.contains(&format!("events {} to {} are missing", last + 1, last + 1)),
        "{error}"
    );
}

#[test]
fn a_skipped_stream_version_rechained_is_a_version_jump() {
    let copy = copy_of("agreements");
    let last = events(&copy.path().join("agreements"));
    expect_failure(
        |dir| {
            let mut forged_hash = [0; 32];
            tamper(dir, |records| {
                // The forger recomputes the hash of what they changed and points the
                // head at it; the version still cannot skip.
                let mut forged = decode_envelope(&envelope(records, last)).unwrap();
                forged.version += 1;
                forged.hash = compute_hash(&forged);
                forged_hash = forged.hash.0;
                set_envelope(records, last, encode_envelope(&forged));
            });
            set_head_hash(dir, forged_hash);
        },
        "version_jump",
        last,
    );
}

#[test]
fn a_directory_without_a_log_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let output = accord(&["audit", "verify", empty.path().to_str().unwrap()]);
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("no log here"), "{stderr}");
}

#[test]
fn the_jsonl_export_reimports_into_the_stored_envelopes() {
    let dir = scenario_data().join("projects");
    let output = accord(&[
        "audit",
        "export",
        "--format",
        "jsonl",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let copy = copy_of("projects");
    let log = Log::open(copy.path().join("projects")).unwrap();
    let stored: Vec<Vec<u8>> = log
        .read_all(1)
        .map(|e| encode_envelope(&e.unwrap()))
        .collect();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), stored.len());
    for (line, stored) in lines.iter().zip(&stored) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["service"], "projects");
        let envelope: pb::EventEnvelope =
            accord_contracts::from_json(&value["envelope"].to_string()).unwrap();
        assert_eq!(&envelope.encode_to_vec(), stored);
        assert!(value["payload"].is_object(), "{line}");
    }

    // A range, as CSV: a header and one row per event.
    let output = accord(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--from",
        "3",
        "--to",
        "5",
        dir.to_str().unwrap(),
    ]);
    let csv = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(rows[0].starts_with("service,position,event_id"));
    assert!(rows[1].starts_with("projects,3,"), "{}", rows[1]);
    assert!(rows[3].starts_with("projects,5,"), "{}", rows[3]);
}

#[test]
fn the_audit_commands_never_write_where_they_read() {
    let copy = copy_of("procurement");
    let dir = copy.path().join("procurement");
    let before = snapshot(copy.path());
    let path = dir.to_str().unwrap();
    assert!(accord(&["audit", "verify", path]).status.success());
    assert!(accord(&["audit", "export", path]).status.success());
    assert!(accord(&["audit", "export", "--format", "csv", path])
        .status
        .success());
    assert_eq!(snapshot(copy.path()), before);
}

fn replay(at: &str, effective: bool) -> serde_json::Value {
    let data = scenario_data();
    let agreements = data.join("agreements").display().to_string();
    let procurement = data.join("procurement").display().to_string();
    let mut args = vec!["audit", "replay", "--json", "--as-of", at];
    if effective {
        args.push("--effective");
    }
    args.extend([agreements.as_str(), procurement.as_str()]);
    let output = accord(&args);
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn agreement<'a>(projections: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    projections["agreements"]["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
}

fn ledger_row<'a>(projections: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    projections["ledger"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

#[test]
fn replay_as_of_shows_the_scenario_before_signature_in_force_and_amended() {
    let before = replay("2024-11-26T11:00:00Z", false);
    let main = agreement(&before, "lt-ua-defence-industry");
    assert_eq!(main["status"], "drafted");
    assert_eq!(main["signatures"], 1);

    let in_force = replay("2024-11-26T12:00:00Z", false);
    let main = agreement(&in_force, "lt-ua-defence-industry");
    assert_eq!(main["status"], "in_force");
    assert_eq!(main["signatures"], 4);
    assert_eq!(main["inForceSince"], "2024-11-26T11:15:00Z");
    assert!(
        in_force["policy"].get("grants").is_none(),
        "no priority yet"
    );

    let before_amendment = replay("2025-04-03T00:00:00Z", false);
    assert_eq!(before_amendment["policy"]["version"], "1");
    let amended = replay("2025-04-05T00:00:00Z", false);
    assert_eq!(amended["policy"]["version"], "2");
    let categories = &amended["policy"]["grants"][0]["itemCategories"];
    assert!(
        categories
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "electronic-warfare"),
        "{categories}"
    );
}

#[test]
fn replay_effective_counts_a_fact_recorded_late_that_recorded_time_does_not() {
    // January's shell deliveries were recorded in April.
    let known = replay("2025-02-15T00:00:00Z", false);
    let in_effect = replay("2025-02-15T00:00:00Z", true);
    assert!(
        ledger_row(&known, "c-shells").get("delivered").is_none(),
        "nothing known yet"
    );
    assert_eq!(ledger_row(&in_effect, "c-shells")["delivered"], "12000");
    assert_ne!(known["ledger"], in_effect["ledger"]);
}

#[test]
fn the_priority_commitments_history_shows_its_life_and_the_policy_changes_it_caused() {
    let data = scenario_data();
    let agreements = data.join("agreements").display().to_string();
    let procurement = data.join("procurement").display().to_string();
    let output = accord(&[
        "audit",
        "history",
        "commitment",
        "c-priority",
        &agreements,
        &procurement,
    ]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout, include_str!("expected/history-c-priority.txt"));

    let output = accord(&[
        "audit",
        "history",
        "--json",
        "commitment",
        "c-priority",
        &agreements,
        &procurement,
    ]);
    let entries: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let events: Vec<(&str, &str)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["relation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("CommitmentProposed", "self"),
            ("CommitmentAccepted", "self"),
            ("PriorityPolicyUpdated", "caused"),
            ("CommitmentAmended", "self"),
            ("PriorityPolicyUpdated", "caused"),
        ]
    );
    assert_eq!(entries[3]["motion"], "m-priority-ew");
    assert_eq!(entries[3]["actor"], "lt-kasciunas");
    assert_eq!(entries[3]["party"], "LT");
    assert_eq!(entries[1]["party"], "UA");
    let change = entries[3]["change"].as_str().unwrap();
    assert!(
        change.contains("itemCategories: [ammunition, explosives, uav] -> [ammunition, explosives, uav, electronic-warfare]"),
        "{change}"
    );
}

#[test]
fn a_funding_commitments_history_shows_the_pledges_and_disbursements_that_caused_its_progress() {
    let data = scenario_data();
    let dirs: Vec<String> = ["agreements", "projects"]
        .iter()
        .map(|s| data.join(s).display().to_string())
        .collect();
    let output = accord(&[
        "audit",
        "history",
        "--json",
        "commitment",
        "c-funding",
        &dirs[0],
        &dirs[1],
    ]);
    assert!(output.status.success(), "{output:?}");
    let entries: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let causes: Vec<&serde_json::Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["relation"] == "cause")
        .collect();
    assert!(!causes.is_empty(), "{entries}");
    // Pledges moved what was allocated, disbursements what was delivered.
    assert!(
        causes.iter().all(|e| e["service"] == "projects"),
        "{entries}"
    );
    let mut kinds: Vec<&str> = causes.iter().filter_map(|e| e["event"].as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds, ["FundingDisbursed", "FundingPledged"], "{entries}");

    let output = accord(&["audit", "history", "project", "no-such-project", &dirs[1]]);
    assert!(!output.status.success());
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("no-such-project"));
}

/// `accord serve agreements` on `nats` with its data under `data`, stderr kept.
fn serve_agreements(nats: &accord_testkit::NatsServer, data: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "serve",
            "agreements",
            "--nats",
            &nats.url(),
            "--http",
            "",
            "--data",
        ])
        .arg(data)
        .env("ACCORD_LOG_LEVEL", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a `serve` that must stop by itself; its exit code and stderr.
fn exits_by_itself(mut child: std::process::Child) -> (Option<i32>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("accord serve went on serving");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (status.code(), stderr)
}

#[test]
fn serve_on_a_log_that_lost_its_high_water_mark_exits_1_and_says_why() {
    let nats = accord_testkit::NatsServer::start();
    let copy = copy_of("agreements");
    std::fs::remove_file(copy.path().join("agreements").join(accord_log::MARK_FILE)).unwrap();
    let (code, stderr) = exits_by_itself(serve_agreements(&nats, copy.path()));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("high-water mark file"), "{stderr}");
}

#[test]
fn serve_on_a_log_behind_its_stream_exits_1_before_appending() {
    let nats = accord_testkit::NatsServer::start();
    let copy = copy_of("agreements");
    let last = events(&copy.path().join("agreements"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let js = runtime.block_on(async {
        async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap())
    });
    // A first run publishes the whole log to the stream.
    let mut first = serve_agreements(&nats, copy.path());
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(mut stream) = js.get_stream("ACCORD_AGREEMENTS").await {
                if stream.info().await.unwrap().state.messages == last {
                    break;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the relay published nothing"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    first.kill().unwrap();
    first.wait().unwrap();
    // The stream then holds an event past the log's end: as if the log had lost it.
    runtime.block_on(async {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", uuid::Uuid::now_v7().to_string().as_str());
        headers.insert("Accord-Position", (last + 1).to_string().as_str());
        js.publish_with_headers("accord.agreements.evt.agreement.x.Lost", headers, "".into())
            .await
            .unwrap()
            .await
            .unwrap();
    });
    let (code, stderr) = exits_by_itself(serve_agreements(&nats, copy.path()));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "holds events up to position {}, but the log ends at {last}",
            last + 1
        )),
        "{stderr}"
    );
    assert_eq!(events(&copy.path().join("agreements")), last);
}

/// `accord audit verify --json --signatures DIR...` with the scenario's trust roots
/// and service keys: its exit status and reports.
fn verify_signatures(dirs: &[PathBuf]) -> (bool, Vec<serde_json::Value>) {
    let scenario = accord_scenario::Scenario::lt_ua().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["audit", "verify", "--json", "--signatures"])
        .args(dirs)
        .env("ACCORD_LOG_LEVEL", "warn")
        .env("ACCORD_TRUST_ROOTS", scenario.trust_roots_setting())
        .env(
            "ACCORD_SERVICE_KEYS",
            accord_scenario::service_keys_setting(),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let reports: Vec<serde_json::Value> =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (output.status.success(), reports)
}

#[test]
fn given_the_demos_three_logs_when_verified_with_signatures_then_every_event_of_each_verifies() {
    // Given the three logs, the projects log first (reports keep the order given)
    let dirs: Vec<PathBuf> = ["projects", "agreements", "procurement"]
        .iter()
        .map(|service| scenario_data().join(service))
        .collect();
    // When verified with signatures
    let (ok, reports) = verify_signatures(&dirs);
    // Then each event of each log verified, the projects' and procurement's against
    // the registry the agreements log holds
    assert!(ok, "{reports:#?}");
    let services: Vec<&str> = reports
        .iter()
        .map(|r| r["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["projects", "agreements", "procurement"]);
    for report in &reports {
        let events = report["events"].as_u64().unwrap();
        assert!(events > 0, "{report:#}");
        assert_eq!(report["signatures"]["not_checked"], serde_json::Value::Null);
        assert_eq!(report["signatures"]["verified"].as_u64(), Some(events));
    }
    // ApproveProject came from the agreements service's reaction, signed with its key
    assert!(reports[0]["signatures"]["by_actor"]["accord-reactions"].as_u64() > Some(0));
}

#[test]
fn given_the_projects_log_alone_when_verified_with_signatures_then_it_says_they_were_not_checked() {
    let (_, reports) = verify_signatures(&[scenario_data().join("projects")]);
    let why = reports[0]["signatures"]["not_checked"].as_str().unwrap();
    assert!(why.contains("agreements log"), "{why}");
    assert_eq!(reports[0]["signatures"]["verified"].as_u64(), Some(0));
}

fn scenario_document(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenario/data/documents")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn given_the_agreement_text_when_an_auditor_looks_for_it_then_the_event_citing_it_is_found() {
    let data = scenario_data();
    let dirs: Vec<String> = ["agreements", "projects", "procurement"]
        .iter()
        .map(|s| data.join(s).display().to_string())
        .collect();
    let mut args = vec![
        "audit",
        "find-document",
        "--json",
        "",
        &dirs[0],
        &dirs[1],
        &dirs[2],
    ];
    let text = scenario_document("lt-ua-agreement.txt");
    args[3] = &text;
    let output = accord(&args);
    assert!(output.status.success(), "{output:?}");
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let citations = found["citations"].as_array().unwrap();
    assert_eq!(citations.len(), 1, "{found}");
    assert_eq!(citations[0]["event"], "AgreementDrafted");
    assert_eq!(citations[0]["stream"], "agreement/lt-ua-defence-industry");
    assert_eq!(citations[0]["actor"], "lt-kasciunas");
    assert_eq!(citations[0]["service"], "agreements");
    // The accession protocol is cited twice: by the motion and by the accession.
    let protocol = scenario_document("pl-accession-protocol.txt");
    args[3] = &protocol;
    let output = accord(&args);
    assert!(output.status.success(), "{output:?}");
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let events: Vec<&str> = found["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["MotionTabled", "AccessionApproved"], "{found}");
    // By hash, in the table form.
    let hash = found["sha256"].as_str().unwrap().to_owned();
    let output = accord(&["audit", "find-document", "--sha256", &hash, &dirs[0]]);
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("AccessionApproved") && table.contains("lt-kasciunas"),
        "{table}"
    );
    // A file nobody cited: exit 1, saying so.
    let uncited = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(uncited.path(), b"not cited anywhere").unwrap();
    let output = accord(&[
        "audit",
        "find-document",
        uncited.path().to_str().unwrap(),
        &dirs[0],
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("cites sha256"));
    // A malformed hash is a clear error, not a search.
    let output = accord(&["audit", "find-document", "--sha256", "abc", &dirs[0]]);
    assert!(!output.status.success());
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("64 hex digits"));
}

#[test]
fn given_the_disputed_delivery_when_its_history_is_read_then_the_reconciliation_is_shown_by_hash() {
    let data = scenario_data();
    let dir = data.join("agreements").display().to_string();
    let output = accord(&[
        "audit",
        "history",
        "--json",
        "commitment",
        "c-funding",
        &dir,
    ]);
    assert!(output.status.success(), "{output:?}");
    let entries: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let disputed = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "DeliveryDisputed")
        .unwrap();
    let documents = disputed["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{disputed}");
    assert_eq!(
        documents[0]["title"],
        "Reconciliation of disbursed funding (illustrative)"
    );
    assert_eq!(documents[0]["sha256"].as_str().unwrap().len(), 64);
    // The documents are not repeated among the changes.
    assert!(!disputed["change"].as_str().unwrap().contains("documents"));
    let output = accord(&["audit", "history", "commitment", "c-funding", &dir]);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("Reconciliation of disbursed funding (illustrative) (sha256 "),
        "{table}"
    );
}
