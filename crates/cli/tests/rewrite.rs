//! The rewrite attack (issue 16, acceptance 2, the offline part): the operator,
//! holding the agreements data directory, changes the amount of a funding
//! commitment, recomputes every later hash, the Merkle tree and the high-water mark
//! (through the log's own restore, so the result is a log in every other respect).
//! `audit verify` on that copy alone passes the chain; `audit consistency` with the
//! co-signed checkpoint an auditor kept fails and names the size; the proof file the
//! auditor carried away (`audit prove`) holds for the original event and not for the
//! rewritten one (`audit check-proof`); a log cut back is refused the same way; and the witness logic refuses the rewritten log's next
//! checkpoint, made from the rewritten log's own proofs.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use accord_contracts::v1 as pb;
use accord_evidence::checkpoint::Checkpoint;
use accord_evidence::cosignature::Cosigner;
use accord_evidence::note::NoteSigner;
use accord_evidence::witness::{add_checkpoint, AddCheckpoint, Record, Refusal};
use accord_kernel::{EventHash, RecordedEvent};
use accord_log::{compute_hash, encode_envelope, scan_path, Log, Restore};
use prost::Message as _;

const ORIGIN: &str = "accord.test/lt-ua/agreements";

fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

/// The scenario's agreements log, made once by the demo.
fn agreements() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("accord-rewrite-fixture-")
            .tempdir()
            .unwrap()
            .keep();
        let data = dir.join("data");
        let output = accord(&["demo", "--data", data.to_str().unwrap()]);
        assert!(output.status.success(), "{output:?}");
        data.join("agreements")
    })
}

fn log_key() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [5; 32]).unwrap()
}

fn witness() -> Cosigner {
    Cosigner::from_seed("witness.lt.test", [6; 32]).unwrap()
}

fn all_events(dir: &Path) -> Vec<RecordedEvent> {
    scan_path(dir, 1).unwrap().map(Result::unwrap).collect()
}

/// The root of a log directory's first `size` events, from the log's own tree (on
/// a copy: opening writes sled's files).
fn root_of(dir: &Path, size: u64) -> [u8; 32] {
    let copy = tempfile::tempdir().unwrap();
    accord_testkit::tamper::copy_dir(dir, copy.path());
    Log::open(copy.path()).unwrap().tree_root(size).unwrap()
}

/// A checkpoint of the log at `size`, signed by the log and co-signed by the witness:
/// what an auditor keeps.
fn cosigned_checkpoint(dir: &Path, size: u64) -> String {
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root_of(dir, size),
        extensions: vec![],
    };
    let note = checkpoint.sign(&log_key()).unwrap();
    format!(
        "{note}{}",
        witness()
            .cosign(&checkpoint.to_text(), 1_733_000_000)
            .to_line()
    )
}

/// Writes `events` as a log in `target` through the log's restore, recomputing
/// every hash from the first one changed: a forger's perfect copy.
fn forge(events: Vec<RecordedEvent>, target: &Path) {
    let mut restore = Restore::create(target).unwrap();
    let mut previous = EventHash::GENESIS;
    for mut event in events {
        event.prev_hash = previous;
        event.hash = compute_hash(&event);
        previous = event.hash;
        restore.push(&encode_envelope(&event)).unwrap();
    }
    restore.finish(accord_runtime::RELAY_CURSOR).unwrap();
}

