//! Who may do what: one pure rule per service, asked once a command's sender is
//! authenticated (README, "Who may do what"). Actors act only for their own party;
//! each party registers, designates and appoints its own people; a commitment is the
//! obligor's to propose, amend, progress and withdraw and the beneficiary's to
//! accept, fulfil or breach; a project is its participants' to act on; a party
//! requests, offers and allocates supply only for itself. A service's reactions
//! sign with the service's key and send only the commands they exist for
//! ([`REACTION_COMMANDS`]); those commands that only a reaction sends are refused
//! from people.

use accord_agreements::actor::ActorCommand;
use accord_agreements::agreement::AgreementCommand;
use accord_agreements::board::BoardCommand;
use accord_agreements::commitment::CommitmentCommand;
use accord_kernel::{ActorId, PartyId, Refusal, RefusalKind};
use accord_procurement::market::MarketCommand;
use accord_projects::ProjectCommand;

use crate::commands::{AgreementsCommand, ProcurementCommand};
use crate::reactions::REACTION_COMMANDS;
use crate::state::{AgreementsState, ProcurementState, ProjectsState};

/// Who sent a command, once its signature is verified: the actor, the party it
/// acts for, the party it administers when it is one of a party's trust roots, and
/// the service whose reactions it signs for when it is a service key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub actor: ActorId,
    pub party: Option<PartyId>,
    pub administers: Option<PartyId>,
    pub service: Option<String>,
}

impl Sender {
    /// A registered actor of `party`.
    pub fn actor_of(actor: ActorId, party: Option<PartyId>) -> Sender {
        Sender {
            actor,
            party,
            administers: None,
            service: None,
        }
    }
}

/// Why an authenticated sender may not send a command (`permission_denied`); the
/// reason names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("only an administrator of {party} registers, rotates or revokes its actors")]
    NotPartyAdministrator { party: String },
    #[error("{actor} acts for {own}, not for {party}")]
    NotOwnParty {
        actor: String,
        own: String,
        party: String,
    },
    #[error("{actor} is not registered as an actor of {party}")]
    ActorOfOtherParty { actor: String, party: String },
    #[error("commitment {commitment} is the obligor's ({party}) to do this")]
    NotObligor { commitment: String, party: String },
    #[error("commitment {commitment} is the beneficiary's ({party}) to do this")]
    NotBeneficiary { commitment: String, party: String },
    #[error("{actor} acts for no participant of project {project}")]
    NotProjectParticipant { actor: String, project: String },
    #[error("{command} is sent only by a reaction of the {service} service")]
    ReactionOnly {
        command: String,
        service: &'static str,
    },
    #[error("the {service} service's reactions do not send {command}")]
    NotAReaction { service: String, command: String },
}

impl Refusal for Denied {
    fn kind(&self) -> RefusalKind {
        RefusalKind::PermissionDenied
    }
    fn reason(&self) -> &'static str {
        match self {
            Denied::NotPartyAdministrator { .. } => "not_party_administrator",
            Denied::NotOwnParty { .. } => "not_own_party",
            Denied::ActorOfOtherParty { .. } => "actor_of_other_party",
            Denied::NotObligor { .. } => "not_obligor",
            Denied::NotBeneficiary { .. } => "not_beneficiary",
            Denied::NotProjectParticipant { .. } => "not_project_participant",
            Denied::ReactionOnly { .. } => "reaction_only",
            Denied::NotAReaction { .. } => "not_a_reaction",
        }
    }
    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Denied::NotPartyAdministrator { party } => vec![("party", party.clone())],
            Denied::NotOwnParty { actor, own, party } => vec![
                ("actor", actor.clone()),
                ("actor_party", own.clone()),
                ("party", party.clone()),
            ],
            Denied::ActorOfOtherParty { actor, party } => {
                vec![("actor", actor.clone()), ("party", party.clone())]
            }
            Denied::NotObligor { commitment, party }
            | Denied::NotBeneficiary { commitment, party } => {
                vec![("commitment", commitment.clone()), ("party", party.clone())]
            }
            Denied::NotProjectParticipant { actor, project } => {
                vec![("actor", actor.clone()), ("project", project.clone())]
            }
            Denied::ReactionOnly { command, service } => {
                vec![
                    ("command", command.clone()),
                    ("service", (*service).to_owned()),
                ]
            }
            Denied::NotAReaction { service, command } => {
                vec![("service", service.clone()), ("command", command.clone())]
            }
        }
    }
}

