//! The deadline watcher: every `every`, a service asks its definition which of its
//! deadlines passed unmet on today's date (by its log's clock: the deciders have
//! none) and were not noticed yet — a commitment's due date, a milestone's — and
//! sends each notice as an ordinary command to itself over the bus, signed with its
//! reaction key as `accord-reactions` (only the service's own key may send them).
//! The decider records the notice as an event with its dates, once per due date.
//!
//! A restart never repeats a notice: the command id is derived from the notice
//! itself (service, command, body), so a notice sent before a crash is answered as
//! a duplicate, and one already recorded is refused by the decider as noticed.

use std::sync::Arc;
use std::time::Duration;

use accord_boundary::reactions::{ReactionRequest, REACTIONS_ACTOR};
use accord_bus::{AccordClient, Bus, CommandOptions};
use accord_kernel::signature::ActorKey;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use uuid::Uuid;

use crate::service::{Model, Service};

/// The command id of a deadline notice: the same for the same notice, whenever and
/// however often it is sent.
pub fn notice_command_id(request: &ReactionRequest) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"accord.deadline\x00");
    hash.update(request.service.as_bytes());
    hash.update([0]);
    hash.update(request.command.as_bytes());
    hash.update([0]);
    hash.update(&request.body);
    crate::reactions::command_id_of(hash)
}

/// Looks for passed deadlines every `every` (the first time after one `every`),
/// until `shutdown` turns true.
pub async fn run_deadline_watcher<M: Model>(
    service: Arc<Service<M>>,
    bus: Bus,
    key: Option<ActorKey>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = AccordClient::new(bus);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let today = service.log().now().date();
        let notices = M::deadline_notices(&service.view(), today);
        for notice in notices {
            let Some(request) = notice.request() else {
                continue;
            };
            let options = CommandOptions {
                command_id: notice_command_id(&request),
                key: key.clone(),
                ..CommandOptions::new(REACTIONS_ACTOR)
            };
            let request = options.request(request.service, request.command, request.body);
            match client.send_command(request.clone(), false).await {
                Ok(_) => {
                    tracing::info!(service = M::SERVICE, subject = %request.subject, %today, "runtime.deadlines noticed a deadline passed")
                }
                // Already noticed (by an earlier run), or the service is busy: the
                // next look settles it.
                Err(error) => {
                    tracing::debug!(service = M::SERVICE, subject = %request.subject, %error, "runtime.deadlines notice not recorded")
                }
            }
        }
    }
}
