//! `accord audit verify DIR...`: for each log, the hash chain, contiguous positions
//! and stream versions, envelope decoding, and a replay of every event through the
//! service's decoders and projections. A failure names the service, the position,
//! the event id (when the bytes there still decode) and a stable code.

use std::path::{Path, PathBuf};

use accord_kernel::{EventMeta, RecordedEvent};
use accord_log::{CorruptionReason, LogError, VerifyReport};
use accord_runtime::authentication::{verify_stored, KeyRegistry, Trusted};
use accord_runtime::{AgreementsModel, Model, ProcurementModel, ProjectsModel, ServiceKind};
use serde::Serialize;

use super::checkpoints::{CheckpointCheck, CheckpointSummary, EvidenceKeys};
pub use super::problem::Problem;
use super::registry::{self, RegistryHistory};
use super::{AuditError, Copy};
use crate::tables::Table;

/// One log's verification.
#[derive(Debug, Clone, Serialize)]
pub struct LogReport {
    pub path: PathBuf,
    pub service: Option<String>,
    pub events: u64,
    pub first_position: Option<u64>,
    pub last_position: Option<u64>,
    pub first_recorded_at: Option<String>,
    pub last_recorded_at: Option<String>,
    pub head_hash: Option<String>,
    pub ok: bool,
    pub problem: Option<Problem>,
    /// With `--signatures`: what the signature check found.
    pub signatures: Option<SignatureSummary>,
    /// The checkpoints the log kept: roots, signatures, who co-signed what.
    pub checkpoints: Option<CheckpointSummary>,
}

/// The signature check of one log: events verified, per actor.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SignatureSummary {
    /// Events whose signature verified with the key their actor held then.
    pub verified: u64,
    /// Verified events per actor.
    pub by_actor: std::collections::BTreeMap<String, u64>,
    /// Why the log's signatures were not checked, when they were not.
    pub not_checked: Option<String>,
}

/// The stable code of a chain problem.
pub fn corruption_code(reason: &CorruptionReason) -> &'static str {
    match reason {
        CorruptionReason::Undecodable(_) => "undecodable",
        CorruptionReason::NotCanonical => "not_canonical",
        CorruptionReason::HashMismatch { .. } => "hash_mismatch",
        CorruptionReason::BrokenLink { .. } => "broken_link",
        CorruptionReason::Gap { .. } => "gap",
        CorruptionReason::Misplaced { .. } => "misplaced",
        CorruptionReason::VersionJump { .. } => "version_jump",
        CorruptionReason::RecordedAtWentBack => "recorded_at_went_back",
        CorruptionReason::HeadMismatch { .. } => "head_mismatch",
        CorruptionReason::MalformedKey(_) => "malformed_key",
        CorruptionReason::BehindMark { .. } => "behind_mark",
        CorruptionReason::MarkMismatch { .. } => "mark_mismatch",
        CorruptionReason::MarkMissing => "mark_missing",
        CorruptionReason::MarkUnreadable => "mark_unreadable",
        CorruptionReason::TreeMismatch { .. } => "tree_mismatch",
    }
}

fn chain_problem(copy: &Path, error: LogError) -> Problem {
    match error {
        LogError::Corrupt(corruption) => {
            let event_id = accord_log::open_storage(copy)
                .ok()
                .and_then(|db| accord_log::stored_event_at(&db, corruption.position).ok())
                .map(|e| e.event_id.to_string());
            Problem {
                code: corruption_code(&corruption.reason),
                position: Some(corruption.position),
                event_id,
                reason: corruption.reason.to_string(),
            }
        }
        other => Problem {
            code: "storage",
            position: None,
            event_id: None,
            reason: other.to_string(),
        },
    }
}

/// The two passes of a verification, as progress reports name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Hashes, links, positions and versions.
    Chain,
    /// Every payload decoded and folded into the service's projections.
    Replay,
}

impl std::fmt::Display for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pass::Chain => "chain",
            Pass::Replay => "replay",
        })
    }
}

