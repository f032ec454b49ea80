//! `accord audit`: the auditor's commands. They work offline, on copies: each data
//! directory given is copied to a temporary directory first and only the copy is
//! opened, so nothing is ever written where the auditor's data lies.

pub mod checkpoints;
pub mod consistency;
pub mod documents;
pub mod export;
pub mod history;
pub mod problem;
pub mod prove;
pub mod registry;
pub mod replay;
pub mod verify;

use std::path::{Path, PathBuf};

use accord_boundary::{decode_agreements_event, decode_procurement_event, decode_project_event};
use accord_kernel::RecordedEvent;
use accord_log::LogError;
use accord_runtime::ServiceKind;

/// Why an audit could not look at a directory at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{path}: {reason}")]
    Copy { path: PathBuf, reason: String },
    #[error("{path}: no log here (no `db` file)")]
    NoLog { path: PathBuf },
}

/// A private copy of one log directory, removed when dropped.
#[derive(Debug)]
pub struct Copy {
    pub source: PathBuf,
    dir: tempfile::TempDir,
}

impl Copy {
    pub fn of(source: &Path) -> Result<Copy, AuditError> {
        if !source.join("db").is_file() {
            return Err(AuditError::NoLog {
                path: source.to_owned(),
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("accord-audit-")
            .tempdir()
            .map_err(|e| AuditError::Copy {
                path: source.to_owned(),
                reason: e.to_string(),
            })?;
        copy_tree(source, dir.path()).map_err(|e| AuditError::Copy {
            path: source.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Copy {
            source: source.to_owned(),
            dir,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Every event of a copy, in order, with memory that does not grow with the log.
pub fn events(copy: &Copy) -> Result<accord_log::Scan, LogError> {
    accord_log::scan_path(copy.path(), 1)
}

/// [`events`] with a log line every [`accord_log::PROGRESS_EVERY`] events, so that a
/// long pass of `replay` or `history` shows it is moving.
pub fn events_logged(
    copy: &Copy,
) -> Result<impl Iterator<Item = Result<RecordedEvent, LogError>> + '_, LogError> {
    Ok(events(copy)?.inspect(move |event| match event {
        Ok(event) if event.position.is_multiple_of(accord_log::PROGRESS_EVERY) => {
            tracing::info!(dir = %copy.source.display(), position = event.position, "accord.audit reading");
        }
        _ => {}
    }))
}

/// The service whose log a copy holds: by its directory's name, else by its first event.
pub fn service_of_copy(copy: &Copy) -> Option<ServiceKind> {
    let first = events(copy).ok()?.next().and_then(Result::ok);
    service_of(
        &copy.source,
        first
            .as_ref()
            .map(|e| (e.event_type.as_str(), e.payload.as_slice())),
    )
}

/// The service a log belongs to: by the directory's name when it names one, else by
/// which service's contract its first event belongs to.
pub fn service_of(dir: &Path, first_event: Option<(&str, &[u8])>) -> Option<ServiceKind> {
    let by_name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse::<ServiceKind>().ok());
    by_name.or_else(|| {
        let (event_type, payload) = first_event?;
        if decode_agreements_event(event_type, payload).is_ok() {
            Some(ServiceKind::Agreements)
        } else if decode_project_event(event_type, payload).is_ok() {
            Some(ServiceKind::Projects)
        } else if (1..=2).any(|v| decode_procurement_event(event_type, v, payload).is_ok()) {
            Some(ServiceKind::Procurement)
        } else {
            None
        }
    })
}
