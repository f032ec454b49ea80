//! Catch-up-then-follow subscriptions. The subscriber always reads from the store by
//! position, both while catching up and when following, so there is no hand-over
//! moment at which an event could be missed or seen twice; it pulls a bounded chunk
//! at a time, so a slow subscriber holds back nobody and holds little memory.

use std::collections::VecDeque;

use accord_kernel::RecordedEvent;
use tokio::sync::watch;

use crate::error::{Corruption, CorruptionReason, LogError};
use crate::read::{decode_at, StoredEnvelopes};

const CHUNK: u64 = 256;

/// Events from a position on, then live ones as they become durable. Ends (`None`)
/// once the log is closed and every durable event has been delivered.
#[derive(Debug)]
pub struct Subscription {
    tree: sled::Db,
    next_position: u64,
    durable: watch::Receiver<u64>,
    /// Events read ahead, each with its stored envelope bytes.
    buffer: VecDeque<(RecordedEvent, Vec<u8>)>,
    failed: bool,
}

impl Subscription {
    pub(crate) fn new(tree: sled::Db, from_position: u64, durable: watch::Receiver<u64>) -> Self {
        Subscription {
            tree,
            next_position: from_position.max(1),
            durable,
            buffer: VecDeque::new(),
            failed: false,
        }
    }

    /// Changes of the log's durable position, for a reader that keeps the
    /// subscription where others may take from it too and waits on its own.
    pub fn durable_changes(&self) -> watch::Receiver<u64> {
        self.durable.clone()
    }

    /// The position of the next event this subscription will deliver.
    pub fn next_position(&self) -> u64 {
        self.next_position
    }

    /// The next event, waiting for one if the subscriber has caught up.
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, LogError>> {
        Some(self.next_stored().await?.map(|(event, _)| event))
    }

    /// The next event and its `accord.v1.EventEnvelope` bytes as stored, for a reader
    /// that passes them on (the relay) and need not encode them again.
    pub async fn next_stored(&mut self) -> Option<Result<(RecordedEvent, Vec<u8>), LogError>> {
        loop {
            if self.failed {
                return None;
            }
            if let Some(ready) = self.ready() {
                return Some(ready);
            }
            if self.durable.changed().await.is_err() {
                // The log closed; deliver whatever became durable before it did.
                if self.next_position > *self.durable.borrow() {
                    return None;
                }
            }
        }
    }

    /// The next event if one is durable already, without waiting: for a reader that
    /// takes what is ready as one batch (the projector tells its waiters once per
    /// batch, not once per event).
    pub fn try_next(&mut self) -> Option<Result<RecordedEvent, LogError>> {
        Some(self.try_next_stored()?.map(|(event, _)| event))
    }

    /// [`Subscription::try_next`] with the event's stored bytes (see `next_stored`).
    pub fn try_next_stored(&mut self) -> Option<Result<(RecordedEvent, Vec<u8>), LogError>> {
        if self.failed {
            return None;
        }
        self.ready()
    }

    /// A read-ahead event, or the next chunk read if the log has more durable ones.
    fn ready(&mut self) -> Option<Result<(RecordedEvent, Vec<u8>), LogError>> {
        loop {
            if let Some(stored) = self.buffer.pop_front() {
                self.next_position = stored.0.position + 1;
                return Some(Ok(stored));
            }
            // Marking the value seen before comparing means an append that becomes
            // durable after this line wakes the caller's `changed()`.
            let durable = *self.durable.borrow_and_update();
            if self.next_position > durable {
                return None;
            }
            if let Err(error) = self.fill(durable) {
                self.failed = true;
                return Some(Err(error));
            }
        }
    }

    fn fill(&mut self, durable: u64) -> Result<(), LogError> {
        let until = durable.min(self.next_position + CHUNK - 1);
        let mut expected = self.next_position;
        for stored in StoredEnvelopes::new(&self.tree, self.next_position, until) {
            let (position, bytes) = stored?;
            let event = decode_at(position, &bytes)?;
            if event.position != expected {
                return Err(LogError::Corrupt(Corruption {
                    position: expected,
                    reason: CorruptionReason::Gap {
                        next_stored: event.position,
                    },
                }));
            }
            expected += 1;
            self.buffer.push_back((event, bytes));
        }
        if self.buffer.is_empty() {
            return Err(LogError::Corrupt(Corruption {
                position: expected,
                reason: CorruptionReason::Gap {
                    next_stored: until + 1,
                },
            }));
        }
        Ok(())
    }
}