/// The events with the first funding commitment's amount multiplied by ten, and
/// that event's position.
fn with_funding_inflated(mut events: Vec<RecordedEvent>) -> (Vec<RecordedEvent>, u64) {
    let inflated = |event: &RecordedEvent| -> Option<Vec<u8>> {
        if !event.event_type.ends_with("CommitmentProposed") {
            return None;
        }
        let mut proposed = pb::CommitmentProposed::decode(event.payload.as_slice()).ok()?;
        let Some(pb::commitment_terms::Kind::Funding(funding)) =
            proposed.terms.as_mut().and_then(|t| t.kind.as_mut())
        else {
            return None;
        };
        funding.amount.as_mut()?.minor_units *= 10;
        Some(proposed.encode_to_vec())
    };
    let (index, payload) = events
        .iter()
        .enumerate()
        .find_map(|(i, e)| inflated(e).map(|p| (i, p)))
        .expect("the scenario proposes a funding commitment");
    events[index].payload = payload;
    let position = events[index].position;
    (events, position)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn consistency(checkpoint: &Path, dir: &Path) -> (Option<i32>, String) {
    let output = accord(&[
        "audit",
        "consistency",
        checkpoint.to_str().unwrap(),
        dir.to_str().unwrap(),
        "--log-key",
        &log_key().verifier().to_string(),
        "--witness",
        &witness().verifier().to_string(),
    ]);
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap() + &String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn a_rewritten_log_passes_its_own_chain_but_not_the_checkpoint_an_auditor_kept() {
    let work = tempfile::tempdir().unwrap();
    let original = agreements();
    let events = all_events(original);
    let size = events.len() as u64;
    // Given a checkpoint of the whole log, co-signed by a witness, kept by an auditor
    let kept = write(
        work.path(),
        "checkpoint",
        &cosigned_checkpoint(original, size),
    );
    let (code, text) = consistency(&kept, original);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("co-signed by witness.lt.test"), "{text}");
    assert!(
        text.contains("consistent: the log extends the checkpoint"),
        "{text}"
    );

    // When the operator inflates a funding commitment and recomputes everything
    let (changed, position) = with_funding_inflated(events.clone());
    let rewritten = work.path().join("rewritten");
    forge(changed, &rewritten);

    // Then the rewritten log verifies on its own
    let verify = accord(&["audit", "verify", rewritten.to_str().unwrap()]);
    assert!(verify.status.success(), "{verify:?}");
    // But not against the kept checkpoint, which names the size
    let (code, text) = consistency(&kept, &rewritten);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("NOT CONSISTENT"), "{text}");
    assert!(text.contains(&format!("the first {size} events")), "{text}");
    assert!(position <= size);

    // And the proof an auditor carried away from the original, for the funding
    // commitment's event, holds for the original envelope and not for the rewritten one
    let original_event = events[position as usize - 1].event_id.to_string();
    let proof = work.path().join("funding.tlog-proof");
    let log_vkey = log_key().verifier().to_string();
    let witness_vkey = witness().verifier().to_string();
    let made = accord(&[
        "audit",
        "prove",
        "--event",
        &original_event,
        "--checkpoint",
        kept.to_str().unwrap(),
        "--log-key",
        &log_vkey,
        "--out",
        proof.to_str().unwrap(),
        original.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{made:?}");
    let check = |envelope: &Path| {
        accord(&[
            "audit",
            "check-proof",
            proof.to_str().unwrap(),
            "--log-key",
            &log_vkey,
            "--witness",
            &witness_vkey,
            "--event",
            envelope.to_str().unwrap(),
        ])
    };
    let holds = check(&work.path().join("funding.tlog-proof.envelope"));
    let text = String::from_utf8_lossy(&holds.stdout).into_owned();
    assert!(holds.status.success(), "{holds:?}");
    assert!(text.contains(&format!("at position {position}")), "{text}");
    assert!(text.contains("co-signed by witness.lt.test"), "{text}");
    let forged_event = all_events(&rewritten)[position as usize - 1].clone();
    let forged_envelope = write(work.path(), "forged.envelope", "");
    std::fs::write(&forged_envelope, encode_envelope(&forged_event)).unwrap();
    let fails = check(&forged_envelope);
    assert_eq!(fails.status.code(), Some(1), "{fails:?}");
    assert!(
        String::from_utf8_lossy(&fails.stderr).contains("not in the tree"),
        "{fails:?}"
    );
    // A threshold above the witnesses that co-signed fails too
    let too_many = accord(&[
        "audit",
        "check-proof",
        proof.to_str().unwrap(),
        "--log-key",
        &log_vkey,
        "--witness",
        &witness_vkey,
        "--threshold",
        "2",
    ]);
    assert_eq!(too_many.status.code(), Some(1), "{too_many:?}");
    // And no proof against the kept checkpoint can be made from the rewritten log
    let refused = accord(&[
        "audit",
        "prove",
        "--event",
        &original_event,
        "--checkpoint",
        kept.to_str().unwrap(),
        "--log-key",
        &log_vkey,
        "--out",
        work.path().join("x").to_str().unwrap(),
        rewritten.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("does not extend"),
        "{refused:?}"
    );

    // And a log cut back to fewer events is refused too, naming what is gone
    let cut = work.path().join("cut");
    forge(events[..events.len() - 5].to_vec(), &cut);
    let (code, text) = consistency(&kept, &cut);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("events {} to {size} are gone", size - 4)),
        "{text}"
    );

    // And a witness that co-signed the original refuses the rewritten log's
    // checkpoints, at the same size (409) and beyond it after more events (422,
    // with the rewritten log's own consistency proof)
    let kept_text = std::fs::read_to_string(&kept).unwrap();
    let (checkpoint, _) = Checkpoint::open(kept_text.as_bytes(), log_key().verifier()).unwrap();
    let record = Record {
        size: checkpoint.size,
        root: checkpoint.root,
        checkpoint: kept_text,
    };
    let logs = [log_key().verifier().clone()];
    let forged_head = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root_of(&rewritten, size),
        extensions: vec![],
    };
    let same_size = AddCheckpoint {
        old_size: size,
        proof: vec![],
        checkpoint: forged_head.sign(&log_key()).unwrap(),
    };
    let refusal = add_checkpoint(&logs, |_| Some(record.clone()), &same_size, &witness(), 1);
    assert_eq!(refusal, Err(Refusal::RootMismatch { size }));
    // The forger appends more, so that the sizes differ.
    let (mut longer, _) = with_funding_inflated(events.clone());
    let mut extra = longer[longer.len() - 1].clone();
    for i in 1..=3u64 {
        extra.position = size + i;
        extra.event_id = uuid::Uuid::now_v7();
        extra.command_id = extra.event_id;
        extra.version += 1;
        longer.push(extra.clone());
    }
    let grown = work.path().join("grown");
    forge(longer, &grown);
    let copy = tempfile::tempdir().unwrap();
    accord_testkit::tamper::copy_dir(&grown, copy.path());
    let grown_log = Log::open(copy.path()).unwrap();
    let beyond = AddCheckpoint {
        old_size: size,
        proof: grown_log.consistency_proof(size, size + 3).unwrap(),
        checkpoint: Checkpoint {
            origin: ORIGIN.into(),
            size: size + 3,
            root: grown_log.tree_root(size + 3).unwrap(),
            extensions: vec![],
        }
        .sign(&log_key())
        .unwrap(),
    };
    let refusal = add_checkpoint(&logs, |_| Some(record.clone()), &beyond, &witness(), 1);
    assert!(
        matches!(refusal, Err(Refusal::Inconsistent { old, new, .. }) if old == size && new == size + 3),
        "{refusal:?}"
    );
}

