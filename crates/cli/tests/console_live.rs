//! The console served live by a running Accord (issue 19, build 1): three `accord
//! serve` processes, one per service, on a real nats-server, the scenario played
//! over the bus; each process serves `/console/` on its HTTP address, now through
//! the services' queries (so the procurement process shows the agreements pages), an
//! earlier instant folded from the logs the process runs.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use accord::play::{play_step, wait_ready};
use accord_bus::{AccordClient, Bus, NatsBus};
use accord_scenario::{Embedded, Scenario};
use accord_testkit::{free_port, NatsServer};
use support::{row, Process};

const PATIENCE: Duration = Duration::from_secs(30);

/// `accord serve SERVICE` on NATS, unsigned commands taken (this test is about the
/// console), its HTTP endpoints and console on `http`.
/// The agreements service also keeps signed checkpoints (the demo's log key, no
/// witnesses), every 10 events or each second.
fn serve(service: &str, url: &str, http: &str, data: &std::path::Path) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_accord"));
    command
        .args(["serve", service, "--nats", url, "--http", http, "--data"])
        .arg(data)
        .env("ACCORD_REQUIRE_SIGNATURES", "false")
        .env("ACCORD_LOG_LEVEL", "warn");
    if service == "agreements" {
        let keys = data.with_file_name("log-keys");
        std::fs::create_dir_all(&keys).unwrap();
        std::fs::write(
            keys.join("agreements.log-key"),
            accord::demo_evidence::log_signer("agreements").to_secret_string(),
        )
        .unwrap();
        command
            .env("ACCORD_LOG_KEY_DIR", &keys)
            .env("ACCORD_CHECKPOINT_EVERY_EVENTS", "10")
            .env("ACCORD_CHECKPOINT_EVERY_SECS", "1");
    }
    Process::spawn(&mut command)
}