/// Decodes every event and folds it into the service's projections; with `roots`,
/// first checks each event's signature against the registry as it stood just
/// before the event: the service's own projections, replayed this far, or, for a
/// service that holds no registry, `registry` (read from an agreements log) as it
/// stood at the event's log time. An agreements log's actor events are kept in
/// `registry` for the logs verified after it.
fn replay<M: Model>(
    copy: &Copy,
    roots: Option<&Trusted>,
    registry: &mut RegistryHistory,
    signatures: &mut SignatureSummary,
    progress: &mut dyn FnMut(Pass, u64),
) -> Result<(), Problem> {
    let mut view = M::View::default();
    let holds_registry = M::registry(&view).is_some();
    if roots.is_some() && holds_registry {
        registry.reading();
    }
    if roots.is_some() && !holds_registry && !registry.is_known() {
        signatures.not_checked = Some(format!(
            "the {} service's actors are in the agreements log's registry: give the agreements log before this one",
            M::SERVICE
        ));
    }
    let history = std::mem::take(registry);
    let mut followed = history.replay();
    let mut kept = RegistryHistory::default();
    let events = super::events(copy).map_err(|e| Problem {
        code: "storage",
        position: None,
        event_id: None,
        reason: e.to_string(),
    })?;
    for event in events {
        let event: RecordedEvent = event.map_err(|e| Problem {
            code: "storage",
            position: None,
            event_id: None,
            reason: e.to_string(),
        })?;
        let decoded =
            M::decode(&event.event_type, event.schema_version, &event.payload).map_err(|e| {
                Problem {
                    code: "undecodable_payload",
                    position: Some(event.position),
                    event_id: Some(event.event_id.to_string()),
                    reason: e.to_string(),
                }
            })?;
        if let Some(roots) = roots.filter(|_| signatures.not_checked.is_none()) {
            let keys: &dyn KeyRegistry = match M::registry(&view) {
                Some(own) => own,
                None => followed.at(event.recorded_at),
            };
            verify_stored(&event, roots, keys).map_err(|e| Problem {
                code: e.code(),
                position: Some(event.position),
                event_id: Some(event.event_id.to_string()),
                reason: format!("{e} (actor {})", event.actor),
            })?;
            signatures.verified += 1;
            *signatures.by_actor.entry(event.actor.clone()).or_default() += 1;
        }
        if roots.is_some() && holds_registry {
            if let Some(actor_event) = registry::actor_event_of(&event) {
                kept.record(&event, &actor_event);
            }
        }
        M::apply(&mut view, &EventMeta::of(&event), &decoded);
        if event.position.is_multiple_of(accord_log::PROGRESS_EVERY) {
            progress(Pass::Replay, event.position);
        }
    }
    drop(followed);
    *registry = if holds_registry {
        kept.reading();
        kept
    } else {
        history
    };
    Ok(())
}

fn replay_as(
    kind: ServiceKind,
    copy: &Copy,
    roots: Option<&Trusted>,
    registry: &mut RegistryHistory,
    signatures: &mut SignatureSummary,
    progress: &mut dyn FnMut(Pass, u64),
) -> Result<(), Problem> {
    match kind {
        ServiceKind::Agreements => {
            replay::<AgreementsModel>(copy, roots, registry, signatures, progress)
        }
        ServiceKind::Projects => {
            replay::<ProjectsModel>(copy, roots, registry, signatures, progress)
        }
        ServiceKind::Procurement => {
            replay::<ProcurementModel>(copy, roots, registry, signatures, progress)
        }
    }
}

