//! The agreements service's commands, one parser per command message.

use accord_agreements::actor::ActorCommand;
use accord_agreements::agreement::AgreementCommand;
use accord_agreements::board::BoardCommand;
use accord_agreements::commitment::CommitmentCommand;
use accord_contracts::v1 as pb;
use accord_kernel::bounded_text;

use super::AgreementsCommand as S;
use super::{
    authorisation, command, reason, AgreementsCommand, CommandSpec, ParseCommand, ParseContext,
};
use crate::agreements::{role, subject, terms, vote};
use crate::error::Field;
use crate::values::*;
use crate::BoundaryError;

/// The agreements service's commands, in the contract's order: the one list from which
/// both parsing and the command list (`$SRV.INFO`, docs) come.
pub const AGREEMENTS_COMMANDS: &[CommandSpec<AgreementsCommand>] = &[
    command::<pb::DraftAgreement>(),
    command::<pb::DesignateSignatory>(),
    command::<pb::SignAgreement>(),
    command::<pb::AmendAgreement>(),
    command::<pb::ApproveAccession>(),
    command::<pb::SuspendAgreement>(),
    command::<pb::ResumeAgreement>(),
    command::<pb::TerminateAgreement>(),
    command::<pb::WithdrawFromAgreement>(),
    command::<pb::ProposeCommitment>(),
    command::<pb::AcceptCommitment>(),
    command::<pb::AmendCommitment>(),
    command::<pb::RecordCommitmentProgress>(),
    command::<pb::NoticeCommitmentOverdue>(),
    command::<pb::ConfirmDelivery>(),
    command::<pb::DisputeDelivery>(),
    command::<pb::FulfilCommitment>(),
    command::<pb::BreachCommitment>(),
    command::<pb::WithdrawCommitment>(),
    command::<pb::EstablishBoard>(),
    command::<pb::AppointBoardMember>(),
    command::<pb::RemoveBoardMember>(),
    command::<pb::AdmitStateParty>(),
    command::<pb::TableMotion>(),
    command::<pb::CastVote>(),
    command::<pb::RegisterActor>(),
    command::<pb::RotateActorKey>(),
    command::<pb::RevokeActorKey>(),
];

impl ParseCommand for pb::DraftAgreement {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        let id = aggregate_id("agreement_id", &self.agreement_id)?;
        let kind = crate::agreements::kind(self.kind)?;
        Ok(S::Agreement(
            id.clone(),
            AgreementCommand::Draft {
                id,
                kind,
                title: bounded_text("title", self.title).field("title")?,
                parties: parties("parties", &self.parties)?,
                areas: self
                    .areas
                    .iter()
                    .map(|a| area("areas", *a))
                    .collect::<Result<_, _>>()?,
                reason: reason(&self.reason)?,
                documents: documents(&self.documents)?,
            },
        ))
    }
}

impl ParseCommand for pb::DesignateSignatory {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Agreement(
            aggregate_id("agreement_id", &self.agreement_id)?,
            AgreementCommand::DesignateSignatory {
                actor: actor_id("actor_id", &self.actor_id)?,
                party: party("party", &self.party)?,
                role: bounded_text("role", self.role).field("role")?,
            },
        ))
    }
}

impl ParseCommand for pb::SignAgreement {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Agreement(
            aggregate_id("agreement_id", &self.agreement_id)?,
            AgreementCommand::Sign {
                actor: cx.actor.clone(),
            },
        ))
    }
}

impl ParseCommand for pb::AmendAgreement {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Agreement(
            aggregate_id("agreement_id", &self.agreement_id)?,
            AgreementCommand::Amend {
                summary: bounded_text("summary", self.summary).field("summary")?,
                authorisation: authorisation(cx.facts, &self.motion_id)?,
                reason: reason(&self.reason)?,
                documents: documents(&self.documents)?,
            },
        ))
    }
}

impl ParseCommand for pb::ApproveAccession {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Agreement(
            aggregate_id("agreement_id", &self.agreement_id)?,
            AgreementCommand::ApproveAccession {
                party: party("party", &self.party)?,
                authorisation: authorisation(cx.facts, &self.motion_id)?,
                reason: reason(&self.reason)?,
                documents: documents(&self.documents)?,
            },
        ))
    }
}

