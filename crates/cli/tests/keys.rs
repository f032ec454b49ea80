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

#[test]
fn a_key_file_that_does_not_read_stops_the_start_with_status_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for (setting, file) in [
        ("ACCORD_LOG_KEY_DIR", "agreements.log-key"),
        ("ACCORD_REACTION_KEY_DIR", "agreements.key"),
    ] {
        let keys = dir.path().join(setting);
        std::fs::create_dir_all(&keys).unwrap();
        std::fs::write(keys.join(file), "not a key\n").unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(["serve", "agreements", "--http", "", "--data"])
            .arg(dir.path().join("data"))
            .env(setting, &keys)
            .env_remove("ACCORD_NATS_URL")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{setting}: {stderr}");
        assert!(stderr.contains(file), "{setting}: {stderr}");
    }
}
