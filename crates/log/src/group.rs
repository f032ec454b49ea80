//! What passes between the log's threads: a group the writer applied, the answers
//! it holds for its appends, and the counters every stage adds to. Its own module, so
//! the writer and the syncer depend on it and not on each other.

use std::sync::atomic::AtomicU64;

use tokio::sync::oneshot;

use crate::error::LogError;
use crate::mark::Mark;
use crate::AppendOutcome;

/// Counters of the log's work since it was opened, for metrics and benchmarks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) appends: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) groups: AtomicU64,
    pub(crate) syncs: AtomicU64,
    pub(crate) appends_on_caller_thread: AtomicU64,
}

/// What one append will answer, once the flush covering its group returns.
pub(crate) struct Pending {
    pub(crate) reply: oneshot::Sender<Result<AppendOutcome, LogError>>,
    pub(crate) answer: Result<AppendOutcome, LogError>,
}

/// A group applied to sled, waiting for the syncer.
pub(crate) struct Applied {
    /// The group's last event, if it appended any.
    pub(crate) last: Option<Mark>,
    pub(crate) pending: Vec<Pending>,
}
