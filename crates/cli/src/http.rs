//! The operator's HTTP endpoints: `/healthz` (the process is up), `/readyz` (logs
//! open and taking appends, bus connected, every service's endpoints answering, every
//! relay within the lag bound) and `/metrics` (Prometheus text), on axum.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use accord_bus::{stream_name, Bus};
use accord_log::Log;
use accord_runtime::{Metrics, ServiceKind, RELAY_CURSOR};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What the endpoints look at.
#[derive(Debug, Clone)]
pub struct Health {
    pub bus: Bus,
    pub logs: Vec<(ServiceKind, Log)>,
    pub metrics: Arc<Metrics>,
    pub max_relay_lag: u64,
}

impl Health {
    fn relay_lag(log: &Log) -> u64 {
        let published = log.cursor(RELAY_CURSOR).unwrap_or(0);
        log.durable_position().saturating_sub(published)
    }

    /// Why the process is not ready; empty when it is.
    pub fn not_ready(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        if !self.bus.is_connected() {
            reasons.push("bus not connected".to_owned());
        }
        for (kind, log) in &self.logs {
            if !self.metrics.is_serving(kind.name()) {
                reasons.push(format!("{kind} endpoints not serving"));
            }
            if !log.accepts_appends() {
                reasons.push(format!(
                    "{kind} log takes no appends since a storage failure (disk full?): free space and restart the service"
                ));
            }
            if let Err(error) = log.head() {
                reasons.push(format!("{kind} log: {error}"));
            }
            let lag = Health::relay_lag(log);
            if lag > self.max_relay_lag {
                reasons.push(format!(
                    "{kind} relay {lag} events behind (bound {})",
                    self.max_relay_lag
                ));
            }
        }
        reasons
    }

    pub async fn metrics_text(&self) -> String {
        let mut out = String::new();
        self.metrics.render(&mut out);
        out.push_str("# HELP accord_events_appended_total Events in the service's log.\n");
        out.push_str("# TYPE accord_events_appended_total counter\n");
        for (kind, log) in &self.logs {
            let _ = writeln!(
                out,
                "accord_events_appended_total{{service=\"{kind}\"}} {}",
                log.durable_position()
            );
        }
        self.render_group_commits(&mut out);
        out.push_str(
            "# HELP accord_relay_lag_events Events in the log not yet acknowledged by the bus.\n",
        );
        out.push_str("# TYPE accord_relay_lag_events gauge\n");
        for (kind, log) in &self.logs {
            let _ = writeln!(
                out,
                "accord_relay_lag_events{{service=\"{kind}\"}} {}",
                Health::relay_lag(log)
            );
        }
        out.push_str(
            "# HELP accord_consumer_lag_events Events a reaction consumer has not finished.\n",
        );
        out.push_str("# TYPE accord_consumer_lag_events gauge\n");
        for (kind, _) in &self.logs {
            for (flow, _) in kind.flows() {
                // A consumer that does not exist yet (no stream) has nothing pending.
                let pending = self
                    .bus
                    .consumer_pending(&stream_name(kind.name()), flow)
                    .await
                    .unwrap_or(0);
                let _ = writeln!(
                    out,
                    "accord_consumer_lag_events{{service=\"{kind}\",consumer=\"{flow}\"}} {pending}"
                );
            }
        }
        out
    }
}

/// One figure of a log's statistics.
type Figure = fn(&accord_log::LogStats) -> u64;

/// The log's group commit since the process opened it, one counter per figure of
/// [`accord_log::LogStats`]: how many appends each sync covers (appends over syncs)
/// is what decides the cost of a durable append under load (BENCHMARKS §1, §11).
const GROUP_COMMIT_COUNTERS: [(&str, &str, Figure); 4] = [
    (
        "accord_log_appends_total",
        "Appends that wrote events since the log was opened.",
        |s| s.appends,
    ),
    (
        "accord_log_groups_total",
        "Groups of appends applied together since the log was opened.",
        |s| s.groups,
    ),
    (
        "accord_log_syncs_total",
        "Syncs to disk since the log was opened, each covering every group before it.",
        |s| s.syncs,
    ),
    (
        "accord_log_appends_on_caller_thread_total",
        "Lone appends made on the caller's thread, with no hand-off to the log's writer.",
        |s| s.appends_on_caller_thread,
    ),
];

