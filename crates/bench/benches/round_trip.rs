//! Command round trip over NATS: a client sends `RegisterActor` commands (protobuf) to
//! the agreements service and waits for each answer, at 1 and at 64 in flight. In the
//! same run, on the same nats-server: a trivial echo responder answering requests of
//! the same size through the same client path, and the durable append alone (the
//! log, no bus), so the cost of each layer shows.
//!
//! `cargo bench -p accord-bench --bench round_trip`; smoke size under `cargo test`.

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use accord_bench::{
    env_setting, full_run, percentile, runs, CpuTimes, Report, Row, Spent, Summary, RUNTIME_THREAD,
};
use accord_boundary::Body;
use accord_bus::{AccordClient, Bus, CommandOptions, EventMessage, Message, NatsBus, RelayConfig};
use accord_contracts::v1::reply::Outcome;
use accord_kernel::ActorId;
use accord_kernel::{ExpectedVersion, RecordedEvent, StreamId};
use accord_log::{Log, LogStats, NewEvent};
use accord_runtime::{
    run_service, AgreementsModel, CommandMeta, Metrics, NodeConfig, Service, ServiceKind,
};
use accord_testkit::NatsServer;
use futures_util::StreamExt as _;
use support::register_actor;
use tokio::sync::watch;

const ECHO_SUBJECT: &str = "bench.echo";
/// The same echo, answered from the service's runtime: a responder whose threads are
/// parked between requests, as the service's are (the one above shares the client's).
const FAR_ECHO_SUBJECT: &str = "bench.echo.far";
const IN_FLIGHT: usize = 64;

/// One run of one case: every request's latency in milliseconds and the throughput.
struct Run {
    latencies_ms: Vec<f64>,
    per_second: f64,
}

impl Run {
    fn mean(&self) -> f64 {
        self.latencies_ms.iter().sum::<f64>() / self.latencies_ms.len().max(1) as f64
    }

    fn p(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        percentile(&sorted, p)
    }
}

