//! `accord witness` as a process on a real nats-server (issue 16, build 3 and
//! acceptance 3): it co-signs checkpoints that extend the last one it co-signed,
//! keeps that record across SIGKILL, and refuses — with an alarm and the evidence
//! kept — a rewritten log, a log cut back, a stale old size, a forged signature and
//! an unknown log.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use accord::witness::{ask, WitnessAnswer};
use accord_bus::{Bus, NatsBus};
use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::CosignerKey;
use accord_evidence::merkle::{consistency_proof, leaf_hash, root, MemoryTree};
use accord_evidence::note::{Note, NoteSigner};
use accord_evidence::witness::AddCheckpoint;
use accord_testkit::NatsServer;
use support::Process;

const ORIGIN: &str = "accord.test/lt-ua/agreements";
const NAME: &str = "witness.lt.test";

fn accord(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env_remove("ACCORD_NATS_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn public_key_line(printed: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.strip_prefix("public key "))
        .expect("the public key is printed")
        .to_owned()
}

/// The keys: the log's (read back from the file `accord keys log` wrote) and the
/// witness's public key as printed.
fn keys(dir: &Path) -> (NoteSigner, CosignerKey) {
    let log_file = dir.join("log.key");
    let printed = accord(&[
        "keys",
        "log",
        "--origin",
        ORIGIN,
        "--out",
        log_file.to_str().unwrap(),
    ]);
    let log: NoteSigner = std::fs::read_to_string(&log_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(public_key_line(&printed), log.verifier().to_string());
    let witness_file = dir.join("witness.key");
    let printed = accord(&[
        "keys",
        "witness",
        "--name",
        NAME,
        "--out",
        witness_file.to_str().unwrap(),
    ]);
    let witness: CosignerKey = public_key_line(&printed).parse().unwrap();
    // Keys are never overwritten.
    let again = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "keys",
            "witness",
            "--name",
            NAME,
            "--out",
            witness_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());
    std::fs::write(
        dir.join("logs.txt"),
        format!("# logs this witness trusts\n{}\n", log.verifier()),
    )
    .unwrap();
    (log, witness)
}

fn start_witness(dir: &Path, url: &str, http: &str) -> Process {
    Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_accord"))
            .args([
                "witness", "--name", NAME, "--nats", url, "--http", http, "--key",
            ])
            .arg(dir.join("witness.key"))
            .arg("--logs")
            .arg(dir.join("logs.txt"))
            .arg("--state")
            .arg(dir.join("state"))
            .stdout(std::process::Stdio::null())
            .env("ACCORD_LOG_LEVEL", "error"),
    )
}

fn tree_of(history: &[&str]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for entry in history {
        tree.push(leaf_hash(entry.as_bytes()));
    }
    tree
}

fn request(tree: &MemoryTree, old: u64, new: u64, log: &NoteSigner) -> AddCheckpoint {
    let Ok(at) = root(tree, new);
    let checkpoint = Checkpoint {
        origin: log.verifier().name().to_owned(),
        size: new,
        root: at,
        extensions: vec![],
    };
    AddCheckpoint {
        old_size: old,
        proof: if old == 0 {
            vec![]
        } else {
            consistency_proof(tree, old, new).unwrap()
        },
        checkpoint: checkpoint.sign(log).unwrap(),
    }
}

/// Asks until the witness answers (it may still be starting).
async fn ask_patiently(bus: &Bus, request: &AddCheckpoint) -> WitnessAnswer {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ask(bus, NAME, request, Duration::from_secs(2)).await {
            Ok(answer) => return answer,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("the witness never answered: {error}"),
        }
    }
}

fn assert_cosigned(answer: &WitnessAnswer, request: &AddCheckpoint, witness: &CosignerKey) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let note = Note::parse(format!("{}{}", request.checkpoint, answer.body).as_bytes()).unwrap();
    let time = witness.verify(&note).unwrap();
    assert!(time > 1_700_000_000, "a real timestamp: {time}");
}