/// GET `path` until it answers 200 (a checkpoint covering the event may take a
/// second): the body's bytes.
fn download(addr: &str, path: &str) -> Vec<u8> {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (status, _, body) = support::http_get(addr, path);
        if status == 200 {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// GET `path`: its status and body; every page is HTML without a script, under
/// the console's Content-Security-Policy.
fn page(addr: &str, path: &str) -> (u16, String) {
    let (status, body) = accord::http::probe(addr, path).unwrap();
    assert!(!body.contains("<script"), "{path} has a script");
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_accord_serves_the_console_through_the_services_queries() {
    let nats = NatsServer::start();
    let data = tempfile::tempdir().unwrap();
    let http = |_: &str| format!("127.0.0.1:{}", free_port());
    let addresses: Vec<(String, String)> = ["agreements", "projects", "procurement"]
        .iter()
        .map(|s| (s.to_string(), http(s)))
        .collect();
    let _processes: Vec<Process> = addresses
        .iter()
        .map(|(service, addr)| serve(service, &nats.url(), addr, &data.path().join(service)))
        .collect();
    let client = AccordClient::new(Bus::Nats(
        NatsBus::connect(&nats.url(), "console-live-test")
            .await
            .unwrap(),
    ));
    for (service, _) in &addresses {
        wait_ready(&client, service, PATIENCE).await.unwrap();
    }
    let scenario = Scenario::lt_ua().unwrap();
    let mut pure = Embedded::default();
    for index in 0..scenario.steps.len() {
        play_step(&client, &scenario.steps, index, &mut pure, false, PATIENCE)
            .await
            .unwrap();
    }
    let agreements_http = addresses[0].1.clone();
    let procurement_http = addresses[2].1.clone();

    tokio::task::spawn_blocking(move || {
        // Given the procurement process, when its console shows the agreements
        // pages, then they come from the agreements service's queries over the bus
        let (status, index) = page(&procurement_http, "/console/");
        assert_eq!(status, 200, "{index}");
        assert!(index.contains("Read-only, live"), "{index}");
        let (_, agreements) = page(&procurement_http, "/console/agreements");
        let agreement = row(&agreements, "lt-ua-defence-industry");
        assert!(
            agreement.contains("in_force") && agreement.contains("LT, UA, PL"),
            "{agreement}"
        );
        let (_, ledger) = page(&procurement_http, "/console/ledger");
        assert!(ledger.contains("href=\"/console/commitment/c-priority\""));
        assert!(row(&ledger, "c-funding").contains("UA + LT"));
        let (_, board) = page(&procurement_http, "/console/board");
        assert!(row(&board, "m-priority-ew").contains("adopted"), "{board}");
        let (_, projects) = page(&procurement_http, "/console/projects");
        assert!(
            row(&projects, "rdx-plant")
                .contains("EUR pledged 1200000000, disbursed 400000000, outstanding 800000000"),
            "{projects}"
        );
        // The queues it learns from ProcurementMarkets: Ukraine first for shells.
        let (_, procurement) = page(&procurement_http, "/console/procurement");
        let first = procurement
            .split("<tr>")
            .find(|r| r.contains("req-ua-shells") && r.contains("supply-lt-shells-1"))
            .expect("UA's shells allocated");
        assert!(
            first.contains("<td>1</td>") && first.contains("priority"),
            "{first}"
        );

        // The commitment's changes through CommitmentTimeline, the amendment under its
        // motion; no chart where the agreements log is not at hand, a chart where it is
        let (_, timeline) = page(&procurement_http, "/console/commitment/c-priority");
        let amended = timeline
            .split("<tr>")
            .find(|r| r.contains("m-priority-ew"))
            .unwrap_or_else(|| panic!("no change under m-priority-ew in {timeline}"));
        assert!(amended.contains("amended"), "{amended}");
        assert!(timeline.contains("No chart here"), "{timeline}");
        let (_, timeline) = page(&agreements_http, "/console/commitment/c-funding");
        assert!(
            timeline.contains("<figure class=\"chart\"><svg"),
            "{timeline}"
        );
        // The documents a change cites, by hash, and each change's proof
        assert!(
            timeline.contains("Reconciliation of disbursed funding (illustrative) (sha256 "),
            "{timeline}"
        );
        let event = timeline
            .split("href=\"/console/proof?event=")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no proof link in {timeline}"))
            .to_owned();
        let proof = download(&agreements_http, &format!("/console/proof?event={event}"));
        let envelope = download(
            &agreements_http,
            &format!("/console/proof?event={event}&part=envelope"),
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("event.tlog-proof");
        std::fs::write(&file, &proof).unwrap();
        std::fs::write(dir.path().join("event.tlog-proof.envelope"), &envelope).unwrap();
        let checked = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["audit", "check-proof"])
            .arg(&file)
            .arg("--log-key")
            .arg(
                accord::demo_evidence::log_signer("agreements")
                    .verifier()
                    .to_string(),
            )
            .output()
            .unwrap();
        assert!(checked.status.success(), "{checked:?}");
        // The procurement process keeps no checkpoints: it says why there is no proof
        let (status, none) = page(&procurement_http, &format!("/console/proof?event={event}"));
        assert_eq!(status, 400);
        assert!(none.contains("no log keys (log_key_dir)"), "{none}");

        // As of an earlier instant: folded from the process's own log, or said plainly
        // where the process does not run the log the page needs
        let (status, before) = page(
            &agreements_http,
            "/console/agreements?as_of=2024-11-20&time=recorded",
        );
        assert_eq!(status, 200, "{before}");
        let (_, now) = page(&agreements_http, "/console/agreements");
        assert_ne!(before, now);
        let (status, elsewhere) = page(
            &agreements_http,
            "/console/procurement?as_of=2024-11-20&time=recorded",
        );
        assert_eq!(status, 400);
        assert!(
            elsewhere.contains("needs the procurement log, which this process does not run"),
            "{elsewhere}"
        );

        // The evidence page shows each log the process runs, with its head
        let (_, evidence) = page(&agreements_http, "/console/evidence");
        let agreements_log = row(&evidence, "agreements");
        assert!(agreements_log.contains("verified | "), "{agreements_log}");
        assert!(
            agreements_log.contains("latest at size")
                && agreements_log.contains("log signature: verified"),
            "{agreements_log}"
        );
        assert!(evidence.contains("accord audit verify"), "{evidence}");

        // The operator's endpoints are still there, and nothing else is
        assert_eq!(
            accord::http::probe(&agreements_http, "/healthz").unwrap().0,
            200
        );
        assert_eq!(
            accord::http::probe(&agreements_http, "/nothing").unwrap().0,
            404
        );
    })
    .await
    .unwrap();
}
