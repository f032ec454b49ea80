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
