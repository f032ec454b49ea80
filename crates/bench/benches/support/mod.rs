//! What the benchmarks of the command path send.

use accord_contracts::v1 as pb;
use prost::Message as _;

/// A RegisterActor body for a new LT actor `id`: one ActorRegistered per command.
pub(crate) fn register_actor(id: &str) -> Vec<u8> {
    pb::RegisterActor {
        actor_id: id.to_owned(),
        name: "Benchmark actor".into(),
        party: Some(pb::PartyRef { id: "LT".into() }),
        role: "Load generator".into(),
        public_key: vec![9; 32],
    }
    .encode_to_vec()
}
