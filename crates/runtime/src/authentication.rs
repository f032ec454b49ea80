//! Who sent a command, checked before it is decided (`proto/SIGNING.md`): the
//! request's `Accord-Signature` must be the actor's signature over the request's
//! statement, with the key the actors registry holds for the actor now. Pure but
//! for a cache of decoded public keys: the registry is asked through
//! [`KeyRegistry`], the request is a bus message.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use accord_agreements::actor::Actor;
use accord_boundary::reactions::REACTIONS_ACTOR;
use accord_boundary::Sender;
use accord_bus::signing::{signature_of, statement_of, StatementError};
use accord_bus::{headers, Message};
use accord_contracts::v1 as pb;
use accord_kernel::signature::CommandStatement;
use accord_kernel::signature::{PublicKey, PUBLIC_KEY_LEN, SIGNATURE_LEN};
use accord_kernel::RecordedEvent;
use accord_kernel::{ActorId, PartyId};
use base64::Engine as _;
use prost::Message as _;

/// The actors registry as a service knows it.
pub trait KeyRegistry {
    /// The registered actor `id`, with its current and former keys.
    fn actor(&self, id: &str) -> Option<&Actor>;
}

impl KeyRegistry for std::collections::BTreeMap<String, Actor> {
    fn actor(&self, id: &str) -> Option<&Actor> {
        self.get(id)
    }
}

/// A party's administrator key, configured at deployment (`trust_roots`): the
/// root from which the party's actors registry grows. An administrator acts under
/// its own actor id, which the registry does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRoot {
    pub actor: String,
    pub party: PartyId,
    pub public_key: [u8; PUBLIC_KEY_LEN],
}

impl std::str::FromStr for TrustRoot {
    type Err = String;

    /// `PARTY:ACTOR:KEY`, the key in standard base64 (as `accord keys new` prints it).
    fn from_str(text: &str) -> Result<TrustRoot, String> {
        let mut parts = text.trim().splitn(3, ':');
        let (Some(party), Some(actor), Some(key)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{text:?} is not PARTY:ACTOR:BASE64KEY"));
        };
        let party = PartyId::new(party).map_err(|e| format!("party {party:?}: {e}"))?;
        let actor = ActorId::new(actor).map_err(|e| format!("actor {actor:?}: {e}"))?;
        let key = public_key_of(key)
            .ok_or_else(|| format!("key of {actor}: not base64 of {PUBLIC_KEY_LEN} bytes"))?;
        Ok(TrustRoot {
            actor: actor.to_string(),
            party,
            public_key: key,
        })
    }
}

/// A service's reaction key, configured at deployment (`service_keys`): the
/// commands its reaction flows send are signed with it, as actor
/// [`REACTIONS_ACTOR`], and may be only the commands those flows exist for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceKey {
    pub service: String,
    pub public_key: [u8; PUBLIC_KEY_LEN],
}

impl std::str::FromStr for ServiceKey {
    type Err = String;

    /// `SERVICE:KEY`, the key in standard base64 (as `accord keys new` prints it).
    fn from_str(text: &str) -> Result<ServiceKey, String> {
        let Some((service, key)) = text.trim().split_once(':') else {
            return Err(format!("{text:?} is not SERVICE:BASE64KEY"));
        };
        if !["agreements", "projects", "procurement"].contains(&service) {
            return Err(format!(
                "service {service:?}: not agreements, projects or procurement"
            ));
        }
        Ok(ServiceKey {
            service: service.to_owned(),
            public_key: public_key_of(key)
                .ok_or_else(|| format!("key of {service}: not base64 of {PUBLIC_KEY_LEN} bytes"))?,
        })
    }
}

fn public_key_of(base64_text: &str) -> Option<[u8; PUBLIC_KEY_LEN]> {
    base64::engine::general_purpose::STANDARD
        .decode(base64_text.trim())
        .ok()
        .and_then(|bytes| <[u8; PUBLIC_KEY_LEN]>::try_from(bytes).ok())
}

/// The keys a deployment trusts without the registry: each party's administrators
/// and each service's reaction key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trusted {
    pub roots: Vec<TrustRoot>,
    pub services: Vec<ServiceKey>,
}