/// Verifies the log in `dir` (through a private copy); `progress` hears the pass and
/// the position it reached, every [`accord_log::PROGRESS_EVERY`] events.
///
/// With `roots` (`--signatures`), every event must also carry its command's
/// signature, verifying with the key its actor held then (the trust roots, or the
/// registry replayed from the agreements log: the log itself, or for the other
/// services' logs `registry`, which an agreements log verified before fills).
///
/// Every checkpoint the log kept is checked too: its root against the tree of the
/// events replayed, its signatures with `keys` where they name the log or witness.
pub fn verify_dir(
    dir: &Path,
    roots: Option<&Trusted>,
    keys: &EvidenceKeys,
    registry: &mut RegistryHistory,
    progress: &mut dyn FnMut(Pass, u64),
) -> Result<LogReport, AuditError> {
    let copy = Copy::of(dir)?;
    let mut report = LogReport {
        path: dir.to_owned(),
        service: None,
        events: 0,
        first_position: None,
        last_position: None,
        first_recorded_at: None,
        last_recorded_at: None,
        head_hash: None,
        ok: false,
        problem: None,
        signatures: None,
        checkpoints: None,
    };
    let mut chain_progress = |position| progress(Pass::Chain, position);
    let chain: VerifyReport =
        match accord_log::verify_path_with_progress(copy.path(), &mut chain_progress) {
            Ok(chain) => chain,
            Err(error) => {
                report.problem = Some(chain_problem(copy.path(), error));
                return Ok(report);
            }
        };
    report.events = chain.events;
    report.first_position = (chain.events > 0).then_some(1);
    report.last_position = (chain.events > 0).then_some(chain.events);
    report.first_recorded_at = chain.first_recorded_at.map(|t| t.to_string());
    report.last_recorded_at = chain.last_recorded_at.map(|t| t.to_string());
    report.head_hash = Some(chain.head_hash.to_string());
    let Some(service) = super::service_of_copy(&copy) else {
        let first = super::events(&copy)
            .ok()
            .and_then(|mut e| e.next())
            .and_then(Result::ok);
        report.problem = Some(Problem {
            code: "unknown_service",
            position: first.as_ref().map(|e| e.position),
            event_id: first.as_ref().map(|e| e.event_id.to_string()),
            reason: "neither the directory's name nor the first event names a service".into(),
        });
        return Ok(report);
    };
    report.service = Some(service.to_string());
    let mut signatures = SignatureSummary::default();
    let check = match CheckpointCheck::read(copy.path()) {
        Ok(check) => check,
        Err(problem) => {
            report.problem = Some(problem);
            return Ok(report);
        }
    };
    match replay_as(service, &copy, roots, registry, &mut signatures, progress) {
        Ok(()) => match check.finish(chain.events, keys) {
            Ok(summary) => {
                report.checkpoints = Some(summary);
                report.ok = true;
            }
            Err(problem) => report.problem = Some(problem),
        },
        Err(problem) => report.problem = Some(problem),
    }
    report.signatures = roots.map(|_| signatures);
    Ok(report)
}

/// The checkpoints of several reports: per log, the latest kept and who co-signed
/// what; `None` when no log kept any.
pub fn checkpoints_table(reports: &[LogReport]) -> Option<Table> {
    let mut table = Table::new(
        "Audit: checkpoints (roots recomputed from the events)",
        &[
            "service",
            "kept",
            "latest size",
            "log signature",
            "witness",
            "last co-signed size",
            "events not witnessed",
        ],
    );
    let mut any = false;
    for r in reports {
        let Some(c) = r.checkpoints.as_ref().filter(|c| c.kept > 0) else {
            continue;
        };
        any = true;
        let service = r.service.clone().unwrap_or_else(|| "?".into());
        let latest = c.latest_size.map_or("-".into(), |s| s.to_string());
        if c.witnesses.is_empty() {
            table.row(vec![
                service.clone(),
                c.kept.to_string(),
                latest.clone(),
                c.log_signature.clone(),
                "(none)".into(),
                "-".into(),
                r.events.to_string(),
            ]);
        }
        for w in &c.witnesses {
            let name = if w.verified {
                w.name.clone()
            } else {
                format!("{} (not verified: no --witness key)", w.name)
            };
            table.row(vec![
                service.clone(),
                c.kept.to_string(),
                latest.clone(),
                c.log_signature.clone(),
                name,
                w.last_size.to_string(),
                w.not_witnessed.to_string(),
            ]);
        }
    }
    any.then_some(table)
}

/// The summary table of several reports.
pub fn table(reports: &[LogReport]) -> Table {
    let mut table = Table::new(
        "Audit: log verification",
        &[
            "service",
            "path",
            "events",
            "positions",
            "recorded",
            "head hash",
            "result",
        ],
    );
    for r in reports {
        let positions = match (r.first_position, r.last_position) {
            (Some(a), Some(b)) => format!("{a}..{b}"),
            _ => "-".into(),
        };
        let recorded = match (&r.first_recorded_at, &r.last_recorded_at) {
            (Some(a), Some(b)) => format!("{a} .. {b}"),
            _ => "-".into(),
        };
        let signed = match &r.signatures {
            Some(s) if s.not_checked.is_some() => ", signatures not checked".to_owned(),
            Some(s) => format!(", {} signatures verified", s.verified),
            None => String::new(),
        };
        let result = match &r.problem {
            None if signed.is_empty() => "ok".to_owned(),
            None => format!("ok{signed}"),
            Some(p) => format!(
                "FAILED {} at position {} (event {}): {}",
                p.code,
                p.position.map_or("-".into(), |p| p.to_string()),
                p.event_id.as_deref().unwrap_or("-"),
                p.reason
            ),
        };
        table.row(vec![
            r.service.clone().unwrap_or_else(|| "?".into()),
            r.path.display().to_string(),
            r.events.to_string(),
            positions,
            recorded,
            r.head_hash.clone().unwrap_or_else(|| "-".into()),
            result,
        ]);
    }
    table
}