fn main() {
    let full = full_run();
    let runs = runs(full);
    let (sequential, concurrent) = if full { (1_000, 10_000) } else { (10, 128) };
    let runtime = accord_bench::runtime();
    let nats = NatsServer::start();
    let mut report = Report::new("round_trip", full);
    report.parameter("commands per run at 1 in flight", sequential);
    report.parameter("commands per run at 64 in flight", concurrent);
    report.parameter(
        "command",
        "agreements RegisterActor, protobuf, new actor each",
    );
    // The service runs on a runtime of its own, as in its own process, so the CPU
    // its threads spend is told apart from the client's.
    // `ACCORD_BENCH_SERVICE_WORKERS` sets its worker threads (2, as `accord serve`
    // has on two cores).
    let service_workers = env_setting("ACCORD_BENCH_SERVICE_WORKERS").unwrap_or(2);
    let service_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(service_workers)
        .thread_name(SERVICE_THREAD)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client_bus = Bus::Nats(NatsBus::connect(&nats.url(), "bench-client").await.unwrap());
        let client = Arc::new(AccordClient::new(client_bus.clone()));
        let echo = tokio::spawn(echo_responder(nats.url(), ECHO_SUBJECT));
        let far_echo = service_runtime.spawn(echo_responder(nats.url(), FAR_ECHO_SUBJECT));
        let size = register_actor("size-probe").len();
        report.parameter("command body bytes", size);

        let mut cases: [Vec<Run>; 11] = Default::default();
        // CPU spent while 64 are in flight: commands over the bus, echoes, appends,
        // commands in process, JetStream publishes, and the commands' events published
        // as the relay publishes them.
        let mut cpu: [Vec<Spent>; 6] = Default::default();
        let publisher = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
        // Events per fdatasync while 64 commands are in flight: over the bus, in process.
        let (mut grouped_bus, mut grouped_local) = (Vec::new(), Vec::new());
        // Mean time of a command inside the service at 1 in flight, from its metrics.
        let mut inside1 = Vec::new();
        // Scheduler statistics at 1 in flight: over the bus (with the syncs of its log),
        // in process.
        let (mut sched1, mut local_sched1) = (Vec::new(), Vec::new());
        for run in 0..runs {
            let append_dir = tempfile::tempdir().unwrap();
            let log = Log::open(append_dir.path()).unwrap();
            let local_dir = tempfile::tempdir().unwrap();
            let local = Arc::new(Service::<AgreementsModel>::start(
                Log::open(local_dir.path()).unwrap(),
            ));
            // Every run on fresh logs: the service's, the append's, the in-process one's.
            let service = BusService::start(&service_runtime, nats.url());
            wait_until_served(&client).await;
            let service_log = service.log.clone();
            let tag = format!("r{run}");
            let before = service.metrics.command_time("agreements");
            let syncs = service_log.stats().syncs;
            let (run, spent) = timed(commands(&client, &format!("{tag}s"), sequential, 1)).await;
            cases[0].push(run);
            sched1.push((spent, service_log.stats().syncs - syncs));
            let after = service.metrics.command_time("agreements");
            let inside_ms = (after.1 - before.1).as_secs_f64() * 1e3;
            inside1.push(inside_ms / (after.0 - before.0).max(1) as f64);
            cases[1].push(echoes(&client_bus, size, sequential, 1).await);
            cases[9].push(echoes_on(&client_bus, FAR_ECHO_SUBJECT, size, sequential, 1).await);
            cases[10].push(echoes_after_appends(&client_bus, &log, size, sequential).await);
            cases[2].push(appends(&log, size, sequential, 1).await);
            let before = service_log.stats();
            let (run, spent) =
                timed(commands(&client, &format!("{tag}c"), concurrent, IN_FLIGHT)).await;
            cases[3].push(run);
            cpu[0].push(spent);
            grouped_bus.push(events_per_sync(&before, &service_log.stats()));
            let (run, spent) = timed(echoes(&client_bus, size, concurrent, IN_FLIGHT)).await;
            cases[4].push(run);
            cpu[1].push(spent);
            let (run, spent) = timed(appends(&log, size, concurrent, IN_FLIGHT)).await;
            cases[5].push(run);
            cpu[2].push(spent);
            let (run, spent) = timed(handled(&local, "s", sequential, 1)).await;
            cases[6].push(run);
            local_sched1.push(spent);
            cases[8].push(queries(&client, sequential).await);
            let before = local.log().stats();
            let (run, spent) = timed(handled(&local, "c", concurrent, IN_FLIGHT)).await;
            cases[7].push(run);
            cpu[3].push(spent);
            grouped_local.push(events_per_sync(&before, &local.log().stats()));
            let (_, spent) = timed(publishes(&publisher, size, concurrent, IN_FLIGHT)).await;
            cpu[4].push(spent);
            service.stop().await;
            // The next run starts on a fresh log, so its stream must start afresh too:
            // a service refuses to start on a log behind its stream (issue 13).
            fresh_stream(&nats.url(), "ACCORD_AGREEMENTS").await;
            let (_, spent) =
                timed(event_publishes(&client_bus, &service_log, concurrent, IN_FLIGHT)).await;
            cpu[5].push(spent);
            fresh_stream(&nats.url(), "ACCORD_AGREEMENTS").await;
        }
        let [command1, echo1, append1, command64, echo64, append64, handled1, handled64, query1, far_echo1, idle_echo1] =
            cases;
        let p = |runs: &[Run], p: f64| runs.iter().map(|r| r.p(p)).collect::<Summary>();
        let rate = |runs: &[Run]| runs.iter().map(|r| r.per_second).collect::<Summary>();
        // The sum of the two lower layers, run by run.
        let floor = echo1
            .iter()
            .zip(&append1)
            .map(|(e, a)| e.p(50.0) + a.p(50.0))
            .collect::<Summary>();
        const IN_PROCESS: &str = "in process (Service::handle)";
        const C1: &str = "command, 1 in flight";
        const C64: &str = "command, 64 in flight";
        let command_p50 = p(&command1, 50.0);
        // Met in at least 4 of 5 runs (all of them in a smoke run), run by run.
        let within = command1
            .iter()
            .zip(echo1.iter().zip(&append1))
            .filter(|(c, (e, a))| c.p(50.0) <= e.p(50.0) + a.p(50.0) + 0.2)
            .count();
        let met = within * 5 >= command1.len() * 4;
        let beside_echo = |case: &str, runs: &[Run]| {
            Row::versus(case, "p50 ms", p(runs, 50.0), "NATS echo p50", p(&echo1, 50.0))
        };
        let rows = [
            Row::single("NATS echo, 1 in flight", "p50 ms", p(&echo1, 50.0)),
            beside_echo("NATS echo from the service's runtime, 1 in flight", &far_echo1),
            beside_echo(
                "NATS echo from the service's runtime, each after a durable append",
                &idle_echo1,
            ),
            beside_echo("query LogStatus, 1 in flight", &query1),
            Row::single("durable append, 1 writer", "p50 ms", p(&append1, 50.0)),
            Row::versus(C1, "p50 ms", command_p50, "echo p50 + append p50", floor).target(
                format!(
                    "≤ echo p50 + append p50 + 0.2 ms in ≥ 4 of 5 runs ({within} of {})",
                    command1.len()
                ),
                met,
            ),
            Row::versus(
                C1,
                "p50 ms",
                command_p50,
                format!("{IN_PROCESS}, p50"),
                p(&handled1, 50.0),
            ),
            Row::versus(
                C1,
                "p99 ms",
                p(&command1, 99.0),
                "NATS echo p99",
                p(&echo1, 99.0),
            ),
            Row::versus(C1, "commands/s", rate(&command1), "NATS echo", rate(&echo1)),
            Row::versus(
                C64,
                "commands/s",
                rate(&command64),
                "durable append, 64 writers",
                rate(&append64),
            )
            .ratio_at_least(0.5),
            Row::versus(
                C64,
                "commands/s",
                rate(&command64),
                "NATS echo, 64 in flight",
                rate(&echo64),
            ),
            Row::versus(
                C64,
                "commands/s",
                rate(&command64),
                format!("{IN_PROCESS}, 64 in flight"),
                rate(&handled64),
            ),
            Row::versus(
                format!("{IN_PROCESS}, 64 in flight"),
                "commands/s",
                rate(&handled64),
                "durable append, 64 writers",
                rate(&append64),
            ),
            Row::versus(
                C64,
                "p50 ms",
                p(&command64, 50.0),
                "durable append, 64 writers, p50",
                p(&append64, 50.0),
            ),
            Row::versus(
                C64,
                "p99 ms",
                p(&command64, 99.0),
                "durable append, 64 writers, p99",
                p(&append64, 99.0),
            ),
            Row::versus(
                C64,
                "events per fdatasync",
                Summary::of(&grouped_bus),
                format!("{IN_PROCESS}, 64 in flight"),
                Summary::of(&grouped_local),
            ),
        ];
        let mean = |runs: &[Run]| runs.iter().map(Run::mean).collect::<Summary>();
        let outside1 = command1
            .iter()
            .zip(&inside1)
            .map(|(run, inside)| run.mean() - inside)
            .collect::<Summary>();
        let split = [
            Row::versus(
                format!("{C1}: inside the service (request taken to answer ready)"),
                "mean ms",
                Summary::of(&inside1),
                format!("{IN_PROCESS}, mean"),
                mean(&handled1),
            ),
            Row::versus(
                format!("{C1}: outside the service (client, NATS both ways, hand-offs)"),
                "mean ms",
                outside1,
                "NATS echo, mean",
                mean(&echo1),
            ),
        ];
        let waited = |runs: &[&Spent], threads: &[&str]| {
            runs.iter()
                .map(|s| s.cpu.waited(threads).as_secs_f64() * 1e6 / sequential as f64)
                .collect::<Summary>()
        };
        let bus1: Vec<&Spent> = sched1.iter().map(|(s, _)| s).collect();
        let local1: Vec<&Spent> = local_sched1.iter().collect();
        const WAIT: &str = "µs runnable, waiting for a CPU, per request";
        let sched = [
            Row::versus(
                format!("{C1}: service and client threads"),
                WAIT,
                waited(&bus1, &[SERVICE_THREAD, RUNTIME_THREAD]),
                format!("{IN_PROCESS}: its threads"),
                waited(&local1, &[RUNTIME_THREAD]),
            )
            .zero_is_a_result(),
            Row::single(
                format!("{C1}: sled's IO threads run per fdatasync"),
                "runs",
                sched1
                    .iter()
                    .map(|(s, syncs)| s.cpu.runs(&["sled-io"]) as f64 / (*syncs).max(1) as f64)
                    .collect::<Summary>(),
            ),
        ];
        for row in rows
            .into_iter()
            .chain(split)
            .chain(sched)
            .chain(cpu_rows(&cpu, concurrent))
        {
            report.push(row);
        }
        echo.abort();
        far_echo.abort();
    });
    drop(service_runtime);
    report.finish();
}

