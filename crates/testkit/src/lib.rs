//! Test support shared by Accord's crates: real logs in temporary directories and
//! small builders for events and metadata. Nothing here is faked: a `TempLog` is
//! real sled on disk, removed when dropped.

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
    }
}
