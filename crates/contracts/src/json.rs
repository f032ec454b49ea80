//! The proto3 JSON mapping, driven by the contract's own descriptors.

use std::sync::OnceLock;

use prost::{Message, Name};
use prost_reflect::{DescriptorPool, DeserializeOptions, DynamicMessage, SerializeOptions};

use crate::FILE_DESCRIPTOR_SET;

/// Why a message could not be mapped to or from JSON.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The message type is not part of the Accord contract.
    #[error("unknown message type {0}")]
    UnknownType(String),
    /// The JSON text is not valid JSON for that message (syntax, unknown field, bad value).
    #[error("invalid json for {type_name}: {reason}")]
    Invalid { type_name: String, reason: String },
    /// The JSON names a field the message does not have.
    #[error("unknown field in json for {type_name}: {reason}")]
    UnknownField { type_name: String, reason: String },
    /// The JSON names an enum value the enum does not have (an unknown number is
    /// the boundary's to refuse, alike).
    #[error("unknown enum value in json for {type_name}: {reason}")]
    UnknownEnumValue { type_name: String, reason: String },
    /// Protobuf bytes did not decode as that message.
    #[error("invalid protobuf for {type_name}: {reason}")]
    Protobuf { type_name: String, reason: String },
}

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        // The bytes were produced by our own build script from the same protos the
        // generated code comes from, so failing here is a build defect, not bad input.
        #[allow(clippy::expect_used)]
        DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("embedded descriptor set decodes")
    })
}

fn dynamic<M: Message + Name>(message: &M) -> Result<DynamicMessage, JsonError> {
    let name = M::full_name();
    let descriptor = pool()
        .get_message_by_name(&name)
        .ok_or_else(|| JsonError::UnknownType(name.clone()))?;
    DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).map_err(|e| {
        JsonError::Protobuf {
            type_name: name,
            reason: e.to_string(),
        }
    })
}

/// Maps a message to a JSON value, with proto3 field names in lowerCamelCase and
/// default values omitted, as the proto3 JSON mapping says.
pub fn to_json<M: Message + Name>(message: &M) -> Result<serde_json::Value, JsonError> {
    let dynamic = dynamic(message)?;
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new())
        .map_err(|e| JsonError::Invalid {
            type_name: M::full_name(),
            reason: e.to_string(),
        })
}

/// Like [`to_json`], as compact text.
pub fn to_json_string<M: Message + Name>(message: &M) -> Result<String, JsonError> {
    Ok(to_json(message)?.to_string())
}

/// Parses proto3 JSON into a message. Unknown fields are an error: a client that
/// misspells a field must hear about it rather than have it silently dropped.
pub fn from_json<M: Message + Name + Default>(json: &str) -> Result<M, JsonError> {
    let name = M::full_name();
    let invalid = |reason: String| JsonError::Invalid {
        type_name: name.clone(),
        reason,
    };
    let descriptor = pool()
        .get_message_by_name(&name)
        .ok_or_else(|| JsonError::UnknownType(name.clone()))?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let dynamic = DynamicMessage::deserialize_with_options(descriptor, &mut deserializer, &options)
        .map_err(|e| {
            let reason = e.to_string();
            // prost-reflect reports an unknown field only through its message text.
            if reason.contains("unrecognized field name") {
                JsonError::UnknownField {
                    type_name: name.clone(),
                    reason,
                }
            } else if reason.contains("unrecognized enum value") {
                JsonError::UnknownEnumValue {
                    type_name: name.clone(),
                    reason,
                }
            } else {
                invalid(reason)
            }
        })?;
    deserializer.end().map_err(|e| invalid(e.to_string()))?;
    M::decode(dynamic.encode_to_vec().as_slice()).map_err(|e| JsonError::Protobuf {
        type_name: name.clone(),
        reason: e.to_string(),
    })
}

/// Converts proto3 JSON of the contract message named `type_name` (e.g.
/// `accord.v1.SignAgreement`) to its protobuf bytes, without knowing the type at
/// compile time; unknown fields are refused as in [`from_json`].
pub fn json_to_protobuf(type_name: &str, json: &str) -> Result<Vec<u8>, JsonError> {
    let descriptor = pool()
        .get_message_by_name(type_name)
        .ok_or_else(|| JsonError::UnknownType(type_name.to_owned()))?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let dynamic = DynamicMessage::deserialize_with_options(descriptor, &mut deserializer, &options)
        .map_err(|e| JsonError::Invalid {
            type_name: type_name.to_owned(),
            reason: e.to_string(),
        })?;
    deserializer.end().map_err(|e| JsonError::Invalid {
        type_name: type_name.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(dynamic.encode_to_vec())
}

/// Maps protobuf bytes of the contract message named `type_name` (an event's
/// `event_type`) to JSON, without knowing the type at compile time.
pub fn protobuf_to_json(type_name: &str, bytes: &[u8]) -> Result<serde_json::Value, JsonError> {
    let descriptor = pool()
        .get_message_by_name(type_name)
        .ok_or_else(|| JsonError::UnknownType(type_name.to_owned()))?;
    let dynamic = DynamicMessage::decode(descriptor, bytes).map_err(|e| JsonError::Protobuf {
        type_name: type_name.to_owned(),
        reason: e.to_string(),
    })?;
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &SerializeOptions::new())
        .map_err(|e| JsonError::Invalid {
            type_name: type_name.to_owned(),
            reason: e.to_string(),
        })
}
