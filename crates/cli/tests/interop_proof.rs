//! Another language checks Accord's evidence from the public texts alone (issue 16,
//! acceptance 5): a Python auditor written from RFC 9162 and the C2SP signed-note,
//! tlog-checkpoint, tlog-cosignature and tlog-proof specs, plus proto/EVIDENCE.md
//! and envelope.proto (`tests/interop/check_tlog_proof.py`, hashlib and
//! `cryptography`), verifies the proof file and co-signed checkpoint the demo
//! left, and refuses it once any part is changed.
//!
//! `.ci/run` makes a virtual environment with `cryptography` and names its Python in
//! `ACCORD_PYTHON`; elsewhere `python3` is tried. Without `cryptography` the test
//! says so and passes, except under CI (`CI=true`), where it fails.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use accord::demo_evidence::{cosigner, log_signer, WITNESSES};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/check_tlog_proof.py")
}

/// Runs the Python check; (passed, what it printed).
fn check(python: &str, proof: &Path, envelope: &Path, extra: &[&str]) -> (bool, String) {
    let mut command = Command::new(python);
    command
        .arg(script())
        .arg(proof)
        .arg(envelope)
        .arg("--log-key")
        .arg(log_signer("agreements").verifier().to_string());
    for name in WITNESSES {
        command
            .arg("--witness")
            .arg(cosigner(name).verifier().to_string());
    }
    let output = command.args(extra).output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), printed)
}

#[test]
fn a_python_auditor_verifies_the_demos_proof_and_refuses_it_changed() {
    let Some(python) = accord_testkit::python_with("cryptography") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let demo = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["demo", "--data"])
        .arg(&data)
        .env("ACCORD_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(demo.status.success(), "{demo:?}");
    let proof = data.join("priority-acceptance.tlog-proof");
    let envelope = data.join("priority-acceptance.tlog-proof.envelope");

    // Given the demo's proof, the Python auditor verifies it
    let (passed, printed) = check(&python, &proof, &envelope, &[]);
    assert!(passed, "{printed}");
    assert!(
        printed.contains("is in accord.demo/lt-ua/agreements at size"),
        "{printed}"
    );
    for name in WITNESSES {
        assert!(
            printed.contains(&format!("co-signed by {name}")),
            "{printed}"
        );
    }

    // When any part changes, it refuses: a proof hash, the root, a cosignature, the
    // event's bytes, or a threshold above the witnesses that co-signed
    let text = std::fs::read_to_string(&proof).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let changed_line = |at: usize| {
        let mut changed: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        // A base64 character well inside the line: whole data bits, not padding.
        let mut bytes = changed[at].clone().into_bytes();
        let inside = bytes.len() - 5;
        bytes[inside] = if bytes[inside] == b'A' { b'B' } else { b'A' };
        changed[at] = String::from_utf8(bytes).unwrap();
        changed.join("\n") + "\n"
    };
    let blank = lines.iter().position(|l| l.is_empty()).unwrap();
    for (what, at) in [
        ("a proof hash", 2),
        ("the checkpoint's root", blank + 3),
        ("a cosignature", lines.len() - 1),
    ] {
        let bad = work.path().join("changed.tlog-proof");
        std::fs::write(&bad, changed_line(at)).unwrap();
        let (passed, printed) = check(&python, &bad, &envelope, &[]);
        assert!(!passed, "{what} changed: {printed}");
        assert!(printed.contains("proof refused"), "{what}: {printed}");
    }
    let mut event = std::fs::read(&envelope).unwrap();
    let middle = event.len() / 2;
    event[middle] ^= 0x01;
    let altered = work.path().join("altered.envelope");
    std::fs::write(&altered, event).unwrap();
    let (passed, printed) = check(&python, &proof, &altered, &[]);
    assert!(!passed, "{printed}");
    let (passed, printed) = check(&python, &proof, &envelope, &["--threshold", "3"]);
    assert!(
        !passed && printed.contains("2 of the witnesses co-signed"),
        "{printed}"
    );
}