impl Health {
    fn render_group_commits(&self, out: &mut String) {
        let stats: Vec<_> = self
            .logs
            .iter()
            .map(|(kind, log)| (kind, log.stats()))
            .collect();
        for (name, help, figure) in GROUP_COMMIT_COUNTERS {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (kind, stats) in &stats {
                let _ = writeln!(out, "{name}{{service=\"{kind}\"}} {}", figure(stats));
            }
        }
    }
}

/// What a process serves on its HTTP endpoints: the services' [`Health`], or a
/// witness's state.
pub trait Endpoints: Clone + Send + Sync + 'static {
    /// Why the process is not ready; empty when it is.
    fn not_ready(&self) -> Vec<String>;
    /// The Prometheus text of `/metrics`.
    fn metrics_text(&self) -> Pin<Box<dyn Future<Output = String> + Send + '_>>;
}

impl Endpoints for Health {
    fn not_ready(&self) -> Vec<String> {
        Health::not_ready(self)
    }

    fn metrics_text(&self) -> Pin<Box<dyn Future<Output = String> + Send + '_>> {
        Box::pin(Health::metrics_text(self))
    }
}

/// Serves until `shutdown` turns true, on axum (hyper): `/healthz`, `/readyz` and
/// `/metrics`, GET only (another method is 405, another path 404).
pub async fn serve<E: Endpoints>(
    listener: TcpListener,
    health: E,
    shutdown: watch::Receiver<bool>,
) {
    serve_with(listener, health, Router::new(), shutdown).await
}

/// [`serve`], with the routes of `more` beside them (the console under `/console/`).
pub async fn serve_with<E: Endpoints>(
    listener: TcpListener,
    health: E,
    more: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = Router::new()
        .route("/healthz", get(|| async { text(StatusCode::OK, "ok\n") }))
        .route("/readyz", get(readyz::<E>))
        .route("/metrics", get(metrics::<E>))
        .with_state(health)
        .merge(more)
        .fallback(|| async {
            text(
                StatusCode::NOT_FOUND,
                "not found: /healthz, /readyz, /metrics (and /console/ where it is served)\n",
            )
        });
    let stopped = async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
    };
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::warn!(%error, "accord.http serve");
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

async fn readyz<E: Endpoints>(State(health): State<E>) -> Response {
    let reasons = health.not_ready();
    if reasons.is_empty() {
        text(StatusCode::OK, "ready\n")
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", reasons.join("; ")),
        )
    }
}

async fn metrics<E: Endpoints>(State(health): State<E>) -> Response {
    let body = health.metrics_text().await;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        body,
    )
        .into_response()
}

/// GETs `path` from `addr` (host:port) with a short timeout: the status and body.
pub fn probe(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    let timeout = std::time::Duration::from_secs(3);
    let target = addr
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{addr} resolves to nothing")))?;
    let mut stream = std::net::TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an http response"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[derive(Clone)]
    struct Fixed(Vec<String>);

    impl Endpoints for Fixed {
        fn not_ready(&self) -> Vec<String> {
            self.0.clone()
        }
        fn metrics_text(&self) -> Pin<Box<dyn Future<Output = String> + Send + '_>> {
            Box::pin(async { "accord_up 1\n".to_owned() })
        }
    }

    fn raw(addr: std::net::SocketAddr, request: &str) -> String {
        let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .unwrap_or_else(|e| panic!("{e}"));
        response
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn given_the_endpoints_then_get_answers_and_other_methods_and_paths_are_refused() {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, Fixed(vec!["bus down".into()]), stopped));
        let answers = tokio::task::spawn_blocking(move || {
            let get = |path: &str| {
                raw(
                    addr,
                    &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                )
            };
            (
                get("/healthz"),
                get("/readyz"),
                get("/metrics"),
                get("/nope"),
                raw(
                    addr,
                    "POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let (healthz, readyz, metrics, nope, post) = answers;
        assert!(healthz.starts_with("HTTP/1.1 200") && healthz.ends_with("ok\n"));
        assert!(readyz.starts_with("HTTP/1.1 503") && readyz.contains("not ready: bus down"));
        assert!(metrics.contains("version=0.0.4") && metrics.ends_with("accord_up 1\n"));
        assert!(nope.starts_with("HTTP/1.1 404"), "{nope}");
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        stop.send_replace(true);
        server.await.unwrap_or_else(|e| panic!("{e}"));
    }
}