type Rule = Result<(), Denied>;

/// The first check of every service's rule: a service key sends only its
/// reactions' commands to `target`; a person never sends a command that only a
/// reaction sends. `Some` when that settles it.
fn reactions_rule(target: &str, name: &str, sender: &Sender) -> Option<Rule> {
    let sent_by = |source: &str| {
        REACTION_COMMANDS
            .iter()
            .any(|&(from, to, command)| from == source && to == target && command == name)
    };
    if let Some(service) = &sender.service {
        return Some(if sent_by(service) {
            Ok(())
        } else {
            Err(Denied::NotAReaction {
                service: service.clone(),
                command: name.to_owned(),
            })
        });
    }
    let only_reaction = REACTION_ONLY.iter().find(|(command, _)| *command == name);
    only_reaction.map(|(command, service)| {
        Err(Denied::ReactionOnly {
            command: (*command).to_owned(),
            service,
        })
    })
}

/// Commands no person sends: they follow from another service's facts (an adopted
/// motion approves a project; an accepted priority commitment sets the policy).
const REACTION_ONLY: &[(&str, &str)] = &[
    ("ApproveProject", "agreements"),
    ("UpdatePriorityPolicy", "agreements"),
    ("NoticeCommitmentOverdue", "agreements"),
    ("NoticeMilestoneOverdue", "projects"),
];

/// `sender` acts for `party`.
fn own_party(sender: &Sender, party: &PartyId) -> Rule {
    if sender.party.as_ref() == Some(party) {
        return Ok(());
    }
    Err(Denied::NotOwnParty {
        actor: sender.actor.to_string(),
        own: sender
            .party
            .as_ref()
            .map_or_else(|| "no party".to_owned(), ToString::to_string),
        party: party.to_string(),
    })
}

/// `sender` acts for one of `parties`.
fn one_of(sender: &Sender, parties: &[PartyId], what: impl FnOnce() -> Denied) -> Rule {
    match &sender.party {
        Some(own) if parties.contains(own) => Ok(()),
        _ => Err(what()),
    }
}

