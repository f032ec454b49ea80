//! Catch-up-then-follow subscriptions. The subscriber always reads from the store by
//! position, both while catching up and when following, so there is no hand-over
//! moment at which an event could be missed or seen twice; it pulls a bounded chunk
//! at a time, so a slow subscriber holds back nobody and holds little memory.

use std::collections::VecDeque;

use accord_kernel::RecordedEvent;
use tokio::sync::watch;

use crate::error::{Corruption, CorruptionReason, LogError};
use crate::read::EventIter;

const CHUNK: u64 = 256;

/// Events from a position on, then live ones as they become durable. Ends (`None`)
/// once the log is closed and every durable event has been delivered.
#[derive(Debug)]
pub struct Subscription {
    tree: sled::Db,
    next_position: u64,
    durable: watch::Receiver<u64>,
    buffer: VecDeque<RecordedEvent>,
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

    /// The position of the next event this subscription will deliver.
    pub fn next_position(&self) -> u64 {
        self.next_position
    }

    /// The next event, waiting for one if the subscriber has caught up.
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, LogError>> {
        if self.failed {
            return None;
        }
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.next_position = event.position + 1;
                return Some(Ok(event));
            }
            // Marking the value seen before comparing means an append that becomes
            // durable after this line wakes the `changed()` below.
            let durable = *self.durable.borrow_and_update();
            if self.next_position <= durable {
                if let Err(error) = self.fill(durable) {
                    self.failed = true;
                    return Some(Err(error));
                }
                continue;
            }
            if self.durable.changed().await.is_err() {
                // The log closed; deliver whatever became durable before it did.
                if self.next_position > *self.durable.borrow() {
                    return None;
                }
            }
        }
    }

    fn fill(&mut self, durable: u64) -> Result<(), LogError> {
        let until = durable.min(self.next_position + CHUNK - 1);
        let mut expected = self.next_position;
        for event in EventIter::all(&self.tree, self.next_position, until) {
            let event = event?;
            if event.position != expected {
                return Err(LogError::Corrupt(Corruption {
                    position: expected,
                    reason: CorruptionReason::Gap {
                        next_stored: event.position,
                    },
                }));
            }
            expected += 1;
            self.buffer.push_back(event);
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