/// Why a command's sender is not established. Each is `unauthenticated` on the
/// wire, with its own reason; nothing is appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    #[error("the command is not signed: send Accord-Signature (see proto/SIGNING.md)")]
    Unsigned,
    #[error("Accord-Signature is not base64 of a 64-byte Ed25519 signature")]
    MalformedSignature,
    #[error("the signed statement cannot be built: {0}")]
    Statement(StatementError),
    #[error("actor {actor} is not registered")]
    UnknownActor { actor: String },
    #[error("the key of actor {actor} was revoked")]
    RevokedKey { actor: String },
    #[error("the command is signed with a former key of actor {actor}, replaced since")]
    SupersededKey { actor: String },
    #[error("the signature does not verify with the key registered for actor {actor}")]
    BadSignature { actor: String },
}

impl Unauthenticated {
    /// The stable reason of the refusal (`ErrorReply.reason`).
    pub fn reason(&self) -> &'static str {
        match self {
            Unauthenticated::Unsigned => "unsigned",
            Unauthenticated::MalformedSignature => "malformed_signature",
            Unauthenticated::Statement(_) => "statement_incomplete",
            Unauthenticated::UnknownActor { .. } => "unknown_actor",
            Unauthenticated::RevokedKey { .. } => "revoked_key",
            Unauthenticated::SupersededKey { .. } => "superseded_key",
            Unauthenticated::BadSignature { .. } => "bad_signature",
        }
    }

    /// The refusal's fields, as the reply's details.
    pub fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Unauthenticated::Statement(
                StatementError::Missing(header) | StatementError::Invalid { header, .. },
            ) => vec![("header", (*header).to_owned())],
            Unauthenticated::UnknownActor { actor }
            | Unauthenticated::RevokedKey { actor }
            | Unauthenticated::SupersededKey { actor }
            | Unauthenticated::BadSignature { actor } => vec![("actor", actor.clone())],
            Unauthenticated::Unsigned | Unauthenticated::MalformedSignature => Vec::new(),
        }
    }
}

/// A request whose signature verified: who sent it, and the signature as its events
/// keep it (an encoded `CommandSignature`, see envelope.proto).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub sender: Sender,
    pub evidence: Vec<u8>,
}

/// Who signed `statement`, as [`Sender`] holds it (party, administered party,
/// service), among the trusted keys and the registry. The one rule for a live
/// request and for a stored event.
struct Signer {
    party: Option<PartyId>,
    administers: Option<PartyId>,
    service: Option<String>,
}

/// `key` decoded, from a process-wide cache: the keys a service checks are few (its
/// trust roots, service keys and registered actors) and seen on every command.
/// Bounded: emptied when it would hold more than `MAX_DECODED` keys.
fn decoded(key: &[u8]) -> Option<PublicKey> {
    const MAX_DECODED: usize = 100_000;
    static DECODED: OnceLock<Mutex<HashMap<Vec<u8>, PublicKey>>> = OnceLock::new();
    let cache = DECODED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache.lock().ok()?.get(key) {
        return Some(*found);
    }
    let decoded = PublicKey::from_bytes(key).ok()?;
    let mut cache = cache.lock().ok()?;
    if cache.len() >= MAX_DECODED {
        cache.clear();
    }
    cache.insert(key.to_vec(), decoded);
    Some(decoded)
}

