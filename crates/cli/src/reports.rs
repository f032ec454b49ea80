//! Reports that join two services' projections, as a person reading both would: a
//! regulatory commitment's promised time to launch against the projects its obligor
//! hosts. Pure: from the query replies (or a replay's projections).

use accord_contracts::v1 as pb;

use crate::tables::Table;

/// One project measured against a regulatory commitment of its host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LaunchTimeRow {
    pub commitment: String,
    pub obligor: String,
    pub max_days: u32,
    pub project: String,
    pub days_to_launch: i64,
    /// `met`, or `at risk` when the launch took longer than promised: evidence for
    /// the beneficiary, who alone records the commitment breached.
    pub verdict: &'static str,
    /// The commitment's own status (`breached` once the beneficiary recorded it).
    pub status: String,
}

/// Each regulatory commitment (`max_days`) against every launched project hosted
/// by its obligor.
pub fn launch_times(
    ledger: &pb::CommitmentLedger,
    portfolio: &pb::ProjectPortfolio,
) -> Vec<LaunchTimeRow> {
    let mut rows = Vec::new();
    for commitment in &ledger.rows {
        let Some(max_days) = commitment.max_days else {
            continue;
        };
        for project in portfolio
            .projects
            .iter()
            .filter(|p| p.host == commitment.obligor)
        {
            let Some(days) = project.days_to_launch else {
                continue;
            };
            rows.push(LaunchTimeRow {
                commitment: commitment.id.clone(),
                obligor: commitment.obligor.clone(),
                max_days,
                project: project.id.clone(),
                days_to_launch: days,
                verdict: if days > i64::from(max_days) {
                    "at risk"
                } else {
                    "met"
                },
                status: commitment.status.clone(),
            });
        }
    }
    rows
}

/// The launch times as a table.
pub fn launch_time_table(rows: &[LaunchTimeRow]) -> Table {
    let mut t = Table::new(
        "Regulatory commitments: promised time to launch against the obligor's projects",
        &[
            "commitment",
            "obligor",
            "promised",
            "project",
            "took",
            "verdict",
            "commitment status",
        ],
    );
    for r in rows {
        t.row(vec![
            r.commitment.clone(),
            r.obligor.clone(),
            format!("{} days", r.max_days),
            r.project.clone(),
            format!("{} days", r.days_to_launch),
            r.verdict.to_owned(),
            r.status.clone(),
        ]);
    }
    t
}
