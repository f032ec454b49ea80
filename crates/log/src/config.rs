use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use accord_kernel::Timestamp;

use crate::error::{InvalidInput, LogError};

/// How far an append must reach before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// sled's flush, then `fdatasync` of its data file: survives power loss. Default.
    #[default]
    Fdatasync,
    /// sled's flush only (`sync_file_range`): survives a process crash, not a power
    /// loss. Faster on disks with slow cache flushes; see BENCHMARKS.md.
    Flush,
}

/// Where the log's recorded-at times come from. The log never lets them go
/// backwards, whatever the clock does.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_system_time(SystemTime::now()).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// The largest envelope (payload plus metadata) the log accepts. sled 0.34 moves
/// values bigger than a quarter segment into separate "blob" files that its flush does
/// not cover; with 8 MiB segments and at most 17 entries per leaf node, envelopes up
/// to this size keep every node inside the segment log that the log fdatasyncs.
pub const MAX_EVENT_BYTES_LIMIT: usize = 96 * 1024;

/// sled's segment size for Accord logs; see [`MAX_EVENT_BYTES_LIMIT`].
pub(crate) const SEGMENT_SIZE: usize = 8 * 1024 * 1024;

/// Settings of one log.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub durability: Durability,
    /// Largest encoded envelope accepted, in bytes (at most [`MAX_EVENT_BYTES_LIMIT`]).
    pub max_event_bytes: usize,
    /// Most events one append may carry.
    pub max_events_per_append: usize,
    /// Most appends the writer combines into one group commit.
    pub max_group_appends: usize,
    /// Appends that may wait for the writer before callers are held back.
    pub queue_depth: usize,
    /// How long a sync may wait for the callers the previous sync answered, when
    /// fewer appends are waiting than it covered. Zero disables lingering.
    pub group_linger: Duration,
    /// Bytes of sled's page cache. Reading the whole log (rebuilding projections,
    /// verifying, exporting) fills it, so it bounds how much memory grows with the log.
    pub cache_bytes: u64,
    pub clock: Arc<dyn Clock>,
    /// Keep the log's Merkle tree (see `tree`), the basis of its checkpoints and
    /// proofs. On by default; off only to measure what the tree costs. A log opened
    /// with it off drops its stored tree, and gets it rebuilt from its events the
    /// next time it is opened with it on.
    pub merkle_tree: bool,
    /// Events beyond the last index snapshot that make opening or closing the log
    /// write a new one (see `snapshot`): the next open then reads only the events
    /// after it, and the commands it covers are looked up on disk instead of held in
    /// memory. 0 turns snapshots off: neither read nor written.
    pub snapshot_after: u64,
}

/// The default [`LogConfig::snapshot_after`].
pub const DEFAULT_SNAPSHOT_AFTER: u64 = 10_000;

/// The default page cache: enough for the hot tail of a log, small beside sled's own
/// default of 1 GiB.
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            durability: Durability::Fdatasync,
            max_event_bytes: 64 * 1024,
            max_events_per_append: 1024,
            max_group_appends: 1024,
            queue_depth: 4096,
            group_linger: Duration::from_micros(500),
            cache_bytes: DEFAULT_CACHE_BYTES,
            clock: Arc::new(SystemClock),
            merkle_tree: true,
            snapshot_after: DEFAULT_SNAPSHOT_AFTER,
        }
    }
}

impl LogConfig {
    pub(crate) fn validate(&self) -> Result<(), LogError> {
        let setting = |name: &'static str, reason: String| {
            Err(LogError::InvalidInput(InvalidInput::Setting {
                name,
                reason,
            }))
        };
        if self.max_event_bytes == 0 || self.max_event_bytes > MAX_EVENT_BYTES_LIMIT {
            return setting(
                "max_event_bytes",
                format!(
                    "must be 1..={MAX_EVENT_BYTES_LIMIT}, got {}",
                    self.max_event_bytes
                ),
            );
        }
        if self.cache_bytes < 1024 * 1024 {
            return setting(
                "cache_bytes",
                format!("must be at least 1 MiB, got {}", self.cache_bytes),
            );
        }
        for (name, value) in [
            ("max_events_per_append", self.max_events_per_append),
            ("max_group_appends", self.max_group_appends),
            ("queue_depth", self.queue_depth),
        ] {
            if value == 0 {
                return setting(name, "must be at least 1".into());
            }
        }
        Ok(())
    }
}

fn sled_config(dir: &Path, cache_bytes: u64) -> sled::Config {
    sled::Config::new()
        .path(dir)
        .cache_capacity(cache_bytes)
        .segment_size(SEGMENT_SIZE)
        .mode(sled::Mode::HighThroughput)
}

/// How long opening waits for sled's file lock. A log closed a moment ago in this
/// process can hold it briefly while sled's background threads finish; a log that
/// another process has open holds it until that process stops.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Opens sled with Accord's settings, waiting briefly for the file lock.
pub(crate) fn open_sled(dir: &Path, cache_bytes: u64) -> Result<sled::Db, LogError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match sled_config(dir, cache_bytes).open() {
            Ok(db) => return Ok(db),
            // sled reports a held lock only as text in an I/O error.
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if Instant::now() >= deadline {
                    return Err(LogError::Locked(dir.display().to_string()));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
}
