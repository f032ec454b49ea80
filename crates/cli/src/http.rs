//! The operator's HTTP endpoints: `/healthz` (the process is up), `/readyz` (logs
//! open and taking appends, bus connected, every service's endpoints answering, every
//! relay within the lag bound) and `/metrics` (Prometheus text). A deliberately small
//! HTTP/1.1 server: GET only, one request per connection.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use accord_bus::{stream_name, Bus};
use accord_log::Log;
use accord_runtime::{Metrics, ServiceKind, RELAY_CURSOR};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
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

/// Serves until `shutdown` turns true.
pub async fn serve<E: Endpoints>(
    listener: TcpListener,
    health: E,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        match accepted {
            Ok((stream, _)) => {
                let health = health.clone();
                tokio::spawn(async move {
                    if let Err(error) = answer(stream, &health).await {
                        tracing::debug!(%error, "accord.http connection");
                    }
                });
            }
            Err(error) => tracing::warn!(%error, "accord.http accept"),
        }
    }
}

async fn answer<E: Endpoints>(mut stream: TcpStream, health: &E) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(512);
    let mut buffer = [0u8; 512];
    // Read the request head only; a head over 8 KiB is refused.
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..n]);
        if request.len() > 8192 {
            return respond(&mut stream, 431, "text/plain", "request head too large\n").await;
        }
    }
    let head = String::from_utf8_lossy(&request);
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        return respond(&mut stream, 405, "text/plain", "only GET\n").await;
    }
    match path {
        "/healthz" => respond(&mut stream, 200, "text/plain", "ok\n").await,
        "/readyz" => {
            let reasons = health.not_ready();
            if reasons.is_empty() {
                respond(&mut stream, 200, "text/plain", "ready\n").await
            } else {
                let body = format!("not ready: {}\n", reasons.join("; "));
                respond(&mut stream, 503, "text/plain", &body).await
            }
        }
        "/metrics" => {
            let body = health.metrics_text().await;
            respond(&mut stream, 200, "text/plain; version=0.0.4", &body).await
        }
        _ => {
            respond(
                &mut stream,
                404,
                "text/plain",
                "not found: /healthz, /readyz, /metrics\n",
            )
            .await
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
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