/// The agreements service run as `accord serve` runs it, on a fresh log, on the
/// service runtime.
struct BusService {
    log: Log,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), accord_bus::BusError>>,
    /// Dropped last, after the log.
    _dir: tempfile::TempDir,
}

impl BusService {
    fn start(runtime: &tokio::runtime::Runtime, url: String) -> BusService {
        let dir = tempfile::tempdir().unwrap();
        let mut log_config = accord_log::LogConfig::default();
        // `ACCORD_BENCH_LINGER_US` overrides the service log's group linger, to
        // measure its effect on the path over the bus.
        if let Some(us) = env_setting("ACCORD_BENCH_LINGER_US") {
            log_config.group_linger = Duration::from_micros(us);
        }
        let log = Log::open_with(dir.path(), log_config).unwrap();
        let (stop, shutdown) = watch::channel(false);
        let metrics = Arc::new(Metrics::default());
        let mut config = NodeConfig::default();
        // This bench measures the unsigned path; benches/signatures.rs the signed.
        config.endpoints.require_signatures = false;
        config.endpoints.metrics = metrics.clone();
        // `ACCORD_BENCH_RELAY_LINGER_US` overrides the relay's linger, to measure
        // what publishing at once costs the commands.
        if let Some(us) = env_setting("ACCORD_BENCH_RELAY_LINGER_US") {
            config.relay_linger = Duration::from_micros(us);
        }
        let task = runtime.spawn({
            let log = log.clone();
            async move {
                let bus = Bus::Nats(NatsBus::connect(&url, "bench-service").await?);
                run_service(ServiceKind::Agreements, log, bus, config, shutdown).await
            }
        });
        BusService {
            log,
            metrics,
            stop,
            task,
            _dir: dir,
        }
    }

