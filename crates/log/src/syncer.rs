//! Making groups durable, in two stages on two threads, so that the two device
//! flushes each group needs overlap across groups:
//!
//! 1. the **syncer** takes every group the writer applied, lingers briefly for more,
//!    then flushes sled and `fdatasync`s its data file;
//! 2. the **marker** takes what the syncer made durable, writes the high-water mark
//!    past it and `fdatasync`s the mark (see `mark`), then advances the durable
//!    position and answers the appends.
//!
//! While the marker syncs the mark of one batch, the syncer already syncs the data of
//! the next. Each append is still answered only after both syncs of its own group,
//! and the mark never names a position whose data is not durable, so what a crash
//! can leave is as before: data ahead of the mark (opens), never the mark ahead of
//! the data.
//!
//! When no other group waits and the marker is idle (a lone writer, the usual load),
//! the syncer writes the mark and answers itself: handing over to another thread
//! would only add a wake-up to every append's latency (measured: ~30 µs at p50).
//! For the same reason a lone writer's group never reaches the syncer thread: when
//! nothing is handed over and the last sync covered one append, the writer thread,
//! or the appending caller itself, syncs, marks and answers the group (`sync_alone`).

use std::fs::File;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::error::{Failure, LogError};
use crate::group::{Applied, Counters, Pending};
use crate::mark::{Mark, MarkFile};
use crate::snapshotter::Snapshotter;

/// Batches the syncer made durable that may wait for the marker.
const MARKER_QUEUE: usize = 4;

/// The first stage: sled's flush and the data file's fdatasync.
pub(crate) struct Syncer {
    pub(crate) linger: Duration,
    pub(crate) db: sled::Db,
    pub(crate) counters: Arc<Counters>,
    pub(crate) data_file: Option<File>,
    pub(crate) failed: Arc<Failure>,
    /// Appends the last sync covered: the linger's measure of the load, and what
    /// tells the writer thread, or an appending caller, that it is alone.
    pub(crate) last_sync_appends: AtomicUsize,
    /// How long the last data sync took, in microseconds: a lone caller syncs on
    /// its runtime's thread without telling the runtime only while syncs are quick
    /// (see `writer::Alone::quick`).
    pub(crate) last_sync_micros: AtomicU64,
}

/// The second stage: the high-water mark, then the answers.
pub(crate) struct Marker {
    /// Written by the marker thread, or by the syncer while the marker is idle.
    pub(crate) mark: Mutex<MarkFile>,
    /// Batches handed to the marker thread and not answered yet.
    pub(crate) handed: AtomicUsize,
    /// Groups the writer handed to the syncer thread and not answered yet.
    pub(crate) unanswered: AtomicUsize,
    pub(crate) durable: Arc<AtomicU64>,
    pub(crate) durable_watch: watch::Sender<u64>,
    pub(crate) failed: Arc<Failure>,
    pub(crate) snapshotter: Arc<Snapshotter>,
}

impl Syncer {
    /// Runs both stages until the writer is gone and every group is answered.
    pub(crate) fn run(&self, groups: std_mpsc::Receiver<Applied>, marker: Arc<Marker>) {
        let (to_marker, from_syncer) = std_mpsc::sync_channel(MARKER_QUEUE);
        let thread = {
            let marker = Arc::clone(&marker);
            std::thread::Builder::new()
                .name("accord-log-marker".into())
                .spawn(move || marker.run(from_syncer))
        };
        let thread = match thread {
            Ok(thread) => thread,
            Err(error) => {
                let error = LogError::from(error);
                tracing::error!(%error, "log.marker not started; refusing appends");
                self.failed.fail(&error);
                for group in groups {
                    answer_failed(group.pending, &error);
                    marker.unanswered.fetch_sub(1, Ordering::AcqRel);
                }
                return;
            }
        };
        self.sync_groups(&groups, &marker, &to_marker);
        drop(to_marker);
        if thread.join().is_err() {
            tracing::error!("log.marker panicked");
        }
    }

    /// Whether a group of `appends`, with no other append queued, should be synced
    /// by whoever applies it (the writer thread, after applying it; a caller on its
    /// own thread, before): nothing is handed over that it could overtake, and the
    /// load is one append at a time (a group of more would want the syncer's
    /// linger).
    pub(crate) fn alone(&self, marker: &Marker, appends: usize) -> bool {
        appends <= 1
            && self.last_sync_appends.load(Ordering::Relaxed) <= 1
            && marker.unanswered.load(Ordering::Acquire) == 0
    }

    /// The sync of a lone group by whoever applied it (the writer thread, or the
    /// caller that appended): data, mark, answer, on its thread.
    pub(crate) fn sync_alone(&self, marker: &Marker, group: Applied) {
        let _span = tracing::debug_span!("log.writer.sync_alone").entered();
        self.last_sync_appends
            .store(group.pending.len(), Ordering::Relaxed);
        match self.sync_unless_failed() {
            Ok(()) => marker.mark_and_answer(vec![group]),
            Err(error) => {
                fail(&self.failed, &error);
                answer_failed(group.pending, &error);
            }
        }
    }

