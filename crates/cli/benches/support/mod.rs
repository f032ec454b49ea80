//! Shared by the benchmarks of this package: a log of realistic events on disk.

#![allow(clippy::expect_used, clippy::unwrap_used, dead_code, unreachable_pub)]

use std::path::Path;

use accord_log::Log;

/// Appends `events` progress events, 1,000 per append, one commitment stream per
/// append (up to 1,000 streams).
pub fn build_log(dir: &Path, events: u64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let log = Log::open(dir).unwrap();
    runtime
        .block_on(accord_testkit::fill::fill_with_progress(&log, events))
        .unwrap();
}