    /// Stops it and waits until it no longer serves.
    async fn stop(self) {
        self.stop.send_replace(true);
        self.task.await.unwrap().unwrap();
    }
}

/// The service runtime's worker threads.
const SERVICE_THREAD: &str = "accord-service";
/// The log's threads: its writer and syncer, and sled's (names as Linux cuts them).
const LOG_THREADS: [&str; 3] = ["accord-log", "sled-", "log flusher"];

async fn timed(case: impl std::future::Future<Output = Run>) -> (Run, Spent) {
    Spent::of(case).await
}

/// The CPU µs per request of several cases added up, run by run.
fn summed(cases: &[&[Spent]], requests: usize) -> Summary {
    (0..cases[0].len())
        .map(|run| {
            let cpu: Duration = cases.iter().map(|case| case[run].cpu.total()).sum();
            cpu.as_secs_f64() * 1e6 / requests as f64
        })
        .collect()
}

/// Where the CPU goes while 64 are in flight: microseconds per request by thread
/// group, and how busy the two cores were.
fn cpu_rows(cpu: &[Vec<Spent>; 6], requests: usize) -> Vec<Row> {
    let per_request =
        |runs: &[Spent], of: &dyn Fn(&CpuTimes) -> Duration| Spent::per_request(runs, requests, of);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let busy = Spent::busy;
    let total = |c: &CpuTimes| c.total();
    let nats = |c: &CpuTimes| c.child("nats-server");
    let service = |c: &CpuTimes| c.threads(&[SERVICE_THREAD]);
    let client = |c: &CpuTimes| c.threads(&[RUNTIME_THREAD]);
    let log = |c: &CpuTimes| c.threads(&LOG_THREADS);
    let [bus, echo, append, local, publish, event_publish] = cpu;
    const US: &str = "CPU µs per request";
    const C64: &str = "command, 64 in flight";
    let local_case = "in process (Service::handle), 64 in flight";
    // What the throughput target allows: every core busy all the time at half the
    // durable append rate of the same run.
    let budget = append
        .iter()
        .map(|s| cores * 1e6 / (0.5 * requests as f64 / s.wall.as_secs_f64()))
        .collect::<Summary>();
    const BUDGET: &str = "CPU budget of the target: all cores busy at 0.5× the durable append rate";
    // The parts a command over the bus cannot do without, relay aside: the bus round
    // trip and the command in process, run by run.
    let floor = summed(&[echo, local], requests);
    // The target: the bus round trip, the command in process and the one
    // JetStream publish its event needs, run by run.
    let parts = summed(&[echo, local, publish], requests);
    // The same sum with the publish the command's event really needs: its own
    // subject, its headers and its envelope, as the relay sends it.
    let event_parts = summed(&[echo, local, event_publish], requests);
    let spent = per_request(bus, &total);
    let within = spent.median <= 1.25 * parts.median;
    const EVENT_PUBLISH: &str =
        "JetStream publish of the command's event as the relay sends it (own subject, headers, envelope), 64 in flight";
    vec![
        Row::versus(
            C64,
            US,
            spent,
            "NATS echo + in process command + JetStream publish, 64 in flight",
            parts,
        )
        .target("≤ 1.25× the sum", within),
        Row::versus(
            C64,
            US,
            per_request(bus, &total),
            "NATS echo + in process command + the event's publish as the relay sends it",
            event_parts,
        ),
        Row::single(
            "JetStream publish with ack, 64 in flight",
            US,
            per_request(publish, &total),
        ),
        Row::single(
            "JetStream publish with ack, 64 in flight: nats-server",
            US,
            per_request(publish, &nats),
        ),
        Row::versus(
            EVENT_PUBLISH,
            US,
            per_request(event_publish, &total),
            "JetStream publish with ack, 64 in flight",
            per_request(publish, &total),
        ),
        Row::single(
            format!("{EVENT_PUBLISH}: nats-server"),
            US,
            per_request(event_publish, &nats),
        ),
        Row::versus(C64, US, per_request(bus, &total), BUDGET, budget),
        Row::versus(
            "NATS echo + in process command, 64 in flight",
            US,
            floor,
            BUDGET,
            budget,
        ),
        // Above 1, the throughput target is out of reach even for a command path
        // costing exactly its parts, with every core busy.
        Row::versus(
            "NATS echo + in process command + JetStream publish, 64 in flight",
            US,
            parts,
            BUDGET,
            budget,
        ),
        Row::versus(
            "NATS echo + in process command + the event's publish as the relay sends it",
            US,
            event_parts,
            BUDGET,
            budget,
        ),
        Row::versus(
            C64,
            US,
            per_request(bus, &total),
            local_case,
            per_request(local, &total),
        ),
        Row::single(format!("{C64}: nats-server"), US, per_request(bus, &nats)),
        Row::single(
            format!("{C64}: service runtime"),
            US,
            per_request(bus, &service),
        ),
        Row::single(
            format!("{C64}: client runtime"),
            US,
            per_request(bus, &client),
        ),
        Row::single(
            format!("{C64}: log threads (writer, syncer, sled)"),
            US,
            per_request(bus, &log),
        ),
        Row::single(
            format!("{local_case}: log threads (writer, syncer, sled)"),
            US,
            per_request(local, &log),
        ),
        Row::single("NATS echo, 64 in flight", US, per_request(echo, &total)),
        Row::single(
            "NATS echo, 64 in flight: nats-server",
            US,
            per_request(echo, &nats),
        ),
        Row::single(
            "durable append, 64 writers",
            US,
            per_request(append, &total),
        ),
        Row::single(C64, "CPU busy, % of all cores", busy(bus)),
        Row::single(local_case, "CPU busy, % of all cores", busy(local)),
        Row::single(
            "durable append, 64 writers",
            "CPU busy, % of all cores",
            busy(append),
        ),
    ]
}