mod witnessed {
    //! The same attack against the live evidence (acceptance 2, with checkpoints
    //! issued by the service): the demo's Lithuanian and Ukrainian witnesses
    //! co-signed the agreements log's checkpoints. The operator rewrites the log (and
    //! then cuts another copy back) and serves it with the log's own key: the
    //! service signs checkpoints of the forged tree, and both witnesses, as
    //! processes on a real nats-server with the records they kept, refuse to
    //! co-sign them, raise an alarm, keep the evidence and count it on /metrics;
    //! the service counts the refusals too.

    use super::*;
    use accord::demo_evidence::{cosigner, log_signer, witnesses_setting, WITNESSES};
    use accord_testkit::{free_port, NatsServer};
    use std::time::{Duration, Instant};

    use super::support::Process;

    const PATIENCE: Duration = Duration::from_secs(60);

    fn start_witness(work: &Path, url: &str, name: &str, http: &str) -> Process {
        Process::spawn(
            Command::new(env!("CARGO_BIN_EXE_accord"))
                .args(["witness", "--name", name, "--nats", url, "--http", http])
                .arg("--key")
                .arg(work.join(format!("{name}.key")))
                .arg("--logs")
                .arg(work.join("logs.txt"))
                .arg("--state")
                .arg(work.join(name))
                .stdout(std::process::Stdio::null())
                .env("ACCORD_LOG_LEVEL", "off"),
        )
    }

