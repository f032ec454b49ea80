//! The projects service's business rules, as a pure decider: joint projects from
//! proposal through board approval, launch and production to completion, with funding
//! pledged and disbursed per party, milestones, capacity targets and reported output
//! for production projects, and results with their holders for research (R&D) ones.
//!
//! One aggregate per project. Facts from other services (was the approving motion
//! adopted?) come in the command, put there by the shell.

mod portfolio;
mod project;

pub use portfolio::{Portfolio, PortfolioRow};

pub use project::{
    Milestone, MilestoneStatus, Participant, Pledge, Project, ProjectCommand, ProjectDecider,
    ProjectError, ProjectEvent, ProjectStatus, ResearchResult,
};
