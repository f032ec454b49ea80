//! Test support shared by Accord's crates: real logs in temporary directories and
//! small builders for events and metadata. Nothing here is faked: a `TempLog` is
//! real sled on disk, removed when dropped.

pub mod commands;
pub mod fill;
pub mod fixtures;
pub mod tamper;

use std::path::{Path, PathBuf};

use accord_kernel::{StreamId, Timestamp};
use accord_log::{AppendMetadata, Log, LogConfig, LogError, NewEvent};
use uuid::Uuid;

/// A log in its own temporary directory, deleted on drop.
#[derive(Debug)]
pub struct TempLog {
    dir: tempfile::TempDir,
    log: Option<Log>,
    config: LogConfig,
}

impl TempLog {
    /// A new, empty log with default (durable) settings.
    pub fn new() -> Self {
        Self::with_config(LogConfig::default())
    }

    pub fn with_config(config: LogConfig) -> Self {
        #[allow(clippy::expect_used)]
        let dir = tempfile::Builder::new()
            .prefix("accord-log-")
            .tempdir()
            .expect("create temporary directory");
        #[allow(clippy::expect_used)]
        let log = Log::open_with(dir.path(), config.clone()).expect("open new log");
        TempLog {
            dir,
            log: Some(log),
            config,
        }
    }

    pub fn log(&self) -> &Log {
        #[allow(clippy::expect_used)]
        self.log.as_ref().expect("log is open")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Closes the log (waiting for its writer to finish) and leaves the files.
    pub fn close(&mut self) {
        self.log = None;
    }

    /// Closes and opens the log again from disk.
    pub fn reopen(&mut self) -> Result<&Log, LogError> {
        self.close();
        self.log = Some(Log::open_with(self.dir.path(), self.config.clone())?);
        Ok(self.log())
    }

    /// Keeps the directory (for inspecting a failure) and returns its path.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }
}

impl Default for TempLog {
    fn default() -> Self {
        Self::new()
    }
}

/// A stream id for tests; panics on an invalid one, which is a bug in the test.
pub fn stream(category: &str, id: &str) -> StreamId {
    #[allow(clippy::expect_used)]
    StreamId::new(category, id).expect("valid test stream id")
}

/// An event of type `accord.test.<name>` with the given payload.
pub fn event(name: &str, payload: &[u8]) -> NewEvent {
    NewEvent {
        event_type: format!("accord.test.{name}"),
        schema_version: 1,
        payload: payload.to_vec(),
    }
}

/// Metadata with a fresh command id, acting as `actor`, occurring at the epoch + `second`.
pub fn metadata(actor: &str, second: i64) -> AppendMetadata {
    let command_id = Uuid::now_v7();
    AppendMetadata {
        actor: actor.to_owned(),
        command_id,
        correlation_id: command_id,
        causation_id: None,
        #[allow(clippy::expect_used)]
        occurred_at: Timestamp::new(second, 0).expect("valid test time"),
        signature: None,
        command_digest: None,
    }
}

/// Given/when/then for deciders: `given::<D>([events]).when(command).then([events])`.
pub fn given<D: accord_kernel::Decider>(events: impl IntoIterator<Item = D::Event>) -> Given<D> {
    let events: Vec<D::Event> = events.into_iter().collect();
    Given {
        state: D::fold(&events),
    }
}

/// The state a decider test starts from.
#[derive(Debug)]
pub struct Given<D: accord_kernel::Decider> {
    state: D::State,
}

impl<D: accord_kernel::Decider> Given<D> {
    pub fn when(self, command: D::Command) -> Then<D> {
        let result = D::decide(&self.state, &command);
        Then {
            state: self.state,
            result,
        }
    }

    pub fn state(&self) -> &D::State {
        &self.state
    }
}

/// What a decider decided, to be checked.
#[derive(Debug)]
pub struct Then<D: accord_kernel::Decider> {
    state: D::State,
    result: Result<Vec<D::Event>, D::Error>,
}

impl<D: accord_kernel::Decider> Then<D>
where
    D::Event: PartialEq + std::fmt::Debug,
    D::Error: std::fmt::Debug,
{
    /// Asserts the command was accepted with exactly these events; returns the state
    /// after them.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = D::Event>) -> D::State {
        let expected: Vec<D::Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "decided events differ");
                events.iter().fold(self.state, D::evolve)
            }
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        }
    }

    /// Asserts the command was rejected with an error the predicate accepts (and so
    /// emitted no events).
    #[track_caller]
    pub fn then_error(self, check: impl FnOnce(&D::Error) -> bool) {
        match self.result {
            Ok(events) => panic!("expected an error, got events {events:?}"),
            Err(error) => assert!(check(&error), "unexpected error {error:?}"),
        }
    }
}

/// A real `nats-server` with JetStream on a free port of 127.0.0.1, its store in a
/// temporary directory; killed on drop. The binary is `ACCORD_NATS_SERVER`, else
/// `/usr/sbin/nats-server`, else `nats-server` on the PATH.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<std::process::Child>,
    port: u16,
    store: tempfile::TempDir,
}

impl NatsServer {
    /// Starts a server and waits until it accepts connections.
    pub fn start() -> NatsServer {
        #[allow(clippy::expect_used)]
        let store = tempfile::Builder::new()
            .prefix("accord-nats-")
            .tempdir()
            .expect("create NATS store directory");
        let port = free_port();
        let mut server = NatsServer {
            child: None,
            port,
            store,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store.
    pub fn restart(&mut self) {
        self.stop();
        let binary = std::env::var("ACCORD_NATS_SERVER").unwrap_or_else(|_| {
            if Path::new("/usr/sbin/nats-server").exists() {
                "/usr/sbin/nats-server".into()
            } else {
                "nats-server".into()
            }
        });
        #[allow(clippy::expect_used)]
        let child = std::process::Command::new(&binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        self.child = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !nats_greets(self.port) {
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not start on port {}",
                self.port
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Whether a NATS server answers on `port` with its `INFO` greeting. A bare TCP
/// connect is not enough: to a port in the ephemeral range with nobody listening, a
/// connect can reach itself (TCP simultaneous open) and seem to succeed.
pub fn nats_greets(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
    let mut greeting = [0u8; 4];
    stream.read_exact(&mut greeting).is_ok() && &greeting == b"INFO"
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP port nobody listens on right now, and that this process has not handed out
/// before: tests running in parallel threads must not race for the same port.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        #[allow(clippy::expect_used)]
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        #[allow(clippy::expect_used)]
        let port = listener.local_addr().expect("local address").port();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// The Python that interop tests run (`ACCORD_PYTHON`, which `.ci/run` points at its
/// virtual environment, else `python3`), if it can import `modules` (e.g.
/// `"cryptography, nats"`). Without them: `None` after saying why, so the test passes
/// on a machine without the packages; under CI (`CI` set) it panics instead, since
/// there the interop tests must run.
pub fn python_with(modules: &str) -> Option<String> {
    let python = std::env::var("ACCORD_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let has = std::process::Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    if has {
        return Some(python);
    }
    assert!(
        std::env::var("CI").is_err(),
        "under CI the interop tests must run: {python} lacks {modules}"
    );
    eprintln!("skipped: {python} cannot import {modules} (pip install cryptography nats-py)");
    None
}
