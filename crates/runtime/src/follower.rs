//! The projections following the log once it is open. Every durable event is folded
//! into the view and the kept stream states exactly once, in log order, by whoever
//! gets there first:
//!
//! * the projector task, woken by every durable position, so the projections follow
//!   events nobody waits for (reactions, other writers) and snapshots are taken;
//! * a command that has just appended, or a request that must see every durable
//!   event, applies what is ready itself instead of waiting for that task to be
//!   scheduled and then to wake it: on two busy cores each wake-up is a wait for a
//!   CPU on the command's path (measured in BENCHMARKS §11).
//!
//! One lock orders them. A helper only tries it: when it is held, the holder (or the
//! projector task after it, which always takes it) applies the helper's events.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use accord_boundary::ServiceDefinition;
use accord_log::{Covers, Log, Subscription, SNAPSHOT_QUIET_FACTOR};
use tokio::sync::watch;

use crate::projection::{apply_event, StateCache};
use crate::projection_snapshot;

/// The projections and their place in the log, shared by the projector task and the
/// service's requests.
pub(crate) struct Follower<M: ServiceDefinition> {
    following: Mutex<Following>,
    view: Arc<RwLock<M::View>>,
    states: Arc<StateCache<M::State>>,
}

impl<M: ServiceDefinition> std::fmt::Debug for Follower<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower").finish_non_exhaustive()
    }
}

struct Following {
    subscription: Subscription,
    /// Tells the waiting requests how far the projections got. Dropped when they stop
    /// (at an event they cannot apply, or when the log closed), which wakes every
    /// waiter with an error instead of leaving it waiting for ever.
    applied: Option<watch::Sender<u64>>,
    /// The last event applied, for the snapshot.
    last: Option<Covers>,
}

impl<M: ServiceDefinition> Follower<M> {
    /// Follows `log` after `applied` (the position the projections already include).
    pub(crate) fn new(
        log: &Log,
        view: Arc<RwLock<M::View>>,
        states: Arc<StateCache<M::State>>,
        applied: watch::Sender<u64>,
    ) -> Follower<M> {
        let from = *applied.borrow() + 1;
        Follower {
            following: Mutex::new(Following {
                subscription: log.subscribe(from),
                applied: Some(applied),
                last: None,
            }),
            view,
            states,
        }
    }

    /// Applies every durable event not applied yet, unless someone else is applying
    /// (then they will, or the projector task after them).
    pub(crate) fn help(&self) {
        if let Ok(mut following) = self.following.try_lock() {
            self.apply_ready(&mut following);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Following> {
        self.following
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies what is durable, then tells the waiters once (each tell wakes every
    /// request waiting). Returns false once the projections have stopped.
    fn apply_ready(&self, following: &mut Following) -> bool {
        if following.applied.is_none() {
            return false;
        }
        let mut last = None;
        let mut stopped = false;
        while let Some(event) = following.subscription.try_next() {
            match apply_event::<M>(&self.view, &self.states, event) {
                Some(covers) => last = Some(covers),
                None => {
                    stopped = true;
                    break;
                }
            }
        }
        if let Some(covers) = last {
            following.last = Some(covers);
            if let Some(applied) = &following.applied {
                applied.send_replace(covers.position);
            }
        }
        if stopped {
            following.applied = None;
        }
        !stopped
    }
}

/// The projector task: follows the log until it closes or the projections stop, and
/// takes a snapshot of them every `snapshot_after` events.
pub(crate) async fn project<M: ServiceDefinition>(follower: Arc<Follower<M>>, log: Log) {
    let dir = log.dir().to_owned();
    let snapshot_after = log.snapshot_after();
    drop(log);
    let (mut durable, applied) = {
        let following = follower.lock();
        let applied = following.applied.as_ref().map_or(0, |a| *a.borrow());
        (following.subscription.durable_changes(), applied)
    };
    let mut snapshots = Snapshots {
        dir,
        every: snapshot_after,
        at: applied,
        last: None,
    };
    loop {
        let going = {
            let mut following = follower.lock();
            let going = follower.apply_ready(&mut following);
            if going {
                snapshots.maybe_take(&follower, &following);
            }
            going
        };
        if !going {
            return;
        }
        if durable.changed().await.is_err() {
            // The log closed: apply what became durable before it did, then stop.
            let mut following = follower.lock();
            follower.apply_ready(&mut following);
            following.applied = None;
            return;
        }
    }
}

/// When the projector takes its snapshots.
struct Snapshots {
    dir: PathBuf,
    every: u64,
    /// The position of the last snapshot.
    at: u64,
    /// When the last snapshot was taken and how long its encoding took.
    last: Option<(Instant, Duration)>,
}

impl Snapshots {
    /// A snapshot every `every` events, so a restart replays fewer; encoded here
    /// under the projector's lock (so the view is as of `following.last`), written
    /// aside. At most a twentieth of the projector's time goes to snapshots, however
    /// large the view.
    fn maybe_take<M: ServiceDefinition>(&mut self, follower: &Follower<M>, following: &Following) {
        let Some(covers) = following.last else {
            return;
        };
        let quiet = self
            .last
            .is_none_or(|(ended, took)| ended.elapsed() >= took * SNAPSHOT_QUIET_FACTOR);
        if self.every == 0 || covers.position - self.at < self.every || !quiet {
            return;
        }
        self.at = covers.position;
        let started = Instant::now();
        let body = {
            let view = follower.view.read().unwrap_or_else(PoisonError::into_inner);
            projection_snapshot::encode::<M>(&view)
        };
        self.last = Some((Instant::now(), started.elapsed()));
        if let Some(body) = body {
            let dir = self.dir.clone();
            tokio::task::spawn_blocking(move || {
                projection_snapshot::write::<M>(&dir, covers, &body);
            });
        }
    }
}
