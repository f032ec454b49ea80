//! The projections' snapshot: a service opened from it holds exactly the projections
//! a rebuild from the log gives, and a snapshot that is deleted, cut, flipped, of
//! another log or older than the log is never believed beyond what it covers.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use accord_boundary::Body;
use accord_log::{LogConfig, SNAPSHOT_DIR};
use accord_runtime::{AgreementsModel, Service};
use support::{meta, run_agreements_steps};

fn config(snapshot_after: u64) -> LogConfig {
    LogConfig {
        snapshot_after,
        ..LogConfig::default()
    }
}

/// The projections as JSON: equal JSON, equal projections.
fn projections(service: &Service<AgreementsModel>) -> String {
    serde_json::to_string(&*service.view()).unwrap()
}

/// A closed log of the scenario's agreements commands with a projections snapshot,
/// in a fresh directory.
async fn played(snapshot_after: u64) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::<AgreementsModel>::open(dir.path(), config(snapshot_after)).unwrap();
    run_agreements_steps(&service).await;
    service.caught_up().await.unwrap();
    let played = projections(&service);
    close(service).await;
    (dir, played)
}

async fn close(service: Service<AgreementsModel>) {
    drop(service);
    // The projector's task, aborted, lets go of the log when it next runs; its
    // snapshot writes run on the blocking pool.
    for _ in 0..50 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// Opens the service on `dir` with snapshots read as configured, waits until it
/// holds every event, and gives its projections and the snapshot it started from.
async fn opened(dir: &Path, snapshot_after: u64) -> (String, u64, u64) {
    let service = Service::<AgreementsModel>::open(dir, config(snapshot_after)).unwrap();
    service.caught_up().await.unwrap();
    let answer = (
        projections(&service),
        service.opened_from_snapshot(),
        service.log().durable_position(),
    );
    close(service).await;
    answer
}

fn projections_file(dir: &Path) -> PathBuf {
    dir.join(SNAPSHOT_DIR).join("projections.snap")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_snapshot_when_the_service_opens_then_it_replays_only_what_follows_with_the_same_projections(
) {
    let (dir, played) = played(5).await;
    assert!(projections_file(dir.path()).is_file());
    let (rebuilt, from, _) = opened(dir.path(), 0).await;
    assert_eq!(from, 0, "snapshots off: rebuilt from the first event");
    assert_eq!(rebuilt, played);
    let (resumed, from, _) = opened(dir.path(), 5).await;
    assert!(from > 0, "opened from the snapshot");
    assert_eq!(resumed, played);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_damaged_or_foreign_projections_snapshot_then_the_service_rebuilds_the_same_projections(
) {
    type Damage = fn(&Path, &Path);
    let damages: [(&str, Damage); 5] = [
        ("deleted", |dir, _| {
            std::fs::remove_file(projections_file(dir)).unwrap()
        }),
        ("cut", |dir, _| {
            let bytes = std::fs::read(projections_file(dir)).unwrap();
            std::fs::write(projections_file(dir), &bytes[..bytes.len() - 40]).unwrap();
        }),
        ("flipped in the view", |dir, _| {
            let mut bytes = std::fs::read(projections_file(dir)).unwrap();
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
            std::fs::write(projections_file(dir), bytes).unwrap();
        }),
        ("flipped in the hash it covers", |dir, _| {
            let mut bytes = std::fs::read(projections_file(dir)).unwrap();
            bytes[70] ^= 0x01;
            std::fs::write(projections_file(dir), bytes).unwrap();
        }),
        ("another log's", |dir, other| {
            std::fs::copy(projections_file(other), projections_file(dir)).unwrap();
        }),
    ];
    let (other, _) = played(5).await;
    for (name, damage) in damages {
        let (dir, played) = played(5).await;
        damage(dir.path(), other.path());
        let (projections, from, _) = opened(dir.path(), 5).await;
        assert_eq!(from, 0, "{name}: not believed");
        assert_eq!(projections, played, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_snapshot_older_than_the_log_then_the_events_after_it_are_replayed_onto_it() {
    let (dir, _) = played(5).await;
    // More commands, with snapshots off: the snapshot stays where it was.
    let service = Service::<AgreementsModel>::open(dir.path(), config(0)).unwrap();
    let register = r#"{"actorId": "lt-auditor", "name": "Auditor", "party": {"id": "LT"}, "role": "Auditor", "publicKey": "DAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw="}"#;
    service
        .handle("RegisterActor", Body::Json(register), &meta("accord-admin"))
        .await
        .unwrap();
    service.caught_up().await.unwrap();
    let grown = projections(&service);
    close(service).await;
    let (projections, from, head) = opened(dir.path(), 5).await;
    assert!(from > 0 && from < head, "{from} of {head}");
    assert_eq!(projections, grown);
    assert!(projections.contains("lt-auditor"));
}

/// Encoded, decoded and encoded again, the projections read the same.
fn round_trips<T: serde::Serialize + serde::de::DeserializeOwned>(name: &str, value: &T) {
    let encoded = serde_json::to_string(value).unwrap_or_else(|e| panic!("{name}: {e}"));
    let decoded: T = serde_json::from_str(&encoded).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(serde_json::to_string(&decoded).unwrap(), encoded, "{name}");
}

#[test]
fn every_services_projections_of_the_whole_scenario_survive_a_snapshot() {
    let mut pure = accord_scenario::Embedded::default();
    pure.run(&accord_scenario::Scenario::lt_ua().unwrap())
        .unwrap();
    round_trips("agreements", pure.agreements());
    round_trips("actors", pure.actors());
    round_trips("portfolio", pure.portfolio());
    round_trips("procurement", pure.procurement());
    assert!(!pure.procurement().allocations.is_empty());
    assert!(!pure.portfolio().projects.is_empty());
}
