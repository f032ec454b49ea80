//! Runs one Accord service as its own process, for the end-to-end tests that kill it
//! (`tests/tests/service_crash.rs`). Until the `accord serve` command exists, this is
//! the smallest process that does what it will: open the log, connect to NATS, serve.
//!
//! Usage: accord-e2e-node SERVICE NATS_URL DATA_DIR
//! Stops gracefully on SIGTERM or SIGINT (exit 0).

use std::process::ExitCode;
use std::time::Duration;

use accord_bus::{Bus, NatsBus};
use accord_log::Log;
use accord_runtime::{run_service, NodeConfig, ServiceKind};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, service, url, dir] = args.as_slice() else {
        eprintln!("usage: accord-e2e-node SERVICE NATS_URL DATA_DIR");
        return ExitCode::from(2);
    };
    let kind: ServiceKind = match service.parse() {
        Ok(kind) => kind,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let log = match Log::open(dir) {
        Ok(log) => log,
        Err(error) => {
            eprintln!("cannot open log in {dir}: {error}");
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
    runtime.block_on(async move {
        let bus = loop {
            match NatsBus::connect(url, &format!("accord-{kind}")).await {
                Ok(bus) => break Bus::Nats(bus),
                Err(error) => {
                    eprintln!("{error}; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        let (shutdown, stopped) = watch::channel(false);
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            eprintln!("cannot install signal handlers");
            return ExitCode::FAILURE;
        };
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let _ = shutdown.send(true);
        });
        match run_service(kind, log, bus, NodeConfig::default(), stopped).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{kind}: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