/// Deletes `stream` (if it exists).
async fn fresh_stream(url: &str, stream: &str) {
    let client = async_nats::connect(url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let _ = js.delete_stream(stream).await;
}

/// Retries until the service answers: its endpoints start after its projections.
async fn wait_until_served(client: &AccordClient) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let options = CommandOptions::new("accord-admin");
        match client
            .command(
                "agreements",
                "RegisterActor",
                register_actor("warm-up"),
                &options,
            )
            .await
        {
            Ok(_) => return,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("agreements service never answered: {error}"),
        }
    }
}

/// `total` requests by `in_flight` concurrent senders, each awaiting its answer.
async fn measure<F, Fut>(total: usize, in_flight: usize, send: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let send = Arc::new(send);
    let started = Instant::now();
    let tasks: Vec<_> = (0..in_flight)
        .map(|sender| {
            let send = send.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in (sender..total).step_by(in_flight) {
                    let sent = Instant::now();
                    send(i).await;
                    latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                }
                latencies
            })
        })
        .collect();
    let mut latencies_ms = Vec::with_capacity(total);
    for task in tasks {
        latencies_ms.extend(task.await.unwrap());
    }
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    assert_eq!(latencies_ms.len(), total);
    Run {
        latencies_ms,
        per_second,
    }
}

