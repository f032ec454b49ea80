//! `accord keys new`, as a person runs it: a key file readable by its owner alone,
//! the public key printed, and an existing file never overwritten.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn keys_new_writes_a_private_key_once_and_prints_its_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ua-umerov.pem");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["keys", "new", "--actor", "ua-umerov", "--out"])
            .arg(&path)
            .output()
            .unwrap()
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout}");
    let key = accord::keys::read_key_file(&path).unwrap();
    let hex = accord_kernel::signature::hex(&key.public_key());
    assert!(
        stdout.contains(&format!("public key (hex) {hex}")),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");

    let second = run();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "not overwritten"
    );
}