impl ParseCommand for pb::SuspendAgreement {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Agreement(
            aggregate_id("agreement_id", &self.agreement_id)?,
            AgreementCommand::Suspend {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::ResumeAgreement {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Agreement(
            aggregate_id("agreement_id", &self.agreement_id)?,
            AgreementCommand::Resume {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::TerminateAgreement {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Agreement(
            aggregate_id("agreement_id", &self.agreement_id)?,
            AgreementCommand::Terminate {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::WithdrawFromAgreement {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        let agreement_id = aggregate_id("agreement_id", &self.agreement_id)?;
        let party = party("party", &self.party)?;
        let open_commitments = cx.facts.open_commitments(&agreement_id, &party);
        Ok(S::Agreement(
            agreement_id,
            AgreementCommand::Withdraw {
                party,
                open_commitments,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::ProposeCommitment {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        let id = aggregate_id("commitment_id", &self.commitment_id)?;
        let agreement_id = aggregate_id("agreement_id", &self.agreement_id)?;
        Ok(S::Commitment(
            id.clone(),
            CommitmentCommand::Propose {
                id,
                agreement_status: cx.facts.agreement_status(&agreement_id),
                agreement_id,
                obligor: party("obligor", &self.obligor)?,
                beneficiary: party("beneficiary", &self.beneficiary)?,
                also_benefiting: parties("also_benefiting", &self.also_benefiting)?,
                terms: terms(&self.terms)?,
                due: optional_date("due", &self.due)?,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::AcceptCommitment {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::Accept {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::AmendCommitment {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::Amend {
                terms: terms(&self.terms)?,
                due: optional_date("due", &self.due)?,
                authorisation: authorisation(cx.facts, &self.motion_id)?,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::RecordCommitmentProgress {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::RecordProgress {
                allocated: optional_quantity("allocated", &self.allocated)?,
                delivered: optional_quantity("delivered", &self.delivered)?,
                reason: reason(&self.reason)?,
                documents: documents(&self.documents)?,
            },
        ))
    }
}

impl ParseCommand for pb::NoticeCommitmentOverdue {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::NoticeOverdue {
                as_of: date("as_of", &self.as_of)?,
            },
        ))
    }
}

impl ParseCommand for pb::ConfirmDelivery {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::ConfirmDelivery {
                quantity: quantity("quantity", &self.quantity)?,
                reason: reason(&self.reason)?,
                documents: documents(&self.documents)?,
            },
        ))
    }
}

impl ParseCommand for pb::DisputeDelivery {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::DisputeDelivery {
                quantity: quantity("quantity", &self.quantity)?,
                reason: reason(&self.reason)?,
                documents: documents(&self.documents)?,
            },
        ))
    }
}

impl ParseCommand for pb::FulfilCommitment {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::Fulfil {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::BreachCommitment {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::Breach {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::WithdrawCommitment {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Commitment(
            aggregate_id("commitment_id", &self.commitment_id)?,
            CommitmentCommand::Withdraw {
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::EstablishBoard {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        let id = aggregate_id("board_id", &self.board_id)?;
        let agreement_id = aggregate_id("agreement_id", &self.agreement_id)?;
        Ok(S::Board(
            id.clone(),
            BoardCommand::Establish {
                id,
                state_parties: cx.facts.agreement_state_parties(&agreement_id),
                agreement_id,
                name: bounded_text("name", self.name).field("name")?,
            },
        ))
    }
}

impl ParseCommand for pb::AppointBoardMember {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Board(
            aggregate_id("board_id", &self.board_id)?,
            BoardCommand::Appoint {
                actor: actor_id("actor_id", &self.actor_id)?,
                party: party("party", &self.party)?,
                role: role(self.role)?,
            },
        ))
    }
}

impl ParseCommand for pb::RemoveBoardMember {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Board(
            aggregate_id("board_id", &self.board_id)?,
            BoardCommand::Remove {
                actor: actor_id("actor_id", &self.actor_id)?,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::AdmitStateParty {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        let board_id = aggregate_id("board_id", &self.board_id)?;
        Ok(S::Board(
            board_id.clone(),
            BoardCommand::AdmitStateParty {
                party: party("party", &self.party)?,
                agreement_parties: cx.facts.board_agreement_parties(&board_id),
            },
        ))
    }
}

impl ParseCommand for pb::TableMotion {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Board(
            aggregate_id("board_id", &self.board_id)?,
            BoardCommand::TableMotion {
                motion_id: aggregate_id("motion_id", &self.motion_id)?,
                title: bounded_text("title", self.title).field("title")?,
                subject: subject(&self.subject)?,
                actor: cx.actor.clone(),
                documents: documents(&self.documents)?,
            },
        ))
    }
}

impl ParseCommand for pb::CastVote {
    type Command = AgreementsCommand;

    fn parse(self, cx: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Board(
            aggregate_id("board_id", &self.board_id)?,
            BoardCommand::CastVote {
                motion_id: aggregate_id("motion_id", &self.motion_id)?,
                actor: cx.actor.clone(),
                vote: vote(self.vote)?,
            },
        ))
    }
}

impl ParseCommand for pb::RegisterActor {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        let id = actor_id("actor_id", &self.actor_id)?;
        Ok(S::Actor(
            aggregate_id("actor_id", &self.actor_id)?,
            ActorCommand::Register {
                id,
                name: bounded_text("name", self.name).field("name")?,
                party: party("party", &self.party)?,
                role: bounded_text("role", self.role).field("role")?,
                public_key: self.public_key,
            },
        ))
    }
}

impl ParseCommand for pb::RotateActorKey {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Actor(
            aggregate_id("actor_id", &self.actor_id)?,
            ActorCommand::RotateKey {
                public_key: self.public_key,
                reason: reason(&self.reason)?,
            },
        ))
    }
}

impl ParseCommand for pb::RevokeActorKey {
    type Command = AgreementsCommand;

    fn parse(self, _: &ParseContext<'_>) -> Result<AgreementsCommand, BoundaryError> {
        Ok(S::Actor(
            aggregate_id("actor_id", &self.actor_id)?,
            ActorCommand::RevokeKey {
                reason: reason(&self.reason)?,
            },
        ))
    }
}