async fn commands(client: &Arc<AccordClient>, tag: &str, total: usize, in_flight: usize) -> Run {
    let client = client.clone();
    let tag = tag.to_owned();
    measure(total, in_flight, move |i| {
        let client = client.clone();
        let body = register_actor(&format!("bench-{tag}-{i}"));
        async move {
            let options = CommandOptions::new("accord-admin");
            let result = client
                .command("agreements", "RegisterActor", body, &options)
                .await
                .expect("command answered");
            assert_eq!(result.event_ids.len(), 1, "one ActorRegistered per command");
        }
    })
    .await
}

fn events_per_sync(before: &LogStats, after: &LogStats) -> f64 {
    (after.events - before.events) as f64 / (after.syncs - before.syncs).max(1) as f64
}

/// The same commands handed to a service in this process: no bus, no relay.
async fn handled(
    service: &Arc<Service<AgreementsModel>>,
    tag: &str,
    total: usize,
    in_flight: usize,
) -> Run {
    let service = service.clone();
    let tag = tag.to_owned();
    measure(total, in_flight, move |i| {
        let service = service.clone();
        let body = register_actor(&format!("local-{tag}-{i}"));
        async move {
            let meta = CommandMeta::new(ActorId::new("accord-admin").unwrap());
            let outcome = service
                .handle("RegisterActor", Body::Protobuf(&body), &meta)
                .await
                .expect("command handled");
            assert_eq!(
                outcome.event_ids.len(),
                1,
                "one ActorRegistered per command"
            );
        }
    })
    .await
}

/// The service's cheapest request, one after another: its bus path without a command.
async fn queries(client: &Arc<AccordClient>, total: usize) -> Run {
    let client = client.clone();
    measure(total, 1, move |_| {
        let client = client.clone();
        async move {
            let outcome = client
                .query("agreements", "LogStatus", Vec::new())
                .await
                .expect("query answered");
            assert!(matches!(outcome, Outcome::LogStatus(_)), "{outcome:?}");
        }
    })
    .await
}

/// Requests of `size` bytes to the echo responder, through the same bus client.
async fn echoes(bus: &Bus, size: usize, total: usize, in_flight: usize) -> Run {
    echoes_on(bus, ECHO_SUBJECT, size, total, in_flight).await
}

/// [`echoes`] to the responder on `subject`.
async fn echoes_on(
    bus: &Bus,
    subject: &'static str,
    size: usize,
    total: usize,
    in_flight: usize,
) -> Run {
    let bus = bus.clone();
    measure(total, in_flight, move |_| echo(bus.clone(), subject, size)).await
}