fn signer(
    actor_id: &str,
    statement: &[u8],
    signature: &[u8; SIGNATURE_LEN],
    trusted: &Trusted,
    registry: &dyn KeyRegistry,
) -> Result<Signer, Unauthenticated> {
    let signed_by =
        |key: &[u8]| decoded(key).is_some_and(|key| key.verify(statement, signature).is_ok());
    let actor = actor_id.to_owned();
    if let Some(root) = trusted.roots.iter().find(|root| root.actor == actor_id) {
        return if signed_by(&root.public_key) {
            Ok(Signer {
                party: Some(root.party.clone()),
                administers: Some(root.party.clone()),
                service: None,
            })
        } else {
            Err(Unauthenticated::BadSignature { actor })
        };
    }
    if actor_id == REACTIONS_ACTOR {
        // Reactions of every service act as one actor; the key tells which.
        return trusted
            .services
            .iter()
            .find(|key| signed_by(&key.public_key))
            .map(|key| Signer {
                party: None,
                administers: None,
                service: Some(key.service.clone()),
            })
            .ok_or(Unauthenticated::BadSignature { actor });
    }
    let Some(registered) = registry.actor(actor_id) else {
        return Err(Unauthenticated::UnknownActor { actor });
    };
    if registered.revoked {
        return Err(Unauthenticated::RevokedKey { actor });
    }
    match &registered.public_key {
        Some(key) if signed_by(key) => Ok(Signer {
            party: registered.party.clone(),
            administers: None,
            service: None,
        }),
        _ if registered.former_keys.iter().any(|key| signed_by(key)) => {
            Err(Unauthenticated::SupersededKey { actor })
        }
        _ => Err(Unauthenticated::BadSignature { actor }),
    }
}

/// What an event keeps of a verified request's signature (`CommandSignature`).
fn evidence(statement: &CommandStatement<'_>, signature: &[u8; SIGNATURE_LEN]) -> Vec<u8> {
    pb::CommandSignature {
        signature: signature.to_vec(),
        subject: statement.subject.to_owned(),
        body_sha256: statement.body_sha256.to_vec(),
        expected_version: statement.expected_version,
        json: statement.json,
    }
    .encode_to_vec()
}

/// Checks that `request` is signed by its actor's key: a trust root's, or the
/// current key the registry holds; returns who sent it and what its events keep.
pub fn authenticate(
    request: &Message,
    trusted: &Trusted,
    registry: &dyn KeyRegistry,
) -> Result<Authenticated, Unauthenticated> {
    let signature = match signature_of(request) {
        None => return Err(Unauthenticated::Unsigned),
        Some(Err(_)) => return Err(Unauthenticated::MalformedSignature),
        Some(Ok(signature)) => signature,
    };
    let statement = statement_of(request).map_err(Unauthenticated::Statement)?;
    let actor_id = request.header(headers::ACTOR).unwrap_or_default();
    let signer = signer(
        actor_id,
        &statement.to_bytes(),
        &signature,
        trusted,
        registry,
    )?;
    let actor = ActorId::new(actor_id).map_err(|_| Unauthenticated::UnknownActor {
        actor: actor_id.to_owned(),
    })?;
    Ok(Authenticated {
        sender: Sender {
            actor,
            party: signer.party,
            administers: signer.administers,
            service: signer.service,
        },
        evidence: evidence(&statement, &signature),
    })
}

/// What an event keeps of a signed request, for requests made outside
/// [`authenticate`] (tests, benchmarks); `None` when it carries no readable one.
pub fn stored_signature(request: &Message) -> Option<Vec<u8>> {
    let signature = signature_of(request)?.ok()?;
    Some(evidence(&statement_of(request).ok()?, &signature))
}

/// Why a stored event's signature does not hold (`accord audit verify`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredSignatureError {
    #[error("the event's command was not signed")]
    Unsigned,
    #[error("the event's signature record cannot be read")]
    Malformed,
    #[error(transparent)]
    Key(Unauthenticated),
}

impl StoredSignatureError {
    /// The stable code of the finding.
    pub fn code(&self) -> &'static str {
        match self {
            StoredSignatureError::Unsigned => "unsigned",
            StoredSignatureError::Malformed => "malformed_signature",
            StoredSignatureError::Key(Unauthenticated::UnknownActor { .. }) => "unknown_key",
            StoredSignatureError::Key(error) => error.reason(),
        }
    }
}

/// Re-verifies a stored event's signature with the keys as they stood when it was
/// decided (`roots`, and `registry` replayed to just before the event): the
/// statement is rebuilt from the envelope (actor, command id, business time,
/// correlation, causation) and the kept `CommandSignature`, so a changed actor or
/// time breaks it even when the chain was re-hashed.
pub fn verify_stored(
    event: &RecordedEvent,
    trusted: &Trusted,
    registry: &dyn KeyRegistry,
) -> Result<(), StoredSignatureError> {
    let (statement, signature) = stored_statement(event)?;
    signer(&event.actor, &statement, &signature, trusted, registry)
        .map(|_| ())
        .map_err(StoredSignatureError::Key)
}