/// The agreements service's rule.
pub fn agreements(
    name: &str,
    command: &AgreementsCommand,
    sender: &Sender,
    state: &AgreementsState,
) -> Rule {
    if let Some(settled) = reactions_rule("agreements", name, sender) {
        return settled;
    }
    // `actor` is registered for `party` (a designation or appointment names them).
    let registered_for = |actor: &ActorId, party: &PartyId| -> Rule {
        let registered = state.actors.get(actor.as_str());
        if registered.and_then(|a| a.party.as_ref()) == Some(party) {
            return Ok(());
        }
        Err(Denied::ActorOfOtherParty {
            actor: actor.to_string(),
            party: party.to_string(),
        })
    };
    let not_own = |parties: &[PartyId]| Denied::NotOwnParty {
        actor: sender.actor.to_string(),
        own: sender
            .party
            .as_ref()
            .map_or_else(|| "no party".to_owned(), ToString::to_string),
        party: parties
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    };
    match command {
        AgreementsCommand::Actor(id, command) => {
            let party = match command {
                ActorCommand::Register { party, .. } => Some(party.clone()),
                ActorCommand::RotateKey { .. } | ActorCommand::RevokeKey { .. } => {
                    state.actors.get(id.as_str()).and_then(|a| a.party.clone())
                }
            };
            match party {
                // An actor nobody registered: the decider says so.
                None => Ok(()),
                Some(party) if sender.administers.as_ref() == Some(&party) => Ok(()),
                Some(party) => Err(Denied::NotPartyAdministrator {
                    party: party.to_string(),
                }),
            }
        }
        AgreementsCommand::Agreement(id, command) => match command {
            AgreementCommand::Draft { parties, .. } => one_of(sender, parties, || not_own(parties)),
            AgreementCommand::DesignateSignatory { actor, party, .. } => {
                own_party(sender, party)?;
                registered_for(actor, party)
            }
            // The decider holds the signatories: only a designated one signs.
            AgreementCommand::Sign { .. } => Ok(()),
            // A party withdraws itself, and nobody else.
            AgreementCommand::Withdraw { party, .. } => own_party(sender, party),
            AgreementCommand::Amend { .. }
            | AgreementCommand::ApproveAccession { .. }
            | AgreementCommand::Suspend { .. }
            | AgreementCommand::Resume { .. }
            | AgreementCommand::Terminate { .. } => {
                let parties = state
                    .view
                    .agreements
                    .get(id.as_str())
                    .map(|a| a.parties.clone())
                    .unwrap_or_default();
                // An agreement nobody drafted: the decider says so.
                if parties.is_empty() {
                    return Ok(());
                }
                one_of(sender, &parties, || not_own(&parties))
            }
        },
        AgreementsCommand::Commitment(id, command) => {
            let held = state.view.commitments.get(id.as_str());
            let party_of = |obligor: bool| {
                held.and_then(|c| {
                    if obligor {
                        c.obligor.clone()
                    } else {
                        c.beneficiary.clone()
                    }
                })
            };
            let (party, obligor) = match command {
                CommitmentCommand::Propose { obligor, .. } => (Some(obligor.clone()), true),
                CommitmentCommand::Amend { .. }
                | CommitmentCommand::RecordProgress { .. }
                | CommitmentCommand::Withdraw { .. } => (party_of(true), true),
                // Only the service's own deadline watcher (settled above).
                CommitmentCommand::NoticeOverdue { .. } => (None, true),
                CommitmentCommand::Accept { .. }
                | CommitmentCommand::ConfirmDelivery { .. }
                | CommitmentCommand::DisputeDelivery { .. }
                | CommitmentCommand::Fulfil { .. }
                | CommitmentCommand::Breach { .. } => (party_of(false), false),
            };
            // Any beneficiary but the obligor answers a reported delivery.
            let answers = matches!(
                command,
                CommitmentCommand::ConfirmDelivery { .. }
                    | CommitmentCommand::DisputeDelivery { .. }
            );
            if let (true, Some(held), Some(own)) = (answers, held, &sender.party) {
                if held.answers_deliveries(own) {
                    return Ok(());
                }
            }
            match party {
                // A commitment nobody proposed: the decider says so.
                None => Ok(()),
                Some(party) if sender.party.as_ref() == Some(&party) => Ok(()),
                Some(party) if obligor => Err(Denied::NotObligor {
                    commitment: id.to_string(),
                    party: party.to_string(),
                }),
                Some(party) => Err(Denied::NotBeneficiary {
                    commitment: id.to_string(),
                    party: party.to_string(),
                }),
            }
        }
        AgreementsCommand::Board(id, command) => match command {
            BoardCommand::Establish { agreement_id, .. } => {
                let parties = state
                    .view
                    .agreements
                    .get(agreement_id.as_str())
                    .map(|a| a.parties.clone())
                    .unwrap_or_default();
                if parties.is_empty() {
                    return Ok(());
                }
                one_of(sender, &parties, || not_own(&parties))
            }
            BoardCommand::Appoint { actor, party, .. } => {
                own_party(sender, party)?;
                registered_for(actor, party)
            }
            BoardCommand::Remove { actor, .. } => {
                let member = state
                    .view
                    .boards
                    .get(id.as_str())
                    .and_then(|b| b.members.get(actor));
                match member {
                    None => Ok(()),
                    Some(member) => own_party(sender, &member.party),
                }
            }
            // A state takes its own seat.
            BoardCommand::AdmitStateParty { party, .. } => own_party(sender, party),
            // The board holds its members: only a member tables, only a voting
            // member votes, and a member was appointed by and for its own party.
            BoardCommand::TableMotion { .. } | BoardCommand::CastVote { .. } => Ok(()),
        },
    }
}