/// One request of `size` bytes to the echo responder on `subject`, checked.
async fn echo(bus: Bus, subject: &'static str, size: usize) {
    let reply = bus
        .request(
            Message::new(subject, vec![1; size]),
            Duration::from_secs(10),
        )
        .await
        .expect("echo answered");
    assert_eq!(reply.payload.len(), size);
}

/// Echoes from the service's runtime at 1 in flight, each right after a durable
/// append (not timed): the machine idles in the append's fdatasync before each echo,
/// as it does before a command's answer goes out.
async fn echoes_after_appends(bus: &Bus, log: &Log, size: usize, total: usize) -> Run {
    let started = Instant::now();
    let mut latencies_ms = Vec::with_capacity(total);
    for _ in 0..total {
        appends(log, size, 1, 1).await;
        let sent = Instant::now();
        echo(bus.clone(), FAR_ECHO_SUBJECT, size).await;
        latencies_ms.push(sent.elapsed().as_secs_f64() * 1e3);
    }
    Run {
        latencies_ms,
        per_second: total as f64 / started.elapsed().as_secs_f64(),
    }
}

/// Durable appends of one `size`-byte event each, every writer on its own stream.
async fn appends(log: &Log, size: usize, total: usize, writers: usize) -> Run {
    let log = log.clone();
    measure(total, writers, move |i| {
        let log = log.clone();
        async move {
            let stream = StreamId::new("actor", format!("w{}", i % writers)).unwrap();
            log.append(
                stream,
                ExpectedVersion::Any,
                vec![NewEvent {
                    event_type: "accord.v1.ActorRegistered".into(),
                    schema_version: 1,
                    payload: vec![7; size],
                }],
                accord_testkit::metadata("accord-admin", 1_735_689_600),
            )
            .await
            .expect("append");
        }
    })
    .await
}

/// The service's own events published again, one per request, as the relay sends
/// them: each on its own subject, with its headers (`Nats-Msg-Id` among them) and its
/// envelope. The stream is made here, after the caller deleted the run's, so every
/// event is new to it; the caller deletes it again after.
async fn event_publishes(bus: &Bus, log: &Log, total: usize, in_flight: usize) -> Run {
    let relay = RelayConfig::new("agreements");
    bus.ensure_stream(&relay.stream_spec()).await.unwrap();
    let events: Vec<EventMessage> = log
        .read_all(1)
        .take(total)
        .map(|event| event_message_of(&event.unwrap()))
        .collect();
    assert_eq!(
        events.len(),
        total,
        "the service made one event per command"
    );
    let events = Arc::new(events);
    let bus = bus.clone();
    measure(total, in_flight, move |i| {
        let (bus, event) = (bus.clone(), events[i].clone());
        async move {
            bus.publish_events(vec![event]).await.expect("acknowledged");
        }
    })
    .await
}

fn event_message_of(event: &RecordedEvent) -> EventMessage {
    EventMessage::new("agreements", event, accord_log::encode_envelope(event))
}

/// JetStream publishes of one `size`-byte message each, `in_flight` at a time, each
/// awaiting its ack, on a stream of their own: a bare stand-in for the relay's
/// publish of an event (`event_publishes` measures the real one).
async fn publishes(
    js: &async_nats::jetstream::Context,
    size: usize,
    total: usize,
    in_flight: usize,
) -> Run {
    support::fresh_file_stream(js, "BENCH_RT_PUBLISH", "bench.rt.publish").await;
    let js = js.clone();
    measure(total, in_flight, move |_| {
        let js = js.clone();
        async move {
            js.publish("bench.rt.publish", vec![7; size].into())
                .await
                .expect("published")
                .await
                .expect("acknowledged");
        }
    })
    .await
}

/// Answers every request on `subject` with its own payload.
async fn echo_responder(url: String, subject: &'static str) {
    let client = async_nats::connect(url).await.unwrap();
    let mut requests = client.subscribe(subject).await.unwrap();
    while let Some(request) = requests.next().await {
        if let Some(reply) = request.reply {
            client.publish(reply, request.payload).await.unwrap();
        }
    }
}
