//! Crash test: a child process appends under concurrent load (16 writers), or alone
//! (1 writer, whose appends are made on its own thread), and reports every
//! acknowledged append; it is killed with SIGKILL at random moments, the log is
//! reopened, and every acknowledged event must be there, whole, with a valid chain.
//!
//! Cycles: `ACCORD_CRASH_CYCLES` (default 20); seed: `ACCORD_CRASH_SEED`.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use accord_log::Log;
use uuid::Uuid;

const WRITER: &str = env!("CARGO_BIN_EXE_accord-log-crash-writer");

struct Ack {
    command_id: Uuid,
    first_position: u64,
    count: u64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ack ")?.split(' ');
    Some(Ack {
        command_id: parts.next()?.parse().ok()?,
        first_position: parts.next()?.parse().ok()?,
        count: parts.next()?.parse().ok()?,
    })
}

/// xorshift64*: enough randomness for kill timing, reproducible from the seed.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn given_sigkill_at_random_moments_then_every_acknowledged_event_survives_whole() {
    let cycles = env_u64("ACCORD_CRASH_CYCLES", 20);
    let default_seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut seed = env_u64("ACCORD_CRASH_SEED", default_seed);
    println!("crash test: {cycles} cycles, ACCORD_CRASH_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<Ack> = Vec::new();

    for cycle in 0..cycles {
        // Every third cycle one writer: the lone-writer path, synced on its caller's
        // thread, is killed mid-append too.
        let writers = if cycle % 3 == 2 { "1" } else { "16" };
        let mut child = Command::new(WRITER)
            .arg(dir.path())
            .arg(writers)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let ready = lines.next().and_then(Result::ok);
            let _ = ready_tx.send(ready);
            // Lines after the kill may be cut short; only whole acks count.
            lines
                .map_while(Result::ok)
                .filter_map(|l| parse_ack(&l))
                .collect::<Vec<_>>()
        });
        // Time the kill from when the writer has opened the log and starts appending.
        let ready = ready_rx
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten();
        assert_eq!(
            ready.as_deref(),
            Some("ready"),
            "cycle {cycle}: writer did not start"
        );
        let delay = 20 + next_random(&mut seed) % 180;
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let new_acks = reader.join().unwrap();
        assert!(
            !new_acks.is_empty() || cycle > 0,
            "cycle {cycle}: nothing acknowledged in {delay} ms"
        );
        acked.extend(new_acks);

        let log =
            Log::open(dir.path()).unwrap_or_else(|e| panic!("cycle {cycle}: reopen failed: {e}"));
        let report = log
            .verify()
            .unwrap_or_else(|e| panic!("cycle {cycle}: verify failed: {e}"));
        for ack in &acked {
            let events: Vec<_> = log
                .read_all(ack.first_position)
                .take(ack.count as usize)
                .map(Result::unwrap)
                .collect();
            assert_eq!(
                events.len() as u64,
                ack.count,
                "cycle {cycle}: acknowledged events missing"
            );
            assert!(
                events.iter().all(|e| e.command_id == ack.command_id),
                "cycle {cycle}: acknowledged events moved"
            );
        }
        // Nothing half-written: every command in the log has all of its parts.
        let mut parts: HashMap<Uuid, (u64, u64)> = HashMap::new();
        for event in log.read_all(1) {
            let event = event.unwrap();
            let text = String::from_utf8(event.payload).unwrap();
            let (_, count) = text.split_once('/').unwrap();
            let entry = parts
                .entry(event.command_id)
                .or_insert((0, count.parse().unwrap()));
            entry.0 += 1;
        }
        for (command, (seen, count)) in &parts {
            assert_eq!(
                seen, count,
                "cycle {cycle}: command {command} is half-written"
            );
        }
        assert_eq!(report.events, log.durable_position());
        println!(
            "cycle {cycle}: killed after {delay} ms, {} events, {} acknowledged appends",
            report.events,
            acked.len()
        );
    }
}
