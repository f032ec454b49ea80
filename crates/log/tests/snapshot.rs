//! The index snapshot: a log reopened from it answers exactly as one rebuilt from its
//! events, and a snapshot that is deleted, cut, flipped, older than the log or of
//! another log is never believed: the index is rebuilt from the log, same answers.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use accord_kernel::{ExpectedVersion, RecordedEvent, StreamId};
use accord_log::{AppendMetadata, Covers, Log, LogConfig, LogError, Replay, SNAPSHOT_DIR};
use accord_testkit::{event, metadata, stream, TempLog};
use uuid::Uuid;

const STREAMS: usize = 7;

fn config(snapshot_after: u64) -> LogConfig {
    LogConfig {
        snapshot_after,
        ..LogConfig::default()
    }
}

fn streams() -> Vec<StreamId> {
    (0..STREAMS)
        .map(|i| stream("commitment", &format!("c{i}")))
        .collect()
}

/// Appends `commands` commands of one to three events each, half with random (v4)
/// command ids so they spread over the command table's blocks.
async fn append(log: &Log, commands: usize, offset: usize) -> Vec<AppendMetadata> {
    let streams = streams();
    let mut sent = Vec::new();
    for i in offset..offset + commands {
        let mut meta = metadata("ua-mod", i as i64);
        if i % 2 == 0 {
            meta.command_id = Uuid::from_u128(
                (i as u128 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
            );
        }
        let events = (0..1 + i % 3)
            .map(|e| event("Recorded", format!("{i}/{e}").as_bytes()))
            .collect();
        log.append(
            streams[i % STREAMS].clone(),
            ExpectedVersion::Any,
            events,
            meta.clone(),
        )
        .await
        .unwrap();
        sent.push(meta);
    }
    sent
}

/// Everything the index answers: each stream's version and events, each command's
/// outcome, an unknown command, the head.
fn answers(log: &Log, sent: &[AppendMetadata]) -> String {
    let mut out = String::new();
    for stream in streams() {
        let events: Vec<u64> = log
            .read_stream(&stream, 1)
            .map(|e| e.unwrap().position)
            .collect();
        out += &format!("{stream} v{} {events:?}\n", log.stream_version(&stream));
    }
    for meta in sent {
        out += &format!("{:?}\n", log.outcome_of(meta.command_id).unwrap());
    }
    out += &format!("{:?}\n", log.outcome_of(Uuid::from_u128(7)).unwrap());
    out += &format!("{:?}\n", log.head().unwrap());
    out
}

/// A closed log of 300 commands with a snapshot, and what it answered when open.
async fn closed_with_snapshot() -> (TempLog, Vec<AppendMetadata>, String) {
    let mut log = TempLog::with_config(config(50));
    let sent = append(log.log(), 300, 0).await;
    let expected = answers(log.log(), &sent);
    log.close();
    assert!(snapshot(log.path(), "index.snap").is_file());
    (log, sent, expected)
}

fn snapshot(dir: &Path, name: &str) -> std::path::PathBuf {
    let folder = dir.join(SNAPSHOT_DIR);
    if name != "table" {
        return folder.join(name);
    }
    std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "table"))
        .expect("a command table")
}

fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = at.min(bytes.len() - 1);
    bytes[at] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