    fn sync_groups(
        &self,
        groups: &std_mpsc::Receiver<Applied>,
        marker: &Marker,
        to_marker: &std_mpsc::SyncSender<Vec<Applied>>,
    ) {
        // A group taken to see whether any waits: the next sync's first.
        let mut next = None;
        while let Some(first) = next.take().or_else(|| groups.recv().ok()) {
            let mut covered = vec![first];
            covered.extend(groups.try_iter());
            let mut appends: usize = covered.iter().map(|g| g.pending.len()).sum();
            // The callers answered by the last sync are typically about to append
            // again. If fewer appends wait than that sync covered, linger briefly for
            // them, so one fsync serves them all (like PostgreSQL's commit_delay).
            // A single caller never waits; when load drops, one sync pays the linger.
            let deadline = Instant::now() + self.linger;
            let last_sync_appends = self.last_sync_appends.load(Ordering::Relaxed);
            while appends < last_sync_appends {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    break;
                };
                match groups.recv_timeout(left) {
                    Ok(group) => {
                        appends += group.pending.len();
                        covered.push(group);
                    }
                    Err(_) => break,
                }
            }
            self.last_sync_appends.store(appends, Ordering::Relaxed);
            let _span = tracing::debug_span!("log.syncer.sync", groups = covered.len()).entered();
            match self.sync_unless_failed() {
                Ok(()) => {
                    next = groups.try_recv().ok();
                    if next.is_none() && marker.handed.load(Ordering::Acquire) == 0 {
                        let taken = covered.len();
                        marker.mark_and_answer(covered);
                        marker.unanswered.fetch_sub(taken, Ordering::AcqRel);
                        continue;
                    }
                    marker.handed.fetch_add(1, Ordering::AcqRel);
                    if to_marker.send(covered).is_err() {
                        tracing::error!("log.syncer marker is gone");
                        return;
                    }
                }
                Err(error) => {
                    let taken = covered.len();
                    fail(&self.failed, &error);
                    answer_failed(covered.into_iter().flat_map(|g| g.pending), &error);
                    marker.unanswered.fetch_sub(taken, Ordering::AcqRel);
                }
            }
        }
    }

    /// `sync_data`, or the refusal once the log has failed: what reached the disk
    /// is unknown then, and nothing more is acknowledged.
    fn sync_unless_failed(&self) -> Result<(), LogError> {
        if self.failed.is_failed() {
            return Err(self.failed.refusal());
        }
        self.sync_data()
    }

    /// One flush and one fdatasync for every group applied so far.
    fn sync_data(&self) -> Result<(), LogError> {
        self.counters.syncs.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        self.db.flush()?;
        if let Some(file) = &self.data_file {
            file.sync_data()?;
        }
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last_sync_micros.store(took, Ordering::Relaxed);
        Ok(())
    }
}

impl Marker {
    fn run(&self, batches: std_mpsc::Receiver<Vec<Applied>>) {
        while let Ok(first) = batches.recv() {
            // Every batch waiting is covered by one write of the mark.
            let mut covered = first;
            let mut taken = 1;
            for batch in batches.try_iter() {
                covered.extend(batch);
                taken += 1;
            }
            let groups = covered.len();
            self.mark_and_answer(covered);
            // Answered and marked: the writer may now sync a lone group itself.
            self.unanswered.fetch_sub(groups, Ordering::AcqRel);
            self.handed.fetch_sub(taken, Ordering::AcqRel);
        }
    }

    /// Writes and syncs the mark past the groups (durable data), then answers them.
    fn mark_and_answer(&self, covered: Vec<Applied>) {
        let last = covered
            .iter()
            .filter_map(|g| g.last)
            .max_by_key(|m| m.position);
        let marked = match (self.failed.is_failed(), last) {
            (true, _) => Err(self.failed.refusal()),
            (false, Some(last)) => self
                .mark
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write(last),
            (false, None) => Ok(()),
        };
        match marked {
            Ok(()) => self.answer(covered, last),
            Err(error) => {
                fail(&self.failed, &error);
                answer_failed(covered.into_iter().flat_map(|g| g.pending), &error);
            }
        }
    }

    /// The groups are durable up to `last` and in the mark: readers may see them,
    /// and their appends are answered.
    fn answer(&self, covered: Vec<Applied>, last: Option<Mark>) {
        if let Some(last) = last {
            self.durable.store(last.position, Ordering::Release);
            self.durable_watch.send_replace(last.position);
        }
        for p in covered.into_iter().flat_map(|g| g.pending) {
            // A caller that gave up waiting still had its events appended; that is
            // what the command id is for.
            let _ = p.reply.send(p.answer);
        }
        if let Some(last) = last {
            self.snapshotter.after_sync(last.position, last.hash);
        }
    }
}

/// What reached the disk is unknown now: nothing more is acknowledged until the log
/// is reopened and its head checked.
fn fail(failed: &Failure, error: &LogError) {
    if !failed.is_failed() {
        tracing::error!(%error, "log.syncer flush failed; refusing further appends");
    }
    failed.fail(error);
}

fn answer_failed(pending: impl IntoIterator<Item = Pending>, error: &LogError) {
    for p in pending {
        // An append the writer already refused keeps its own reason.
        let _ = p.reply.send(Err(match p.answer {
            Err(own) => own,
            Ok(_) => error.for_each_caller(),
        }));
    }
}
