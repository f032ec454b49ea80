//! The Accord contract: Rust types generated from `proto/accord/v1`, and the proto3
//! JSON mapping of every message, for exports and human-readable output.
//!
//! No logic lives here: domain crates parse these types into their own newtypes at
//! the boundary (`TryFrom`), and adapters encode them on the wire and in the log.

mod codes;
mod json;

/// Generated from `proto/accord/v1/*.proto` at build time.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/accord.v1.rs"));
}

pub use codes::ErrorCode;
pub use json::{from_json, json_to_protobuf, protobuf_to_json, to_json, to_json_string, JsonError};

/// The encoded `FileDescriptorSet` of the whole contract, for reflection and for
/// clients that want the schema at run time.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/accord_descriptor_set.bin"));
