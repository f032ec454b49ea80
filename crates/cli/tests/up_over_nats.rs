//! `accord up --nats` as a subprocess against a real nats-server: the scenario driven
//! over NATS, `/readyz` and `/metrics` scraped, SIGTERM (graceful, exit 0), a
//! restart, and identical projections rebuilt from the logs.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use accord::play::{expected_projections, items, play_step, projections, wait_ready};
use accord_bus::{AccordClient, Bus, NatsBus};
use accord_scenario::{Embedded, Scenario};
use accord_testkit::{free_port, NatsServer};
use support::Process;

const PATIENCE: Duration = Duration::from_secs(30);

/// `accord up` as a deployment runs it: signatures required, the scenario's
/// parties' administrators as trust roots, and each service's reaction key in a
/// key file beside the data (the scenario signs every step with its actor's key).
fn up(url: &str, data: &std::path::Path, http: &str) -> Process {
    let keys = data.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    for service in ["agreements", "projects", "procurement"] {
        let seed = accord_scenario::service_key(service).seed();
        std::fs::write(
            keys.join(format!("{service}.key")),
            accord::keys::pem_of(&seed),
        )
        .unwrap();
    }
    let scenario = Scenario::lt_ua().unwrap();
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["up", "--nats", url, "--http", http, "--data"])
            .arg(data)
            .env("ACCORD_REQUIRE_SIGNATURES", "true")
            .env("ACCORD_TRUST_ROOTS", scenario.trust_roots_setting())
            .env(
                "ACCORD_SERVICE_KEYS",
                accord_scenario::service_keys_setting(),
            )
            .env("ACCORD_REACTION_KEY_DIR", &keys)
            .env("ACCORD_LOG_LEVEL", "warn"),
    )
}

/// GET `path`; the status code and body.
fn get(addr: &str, path: &str) -> (u16, String) {
    accord::http::probe(addr, path).unwrap()
}

/// Polls /readyz until it answers `status`.
async fn until_status(addr: &str, status: u16) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answer = get(addr, "/readyz");
        if answer.0 == status {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz stayed {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every sample line is `name{labels} value` (or `name value`) with a number.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect(line);
            let name_ok = series
                .split('{')
                .next()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
            assert!(name_ok, "bad series name: {line}");
            if let Some(labels) = series.split_once('{').map(|(_, l)| l) {
                assert!(labels.ends_with('}'), "bad labels: {line}");
            }
            (series.to_owned(), value.parse::<f64>().expect(line))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_on_nats_serves_the_scenario_and_restarts_to_the_same_projections() {
    let mut nats = NatsServer::start();
    let data = tempfile::tempdir().unwrap();
    let http = format!("127.0.0.1:{}", free_port());
    let mut process = up(&nats.url(), data.path(), &http);
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "up-test").await.unwrap());
    let client = AccordClient::new(bus);
    for service in ["agreements", "projects", "procurement"] {
        wait_ready(&client, service, PATIENCE).await.unwrap();
    }
    let scenario = Scenario::lt_ua().unwrap();
    let mut pure = Embedded::default();
    for index in 0..scenario.steps.len() {
        play_step(
            &client,
            &scenario.steps,
            index,
            &mut pure,
            index % 3 == 0,
            PATIENCE,
        )
        .await
        .unwrap();
    }
    let items = items(&pure);
    let before = projections(&client, &items).await.unwrap();
    assert_eq!(
        before,
        expected_projections(&pure, &items, accord_runtime::now().date())
    );

    let (status, body) = get(&http, "/readyz");
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    assert_eq!(get(&http, "/healthz").0, 200);
    let (status, metrics) = get(&http, "/metrics");
    assert_eq!(status, 200);
    let samples = samples(&metrics);
    let value = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
            .1
    };
    assert!(value("accord_commands_total{service=\"agreements\",outcome=\"ok\"}") > 0.0);
    assert!(value("accord_command_duration_seconds_count{service=\"agreements\"}") > 0.0);
    assert!(value("accord_events_appended_total{service=\"procurement\"}") > 0.0);
    // Every append that wrote events was in a group, and every group was synced.
    for service in ["agreements", "projects", "procurement"] {
        let of = |name: &str| value(&format!("{name}{{service=\"{service}\"}}"));
        let (appends, groups) = (
            of("accord_log_appends_total"),
            of("accord_log_groups_total"),
        );
        assert!(appends > 0.0, "{service}: no appends in\n{metrics}");
        assert!(
            (1.0..=appends).contains(&groups),
            "{service}: {groups} groups of {appends} appends"
        );
        assert!(
            of("accord_log_syncs_total") >= 1.0,
            "{service}: never synced"
        );
        // Present, whatever its count (it counts refused appends too).
        let _on_caller_thread = of("accord_log_appends_on_caller_thread_total");
    }
    assert_eq!(value("accord_relay_lag_events{service=\"projects\"}"), 0.0);
    assert_eq!(
        value(
            "accord_consumer_lag_events{service=\"agreements\",consumer=\"react-motion-adopted\"}"
        ),
        0.0
    );
    // The board's motion reached the projects service through a reaction flow.
    assert!(
        value(
            "accord_reaction_commands_total{service=\"agreements\",flow=\"react-motion-adopted\",outcome=\"sent\"}"
        ) > 0.0
    );
    assert!(
        !metrics.contains("outcome=\"refused\"") && !metrics.contains("skipped_total{"),
        "the scenario's reactions are all carried out:\n{metrics}"
    );
    assert_eq!(get(&http, "/nothing").0, 404);

    // Unready while NATS is down, ready again when it returns.
    nats.stop();
    let (status, body) = until_status(&http, 503).await;
    assert!(body.contains("bus not connected"), "{status} {body}");
    nats.restart();
    until_status(&http, 200).await;
    for service in ["agreements", "projects", "procurement"] {
        wait_ready(&client, service, PATIENCE).await.unwrap();
    }

    process.terminate();
    let mut process = up(&nats.url(), data.path(), &http);
    for service in ["agreements", "projects", "procurement"] {
        wait_ready(&client, service, PATIENCE).await.unwrap();
    }
    let after = projections(&client, &items).await.unwrap();
    assert_eq!(after, before);
    process.terminate();
    for service in ["agreements", "projects", "procurement"] {
        accord_log::verify_path(data.path().join(service)).unwrap();
    }
}
