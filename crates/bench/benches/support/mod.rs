//! What the benchmarks of the command path send, and where they publish.

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

/// A JetStream stream `name` on `subject`, file-stored, made afresh (deleted first
/// if a run before left it).
#[allow(dead_code)]
pub(crate) async fn fresh_file_stream(
    js: &async_nats::jetstream::Context,
    name: &str,
    subject: &str,
) {
    let _ = js.delete_stream(name).await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: name.into(),
        subjects: vec![subject.into()],
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .expect("a fresh stream");
}