/// The statement a stored event's command signed, rebuilt from the envelope and its
/// kept `CommandSignature`, with the signature: what an offline verifier checks.
pub fn stored_statement(
    event: &RecordedEvent,
) -> Result<(Vec<u8>, [u8; SIGNATURE_LEN]), StoredSignatureError> {
    let bytes = event
        .signature
        .as_deref()
        .ok_or(StoredSignatureError::Unsigned)?;
    let kept = pb::CommandSignature::decode(bytes).map_err(|_| StoredSignatureError::Malformed)?;
    let body_sha256: [u8; 32] = kept
        .body_sha256
        .as_slice()
        .try_into()
        .map_err(|_| StoredSignatureError::Malformed)?;
    let signature: [u8; SIGNATURE_LEN] = kept
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| StoredSignatureError::Malformed)?;
    let statement = CommandStatement {
        subject: &kept.subject,
        command_id: event.command_id,
        actor: &event.actor,
        occurred_at: event.occurred_at,
        expected_version: kept.expected_version,
        correlation_id: event.correlation_id,
        causation_id: event.causation_id,
        json: kept.json,
        body_sha256,
    }
    .to_bytes();
    Ok((statement, signature))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use accord_bus::signing::sign_request;
    use accord_bus::JSON;
    use accord_kernel::signature::ActorKey;
    use accord_kernel::Timestamp;

    use super::*;

    fn key(label: &str) -> ActorKey {
        ActorKey::derived_for_tests(label)
    }

    fn registry() -> BTreeMap<String, Actor> {
        let actor = |name: &str, current: Option<&ActorKey>, former: &[&ActorKey], revoked| Actor {
            public_key: current.map(|k| k.public_key().to_vec()),
            former_keys: former.iter().map(|k| k.public_key().to_vec()).collect(),
            revoked,
            name: name.to_owned(),
            ..Actor::default()
        };
        BTreeMap::from([
            (
                "ua-umerov".to_owned(),
                actor("Umerov", Some(&key("umerov-2")), &[&key("umerov-1")], false),
            ),
            (
                "lt-sakaliene".to_owned(),
                actor("Šakalienė", None, &[&key("sakaliene")], true),
            ),
        ])
    }

    fn roots() -> Trusted {
        let encode =
            |k: &ActorKey| base64::engine::general_purpose::STANDARD.encode(k.public_key());
        Trusted {
            roots: vec![format!("UA:ua-admin:{}", encode(&key("ua-admin")))
                .parse()
                .unwrap_or_else(|e| panic!("{e}"))],
            services: vec![format!("projects:{}", encode(&key("projects")))
                .parse()
                .unwrap_or_else(|e| panic!("{e}"))],
        }
    }

    #[test]
    fn trust_roots_read_from_party_actor_and_key() {
        assert_eq!(roots().roots[0].actor, "ua-admin");
        for bad in ["UA:ua-admin", "U A:x:AAAA", "UA:ua-admin:AAAA", "UA::AAAA"] {
            assert!(bad.parse::<TrustRoot>().is_err(), "{bad}");
        }
        assert_eq!(roots().services[0].service, "projects");
        for bad in ["projects", "billing:AAAA", "projects:AAAA"] {
            assert!(bad.parse::<ServiceKey>().is_err(), "{bad}");
        }
    }

    fn request(actor: &str) -> Message {
        Message::new(
            "accord.agreements.cmd.SignAgreement",
            br#"{"agreementId":"lt-ua"}"#.to_vec(),
        )
        .with_header(headers::ACTOR, actor)
        .with_header(headers::COMMAND_ID, uuid::Uuid::now_v7().to_string())
        .with_header(headers::OCCURRED_AT, "2024-11-26T12:00:00Z")
        .with_header(headers::CONTENT_TYPE, JSON)
    }

    fn signed(actor: &str, with: &ActorKey) -> Message {
        sign_request(request(actor), with).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn given_a_stored_signature_then_it_verifies_offline_and_a_changed_actor_does_not() {
        let request = signed("ua-umerov", &key("umerov-2"));
        let statement = statement_of(&request).unwrap_or_else(|e| panic!("{e}"));
        let mut event = RecordedEvent {
            actor: "ua-umerov".into(),
            command_id: statement.command_id,
            correlation_id: statement.correlation_id,
            causation_id: None,
            occurred_at: statement.occurred_at,
            signature: stored_signature(&request),
            ..accord_testkit::fixtures::recorded_event()
        };
        assert_eq!(verify_stored(&event, &roots(), &registry()), Ok(()));
        event.actor = "lt-sakaliene".into();
        assert_eq!(
            verify_stored(&event, &roots(), &registry()).map_err(|e| e.code()),
            Err("revoked_key")
        );
        event.actor = "ua-umerov".into();
        event.occurred_at = Timestamp::UNIX_EPOCH;
        assert_eq!(
            verify_stored(&event, &roots(), &registry()).map_err(|e| e.code()),
            Err("bad_signature")
        );
        event.signature = None;
        assert_eq!(
            verify_stored(&event, &roots(), &registry()).map_err(|e| e.code()),
            Err("unsigned")
        );
        event.signature = Some(vec![0xff, 0x01]);
        assert_eq!(
            verify_stored(&event, &roots(), &registry()).map_err(|e| e.code()),
            Err("malformed_signature")
        );
    }

    #[test]
    fn given_the_actors_current_key_then_the_command_is_authenticated() {
        let sender = authenticate(
            &signed("ua-umerov", &key("umerov-2")),
            &roots(),
            &registry(),
        );
        assert_eq!(sender.map(|a| a.sender.administers), Ok(None));
        let admin = authenticate(&signed("ua-admin", &key("ua-admin")), &roots(), &registry());
        assert_eq!(
            admin.map(|a| a.sender.administers.map(|p| p.to_string())),
            Ok(Some("UA".to_owned()))
        );
        let reaction = authenticate(
            &signed(REACTIONS_ACTOR, &key("projects")),
            &roots(),
            &registry(),
        );
        assert_eq!(
            reaction.map(|a| a.sender.service),
            Ok(Some("projects".to_owned()))
        );
    }

    #[test]
    fn given_each_way_a_signature_fails_then_its_own_reason() {
        let registry = registry();
        let reason = |message: &Message| {
            authenticate(message, &roots(), &registry)
                .map(|_| ())
                .map_err(|e| e.reason())
                .err()
                .unwrap_or("authenticated")
        };
        let mut body_changed = signed("ua-umerov", &key("umerov-2"));
        body_changed.payload = br#"{"agreementId":"lt-pl"}"#.to_vec();
        let mut no_time = signed("ua-umerov", &key("umerov-2"));
        no_time.headers.remove(headers::OCCURRED_AT);
        let cases = [
            (request("ua-umerov"), "unsigned"),
            (
                request("ua-umerov").with_header(headers::SIGNATURE, "c2lnbg=="),
                "malformed_signature",
            ),
            (no_time, "statement_incomplete"),
            (signed("ua-nobody", &key("nobody")), "unknown_actor"),
            (signed("ua-admin", &key("umerov-2")), "bad_signature"),
            (signed(REACTIONS_ACTOR, &key("umerov-2")), "bad_signature"),
            (signed("lt-sakaliene", &key("sakaliene")), "revoked_key"),
            (signed("ua-umerov", &key("umerov-1")), "superseded_key"),
            (signed("ua-umerov", &key("sakaliene")), "bad_signature"),
            (body_changed, "bad_signature"),
            (
                signed("ua-umerov", &key("umerov-2")).with_header(headers::EXPECTED_VERSION, "3"),
                "bad_signature",
            ),
            (
                signed("ua-umerov", &key("umerov-2")).with_header(headers::ACTOR, "lt-sakaliene"),
                "revoked_key",
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(reason(&message), expected, "{message:?}");
        }
    }
}
