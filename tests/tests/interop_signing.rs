//! Another language signs from the docs alone: a Python checker written from
//! `proto/SIGNING.md` (`tests/interop/check_signature_vectors.py`, with the
//! `cryptography` package) answers every case of the signing vectors right.
//!
//! `.ci/run` makes a virtual environment with `cryptography` and names its Python in
//! `ACCORD_PYTHON`; elsewhere `python3` is tried. Without `cryptography` the test
//! says so and passes, except under CI (`CI=true`), where it fails.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn a_python_client_written_from_the_docs_checks_the_signing_vectors() {
    let python = std::env::var("ACCORD_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let has_cryptography = Command::new(&python)
        .args(["-c", "import cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_cryptography {
        assert!(
            std::env::var("CI").is_err(),
            "under CI the interop test must run: {python} lacks the cryptography package"
        );
        eprintln!("skipped: {python} has no cryptography package (pip install cryptography)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(&python)
        .arg(root.join("tests/interop/check_signature_vectors.py"))
        .arg(root.join("proto/vectors/command-signature.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("11 cases, 0 failures"), "{stdout}");
}