    fn start_service(work: &Path, data: &Path, url: &str, http: &str) -> Process {
        // The forger holds the data and the log key, not the actors' keys.
        Process::spawn(
            super::support::serve_agreements(url, http, data)
                .env("ACCORD_LOG_KEY_DIR", work.join("log-keys"))
                .env("ACCORD_WITNESSES", witnesses_setting())
                .env("ACCORD_CHECKPOINT_EVERY_SECS", "1")
                .env("ACCORD_LOG_LEVEL", "off"),
        )
    }

    fn metric(http: &str, series: &str) -> u64 {
        accord::http::probe(http, "/metrics")
            .ok()
            .and_then(|(_, body)| {
                body.lines()
                    .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Waits until every series is at least 1.
    fn wait_counted(http: &[(&str, String)]) {
        let deadline = Instant::now() + PATIENCE;
        while http.iter().any(|(addr, series)| metric(addr, series) == 0) {
            assert!(Instant::now() < deadline, "not counted: {http:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alarms(work: &Path, name: &str) -> Vec<String> {
        std::fs::read_dir(work.join(name).join("alarms"))
            .unwrap()
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect()
    }

    /// Serves the forged log `forged` (a data directory's agreements log) with the
    /// demo's witnesses holding the records they kept; answers each witness's alarms.
    fn serve_forged(forged: &Path, work: &Path) -> Vec<Vec<String>> {
        let nats = NatsServer::start();
        let data = work.join("data");
        accord_testkit::tamper::copy_dir(forged, &data.join("agreements"));
        std::fs::create_dir_all(work.join("log-keys")).unwrap();
        let log = log_signer("agreements");
        std::fs::write(
            work.join("log-keys/agreements.log-key"),
            log.to_secret_string(),
        )
        .unwrap();
        write(work, "logs.txt", &format!("{}\n", log.verifier()));
        let kept = agreements().parent().unwrap().join("witnesses");
        let mut witnesses = Vec::new();
        let mut counted = Vec::new();
        for name in WITNESSES {
            accord_testkit::tamper::copy_dir(&kept.join(name), &work.join(name));
            let _ = std::fs::remove_file(work.join(name).join("LOCK"));
            write(
                work,
                &format!("{name}.key"),
                &cosigner(name).to_secret_string(),
            );
            let http = format!("127.0.0.1:{}", free_port());
            witnesses.push(start_witness(work, &nats.url(), name, &http));
            counted.push((http.clone(), "accord_witness_alarms_total".to_owned()));
        }
        let http = format!("127.0.0.1:{}", free_port());
        let mut service = start_service(work, &data, &nats.url(), &http);
        let refused = |name: &str| {
            format!("accord_checkpoint_witness_failures_total{{service=\"agreements\",witness=\"{name}\",why=\"")
        };
        let watched: Vec<(&str, String)> = counted
            .iter()
            .map(|(addr, series)| (addr.as_str(), series.clone()))
            .collect();
        wait_counted(&watched);
        let deadline = Instant::now() + PATIENCE;
        while WITNESSES.iter().any(|name| {
            !accord::http::probe(&http, "/metrics")
                .map(|(_, body)| body.contains(&refused(name)))
                .unwrap_or(false)
        }) {
            assert!(
                Instant::now() < deadline,
                "the service did not count the refusals"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        service.terminate();
        drop(witnesses);
        // The forged log kept its own checkpoints, co-signed by nobody.
        let copy = tempfile::tempdir().unwrap();
        accord_testkit::tamper::copy_dir(&data.join("agreements"), copy.path());
        let reopened = Log::open(copy.path()).unwrap();
        let (_, latest) = reopened
            .latest_checkpoint()
            .unwrap()
            .expect("one was issued");
        let (_, note) = Checkpoint::open(&latest, log.verifier()).unwrap();
        assert_eq!(note.signatures.len(), 1, "signed by the log alone");
        WITNESSES.iter().map(|name| alarms(work, name)).collect()
    }

    #[test]
    fn both_witnesses_refuse_the_rewritten_and_the_cut_back_log() {
        let original = agreements();
        let events = all_events(original);
        let size = events.len() as u64;

        // A rewrite at the same size: the witnesses' records have another root.
        let work = tempfile::tempdir().unwrap();
        let (changed, _) = with_funding_inflated(events.clone());
        let rewritten = work.path().join("rewritten");
        forge(changed, &rewritten);
        for alarms in serve_forged(&rewritten, &work.path().join("served")) {
            assert!(!alarms.is_empty());
            assert!(
                alarms[0].contains(&format!("size {size} was co-signed with another root")),
                "{alarms:?}"
            );
            assert!(
                alarms[0].contains("accord.demo/lt-ua/agreements"),
                "{alarms:?}"
            );
        }

        // A log cut back: the witnesses co-signed more than it holds.
        let work = tempfile::tempdir().unwrap();
        let cut = work.path().join("cut");
        forge(events[..events.len() - 5].to_vec(), &cut);
        for alarms in serve_forged(&cut, &work.path().join("served")) {
            assert!(
                alarms.iter().any(|a| a.contains("the log was cut back")),
                "{alarms:?}"
            );
        }
    }
}

mod kept_checkpoints {
    //! `accord audit verify` checks the checkpoints a log kept: a root that is not
    //! the tree's at its size, or a signature that is not the log's, fails it.

    use super::*;
    use accord::demo_evidence::log_signer;

    /// A copy of the demo's agreements log whose latest kept checkpoint is replaced
    /// by `note` (signed by whoever the caller chose).
    fn with_kept(note: impl FnOnce(u64, [u8; 32]) -> String) -> tempfile::TempDir {
        let copy = tempfile::tempdir().unwrap();
        accord_testkit::tamper::copy_dir(agreements(), copy.path());
        let db = accord_log::open_storage(copy.path()).unwrap();
        let (size, _) = accord_log::stored_checkpoints(&db).last().unwrap().unwrap();
        let root = accord_log::stored_tree_root(&db, size).unwrap();
        let mut key = vec![b'c'];
        key.extend_from_slice(&size.to_be_bytes());
        db.insert(key, note(size, root).as_bytes()).unwrap();
        db.flush().unwrap();
        copy
    }

    fn verify(dir: &Path) -> (Option<i32>, String) {
        let output = accord(&[
            "audit",
            "verify",
            "--log-key",
            &log_signer("agreements").verifier().to_string(),
            dir.to_str().unwrap(),
        ]);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    }

    fn checkpoint(size: u64, root: [u8; 32]) -> Checkpoint {
        Checkpoint {
            origin: "accord.demo/lt-ua/agreements".into(),
            size,
            root,
            extensions: vec![],
        }
    }

    #[test]
    fn a_kept_checkpoint_with_another_root_or_not_the_logs_signature_fails_verify() {
        // The demo's own checkpoints verify, signatures included.
        let (code, text) = verify(agreements());
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("verified"), "{text}");

        // A root that is not the tree's at that size: the history was changed after
        // the log signed it (or the checkpoint was).
        let changed = with_kept(|size, mut root| {
            root[0] ^= 1;
            checkpoint(size, root)
                .sign(&log_signer("agreements"))
                .unwrap()
        });
        let (code, text) = verify(changed.path());
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("checkpoint_mismatch"), "{text}");

        // The right root, signed by another key under the log's name.
        let forged = with_kept(|size, root| {
            let other = NoteSigner::from_seed("accord.demo/lt-ua/agreements", [9; 32]).unwrap();
            checkpoint(size, root).sign(&other).unwrap()
        });
        let (code, text) = verify(forged.path());
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("checkpoint_bad_signature"), "{text}");
    }
}
