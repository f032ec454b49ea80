//! Helper for the crash test (`tests/crash.rs`): appends to the log in DIR from
//! WRITERS concurrent tasks until killed, printing `ack <command id> <first position>
//! <count>` for every acknowledged append, after the log acknowledged it.
//!
//! Usage: accord-log-crash-writer DIR WRITERS

use std::io::Write;
use std::process::ExitCode;

use accord_kernel::{ExpectedVersion, StreamId, Timestamp};
use accord_log::{AppendMetadata, Log, NewEvent};
use uuid::Uuid;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(writers)) = (args.get(1), args.get(2).and_then(|w| w.parse::<u64>().ok()))
    else {
        eprintln!("usage: accord-log-crash-writer DIR WRITERS");
        return ExitCode::from(2);
    };
    let log = match Log::open(dir) {
        Ok(log) => log,
        Err(error) => {
            eprintln!("cannot open log: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("ready");
    runtime.block_on(async {
        let tasks: Vec<_> = (0..writers)
            .map(|writer| tokio::spawn(append_forever(log.clone(), writer)))
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    });
    ExitCode::SUCCESS
}

async fn append_forever(log: Log, writer: u64) {
    for round in 0u64.. {
        let count = 1 + (writer + round) % 3;
        let Ok(stream) = StreamId::new("commitment", format!("c{}", (writer * 7 + round) % 16))
        else {
            return;
        };
        // Each event says which part of how many it is, so a reader can tell whether
        // a command's events are all there.
        let events = (0..count)
            .map(|index| NewEvent {
                event_type: "accord.test.Part".into(),
                schema_version: 1,
                payload: format!("{index}/{count}").into_bytes(),
            })
            .collect();
        let command_id = Uuid::now_v7();
        let metadata = AppendMetadata {
            actor: format!("writer-{writer}"),
            command_id,
            correlation_id: command_id,
            causation_id: None,
            occurred_at: Timestamp::UNIX_EPOCH,
            signature: None,
            command_digest: None,
        };
        match log
            .append(stream, ExpectedVersion::Any, events, metadata)
            .await
        {
            Ok(outcome) => {
                let mut out = std::io::stdout().lock();
                let line = writeln!(out, "ack {command_id} {} {count}", outcome.first_position);
                if line.and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
            Err(error) => {
                eprintln!("append failed: {error}");
                return;
            }
        }
    }
}
