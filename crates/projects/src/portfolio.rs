//! The project portfolio: a pure fold over the projects service's events, giving each
//! project's status, funding pledged and disbursed (and the gap), milestones, output
//! against target, and the time from proposal to launch.

use std::collections::BTreeMap;

use accord_kernel::{CapabilityArea, Currency, Date, Decider, EventMeta, Timestamp, WireName};

use crate::{
    MilestoneStatus, Project, ProjectCommand, ProjectDecider, ProjectEvent, ProjectStatus,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Portfolio {
    pub projects: BTreeMap<String, Project>,
    /// Business time of each project's proposal and launch.
    pub proposed_at: BTreeMap<String, Timestamp>,
    pub launched_at: BTreeMap<String, Timestamp>,
}

/// One project's line in the portfolio.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortfolioRow {
    pub id: String,
    pub title: String,
    pub area: Option<CapabilityArea>,
    pub host: String,
    pub status: ProjectStatus,
    /// Per currency: pledged, disbursed, and the gap between them (minor units).
    pub funding: BTreeMap<Currency, (i64, i64, i64)>,
    pub milestones_planned: usize,
    pub milestones_reached: usize,
    pub milestones_slipped: usize,
    /// Whole days from proposal to launch, once launched.
    pub days_to_launch: Option<i64>,
    /// Research projects: each result, with its holders, by result id.
    pub results: Vec<(String, crate::ResearchResult)>,
    /// Each milestone, by milestone id: planned and current due dates (a slip moves
    /// the latter), status, and when it was reached.
    pub milestones: Vec<(String, crate::Milestone)>,
}

impl Portfolio {
    pub fn apply(&mut self, meta: &EventMeta, event: &ProjectEvent) {
        let id = meta.stream.id().to_owned();
        match event {
            ProjectEvent::Proposed { .. } => {
                self.proposed_at.insert(id.clone(), meta.occurred_at);
            }
            ProjectEvent::Launched => {
                self.launched_at.insert(id.clone(), meta.occurred_at);
            }
            _ => {}
        }
        let state = self.projects.remove(&id).unwrap_or_default();
        self.projects
            .insert(id, ProjectDecider::evolve(state, event));
    }

    pub fn rows(&self) -> Vec<PortfolioRow> {
        self.projects
            .iter()
            .map(|(id, p)| {
                let mut funding: BTreeMap<Currency, (i64, i64, i64)> = BTreeMap::new();
                for pledge in &p.pledges {
                    funding.entry(pledge.amount.currency).or_default().0 +=
                        pledge.amount.minor_units;
                }
                for ((_, currency), disbursed) in &p.disbursed {
                    funding.entry(*currency).or_default().1 += disbursed;
                }
                for f in funding.values_mut() {
                    f.2 = f.0 - f.1;
                }
                let count = |status| p.milestones.values().filter(|m| m.status == status).count();
                let days_to_launch = match (self.proposed_at.get(id), self.launched_at.get(id)) {
                    (Some(proposed), Some(launched)) => Some(
                        (launched.unix_nanos() - proposed.unix_nanos())
                            .div_euclid(86_400_000_000_000) as i64,
                    ),
                    _ => None,
                };
                PortfolioRow {
                    id: id.clone(),
                    title: p.title.clone(),
                    area: p.area,
                    host: p
                        .host_country
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    status: p.status,
                    funding,
                    milestones_planned: p.milestones.len(),
                    milestones_reached: count(MilestoneStatus::Reached),
                    milestones_slipped: count(MilestoneStatus::Slipped),
                    days_to_launch,
                    results: p
                        .results
                        .iter()
                        .map(|(id, r)| (id.to_string(), r.clone()))
                        .collect(),
                    milestones: p
                        .milestones
                        .iter()
                        .map(|(id, m)| (id.to_string(), m.clone()))
                        .collect(),
                }
            })
            .collect()
    }

    /// What the deadline watcher sends on `today`: a notice for each milestone of an
    /// open project whose due date has passed unmet and was not noticed yet. Pure:
    /// the shell gives the date, so a replay decides the same.
    pub fn overdue_notices(&self, today: Date) -> Vec<(String, ProjectCommand)> {
        self.projects
            .iter()
            .filter(|(_, p)| p.status != ProjectStatus::None && !p.status.is_terminal())
            .flat_map(|(id, p)| {
                p.milestones
                    .iter()
                    .filter(move |(_, m)| {
                        m.status != MilestoneStatus::Reached
                            && m.due < today
                            && m.overdue_noticed != Some(m.due)
                    })
                    .map(move |(milestone_id, _)| {
                        (
                            id.clone(),
                            ProjectCommand::NoticeMilestoneOverdue {
                                milestone_id: milestone_id.clone(),
                                as_of: today,
                            },
                        )
                    })
            })
            .collect()
    }

    /// Each open project's milestones noticed overdue, with their days late on
    /// `today`: (project, milestone, title, due, days late).
    pub fn overdue_milestones(&self, today: Date) -> Vec<(String, String, String, Date, i64)> {
        self.projects
            .iter()
            .filter(|(_, p)| !p.status.is_terminal())
            .flat_map(|(id, p)| {
                p.milestones.iter().filter_map(move |(milestone_id, m)| {
                    let late = m.days_late(today)?;
                    (m.overdue_noticed == Some(m.due)).then(|| {
                        (
                            id.clone(),
                            milestone_id.to_string(),
                            m.title.clone(),
                            m.due,
                            late,
                        )
                    })
                })
            })
            .collect()
    }

    /// The portfolio grouped by capability area and status: how many projects each.
    pub fn by_area_and_status(&self) -> BTreeMap<(String, String), usize> {
        let mut groups = BTreeMap::new();
        for row in self.rows() {
            let area = row.area.map_or_else(|| "-".to_owned(), |a| a.to_string());
            *groups
                .entry((area, row.status.wire_name().to_owned()))
                .or_default() += 1;
        }
        groups
    }
}
