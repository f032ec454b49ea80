//! Given/when/then tests of the actor registry.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use accord_agreements::actor::{
    ActorCommand as C, ActorDecider as D, ActorError as Err, ActorEvent as E,
};
use accord_testkit::given;
use common::{actor, party};

fn registered() -> E {
    E::Registered {
        id: actor("umerov"),
        name: "Rustem Umerov".into(),
        party: party("UA"),
        role: "Minister of Defence".into(),
        public_key: vec![1; 32],
    }
}

#[test]
fn actors_register_once_with_a_32_byte_key() {
    let register = |key: Vec<u8>| C::Register {
        id: actor("umerov"),
        name: "Rustem Umerov".into(),
        party: party("UA"),
        role: "Minister of Defence".into(),
        public_key: key,
    };
    given::<D>([])
        .when(register(vec![1; 32]))
        .then([registered()]);
    given::<D>([])
        .when(register(vec![1; 31]))
        .then_error(|e| *e == Err::KeyLength(31));
    given::<D>([registered()])
        .when(register(vec![1; 32]))
        .then_error(|e| *e == Err::AlreadyRegistered);
}

#[test]
fn keys_rotate_to_a_new_key_until_revoked() {
    let rotate = |key: Vec<u8>| C::RotateKey {
        public_key: key,
        reason: "annual rotation".into(),
    };
    let state = given::<D>([registered()])
        .when(rotate(vec![2; 32]))
        .then([E::KeyRotated {
            public_key: vec![2; 32],
            reason: "annual rotation".into(),
        }]);
    assert_eq!(state.public_key, Some(vec![2; 32]));
    given::<D>([registered()])
        .when(rotate(vec![1; 32]))
        .then_error(|e| *e == Err::SameKey);
    given::<D>([])
        .when(rotate(vec![2; 32]))
        .then_error(|e| *e == Err::NotRegistered);
    let revoked = vec![
        registered(),
        E::KeyRevoked {
            reason: "left office".into(),
        },
    ];
    given::<D>(revoked.clone())
        .when(rotate(vec![3; 32]))
        .then_error(|e| *e == Err::Revoked);
    given::<D>(revoked)
        .when(C::RevokeKey {
            reason: "again".into(),
        })
        .then_error(|e| *e == Err::Revoked);
    let state = given::<D>([registered()])
        .when(C::RevokeKey {
            reason: "left office".into(),
        })
        .then([E::KeyRevoked {
            reason: "left office".into(),
        }]);
    assert!(state.revoked && state.public_key.is_none());
}