fn cut(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_snapshot_when_the_log_reopens_then_it_answers_as_before_and_duplicates_are_still_caught(
) {
    let (mut log, sent, expected) = closed_with_snapshot().await;
    let reopened = log.reopen().unwrap();
    // Only the events after the last snapshot (fewer than 50) are read.
    assert!(reopened.opened_from() > 1);
    assert!(reopened.durable_position() + 1 - reopened.opened_from() < 50);
    assert_eq!(answers(reopened, &sent), expected);

    // A command the snapshot covers, sent again: answered as the first time.
    let first = &sent[10];
    let again = reopened
        .append(
            streams()[10 % STREAMS].clone(),
            ExpectedVersion::Any,
            vec![event("Recorded", b"again")],
            first.clone(),
        )
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(
        Some(again.first_position),
        reopened
            .outcome_of(first.command_id)
            .unwrap()
            .map(|o| o.first_position)
    );
    // ... and on another stream, refused.
    let reused = reopened
        .append(
            streams()[(10 + 1) % STREAMS].clone(),
            ExpectedVersion::Any,
            vec![event("Recorded", b"again")],
            first.clone(),
        )
        .await;
    assert!(matches!(reused, Err(LogError::CommandIdReused { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_damaged_or_foreign_snapshot_when_the_log_reopens_then_it_is_rebuilt_with_the_same_answers(
) {
    type Damage = fn(&Path, &Path);
    let damages: [(&str, Damage); 7] = [
        ("deleted", |dir, _| {
            std::fs::remove_dir_all(dir.join(SNAPSHOT_DIR)).unwrap()
        }),
        ("index cut", |dir, _| cut(&snapshot(dir, "index.snap"))),
        ("index flipped", |dir, _| {
            flip(&snapshot(dir, "index.snap"), 200)
        }),
        ("table cut", |dir, _| cut(&snapshot(dir, "table"))),
        ("table flipped", |dir, _| {
            flip(&snapshot(dir, "table"), 3000)
        }),
        ("table missing", |dir, _| {
            std::fs::remove_file(snapshot(dir, "table")).unwrap()
        }),
        ("another log's", |dir, other| {
            std::fs::remove_dir_all(dir.join(SNAPSHOT_DIR)).unwrap();
            copy_dir(&other.join(SNAPSHOT_DIR), &dir.join(SNAPSHOT_DIR));
        }),
    ];
    // Another log of the same shape, whose snapshot covers the same position.
    let (other, _, _) = closed_with_snapshot().await;
    for (name, damage) in damages {
        let (mut log, sent, expected) = closed_with_snapshot().await;
        let dir = log.path().to_owned();
        damage(&dir, other.path());
        let reopened = log.reopen().unwrap();
        // Only a flip inside the command table passes the index's seal; it is
        // caught when a lookup reads its block.
        if name == "table flipped" {
            assert!(reopened.opened_from() > 1, "{name}");
        } else {
            assert_eq!(reopened.opened_from(), 1, "{name}");
        }
        assert_eq!(answers(reopened, &sent), expected, "{name}");
        if name == "table flipped" {
            assert!(!dir.join(SNAPSHOT_DIR).exists(), "removed once caught");
        }
        // It goes on appending where it should.
        let more = append(reopened, 3, 1000).await;
        assert_eq!(
            reopened
                .outcome_of(more[2].command_id)
                .unwrap()
                .unwrap()
                .last_position,
            reopened.durable_position(),
            "{name}"
        );
        reopened.verify().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_snapshot_older_than_the_log_when_it_reopens_then_the_events_after_it_are_indexed_too(
) {
    let (log, mut sent, _) = closed_with_snapshot().await;
    let covered = std::fs::metadata(snapshot(log.path(), "index.snap")).unwrap();
    // More commands, with a log that writes no new snapshot.
    let grown = Log::open_with(log.path(), config(u64::MAX)).unwrap();
    sent.extend(append(&grown, 120, 300).await);
    let expected = answers(&grown, &sent);
    drop(grown);
    assert_eq!(
        std::fs::metadata(snapshot(log.path(), "index.snap"))
            .unwrap()
            .modified()
            .unwrap(),
        covered.modified().unwrap(),
        "the snapshot is older than the log"
    );
    let reopened = Log::open_with(log.path(), config(u64::MAX)).unwrap();
    let covered = reopened.index_snapshot();
    assert!(covered > 0 && covered < reopened.durable_position());
    assert_eq!(reopened.opened_from(), covered + 1);
    assert_eq!(answers(&reopened, &sent), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_log_that_runs_on_then_snapshots_follow_it_and_memory_keeps_only_the_latest_commands(
) {
    // Given a log that snapshots every 50 events, never closed
    let log = TempLog::with_config(config(50));
    // When 400 commands (about 800 events) are appended
    let sent = append(log.log(), 400, 0).await;
    // Then a snapshot taken while it runs covers nearly all of them. It is written
    // on a thread of its own, after a sync, and at most a twentieth of the time:
    // waited for (a command now and then gives it a sync), not timed.
    let mut sent = sent;
    for nudge in 0..500 {
        let log = log.log();
        if log.durable_position() - log.index_snapshot() < 50 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        sent.extend(append(log, 1, 10_000 + nudge).await);
    }
    let head = log.log().durable_position();
    assert!(
        head - log.log().index_snapshot() < 50,
        "{} of {head}",
        log.log().index_snapshot()
    );
    // And memory holds only the commands after it, yet every one is answered
    assert!(
        log.log().commands_in_memory() < 50,
        "{}",
        log.log().commands_in_memory()
    );
    let expected: Vec<u64> = sent
        .iter()
        .map(|m| {
            log.log()
                .outcome_of(m.command_id)
                .unwrap()
                .unwrap()
                .first_position
        })
        .collect();
    assert_eq!(expected.len(), sent.len());
    assert!(expected.windows(2).all(|w| w[0] < w[1]));
    let answered = answers(log.log(), &sent);
    let mut log = log;
    assert_eq!(answers(log.reopen().unwrap(), &sent), answered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_log_opened_without_a_snapshot_then_its_commands_are_found_caught_and_go_into_the_next(
) {
    // Given a closed log of 300 commands (about 600 events) and no snapshot
    let mut log = TempLog::with_config(config(1_000));
    let sent = append(log.log(), 300, 0).await;
    let expected = answers(log.log(), &sent);
    log.close();
    assert!(!snapshot(log.path(), "index.snap").exists());
    // When it reopens, it indexes every event, and answers as before
    let reopened = log.reopen().unwrap();
    assert_eq!(reopened.opened_from(), 1);
    assert_eq!(reopened.commands_in_memory(), 300);
    assert_eq!(answers(reopened, &sent), expected);
    // And a command sent again is a duplicate
    let again = reopened
        .append(
            streams()[20 % STREAMS].clone(),
            ExpectedVersion::Any,
            vec![event("Recorded", b"again")],
            sent[20].clone(),
        )
        .await
        .unwrap();
    assert!(again.duplicate);
    // When more commands follow, past `snapshot_after`
    let mut all = sent;
    all.extend(append(reopened, 700, 300).await);
    for nudge in 0..500 {
        if reopened.index_snapshot() > 0 && reopened.commands_in_memory() < 700 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        all.extend(append(reopened, 1, 10_000 + nudge).await);
    }
    // Then the snapshot taken while it runs holds the commands found at opening too
    assert!(reopened.index_snapshot() > 600);
    assert!(reopened.commands_in_memory() < 700);
    let answered = answers(reopened, &all);
    for meta in &all {
        assert!(reopened.outcome_of(meta.command_id).unwrap().is_some());
    }
    assert_eq!(answers(log.reopen().unwrap(), &all), answered);
}

/// A replay holding a snapshot of its own that covers `covers`.
struct Holder {
    covers: Option<Covers>,
    started_over: bool,
    replayed: Vec<u64>,
}

impl Replay for Holder {
    fn covers(&self) -> Option<Covers> {
        self.covers
    }
    fn start_over(&mut self) {
        self.started_over = true;
    }
    fn event(&mut self, event: &RecordedEvent) {
        self.replayed.push(event.position);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_a_callers_snapshot_then_only_what_follows_is_replayed_unless_it_does_not_match() {
    let (log, _, _) = closed_with_snapshot().await;
    let at_100 = {
        let open = Log::open_with(log.path(), config(50)).unwrap();
        open.read_all(100).next().unwrap().unwrap()
    };
    let head = Log::open_with(log.path(), config(50))
        .unwrap()
        .durable_position();
    let cases = [
        (
            "matching",
            Some(Covers {
                position: 100,
                hash: at_100.hash,
            }),
            false,
            101,
        ),
        (
            "another hash",
            Some(Covers {
                position: 100,
                hash: accord_kernel::EventHash([9; 32]),
            }),
            true,
            1,
        ),
        (
            "ahead of the log",
            Some(Covers {
                position: head + 1,
                hash: at_100.hash,
            }),
            true,
            1,
        ),
        ("none", None, false, 1),
    ];
    for (name, covers, started_over, first) in cases {
        let mut holder = Holder {
            covers,
            started_over: false,
            replayed: Vec::new(),
        };
        let open = Log::open_resuming(log.path(), config(50), &mut holder).unwrap();
        assert_eq!(holder.started_over, started_over, "{name}");
        let expected: Vec<u64> = (first..=head).collect();
        assert_eq!(holder.replayed, expected, "{name}");
        drop(open);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
