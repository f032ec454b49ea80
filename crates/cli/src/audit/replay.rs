//! `accord audit replay --as-of T [--effective] DIR...`: every projection as it was at
//! instant T — by log time (recorded-at: "what was known at T"), or with
//! `--effective` by business time (occurred-at: "what was in effect at T", which
//! includes facts recorded later but dated before T).

use std::path::PathBuf;

use accord_kernel::{EventMeta, RecordedEvent, Timestamp};
use accord_log::LogError;
use accord_runtime::queries;
use accord_runtime::{
    AgreementsModel, AgreementsState, Model, ProcurementModel, ProcurementState, ProjectsModel,
    ProjectsState, ServiceKind,
};

use super::Copy;
use crate::demo::Projections;

/// Which time "as of" is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    Recorded,
    Effective,
}

/// Folds the events of a log that happened by `at` into the service's projections.
fn fold<M: Model>(
    events: impl Iterator<Item = Result<RecordedEvent, LogError>>,
    at: Timestamp,
    time: Time,
) -> anyhow::Result<M::View> {
    let mut view = M::View::default();
    for event in events {
        let event = event?;
        let when = match time {
            Time::Recorded => event.recorded_at,
            Time::Effective => event.occurred_at,
        };
        // Recorded-at never decreases along the log: nothing later can count.
        if when > at {
            if time == Time::Recorded {
                break;
            }
            continue;
        }
        let decoded = M::decode(&event.event_type, event.schema_version, &event.payload)
            .map_err(|e| anyhow::anyhow!("position {}: {e}", event.position))?;
        M::apply(&mut view, &EventMeta::of(&event), &decoded);
    }
    Ok(view)
}

/// Adds to `projections` those of `service`, folded from its log's `events` as of
/// `at`: what the service's queries would have answered then.
pub fn fold_into(
    projections: &mut Projections,
    service: ServiceKind,
    events: impl Iterator<Item = Result<RecordedEvent, LogError>>,
    at: Timestamp,
    time: Time,
) -> anyhow::Result<()> {
    match service {
        ServiceKind::Agreements => {
            let state: AgreementsState = fold::<AgreementsModel>(events, at, time)?;
            projections.agreements = Some(queries::agreement_register(&state.view));
            projections.ledger = Some(queries::commitment_ledger(&state.view, at.date()));
            projections.decisions = Some(queries::board_decisions(&state.view));
        }
        ServiceKind::Projects => {
            let state: ProjectsState = fold::<ProjectsModel>(events, at, time)?;
            projections.portfolio = Some(queries::project_portfolio(&state.portfolio, at.date()));
        }
        ServiceKind::Procurement => {
            let state: ProcurementState = fold::<ProcurementModel>(events, at, time)?;
            projections.policy = Some(queries::priority_policy(&state.view));
            for (item, controller) in state.view.queue_keys() {
                projections.queues.push(queries::procurement_queue(
                    &state.view,
                    &item,
                    controller.as_ref(),
                ));
            }
        }
    }
    Ok(())
}

/// The projections of the logs in `dirs` as of `at`.
pub fn replay(dirs: &[PathBuf], at: Timestamp, time: Time) -> anyhow::Result<Projections> {
    let copies = dirs
        .iter()
        .map(|dir| Copy::of(dir))
        .collect::<Result<Vec<_>, _>>()?;
    replay_in(&copies, at, time)
}

/// [`replay`] on copies already made (the console keeps its copies).
pub fn replay_in(copies: &[Copy], at: Timestamp, time: Time) -> anyhow::Result<Projections> {
    let mut projections = Projections::default();
    for copy in copies {
        let service = super::service_of_copy(copy).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: cannot tell which service's log this is",
                copy.source.display()
            )
        })?;
        fold_into(
            &mut projections,
            service,
            super::events_logged(copy)?,
            at,
            time,
        )?;
    }
    Ok(projections)
}

/// The projections in the proto3 JSON mapping, one key per projection.
pub fn to_json(projections: &Projections) -> anyhow::Result<serde_json::Value> {
    let mut out = serde_json::Map::new();
    if let Some(p) = &projections.agreements {
        out.insert("agreements".into(), accord_contracts::to_json(p)?);
    }
    if let Some(p) = &projections.ledger {
        out.insert("ledger".into(), accord_contracts::to_json(p)?);
    }
    if let Some(p) = &projections.decisions {
        out.insert("decisions".into(), accord_contracts::to_json(p)?);
    }
    if let Some(p) = &projections.portfolio {
        out.insert("portfolio".into(), accord_contracts::to_json(p)?);
    }
    if let Some(p) = &projections.policy {
        out.insert("policy".into(), accord_contracts::to_json(p)?);
    }
    if let (Some(ledger), Some(portfolio)) = (&projections.ledger, &projections.portfolio) {
        out.insert(
            "launch_times".into(),
            serde_json::to_value(crate::reports::launch_times(ledger, portfolio))?,
        );
    }
    let queues = projections
        .queues
        .iter()
        .map(accord_contracts::to_json)
        .collect::<Result<Vec<_>, _>>()?;
    out.insert("queues".into(), serde_json::Value::Array(queues));
    Ok(serde_json::Value::Object(out))
}
