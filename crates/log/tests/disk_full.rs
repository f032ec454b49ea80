//! A full disk, for real: a log on a small tmpfs (mounted by the test as root; the
//! test says so and returns when it cannot mount one) is appended to until the disk
//! is full. The refusal is typed, nothing acknowledged is lost, the log takes no
//! appends until reopened, and once space is back it reopens whole and verifies.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use accord_kernel::ExpectedVersion;
use accord_log::{verify_path, Log, LogError};
use accord_testkit::{event, metadata, stream};

fn mount_tmpfs(at: &Path, size: &str) -> bool {
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(at)
        .status()
        .is_ok_and(|s| s.success())
}

fn resize_tmpfs(at: &Path, size: &str) {
    let status = Command::new("mount")
        .args(["-o", &format!("remount,size={size}")])
        .arg(at)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Appends one event of `payload` to the commitment's stream.
async fn append(log: &Log, payload: &[u8], second: i64) -> Result<u64, LogError> {
    log.append(
        stream("commitment", "c-priority"),
        ExpectedVersion::Any,
        vec![event("Recorded", payload)],
        metadata("ua-mod", second),
    )
    .await
    .map(|outcome| outcome.last_position)
}

/// Unmounts on drop, so a failing test leaves no mount behind.
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_full_disk_then_appends_are_refused_typed_and_nothing_acknowledged_is_lost() {
    let mount = tempfile::tempdir().unwrap();
    if !mount_tmpfs(mount.path(), "24m") {
        println!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _mounted = Mounted(mount.path());
    let dir = mount.path().join("log");
    std::fs::create_dir(&dir).unwrap();
    let log = Log::open(&dir).unwrap();
    let payload = vec![b'x'; 60 * 1024];
    let mut acknowledged = 0u64;
    let refusal = loop {
        match append(&log, &payload, acknowledged as i64).await {
            Ok(position) => acknowledged = position,
            Err(error) => break error,
        }
        assert!(acknowledged < 100_000, "the disk never filled");
    };
    println!("full after {acknowledged} events: {refusal}");
    // Whether sled's write or its flush met the full disk, the append says so.
    assert!(matches!(refusal, LogError::StorageFull(_)), "{refusal:?}");
    assert!(!refusal.to_string().contains("Os {"), "{refusal}");
    assert!(!log.accepts_appends());
    // Refused from now on, until reopened (what reached the disk is unknown), and
    // still for the reason it failed, not as a bare "closed".
    let again = append(&log, b"small", 0).await;
    assert!(matches!(again, Err(LogError::StorageFull(_))), "{again:?}");
    drop(log);

    // Space back, the service restarted: every acknowledged event is there.
    resize_tmpfs(mount.path(), "64m");
    let report = verify_path(&dir).unwrap();
    assert!(report.events >= acknowledged, "{report:?}");
    let log = Log::open(&dir).unwrap();
    assert!(log.accepts_appends());
    assert!(log.durable_position() >= acknowledged);
    append(&log, b"after the disk was freed", 1).await.unwrap();
}
