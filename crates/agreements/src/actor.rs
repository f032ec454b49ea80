//! The actor registry: people acting for a party in a role, with the public key their
//! signed commands are checked against. Keys can be rotated; once revoked, an actor's
//! key is gone for good.

use accord_kernel::{ActorId, Decider, PartyId, Refusal, RefusalKind};

/// Ed25519 public keys are 32 bytes.
pub const PUBLIC_KEY_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    pub id: Option<ActorId>,
    pub name: String,
    pub party: Option<PartyId>,
    pub role: String,
    pub public_key: Option<Vec<u8>>,
    /// Keys the actor held before, oldest first (the revoked one last, once
    /// revoked): a command signed with one is told apart from a forged one.
    pub former_keys: Vec<Vec<u8>>,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ActorCommand {
    Register {
        id: ActorId,
        name: String,
        party: PartyId,
        role: String,
        public_key: Vec<u8>,
    },
    RotateKey {
        public_key: Vec<u8>,
        reason: String,
    },
    RevokeKey {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ActorEvent {
    Registered {
        id: ActorId,
        name: String,
        party: PartyId,
        role: String,
        public_key: Vec<u8>,
    },
    KeyRotated {
        public_key: Vec<u8>,
        reason: String,
    },
    KeyRevoked {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    #[error("actor already registered")]
    AlreadyRegistered,
    #[error("actor is not registered")]
    NotRegistered,
    #[error("public key must be {PUBLIC_KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    #[error("the new key is the current key")]
    SameKey,
    #[error("the actor's key was revoked")]
    Revoked,
}

/// The actor registry decider.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum ActorDecider {}

fn check_key(key: &[u8]) -> Result<(), ActorError> {
    if key.len() != PUBLIC_KEY_LEN {
        return Err(ActorError::KeyLength(key.len()));
    }
    Ok(())
}

impl Decider for ActorDecider {
    type State = Actor;
    type Command = ActorCommand;
    type Event = ActorEvent;
    type Error = ActorError;

    fn decide(state: &Actor, command: &ActorCommand) -> Result<Vec<ActorEvent>, ActorError> {
        match command {
            ActorCommand::Register {
                id,
                name,
                party,
                role,
                public_key,
            } => {
                if state.id.is_some() {
                    return Err(ActorError::AlreadyRegistered);
                }
                check_key(public_key)?;
                Ok(vec![ActorEvent::Registered {
                    id: id.clone(),
                    name: name.clone(),
                    party: party.clone(),
                    role: role.clone(),
                    public_key: public_key.clone(),
                }])
            }
            ActorCommand::RotateKey { public_key, reason } => {
                if state.id.is_none() {
                    return Err(ActorError::NotRegistered);
                }
                if state.revoked {
                    return Err(ActorError::Revoked);
                }
                check_key(public_key)?;
                if state.public_key.as_deref() == Some(public_key.as_slice()) {
                    return Err(ActorError::SameKey);
                }
                Ok(vec![ActorEvent::KeyRotated {
                    public_key: public_key.clone(),
                    reason: reason.clone(),
                }])
            }
            ActorCommand::RevokeKey { reason } => {
                if state.id.is_none() {
                    return Err(ActorError::NotRegistered);
                }
                if state.revoked {
                    return Err(ActorError::Revoked);
                }
                Ok(vec![ActorEvent::KeyRevoked {
                    reason: reason.clone(),
                }])
            }
        }
    }

    fn evolve(mut state: Actor, event: &ActorEvent) -> Actor {
        match event {
            ActorEvent::Registered {
                id,
                name,
                party,
                role,
                public_key,
            } => {
                state.id = Some(id.clone());
                state.name = name.clone();
                state.party = Some(party.clone());
                state.role = role.clone();
                state.public_key = Some(public_key.clone());
            }
            ActorEvent::KeyRotated { public_key, .. } => {
                state.former_keys.extend(state.public_key.take());
                state.public_key = Some(public_key.clone());
            }
            ActorEvent::KeyRevoked { .. } => {
                state.former_keys.extend(state.public_key.take());
                state.revoked = true;
            }
        }
        state
    }
}

impl Refusal for ActorError {
    fn kind(&self) -> RefusalKind {
        match self {
            ActorError::AlreadyRegistered | ActorError::SameKey => RefusalKind::Conflict,
            ActorError::NotRegistered => RefusalKind::NotFound,
            ActorError::KeyLength(_) => RefusalKind::InvalidArgument,
            ActorError::Revoked => RefusalKind::FailedPrecondition,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            ActorError::AlreadyRegistered => "actor_exists",
            ActorError::NotRegistered => "actor_not_found",
            ActorError::KeyLength(_) => "key_length",
            ActorError::SameKey => "same_key",
            ActorError::Revoked => "key_revoked",
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            ActorError::KeyLength(length) => vec![("length", length.to_string())],
            _ => Vec::new(),
        }
    }
}