fn alarms(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir.join("state/alarms"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    found.sort();
    found
}

const HISTORY: [&str; 9] = [
    "agreement signed",
    "c-priority accepted: 100 units",
    "progress 10",
    "progress 20",
    "board established",
    "progress 30",
    "project proposed",
    "project approved",
    "progress 40",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_cosigns_extensions_survives_sigkill_and_refuses_rewrites_and_truncations() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (log, witness) = keys(dir.path());
    let bus = Bus::Nats(NatsBus::connect(&nats.url(), "witness-test").await.unwrap());
    let honest = tree_of(&HISTORY);

    // Given a witness that co-signed sizes 3 and then 6
    let mut process = start_witness(dir.path(), &nats.url(), "");
    let first = request(&honest, 0, 3, &log);
    assert_cosigned(&ask_patiently(&bus, &first).await, &first, &witness);
    let second = request(&honest, 3, 6, &log);
    assert_cosigned(&ask_patiently(&bus, &second).await, &second, &witness);

    // When it is killed with SIGKILL and started again
    process.0.kill().unwrap();
    process.0.wait().unwrap();
    let http = format!("127.0.0.1:{}", accord_testkit::free_port());
    let _process = start_witness(dir.path(), &nats.url(), &http);

    // Then it still holds size 6: an older old size is answered with 6 (409, the
    // spec's text/x.tlog.size body), and nothing older is co-signed again
    let stale = ask_patiently(&bus, &request(&honest, 3, 7, &log)).await;
    assert_eq!((stale.status, stale.body.as_str()), (409, "6\n"));
    let older = ask_patiently(&bus, &request(&honest, 0, 3, &log)).await;
    assert_eq!(older.status, 409);
    assert!(alarms(dir.path()).is_empty(), "a stale client is no alarm");

    // And a rewrite — the amount of the accepted commitment changed, every hash and
    // the tree recomputed and the checkpoint re-signed with the log key — is refused
    // at the size it co-signed (409) and beyond it (422), each an alarm kept with
    // the checkpoint it contradicts
    let mut rewritten = HISTORY;
    rewritten[1] = "c-priority accepted: 1000 units";
    let forged = tree_of(&rewritten);
    let same_size = ask_patiently(&bus, &request(&forged, 6, 6, &log)).await;
    assert_eq!(same_size.status, 409, "{}", same_size.body);
    let extended = ask_patiently(&bus, &request(&forged, 6, 9, &log)).await;
    assert_eq!(extended.status, 422, "{}", extended.body);
    assert!(
        extended.body.contains("does not extend"),
        "{}",
        extended.body
    );
    // A log cut back to 4 events is refused too (400)
    let cut = AddCheckpoint {
        old_size: 6,
        proof: vec![],
        checkpoint: request(&honest, 0, 4, &log).checkpoint,
    };
    let truncated = ask_patiently(&bus, &cut).await;
    assert_eq!(truncated.status, 400, "{}", truncated.body);
    let kept = alarms(dir.path());
    assert_eq!(kept.len(), 3, "{kept:#?}");
    for alarm in &kept {
        assert!(
            alarm.contains(&second.checkpoint),
            "the co-signed checkpoint is kept: {alarm}"
        );
    }
    assert!(kept
        .iter()
        .any(|a| a.contains(&request(&forged, 6, 9, &log).checkpoint)));

    // A checkpoint not signed by the log's key (403) and an unknown log (404)
    let impostor = NoteSigner::from_seed(ORIGIN, [42; 32]).unwrap();
    let unsigned = ask_patiently(&bus, &request(&honest, 6, 9, &impostor)).await;
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    let stranger = NoteSigner::from_seed("accord.test/other", [43; 32]).unwrap();
    let unknown = ask_patiently(&bus, &request(&honest, 0, 2, &stranger)).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // And the honest log's next checkpoint is still co-signed
    let next = request(&honest, 6, 9, &log);
    assert_cosigned(&ask_patiently(&bus, &next).await, &next, &witness);

    // And /metrics counts what happened since the restart
    let (status, metrics) = accord::http::probe(&http, "/metrics").unwrap();
    assert_eq!(status, 200);
    for line in [
        "accord_witness_cosigned_total 1",
        "accord_witness_refused_total 7",
        "accord_witness_alarms_total 3",
        &format!("accord_witness_cosigned_size{{log=\"{ORIGIN}\"}} 9"),
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
}
