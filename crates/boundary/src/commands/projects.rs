//! The projects service's commands, one parser per command message.

use accord_contracts::v1 as pb;
use accord_kernel::{bounded_text, AggregateId, PartyId};
use accord_projects::ProjectCommand;
use accord_projects::ProjectCommand as C;

use super::{command, reason, CommandSpec, ParseCommand, ParseContext};
use crate::error::Field;
use crate::projects::participants;
use crate::reactions::REACTIONS_ACTOR;
use crate::values::*;
use crate::BoundaryError;

/// The projects service's commands, in the contract's order: the one list from which
/// both parsing and the command list (`$SRV.INFO`, docs) come.
pub const PROJECTS_COMMANDS: &[CommandSpec<(AggregateId, ProjectCommand)>] = &[
    command::<pb::ProposeProject>(),
    command::<pb::ApproveProject>(),
    command::<pb::PledgeFunding>(),
    command::<pb::DisburseFunding>(),
    command::<pb::PlanMilestone>(),
    command::<pb::ReachMilestone>(),
    command::<pb::SlipMilestone>(),
    command::<pb::NoticeMilestoneOverdue>(),
    command::<pb::SetCapacityTarget>(),
    command::<pb::ReportOutput>(),
    command::<pb::LaunchProject>(),
    command::<pb::RecordResearchResult>(),
    command::<pb::CompleteProject>(),
    command::<pb::CancelProject>(),
];

fn project(id: &str) -> Result<AggregateId, BoundaryError> {
    aggregate_id("project_id", id)
}

impl ParseCommand for pb::ProposeProject {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        let id = project(&self.project_id)?;
        Ok((
            id.clone(),
            C::Propose {
                id,
                title: bounded_text("title", self.title).field("title")?,
                area: area("area", self.area)?,
                host_country: PartyId::new(self.host_country).field("host_country")?,
                participants: participants(&self.participants)?,
                agreement_id: optional_id("agreement_id", &self.agreement_id)?,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::ApproveProject {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, cx: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        // The projects service does not see the board. The reactions actor sends
        // ApproveProject only for a MotionAdopted event it consumed, so its word is
        // the motion's outcome; anyone else's approval finds the motion not adopted.
        Ok((
            project(&self.project_id)?,
            C::Approve {
                motion_id: aggregate_id("motion_id", &self.motion_id)?,
                motion_adopted: cx.actor.as_str() == REACTIONS_ACTOR,
            },
        ))
    }
}

impl ParseCommand for pb::PledgeFunding {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::PledgeFunding {
                party: party("party", &self.party)?,
                amount: money("amount", &self.amount)?,
                commitment_id: optional_id("commitment_id", &self.commitment_id)?,
            },
        ))
    }
}

impl ParseCommand for pb::DisburseFunding {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::DisburseFunding {
                party: party("party", &self.party)?,
                amount: money("amount", &self.amount)?,
            },
        ))
    }
}

impl ParseCommand for pb::PlanMilestone {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::PlanMilestone {
                milestone_id: aggregate_id("milestone_id", &self.milestone_id)?,
                title: bounded_text("title", self.title).field("title")?,
                due: date("due", &self.due)?,
            },
        ))
    }
}

impl ParseCommand for pb::NoticeMilestoneOverdue {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::NoticeMilestoneOverdue {
                milestone_id: aggregate_id("milestone_id", &self.milestone_id)?,
                as_of: date("as_of", &self.as_of)?,
            },
        ))
    }
}

impl ParseCommand for pb::ReachMilestone {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::ReachMilestone {
                milestone_id: aggregate_id("milestone_id", &self.milestone_id)?,
                reached_on: date("reached_on", &self.reached_on)?,
            },
        ))
    }
}

impl ParseCommand for pb::SlipMilestone {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::SlipMilestone {
                milestone_id: aggregate_id("milestone_id", &self.milestone_id)?,
                new_due: date("new_due", &self.new_due)?,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::SetCapacityTarget {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::SetCapacityTarget {
                item: bounded_text("item", self.item).field("item")?,
                quantity: quantity("quantity", &self.quantity)?,
                period: period("period", &self.period)?,
            },
        ))
    }
}

impl ParseCommand for pb::ReportOutput {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::ReportOutput {
                item: bounded_text("item", self.item).field("item")?,
                quantity: quantity("quantity", &self.quantity)?,
                period: period("period", &self.period)?,
            },
        ))
    }
}

impl ParseCommand for pb::LaunchProject {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((project(&self.project_id)?, C::Launch))
    }
}

impl ParseCommand for pb::RecordResearchResult {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::RecordResult {
                result_id: aggregate_id("result_id", &self.result_id)?,
                title: bounded_text("title", self.title).field("title")?,
                holders: parties("holders", &self.holders)?,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::CompleteProject {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::Complete {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::CancelProject {
    type Command = (AggregateId, ProjectCommand);

    fn parse(self, _: &ParseContext<'_>) -> Result<(AggregateId, ProjectCommand), BoundaryError> {
        Ok((
            project(&self.project_id)?,
            C::Cancel {
                reason: reason(&self.reason)?,
            },
        ))
    }
}