/// The projects service's rule: a project is its participants' (and its host
/// country's) to act on; a party pledges and disburses only its own funds.
pub fn projects(
    name: &str,
    (id, command): &(accord_kernel::AggregateId, ProjectCommand),
    sender: &Sender,
    state: &ProjectsState,
) -> Rule {
    if let Some(settled) = reactions_rule("projects", name, sender) {
        return settled;
    }
    let not_participant = || Denied::NotProjectParticipant {
        actor: sender.actor.to_string(),
        project: id.to_string(),
    };
    let participants = |project: &accord_projects::Project| {
        let mut parties: Vec<PartyId> = project
            .participants
            .iter()
            .map(|p| p.party.clone())
            .collect();
        parties.extend(project.host_country.clone());
        parties
    };
    if let ProjectCommand::Propose {
        participants: named,
        host_country,
        ..
    } = command
    {
        let mut parties: Vec<PartyId> = named.iter().map(|p| p.party.clone()).collect();
        parties.push(host_country.clone());
        return one_of(sender, &parties, not_participant);
    }
    let Some(project) = state.portfolio.projects.get(id.as_str()) else {
        // A project nobody proposed: the decider says so.
        return Ok(());
    };
    one_of(sender, &participants(project), not_participant)?;
    match command {
        ProjectCommand::PledgeFunding { party, .. }
        | ProjectCommand::DisburseFunding { party, .. } => own_party(sender, party),
        _ => Ok(()),
    }
}

/// The procurement service's rule: a party requests, offers and allocates supply,
/// and fulfils or cancels requests, only for itself.
pub fn procurement(
    name: &str,
    command: &ProcurementCommand,
    sender: &Sender,
    state: &ProcurementState,
) -> Rule {
    if let Some(settled) = reactions_rule("procurement", name, sender) {
        return settled;
    }
    let ProcurementCommand::Market(item, command) = command else {
        return Ok(());
    };
    let market = state.view.markets.get(item);
    match command {
        MarketCommand::SubmitRequest { party, .. } => own_party(sender, party),
        // The party whose supply it is offers and allocates it (the supplier
        // itself, or the state its company or facility belongs to).
        MarketCommand::OfferSupply { controlled_by, .. } => own_party(sender, controlled_by),
        MarketCommand::Allocate { supply_id, .. } => {
            match market.and_then(|m| m.supplies.get(supply_id)) {
                None => Ok(()),
                Some(supply) => own_party(sender, &supply.controlled_by),
            }
        }
        MarketCommand::Fulfil { request_id, .. } | MarketCommand::Cancel { request_id, .. } => {
            match market.and_then(|m| m.requests.get(request_id)) {
                None => Ok(()),
                Some(request) => own_party(sender, &request.party),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{REACTION_COMMANDS, REACTION_ONLY};
    use crate::commands::{
        command_names, AGREEMENTS_COMMANDS, PROCUREMENT_COMMANDS, PROJECTS_COMMANDS,
    };

    fn commands_of(service: &str) -> Vec<&'static str> {
        match service {
            "agreements" => command_names(AGREEMENTS_COMMANDS),
            "projects" => command_names(PROJECTS_COMMANDS),
            "procurement" => command_names(PROCUREMENT_COMMANDS),
            other => panic!("no service {other}"),
        }
    }

    // A name that is no command would make its rule dead: a person could send the
    // real command unchecked, and the reaction would be refused.
    #[test]
    fn given_the_reaction_tables_when_read_then_every_name_is_a_command_of_its_target() {
        for &(source, target, command) in REACTION_COMMANDS {
            assert!(commands_of(source).len() > 1, "{source} is a service");
            assert!(
                commands_of(target).contains(&command),
                "{command} is not a {target} command"
            );
        }
        for &(command, source) in REACTION_ONLY {
            let sent = REACTION_COMMANDS
                .iter()
                .any(|&(from, _, name)| from == source && name == command);
            assert!(sent, "{command} is in no reaction of {source}");
        }
    }
}
